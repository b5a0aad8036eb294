// The interpreter on accepted programs: the three-valued logic of docs/bytecode.md 8.2 and branching on it, helper
// calls through a recording Env, context reads, RFC 9669 arithmetic (division by zero included), gotol, the stack,
// fuel.
#include "omega/vm/Interpreter.h"

#include "VmAsm.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>

using namespace omega;
using namespace omega::vm;
using namespace vmtest;

namespace {

Limits limits() {
    return vmtest::limits(16, 100000);
}

struct Recorder {
    struct Call {
        std::uint32_t id;
        std::vector<std::uint64_t> args;  // the helper's arguments, r1..r<arity>
        bool operator==(const Call&) const = default;
    };
    std::vector<Call> calls;
    std::array<std::uint64_t, kHelperSlots> results{};
};

template <std::uint32_t Id>
std::uint64_t record(void* self, std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t d, std::uint64_t e) {
    auto* recorder = static_cast<Recorder*>(self);
    const std::uint64_t all[5] = {a, b, c, d, e};
    recorder->calls.push_back({Id, std::vector<std::uint64_t>(all, all + findHelper(Id)->args)});
    return recorder->results[Id];
}

Env recordingEnv(Recorder& recorder) {
    Env env;
    env.self = &recorder;
    env.helpers = {nullptr,    &record<1>, &record<2>, &record<3>, &record<4>,
                   &record<5>, &record<6>, &record<7>, &record<8>};
    return env;
}

Verified mustVerify(const Asm& a, const Limits& l = limits()) {
    auto verified = verify(a.slots(), l);
    if (!verified) {
        ADD_FAILURE() << verified.error().text();
        return verify(Asm().mov(r0, 0).exit().slots(), l).value();
    }
    return std::move(verified).value();
}

Outcome runWith(const Verified& v, const std::vector<std::uint64_t>& context, Recorder& recorder) {
    return run(v, context, recordingEnv(recorder), v.bound().cost);
}

// r0 of a program that needs no context and calls no helper.
std::uint64_t result(const Asm& a) {
    const Verified v = mustVerify(a);
    Recorder recorder;
    const Outcome out = runWith(v, std::vector<std::uint64_t>(16, 0), recorder);
    EXPECT_TRUE(out.ok) << (out.error ? out.error : "");
    return out.r0;
}

// Kleene logic over 0 = false, 1 = unknown, 2 = true, written out rather than computed.
constexpr std::uint64_t kAnd[3][3] = {{0, 0, 0}, {0, 1, 1}, {0, 1, 2}};
constexpr std::uint64_t kOr[3][3] = {{0, 1, 2}, {1, 1, 2}, {2, 2, 2}};
constexpr std::uint64_t kNot[3] = {2, 1, 0};

constexpr int kA = 6, kB = 7, kC = 8;  // context words holding the operands

}  // namespace

TEST(Run, ThreeValuedAndIsTheMinimum) {
    const Verified v = mustVerify(Asm()
                                      .ldxdw(r2, r1, 8 * kA)
                                      .ldxdw(r3, r1, 8 * kB)
                                      .mov(r0, r2)
                                      .jle(r2, r3, "done")
                                      .mov(r0, r3)
                                      .label("done")
                                      .exit());
    for (std::uint64_t a = 0; a < 3; ++a) {
        for (std::uint64_t b = 0; b < 3; ++b) {
            std::vector<std::uint64_t> context(16, 0);
            context[kA] = a;
            context[kB] = b;
            Recorder recorder;
            const Outcome out = runWith(v, context, recorder);
            ASSERT_TRUE(out.ok);
            EXPECT_EQ(out.r0, kAnd[a][b]) << a << " and " << b;
        }
    }
}

TEST(Run, ThreeValuedOrIsTheMaximumAndNotIsTwoMinus) {
    const Verified orProgram = mustVerify(Asm()
                                              .ldxdw(r2, r1, 8 * kA)
                                              .ldxdw(r3, r1, 8 * kB)
                                              .mov(r0, r2)
                                              .jge(r2, r3, "done")
                                              .mov(r0, r3)
                                              .label("done")
                                              .exit());
    const Verified notProgram = mustVerify(Asm().ldxdw(r2, r1, 8 * kA).mov(r0, 2).sub(r0, r2).exit());
    for (std::uint64_t a = 0; a < 3; ++a) {
        for (std::uint64_t b = 0; b < 3; ++b) {
            std::vector<std::uint64_t> context(16, 0);
            context[kA] = a;
            context[kB] = b;
            Recorder recorder;
            EXPECT_EQ(runWith(orProgram, context, recorder).r0, kOr[a][b]) << a << " or " << b;
            EXPECT_EQ(runWith(notProgram, context, recorder).r0, kNot[a]) << "not " << a;
        }
    }
}

