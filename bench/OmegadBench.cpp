// Socket round trips through omegad (docs/performance.md, "omegad (issue 5)"): a small decide request over the Unix
// socket to an in-process server and its reply, for 1 and 16 concurrent clients, with the decision log off, not
// durable, and durable (fdatasync, group commit); medians and p99s of every round trip. Also the request handled in
// process (no socket) and a bare socketpair echo, the floor a round trip on the machine cannot go below.
#include "omega/bundle/Signing.h"
#include "omega/codegen/CodeGen.h"
#include "omega/gen/Generate.h"
#include "omega/omegad/Client.h"
#include "omega/omegad/Server.h"
#include "omega/policy/Serialize.h"

#include "BenchKeys.h"

#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

using namespace omega;

namespace {

using Clock = std::chrono::steady_clock;

const char* kPolicy = R"(policy bench version 1 by principal "tenant:bench";
label Public < Secret;
agent helper { role "assistant"; }
tool docs.search(query: string) returns Public;
tool crm.lookup(customer: string) returns Secret;
permit tool docs.search by agent helper;
forbid tool docs.search when session.taint >= Secret;
permit tool crm.lookup by agent helper;
)";

const char* kRequest = R"({"action":"tool","target":"docs.search","agent":"helper","args":{"query":"opening hours"},)"
                       R"("session":{"id":"bench"}})";

enum LogMode { kNoLog = 0, kNotDurable = 1, kDurable = 2 };

using bench::KeyPems;
using bench::newKey;
using bench::writeFile;

// One server per log mode, started on first use and kept for the run.
struct Served {
    std::string dir, socket, error;
    std::unique_ptr<omegad::Server> server;
    ~Served() {
        server.reset();
        std::error_code ec;
        if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
};

std::mutex servedMutex;
std::map<int, std::unique_ptr<Served>> servedCache;

Served& served(LogMode mode) {
    std::lock_guard lock(servedMutex);
    auto& cache = servedCache;
    auto& s = cache[mode];
    if (s) return *s;
    s = std::make_unique<Served>();
    char pattern[] = "/tmp/omegad-bench.XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
        s->error = "mkdtemp failed";
        return *s;
    }
    s->dir = pattern;
    const KeyPems publisher = newKey(), logKey = newKey();
    auto checked = gen::check({kPolicy});
    policy::Image image;
    if (!checked->ok() ||
        !codegen::generate(checked->modules, checked->model, checked->sm, {"bench"}, image, s->error)) {
        if (s->error.empty()) s->error = "the policy does not check";
        return *s;
    }
    auto bytes = bundle::encode(policy::toSections(image));
    auto signedBytes = bytes ? bundle::sign(*bytes, publisher.privatePem)
                             : bundle::Result<std::vector<std::uint8_t>>(bundle::Error{bytes.error()});
    if (!signedBytes) {
        s->error = signedBytes.error();
        return *s;
    }
    writeFile(s->dir + "/policy.omb", std::string(signedBytes->begin(), signedBytes->end()));
    writeFile(s->dir + "/publisher.pub.pem", publisher.publicPem);
    writeFile(s->dir + "/log.pem", logKey.privatePem);

    omegad::Config c;
    c.bundle = s->dir + "/policy.omb";
    c.trustedKeys = {s->dir + "/publisher.pub.pem"};
    c.socketPath = s->socket = s->dir + "/s.sock";
    c.socketMode = 0600;
    if (mode != kNoLog) {
        omegad::LogConfig& l = c.log.emplace();
        l.path = s->dir + "/decisions.log";
        l.key = s->dir + "/log.pem";
        l.durable = mode == kDurable;
        l.rotateBytes = 256ull << 20;
    }
    c.serve.maxConnections = 64;
    omegad::Peer me;
    me.uid = ::getuid();
    me.operations = omegad::kDecide | omegad::kStatus;
    c.peers = {me};
    auto server = omegad::Server::start(std::move(c));
    if (!server) {
        s->error = server.error();
        return *s;
    }
    s->server = std::move(*server);
    return *s;
}

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

