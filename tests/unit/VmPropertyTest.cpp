// Property tests: random well-formed forward-only programs, generated row by row from the opcode table with fixed
// seeds, must all verify; each then runs within its cost bound (never out of fuel with the bound as fuel) and agrees
// with the reference model, which finds no safety violation. Random mutations of those programs either fail to
// verify with a "pc N: ..." error or pass the same checks. Run under ASan/UBSan in the sanitize build.
#include "omega/isa/Disassembler.h"
#include "omega/vm/Interpreter.h"

#include "VmAsm.h"
#include "VmReference.h"

#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <random>

using namespace omega;
using namespace omega::vm;
using namespace vmtest;

namespace {

Limits limits() {
    return vmtest::limits(8, 1'000'000);
}

// Generates programs as groups of instructions. At every group boundary, on every path: r0-r5 and r7-r9 hold
// numbers, r6 the context pointer, and the stack bytes r10 - 32 .. r10 - 1 are written. Jumps go to group starts.
class Generator {
public:
    explicit Generator(std::uint64_t seed) : rng_(seed) {}

    std::vector<Insn> program() {
        groups_.clear();
        Group prologue;
        prologue.insns.push_back({0xbf, 6, 1, 0, 0});  // r6 = r1
        for (std::uint8_t r : {0, 1, 2, 3, 4, 5, 7, 8, 9}) prologue.insns.push_back({0xb7, r, 0, 0, imm()});
        for (std::int16_t off = -8; off >= -32; off -= 8) prologue.insns.push_back({0x7a, 10, 0, off, imm()});
        groups_.push_back(prologue);
        const std::size_t body = 1 + below(60);
        for (std::size_t i = 0; i < body; ++i) groups_.push_back(group());
        groups_.push_back(Group{{{0x95, 0, 0, 0, 0}}, std::nullopt, 0});
        return layout();
    }

private:
    struct Group {
        std::vector<Insn> insns;
        std::optional<std::size_t> jumpAt;  // index in insns of a jump to `target`
        std::size_t target = 0;             // a later group (resolved by layout)
    };

    std::uint64_t below(std::uint64_t n) { return rng_() % n; }
    std::uint8_t scalar() {
        static constexpr std::uint8_t kRegs[] = {0, 1, 2, 3, 4, 5, 7, 8, 9};
        return kRegs[below(9)];
    }
    std::int32_t imm() {
        switch (below(10)) {
            case 0: return 0;
            case 1: return 1;
            case 2: return -1;
            case 3: return 2;
            case 4: return 63;
            case 5: return 64;
            case 6: return std::numeric_limits<std::int32_t>::min();
            case 7: return std::numeric_limits<std::int32_t>::max();
            default: return static_cast<std::int32_t>(rng_());
        }
    }
    // A jump at insns[at] to a random later group.
    Group withJump(std::vector<Insn> insns, std::size_t at) {
        Group g{std::move(insns), at, 0};
        g.target = groups_.size() + 1 + below(6);  // clamped by layout to the final exit
        return g;
    }

    Group group() {
        const auto table = isa::opcodeTable();
        const isa::OpcodeInfo& row = table[below(table.size())];
        const bool x = row.source == isa::Source::X;
        if (row.cls == isa::InsnClass::Alu64) {
            const std::uint8_t src = x ? scalar() : 0;
            const std::int32_t k = (x || row.opcode == 0x87) ? 0 : imm();
            return Group{{{row.opcode, scalar(), src, 0, k}}, std::nullopt, 0};
        }
        if (row.wide) {
            const std::uint64_t v = rng_();
            return Group{{{row.opcode, scalar(), 0, 0, static_cast<std::int32_t>(v)},
                          {0x00, 0, 0, 0, static_cast<std::int32_t>(v >> 32)}},
                         std::nullopt,
                         0};
        }
        if (row.call) return call();
        if (row.exit) {  // reachable: a conditional jump skips it
            return Group{{{0x15, scalar(), 0, 1, imm()}, {0x95, 0, 0, 0, 0}}, std::nullopt, 0};
        }
        if (row.jump && row.opcode == 0x05) return withJump({{0x55, scalar(), 0, 1, imm()}, {0x05, 0, 0, 0, 0}}, 1);
        if (row.jump && row.opcode == 0x06) return withJump({{0x55, scalar(), 0, 1, imm()}, {0x06, 0, 0, 0, 0}}, 1);
        if (row.jump) return withJump({{row.opcode, scalar(), x ? scalar() : std::uint8_t{0}, 0, x ? 0 : imm()}}, 0);
        const int size = row.size;
        if (row.access == isa::Access::Load) {
            if (size == 8 && below(2) == 0) {
                const auto off = static_cast<std::int16_t>(8 * below(limits().contextWords));
                return Group{{{row.opcode, scalar(), 6, off, 0}}, std::nullopt, 0};
            }
            const auto off = static_cast<std::int16_t>(-(8 + size * static_cast<int>(below(24 / size + 1))));
            return Group{{{row.opcode, scalar(), 10, off, 0}}, std::nullopt, 0};
        }
        const auto off = static_cast<std::int16_t>(-(8 + size * static_cast<int>(below(504 / size + 1))));
        return Group{{{row.opcode, 10, x ? scalar() : std::uint8_t{0}, off, x ? 0 : imm()}}, std::nullopt, 0};
    }

