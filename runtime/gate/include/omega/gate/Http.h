// HTTP/1.1 client and server with server-sent events: the transport of omega-gate (MCP Streamable HTTP and A2A).
// Plain HTTP over TCP, one thread per connection, strict parsing under limits; the pure parsers are in `detail`.
#pragma once

#include "omega/bundle/Result.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace omega::gate::http {

template <typename T>
using Result = bundle::Result<T>;
using bundle::Error;

// A header field as it was received or is to be sent; names compare case-insensitively (find).
struct Header {
    std::string name;
    std::string value;
};
using Headers = std::vector<Header>;

// The value of the first header named `name` (ASCII case-insensitive), if any.
std::optional<std::string_view> find(const Headers& headers, std::string_view name);

// The standard reason phrase of a status code ("OK", "Not Found"); "Unknown" for codes without one.
std::string_view reasonPhrase(int status);

// Bounds on what a peer may make us hold or wait for. The server uses the first seven; the client all but
// maxConnections, with idleTimeoutMs bounding the silence within a streamed body and the life of a pooled connection
// (see Client).
struct Limits {
    std::size_t maxHeaderBytes = 64 << 10;     // request/status line + headers
    std::size_t maxBodyBytes = 4 << 20;        // a request body (server) / a non-streamed response body (client)
    std::uint32_t headerTimeoutMs = 10000;     // a head must arrive whole within this of its first byte
    std::uint32_t bodyTimeoutMs = 30000;       // a body must arrive whole within this
    std::uint32_t idleTimeoutMs = 60000;       // keep-alive connection with no request this long is closed
    std::uint32_t writeTimeoutMs = 10000;      // a peer that does not take our bytes this long is dropped
    std::uint32_t maxConnections = 256;        // served at once; more get 503 and are closed
    std::uint32_t connectTimeoutMs = 10000;    // client: establishing a connection
    std::uint32_t responseTimeoutMs = 300000;  // client: from the request sent to the response head's first byte
};

// A request as the server received it; the body is decoded (chunked framing removed).
struct Request {
    std::string method;
    std::string target;  // as sent: origin-form "/path?query", or absolute-form
    Headers headers;
    std::string body;
    std::string peer;  // "ip:port" ("[v6]:port")
};

// Server side: how a handler answers. Either one whole response (send) or a streamed one (begin, then chunk()s,
// then end(); sent with chunked transfer encoding, flushed per chunk so SSE events reach the client at once).
// Content-Length, Transfer-Encoding and Connection are the server's: such headers from the handler are dropped,
// except that `Connection: close` is honoured. Every call returns false once the client is gone, a write failed or
// timed out, the server is stopping, or the call is out of order (nothing is sent then); a header with a name or
// value that is not valid HTTP makes send/begin return false and send nothing. Abstract so that handlers can be
// tested with a fake.
class Responder {
public:
    virtual ~Responder() = default;
    virtual bool send(int status, const Headers& headers, std::string_view body) = 0;  // adds Content-Length
    virtual bool begin(int status, const Headers& headers) = 0;
    virtual bool chunk(std::string_view data) = 0;  // an empty chunk sends nothing (it would end the body)
    virtual bool end() = 0;
    virtual bool open() const = 0;  // false once the client is gone, a write failed, or the server is stopping
};

// Called on a connection's thread for each request; may block (a long-lived SSE stream holds its connection).
// Exceptions are caught and answered with 500, but handlers should not throw.
using Handler = std::function<void(const Request&, Responder&)>;

class Server {
public:
    // Binds host:port (the first address host resolves to; port 0: an ephemeral port, port() says which) and serves
    // on its own threads: an accept thread and one thread per connection, at most limits.maxConnections. A handler that
    // returns without answering gets a 500 sent for it; one that returns mid-stream gets its stream ended. Malformed
    // requests are answered by the server itself: 400 (bad request line, bad header, bad chunked encoding, both
    // Content-Length and Transfer-Encoding, invalid Content-Length, missing or repeated Host in HTTP/1.1), 413 (body
    // too large), 431 (head too large), 408 (timeouts), 417 (an Expect other than 100-continue), 501 (unsupported
    // Transfer-Encoding), 505 (not HTTP/1.x), each with a short text body, then the connection is closed.
    static Result<std::unique_ptr<Server>> start(const std::string& host, std::uint16_t port, Limits limits,
                                                 Handler handler);
    ~Server();  // stop()
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    std::uint16_t port() const;
    // Connections accepted (and served) so far, refused ones not counted; for tests and metrics.
    std::uint64_t accepted() const;
    // Stops accepting, closes connections (unblocking handlers' reads and writes: their Responder calls fail from
    // then on), joins all threads; idempotent. It waits for handlers to return: one blocked on anything other than
    // its Responder must watch Responder::open() or be woken by its owner. Never call it from a handler.
    void stop();

