// The HTTP/1.1 server (Http.h): the listener and its accept thread (connection cap, 503 beyond it), one thread per
// connection (heads and bodies read under limits and deadlines, refusals, keep-alive), the Responder that writes
// whole or chunked responses, and stop().
#include "HttpIo.h"
#include "omega/gate/Http.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>

namespace omega::gate::http {

namespace {

constexpr std::size_t kReadChunk = 16 << 10;

bool noBodyStatus(int status) {
    return status < 200 || status == 204 || status == 304;
}

// A refusal's whole response: a short text body, then the connection is closed.
std::string refusal(int status, std::string_view message) {
    std::string body(message);
    body += '\n';
    std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reasonPhrase(status)) +
                      "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\nConnection: close\r\n\r\n";
    return out + body;
}

std::string peerText(const sockaddr_storage& addr) {
    char host[INET6_ADDRSTRLEN] = "?";
    if (addr.ss_family == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
        ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
    }
    if (addr.ss_family == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
        ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        return "[" + std::string(host) + "]:" + std::to_string(ntohs(a->sin6_port));
    }
    return "?";
}

bool hasToken(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (item.size() == token.size()) {
            bool same = true;
            for (std::size_t i = 0; i < item.size() && same; ++i)
                same = std::tolower(static_cast<unsigned char>(item[i])) == token[i];
            if (same) return true;
        }
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

bool nameIs(std::string_view name, std::string_view lowerName) {
    if (name.size() != lowerName.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(name[i])) != lowerName[i]) return false;
    return true;
}

}  // namespace

struct Server::Impl {
    struct Connection {
        int fd = -1;
        std::string peer;
        std::thread thread;
        std::atomic<bool> done{false};
    };

    Limits limits;
    Handler handler;
    int listenFd = -1;
    int stopFd = -1;
    std::uint16_t port = 0;
    std::atomic<bool> stopping{false};
    std::atomic<std::uint32_t> active{0};
    std::atomic<std::uint64_t> accepted{0};
    std::thread acceptThread;
    std::mutex connectionsMutex;
    std::list<std::unique_ptr<Connection>> connections;
    std::mutex stopMutex;
    bool stopped = false;
    // Sent on kept-alive responses, so that clients drop pooled connections before we close them as idle.
    std::string keepAliveHeader;

    ~Impl() {
        io::closeFd(listenFd);
        io::closeFd(stopFd);
    }
    void acceptLoop();
    void reap(bool all);
    void serve(Connection& conn);
    void refuse(int fd, int status, std::string_view message);
    bool write(int fd, iovec* parts, int count) {
        return io::writeAll(fd, parts, count, limits.writeTimeoutMs, stopFd) == io::Status::Ok;
    }
};

namespace {

// The Responder of one request on a server connection.
class Wire final : public Responder {
public:
    Wire(Server::Impl& server, int fd, bool headRequest, bool http10, bool keepAlive)
        : server_(server), fd_(fd), headRequest_(headRequest), http10_(http10), keepAlive_(keepAlive) {}

    bool send(int status, const Headers& headers, std::string_view body) override {
        if (state_ != State::Idle || !open()) return false;
        const bool noBody = noBodyStatus(status);
        std::string head;
        if (!buildHead(status, headers, noBody ? nullptr : "Content-Length", body.size(), head)) return false;
        state_ = State::Done;
        iovec parts[2] = {{head.data(), head.size()}, {const_cast<char*>(body.data()), body.size()}};
        return write(parts, noBody || headRequest_ ? 1 : 2);
    }

    bool begin(int status, const Headers& headers) override {
        if (state_ != State::Idle || !open()) return false;
        noBody_ = headRequest_ || noBodyStatus(status);
        // HTTP/1.0 has no chunked coding: the body runs until the connection closes.
        if (http10_) keepAlive_ = false;
        std::string head;
        if (!buildHead(status, headers, noBody_ || http10_ ? nullptr : "Transfer-Encoding", 0, head)) return false;
        state_ = State::Streaming;
        iovec part{head.data(), head.size()};
        return write(&part, 1);
    }

    bool chunk(std::string_view data) override {
        if (state_ != State::Streaming || !open()) return false;
        if (data.empty() || noBody_) return true;
        if (http10_) {
            iovec part{const_cast<char*>(data.data()), data.size()};
            return write(&part, 1);
        }
        char size[24];
        const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
        iovec parts[3] = {{size, static_cast<std::size_t>(n)},
                          {const_cast<char*>(data.data()), data.size()},
                          {const_cast<char*>("\r\n"), 2}};
        return write(parts, 3);
    }

