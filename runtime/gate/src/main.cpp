// omega-gate: the MCP and A2A gateway's driver (docs/gateway.md). Reads the command line and the configuration,
// starts the embedded monitor service (omegad's server: bundle, decision log, approval socket), then runs the stdio
// or the HTTP transport. `omega-gate pins` prints the description hashes of a server's tools, for pinning.
#include "omega/gate/Config.h"
#include "omega/gate/Guard.h"
#include "omega/gate/HttpGate.h"
#include "omega/gate/Pins.h"
#include "omega/gate/Stdio.h"
#include "omega/omegad/Server.h"

#include <openssl/rand.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#ifndef OMEGA_GATE_VERSION
#define OMEGA_GATE_VERSION "unknown"
#endif

namespace {

enum Exit { kOk = 0, kStartFailed = 1, kUsage = 2 };

const char* kHelp = R"(usage: omega-gate --config FILE [--check-config] -- SERVER [ARG...]
       omega-gate --config FILE [--check-config]
       omega-gate pins --server NAME (-- SERVER [ARG...] | --url URL)
       omega-gate --help | --version

A gateway that asks the Omega reference monitor before every MCP tool call and A2A message (docs/gateway.md).

With `-- SERVER ...` the gate runs the MCP server SERVER as a child process and speaks MCP over stdio in its place:
point the client at `omega-gate --config FILE -- SERVER ...` instead of `SERVER ...`. Without it, the gate serves
MCP (Streamable HTTP) and A2A over HTTP at `gate.listen`, in front of the upstreams of `gate.servers` and
`gate.agents`.

  --config FILE    the configuration (YAML): omegad's (bundle, trusted keys, decision log, approval socket, peers;
                   docs/omegad.md) and a `gate:` section (identity, servers, pins, limits)
  --check-config   read and check the configuration, print a summary, and exit
  pins             start a server (or reach one at --url), list its tools and print their description hashes as
                   a `gate.pins` block: pin what you reviewed, and a later change is refused as a rug pull
  --help           this text
  --version        the version

Every call is decided by the policy: a denial is a JSON-RPC error (code -32090) with the reason, the deciding rules
and the decision's log record; approvals are answered over the approval socket (omegad's protocol); unknown tools,
changed tool descriptions and shadowing tools are denied. Signals: SIGHUP reloads the bundle; SIGTERM and SIGINT
stop (over stdio: passed to the server).

Exit codes: over stdio, the server's exit status (127: it could not be started); over HTTP, 0 after SIGTERM; 1 the
gate could not start (keys, bundle, log, socket, listen address); 2 usage or configuration errors.
)";

void say(std::string_view line) {
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    std::cerr << "omega-gate: " << line << std::endl;
}

std::string randomSession() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return "gate-" + std::to_string(::getpid());
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "gate-";
    for (unsigned char b : bytes) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

