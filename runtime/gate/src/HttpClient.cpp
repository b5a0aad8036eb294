// The HTTP/1.1 client (Http.h): connecting under a deadline, a pool of idle keep-alive connections per origin, one
// request/response exchange with the body passed on as it arrives, and the single retry of a stale pooled connection.
#include "HttpIo.h"
#include "omega/gate/Http.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <mutex>
#include <unordered_map>

namespace omega::gate::http {

namespace {

constexpr std::size_t kReadChunk = 16 << 10;
constexpr std::size_t kMaxIdlePerOrigin = 16;

bool sameNoCase(std::string_view a, std::string_view lowerB) {
    if (a.size() != lowerB.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != lowerB[i]) return false;
    return true;
}

bool containsNoCase(std::string_view text, std::string_view lowerNeedle) {
    if (lowerNeedle.size() > text.size()) return false;
    for (std::size_t i = 0; i + lowerNeedle.size() <= text.size(); ++i)
        if (sameNoCase(text.substr(i, lowerNeedle.size()), lowerNeedle)) return true;
    return false;
}

// How long the server says it keeps an idle connection (`Keep-Alive: timeout=N`), in ms; 0 when it does not say.
std::uint64_t keepAliveHintMs(const Headers& headers) {
    const auto value = find(headers, "keep-alive");
    if (!value) return 0;
    const std::size_t at = value->find("timeout=");
    if (at == std::string_view::npos) return 0;
    std::uint64_t seconds = 0;
    for (std::size_t i = at + 8; i < value->size() && std::isdigit(static_cast<unsigned char>((*value)[i])); ++i)
        seconds = std::min<std::uint64_t>(seconds * 10 + static_cast<std::uint64_t>((*value)[i] - '0'), 1u << 20);
    return seconds * 1000;
}

Result<int> connectTo(const Url& url, std::uint32_t timeoutMs) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const int gai = ::getaddrinfo(url.host.c_str(), std::to_string(url.port).c_str(), &hints, &found);
    if (gai != 0) return Error{"cannot resolve `" + url.host + "`: " + ::gai_strerror(gai)};
    const io::Deadline deadline = io::after(timeoutMs);
    std::string error = "no address";
    int fd = -1;
    for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
        fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            error = io::errnoText("socket", errno);
            continue;
        }
        io::setNoDelay(fd);
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        int err = errno;
        if (err == EINPROGRESS) {
            const io::Status s = io::wait(fd, POLLOUT, deadline, -1);
            if (s == io::Status::Timeout) {
                error = "timed out after " + std::to_string(timeoutMs) + " ms";
                io::closeFd(fd);
                break;
            }
            socklen_t len = sizeof err;
            if (s != io::Status::Ok || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
            if (err == 0) break;
        }
        error = io::errnoText("connect", err);
        io::closeFd(fd);
    }
    ::freeaddrinfo(found);
    if (fd < 0) return Error{"cannot connect to " + url.origin() + ": " + error};
    return fd;
}

}  // namespace

struct Client::Pool {
    struct Conn {
        int fd = -1;
        io::Buffer in;
        io::Deadline expires{};
        ~Conn() { io::closeFd(fd); }
    };

    // The most recently used idle connection that is still open; null when there is none.
    std::unique_ptr<Conn> take(const std::string& origin) {
        for (;;) {
            std::unique_ptr<Conn> c;
            {
                std::lock_guard lock(mutex);
                auto it = idle.find(origin);
                if (it == idle.end() || it->second.empty()) return nullptr;
                c = std::move(it->second.back());
                it->second.pop_back();
            }
            if (c->expires <= io::Clock::now()) continue;
            // A closed connection (or one with unexpected bytes) is readable; a usable one has nothing to say.
            char byte;
            const ssize_t n = ::recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return c;
        }
    }

    void put(const std::string& origin, std::unique_ptr<Conn> c) {
        std::lock_guard lock(mutex);
        auto& list = idle[origin];
        if (list.size() < kMaxIdlePerOrigin) list.push_back(std::move(c));
    }

    std::mutex mutex;
    std::unordered_map<std::string, std::vector<std::unique_ptr<Conn>>> idle;
};

namespace {

// One request and its response on connection `c`. `retry` is set when nothing of a response arrived (the request
// may be sent again elsewhere); `reusable` when the connection can serve another request.
struct Exchange {
    const Limits& limits;
    const std::string& origin;
    bool headRequest;
    bool bounded;  // a collected body: maxBodyBytes and bodyTimeoutMs apply
    const std::function<void(const ResponseHead&)>& onHead;
    const std::function<bool(std::string_view)>& onData;
    int stopFd = -1;  // readable once the client is stopped
    bool retry = false;
    bool reusable = false;
    std::uint64_t keepAliveMs = 0;

