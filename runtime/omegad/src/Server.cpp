// The omegad server (Server.h): start-up in a fail-closed order, the accept thread (credentials, allow list,
// connection cap), one thread per connection (frames, timeouts, bounded buffers), the request handlers and shutdown.
#include "omega/omegad/Server.h"

#include "omega/attest/Provider.h"
#include "omega/log/Log.h"
#include "omega/monitor/Log.h"
#include "omega/policy/Json.h"
#include "omega/policy/JsonReader.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#ifndef OMEGAD_VERSION
#define OMEGAD_VERSION "unknown"
#endif

namespace omega::omegad {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t nowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

Result<std::string> readSmallFile(const std::string& path, std::size_t limit, const char* what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{std::string("cannot open ") + what + " `" + path + "`"};
    std::string text(limit + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) return Error{std::string("cannot read ") + what + " `" + path + "`"};
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > limit) return Error{std::string(what) + " `" + path + "` is too large"};
    return text;
}

// A bundle file, read through one descriptor that must be a regular file: a FIFO or a device named by a reload
// request would otherwise block or flood the thread reading it.
Result<std::vector<std::uint8_t>> readBundle(const std::string& path, std::uint64_t limit) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return Error{"cannot open bundle `" + path + "`"};
    struct stat st {};
    std::vector<std::uint8_t> bytes;
    std::string error;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        error = "bundle `" + path + "` is not a regular file";
    } else if (static_cast<std::uint64_t>(st.st_size) > limit) {
        error = "bundle `" + path + "` is larger than " + std::to_string(limit) + " bytes";
    } else {
        bytes.resize(static_cast<std::size_t>(st.st_size));
        std::size_t got = 0;
        while (got < bytes.size()) {
            const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            got += static_cast<std::size_t>(n);
        }
        if (got != bytes.size()) error = "cannot read bundle `" + path + "`";
    }
    ::close(fd);
    if (!error.empty()) return Error{error};
    return bytes;
}

std::string errnoText(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

void closeFd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

// A best-effort reply on a connection that is about to be closed (refused at accept): never blocks; a short frame
// into an empty socket buffer fits.
void sendNow(int fd, std::string_view bytes) {
    [[maybe_unused]] ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

std::string okBody(std::uint64_t id, monitor::Approval state) {
    return "{\"id\":\"" + hex16(id) + "\",\"state\":\"" + monitor::approvalName(state) + "\"}";
}

std::string credText(const Credentials& c) {
    return "uid " + std::to_string(c.uid) + " gid " + std::to_string(c.gid) + " pid " + std::to_string(c.pid);
}

Result<int> bindSocket(const std::string& path, std::uint32_t mode, std::uint64_t& dev, std::uint64_t& ino) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return Error{"socket path `" + path + "` is too long"};
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

    // A socket file left by a daemon that died is removed; one that still answers belongs to a live daemon.
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) return Error{"`" + path + "` exists and is not a socket"};
        int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe < 0) return Error{errnoText("socket")};
        const bool live = ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(probe);
        if (live) return Error{"another server is listening on `" + path + "`"};
        if (::unlink(path.c_str()) != 0)
            return Error{errnoText(("cannot remove the stale socket `" + path + "`").c_str())};
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return Error{errnoText("socket")};
    // The file is created without any permission for others, then opened up to `mode`: no moment where it is wider.
    const mode_t old = ::umask(0177);
    const int bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    const int bindErrno = errno;
    ::umask(old);
    if (bound != 0) {
        ::close(fd);
        errno = bindErrno;
        return Error{errnoText(("cannot bind `" + path + "`").c_str())};
    }
    if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0 || ::listen(fd, 128) != 0 ||
        ::stat(path.c_str(), &st) != 0) {
        const std::string e = errnoText(("cannot set up `" + path + "`").c_str());
        ::close(fd);
        ::unlink(path.c_str());
        return Error{e};
    }
    dev = st.st_dev;
    ino = st.st_ino;
    return fd;
}

}  // namespace

struct Server::Connection {
    int fd = -1;
    Credentials cred;
    const Peer* peer = nullptr;
    std::thread thread;
    std::atomic<bool> done{false};
};

