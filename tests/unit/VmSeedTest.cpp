// The vm fuzzer's seeds (tests/fuzz/seeds/vm) are valid programs: each verifies under the fuzzer's limits and runs
// to its exit, so the fuzzer starts from code that reaches the interpreter.
#include "omega/vm/Interpreter.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

using namespace omega;
using namespace omega::vm;

namespace {

std::uint64_t zero(void*, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t) {
    return 0;
}

}  // namespace

TEST(VmSeeds, EverySeedVerifiesAndRuns) {
    Limits limits;  // as in tests/fuzz/VmFuzzer.cpp
    limits.contextWords = 16;
    limits.rules = 8;
    limits.matchers = 4;
    limits.maxCost = 1 << 20;
    Env env;
    for (std::size_t id = 1; id < kHelperSlots; ++id) env.helpers[id] = &zero;
    const std::vector<std::uint64_t> context(16, 1);

    int seeds = 0;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::string(OMEGA_SOURCE_DIR) + "/tests/fuzz/seeds/vm")) {
        std::ifstream in(entry.path(), std::ios::binary);
        const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto slots = isa::decode(bytes);
        ASSERT_TRUE(slots) << entry.path();
        auto verified = verify(slots.value(), limits);
        ASSERT_TRUE(verified) << entry.path() << ": " << verified.error().text();
        const Outcome out = run(verified.value(), context, env, verified.value().bound().cost);
        EXPECT_TRUE(out.ok) << entry.path();
        ++seeds;
    }
    EXPECT_GE(seeds, 5);
}
