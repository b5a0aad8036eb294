// omega-gate's added latency per MCP tools/call (docs/performance.md, "Gateway (issue 8)"): an `echo` tools/call to
// gate_echo_server directly and through omega-gate, over stdio pipes and Streamable HTTP (keep-alive POSTs), the
// decision log not durable and durable; median, p99 and mean of 30,000 round trips per case, then gate - direct.
#include "omega/bundle/Signing.h"
#include "omega/codegen/CodeGen.h"
#include "omega/gate/Http.h"
#include "omega/gen/Generate.h"
#include "omega/policy/Serialize.h"

#include "BenchKeys.h"

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifndef OMEGA_GATE_BINARY
#error "OMEGA_GATE_BINARY (the omega-gate executable) must be defined by the build"
#endif
#ifndef OMEGA_GATE_ECHO_SERVER
#error "OMEGA_GATE_ECHO_SERVER (the gate_echo_server executable) must be defined by the build"
#endif

using namespace omega;
namespace http = omega::gate::http;

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

const char* kPolicy = R"(policy gate_bench version 1 by principal "tenant:bench";
agent bench { role "assistant"; }
tool echo.echo(message: string);
permit tool echo.echo by agent bench;
)";

// What every measured call sends, and what its answer must hold: a denial or an error has no such text.
constexpr std::string_view kMessage = "omega gate bench: one tools/call";
constexpr std::string_view kExpected = R"("text":"omega gate bench: one tools/call")";

constexpr std::string_view kProtocol = "2025-06-18";
constexpr int kWarmupCalls = 200;
// Every case makes this many measured calls, in one run (not Google Benchmark's growing trial runs): the same sample
// count for each, enough for a p99 of 300 samples above it.
constexpr benchmark::IterationCount kCalls = 30'000;

// `relay`: a plain proxy in the gate's place (gate_echo_server's relay modes), forwarding without JSON or policy.
enum Case {
    kStdioDirect,
    kStdioRelay,
    kStdioGate,
    kStdioGateDurable,
    kHttpDirect,
    kHttpRelay,
    kHttpGate,
    kHttpGateDurable,
    kCases
};
constexpr std::array<const char*, kCases> kCaseNames = {
    "BM_ToolCall/stdio/direct", "BM_ToolCall/stdio/relay", "BM_ToolCall/stdio/gate", "BM_ToolCall/stdio/gate_durable",
    "BM_ToolCall/http/direct",  "BM_ToolCall/http/relay",  "BM_ToolCall/http/gate",  "BM_ToolCall/http/gate_durable"};
constexpr bool isStdio(Case c) {
    return c <= kStdioGateDurable;
}

// ---- keys, bundle, configurations ----

using bench::KeyPems;
using bench::newKey;
using bench::writeFile;

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The signed bundle, the publisher's public key and the log key in `dir`; false with `error` set on failure.
bool writeBundle(const std::string& dir, std::string& error) {
    const KeyPems publisher = newKey(), logKey = newKey();
    if (publisher.privatePem.empty() || logKey.privatePem.empty()) {
        error = "could not make Ed25519 keys";
        return false;
    }
    auto checked = gen::check({kPolicy});
    policy::Image image;
    if (!checked->ok() ||
        !codegen::generate(checked->modules, checked->model, checked->sm, {"gate_bench"}, image, error)) {
        if (error.empty()) error = "the policy does not check";
        return false;
    }
    auto bytes = bundle::encode(policy::toSections(image));
    auto signedBytes = bytes ? bundle::sign(*bytes, publisher.privatePem)
                             : bundle::Result<std::vector<std::uint8_t>>(bundle::Error{bytes.error()});
    if (!signedBytes) {
        error = signedBytes.error();
        return false;
    }
    writeFile(dir + "/policy.omb", std::string(signedBytes->begin(), signedBytes->end()));
    writeFile(dir + "/publisher.pub.pem", publisher.publicPem);
    writeFile(dir + "/log.pem", logKey.privatePem);
    return true;
}