    bool end() override {
        if (state_ != State::Streaming || !open()) return false;
        state_ = State::Done;
        if (noBody_ || http10_) return true;
        iovec part{const_cast<char*>("0\r\n\r\n"), 5};
        return write(&part, 1);
    }

    bool open() const override { return !failed_ && !server_.stopping.load(std::memory_order_acquire); }

    bool answered() const { return state_ != State::Idle; }
    bool streaming() const { return state_ == State::Streaming; }
    bool reusable() const { return keepAlive_ && !failed_ && state_ == State::Done; }

private:
    enum class State { Idle, Streaming, Done };

    bool write(iovec* parts, int count) {
        if (!server_.write(fd_, parts, count)) failed_ = true;
        return !failed_;
    }

    // The status line and headers; `framing` names the framing header (with `length` for Content-Length), if any.
    bool buildHead(int status, const Headers& headers, const char* framing, std::size_t length, std::string& out) {
        if (status < 100 || status > 999) return false;
        std::size_t size = 64;
        for (const Header& h : headers) size += h.name.size() + h.value.size() + 4;
        out.reserve(size);
        out += "HTTP/1.1 ";
        out += std::to_string(status);
        out += ' ';
        out += reasonPhrase(status);
        out += "\r\n";
        for (const Header& h : headers) {
            if (!detail::validHeaderName(h.name) || !detail::validHeaderValue(h.value)) return false;
            if (nameIs(h.name, "content-length") || nameIs(h.name, "transfer-encoding")) continue;
            if (nameIs(h.name, "connection")) {
                if (hasToken(h.value, "close")) keepAlive_ = false;
                continue;
            }
            out += h.name;
            out += ": ";
            out += h.value;
            out += "\r\n";
        }
        if (framing != nullptr && framing[0] == 'C') {
            out += "Content-Length: ";
            out += std::to_string(length);
            out += "\r\n";
        } else if (framing != nullptr) {
            out += "Transfer-Encoding: chunked\r\n";
        }
        if (!keepAlive_) {
            out += "Connection: close\r\n";
        } else {
            if (http10_) out += "Connection: keep-alive\r\n";
            out += server_.keepAliveHeader;
        }
        out += "\r\n";
        return true;
    }

    Server::Impl& server_;
    int fd_;
    bool headRequest_;
    bool http10_;
    bool keepAlive_;
    bool noBody_ = false;
    bool failed_ = false;
    State state_ = State::Idle;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::start(const std::string& host, std::uint16_t port, Limits limits,
                                              Handler handler) {
    if (!handler) return Error{"no handler given"};
    auto impl = std::make_unique<Impl>();
    impl->limits = limits;
    impl->handler = std::move(handler);
    impl->keepAliveHeader = "Keep-Alive: timeout=" + std::to_string(limits.idleTimeoutMs / 1000) + "\r\n";
    const std::string where = "`" + host + ":" + std::to_string(port) + "`";

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const int gai = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (gai != 0) return Error{"cannot resolve " + where + ": " + ::gai_strerror(gai)};
    std::string error = "no address to listen on";
    for (addrinfo* ai = found; ai != nullptr && impl->listenFd < 0; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            error = io::errnoText("socket", errno);
            continue;
        }
        const int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 512) != 0) {
            error = io::errnoText("bind", errno);
            ::close(fd);
            continue;
        }
        impl->listenFd = fd;
    }
    ::freeaddrinfo(found);
    if (impl->listenFd < 0) return Error{"cannot listen on " + where + ": " + error};
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(impl->listenFd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return Error{io::errnoText("getsockname", errno)};
    impl->port = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                                  : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    impl->stopFd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (impl->stopFd < 0) return Error{io::errnoText("eventfd", errno)};
    Impl* raw = impl.get();
    try {
        impl->acceptThread = std::thread([raw] { raw->acceptLoop(); });
    } catch (const std::exception& e) {
        return Error{std::string("cannot start the accept thread: ") + e.what()};
    }
    return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
    stop();
}

std::uint16_t Server::port() const {
    return impl_->port;
}

std::uint64_t Server::accepted() const {
    return impl_->accepted.load(std::memory_order_relaxed);
}