    Group call() {
        const HelperSpec& h = helperTable()[below(helperTable().size())];
        Group g;
        for (std::uint8_t i = 0; i < h.args; ++i) {
            std::uint64_t bound = 0;
            switch (h.argKinds[i]) {
                case ArgKind::Rule: bound = limits().rules; break;
                case ArgKind::Matcher: bound = limits().matchers; break;
                case ArgKind::SetCmpOp: bound = kSetCmpOps; break;
                case ArgKind::TaintOp: bound = kTaintOps; break;
                case ArgKind::Value: continue;
            }
            g.insns.push_back({0xb7, static_cast<std::uint8_t>(i + 1), 0, 0, static_cast<std::int32_t>(below(bound))});
        }
        g.insns.push_back({0x85, 0, 0, 0, static_cast<std::int32_t>(h.id)});
        for (std::uint8_t r = 1; r <= 5; ++r) g.insns.push_back({0xb7, r, 0, 0, imm()});  // restore the invariant
        return g;
    }

    std::vector<Insn> layout() {
        std::vector<std::size_t> start;
        std::size_t pc = 0;
        for (const Group& g : groups_) {
            start.push_back(pc);
            pc += g.insns.size();
        }
        std::vector<Insn> slots;
        for (std::size_t i = 0; i < groups_.size(); ++i) {
            Group g = groups_[i];
            if (g.jumpAt) {
                const std::size_t target = std::min(g.target, groups_.size() - 1);
                const std::size_t from = start[i] + *g.jumpAt + 1;
                Insn& jump = g.insns[*g.jumpAt];
                if (jump.opcode == 0x06) {
                    jump.imm = static_cast<std::int32_t>(start[target] - from);  // gotol: the offset is in imm
                } else {
                    jump.offset = static_cast<std::int16_t>(start[target] - from);
                }
            }
            slots.insert(slots.end(), g.insns.begin(), g.insns.end());
        }
        return slots;
    }