// A gate configuration named `name` (its own approval socket and decision log: two gates cannot share a log).
std::string writeConfig(const std::string& dir, const std::string& name, bool durable, const std::string& gate) {
    std::string text = "bundle: policy.omb\ntrusted_keys: [publisher.pub.pem]\nsocket:\n  path: " + dir + "/" + name +
                       ".sock\n  mode: 0600\nlog:\n  path: " + name +
                       ".log\n  key: log.pem\n  durable: " + (durable ? "true" : "false") +
                       "\npeers:\n  - uid: " + std::to_string(::getuid()) +
                       "\n    allow: [decide, approve, status]\ngate:\n" + gate;
    const std::string path = dir + "/" + name + ".yaml";
    writeFile(path, text);
    return path;
}

// ---- child processes ----

struct Child {
    pid_t pid = -1;
    int in = -1;   // its stdin (ours to write), or -1
    int out = -1;  // its stdout (ours to read), or -1
};

// Starts argv with its stdin and stdout on pipes and its stderr appended to `errPath`; pid -1 on failure.
Child spawn(const std::vector<std::string>& argv, const std::string& errPath, std::string& error) {
    Child c;
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) {
        error = std::string("pipe: ") + std::strerror(errno);
        return c;
    }
    if (::pipe2(out, O_CLOEXEC) != 0) {
        error = std::string("pipe: ") + std::strerror(errno);
        ::close(in[0]);
        ::close(in[1]);
        return c;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, errPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    // The benchmark ignores SIGPIPE; its children get the default back, as they would from a shell.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(in[0]);
    ::close(out[1]);
    if (rc != 0) {
        error = "cannot run " + argv[0] + ": " + std::strerror(rc);
        ::close(in[1]);
        ::close(out[0]);
        return c;
    }
    c.pid = pid;
    c.in = in[1];
    c.out = out[0];
    return c;
}

// Ends a child: stdin closed (how a stdio MCP server is told to exit), SIGTERM when `signal` (the HTTP servers), then
// waits for it. Returns its wait status, or -1.
int finish(Child& c, bool signal) {
    if (c.in >= 0) ::close(c.in);
    if (c.out >= 0) ::close(c.out);
    c.in = c.out = -1;
    if (c.pid <= 0) return -1;
    if (signal) ::kill(c.pid, SIGTERM);
    int status = -1;
    while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
    }
    c.pid = -1;
    return status;
}