namespace {

// The configured report provider. A software authority directory that does not exist yet is created with a fresh
// chain, so that a test machine needs no set-up; one that exists must load.
Result<std::unique_ptr<attest::Provider>> makeProvider(const AttestConfig& a,
                                                       const std::function<void(const std::string&)>& say) {
    if (a.provider == "software") {
        std::error_code ec;
        if (!std::filesystem::exists(a.authority, ec)) {
            auto fresh = attest::SoftwareAuthority::generate();
            if (!fresh) return Error{"software authority: " + fresh.error()};
            auto saved = fresh->save(a.authority);
            if (!saved) return Error{"software authority `" + a.authority + "`: " + saved.error()};
            say("omegad: created a software attestation authority in " + a.authority +
                " (NOT hardware evidence: its reports prove nothing about the platform)");
        }
        auto authority = attest::SoftwareAuthority::load(a.authority);
        if (!authority) return Error{"software authority `" + a.authority + "`: " + authority.error()};
        say("omegad: attestation by the software provider: reports are NOT hardware evidence");
        return attest::software(std::move(*authority), a.vmpl);
    }
    if (a.provider == "configfs-tsm") {
        attest::ConfigfsOptions o;
        o.privlevel = a.vmpl;
        return attest::configfsTsm(o);
    }
    if (a.provider == "sev-guest") {
        attest::SevGuestOptions o;
        o.vmpl = a.vmpl;
        return attest::sevGuest(o);
    }
    return attest::detectHardware();
}

}  // namespace

Server::Server(Config config, Diagnostics diagnostics)
    : config_(std::move(config)), diagnostics_(std::move(diagnostics)) {}

void Server::say(const std::string& line) const {
    if (!diagnostics_) return;
    std::lock_guard lock(sayMutex_);
    diagnostics_(line);
}

Result<std::unique_ptr<Server>> Server::start(Config config, Diagnostics diagnostics) {
    std::unique_ptr<Server> s(new Server(std::move(config), std::move(diagnostics)));
    const Config& c = s->config_;
    if (c.peers.empty()) return Error{"no peers are allowed: the allow list is empty"};

    monitor::Options options;
    for (const std::string& path : c.trustedKeys) {
        auto pem = readSmallFile(path, bundle::kMaxPemSize, "trusted key");
        if (!pem) return Error{pem.error()};
        auto key = bundle::loadPublicKey(*pem);
        if (!key) return Error{"trusted key `" + path + "`: " + key.error()};
        options.trusted.push_back(*key);
    }
    if (options.trusted.empty()) return Error{"no trusted keys: omegad loads only signed bundles"};
    options.limits = c.limits;

    if (c.log) {
        auto pem = readSmallFile(c.log->key, bundle::kMaxPemSize, "log key");
        if (!pem) return Error{pem.error()};
        auto key = bundle::loadPrivateKey(*pem);
        if (!key) return Error{"log key `" + c.log->key + "`: " + key.error()};
        log::WriterOptions w;
        w.path = c.log->path;
        w.durable = c.log->durable;
        w.rotateBytes = c.log->rotateBytes;
        w.checkpointRecords = c.log->checkpointRecords;
        w.checkpointMs = c.log->checkpointMs;
        w.key = *key;
        auto writer = log::Writer::open(std::move(w));
        if (!writer) return Error{"decision log `" + c.log->path + "`: " + writer.error()};
        s->writer_ = std::move(*writer);
        options.log = monitor::logTo(*s->writer_);
        options.logHead = monitor::headOf(*s->writer_);
    }
    if (c.attestation) {
        auto provider = makeProvider(*c.attestation, [&](const std::string& line) { s->say(line); });
        if (!provider) return Error{"attestation: " + provider.error()};
        s->provider_ = std::move(*provider);
    }
    s->monitor_ = std::make_unique<monitor::Monitor>(std::move(options));
    auto bytes = readBundle(c.bundle, c.limits.maxBundleBytes);
    if (!bytes) return Error{bytes.error()};
    auto loaded = s->monitor_->load(*bytes);
    if (!loaded) return Error{"bundle `" + c.bundle + "` refused: " + loaded.error()};

    s->stopFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->stopFd_ < 0) return Error{errnoText("eventfd")};
    auto fd = bindSocket(c.socketPath, c.socketMode, s->socketDev_, s->socketIno_);
    if (!fd) return Error{fd.error()};
    s->listenFd_ = *fd;
    s->startedNs_ = nowNs();
    s->say("omegad: serving `" + c.socketPath + "` with bundle " + loaded->hex() + " (generation " +
           std::to_string(s->monitor_->generation()) + ")" +
           (s->writer_ ? ", decision log `" + c.log->path + "`" + (c.log->durable ? " (durable)" : " (not durable)")
                       : ", no decision log"));
    s->acceptThread_ = std::thread([raw = s.get()] { raw->acceptLoop(); });
    return s;
}