    struct Impl;

private:
    explicit Server(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Client side: where a request goes.
struct Url {
    std::string host;  // a name, an IPv4 address, or an IPv6 address without its brackets
    std::uint16_t port = 80;
    std::string path = "/";  // path + query; the fragment is dropped
    // http:// only; https:// is an error naming it. Userinfo, an empty host, a bad port or characters that cannot
    // appear in a request line are errors.
    static Result<Url> parse(std::string_view text);
    std::string origin() const;      // "http://host:port"
    std::string hostHeader() const;  // "host" or "host:port" when the port is not 80, brackets around IPv6
};

struct ResponseHead {
    int status = 0;
    std::string reason;
    Headers headers;
};

// Thread-safe: requests from many threads share a small pool of idle keep-alive connections per host:port.
// Limits: connectTimeoutMs to connect, writeTimeoutMs per write, responseTimeoutMs until the response's first byte,
// then headerTimeoutMs for the rest of the head; a collected body (no onData) must arrive within bodyTimeoutMs and
// fit maxBodyBytes; a streamed body (onData) has no overall bound, but a silence longer than idleTimeoutMs between
// two pieces is an error.
class Client {
public:
    explicit Client(Limits limits = {});
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Sends one request to url's host:port (method, url.path or the given target when not empty, headers + Host +
    // Content-Length, which replace any of the caller's) and reads the response: onHead once, then onData for each
    // piece of the decoded body as it arrives (chunked decoded; so a streamed SSE body is passed on as it comes),
    // then returns the head. onData returning false stops reading (the connection is then closed, not reused).
    // Connections are kept alive and reused; a reused connection that turns out closed before any response byte is
    // retried once on a fresh one. Interim 1xx responses are skipped. Errors: connect refused/timeout, malformed
    // response, a timeout, the connection closed mid-response, body over maxBodyBytes when no onData given. Either
    // callback may be empty.
    Result<ResponseHead> request(const Url& url, std::string_view method, const std::string& target,
                                 const Headers& headers, std::string_view body,
                                 const std::function<void(const ResponseHead&)>& onHead,
                                 const std::function<bool(std::string_view)>& onData);

    // Convenience: the whole body collected (limited by maxBodyBytes).
    struct Response {
        ResponseHead head;
        std::string body;
    };
    Result<Response> fetch(const Url& url, std::string_view method, const Headers& headers, std::string_view body);

    // Ends the requests in flight (their waits return at once with an error) and every later one: for a proxy that
    // stops while it relays long-lived streams. Thread-safe.
    void stop();

    struct Pool;

private:
    // `bounded`: the body is collected, so maxBodyBytes and bodyTimeoutMs apply.
    Result<ResponseHead> send(const Url& url, std::string_view method, const std::string& target,
                              const Headers& headers, std::string_view body,
                              const std::function<void(const ResponseHead&)>& onHead,
                              const std::function<bool(std::string_view)>& onData, bool bounded);

    Limits limits_;
    std::unique_ptr<Pool> pool_;
    int stop_[2] = {-1, -1};
};

// Server-sent events (HTML Living Standard, "Server-sent events", the event stream interpretation). An event as
// dispatched: `event` is empty for the default type ("message"); `id` is the last event ID, which persists from
// earlier events as the standard says; `retry` is the last valid retry field since the previous dispatch.
struct Event {
    std::string event;
    std::string data;
    std::string id;
    std::optional<std::uint32_t> retry;
};

// An incremental parser fed arbitrary pieces of a stream (lines end with CRLF, LF or CR; `data:` lines joined with
// "\n"; `event:`, `id:`, `retry:`; comments `:`; an event is dispatched at a blank line; a leading space after the
// colon is removed; a BOM at the start is skipped), with a limit on the size of one event.
class SseParser {
public:
    explicit SseParser(std::size_t maxEventBytes = 4 << 20);
    // Calls onEvent for each complete event in what has arrived so far; true when at least one was dispatched. An
    // event's fields so far plus the line being read (comments too) over maxEventBytes is an error, whatever the
    // cut of the stream into pieces, and an error stops the parser: every later call returns it.
    Result<bool> feed(std::string_view bytes, const std::function<void(Event&&)>& onEvent);

private:
    void line(std::string_view text, const std::function<void(Event&&)>& onEvent, bool& dispatched);

    std::size_t max_;
    std::string pending_;  // an incomplete line
    Event current_;        // fields so far: data with a "\n" after each data line
    bool hasData_ = false;
    std::string lastId_;
    std::size_t eventBytes_ = 0;
    bool started_ = false;  // past a possible BOM
    bool afterCr_ = false;  // the last byte was a CR: a following LF ends nothing
    std::string error_;
};

// "event: x\nid: y\nretry: n\ndata: line1\ndata: line2\n\n": event, id and retry only when set; always at least one
// data line, so the event is dispatched. Data is split at CRLF, LF and CR (as the parser would split it); a CR or
// LF in event or id cuts it there, so no field can inject another.
std::string formatEvent(const Event& e);

// The pure parsers under the server and client, exposed for tests and fuzzing.
namespace detail {

// How a message's body is delimited.
enum class Body { None, Length, Chunked, UntilClose };

struct RequestHead {
    std::string method;
    std::string target;
    Headers headers;
    bool http10 = false;
    Body body = Body::None;  // None, Length or Chunked
    std::uint64_t length = 0;
    bool keepAlive = true;        // HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `keep-alive`
    bool expectContinue = false;  // `Expect: 100-continue`
};

// A parsed request head, or the status the server refuses it with and why.
struct ParsedRequest {
    int status = 0;  // 0: parsed; else 400, 417, 501 or 505
    std::string error;
    RequestHead head;
    bool ok() const { return status == 0; }
};

// `head` is the request line and header lines, each ending in CRLF, then the blank line's CRLF (what
// findHeadEnd delimits). Size limits are the caller's.
ParsedRequest parseRequestHead(std::string_view head);

struct ParsedResponse {
    ResponseHead head;
    bool http10 = false;
    Body body = Body::UntilClose;
    std::uint64_t length = 0;
    bool keepAlive = true;
};

// A status line and headers, as parseRequestHead; `headRequest` (the request was HEAD) means no body.
Result<ParsedResponse> parseResponseHead(std::string_view head, bool headRequest);

// Where the head at the start of `buffer` ends (the index just past its blank line), or npos. `from` lets a caller
// resume a scan: bytes before it are known not to complete the terminator.
std::size_t findHeadEnd(std::string_view buffer, std::size_t from = 0);

bool validHeaderName(std::string_view name);    // a token
bool validHeaderValue(std::string_view value);  // no CR, LF, NUL or other controls but HTAB

// An incremental decoder of the chunked transfer coding: chunk extensions are ignored, trailers consumed.
class ChunkedDecoder {
public:
    explicit ChunkedDecoder(std::size_t maxLineBytes = 4096, std::size_t maxTrailerBytes = 64 << 10);
    // Decodes what it can of `in`, passing each piece of data to onData (views into `in`); returns how many bytes it
    // used: all of `in` unless the body ended (done(): the rest belongs to the next message) or onData returned false.
    // An error is final.
    Result<std::size_t> feed(std::string_view in, const std::function<bool(std::string_view)>& onData);
    bool done() const { return state_ == State::Done; }

private:
    enum class State {
        Size,
        SizeWs,
        Ext,
        SizeLf,
        Data,
        DataCr,
        DataLf,
        TrailerStart,
        Trailer,
        TrailerLf,
        Done,
        Failed
    };
    std::size_t maxLine_;
    std::size_t maxTrailer_;
    State state_ = State::Size;
    std::uint64_t remaining_ = 0;
    std::size_t digits_ = 0;
    std::size_t line_ = 0;
    std::size_t trailer_ = 0;
    std::string error_;
};

}  // namespace detail

}  // namespace omega::gate::http
