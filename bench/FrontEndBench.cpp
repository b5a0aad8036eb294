// Front-end benchmarks: parse, and parse plus check, of generated policies of growing size.
#include "GeneratePolicy.h"
#include "omega/parse/Parser.h"
#include "omega/sema/Sema.h"

#include <benchmark/benchmark.h>

using namespace omega;

static void BM_Parse(benchmark::State& state) {
    std::string text = bench::generatePolicy(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        source::SourceManager sm;
        source::DiagnosticEngine diags;
        auto m = parse::parseModule(sm, sm.add("gen.omega", text), diags);
        if (!m) state.SkipWithError("generated policy failed to parse");
        benchmark::DoNotOptimize(m);
    }
    state.counters["rules"] = static_cast<double>(state.range(0));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Parse)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

static void BM_ParseAndCheck(benchmark::State& state) {
    std::string text = bench::generatePolicy(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        source::SourceManager sm;
        source::DiagnosticEngine diags;
        auto m = parse::parseModule(sm, sm.add("gen.omega", text), diags);
        if (!m) {
            state.SkipWithError("generated policy failed to parse");
            break;
        }
        std::vector<ast::Module> modules;
        modules.push_back(std::move(*m));
        auto model = sema::check(modules, {true}, diags);
        if (diags.hasErrors()) state.SkipWithError("generated policy has errors");
        benchmark::DoNotOptimize(model);
    }
    state.counters["rules"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_ParseAndCheck)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