    Result<ResponseHead> run(Client::Pool::Conn& c, std::string_view head, std::string_view body);
};

Result<ResponseHead> Exchange::run(Client::Pool::Conn& c, std::string_view head, std::string_view body) {
    iovec parts[2] = {{const_cast<char*>(head.data()), head.size()}, {const_cast<char*>(body.data()), body.size()}};
    if (io::writeAll(c.fd, parts, 2, limits.writeTimeoutMs, stopFd) != io::Status::Ok) {
        retry = true;
        return Error{"cannot send the request to " + origin + ": the connection failed or timed out"};
    }

    // ---- the head; interim (1xx) responses are skipped ----
    const io::Deadline firstByte = io::after(limits.responseTimeoutMs);
    io::Deadline headDeadline{};
    bool any = false;
    detail::ParsedResponse response;
    for (;;) {
        std::size_t scanned = 0;
        std::size_t end;
        while ((end = detail::findHeadEnd(c.in.view(), scanned)) == std::string_view::npos) {
            if (c.in.size() > limits.maxHeaderBytes)
                return Error{"the response head from " + origin + " is larger than " +
                             std::to_string(limits.maxHeaderBytes) + " bytes"};
            scanned = c.in.size() >= 3 ? c.in.size() - 3 : 0;
            const io::Status s =
                io::readSome(c.fd, c.in, kReadChunk, any ? headDeadline : firstByte, stopFd, c.in.empty());
            if (s == io::Status::Timeout)
                return Error{any ? "timed out reading the response head from " + origin
                                 : "no response from " + origin + " within " +
                                       std::to_string(limits.responseTimeoutMs) + " ms"};
            if (s == io::Status::Stopped) return Error{"the client is stopping"};
            if (s != io::Status::Ok) {
                retry = !any;
                return Error{"the connection to " + origin + " closed " +
                             (any ? "in the middle of the response head" : "before a response")};
            }
            if (!any) {
                any = true;
                headDeadline = io::after(limits.headerTimeoutMs);
            }
        }
        if (end > limits.maxHeaderBytes)
            return Error{"the response head from " + origin + " is larger than " +
                         std::to_string(limits.maxHeaderBytes) + " bytes"};
        auto parsed = detail::parseResponseHead(c.in.view().substr(0, end), headRequest);
        c.in.consume(end);
        if (!parsed) return Error{"malformed response from " + origin + ": " + parsed.error()};
        if (parsed->head.status == 101) return Error{origin + " switched protocols, which is not supported"};
        if (parsed->head.status >= 200) {
            response = std::move(*parsed);
            break;
        }
    }
    if (onHead) onHead(response.head);

    // ---- the body ----
    if (bounded && response.body == detail::Body::Length && response.length > limits.maxBodyBytes)
        return Error{"the response body from " + origin + " (" + std::to_string(response.length) +
                     " bytes) is larger than " + std::to_string(limits.maxBodyBytes) + " bytes"};
    const io::Deadline bodyDeadline = io::after(limits.bodyTimeoutMs);
    std::size_t total = 0;
    bool tooLarge = false;
    bool stopped = false;
    const auto deliver = [&](std::string_view piece) {
        total += piece.size();
        if (bounded && total > limits.maxBodyBytes) {
            tooLarge = true;
            return false;
        }
        if (onData && !onData(piece)) {
            stopped = true;
            return false;
        }
        return true;
    };
    // Reads more of the body; Closed is left to the caller, for whom it may be the body's end.
    const auto more = [&]() -> Result<bool> {
        const io::Status s = io::readSome(c.fd, c.in, kReadChunk,
                                          bounded ? bodyDeadline : io::after(limits.idleTimeoutMs), stopFd, true);
        if (s == io::Status::Ok) return true;
        if (s == io::Status::Closed) return false;
        if (s == io::Status::Timeout)
            return Error{bounded ? "the response body from " + origin + " did not arrive within " +
                                       std::to_string(limits.bodyTimeoutMs) + " ms"
                                 : "the response stream from " + origin + " was silent for " +
                                       std::to_string(limits.idleTimeoutMs) + " ms"};
        return Error{"the connection to " + origin + " failed in the middle of the response body"};
    };
    const std::string cutShort = "the connection to " + origin + " closed in the middle of the response body";
    switch (response.body) {
        case detail::Body::None: break;
        case detail::Body::Length: {
            std::uint64_t remaining = response.length;
            while (remaining > 0 && !tooLarge && !stopped) {
                if (c.in.empty()) {
                    auto r = more();
                    if (!r) return Error{r.error()};
                    if (!*r) return Error{cutShort};
                }
                const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, c.in.size()));
                const std::string_view piece = c.in.view().substr(0, n);
                remaining -= n;
                deliver(piece);
                c.in.consume(n);
            }
            break;
        }
        case detail::Body::Chunked: {
            detail::ChunkedDecoder decoder(4096, limits.maxHeaderBytes);
            for (;;) {
                auto used = decoder.feed(c.in.view(), deliver);
                if (!used) return Error{"malformed response body from " + origin + ": " + used.error()};
                c.in.consume(*used);
                if (tooLarge || stopped || decoder.done()) break;
                auto r = more();
                if (!r) return Error{r.error()};
                if (!*r) return Error{cutShort};
            }
            break;
        }
        case detail::Body::UntilClose:
            for (;;) {
                if (!c.in.empty()) {
                    const std::size_t n = c.in.size();
                    deliver(c.in.view());
                    c.in.consume(n);
                    if (tooLarge || stopped) break;
                }
                auto r = more();
                if (!r) return Error{r.error()};
                if (!*r) break;
            }
            break;
    }
    if (tooLarge)
        return Error{"the response body from " + origin + " is larger than " + std::to_string(limits.maxBodyBytes) +
                     " bytes"};
    reusable = !stopped && response.keepAlive && response.body != detail::Body::UntilClose && c.in.empty();
    keepAliveMs = keepAliveHintMs(response.head.headers);
    return std::move(response.head);
}

}  // namespace