Server::~Server() {
    if (acceptThread_.joinable() || writer_) {
        [[maybe_unused]] auto r = stop();
    }
    closeFd(listenFd_);
    closeFd(stopFd_);
}

Result<bundle::Measurement> Server::reload(const std::string& path) {
    const std::string& p = path.empty() ? config_.bundle : path;
    auto bytes = readBundle(p, config_.limits.maxBundleBytes);
    auto r = bytes ? monitor_->load(*bytes) : Result<bundle::Measurement>(Error{bytes.error()});
    if (r) {
        say("omegad: reloaded `" + p + "`: bundle " + r->hex() + " (generation " +
            std::to_string(monitor_->generation()) + ")");
    } else {
        say("omegad: reload of `" + p + "` refused, keeping bundle " + monitor_->measurement().hex() + ": " +
            r.error());
    }
    return r;
}

// ---- accepting ----

void Server::reap(bool all) {
    std::list<std::unique_ptr<Connection>> finished;
    {
        std::lock_guard lock(connectionsMutex_);
        for (auto it = connections_.begin(); it != connections_.end();) {
            if (all || (*it)->done.load(std::memory_order_acquire)) {
                finished.push_back(std::move(*it));
                it = connections_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& c : finished)
        if (c->thread.joinable()) c->thread.join();
}

void Server::acceptLoop() {
    for (;;) {
        pollfd fds[2] = {{listenFd_, POLLIN, 0}, {stopFd_, POLLIN, 0}};
        const int ready = ::poll(fds, 2, 1000);  // the timeout only paces the reaping of finished connections
        if (fds[1].revents != 0 || stopping_.load()) break;
        reap(false);
        if (ready <= 0 || (fds[0].revents & POLLIN) == 0) continue;
        int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // Out of descriptors: the pending connection stays queued; try again once some are free.
                say(errnoText("omegad: accept"));
                ::poll(nullptr, 0, 50);
            }
            continue;
        }
        Credentials cred;
        ucred uc{};
        socklen_t len = sizeof uc;
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0 || len != sizeof uc) {
            sendNow(fd, errorFrame("cannot read the peer's credentials"));
            ::close(fd);
            continue;
        }
        cred = {uc.pid, uc.uid, uc.gid};
        const Peer* peer = config_.match(cred.uid, cred.gid);
        if (!peer) {
            sendNow(fd, errorFrame("peer " + credText(cred) + " is not on the allow list"));
            ::close(fd);
            say("omegad: refused a connection from " + credText(cred) + ": not on the allow list");
            continue;
        }
        if (active_.load() >= config_.serve.maxConnections) {
            sendNow(fd, errorFrame("too many connections (the limit is " +
                                   std::to_string(config_.serve.maxConnections) + "); try again later"));
            ::close(fd);
            continue;
        }
        auto conn = std::make_unique<Connection>();
        conn->fd = fd;
        conn->cred = cred;
        conn->peer = peer;
        Connection* raw = conn.get();
        active_.fetch_add(1);
        try {
            std::lock_guard lock(connectionsMutex_);
            connections_.push_back(std::move(conn));
            raw->thread = std::thread([this, raw] { serve(*raw); });
        } catch (const std::system_error&) {
            sendNow(fd, errorFrame("the server cannot take another connection now"));
            std::lock_guard lock(connectionsMutex_);
            connections_.remove_if([raw](const auto& c) { return c.get() == raw; });
            ::close(fd);
            active_.fetch_sub(1);
        }
    }
    closeFd(listenFd_);
}

