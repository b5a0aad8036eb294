// Unit tests of omega_gate_http: the pure parsers (request and response heads, chunked bodies, server-sent events,
// URLs), then a real server on an ephemeral port with the client and raw sockets, and Node.js peers when node is on
// PATH.
#include "omega/gate/Http.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

extern char** environ;

namespace {

using namespace omega::gate::http;
using detail::Body;
using detail::ChunkedDecoder;
using detail::parseRequestHead;
using detail::parseResponseHead;

// ---- request heads ----

TEST(HttpRequestHead, ParsesAGoodRequest) {
    const auto p = parseRequestHead(
        "POST /mcp?x=1 HTTP/1.1\r\nHost: localhost:8080\r\nContent-Type: application/json\r\n"
        "Content-Length: 5\r\nMcp-Session-Id:  abc \t\r\nX-Empty:\r\n\r\n");
    ASSERT_TRUE(p.ok()) << p.error;
    EXPECT_EQ(p.head.method, "POST");
    EXPECT_EQ(p.head.target, "/mcp?x=1");
    EXPECT_FALSE(p.head.http10);
    EXPECT_EQ(p.head.body, Body::Length);
    EXPECT_EQ(p.head.length, 5u);
    EXPECT_TRUE(p.head.keepAlive);
    ASSERT_EQ(p.head.headers.size(), 5u);
    EXPECT_EQ(find(p.head.headers, "mcp-session-id").value_or("?"), "abc");
    EXPECT_EQ(find(p.head.headers, "CONTENT-TYPE").value_or("?"), "application/json");
    EXPECT_EQ(find(p.head.headers, "x-empty").value_or("?"), "");
    EXPECT_FALSE(find(p.head.headers, "missing"));
}

TEST(HttpRequestHead, ConnectionAndVersionDecideKeepAlive) {
    EXPECT_FALSE(parseRequestHead("GET / HTTP/1.0\r\n\r\n").head.keepAlive);
    EXPECT_TRUE(parseRequestHead("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").head.keepAlive);
    EXPECT_FALSE(parseRequestHead("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n").head.keepAlive);
    EXPECT_TRUE(parseRequestHead("GET / HTTP/1.1\r\nHost: a\r\n\r\n").head.keepAlive);
    const auto chunked = parseRequestHead("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n");
    ASSERT_TRUE(chunked.ok()) << chunked.error;
    EXPECT_EQ(chunked.head.body, Body::Chunked);
    const auto same =
        parseRequestHead("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7, 7\r\nContent-Length: 7\r\n\r\n");
    ASSERT_TRUE(same.ok()) << same.error;
    EXPECT_EQ(same.head.length, 7u);
    EXPECT_EQ(parseRequestHead("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").head.body, Body::None);
    EXPECT_TRUE(parseRequestHead("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n\r\n").head.expectContinue);
}

TEST(HttpRequestHead, RefusesEveryMalformedShape) {
    const struct {
        std::string head;
        int status;
    } cases[] = {
        {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},            // two spaces
        {"GET /\r\nHost: a\r\n\r\n", 400},                      // no version
        {"GET / HTTP/1.1 x\r\nHost: a\r\n\r\n", 400},           // a fourth part
        {"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},             // method not a token
        {"GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400},        // control in target
        {"GET / http/1.1\r\nHost: a\r\n\r\n", 400},             // version case
        {"GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400},            // malformed version
        {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},             // another major version
        {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400},  // obs-fold
        {"GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400},            // whitespace before the first field
        {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},            // whitespace before the colon
        {"GET / HTTP/1.1\r\nHost a\r\n\r\n", 400},              // no colon
        {"GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", 400},      // empty name
        {"GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", 400},         // control in a value
        {"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400},       // bare LF
        {"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400},       // bare CR
        {"GET / HTTP/1.1\r\n\r\n", 400},                        // no Host
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},  // two Hosts
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", 400},
        {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", 417},
        {"GET / HTTP/1.1\r\nHost: a\r\n", 400},  // no blank line
    };
    for (const auto& c : cases) {
        const auto p = parseRequestHead(c.head);
        EXPECT_EQ(p.status, c.status) << c.head;
        EXPECT_FALSE(p.error.empty()) << c.head;
    }
}

TEST(HttpRequestHead, FindsTheEndOfAHead) {
    EXPECT_EQ(detail::findHeadEnd("GET / HTTP/1.1\r\n\r\nbody"), 18u);
    EXPECT_EQ(detail::findHeadEnd("GET / HTTP/1.1\r\n\r"), std::string_view::npos);
    EXPECT_EQ(detail::findHeadEnd("GET / HTTP/1.1\n\n"), std::string_view::npos);
    EXPECT_EQ(detail::findHeadEnd("xx\r\n\r\n", 2), 6u);
}

TEST(HttpResponseHead, ParsesFramingAndKeepAlive) {
    auto r = parseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: text/plain\r\n\r\n", false);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->head.status, 200);
    EXPECT_EQ(r->head.reason, "OK");
    EXPECT_EQ(r->body, Body::Length);
    EXPECT_EQ(r->length, 12u);
    EXPECT_TRUE(r->keepAlive);

    r = parseResponseHead("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n", false);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->body, Body::Chunked);
    r = parseResponseHead("HTTP/1.1 200 OK\r\n\r\n", false);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->body, Body::UntilClose);
    EXPECT_FALSE(r->keepAlive);
    r = parseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", true);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->body, Body::None);
    r = parseResponseHead("HTTP/1.1 204\r\n\r\n", false);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->body, Body::None);
    EXPECT_EQ(r->head.reason, "");
    r = parseResponseHead("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n", false);
    ASSERT_TRUE(r) << r.error();
    EXPECT_TRUE(r->keepAlive);
    r = parseResponseHead("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false);
    ASSERT_TRUE(r) << r.error();
    EXPECT_FALSE(r->keepAlive);

    for (const char* bad : {"HTTP/1.1 20 OK\r\n\r\n", "HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n",
                            "HTTP/1.1 099 x\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "junk\r\n\r\n"})
        EXPECT_FALSE(parseResponseHead(bad, false)) << bad;
}

// ---- chunked bodies ----

struct Decoded {
    std::string data;
    std::size_t used = 0;
    bool done = false;
    std::string error;
};

// Feeds `in` in pieces of `step` bytes, handing on what is left of each piece, as a connection would.
Decoded decodeInSteps(std::string_view in, std::size_t step) {
    ChunkedDecoder d(64, 256);
    Decoded out;
    std::string pending;
    for (std::size_t at = 0; at < in.size() && !d.done(); at += step) {
        pending.append(in.substr(at, step));
        auto used = d.feed(pending, [&](std::string_view piece) {
            out.data.append(piece);
            return true;
        });
        if (!used) {
            out.error = used.error();
            return out;
        }
        out.used += *used;
        pending.erase(0, *used);
    }
    out.done = d.done();
    return out;
}

TEST(HttpChunked, DecodesByteByByteAndInAnyPieces) {
    const std::string body =
        "5;name=value;x=\"q\"\r\nhello\r\n6 ; ext\r\n world\r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\nMore: y\r\n\r\n";
    const std::string in = body + "GET /next";
    for (std::size_t step = 1; step <= in.size(); ++step) {
        const Decoded d = decodeInSteps(in, step);
        EXPECT_EQ(d.error, "") << step;
        EXPECT_TRUE(d.done) << step;
        EXPECT_EQ(d.data, "hello world0123456789") << step;
        EXPECT_EQ(d.used, body.size()) << step;
    }
    const Decoded noTrailers = decodeInSteps("0\r\n\r\n", 1);
    EXPECT_TRUE(noTrailers.done);
    EXPECT_EQ(noTrailers.data, "");
}

TEST(HttpChunked, RefusesMalformedEncodings) {
    for (const std::string& bad :
         std::vector<std::string>{"g\r\n", "\r\n", "5\r\nhelloX\r\n", "5\nhello\r\n", "5\r\nhello\n", "5 x\r\n",
                                  "fffffffffffffffffff\r\n", "1;" + std::string(100, 'e') + "\r\n", "1;a\x01\r\n",
                                  "0\r\nTrailer: x\n\r\n", "0\r\n" + std::string(300, 't') + "\r\n\r\n", "5\rx"}) {
        const Decoded d = decodeInSteps(bad, 1);
        EXPECT_NE(d.error, "") << bad;
        EXPECT_FALSE(d.done) << bad;
    }
    // An error is final.
    ChunkedDecoder d;
    const auto ignore = [](std::string_view) { return true; };
    EXPECT_FALSE(d.feed("x", ignore));
    EXPECT_FALSE(d.feed("0\r\n\r\n", ignore));
}

TEST(HttpChunked, StopsWhenTheConsumerSaysSo) {
    ChunkedDecoder d;
    int calls = 0;
    auto used = d.feed("3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", [&](std::string_view) { return ++calls < 1; });
    ASSERT_TRUE(used);
    EXPECT_EQ(*used, 6u);  // "3\r\nabc"
    EXPECT_EQ(calls, 1);
    EXPECT_FALSE(d.done());
}

// ---- server-sent events ----

std::vector<Event> parseSse(std::string_view stream, std::size_t step = 0, std::size_t max = 1 << 20) {
    SseParser p(max);
    std::vector<Event> events;
    const auto onEvent = [&](Event&& e) { events.push_back(std::move(e)); };
    if (step == 0) {
        EXPECT_TRUE(p.feed(stream, onEvent));
    } else {
        for (std::size_t at = 0; at < stream.size(); at += step) EXPECT_TRUE(p.feed(stream.substr(at, step), onEvent));
    }
    return events;
}

std::vector<std::string> datas(const std::vector<Event>& events) {
    std::vector<std::string> out;
    for (const Event& e : events) out.push_back(e.data);
    return out;
}

TEST(HttpSse, FollowsTheStandardsExamples) {
    // The stock-ticker example: three data lines make one event.
    EXPECT_EQ(datas(parseSse("data: YHOO\ndata: +2\ndata: 10\n\n")), std::vector<std::string>{"YHOO\n+2\n10"});

    // Comments, ids (an `id` without value resets it), and an unterminated last event that is never dispatched.
    auto events =
        parseSse(": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].data, "first event");
    EXPECT_EQ(events[0].id, "1");
    EXPECT_EQ(events[1].data, "second event");
    EXPECT_EQ(events[1].id, "");

    // `data` without a colon; an empty event and one of a single newline; an incomplete last line.
    EXPECT_EQ(datas(parseSse("data\n\ndata\ndata\n\ndata:")), (std::vector<std::string>{"", "\n"}));

    // Only one space after the colon is removed.
    EXPECT_EQ(datas(parseSse("data:test\n\ndata: test\n\ndata:  test\n\n")),
              (std::vector<std::string>{"test", "test", " test"}));
}

TEST(HttpSse, SplitsLinesAtCrLfAndCrLf) {
    EXPECT_EQ(datas(parseSse("data: a\r\rdata: b\r\n\r\ndata: c\n\n")), (std::vector<std::string>{"a", "b", "c"}));
    // A CRLF split across two feeds is one line end, not two.
    SseParser p;
    std::vector<std::string> got;
    const auto onEvent = [&](Event&& e) { got.push_back(e.data); };
    EXPECT_TRUE(p.feed("data: a\r", onEvent));
    EXPECT_TRUE(p.feed("\ndata: b\r", onEvent));
    EXPECT_TRUE(p.feed("\n\r", onEvent));
    EXPECT_EQ(got, std::vector<std::string>{"a\nb"});
}

TEST(HttpSse, ReadsEventIdAndRetry) {
    auto events = parseSse("event: update\nretry: 1500\nid: 7\ndata: x\n\nretry: 15x\ndata: y\n\n");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].event, "update");
    ASSERT_TRUE(events[0].retry);
    EXPECT_EQ(*events[0].retry, 1500u);
    EXPECT_EQ(events[0].id, "7");
    EXPECT_EQ(events[1].event, "");
    EXPECT_FALSE(events[1].retry);
    EXPECT_EQ(events[1].id, "7");  // the last event ID persists

    using namespace std::string_literals;
    events = parseSse("id: 1\ndata: a\n\nid: x\0y\ndata: b\n\nevent: lost\n\ndata: c\n\nunknown: field\ndata: d\n\n"s);
    ASSERT_EQ(events.size(), 4u);
    EXPECT_EQ(events[1].id, "1");    // an id with a NUL is ignored
    EXPECT_EQ(events[2].event, "");  // an event type without data is forgotten at the blank line
    EXPECT_EQ(events[3].data, "d");
}

TEST(HttpSse, SkipsOneBomEvenWhenSplit) {
    EXPECT_EQ(datas(parseSse("\xEF\xBB\xBF"
                             "data: a\n\n")),
              std::vector<std::string>{"a"});
    EXPECT_EQ(datas(parseSse("\xEF\xBB\xBF"
                             "data: a\n\n",
                             1)),
              std::vector<std::string>{"a"});
    // A second BOM belongs to the field name, which is then unknown.
    EXPECT_TRUE(parseSse("\xEF\xBB\xBF\xEF\xBB\xBF"
                         "data: a\n\n")
                    .empty());
    // A false start of a BOM is part of the first line.
    EXPECT_EQ(datas(parseSse("\xEFx\ndata: b\n\n", 1)), std::vector<std::string>{"b"});
}

TEST(HttpSse, GivesTheSameEventsInAnyPieces) {
    const std::string stream =
        "\xEF\xBB\xBF: hi\r\nevent: message\r\nid: 42\r\ndata: {\"jsonrpc\":\"2.0\",\r\ndata:  \"id\":1}\r\n\r\n"
        "data: second\rretry: 3000\r\r\ndata: third\n\n";
    const auto whole = parseSse(stream);
    ASSERT_EQ(whole.size(), 3u);
    for (std::size_t step = 1; step < stream.size(); ++step) {
        const auto pieces = parseSse(stream, step);
        ASSERT_EQ(pieces.size(), whole.size()) << step;
        for (std::size_t i = 0; i < whole.size(); ++i) {
            EXPECT_EQ(pieces[i].data, whole[i].data) << step;
            EXPECT_EQ(pieces[i].event, whole[i].event) << step;
            EXPECT_EQ(pieces[i].id, whole[i].id) << step;
            EXPECT_EQ(pieces[i].retry, whole[i].retry) << step;
        }
    }
}

TEST(HttpSse, RefusesAnEventOverTheLimitAndStaysStopped) {
    SseParser p(16);
    const auto ignore = [](Event&&) {};
    EXPECT_TRUE(p.feed("data: 0123456789\n\n", ignore));  // exactly at the limit: fine
    auto r = p.feed("data: 0123456789\ndata: 0123456789\n", ignore);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("larger than 16"), std::string::npos);
    EXPECT_FALSE(p.feed("\n", ignore));

    SseParser line(16);  // one line without an end grows too
    EXPECT_TRUE(line.feed("data: 01234567", ignore));
    EXPECT_FALSE(line.feed("89abcdefgh", ignore));
}

TEST(HttpSse, FormattedEventsParseBack) {
    Event e;
    e.event = "notification";
    e.id = "42";
    e.retry = 10;
    e.data = "line 1\nline 2\n\n{\"x\": 1}";
    const std::string text = formatEvent(e);
    EXPECT_EQ(text, "event: notification\nid: 42\nretry: 10\ndata: line 1\ndata: line 2\ndata: \ndata: {\"x\": 1}\n\n");
    auto back = parseSse(text);
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].event, e.event);
    EXPECT_EQ(back[0].id, e.id);
    EXPECT_EQ(back[0].retry, e.retry);
    EXPECT_EQ(back[0].data, e.data);

    Event plain;
    EXPECT_EQ(formatEvent(plain), "data: \n\n");
    EXPECT_EQ(datas(parseSse(formatEvent(plain))), std::vector<std::string>{""});

    Event hostile;
    hostile.event = "x\ndata: injected";
    hostile.id = "1\r\nevent: y";
    hostile.data = "a\r\nb\rc";
    back = parseSse(formatEvent(hostile));
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].event, "x");
    EXPECT_EQ(back[0].id, "1");
    EXPECT_EQ(back[0].data, "a\nb\nc");
}

// ---- URLs ----

TEST(HttpUrl, ParsesHttpUrls) {
    auto u = Url::parse("http://localhost:8080/mcp?x=1#frag");
    ASSERT_TRUE(u) << u.error();
    EXPECT_EQ(u->host, "localhost");
    EXPECT_EQ(u->port, 8080);
    EXPECT_EQ(u->path, "/mcp?x=1");
    EXPECT_EQ(u->origin(), "http://localhost:8080");
    EXPECT_EQ(u->hostHeader(), "localhost:8080");

    u = Url::parse("HTTP://127.0.0.1");
    ASSERT_TRUE(u) << u.error();
    EXPECT_EQ(u->port, 80);
    EXPECT_EQ(u->path, "/");
    EXPECT_EQ(u->hostHeader(), "127.0.0.1");

    u = Url::parse("http://[::1]:9/a");
    ASSERT_TRUE(u) << u.error();
    EXPECT_EQ(u->host, "::1");
    EXPECT_EQ(u->origin(), "http://[::1]:9");
    EXPECT_EQ(u->hostHeader(), "[::1]:9");

    u = Url::parse("http://example.com?q=1");
    ASSERT_TRUE(u) << u.error();
    EXPECT_EQ(u->path, "/?q=1");

    const auto https = Url::parse("https://example.com/");
    ASSERT_FALSE(https);
    EXPECT_NE(https.error().find("https"), std::string::npos);
    for (const char* bad :
         {"ftp://x/", "example.com", "http://user:pw@x/", "http://x:0/", "http://x:70000/", "http://x:8a/",
          "http:///path", "http://x/a b", "http://[::1/", "http://[zz]/", "http://x_y!/", "http://x/\x01"})
        EXPECT_FALSE(Url::parse(bad)) << bad;
}

// ---- a real server ----

// A blocking test socket to 127.0.0.1 with a generous receive timeout, so that a bug fails the test, not hangs it.
class Raw {
public:
    explicit Raw(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        timeval tv{20, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    ~Raw() { ::close(fd_); }
    bool connected() const { return connected_; }
    bool send(std::string_view s) {
        while (!s.empty()) {
            const ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            s.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    // Reads until `marker` has arrived (or the connection ends); returns all read so far.
    std::string readUntil(std::string_view marker) {
        while (got_.find(marker) == std::string::npos && readMore()) {
        }
        return got_;
    }
    std::string readAll() {
        while (readMore()) {
        }
        return got_;
    }

private:
    bool readMore() {
        char buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return false;
        got_.append(buf, static_cast<std::size_t>(n));
        return true;
    }
    int fd_ = -1;
    bool connected_ = false;
    std::string got_;
};

std::unique_ptr<Server> serve(Handler handler, Limits limits = {}) {
    auto s = Server::start("127.0.0.1", 0, limits, std::move(handler));
    EXPECT_TRUE(s) << (s ? "" : s.error());
    return s ? std::move(*s) : nullptr;
}

Url urlOf(const Server& s, const std::string& path = "/") {
    return *Url::parse("http://127.0.0.1:" + std::to_string(s.port()) + path);
}

// Echoes the request: "METHOD target body" with the request's X-Test header back as X-Echo.
void echo(const Request& r, Responder& out) {
    Headers h{{"Content-Type", "text/plain"}};
    if (auto t = find(r.headers, "x-test")) h.push_back({"X-Echo", std::string(*t)});
    out.send(200, h, r.method + " " + r.target + " " + r.body);
}

TEST(HttpServer, AnswersGetAndPostFromTheClient) {
    auto server = serve(echo);
    ASSERT_TRUE(server);
    Client client;
    auto get = client.fetch(urlOf(*server, "/a?b=c"), "GET", {}, "");
    ASSERT_TRUE(get) << get.error();
    EXPECT_EQ(get->head.status, 200);
    EXPECT_EQ(get->head.reason, "OK");
    EXPECT_EQ(get->body, "GET /a?b=c ");
    EXPECT_EQ(find(get->head.headers, "content-type").value_or("?"), "text/plain");

    const std::string big(300000, 'z');
    auto post = client.fetch(urlOf(*server, "/mcp"), "POST", {{"X-Test", "yes"}, {"Content-Length", "1"}}, big);
    ASSERT_TRUE(post) << post.error();
    EXPECT_EQ(post->body, "POST /mcp " + big);
    EXPECT_EQ(find(post->head.headers, "X-ECHO").value_or("?"), "yes");

    auto head = client.fetch(urlOf(*server), "HEAD", {}, "");
    ASSERT_TRUE(head) << head.error();
    EXPECT_EQ(head->body, "");
    EXPECT_EQ(find(head->head.headers, "content-length").value_or("?"), "7");  // "HEAD / "
}

TEST(HttpServer, KeepsConnectionsAlive) {
    std::mutex m;
    std::vector<std::string> peers;
    auto server = serve([&](const Request& r, Responder& out) {
        {
            std::lock_guard lock(m);
            peers.push_back(r.peer);
        }
        out.send(200, {}, "ok");
    });
    ASSERT_TRUE(server);
    Client client;
    for (int i = 0; i < 3; ++i) {
        auto r = client.fetch(urlOf(*server), i == 1 ? "POST" : "GET", {}, i == 1 ? "{}" : "");
        ASSERT_TRUE(r) << r.error();
        EXPECT_EQ(r->body, "ok");
    }
    EXPECT_EQ(server->accepted(), 1u);
    ASSERT_EQ(peers.size(), 3u);
    EXPECT_EQ(peers[0], peers[2]);
    EXPECT_EQ(peers[0].rfind("127.0.0.1:", 0), 0u);

    // `Connection: close` from the handler or the client: the next request needs a new connection.
    auto closing = serve([](const Request&, Responder& out) { out.send(200, {{"Connection", "close"}}, "bye"); });
    ASSERT_TRUE(closing);
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(client.fetch(urlOf(*closing), "GET", {}, ""));
    EXPECT_EQ(closing->accepted(), 2u);
    auto again = serve(echo);
    ASSERT_TRUE(again);
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(client.fetch(urlOf(*again), "GET", {{"Connection", "close"}}, ""));
    EXPECT_EQ(again->accepted(), 2u);
}

TEST(HttpServer, ReadsChunkedAndPipelinedRequests) {
    auto server = serve(echo);
    ASSERT_TRUE(server);
    Raw raw(server->port());
    ASSERT_TRUE(raw.connected());
    ASSERT_TRUE(raw.send("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab"));
    ASSERT_TRUE(raw.send("cd\r\n3;x=y\r\nefg\r\n0\r\nTrailer: t\r\n\r\n"));
    std::string got = raw.readUntil("abcdefg");
    EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
    EXPECT_NE(got.find("Content-Length: 15\r\n"), std::string::npos) << got;
    // Two requests in one write; the first with an empty line before it.
    ASSERT_TRUE(
        raw.send("\r\nGET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    got = raw.readAll();
    EXPECT_NE(got.find("GET /1 "), std::string::npos) << got;
    EXPECT_NE(got.find("GET /2 "), std::string::npos) << got;
    EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
    EXPECT_EQ(server->accepted(), 1u);
}

TEST(HttpServer, AnswersExpectContinueAndHttp10) {
    auto server = serve(echo);
    ASSERT_TRUE(server);
    Raw raw(server->port());
    ASSERT_TRUE(raw.send("POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"));
    EXPECT_EQ(raw.readUntil("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
    ASSERT_TRUE(raw.send("abc"));
    EXPECT_NE(raw.readUntil("POST /e abc").find("POST /e abc"), std::string::npos);

    Raw old(server->port());
    ASSERT_TRUE(old.send("GET /old HTTP/1.0\r\n\r\n"));
    const std::string got = old.readAll();  // closed after one response
    EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
    EXPECT_NE(got.find("GET /old "), std::string::npos) << got;
}

TEST(HttpServer, RefusesMalformedRequestsOnTheWire) {
    Limits limits;
    limits.maxHeaderBytes = 1024;
    limits.maxBodyBytes = 1024;
    limits.headerTimeoutMs = 200;
    auto server = serve(echo, limits);
    ASSERT_TRUE(server);
    std::string bigChunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) bigChunked += "200\r\n" + std::string(512, 'a') + "\r\n";
    const struct {
        std::string request;
        std::string status;
    } cases[] = {
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\nabc", "413"},
        {bigChunked, "413"},
        {"GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(2000, 'a') + "\r\n\r\n", "431"},
        {"GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(2000, 'a'), "431"},
        {"NOT A REQUEST LINE\r\n\r\n", "400"},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "400"},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc", "400"},
        {"GET / HTTP/3.0\r\nHost: x\r\n\r\n", "505"},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", "501"},
        {"GET / HTTP/1.1\r\nHost: x\r\n", "408"},  // the head never completes
    };
    for (const auto& c : cases) {
        Raw raw(server->port());
        ASSERT_TRUE(raw.send(c.request));
        const std::string got = raw.readAll();
        EXPECT_EQ(got.rfind("HTTP/1.1 " + c.status + " ", 0), 0u) << c.request.substr(0, 80) << " -> " << got;
        EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
    }
}

TEST(HttpServer, AnswersForHandlersThatDoNot) {
    auto server = serve([](const Request& r, Responder& out) {
        if (r.target == "/throw") throw std::runtime_error("boom");
        if (r.target == "/bad-header") {
            EXPECT_FALSE(out.send(200, {{"X", "a\r\nInjected: 1"}}, "x"));
        }
        if (r.target == "/half") {
            out.begin(200, {{"Content-Type", "text/plain"}});
            out.chunk("partial");
            EXPECT_FALSE(out.send(200, {}, "too late"));
        }
        if (r.target == "/no-content") {
            EXPECT_TRUE(out.send(204, {}, "ignored"));
        }
    });
    ASSERT_TRUE(server);
    Client client;
    for (const char* path : {"/silent", "/throw", "/bad-header"}) {
        auto r = client.fetch(urlOf(*server, path), "GET", {}, "");
        ASSERT_TRUE(r) << r.error();
        EXPECT_EQ(r->head.status, 500) << path;
    }
    auto half = client.fetch(urlOf(*server, "/half"), "GET", {}, "");
    ASSERT_TRUE(half) << half.error();
    EXPECT_EQ(half->body, "partial");  // ended for the handler
    auto none = client.fetch(urlOf(*server, "/no-content"), "GET", {}, "");
    ASSERT_TRUE(none) << none.error();
    EXPECT_EQ(none->head.status, 204);
    EXPECT_EQ(none->body, "");
}

TEST(HttpServer, StreamsEachChunkAsItIsSent) {
    std::mutex m;
    std::condition_variable cv;
    bool gotFirst = false;
    bool handlerGaveUp = false;
    auto server = serve([&](const Request&, Responder& out) {
        Event e;
        e.data = "one";
        EXPECT_TRUE(out.begin(200, {{"Content-Type", "text/event-stream"}, {"Mcp-Session-Id", "s-1"}}));
        EXPECT_TRUE(out.chunk(formatEvent(e)));
        {
            // The client signals when it has the first event: it arrived before the stream ended.
            std::unique_lock lock(m);
            if (!cv.wait_for(lock, std::chrono::seconds(30), [&] { return gotFirst; })) handlerGaveUp = true;
        }
        e.data = "two";
        e.event = "last";
        EXPECT_TRUE(out.chunk(formatEvent(e)));
        EXPECT_TRUE(out.end());
        EXPECT_FALSE(out.chunk("after the end"));
    });
    ASSERT_TRUE(server);
    Client client;
    SseParser parser;
    std::vector<Event> events;
    int heads = 0;
    auto head = client.request(
        urlOf(*server, "/mcp"), "POST", "", {{"Accept", "application/json, text/event-stream"}}, "{}",
        [&](const ResponseHead& h) {
            ++heads;
            EXPECT_EQ(find(h.headers, "content-type").value_or("?"), "text/event-stream");
        },
        [&](std::string_view piece) {
            EXPECT_TRUE(parser.feed(piece, [&](Event&& e) {
                if (e.data == "one") {
                    std::lock_guard lock(m);
                    gotFirst = true;
                    cv.notify_all();
                }
                events.push_back(std::move(e));
            }));
            return true;
        });
    ASSERT_TRUE(head) << head.error();
    EXPECT_EQ(heads, 1);
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(find(head->headers, "mcp-session-id").value_or("?"), "s-1");
    EXPECT_FALSE(handlerGaveUp);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].data, "one");
    EXPECT_EQ(events[1].event, "last");
    // The stream ended cleanly, so the connection is reused.
    ASSERT_TRUE(client.fetch(urlOf(*server), "GET", {}, ""));
    EXPECT_EQ(server->accepted(), 1u);
}

TEST(HttpServer, StopUnblocksAStreamingHandler) {
    std::mutex m;
    std::condition_variable cv;
    int written = 0;
    bool returned = false;
    auto server = serve([&](const Request&, Responder& out) {
        out.begin(200, {{"Content-Type", "text/event-stream"}});
        const std::string block(64 << 10, 'x');
        // The client never reads: this blocks once the socket buffers are full, until stop().
        while (out.chunk(block)) {
            std::lock_guard lock(m);
            ++written;
            cv.notify_all();
        }
        EXPECT_FALSE(out.open());
        std::lock_guard lock(m);
        returned = true;
    });
    ASSERT_TRUE(server);
    Raw raw(server->port());
    ASSERT_TRUE(raw.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
    {
        std::unique_lock lock(m);
        ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return written > 0; }));
    }
    server->stop();
    server->stop();  // idempotent
    std::lock_guard lock(m);
    EXPECT_TRUE(returned);
}

TEST(HttpServer, RefusesConnectionsOverTheLimit) {
    Limits limits;
    limits.maxConnections = 1;
    auto server = serve(echo, limits);
    ASSERT_TRUE(server);
    Raw first(server->port());
    ASSERT_TRUE(first.send("GET /held HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_NE(first.readUntil("GET /held ").find("200 OK"), std::string::npos);  // served, and kept open
    Raw second(server->port());
    const std::string got = second.readAll();
    EXPECT_EQ(got.rfind("HTTP/1.1 503 ", 0), 0u) << got;
    EXPECT_EQ(server->accepted(), 1u);
}

// ---- the client against broken servers ----

// A listening socket on 127.0.0.1 whose connections a test thread answers with scripted bytes.
class FakeServer {
public:
    explicit FakeServer(std::vector<std::string> replies) : replies_(std::move(replies)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        EXPECT_EQ(::listen(fd_, 8), 0);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        // Each reply answers one request on its own connection, then the connection is closed.
        thread_ = std::thread([this] {
            for (const std::string& reply : replies_) {
                const int c = ::accept(fd_, nullptr, nullptr);
                if (c < 0) return;
                std::string in;
                char buf[4096];
                while (in.find("\r\n\r\n") == std::string::npos) {
                    const ssize_t n = ::recv(c, buf, sizeof buf, 0);
                    if (n <= 0) break;
                    in.append(buf, static_cast<std::size_t>(n));
                }
                ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
                ::close(c);
            }
        });
    }
    ~FakeServer() {
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
        ::close(fd_);
    }
    Url url() const { return *Url::parse("http://127.0.0.1:" + std::to_string(port_) + "/"); }

private:
    std::vector<std::string> replies_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

TEST(HttpClient, ReportsServersThatCloseOrTalkNonsense) {
    FakeServer fake(
        {"", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "NOT HTTP\r\n\r\n",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
         "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
         "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"});
    Client client;
    auto r = client.fetch(fake.url(), "GET", {}, "");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("before a response"), std::string::npos) << r.error();
    r = client.fetch(fake.url(), "GET", {}, "");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("middle of the response body"), std::string::npos) << r.error();
    r = client.fetch(fake.url(), "GET", {}, "");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("malformed response"), std::string::npos) << r.error();
    r = client.fetch(fake.url(), "GET", {}, "");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("middle of the response body"), std::string::npos) << r.error();
    r = client.fetch(fake.url(), "GET", {}, "");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->body, "until close");
    r = client.fetch(fake.url(), "GET", {}, "");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->head.status, 200);
    EXPECT_EQ(r->body, "ok");
}

TEST(HttpClient, ReplacesAPooledConnectionTheServerClosed) {
    // Each connection answers one request with keep-alive, then closes: the second request finds its pooled
    // connection dead (at once, or after sending) and must go through on a new one.
    const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    FakeServer fake({ok, ok});
    Client client;
    for (int i = 0; i < 2; ++i) {
        auto r = client.fetch(fake.url(), "POST", {}, "x");
        ASSERT_TRUE(r) << i << ": " << r.error();
        EXPECT_EQ(r->body, "ok");
    }
}

TEST(HttpClient, EnforcesItsLimitsAndRefusesBadInput) {
    auto server = serve([](const Request&, Responder& out) { out.send(200, {}, std::string(5000, 'b')); });
    ASSERT_TRUE(server);
    Limits limits;
    limits.maxBodyBytes = 1000;
    Client client(limits);
    auto r = client.fetch(urlOf(*server), "GET", {}, "");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("larger than 1000"), std::string::npos) << r.error();
    // Streamed (onData): no body limit; stopping early closes the connection.
    std::size_t seen = 0;
    auto head = client.request(urlOf(*server), "GET", "", {}, "", {}, [&](std::string_view p) {
        seen += p.size();
        return true;
    });
    ASSERT_TRUE(head) << head.error();
    EXPECT_EQ(seen, 5000u);
    head = client.request(urlOf(*server), "GET", "/other", {}, "", {}, [](std::string_view) { return false; });
    ASSERT_TRUE(head) << head.error();

