// The whole analysis of `omegac lint` (analysis::analyze, docs/performance.md) on generated policies of 100 to 10,000
// rules with scaled declarations (bench/GeneratePolicy.h), on one thread and on two: wall time, the findings by code,
// the unknowns, and the process's peak resident memory. Parsing and checking are not timed (frontend_bench is).
#include "GeneratePolicy.h"
#include "omega/analysis/Analysis.h"
#include "omega/eval/Evaluator.h"
#include "omega/gen/Generate.h"

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <map>
#include <string>

using namespace omega;

namespace {

// Peak resident memory of the process so far, in MiB (the maximum over every benchmark run before): run one size
// per process (--benchmark_filter) to read it for that size alone.
double peakRssMiB() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// Arguments: rules, jobs.
void BM_Lint(benchmark::State& state) {
    const int rules = static_cast<int>(state.range(0));
    auto checked = gen::check({bench::scaledPolicy(rules)});
    if (!checked->ok()) {
        state.SkipWithError("the generated policy does not check");
        return;
    }
    const eval::Evaluator ev(checked->modules, checked->model);
    analysis::Options options;
    options.jobs = static_cast<unsigned>(state.range(1));
    std::vector<analysis::Finding> findings;
    for (auto _ : state) {
        findings = analysis::analyze(ev, options);
        benchmark::DoNotOptimize(findings.data());
    }
    std::map<std::string, double> byCode;
    double unknown = 0;
    for (const analysis::Finding& f : findings) {
        if (f.unknown)
            ++unknown;
        else
            ++byCode[f.code];
    }
    for (const auto& [code, n] : byCode) state.counters[code] = n;
    state.counters["rules"] = rules;
    state.counters["findings"] = static_cast<double>(findings.size()) - unknown;
    state.counters["unknown"] = unknown;
    state.counters["peak_rss_MiB"] = peakRssMiB();
}

}  // namespace

BENCHMARK(BM_Lint)
    ->ArgNames({"rules", "jobs"})
    ->Args({100, 1})
    ->Args({100, 2})
    ->Args({1000, 1})
    ->Args({1000, 2})
    ->Args({10000, 1})
    ->Args({10000, 2})
    ->UseRealTime()
    ->Unit(benchmark::kSecond);

BENCHMARK_MAIN();
