// omegad: the decision daemon's driver. Reads the command line and the configuration, starts the server, then turns
// signals (read from a signalfd, never handled inside a handler) into reloads and a clean stop.
// Exit codes: 0 stopped cleanly (or --check-config passed), 1 could not start, 2 usage or configuration errors,
// 3 stopped but the decision log did not close cleanly.
#include "omega/omegad/Config.h"
#include "omega/omegad/Server.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>

#ifndef OMEGAD_VERSION
#define OMEGAD_VERSION "unknown"
#endif

namespace {

enum Exit { kOk = 0, kStartFailed = 1, kUsage = 2, kUncleanStop = 3 };

const char* kHelp = R"(usage: omegad --config FILE [--check-config]
       omegad --help | --version

Serves decisions of the Omega reference monitor over a Unix socket (docs/omegad.md).

  --config FILE    the configuration (YAML): bundle, trusted keys, socket, decision log, limits, peers
  --check-config   read and check the configuration, print a summary, and exit
  --help           this text
  --version        the version

Signals: SIGHUP reloads the configured bundle (a bundle that fails a check is refused and the loaded one stays);
SIGTERM and SIGINT stop: no new requests, requests in flight answered, decision log closed, socket removed.

Exit codes: 0 stopped cleanly (or the configuration is valid), 1 could not start, 2 usage or configuration errors,
3 stopped, but the decision log did not close cleanly.
)";

// One line to stderr; the server's threads and the main thread take turns, so lines never interleave.
void say(std::string_view line) {
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    std::cerr << line << std::endl;  // flushed: operators and tests read it as it happens
}

// systemd's readiness protocol (Type=notify), without libsystemd: one datagram to $NOTIFY_SOCKET.
void notifySystemd(const char* state) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (path == nullptr || (path[0] != '/' && path[0] != '@')) return;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::size_t len = std::strlen(path);
    if (len >= sizeof addr.sun_path) return;
    std::memcpy(addr.sun_path, path, len);
    if (path[0] == '@') addr.sun_path[0] = '\0';  // an abstract socket
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    [[maybe_unused]] ssize_t n =
        ::sendto(fd, state, std::strlen(state), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
                 static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
    ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
    std::string configPath;
    bool checkOnly = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << kHelp;
            return kOk;
        }
        if (arg == "--version") {
            std::cout << "omegad " OMEGAD_VERSION "\n";
            return kOk;
        }
        if (arg == "--check-config") {
            checkOnly = true;
        } else if (arg == "--config" && i + 1 < argc) {
            configPath = argv[++i];
        } else if (arg.rfind("--config=", 0) == 0) {
            configPath = arg.substr(9);
        } else {
            std::cerr << "omegad: error: unknown argument `" << arg << "` (see omegad --help)\n";
            return kUsage;
        }
    }
    if (configPath.empty()) {
        std::cerr << "omegad: error: --config FILE is required (see omegad --help)\n";
        return kUsage;
    }
    auto config = omega::omegad::loadConfig(configPath);
    if (!config) {
        std::cerr << config.error() << '\n';
        return kUsage;
    }
    if (checkOnly) {
        std::cout << configPath << ": ok: bundle `" << config->bundle << "`, " << config->trustedKeys.size()
                  << " trusted keys, socket `" << config->socketPath << "`, decision log `" << config->log->path << "`"
                  << (config->log->durable ? " (durable)" : " (not durable)") << ", " << config->peers.size()
                  << (config->peers.size() == 1 ? " peer\n" : " peers\n");
        return kOk;
    }

    // Blocked before any thread starts, so every thread inherits the mask and only the signalfd sees them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) {
        std::cerr << "omegad: error: cannot block signals\n";
        return kStartFailed;
    }
    ::signal(SIGPIPE, SIG_IGN);
    const int sigfd = ::signalfd(-1, &signals, SFD_CLOEXEC);
    if (sigfd < 0) {
        std::cerr << "omegad: error: signalfd: " << std::strerror(errno) << '\n';
        return kStartFailed;
    }

    auto server = omega::omegad::Server::start(std::move(*config), say);
    if (!server) {
        std::cerr << "omegad: error: " << server.error() << '\n';
        return kStartFailed;
    }
    notifySystemd("READY=1");

    for (;;) {
        signalfd_siginfo info{};
        const ssize_t n = ::read(sigfd, &info, sizeof info);
        if (n < 0 && errno == EINTR) continue;
        if (n != static_cast<ssize_t>(sizeof info)) {
            say("omegad: error: reading signals failed; stopping");
            break;
        }
        if (info.ssi_signo == SIGHUP) {
            notifySystemd("RELOADING=1");
            [[maybe_unused]] auto r = (*server)->reload();  // the server reports the outcome
            notifySystemd("READY=1");
            continue;
        }
        say(info.ssi_signo == SIGINT ? "omegad: SIGINT: stopping" : "omegad: SIGTERM: stopping");
        break;
    }
    notifySystemd("STOPPING=1");
    auto stopped = (*server)->stop();
    ::close(sigfd);
    if (!stopped) {
        say("omegad: error: " + stopped.error());
        return kUncleanStop;
    }
    say("omegad: stopped");
    return kOk;
}