bool writeAll(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Lines from a pipe, buffered.
class LineReader {
public:
    explicit LineReader(int fd) : fd_(fd) {}
    bool next(std::string& line) {
        for (;;) {
            const auto nl = buffer_.find('\n', scanned_);
            if (nl != std::string::npos) {
                line.assign(buffer_, 0, nl);
                buffer_.erase(0, nl + 1);
                scanned_ = 0;
                return true;
            }
            scanned_ = buffer_.size();
            char chunk[65536];
            const ssize_t n = ::read(fd_, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

private:
    int fd_;
    std::string buffer_;
    std::size_t scanned_ = 0;
};

// CPU time a process has run so far, all its live threads together (Linux schedstat, in ns), or -1. The measured
// wall time of a round trip is this CPU time plus waiting: for wake-ups, and for a core on a busy machine.
double cpuNs(pid_t pid) {
    std::error_code ec;
    double total = 0;
    bool any = false;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::ifstream in(task.path() / "schedstat");
        double ns = 0;
        if (in >> ns) {
            total += ns;
            any = true;
        }
    }
    return any ? total : -1;
}

// ---- the two transports, as the benchmark's client sees them ----

class Endpoint {
public:
    virtual ~Endpoint() = default;
    // One JSON-RPC message out and, when `reply`, its answer back (stdio: the next line; HTTP: the body).
    virtual bool call(const std::string& message, bool reply, std::string& answer, std::string& error) = 0;
    // The process the client talks to: the echo server, or the gate in front of it.
    virtual pid_t peer() const = 0;
};

// An MCP server on the other end of two pipes: gate_echo_server itself, or omega-gate running it.
class StdioEndpoint : public Endpoint {
public:
    StdioEndpoint(Child child, std::string errPath) : child_(child), reader_(child.out), errPath_(std::move(errPath)) {}
    ~StdioEndpoint() override { finish(child_, false); }
    pid_t peer() const override { return child_.pid; }
    bool call(const std::string& message, bool reply, std::string& answer, std::string& error) override {
        if (!writeAll(child_.in, message)) {
            error = "write to the server failed; its stderr: " + readFile(errPath_);
            return false;
        }
        if (reply && !reader_.next(answer)) {
            error = "the server closed its stdout; its stderr: " + readFile(errPath_);
            return false;
        }
        return true;
    }

private:
    Child child_;
    LineReader reader_;
    std::string errPath_;
};

// An MCP Streamable HTTP endpoint, through one keep-alive connection of omega_gate_http's client. Owns the gate
// process in front of it, if any.
class HttpEndpoint : public Endpoint {
public:
    HttpEndpoint(http::Url url, pid_t peer, Child gate, std::string errPath)
        : url_(std::move(url)), peer_(peer), gate_(gate), errPath_(std::move(errPath)) {}
    ~HttpEndpoint() override { finish(gate_, true); }
    pid_t peer() const override { return peer_; }
    bool call(const std::string& message, bool reply, std::string& answer, std::string& error) override {
        http::Headers headers{{"Content-Type", "application/json"},
                              {"Accept", "application/json, text/event-stream"},
                              {"MCP-Protocol-Version", std::string(kProtocol)}};
        if (!session_.empty()) headers.push_back({"Mcp-Session-Id", session_});
        auto r = client_.fetch(url_, "POST", headers, message);
        if (!r) {
            error =
                "POST " + url_.path + ": " + r.error() + (errPath_.empty() ? "" : "; stderr: " + readFile(errPath_));
            return false;
        }
        if (r->head.status / 100 != 2) {
            error = "POST " + url_.path + ": HTTP " + std::to_string(r->head.status) + ": " + r->body;
            return false;
        }
        if (auto s = http::find(r->head.headers, "mcp-session-id")) session_ = std::string(*s);
        if (reply) answer = std::move(r->body);
        return true;
    }

private:
    http::Url url_;
    pid_t peer_;
    http::Client client_;
    Child gate_;
    std::string errPath_;
    std::string session_;
};

std::string toolCall(std::uint64_t id) {
    std::string out = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
                      R"(,"method":"tools/call","params":{"name":"echo","arguments":{"message":")";
    out += kMessage;
    return out + "\"}}}";
}

// The client's side of an MCP session up to its first calls: initialize, initialized, tools/list (through the gate,
// this is where it records the tools' descriptions), then calls, so that connections, caches and the gate's tool
// table are warm. Stdio messages end with a newline; HTTP bodies do not need one.
bool warmUp(Endpoint& e, bool stdio, std::uint64_t& nextId, std::string& error) {
    const std::string nl = stdio ? "\n" : "";
    std::string answer;
    const std::string init = R"({"jsonrpc":"2.0","id":)" + std::to_string(nextId++) +
                             R"(,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},)"
                             R"("clientInfo":{"name":"gate_bench","version":"1.0.0"}}})";
    if (!e.call(init + nl, true, answer, error)) return false;
    if (answer.find("\"protocolVersion\"") == std::string::npos) {
        error = "initialize was answered with " + answer;
        return false;
    }
    if (!e.call(R"({"jsonrpc":"2.0","method":"notifications/initialized"})" + nl, false, answer, error)) return false;
    const std::string list =
        R"({"jsonrpc":"2.0","id":)" + std::to_string(nextId++) + R"(,"method":"tools/list","params":{}})";
    if (!e.call(list + nl, true, answer, error)) return false;
    if (answer.find(R"("name":"echo")") == std::string::npos) {
        error = "tools/list was answered with " + answer;
        return false;
    }
    for (int i = 0; i < kWarmupCalls; ++i) {
        if (!e.call(toolCall(nextId++) + nl, true, answer, error)) return false;
        if (answer.find(kExpected) == std::string::npos) {
            error = "tools/call was answered with " + answer;
            return false;
        }
    }
    return true;
}

// Waits (up to 20 s) for a line starting with `prefix` in a child's stderr file and returns the rest of it.
// A child that exited is reaped here (its pid is then -1).
std::string awaitLine(const std::string& path, std::string_view prefix, Child& c, std::string& error) {
    for (int i = 0; i < 2000; ++i) {
        std::istringstream lines(readFile(path));
        for (std::string line; std::getline(lines, line);)
            if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
        int status = 0;
        if (::waitpid(c.pid, &status, WNOHANG) == c.pid) {
            c.pid = -1;
            error = "it exited before printing `" + std::string(prefix) + "`: " + readFile(path);
            return "";
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    error = "it did not print `" + std::string(prefix) + "` within 20 s: " + readFile(path);
    return "";
}

// ---- the run's shared state: the temporary directory, the HTTP echo server, one endpoint per case ----

struct Stats {
    double p50 = 0, p99 = 0, mean = 0;
    std::size_t samples = 0;
};

struct World {
    std::string dir, error, prepareError;
    bool prepared = false;
    Child echoHttp;
    std::uint16_t echoPort = 0;
    std::array<std::unique_ptr<Endpoint>, kCases> endpoints;
    std::array<std::uint64_t, kCases> nextId{};
    std::array<std::optional<Stats>, kCases> results;

    // The directory with the bundle and keys, made once; a failure is final.
    bool prepare() {
        if (!prepared) {
            prepared = true;
            char pattern[] = "/tmp/gate-bench.XXXXXX";
            if (::mkdtemp(pattern) == nullptr) {
                prepareError = std::string("mkdtemp: ") + std::strerror(errno);
            } else {
                dir = pattern;
                if (!writeBundle(dir, prepareError) && prepareError.empty()) prepareError = "no bundle";
            }
        }
        error = prepareError;
        return prepareError.empty();
    }

    bool startEchoHttp() {
        if (echoHttp.pid > 0 || echoPort != 0) {
            if (echoPort == 0) error = "gate_echo_server http 0 did not start";
            return echoPort != 0;
        }
        echoHttp = spawn({OMEGA_GATE_ECHO_SERVER, "http", "0"}, dir + "/echo-http.err", error);
        if (echoHttp.pid < 0) return false;
        echoPort = readPort(echoHttp, dir + "/echo-http.err");
        return echoPort != 0;
    }

    // The `port N` line a gate_echo_server HTTP mode prints once it listens; 0 with `error` set when none came.
    std::uint16_t readPort(const Child& child, const std::string& errPath) {
        LineReader reader(child.out);
        std::string line;
        const unsigned long port =
            reader.next(line) && line.rfind("port ", 0) == 0 ? std::strtoul(line.c_str() + 5, nullptr, 10) : 0;
        if (port == 0 || port > 65535) {
            error = "gate_echo_server printed no port: " + readFile(errPath);
            return 0;
        }
        return static_cast<std::uint16_t>(port);
    }

    std::unique_ptr<Endpoint> make(Case c) {
        const bool durable = c == kStdioGateDurable || c == kHttpGateDurable;
        if (isStdio(c)) {
            std::vector<std::string> argv{OMEGA_GATE_ECHO_SERVER, "stdio"};
            std::string name = "echo-stdio";
            if (c == kStdioRelay) {
                name = "relay-stdio";
                argv.insert(argv.begin(), {OMEGA_GATE_ECHO_SERVER, "relay", "--"});
            } else if (c != kStdioDirect) {
                name = durable ? "stdio-durable" : "stdio";
                const std::string config = writeConfig(dir, name, durable, "  server: echo\n  agent: bench\n");
                argv.insert(argv.begin(), {OMEGA_GATE_BINARY, "--config", config, "--"});
            }
            const std::string errPath = dir + "/" + name + ".err";
            Child child = spawn(argv, errPath, error);
            if (child.pid < 0) return nullptr;
            return std::make_unique<StdioEndpoint>(child, errPath);
        }
        if (!startEchoHttp()) return nullptr;
        const std::string echoUrl = "http://127.0.0.1:" + std::to_string(echoPort) + "/mcp";
        if (c == kHttpDirect) {
            auto url = http::Url::parse(echoUrl);
            if (!url) {
                error = url.error();
                return nullptr;
            }
            return std::make_unique<HttpEndpoint>(*url, echoHttp.pid, Child{}, "");
        }
        if (c == kHttpRelay) {
            const std::string errPath = dir + "/relay-http.err";
            Child relay = spawn({OMEGA_GATE_ECHO_SERVER, "relay-http", "0", echoUrl}, errPath, error);
            if (relay.pid < 0) return nullptr;
            const std::uint16_t port = readPort(relay, errPath);
            auto url = http::Url::parse("http://127.0.0.1:" + std::to_string(port) + "/mcp");
            if (port == 0 || !url) {
                finish(relay, true);
                return nullptr;
            }
            return std::make_unique<HttpEndpoint>(*url, relay.pid, relay, errPath);
        }
        const std::string name = durable ? "http-durable" : "http";
        const std::string config = writeConfig(
            dir, name, durable,
            "  listen: 127.0.0.1:0\n  agent: bench\n  servers:\n    - name: echo\n      upstream: " + echoUrl + "\n");
        const std::string errPath = dir + "/" + name + ".err";
        Child gate = spawn({OMEGA_GATE_BINARY, "--config", config}, errPath, error);
        if (gate.pid < 0) return nullptr;
        const std::string address = awaitLine(errPath, "omega-gate: listening on ", gate, error);
        auto url = http::Url::parse("http://" + address + "/mcp/echo");
        if (address.empty() || !url) {
            if (error.empty()) error = "bad gate address `" + address + "`";
            finish(gate, true);
            return nullptr;
        }
        return std::make_unique<HttpEndpoint>(*url, gate.pid, gate, errPath);
    }

    // The case's endpoint, started and warmed up on first use; null with `error` set when it could not be.
    Endpoint* endpoint(Case c) {
        if (endpoints[c]) return endpoints[c].get();
        if (!prepare()) return nullptr;
        auto e = make(c);
        if (!e) return nullptr;
        nextId[c] = 1;
        const bool stdio = isStdio(c);
        if (!warmUp(*e, stdio, nextId[c], error)) {
            error = std::string(kCaseNames[c]) + ": warm-up failed: " + error;
            return nullptr;
        }
        endpoints[c] = std::move(e);
        return endpoints[c].get();
    }

    // Gates first (each closes its decision log), then the echo server they forward to, then the files, unless
    // OMEGA_BENCH_KEEP is set (the configurations, decision logs and the gates' stderr, for a look afterwards).
    void close() {
        for (auto& e : endpoints) e.reset();
        finish(echoHttp, true);
        std::error_code ec;
        if (std::getenv("OMEGA_BENCH_KEEP"))
            std::fprintf(stderr, "kept %s\n", dir.c_str());
        else if (!dir.empty())
            std::filesystem::remove_all(dir, ec);
        dir.clear();
    }
};

World world;

Stats summarize(std::vector<double>& us) {
    Stats s;
    if (us.empty()) return s;
    std::sort(us.begin(), us.end());
    auto at = [&](double p) { return us[static_cast<std::size_t>(p * static_cast<double>(us.size() - 1))]; };
    s.p50 = at(0.5);
    s.p99 = at(0.99);
    s.mean = std::accumulate(us.begin(), us.end(), 0.0) / static_cast<double>(us.size());
    s.samples = us.size();
    return s;
}

// One iteration: one tools/call written and its whole answer read, timed alone (building the request and checking
// the answer are outside the sample). `peer_cpu_us`: the CPU time per call of the process the client talks to (the
// echo server, or the gate alone: not the server behind it).
void toolCallBench(benchmark::State& state, Case c) {
    Endpoint* e = world.endpoint(c);
    if (!e) {
        state.SkipWithError(world.error.c_str());
        return;
    }
    const bool stdio = isStdio(c);
    std::vector<double> us;
    us.reserve(1 << 16);
    std::string request, answer, error;
    const double cpuBefore = cpuNs(e->peer());
    for (auto _ : state) {
        request = toolCall(world.nextId[c]++);
        if (stdio) request += '\n';
        const auto t0 = Clock::now();
        const bool ok = e->call(request, true, answer, error);
        const auto t1 = Clock::now();
        const std::chrono::duration<double> seconds = t1 - t0;
        state.SetIterationTime(seconds.count());
        us.push_back(seconds.count() * 1e6);
        if (!ok || answer.find(kExpected) == std::string::npos) {
            world.error = ok ? "tools/call was answered with " + answer : error;
            state.SkipWithError(world.error.c_str());
            break;
        }
    }
    const double cpuAfter = cpuNs(e->peer());
    if (cpuBefore >= 0 && cpuAfter >= 0 && !us.empty())
        state.counters["peer_cpu_us"] = (cpuAfter - cpuBefore) / 1e3 / static_cast<double>(us.size());
    const Stats s = summarize(us);
    state.counters["p50_us"] = s.p50;
    state.counters["p99_us"] = s.p99;
    state.counters["mean_us"] = s.mean;
    state.counters["samples"] = static_cast<double>(s.samples);
    world.results[c] = s;  // the last run of a case is its longest: the one the table reports
}

// gate - direct for each transport and log mode, and what a plain relay adds and what the gate adds beyond one,
// from this run's results.
void printAdded() {
    // On stderr, so that --benchmark_format=json on stdout stays one JSON document.
    std::fprintf(stderr, "\nadded latency, microseconds:\n%-40s %10s %10s %10s\n", "", "p50", "p99", "mean");
    const struct {
        const char* name;
        Case base, with;
    } rows[] = {{"stdio, gate - direct", kStdioDirect, kStdioGate},
                {"stdio, gate (durable log) - direct", kStdioDirect, kStdioGateDurable},
                {"stdio, plain relay - direct", kStdioDirect, kStdioRelay},
                {"stdio, gate - plain relay", kStdioRelay, kStdioGate},
                {"http, gate - direct", kHttpDirect, kHttpGate},
                {"http, gate (durable log) - direct", kHttpDirect, kHttpGateDurable},
                {"http, plain relay - direct", kHttpDirect, kHttpRelay},
                {"http, gate - plain relay", kHttpRelay, kHttpGate}};
    for (const auto& r : rows) {
        if (!world.results[r.base] || !world.results[r.with]) continue;
        const Stats &b = *world.results[r.base], &w = *world.results[r.with];
        std::fprintf(stderr, "%-40s %10.1f %10.1f %10.1f\n", r.name, w.p50 - b.p50, w.p99 - b.p99, w.mean - b.mean);
    }
}

}  // namespace

int main(int argc, char** argv) {
    ::signal(SIGPIPE, SIG_IGN);
    for (int c = 0; c < kCases; ++c)
        benchmark::RegisterBenchmark(kCaseNames[c], toolCallBench, static_cast<Case>(c))
            ->UseManualTime()
            ->Iterations(kCalls)
            ->Unit(benchmark::kMicrosecond);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    world.close();
    printAdded();
    return 0;
}