    std::mt19937_64 rng_;
    std::vector<Group> groups_;
};

// Helpers: small deterministic results (so branches on them go both ways), with a log of every call.
struct Log {
    std::vector<std::vector<std::uint64_t>> calls;  // id, then the arguments up to the arity
};

std::uint64_t stubResult(std::uint32_t id, const std::uint64_t* args, std::size_t n) {
    std::uint64_t h = id * 0x9e3779b97f4a7c15u;
    for (std::size_t i = 0; i < n; ++i) h = (h ^ args[i]) * 0xff51afd7ed558ccdu;
    return (h >> 33) % 4;
}

template <std::uint32_t Id>
std::uint64_t stub(void* self, std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t d, std::uint64_t e) {
    const std::uint64_t args[5] = {a, b, c, d, e};
    const std::size_t n = findHelper(Id)->args;
    auto& call = static_cast<Log*>(self)->calls.emplace_back(1, Id);
    call.insert(call.end(), args, args + n);
    return stubResult(Id, args, n);
}

Env stubEnv(Log& log) {
    Env env;
    env.self = &log;
    env.helpers = {nullptr, &stub<1>, &stub<2>, &stub<3>, &stub<4>, &stub<5>, &stub<6>, &stub<7>, &stub<8>};
    return env;
}

std::string show(const std::vector<Insn>& slots) {
    return isa::formatListing(isa::listing(slots));
}

// Runs a verified program on a context with the interpreter and the reference; both must agree and stay in bounds.
void checkRun(const std::vector<Insn>& slots, const Verified& verified, const std::vector<std::uint64_t>& context) {
    Log log;
    const Outcome out = run(verified, context, stubEnv(log), verified.bound().cost);
    ASSERT_TRUE(out.ok) << out.error << "\n" << show(slots);
    ASSERT_LE(out.steps, verified.bound().instructions) << show(slots);
    ASSERT_LE(out.cost, verified.bound().cost) << show(slots);

    Log refLog;
    const RefHelper helper = [&](std::uint32_t id, const std::array<std::uint64_t, 5>& args) {
        const std::size_t n = findHelper(id)->args;
        auto& call = refLog.calls.emplace_back(1, id);
        call.insert(call.end(), args.begin(), args.begin() + static_cast<long>(n));
        return stubResult(id, args.data(), n);
    };
    const RefOutcome ref = referenceRun(slots, limits(), context, helper, verified.bound().cost);
    ASSERT_EQ(ref.violation, "") << show(slots);
    ASSERT_TRUE(ref.ok) << ref.error;
    EXPECT_EQ(out.r0, ref.r0) << show(slots);
    EXPECT_EQ(out.steps, ref.steps) << show(slots);
    EXPECT_EQ(out.cost, ref.cost) << show(slots);
    EXPECT_EQ(log.calls, refLog.calls) << show(slots);

    // The fuel is exact: one unit less stops the same run.
    Log again;
    const Outcome starved = run(verified, context, stubEnv(again), out.cost - 1);
    EXPECT_FALSE(starved.ok);
    EXPECT_STREQ(starved.error, "out of fuel");
}

std::vector<std::uint64_t> randomContext(std::mt19937_64& rng) {
    std::vector<std::uint64_t> context(limits().contextWords);
    for (auto& word : context) word = rng() % 3 == 0 ? rng() : rng() % 4;
    return context;
}

constexpr int kPrograms = 3000;

}  // namespace

TEST(VmProperty, GeneratedProgramsVerifyRunWithinTheirBoundAndMatchTheReference) {
    std::mt19937_64 contexts(1);
    std::uint64_t longest = 0;
    for (int seed = 0; seed < kPrograms; ++seed) {
        const std::vector<Insn> slots = Generator(static_cast<std::uint64_t>(seed)).program();
        auto verified = verify(slots, limits());
        ASSERT_TRUE(verified) << "seed " << seed << ": " << verified.error().text() << "\n" << show(slots);
        longest = std::max(longest, verified.value().bound().instructions);
        for (int i = 0; i < 3; ++i) {
            checkRun(slots, verified.value(), randomContext(contexts));
            if (testing::Test::HasFatalFailure()) {
                ADD_FAILURE() << "seed " << seed;
                return;
            }
        }
    }
    EXPECT_GT(longest, 60u);  // the generator does make long paths
}

TEST(VmProperty, MutatedProgramsAreRejectedWithAPcOrRunSafely) {
    std::mt19937_64 rng(2);
    int accepted = 0, rejected = 0;
    for (int seed = 0; seed < kPrograms; ++seed) {
        std::vector<Insn> slots = Generator(static_cast<std::uint64_t>(seed) + 100000).program();
        const int mutations = 1 + static_cast<int>(rng() % 3);
        for (int m = 0; m < mutations; ++m) {
            Insn& slot = slots[rng() % slots.size()];
            const std::uint64_t bits = rng();
            switch (rng() % 6) {
                case 0: slot.opcode = static_cast<std::uint8_t>(bits); break;
                case 1: slot.dst = static_cast<std::uint8_t>(bits % 16); break;
                case 2: slot.src = static_cast<std::uint8_t>(bits % 16); break;
                case 3: slot.offset = static_cast<std::int16_t>(static_cast<int>(bits % 64) - 32); break;
                case 4: slot.imm = static_cast<std::int32_t>(bits % 2 ? bits : bits % 16); break;
                default: slot = slots[rng() % slots.size()]; break;
            }
        }
        auto verified = verify(slots, limits());
        if (!verified) {
            ++rejected;
            const std::string text = verified.error().text();
            ASSERT_EQ(text.rfind("pc ", 0), 0u) << text;
            ASSERT_LT(verified.error().pc, slots.size()) << text;
            continue;
        }
        ++accepted;
        checkRun(slots, verified.value(), randomContext(rng));
        if (testing::Test::HasFatalFailure()) {
            ADD_FAILURE() << "mutant of seed " << seed;
            return;
        }
    }
    EXPECT_GT(accepted, kPrograms / 10);
    EXPECT_GT(rejected, kPrograms / 10);
}