Client::Client(Limits limits) : limits_(limits), pool_(std::make_unique<Pool>()) {
    if (::pipe2(stop_, O_CLOEXEC | O_NONBLOCK) != 0) stop_[0] = stop_[1] = -1;
}

Client::~Client() {
    io::closeFd(stop_[0]);
    io::closeFd(stop_[1]);
}

void Client::stop() {
    if (stop_[1] >= 0) (void)!::write(stop_[1], "x", 1);
}

Result<ResponseHead> Client::request(const Url& url, std::string_view method, const std::string& target,
                                     const Headers& headers, std::string_view body,
                                     const std::function<void(const ResponseHead&)>& onHead,
                                     const std::function<bool(std::string_view)>& onData) {
    return send(url, method, target, headers, body, onHead, onData, !onData);
}

Result<Client::Response> Client::fetch(const Url& url, std::string_view method, const Headers& headers,
                                       std::string_view body) {
    Response out;
    auto head = send(
        url, method, "", headers, body, {},
        [&out](std::string_view piece) {
            out.body.append(piece);
            return true;
        },
        true);
    if (!head) return Error{head.error()};
    out.head = std::move(*head);
    return out;
}

Result<ResponseHead> Client::send(const Url& url, std::string_view method, const std::string& target,
                                  const Headers& headers, std::string_view body,
                                  const std::function<void(const ResponseHead&)>& onHead,
                                  const std::function<bool(std::string_view)>& onData, bool bounded) {
    // The head is built (and checked) once: a retry sends the same bytes.
    const std::string& path = target.empty() ? url.path : target;
    if (!detail::validHeaderName(method)) return Error{"invalid method `" + std::string(method) + "`"};
    if (path.empty()) return Error{"empty request target"};
    for (char c : path)
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F)
            return Error{"the request target has a character that cannot be sent (percent-encode it)"};
    std::string head;
    std::size_t size = method.size() + path.size() + url.host.size() + 64;
    for (const Header& h : headers) size += h.name.size() + h.value.size() + 4;
    head.reserve(size);
    head.append(method).append(" ").append(path).append(" HTTP/1.1\r\nHost: ").append(url.hostHeader());
    head += "\r\n";
    bool close = false;
    for (const Header& h : headers) {
        if (!detail::validHeaderName(h.name) || !detail::validHeaderValue(h.value))
            return Error{"invalid request header `" + h.name + "`"};
        if (sameNoCase(h.name, "host") || sameNoCase(h.name, "content-length") ||
            sameNoCase(h.name, "transfer-encoding"))
            continue;
        if (sameNoCase(h.name, "connection") && containsNoCase(h.value, "close")) close = true;
        head.append(h.name).append(": ").append(h.value).append("\r\n");
    }
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
        head.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    head += "\r\n";

    const std::string origin = url.origin();
    for (int attempt = 0;; ++attempt) {
        std::unique_ptr<Pool::Conn> c = attempt == 0 ? pool_->take(origin) : nullptr;
        const bool reused = c != nullptr;
        if (!c) {
            auto fd = connectTo(url, limits_.connectTimeoutMs);
            if (!fd) return Error{fd.error()};
            c = std::make_unique<Pool::Conn>();
            c->fd = *fd;
        }
        Exchange x{limits_, origin, method == "HEAD", bounded, onHead, onData, stop_[0]};
        auto r = x.run(*c, head, body);
        if (!r && x.retry && reused && attempt == 0) continue;
        if (r && x.reusable && !close) {
            std::uint64_t keepMs = limits_.idleTimeoutMs;
            // A second's margin under the server's own timeout, so that we do not race its close.
            if (x.keepAliveMs > 0)
                keepMs = std::min<std::uint64_t>(keepMs, x.keepAliveMs - std::min<std::uint64_t>(x.keepAliveMs, 1000));
            if (keepMs > 0) {
                c->expires = io::Clock::now() + std::chrono::milliseconds(keepMs);
                pool_->put(origin, std::move(c));
            }
        }
        return r;
    }
}

}  // namespace omega::gate::http