    EXPECT_FALSE(client.fetch(urlOf(*server), "BAD METHOD", {}, ""));
    EXPECT_FALSE(client.fetch(urlOf(*server), "GET", {{"X", "a\r\nb"}}, ""));
    EXPECT_FALSE(client.request(urlOf(*server), "GET", "/a b", {}, "", {}, {}));

    // Nothing listening: a clear error.
    const std::uint16_t port = server->port();
    server.reset();
    auto refused = client.fetch(*Url::parse("http://127.0.0.1:" + std::to_string(port) + "/"), "GET", {}, "");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().find("cannot connect"), std::string::npos) << refused.error();
    auto unresolvable = client.fetch(*Url::parse("http://no-such-host.invalid/"), "GET", {}, "");
    EXPECT_FALSE(unresolvable);
}

// ---- Node.js peers ----

bool haveNode() {
    return std::system("command -v node >/dev/null 2>&1") == 0;
}

// `node -e script` with its stdout on a pipe.
struct Node {
    pid_t pid = -1;
    FILE* out = nullptr;
    explicit Node(const std::string& script) {
        int fds[2];
        if (::pipe(fds) != 0) return;
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
        const char* argv[] = {"node", "-e", script.c_str(), nullptr};
        if (posix_spawnp(&pid, "node", &actions, nullptr, const_cast<char* const*>(argv), environ) != 0) pid = -1;
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        out = ::fdopen(fds[0], "r");
    }
    std::string line() {
        char buf[4096];
        return out && std::fgets(buf, sizeof buf, out) ? std::string(buf) : std::string();
    }
    std::string all() {
        std::string s;
        for (std::string l = line(); !l.empty(); l = line()) s += l;
        return s;
    }
    ~Node() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        if (out) std::fclose(out);
    }
};

