// The omegad server: a monitor, its decision log and a Unix socket served by an accept thread and one thread per
// connection (capped). Peers are checked with SO_PEERCRED against the allow list; every failure is an error reply or
// a deny, never a crash or a stalled server. The executable (main.cpp) adds signals and the command line.
#pragma once

#include "omega/monitor/Monitor.h"
#include "omega/omegad/Config.h"
#include "omega/omegad/Wire.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace omega::log {
class Writer;
}
namespace omega::attest {
class Provider;
}

namespace omega::omegad {

// The credentials of a connected process, as the kernel gave them (SO_PEERCRED) when it connected.
struct Credentials {
    std::int32_t pid = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
};

class Server {
public:
    // One line for the operator (reloads, refused peers, errors); called from any thread, one call at a time.
    using Diagnostics = std::function<void(std::string_view line)>;

    // Loads the trusted keys, opens the decision log, loads the bundle and binds the socket, then serves on its
    // own threads. Any failure is an error and nothing is left running (fail closed: no bundle, no service).
    static Result<std::unique_ptr<Server>> start(Config config, Diagnostics diagnostics = {});
    ~Server();  // stop(), when not done already
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Loads the configured bundle, or `path`; a refused bundle leaves the loaded one. Thread-safe.
    Result<bundle::Measurement> reload(const std::string& path = "");

    // Stops accepting, closes idle connections, lets requests being handled finish and send their replies, removes
    // the socket and closes the decision log with a closing checkpoint. Idempotent; the result is the log's close.
    Result<bool> stop();

    // One request as a connection would handle it (for the server's threads, and tests): the reply frame.
    std::string handle(std::uint8_t type, std::string_view body, const Peer& peer, const Credentials& cred);

    monitor::Monitor& monitor() { return *monitor_; }
    const Config& config() const { return config_; }
    std::size_t connections() const { return active_.load(std::memory_order_relaxed); }
    std::string statusJson(const Credentials& cred) const;

private:
    struct Connection;
    Server(Config config, Diagnostics diagnostics);
    void say(const std::string& line) const;
    void acceptLoop();
    void serve(Connection& conn);
    void reap(bool all);
    bool writeAll(int fd, std::string_view bytes) const;
    std::string decide(std::string_view body, const Peer& peer, const Credentials& cred);
    std::string refuseDecision(const std::string& error, const Credentials& cred, std::string_view agent);

    Config config_;
    Diagnostics diagnostics_;
    mutable std::mutex sayMutex_;
    // INVARIANT: the writer outlives the monitor, whose log sink points at it (members are destroyed in reverse).
    std::unique_ptr<log::Writer> writer_;
    std::unique_ptr<monitor::Monitor> monitor_;
    std::unique_ptr<attest::Provider> provider_;  // null: attestation is not configured
    int listenFd_ = -1;
    int stopFd_ = -1;  // an eventfd: readable once stop() began, which every poll() of the server watches
    std::uint64_t socketDev_ = 0, socketIno_ = 0;  // the socket file this server made (removed only if still it)
    std::int64_t startedNs_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> active_{0};
    std::thread acceptThread_;
    std::mutex connectionsMutex_;
    std::list<std::unique_ptr<Connection>> connections_;
    std::mutex stopMutex_;
    bool stopped_ = false;
    std::string stopError_;
};

}  // namespace omega::omegad