// Args: clients (1 or 16), log mode. The measured thread decides one request per iteration; the other clients
// decide on their own threads without pause for as long as it runs, so every round trip competes with 15 others.
void BM_RoundTrip(benchmark::State& state) {
    const int clients = static_cast<int>(state.range(0));
    Served& s = served(static_cast<LogMode>(state.range(1)));
    if (!s.server) {
        state.SkipWithError(s.error.c_str());
        return;
    }
    std::atomic<bool> stop{false};
    std::atomic<bool> failed{false};
    std::mutex samplesMutex;
    std::vector<double> samples;  // microseconds, of every client
    std::vector<std::thread> others;
    for (int i = 1; i < clients; ++i) {
        others.emplace_back([&] {
            auto c = omegad::Client::connect(s.socket);
            std::vector<double> mine;
            while (c && !stop.load(std::memory_order_relaxed)) {
                const auto t0 = Clock::now();
                auto r = c->call(omegad::Type::Decide, kRequest);
                mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
                if (!r || r->isError()) {
                    failed = true;
                    break;
                }
            }
            std::lock_guard lock(samplesMutex);
            samples.insert(samples.end(), mine.begin(), mine.end());
        });
    }
    auto c = omegad::Client::connect(s.socket);
    if (!c) {
        stop = true;
        for (auto& t : others) t.join();
        state.SkipWithError(c.error().c_str());
        return;
    }
    std::vector<double> mine;
    mine.reserve(1 << 16);
    const auto start = Clock::now();
    for (auto _ : state) {
        const auto t0 = Clock::now();
        auto r = c->call(omegad::Type::Decide, kRequest);
        mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        if (!r || r->isError() || r->body.find("\"decision\":\"allow\"") == std::string::npos) {
            failed = true;
            break;
        }
        benchmark::DoNotOptimize(r);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    stop = true;
    for (auto& t : others) t.join();
    if (failed) {
        state.SkipWithError("a round trip failed or was not an allow");
        return;
    }
    samples.insert(samples.end(), mine.begin(), mine.end());
    state.counters["median_us"] = percentile(samples, 0.5);
    state.counters["p99_us"] = percentile(samples, 0.99);
    state.counters["decisions_per_s"] = static_cast<double>(samples.size()) / seconds;
}

// What omegad adds beyond the socket: one decide request handled in process (protocol checks, the monitor's JSON
// decode and decision, the reply's JSON and frame), no socket, log off.
void BM_HandleInProcess(benchmark::State& state) {
    Served& s = served(kNoLog);
    if (!s.server) {
        state.SkipWithError(s.error.c_str());
        return;
    }
    omegad::Peer peer;
    peer.uid = 0;
    peer.operations = omegad::kDecide;
    const omegad::Credentials cred{};
    for (auto _ : state) {
        std::string reply = s.server->handle(static_cast<std::uint8_t>(omegad::Type::Decide), kRequest, peer, cred);
        benchmark::DoNotOptimize(reply);
    }
}

// The floor on this machine: the same sizes echoed by a thread over a socketpair, with no work at all. A round trip
// through omegad cannot be faster than two thread wake-ups.
void BM_SocketBaseline(benchmark::State& state) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        state.SkipWithError("socketpair failed");
        return;
    }
    std::thread echo([fd = sv[1]] {
        char buffer[4096];
        for (;;) {
            const ssize_t n = ::read(fd, buffer, sizeof buffer);
            if (n <= 0 || ::write(fd, buffer, static_cast<std::size_t>(n)) != n) break;
        }
    });
    std::string request(std::strlen(kRequest) + 5, 'x');
    char buffer[4096];
    std::vector<double> samples;
    for (auto _ : state) {
        const auto t0 = Clock::now();
        if (::write(sv[0], request.data(), request.size()) != static_cast<ssize_t>(request.size()) ||
            ::read(sv[0], buffer, sizeof buffer) <= 0) {
            state.SkipWithError("echo failed");
            break;
        }
        samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    ::close(sv[0]);
    echo.join();
    ::close(sv[1]);
    state.counters["median_us"] = percentile(samples, 0.5);
    state.counters["p99_us"] = percentile(samples, 0.99);
}

}  // namespace

BENCHMARK(BM_HandleInProcess)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SocketBaseline)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RoundTrip)
    ->ArgNames({"clients", "log"})
    ->Args({1, kNoLog})
    ->Args({1, kNotDurable})
    ->Args({1, kDurable})
    ->Args({16, kNoLog})
    ->Args({16, kNotDurable})
    ->Args({16, kDurable})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// The servers stop (closing their logs, which signs a checkpoint) before main returns: at exit, OpenSSL may already
// have cleaned up.
int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    std::lock_guard lock(servedMutex);
    servedCache.clear();
    return 0;
}