TEST(Run, BranchesOnAThreeValuedConditionAndReportsMatches) {
    // value = (a and not b) or c; rule 0 is a permit (matches when the value is 2), rule 1 a forbid (at least 1).
    const Verified v = mustVerify(Asm()
                                      .ldxdw(r6, r1, 8 * kA)
                                      .ldxdw(r7, r1, 8 * kB)
                                      .ldxdw(r8, r1, 8 * kC)
                                      .mov(r9, 2)
                                      .sub(r9, r7)  // not b
                                      .jle(r6, r9, "and")
                                      .mov(r6, r9)
                                      .label("and")  // r6 = a and not b
                                      .jge(r6, r8, "or")
                                      .mov(r6, r8)
                                      .label("or")  // r6 = (a and not b) or c
                                      .jne(r6, 2, "no_permit")
                                      .mov(r1, 0)
                                      .mov(r2, r6)
                                      .call(kMatch)
                                      .label("no_permit")
                                      .jlt(r6, 1, "no_forbid")
                                      .mov(r1, 1)
                                      .mov(r2, r6)
                                      .call(kMatch)
                                      .label("no_forbid")
                                      .mov(r0, 0)
                                      .exit());
    for (std::uint64_t a = 0; a < 3; ++a) {
        for (std::uint64_t b = 0; b < 3; ++b) {
            for (std::uint64_t c = 0; c < 3; ++c) {
                std::vector<std::uint64_t> context(16, 0);
                context[kA] = a;
                context[kB] = b;
                context[kC] = c;
                Recorder recorder;
                const Outcome out = runWith(v, context, recorder);
                ASSERT_TRUE(out.ok) << out.error;
                EXPECT_EQ(out.r0, 0u);
                const std::uint64_t value = kOr[kAnd[a][kNot[b]]][c];
                std::vector<Recorder::Call> expected;
                if (value == 2) expected.push_back({kMatch, {0, value}});
                if (value >= 1) expected.push_back({kMatch, {1, value}});
                EXPECT_EQ(recorder.calls, expected) << a << " " << b << " " << c;
                EXPECT_LE(out.steps, v.bound().instructions);
                EXPECT_LE(out.cost, v.bound().cost);
            }
        }
    }
}

TEST(Run, CallsEveryHelperWithItsArgumentsAndKeepsR6ToR9) {
    const Verified v = mustVerify(Asm()
                                      .ldxdw(r7, r1, 8)  // a set handle from the context
                                      .mov(r1, 3)
                                      .mov(r2, 2)
                                      .call(kMatch)
                                      .mov(r6, r0)
                                      .mov(r1, r7)
                                      .mov(r2, 77)
                                      .call(kSetHas)
                                      .add(r6, r0)
                                      .mov(r1, r7)
                                      .lddw(r2, std::int64_t{1} << 40)
                                      .mov(r3, 2)
                                      .call(kSetCmp)
                                      .add(r6, r0)
                                      .mov(r1, 1)
                                      .mov(r2, 500)
                                      .call(kGlob)
                                      .add(r6, r0)
                                      .mov(r1, 0)
                                      .mov(r2, 501)
                                      .call(kPrefix)
                                      .add(r6, r0)
                                      .mov(r1, 4)
                                      .mov(r2, 5)
                                      .call(kLabelLe)
                                      .add(r6, r0)
                                      .mov(r1, r7)
                                      .mov(r2, 6)
                                      .mov(r3, 3)
                                      .call(kTaint)
                                      .add(r6, r0)
                                      .mov(r1, 2)
                                      .call(kRateCount)
                                      .add(r6, r0)
                                      .mov(r0, r6)
                                      .exit());
    Recorder recorder;
    for (std::uint32_t id = 1; id < kHelperSlots; ++id) recorder.results[id] = std::uint64_t{1} << (4 * id);
    std::vector<std::uint64_t> context(16, 0);
    context[1] = 0x8000000000000011;  // a tagged set reference
    const Outcome out = runWith(v, context, recorder);
    ASSERT_TRUE(out.ok) << out.error;
    const std::uint64_t set = context[1];
    const std::vector<Recorder::Call> expected{
        {kMatch, {3, 2}},      {kSetHas, {set, 77}}, {kSetCmp, {set, std::uint64_t{1} << 40, 2}},
        {kGlob, {1, 500}},     {kPrefix, {0, 501}},  {kLabelLe, {4, 5}},
        {kTaint, {set, 6, 3}}, {kRateCount, {2}},
    };
    EXPECT_EQ(recorder.calls, expected);
    EXPECT_EQ(out.r0, 0x111111110u);
    std::uint64_t helperCost = 0;
    for (const HelperSpec& h : helperTable()) helperCost += h.cost;
    EXPECT_EQ(out.cost, out.steps + helperCost);
    EXPECT_EQ(out.cost, v.bound().cost);  // one path
}