void Server::stop() {
    Impl& s = *impl_;
    std::lock_guard lock(s.stopMutex);
    if (s.stopped) return;
    s.stopped = true;
    s.stopping.store(true, std::memory_order_release);
    // The eventfd stays readable: every poll of every connection wakes, now and later.
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(s.stopFd, &one, sizeof one);
    if (s.acceptThread.joinable()) s.acceptThread.join();
    s.reap(true);
    io::closeFd(s.listenFd);
}

void Server::Impl::reap(bool all) {
    std::list<std::unique_ptr<Connection>> finished;
    {
        std::lock_guard lock(connectionsMutex);
        for (auto it = connections.begin(); it != connections.end();) {
            if (all || (*it)->done.load(std::memory_order_acquire)) {
                finished.push_back(std::move(*it));
                it = connections.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& c : finished)
        if (c->thread.joinable()) c->thread.join();
}

void Server::Impl::acceptLoop() {
    for (;;) {
        pollfd fds[2] = {{listenFd, POLLIN, 0}, {stopFd, POLLIN, 0}};
        const int ready = ::poll(fds, 2, -1);
        if (ready < 0 && errno != EINTR) break;
        if (fds[1].revents != 0 || stopping.load(std::memory_order_acquire)) break;
        if (ready <= 0 || (fds[0].revents & POLLIN) == 0) continue;
        reap(false);
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        const int fd = ::accept4(listenFd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            // Out of descriptors: the connection stays queued; retry once some are free (or on stop).
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) ::poll(&fds[1], 1, 50);
            continue;
        }
        if (active.load() >= limits.maxConnections) {
            // Best effort and never blocking: the accept thread must not wait on one peer.
            static const std::string busy = refusal(503, "too many connections; try again later");
            [[maybe_unused]] const ssize_t n = ::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            ::close(fd);
            continue;
        }
        io::setNoDelay(fd);
        auto conn = std::make_unique<Connection>();
        conn->fd = fd;
        conn->peer = peerText(addr);
        Connection* raw = conn.get();
        active.fetch_add(1);
        {
            std::lock_guard lock(connectionsMutex);
            connections.push_back(std::move(conn));
        }
        accepted.fetch_add(1, std::memory_order_relaxed);
        try {
            raw->thread = std::thread([this, raw] { serve(*raw); });
        } catch (const std::exception&) {
            ::close(fd);
            active.fetch_sub(1);
            accepted.fetch_sub(1, std::memory_order_relaxed);
            raw->done.store(true, std::memory_order_release);
        }
    }
}

void Server::Impl::refuse(int fd, int status, std::string_view message) {
    const std::string response = refusal(status, message);
    if (io::writeAll(fd, response, limits.writeTimeoutMs, stopFd) != io::Status::Ok) return;
    // Lingering close: closing with unread request bytes would send a reset that can destroy the response before
    // the client reads it, so take what the client still sends (bounded in bytes and time) until it closes.
    ::shutdown(fd, SHUT_WR);
    io::Buffer sink;
    const io::Deadline deadline = io::after(std::min<std::uint32_t>(limits.headerTimeoutMs, 2000));
    for (std::size_t drained = 0; drained < (1u << 20);) {
        if (io::readSome(fd, sink, kReadChunk, deadline, stopFd, true) != io::Status::Ok) break;
        drained += sink.size();
        sink.consume(sink.size());
    }
}

void Server::Impl::serve(Connection& conn) {
    const int fd = conn.fd;
    io::Buffer in;
    bool keep = true;
    std::uint64_t served = 0;
    while (keep && !stopping.load(std::memory_order_acquire)) {
        // ---- the head: idle until its first byte, then headerTimeoutMs for the rest ----
        const io::Deadline idle = io::after(limits.idleTimeoutMs);
        io::Deadline headDeadline{};
        bool started = !in.empty();
        if (started) headDeadline = io::after(limits.headerTimeoutMs);
        std::size_t scanned = 0;
        std::size_t end = std::string_view::npos;
        for (;;) {
            // Empty lines before a request line are allowed (RFC 9112 2.2), e.g. a CRLF after a previous body.
            while (in.size() >= 2 && in.view()[0] == '\r' && in.view()[1] == '\n') in.consume(2);
            scanned = std::min(scanned, in.size());
            end = detail::findHeadEnd(in.view(), scanned);
            if (end != std::string_view::npos) break;
            if (in.size() > limits.maxHeaderBytes) {
                refuse(fd, 431, "the request head is larger than " + std::to_string(limits.maxHeaderBytes) + " bytes");
                keep = false;
                break;
            }
            scanned = in.size() >= 3 ? in.size() - 3 : 0;
            // After a response the next request is rarely in the socket yet: poll first. On a new connection, and
            // for the rest of a head, try the read at once.
            const bool pollFirst = served > 0 && !started;
            const io::Status s = io::readSome(fd, in, kReadChunk, started ? headDeadline : idle, stopFd, pollFirst);
            if (s == io::Status::Timeout && started) {
                refuse(fd, 408, "the request head did not arrive in time");
            }
            if (s != io::Status::Ok) {
                keep = false;
                break;
            }
            if (!started) {
                started = true;
                headDeadline = io::after(limits.headerTimeoutMs);
            }
        }
        if (!keep) break;
        if (end > limits.maxHeaderBytes) {
            refuse(fd, 431, "the request head is larger than " + std::to_string(limits.maxHeaderBytes) + " bytes");
            break;
        }
        detail::ParsedRequest parsed = detail::parseRequestHead(in.view().substr(0, end));
        in.consume(end);
        if (!parsed.ok()) {
            refuse(fd, parsed.status, parsed.error);
            break;
        }
        detail::RequestHead& head = parsed.head;
        if (head.body == detail::Body::Length && head.length > limits.maxBodyBytes) {
            refuse(fd, 413, "the request body is larger than " + std::to_string(limits.maxBodyBytes) + " bytes");
            break;
        }

        // ---- the body, within bodyTimeoutMs ----
        Request request;
        if (head.expectContinue && head.body != detail::Body::None && in.empty()) {
            static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            if (io::writeAll(fd, kContinue, limits.writeTimeoutMs, stopFd) != io::Status::Ok) break;
        }
        const io::Deadline bodyDeadline = io::after(limits.bodyTimeoutMs);
        io::Status status = io::Status::Ok;
        if (head.body == detail::Body::Length) {
            const std::size_t length = static_cast<std::size_t>(head.length);
            request.body.resize(length);
            std::size_t got = std::min(length, in.size());
            std::memcpy(request.body.data(), in.view().data(), got);
            in.consume(got);
            // The rest straight into the body: no copy through the buffer.
            while (got < length && status == io::Status::Ok) {
                const ssize_t n = ::recv(fd, request.body.data() + got, length - got, 0);
                if (n > 0) {
                    got += static_cast<std::size_t>(n);
                } else if (n == 0) {
                    status = io::Status::Closed;
                } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    status = io::wait(fd, POLLIN, bodyDeadline, stopFd);
                } else if (errno != EINTR) {
                    status = io::Status::Failed;
                }
            }
        } else if (head.body == detail::Body::Chunked) {
            detail::ChunkedDecoder decoder(4096, limits.maxHeaderBytes);
            bool tooLarge = false;
            const auto append = [&](std::string_view piece) {
                if (request.body.size() + piece.size() > limits.maxBodyBytes) {
                    tooLarge = true;
                    return false;
                }
                request.body.append(piece);
                return true;
            };
            for (;;) {
                auto used = decoder.feed(in.view(), append);
                if (!used) {
                    refuse(fd, 400, used.error());
                    status = io::Status::Failed;
                    break;
                }
                in.consume(*used);
                if (tooLarge) {
                    refuse(fd, 413,
                           "the request body is larger than " + std::to_string(limits.maxBodyBytes) + " bytes");
                    status = io::Status::Failed;
                    break;
                }
                if (decoder.done()) break;
                status = io::readSome(fd, in, kReadChunk, bodyDeadline, stopFd, false);
                if (status != io::Status::Ok) break;
            }
        }
        if (status == io::Status::Timeout) refuse(fd, 408, "the request body did not arrive in time");
        if (status != io::Status::Ok) break;

        // ---- the handler ----
        request.method = std::move(head.method);
        request.target = std::move(head.target);
        request.headers = std::move(head.headers);
        request.peer = conn.peer;
        Wire wire(*this, fd, request.method == "HEAD", head.http10, head.keepAlive);
        try {
            handler(request, wire);
        } catch (...) {
            // Nothing escapes a connection thread; a half-sent response cannot be repaired, only cut.
            if (wire.answered()) break;
        }
        if (!wire.answered()) {
            static constexpr std::string_view kBody = "the handler did not answer\n";
            if (!wire.send(500, {{"Content-Type", "text/plain; charset=utf-8"}}, kBody)) break;
        } else if (wire.streaming()) {
            if (!wire.end()) break;
        }
        keep = wire.reusable();
        ++served;
    }
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    active.fetch_sub(1);
    conn.done.store(true, std::memory_order_release);
}

}  // namespace omega::gate::http