TEST(HttpNode, ClientTalksToANodeServer) {
    if (!haveNode()) {
        GTEST_SKIP() << "node is not on PATH";
    }
    Node node(R"(
        const http = require("http");
        const srv = http.createServer((req, res) => {
            let body = "";
            req.on("data", (c) => (body += c));
            req.on("end", () => {
                if (req.url === "/json") {
                    res.writeHead(200, { "Content-Type": "application/json" });
                    res.end(JSON.stringify({ method: req.method, body, session: req.headers["mcp-session-id"] }));
                } else if (req.url === "/sse") {
                    res.writeHead(200, { "Content-Type": "text/event-stream", "Mcp-Session-Id": "n-1" });
                    res.write("event: message\ndata: {\"n\":1}\n\n");
                    setTimeout(() => { res.write("id: 2\ndata: {\"n\":2}\n\n"); res.end(); }, 5);
                } else {
                    res.writeHead(404);
                    res.end();
                }
            });
        });
        srv.listen(0, "127.0.0.1", () => console.log(srv.address().port));
        setTimeout(() => process.exit(3), 30000).unref();
    )");
    const std::string port = node.line();
    ASSERT_FALSE(port.empty()) << "node did not start";
    const Url base = *Url::parse("http://127.0.0.1:" + port.substr(0, port.find('\n')) + "/");
    Client client;
    for (int i = 0; i < 2; ++i) {
        Url json = base;
        json.path = "/json";
        auto r = client.fetch(json, "POST", {{"Mcp-Session-Id", "abc"}, {"Content-Type", "application/json"}},
                              "{\"jsonrpc\":\"2.0\"}");
        ASSERT_TRUE(r) << r.error();
        EXPECT_EQ(r->head.status, 200);
        EXPECT_EQ(r->body, "{\"method\":\"POST\",\"body\":\"{\\\"jsonrpc\\\":\\\"2.0\\\"}\",\"session\":\"abc\"}");
    }
    Url sse = base;
    sse.path = "/sse";
    SseParser parser;
    std::vector<Event> events;
    auto head = client.request(sse, "GET", "", {{"Accept", "text/event-stream"}}, "", {}, [&](std::string_view p) {
        EXPECT_TRUE(parser.feed(p, [&](Event&& e) { events.push_back(std::move(e)); }));
        return true;
    });
    ASSERT_TRUE(head) << head.error();
    EXPECT_EQ(find(head->headers, "mcp-session-id").value_or("?"), "n-1");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].event, "message");
    EXPECT_EQ(events[0].data, "{\"n\":1}");
    EXPECT_EQ(events[1].id, "2");
    Url missing = base;
    missing.path = "/missing";
    auto r = client.fetch(missing, "GET", {}, "");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->head.status, 404);
}