TEST(Run, ReadsContextWordsAndNeverWritesThem) {
    const Verified v = mustVerify(Asm()
                                      .ldxdw(r0, r1, 0)
                                      .ldxdw(r2, r1, 40)
                                      .lsh(r2, 8)
                                      .xor_(r0, r2)
                                      .ldxdw(r2, r1, 120)
                                      .lsh(r2, 16)
                                      .xor_(r0, r2)
                                      .exit());
    std::vector<std::uint64_t> context(20);
    for (std::size_t i = 0; i < context.size(); ++i) context[i] = i + 1;
    const std::vector<std::uint64_t> before = context;
    Recorder recorder;
    const Outcome out = runWith(v, context, recorder);
    ASSERT_TRUE(out.ok);
    EXPECT_EQ(out.r0, 1u ^ (6u << 8) ^ (16u << 16));
    EXPECT_EQ(context, before);
    // A context shorter than the verified size is refused before anything runs.
    const Outcome shortContext = runWith(v, std::vector<std::uint64_t>(15, 0), recorder);
    EXPECT_FALSE(shortContext.ok);
    EXPECT_STREQ(shortContext.error, "the context is smaller than the program was verified for");
    EXPECT_EQ(shortContext.steps, 0u);
}

TEST(Run, RefusesAnEnvironmentWithoutAHelperTheProgramCalls) {
    const Verified v = mustVerify(Asm().mov(r1, 0).mov(r2, 1).call(kGlob).exit());
    Recorder recorder;
    Env env = recordingEnv(recorder);
    env.helpers[kMatch] = nullptr;  // not called: fine
    EXPECT_TRUE(run(v, std::vector<std::uint64_t>(16, 0), env, 1000).ok);
    env.helpers[kGlob] = nullptr;
    const Outcome out = run(v, std::vector<std::uint64_t>(16, 0), env, 1000);
    EXPECT_FALSE(out.ok);
    EXPECT_STREQ(out.error, "the environment lacks a helper the program calls");
    EXPECT_TRUE(recorder.calls.size() == 1);
}

TEST(Run, DivisionAndModuloByZeroAreDefined) {
    // RFC 9669: x / 0 = 0 and x % 0 = x, for a register and for an immediate divisor.
    EXPECT_EQ(result(Asm().mov(r0, 7).mov(r2, 0).div(r0, r2).exit()), 0u);
    EXPECT_EQ(result(Asm().mov(r0, 7).mov(r2, 0).mod(r0, r2).exit()), 7u);
    EXPECT_EQ(result(Asm().mov(r0, 7).div(r0, 0).exit()), 0u);
    EXPECT_EQ(result(Asm().mov(r0, 7).mod(r0, 0).exit()), 7u);
    // Unsigned: -8 / 2 is 2^63 - 4.
    EXPECT_EQ(result(Asm().mov(r0, -8).div(r0, 2).exit()), (std::uint64_t{1} << 63) - 4);
    EXPECT_EQ(result(Asm().mov(r0, -8).mov(r2, 3).mod(r0, r2).exit()), (~std::uint64_t{0} - 7) % 3);
    EXPECT_EQ(result(Asm().mov(r0, 100).mov(r2, 7).div(r0, r2).exit()), 14u);
    EXPECT_EQ(result(Asm().mov(r0, 100).mod(r0, 7).exit()), 2u);
}

