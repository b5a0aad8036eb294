// Interpreter benchmarks: verified programs of N rule-shaped blocks (load a context field, compare, compute a
// three-valued value, report it through the `match` helper), run over one context. Until the code generator
// exists, this measures the interpreter's cost per rule block and per instruction on code shaped like its output.
#include "omega/isa/Isa.h"
#include "omega/schema/Schema.h"
#include "omega/vm/Interpreter.h"
#include "omega/vm/Verifier.h"

#include <benchmark/benchmark.h>

#include <vector>

using omega::isa::Insn;

namespace {

std::vector<Insn> rules(int n) {
    std::vector<Insn> code;
    code.push_back({0xbf, 9, 1, 0, 0});  // r9 = r1: keep the context pointer across calls
    for (int i = 0; i < n; ++i) {
        const auto slot = static_cast<std::int16_t>(8 * (omega::schema::kHeaderWords + i % 40));
        code.push_back({0x79, 6, 9, slot, 0});   // r6 = *(u64 *)(r9 + slot)
        code.push_back({0xb7, 7, 0, 0, 2});      // r7 = 2 (true)
        code.push_back({0x15, 6, 0, 1, i % 5});  // if r6 == i % 5 goto +1
        code.push_back({0xb7, 7, 0, 0, 0});      // r7 = 0 (false)
        code.push_back({0xb7, 1, 0, 0, i});      // r1 = rule index
        code.push_back({0xbf, 2, 7, 0, 0});      // r2 = r7
        code.push_back({0x85, 0, 0, 0, 1});      // call match
    }
    code.push_back({0xb7, 0, 0, 0, 0});
    code.push_back({0x95, 0, 0, 0, 0});
    return code;
}

struct Matches {
    std::uint64_t count = 0;
};

std::uint64_t match(void* self, std::uint64_t, std::uint64_t value, std::uint64_t, std::uint64_t, std::uint64_t) {
    static_cast<Matches*>(self)->count += value == 2;
    return 0;
}

void BM_InterpretRules(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    auto code = rules(n);
    omega::vm::Limits limits;
    limits.contextWords = omega::schema::contextWords();
    limits.rules = static_cast<std::uint32_t>(n);
    limits.maxCost = 1u << 30;
    auto verified = omega::vm::verify(code, limits);
    if (!verified) {
        state.SkipWithError(verified.error().text().c_str());
        return;
    }
    std::vector<std::uint64_t> context(limits.contextWords, 2);
    Matches matches;
    omega::vm::Env env;
    env.helpers[1] = match;
    env.self = &matches;
    const auto fuel = verified.value().bound().cost;
    std::uint64_t steps = 0;
    for (auto _ : state) {
        auto outcome = omega::vm::run(verified.value(), context, env, fuel);
        if (!outcome.ok) state.SkipWithError(outcome.error);
        steps = outcome.steps;
        benchmark::DoNotOptimize(outcome);
    }
    state.counters["rules"] = n;
    state.counters["insns"] = static_cast<double>(steps);
    state.counters["ns_per_insn"] =
        benchmark::Counter(static_cast<double>(steps) * static_cast<double>(state.iterations()),
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_InterpretRules)->Arg(10)->Arg(100)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