// ---- one connection ----

bool Server::writeAll(int fd, std::string_view bytes) const {
    const auto deadline = Clock::now() + std::chrono::milliseconds(config_.serve.writeTimeoutMs);
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
        // The client does not read: wait for room, but not past the write timeout.
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, static_cast<int>(left)) < 0 && errno != EINTR) return false;
        if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return false;
    }
    return true;
}

void Server::serve(Connection& conn) {
    const ServeLimits& lim = config_.serve;
    // INVARIANT: the buffer holds less than one frame after the frames in it are handled, plus at most one read;
    // so it stays under kHeaderSize + maxFrame + kReadChunk whatever the client sends.
    constexpr std::size_t kReadChunk = 64 * 1024;
    std::string in;
    auto lastRequest = Clock::now();
    std::optional<Clock::time_point> frameStart;
    bool open = true;
    while (open && !stopping_.load(std::memory_order_acquire)) {
        std::size_t used = 0;
        while (open) {
            const FrameView f = decodeFrame(std::string_view(in).substr(used), lim.maxFrame);
            if (f.status == FrameStatus::Partial) break;
            if (f.status == FrameStatus::Empty) {
                writeAll(conn.fd, errorFrame("a frame of length 0 (a frame holds at least its type byte)"));
                open = false;
                break;
            }
            if (f.status == FrameStatus::TooLarge) {
                writeAll(conn.fd, errorFrame("a frame of " + std::to_string(f.length) + " bytes is over the limit of " +
                                             std::to_string(lim.maxFrame)));
                open = false;
                break;
            }
            const std::string reply = handle(f.type, f.body, *conn.peer, conn.cred);
            used += f.size;
            lastRequest = Clock::now();
            if (!writeAll(conn.fd, reply)) open = false;
            if (stopping_.load(std::memory_order_acquire)) open = false;  // in-flight done; take no more
        }
        if (!open) break;
        if (used > 0) {
            in.erase(0, used);
            frameStart.reset();
            if (!in.empty()) frameStart = Clock::now();
        }

        auto deadline = lastRequest + std::chrono::milliseconds(lim.idleTimeoutMs);
        if (frameStart) deadline = std::min(deadline, *frameStart + std::chrono::milliseconds(lim.frameTimeoutMs));
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            // Best effort only: a client that stalls mid-frame may not read either.
            sendNow(conn.fd, errorFrame(frameStart ? "timed out waiting for the rest of a frame"
                                                   : "idle for too long; closing the connection"));
            break;
        }
        pollfd fds[2] = {{conn.fd, POLLIN, 0}, {stopFd_, POLLIN, 0}};
        const int ready = ::poll(fds, 2, static_cast<int>(std::min<long long>(left, 1 << 30)));
        if (ready < 0 && errno != EINTR) break;
        if (fds[1].revents != 0) break;  // stopping: nothing of this connection is in flight
        if (ready <= 0 || fds[0].revents == 0) continue;
        const std::size_t cap = kHeaderSize + lim.maxFrame + kReadChunk;
        const std::size_t want = std::min(kReadChunk, cap - in.size());
        const std::size_t old = in.size();
        in.resize(old + want);
        const ssize_t n = ::read(conn.fd, in.data() + old, want);
        in.resize(old + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
        if (n == 0) break;  // the client closed
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
            break;
        }
        if (!frameStart) frameStart = Clock::now();
    }
    ::shutdown(conn.fd, SHUT_RDWR);
    ::close(conn.fd);
    conn.fd = -1;
    active_.fetch_sub(1);
    conn.done.store(true, std::memory_order_release);
}

// ---- requests ----