TEST(Run, ArithmeticIsSixtyFourBitWrapping) {
    EXPECT_EQ(result(Asm().mov(r0, -1).exit()), ~std::uint64_t{0});  // K immediates are sign-extended
    EXPECT_EQ(result(Asm().mov(r0, 1).add(r0, -2).exit()), ~std::uint64_t{0});
    EXPECT_EQ(result(Asm().mov(r0, 0).sub(r0, 1).exit()), ~std::uint64_t{0});
    EXPECT_EQ(result(Asm().lddw(r0, std::int64_t{1} << 62).mul(r0, 4).exit()), 0u);
    EXPECT_EQ(result(Asm().mov(r0, 5).neg(r0).exit()), static_cast<std::uint64_t>(-5));
    EXPECT_EQ(result(Asm().mov(r0, 1).lsh(r0, 65).exit()), 2u);  // shift amounts masked to 6 bits
    EXPECT_EQ(result(Asm().mov(r0, 1).mov(r2, 127).lsh(r0, r2).exit()), std::uint64_t{1} << 63);
    EXPECT_EQ(result(Asm().mov(r0, -16).rsh(r0, 60).exit()), 15u);
    EXPECT_EQ(result(Asm().mov(r0, -16).arsh(r0, 2).exit()), static_cast<std::uint64_t>(-4));
    EXPECT_EQ(result(Asm().mov(r0, -16).mov(r2, 66).arsh(r0, r2).exit()), static_cast<std::uint64_t>(-4));
    EXPECT_EQ(result(Asm().mov(r0, 0xf0).and_(r0, 0x3c).or_(r0, 1).xor_(r0, 0xff).exit()), 0xffu ^ 0x31u);
    EXPECT_EQ(result(Asm().lddw(r0, -2).exit()), static_cast<std::uint64_t>(-2));
    EXPECT_EQ(result(Asm().lddw(r0, 0x123456789abcdef0).exit()), 0x123456789abcdef0u);
}

TEST(Run, SignedAndUnsignedComparisons) {
    auto taken = [](auto branch) {
        Asm a;
        a.mov(r0, 0).mov(r2, -1).mov(r3, 1);
        branch(a);
        return result(a.mov(r0, 1).label("t").exit()) == 0;
    };
    EXPECT_TRUE(taken([](Asm& a) { a.jgt(r2, 0, "t"); }));    // 2^64 - 1 > 0
    EXPECT_FALSE(taken([](Asm& a) { a.jsgt(r2, 0, "t"); }));  // -1 > 0 is false
    EXPECT_TRUE(taken([](Asm& a) { a.jslt(r2, r3, "t"); }));
    EXPECT_FALSE(taken([](Asm& a) { a.jlt(r2, r3, "t"); }));
    EXPECT_TRUE(taken([](Asm& a) { a.jeq(r2, -1, "t"); }));  // the immediate is sign-extended
    EXPECT_TRUE(taken([](Asm& a) { a.jset(r3, 3, "t"); }));
    EXPECT_FALSE(taken([](Asm& a) { a.jset(r3, 2, "t"); }));
    EXPECT_TRUE(taken([](Asm& a) { a.jne(r2, r3, "t"); }));
    EXPECT_TRUE(taken([](Asm& a) { a.jge(r3, 1, "t"); }));
}

TEST(Run, GotolSkipsABlockFartherThanJaCanReach) {
    // ldxdw r2, [ctx]; mov r0, 1; jne r2, 0, +1; gotol +150000; 150000 x add r0, 1; exit.
    constexpr std::int32_t kBlock = 150000;
    Asm a;
    a.ldxdw(r2, r1, 0).mov(r0, 1).jne(r2, 0, 1).raw({0x06, 0, 0, 0, kBlock});
    for (std::int32_t i = 0; i < kBlock; ++i) a.add(r0, 1);
    a.exit();
    Limits wide = limits();
    wide.maxCost = 200000;
    const Verified v = mustVerify(a, wide);
    EXPECT_EQ(v.bound(), (CostBound{kBlock + 4, kBlock + 4}));
    Recorder recorder;
    Outcome out = runWith(v, std::vector<std::uint64_t>(16, 0), recorder);  // the gotol skips the block
    EXPECT_TRUE(out.ok);
    EXPECT_EQ(out.r0, 1u);
    EXPECT_EQ(out.steps, 5u);
    EXPECT_EQ(out.cost, 5u);
    out = runWith(v, std::vector<std::uint64_t>(16, 1), recorder);  // the jne skips the gotol
    EXPECT_TRUE(out.ok);
    EXPECT_EQ(out.r0, 1u + kBlock);
    EXPECT_EQ(out.steps, kBlock + 4u);
}