TEST(HttpNode, NodeClientTalksToTheServer) {
    if (!haveNode()) {
        GTEST_SKIP() << "node is not on PATH";
    }
    auto server = serve([](const Request& r, Responder& out) {
        if (r.target == "/sse") {
            out.begin(200, {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}});
            Event e;
            e.data = "{\"n\":1}";
            out.chunk(formatEvent(e));
            e.data = "{\"n\":2}";
            e.id = "7";
            out.chunk(formatEvent(e));
            out.end();
            return;
        }
        Headers h{{"Content-Type", "application/json"}};
        if (auto s = find(r.headers, "mcp-session-id")) h.push_back({"Mcp-Session-Id", std::string(*s)});
        out.send(200, h, r.body);
    });
    ASSERT_TRUE(server);
    Node node(R"(
        const http = require("http");
        const base = "http://127.0.0.1:)" +
              std::to_string(server->port()) + R"(";
        setTimeout(() => { console.log("timeout"); process.exit(2); }, 20000);
        (async () => {
            const r1 = await fetch(base + "/echo", { method: "POST", headers: { "content-type": "application/json",
                "mcp-session-id": "s1" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }) });
            console.log("echo", r1.status, r1.headers.get("mcp-session-id"), await r1.text());
            const r2 = await fetch(base + "/sse", { method: "POST", body: "{}" });
            console.log("sse", r2.headers.get("content-type"), JSON.stringify(await r2.text()));
            await new Promise((resolve, reject) => {
                const req = http.request(base + "/echo", { method: "POST" }, (res) => {
                    let b = "";
                    res.on("data", (c) => (b += c));
                    res.on("end", () => { console.log("chunked", res.statusCode, b); resolve(); });
                });
                req.on("error", reject);
                req.write("part1-");
                setTimeout(() => { req.write("part2"); req.end(); }, 5);
            });
            process.exit(0);
        })().catch((e) => { console.log("error", e.message); process.exit(1); });
    )");
    const std::string out = node.all();
    EXPECT_NE(out.find("echo 200 s1 {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"), std::string::npos) << out;
    EXPECT_NE(out.find("sse text/event-stream \"data: {\\\"n\\\":1}\\n\\nid: 7\\ndata: {\\\"n\\\":2}\\n\\n\"\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("chunked 200 part1-part2\n"), std::string::npos) << out;
}

}  // namespace