std::string Server::refuseDecision(const std::string& error, const Credentials& cred, std::string_view agent) {
    monitor::Decision d;
    d.verdict = monitor::Verdict::Deny;
    d.error = error;
    d.reason = "not decided: " + error;
    d.measurement = monitor_->measurement();
    d.generation = monitor_->generation();
    if (writer_) {
        // The refusal is logged too, as an event: who tried to speak for whom.
        log::Entry e;
        e.kind = log::Kind::Event;
        e.measurement = d.measurement.bytes;
        e.decision = "{\"event\":\"peer refused\",\"uid\":" + std::to_string(cred.uid) +
                     ",\"gid\":" + std::to_string(cred.gid) + ",\"pid\":" + std::to_string(cred.pid) + ",\"agent\":";
        policy::appendJsonString(e.decision, agent);
        e.decision += ",\"error\":";
        policy::appendJsonString(e.decision, error);
        e.decision += "}";
        auto seq = writer_->append(e);
        if (seq) d.logSeq = *seq;
    }
    return frame(replyType(Type::Decide), d.json());
}

std::string Server::decide(std::string_view body, const Peer& peer, const Credentials& cred) {
    if (peer.agents) {
        // The same strict reader as the monitor's decoder (which also rejects duplicate keys), so the agent checked
        // here is the agent the monitor decides for.
        policy::json::Document doc;
        std::string error;
        if (!doc.parse(body, error) || !doc.root().isObject())
            return refuseDecision("the request is not a JSON object" + (error.empty() ? "" : ": " + error), cred, "");
        auto agent = doc.root().find("agent");
        if (!agent || !agent->isString())
            return refuseDecision("the request names no agent (`agent` must be a string)", cred, "");
        if (!peer.mayDecideFor(agent->string())) {
            const std::string name(agent->string());
            return refuseDecision("peer uid " + std::to_string(cred.uid) + " may not speak for agent `" + name + "`",
                                  cred, name);
        }
    }
    return frame(replyType(Type::Decide), monitor_->decide(body).json());
}

std::string Server::handle(std::uint8_t type, std::string_view body, const Peer& peer, const Credentials& cred) {
    auto parsed = parseRequest(type, body);
    if (!parsed) return errorFrame(parsed.error());
    const Request& r = *parsed;
    auto denied = [&](const char* op) {
        return errorFrame("peer " + credText(cred) + " may not " + op + " (not in its `allow` list)");
    };
    switch (r.type) {
        case Type::Decide:
            if (!(peer.operations & kDecide)) return denied("decide");
            return decide(r.body, peer, cred);
        case Type::Grant:
        case Type::Refuse: {
            if (!(peer.operations & kApprove)) return denied("approve");
            if (!peer.mayAnswerAs(r.role))
                return errorFrame("peer uid " + std::to_string(cred.uid) + " may not answer as role `" + r.role + "`");
            auto a = r.type == Type::Grant ? monitor_->grant(r.id, r.role) : monitor_->refuse(r.id, r.role);
            if (!a) return errorFrame(a.error());
            return frame(replyType(r.type), okBody(r.id, *a));
        }
        case Type::Wait: {
            if (!(peer.operations & (kDecide | kApprove))) return denied("wait for approvals");
            // In slices, so that a stop is not held up by a long wait.
            const auto deadline =
                Clock::now() + std::chrono::milliseconds(std::min(r.timeoutMs, config_.serve.maxWaitMs));
            monitor::Approval state = monitor_->approval(r.id);
            while (state == monitor::Approval::Pending && !stopping_.load(std::memory_order_acquire)) {
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
                if (left.count() <= 0) break;
                state = monitor_->wait(r.id, std::min(left, std::chrono::milliseconds(100)));
            }
            return frame(replyType(Type::Wait), okBody(r.id, state));
        }
        case Type::Reload: {
            if (!(peer.operations & kReload)) return denied("reload");
            auto m = reload(r.path);
            if (!m) return errorFrame("reload refused: " + m.error());
            return frame(replyType(Type::Reload), "{\"bundle\":\"" + m->hex() + "\",\"generation\":" +
                                                      std::to_string(monitor_->generation()) + "}");
        }
        case Type::Status:
            if (!(peer.operations & kStatus)) return denied("read the status");
            return frame(replyType(Type::Status), statusJson(cred));
        case Type::Ping: return frame(replyType(Type::Ping), "{\"pong\":true,\"version\":\"" OMEGAD_VERSION "\"}");
        case Type::Attest: {
            if (!(peer.operations & kAttest)) return denied("attest");
            if (!provider_) return errorFrame("attestation is not configured (the configuration has no `attestation`)");
            auto a = monitor_->attest(r.nonce, *provider_, r.gpuEvidence);
            if (!a) return errorFrame(a.error());
            return frame(replyType(Type::Attest), a->json());
        }
    }
    return errorFrame("unknown request");
}