TEST(Run, StackStoresAndLoadsAreLittleEndian) {
    // stdw stores the sign-extended immediate; stw the low 32 bits; loads zero-extend.
    EXPECT_EQ(result(Asm().st(8, r10, -8, -1).ldxdw(r0, r10, -8).exit()), ~std::uint64_t{0});
    EXPECT_EQ(result(Asm().st(4, r10, -16, -2).st(4, r10, -12, 0x7fffffff).ldxdw(r0, r10, -16).exit()),
              0x7ffffffffffffffeu);
    EXPECT_EQ(result(Asm().st(4, r10, -16, -2).ldx(1, r0, r10, -16).exit()), 0xfeu);
    EXPECT_EQ(result(Asm().st(4, r10, -16, -2).ldx(2, r0, r10, -14).exit()), 0xffffu);
    EXPECT_EQ(result(Asm().lddw(r2, 0x1122334455667788).stx(8, r10, -512, r2).ldx(4, r0, r10, -508).exit()),
              0x11223344u);
    EXPECT_EQ(
        result(Asm().lddw(r2, 0x1122334455667788).stx(4, r10, -16, r2).st(4, r10, -12, 0).ldxdw(r0, r10, -16).exit()),
        0x55667788u);
}

TEST(Run, FuelRunsOutPerInstructionAndPerHelperCost) {
    const Verified straight = mustVerify(Asm().mov(r0, 1).add(r0, 1).add(r0, 1).exit());
    EXPECT_EQ(straight.bound(), (CostBound{4, 4}));
    Recorder recorder;
    const Env env = recordingEnv(recorder);
    const std::vector<std::uint64_t> context(16, 0);
    Outcome out = run(straight, context, env, 4);
    EXPECT_TRUE(out.ok);
    EXPECT_EQ(out.r0, 3u);
    EXPECT_EQ(out.steps, 4u);
    out = run(straight, context, env, 3);
    EXPECT_FALSE(out.ok);
    EXPECT_STREQ(out.error, "out of fuel");
    EXPECT_EQ(out.steps, 3u);
    EXPECT_EQ(out.cost, 3u);
    out = run(straight, context, env, 0);
    EXPECT_FALSE(out.ok);
    EXPECT_EQ(out.steps, 0u);

    // A helper call needs its cost on top of its own unit; without it the call does not happen.
    const Verified withCall = mustVerify(Asm().mov(r1, 0).mov(r2, 0).call(kGlob).exit());
    const std::uint64_t full = 4 + findHelper(kGlob)->cost;
    EXPECT_EQ(withCall.bound().cost, full);
    out = run(withCall, context, env, full - 2);  // the call itself is one short
    EXPECT_FALSE(out.ok);
    EXPECT_STREQ(out.error, "out of fuel");
    EXPECT_EQ(out.steps, 2u);
    EXPECT_EQ(out.cost, 2u);
    EXPECT_TRUE(recorder.calls.empty());
    out = run(withCall, context, env, full - 1);  // the call runs, the exit is one short
    EXPECT_FALSE(out.ok);
    EXPECT_EQ(out.steps, 3u);
    EXPECT_EQ(out.cost, full - 1);
    EXPECT_EQ(recorder.calls.size(), 1u);
    out = run(withCall, context, env, full);
    EXPECT_TRUE(out.ok);
    EXPECT_EQ(out.cost, full);
    EXPECT_EQ(out.steps, 4u);
    EXPECT_EQ(recorder.calls.size(), 2u);
}

TEST(Run, EachRunHasAFreshStateAndAVerifiedIsShared) {
    const Verified v = mustVerify(Asm().ldxdw(r2, r1, 0).stx(8, r10, -8, r2).ldxdw(r0, r10, -8).exit());
    const Verified copy = v;
    Recorder recorder;
    EXPECT_EQ(runWith(v, std::vector<std::uint64_t>(16, 5), recorder).r0, 5u);
    EXPECT_EQ(runWith(copy, std::vector<std::uint64_t>(16, 9), recorder).r0, 9u);
    EXPECT_EQ(copy.code().data(), v.code().data());
}
