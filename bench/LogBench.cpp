// Decision log throughput: records appended per second through Writer::append() by 1 to 32 concurrent appenders,
// durable (each append returns after the fdatasync that covers it; appenders share syncs by group commit) and not
// durable (returns once written to the OS). The log lives in $OMEGA_LOG_BENCH_DIR, else $TMPDIR, else /tmp: put it
// on the disk you want to measure.
#include "omega/bundle/Signing.h"
#include "omega/log/Log.h"

#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

namespace {

using namespace omega;

bundle::PrivateKey freshKey() {
    EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    BIO* bio = BIO_new(BIO_s_mem());
    if (raw == nullptr || bio == nullptr ||
        PEM_write_bio_PrivateKey(bio, raw, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        std::abort();
    }
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    auto key = bundle::loadPrivateKey(std::string_view(data, static_cast<std::size_t>(length)));
    BIO_free(bio);
    EVP_PKEY_free(raw);
    if (!key) std::abort();
    return *key;
}

std::string benchDir() {
    for (const char* var : {"OMEGA_LOG_BENCH_DIR", "TMPDIR"})
        if (const char* dir = std::getenv(var)) return dir;
    return "/tmp";
}

// A decision record shaped like the monitor's: a redacted request of about 200 bytes and a short decision.
log::Entry sampleEntry(std::uint64_t i) {
    log::Entry e;
    e.request = R"({"action":"tool.call","agent":"agent-)" + std::to_string(i % 50) +
                R"(","tool":"search","args":{"query":"[redacted]","limit":10},"session":"s-)" +
                std::to_string(i % 1000) + R"(","purpose":"support","region":"eu-west"})";
    e.decision = R"({"decision":"allow","rules":["support.may-search"],"obligations":[{"audit":true}]})";
    e.measurement.fill(0x42);
    return e;
}

// Shared by the benchmark's threads: made by thread 0 before the timed loop, closed by it after.
struct Shared {
    std::string dir;
    std::unique_ptr<log::Writer> writer;
};
Shared* shared = nullptr;

void BM_Append(benchmark::State& state, bool durable) {
    if (state.thread_index() == 0) {
        shared = new Shared;
        shared->dir = benchDir() + "/omega-log-bench-" + std::to_string(::getpid());
        std::filesystem::remove_all(shared->dir);
        std::filesystem::create_directories(shared->dir);
        log::WriterOptions options;
        options.path = shared->dir + "/decisions.log";
        options.durable = durable;
        options.key = freshKey();
        auto writer = log::Writer::open(options);
        if (!writer) {
            state.SkipWithError(writer.error().c_str());
            return;
        }
        shared->writer = std::move(writer).value();
    }
    const log::Entry entry = sampleEntry(static_cast<std::uint64_t>(state.thread_index()));
    for (auto _ : state) {
        auto seq = shared->writer->append(entry);
        if (!seq) state.SkipWithError(seq.error().c_str());
    }
    state.SetItemsProcessed(state.iterations());
    if (state.thread_index() == 0) {
        const log::WriterStats stats = shared->writer->stats();
        state.counters["records_per_sync"] =
            stats.syncs ? static_cast<double>(stats.entries) / static_cast<double>(stats.syncs) : 0.0;
        state.counters["checkpoints"] = static_cast<double>(stats.checkpoints);
        shared->writer.reset();
        std::filesystem::remove_all(shared->dir);
        delete shared;
        shared = nullptr;
    }
}

void BM_AppendDurable(benchmark::State& state) {
    BM_Append(state, true);
}
void BM_AppendNotDurable(benchmark::State& state) {
    BM_Append(state, false);
}

BENCHMARK(BM_AppendDurable)->Threads(1)->Threads(2)->Threads(8)->Threads(32)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_AppendNotDurable)->Threads(1)->Threads(2)->Threads(8)->UseRealTime()->MinTime(1.0);

}  // namespace

BENCHMARK_MAIN();
