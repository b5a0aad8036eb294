// Decision latency of the compiled policy in process (docs/performance.md): generated policies of 10 to 10,000
// rules, requests drawn by the test generator (every action, hitting the policy's targets and literals), decided
// (a) pre-interned: the verified bytecode plus the combiner, (b) from JSON: the runtime's decoder, the interner and
// (a). Besides Google Benchmark's mean, each latency benchmark samples single decisions with the TSC and reports
// their median and 99th percentile. Also: compile time (parse, check, code generation, verification) and bundle
// size.
#include "GeneratePolicy.h"
#include "Tsc.h"
#include "omega/bundle/Bundle.h"
#include "omega/codegen/CodeGen.h"
#include "omega/eval/Json.h"
#include "omega/eval/Runtime.h"
#include "omega/gen/Generate.h"
#include "omega/parse/Parser.h"
#include "omega/policy/Json.h"
#include "omega/policy/Serialize.h"
#include "omega/sema/Sema.h"

#include <benchmark/benchmark.h>
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

using namespace omega;

namespace {

struct Fixture {
    std::unique_ptr<gen::Checked> checked;
    std::unique_ptr<policy::Engine> engine;
    std::vector<std::string> json;           // requests as JSON
    std::vector<policy::Interned> interned;  // the same, interned
    std::size_t bundleBytes = 0;
    std::string error;
};

std::string policyText(int rules, bool scaled) {
    return scaled ? bench::scaledPolicy(rules) : bench::generatePolicy(rules);
}

// Compiled once per (rules, shape) and shared by the benchmarks.
const Fixture& fixture(int rules, bool scaled) {
    static std::map<std::pair<int, bool>, std::unique_ptr<Fixture>> cache;
    auto& f = cache[{rules, scaled}];
    if (f) return *f;
    f = std::make_unique<Fixture>();
    f->checked = gen::check({policyText(rules, scaled)});
    if (!f->checked->ok()) {
        f->error = "the generated policy does not check";
        return *f;
    }
    policy::Image image;
    if (!codegen::generate(f->checked->modules, f->checked->model, f->checked->sm, {"bench"}, image, f->error))
        return *f;
    auto bytes = bundle::encode(policy::toSections(image));
    f->bundleBytes = bytes ? bytes->size() : 0;
    auto engine = policy::Engine::make(std::move(image));
    if (!engine) {
        f->error = engine.error();
        return *f;
    }
    f->engine = std::make_unique<policy::Engine>(std::move(engine).value());
    gen::RequestShape shape;
    shape.counts = 0;  // counters are not part of the decision path being measured
    gen::RequestGenerator requests(f->checked->model, f->checked->modules, shape);
    for (std::uint64_t i = 0; f->json.size() < 1024 && i < 100000; ++i) {
        std::string text = requests(gen::mix(static_cast<std::uint64_t>(rules), i));
        policy::Request request;
        std::string why;
        policy::Interned in;
        if (!policy::decodeRequest(text, f->engine->image(), request, why) || !f->engine->intern(request, in, why))
            continue;
        f->json.push_back(std::move(text));
        f->interned.push_back(std::move(in));
    }
    if (f->json.empty()) f->error = "no request decodes";
    return *f;
}

// Median and 99th percentile of single calls of `fn(i)` over `samples` calls, less the cost of the timing itself.
template <typename Fn>
void latency(benchmark::State& state, std::size_t samples, Fn fn) {
    std::vector<std::uint64_t> ticks(samples), empty(samples);
    for (std::size_t i = 0; i < samples; ++i) {
        _mm_lfence();
        std::uint64_t a = __rdtsc();
        _mm_lfence();
        std::uint64_t b = __rdtsc();
        empty[i] = b - a;
    }
    for (std::size_t i = 0; i < samples; ++i) {
        _mm_lfence();
        std::uint64_t a = __rdtsc();
        _mm_lfence();
        fn(i);
        _mm_lfence();
        std::uint64_t b = __rdtsc();
        ticks[i] = b - a;
    }
    std::sort(ticks.begin(), ticks.end());
    std::sort(empty.begin(), empty.end());
    const double overhead = static_cast<double>(empty[samples / 2]);
    auto at = [&](double q) {
        double t = static_cast<double>(ticks[static_cast<std::size_t>(q * static_cast<double>(samples - 1))]);
        return std::max(0.0, t - overhead) * bench::nsPerTick();
    };
    state.counters["median_ns"] = at(0.5);
    state.counters["p99_ns"] = at(0.99);
    state.counters["max_ns"] = at(1.0);
}

// `distinct` requests cycle (all 1,024 drawn, or a few that stay in cache: the gap between the two is what the
// memory hierarchy costs a large program).
void decidePreinterned(benchmark::State& state, bool scaled, std::size_t distinct) {
    const Fixture& f = fixture(static_cast<int>(state.range(0)), scaled);
    if (!f.error.empty()) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    const std::size_t n = std::min(distinct, f.interned.size());
    policy::Scratch scratch;
    policy::Decision d;
    std::size_t i = 0, allowed = 0;
    for (auto _ : state) {
        f.engine->decide(f.interned[i++ % n], scratch, d);
        allowed += d.allow;
        benchmark::DoNotOptimize(d);
    }
    latency(state, 200000, [&](std::size_t k) {
        f.engine->decide(f.interned[k % n], scratch, d);
        benchmark::DoNotOptimize(d);
    });
    state.counters["rules"] = static_cast<double>(state.range(0));
    state.counters["allowed_pct"] = 100.0 * static_cast<double>(allowed) / static_cast<double>(state.iterations());
    state.counters["worst_insns"] = static_cast<double>(f.engine->image().bound.instructions);
    state.counters["code_slots"] = static_cast<double>(f.engine->image().code.size());
}

void BM_DecidePreinterned(benchmark::State& state, bool scaled) {
    decidePreinterned(state, scaled, SIZE_MAX);
}
void BM_DecideHot(benchmark::State& state, bool scaled) {
    decidePreinterned(state, scaled, 8);
}

void BM_DecideFromJson(benchmark::State& state, bool scaled) {
    const Fixture& f = fixture(static_cast<int>(state.range(0)), scaled);
    if (!f.error.empty()) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    policy::Request request;
    policy::Interned interned;
    policy::Scratch scratch;
    policy::Decision d;
    std::string error;
    auto decide = [&](std::size_t k) {
        const std::string& text = f.json[k % f.json.size()];
        if (!policy::decodeRequest(text, f.engine->image(), request, error) ||
            !f.engine->intern(request, interned, error))
            return;
        f.engine->decide(interned, scratch, d);
        benchmark::DoNotOptimize(d);
    };
    std::size_t i = 0, bytes = 0;
    for (auto _ : state) {
        bytes += f.json[i % f.json.size()].size();
        decide(i++);
    }
    latency(state, 50000, decide);
    state.counters["rules"] = static_cast<double>(state.range(0));
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

// Parse, check, generate and verify: what `omegac compile` does before it writes the bundle.
void BM_Compile(benchmark::State& state) {
    const int rules = static_cast<int>(state.range(0));
    const std::string text = bench::generatePolicy(rules);
    double codegenSeconds = 0;
    std::size_t slots = 0;
    for (auto _ : state) {
        auto checked = gen::check({text});
        if (!checked->ok()) {
            state.SkipWithError("the generated policy does not check");
            return;
        }
        policy::Image image;
        std::string error;
        auto t0 = std::chrono::steady_clock::now();
        if (!codegen::generate(checked->modules, checked->model, checked->sm, {"bench"}, image, error)) {
            state.SkipWithError(error.c_str());
            return;
        }
        codegenSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        slots = image.code.size();
        benchmark::DoNotOptimize(image);
    }
    state.counters["rules"] = rules;
    state.counters["codegen_ms"] = 1000 * codegenSeconds / static_cast<double>(state.iterations());
    state.counters["code_slots"] = static_cast<double>(slots);
    state.counters["bundle_bytes"] = static_cast<double>(fixture(rules, false).bundleBytes);
}

}  // namespace

BENCHMARK_CAPTURE(BM_DecidePreinterned, fixed_decls, false)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK_CAPTURE(BM_DecidePreinterned, scaled_decls, true)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK_CAPTURE(BM_DecideHot, scaled_decls, true)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK_CAPTURE(BM_DecideFromJson, fixed_decls, false)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK_CAPTURE(BM_DecideFromJson, scaled_decls, true)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_Compile)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