int pinsCommand(int argc, char** argv) {
    std::string server, url;
    std::vector<std::string> command;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << "usage: omega-gate pins --server NAME (-- SERVER [ARG...] | --url URL)\n\n"
                         "Lists a server's tools and prints their description hashes (sha256 over the canonical JSON\n"
                         "of name, title, description, inputSchema, outputSchema and annotations) as a `gate.pins`\n"
                         "block. Exit codes: 0 printed, 1 the server could not be reached or listed, 2 usage.\n";
            return kOk;
        }
        if (arg == "--server" && i + 1 < argc) {
            server = argv[++i];
        } else if (arg == "--url" && i + 1 < argc) {
            url = argv[++i];
        } else if (arg == "--") {
            for (++i; i < argc; ++i) command.emplace_back(argv[i]);
        } else {
            std::cerr << "omega-gate: error: unknown argument `" << arg << "` (see omega-gate pins --help)\n";
            return kUsage;
        }
    }
    if (server.empty() || command.empty() == url.empty()) {
        std::cerr << "omega-gate: error: pins needs --server NAME and either -- SERVER ... or --url URL\n";
        return kUsage;
    }
    auto pins = command.empty() ? omega::gate::listPinsHttp(url) : omega::gate::listPinsStdio(command);
    if (!pins) {
        std::cerr << "omega-gate: error: " << pins.error() << '\n';
        return kStartFailed;
    }
    std::cout << "pins:\n";
    for (const auto& [tool, hash] : *pins)
        std::cout << "  " << server << "." << omega::gate::policyToolName(tool) << ": \"" << hash << "\"\n";
    return kOk;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::string_view(argv[1]) == "pins") return pinsCommand(argc, argv);
    std::string configPath;
    bool checkOnly = false;
    std::vector<std::string> command;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << kHelp;
            return kOk;
        }
        if (arg == "--version") {
            std::cout << "omega-gate " OMEGA_GATE_VERSION "\n";
            return kOk;
        }
        if (arg == "--") {
            for (++i; i < argc; ++i) command.emplace_back(argv[i]);
            if (command.empty()) {
                std::cerr << "omega-gate: error: `--` must be followed by the server's command\n";
                return kUsage;
            }
        } else if (arg == "--check-config") {
            checkOnly = true;
        } else if (arg == "--config" && i + 1 < argc) {
            configPath = argv[++i];
        } else if (arg.rfind("--config=", 0) == 0) {
            configPath = arg.substr(9);
        } else {
            std::cerr << "omega-gate: error: unknown argument `" << arg << "` (see omega-gate --help)\n";
            return kUsage;
        }
    }
    if (configPath.empty()) {
        std::cerr << "omega-gate: error: --config FILE is required (see omega-gate --help)\n";
        return kUsage;
    }
    const bool stdio = !command.empty();
    auto config = omega::gate::loadConfig(configPath, stdio);
    if (!config) {
        std::cerr << config.error() << '\n';
        return kUsage;
    }
    const omega::gate::GateConfig& gate = config->gate;
    if (checkOnly) {
        std::cout << configPath << ": ok: bundle `" << config->omegad.bundle << "`, decision log `"
                  << config->omegad.log->path << "`, approval socket `" << config->omegad.socketPath << "`, ";
        if (stdio)
            std::cout << "stdio server `" << gate.servers[0].name << "` as agent `" << gate.identity.agent << "`";
        else
            std::cout << "listening on " << gate.listen << ", " << gate.servers.size() << " MCP servers, "
                      << gate.agents.size() << " A2A agents, " << gate.tokens.size() << " tokens";
        std::cout << ", " << gate.pins.size() << " pins\n";
        return kOk;
    }

    // Blocked before any thread starts, so every thread inherits the mask and only the signal thread sees them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) {
        say("error: cannot block signals");
        return kStartFailed;
    }
    ::signal(SIGPIPE, SIG_IGN);

    omega::omegad::Config service = config->omegad;
    auto server = omega::omegad::Server::start(std::move(service), [](std::string_view line) { say(line); });
    if (!server) {
        say("error: " + server.error());
        return kStartFailed;
    }
    omega::gate::Guard guard((*server)->monitor(), gate);

    std::atomic<int> child{0};
    std::atomic<bool> stopping{false}, done{false};
    std::unique_ptr<omega::gate::HttpGate> http;
    if (!stdio) {
        auto started = omega::gate::HttpGate::start(guard, [](const std::string& line) { say(line); });
        if (!started) {
            say("error: " + started.error());
            (void)(*server)->stop();
            return kStartFailed;
        }
        http = std::move(*started);
        say("listening on " + http->address());
    }
    std::thread signalThread([&] {
        for (;;) {
            int signo = 0;
            if (sigwait(&signals, &signo) != 0) continue;
            if (done) return;  // main woke this thread to end it
            if (signo == SIGHUP) {
                [[maybe_unused]] auto r = (*server)->reload();
                continue;
            }
            stopping = true;
            if (stdio) {
                if (child.load() > 0) ::kill(child.load(), SIGTERM);
            } else {
                http->stop();
            }
            return;
        }
    });

    int status = kOk;
    if (stdio) {
        omega::gate::Caller caller{gate.identity.agent,
                                   gate.identity.session.empty() ? randomSession() : gate.identity.session,
                                   &gate.identity.fields};
        omega::gate::StdioOptions options;
        options.command = command;
        options.diagnostics = [](const std::string& line) { say(line); };
        options.started = [&](int pid) { child = pid; };
        status = omega::gate::runStdio(guard, gate.servers[0].name, caller, options);
    } else {
        http->wait();
    }
    done = true;
    pthread_kill(signalThread.native_handle(), SIGTERM);
    signalThread.join();
    auto closed = (*server)->stop();
    if (!closed) say("error: the decision log did not close cleanly: " + closed.error());
    return status;
}