std::string Server::statusJson(const Credentials& cred) const {
    const monitor::Monitor::Stats st = monitor_->stats();
    auto n = [](std::uint64_t v) { return std::to_string(v); };
    std::string out = "{\"version\":\"" OMEGAD_VERSION "\",\"loaded\":";
    out += monitor_->loaded() ? "true" : "false";
    out += ",\"bundle\":\"" + monitor_->measurement().hex() + "\",\"generation\":" + n(monitor_->generation());
    out += ",\"uptime_ms\":" + n(static_cast<std::uint64_t>((nowNs() - startedNs_) / 1'000'000));
    out += ",\"connections\":" + n(active_.load());
    out += ",\"stats\":{\"decisions\":" + n(st.decisions) + ",\"allowed\":" + n(st.allowed) +
           ",\"denied\":" + n(st.denied) + ",\"errors\":" + n(st.errors) + ",\"pending\":" + n(st.pending) +
           ",\"reloads\":" + n(st.reloads) + ",\"refused\":" + n(st.refused) + ",\"rate_events\":" + n(st.rateEvents) +
           ",\"sessions\":" + n(st.sessions) + ",\"approvals_waiting\":" + n(st.approvalsWaiting) + "}";
    if (writer_) {
        const log::WriterStats ws = writer_->stats();
        out += ",\"log\":{\"path\":";
        policy::appendJsonString(out, writer_->path());
        out += std::string(",\"durable\":") + (config_.log->durable ? "true" : "false");
        out += ",\"head\":\"" + log::formatHead(writer_->head()) + "\",\"records\":" + n(ws.records) +
               ",\"entries\":" + n(ws.entries) + ",\"checkpoints\":" + n(ws.checkpoints) + ",\"syncs\":" + n(ws.syncs) +
               ",\"rotations\":" + n(ws.rotations) + "}";
    } else {
        out += ",\"log\":null";
    }
    out += ",\"peer\":{\"uid\":" + n(cred.uid) + ",\"gid\":" + n(cred.gid) +
           ",\"pid\":" + n(static_cast<std::uint64_t>(cred.pid)) + "}}";
    return out;
}

// ---- stopping ----

Result<bool> Server::stop() {
    std::lock_guard lock(stopMutex_);
    if (stopped_) {
        if (!stopError_.empty()) return Error{stopError_};
        return true;
    }
    stopped_ = true;
    stopping_.store(true, std::memory_order_release);
    if (stopFd_ >= 0) {
        const std::uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(stopFd_, &one, sizeof one);
    }
    if (acceptThread_.joinable()) acceptThread_.join();
    closeFd(listenFd_);
    // Remove the socket file only if it is still the one this server made (not a successor's).
    struct stat st {};
    if (!config_.socketPath.empty() && ::lstat(config_.socketPath.c_str(), &st) == 0 &&
        static_cast<std::uint64_t>(st.st_dev) == socketDev_ && static_cast<std::uint64_t>(st.st_ino) == socketIno_)
        ::unlink(config_.socketPath.c_str());
    reap(true);
    if (writer_) {
        auto closed = writer_->close();
        if (!closed) {
            stopError_ = "decision log: " + closed.error();
            say("omegad: closing the decision log failed: " + closed.error());
            return Error{stopError_};
        }
        say("omegad: decision log closed at " + log::formatHead(writer_->head()));
    }
    return true;
}

}  // namespace omega::omegad
