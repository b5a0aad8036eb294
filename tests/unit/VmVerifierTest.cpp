// The verifier's rules (docs/bytecode.md 8.6, 9.1), one test per rejection class with the exact message, and the
// accepting side: what it proves (constants, joins, stack writes) and the cost bound it computes.
#include "omega/vm/Helpers.h"
#include "omega/vm/Verifier.h"

#include "VmAsm.h"

#include <gtest/gtest.h>

#include <limits>

using namespace omega;
using namespace omega::vm;
using namespace vmtest;

namespace {

Limits limits() {
    return vmtest::limits(16, 10000);
}

std::string check(const std::vector<Insn>& slots, const Limits& l = limits()) {
    auto verified = verify(slots, l);
    return verified ? "ok" : verified.error().text();
}

std::string check(const Asm& a, const Limits& l = limits()) {
    return check(a.slots(), l);
}

// gotol +offset (JMP32 JA): the offset is in imm. Asm has no labels for it; the tests count slots.
Insn gotol(std::int32_t offset) {
    return {0x06, 0, 0, 0, offset};
}

// ldxdw r2, [ctx]; mov r0, 0; jne r2, 0, +1; gotol +block; `block` slots of add r0, 1; exit. The block is reached
// when the context word is not 0, and skipped by the gotol otherwise.
std::vector<Insn> gotolOverBlock(std::int32_t block) {
    Asm a;
    a.ldxdw(r2, r1, 0).mov(r0, 0).jne(r2, 0, 1).raw(gotol(block));
    for (std::int32_t i = 0; i < block; ++i) a.add(r0, 1);
    return a.exit().slots();
}

}  // namespace

// --- the rejection classes of the issue -------------------------------------------------------------------------

TEST(VerifierRejects, BackwardJump) {
    EXPECT_EQ(check(Asm().mov(r0, 0).ja(-2).exit()), "pc 1: ja: jump target 0 is backward (jumps go forward only)");
    EXPECT_EQ(check(Asm().mov(r0, 0).mov(r2, 1).jeq(r2, 1, -3).exit()),
              "pc 2: jeq: jump target 0 is backward (jumps go forward only)");
    EXPECT_EQ(check(Asm().mov(r0, 0).raw(gotol(-2)).exit()),
              "pc 1: gotol: jump target 0 is backward (jumps go forward only)");
    EXPECT_EQ(check(Asm().mov(r0, 0).raw(gotol(std::numeric_limits<std::int32_t>::min())).exit()),
              "pc 1: gotol: jump target -2147483646 is backward (jumps go forward only)");
}

TEST(VerifierRejects, JumpToItself) {
    EXPECT_EQ(check(Asm().mov(r0, 0).ja(-1).exit()), "pc 1: ja: jump target 1 is the jump itself");
    EXPECT_EQ(check(Asm().mov(r0, 0).jne(r0, 0, -1).exit()), "pc 1: jne: jump target 1 is the jump itself");
    EXPECT_EQ(check(Asm().mov(r0, 0).raw(gotol(-1)).exit()), "pc 1: gotol: jump target 1 is the jump itself");
}

TEST(VerifierRejects, JumpPastTheEnd) {
    EXPECT_EQ(check(Asm().mov(r0, 0).jeq(r0, 0, 38).exit()),
              "pc 1: jeq: jump target 40 is past the end (program has 3 slots)");
    // A jump to the slot just after the last one is past the end too.
    EXPECT_EQ(check(Asm().mov(r0, 0).ja(1).exit()), "pc 1: ja: jump target 3 is past the end (program has 3 slots)");
    EXPECT_EQ(check(Asm().mov(r0, 0).raw(gotol(1)).exit()),
              "pc 1: gotol: jump target 3 is past the end (program has 3 slots)");
    EXPECT_EQ(check(Asm().mov(r0, 0).raw(gotol(std::numeric_limits<std::int32_t>::max())).exit()),
              "pc 1: gotol: jump target 2147483649 is past the end (program has 3 slots)");
}

TEST(VerifierRejects, RegisterThatDoesNotExist) {
    EXPECT_EQ(check(Asm().raw({0xbf, 11, 0, 0, 0}).exit()), "pc 0: opcode 0xbf (mov): register r11 does not exist");
    EXPECT_EQ(check(Asm().mov(r0, 0).raw({0x0f, 0, 15, 0, 0}).exit()),
              "pc 1: opcode 0x0f (add): register r15 does not exist");
}

TEST(VerifierRejects, UnknownHelper) {
    EXPECT_EQ(check(Asm().call(42).exit()), "pc 0: call: unknown helper 42");
    EXPECT_EQ(check(Asm().call(0).exit()), "pc 0: call: unknown helper 0");
    EXPECT_EQ(check(Asm().call(-1).exit()), "pc 0: call: unknown helper -1");
    EXPECT_EQ(check(Asm().call(9).exit()), "pc 0: call: unknown helper 9");
}

TEST(VerifierRejects, WideLoadCutInHalf) {
    // By the end of the program (unmarshal's rule) ...
    EXPECT_EQ(check(Asm().mov(r0, 0).raw({0x18, 1, 0, 0, 5})),
              "pc 1: opcode 0x18 (lddw): wide load cut off by the end of the program");
    // ... by a bad second slot ...
    EXPECT_EQ(check(Asm().raw({0x18, 0, 0, 0, 5}).exit()),
              "pc 0: opcode 0x18 (lddw): second slot must have opcode 0x00, is 0x95");
    // ... or by a jump into its second slot.
    EXPECT_EQ(check(Asm().ja(1).lddw(r0, 1).exit()),
              "pc 0: ja: jump target 2 is the second slot of the wide load at pc 1");
    EXPECT_EQ(check(Asm().raw(gotol(1)).lddw(r0, 1).exit()),
              "pc 0: gotol: jump target 2 is the second slot of the wide load at pc 1");
}

TEST(VerifierRejects, ReadPastTheContext) {
    EXPECT_EQ(check(Asm().ldxdw(r0, r1, 128).exit()),
              "pc 0: ldxdw: context offset 128 is past the end of the context (16 words)");
    EXPECT_EQ(check(Asm().ldxdw(r0, r1, 120).exit()), "ok");  // the last word
    Limits empty = limits();
    empty.contextWords = 0;
    EXPECT_EQ(check(Asm().ldxdw(r0, r1, 0).exit(), empty),
              "pc 0: ldxdw: context offset 0 is past the end of the context (0 words)");
    EXPECT_EQ(check(Asm().ldxdw(r0, r1, -8).exit()),
              "pc 0: ldxdw: context offset -8 is before the start of the context");
}

// --- single-slot rules (unmarshal's messages, docs/bytecode.md 4) -------------------------------------------------

TEST(VerifierRejects, OpcodesOutsideTheTable) {
    EXPECT_EQ(check(Asm().raw({0x8f, 0, 0, 0, 0}).exit()), "pc 0: unknown opcode 0x8f");
    EXPECT_EQ(check(Asm().mov(r0, 0).raw({0x16, 0, 0, 0, 0}).exit()),
              "pc 1: unknown opcode 0x16 (class jmp32 is not accepted, except gotol 0x06)");
    EXPECT_EQ(check(Asm().mov(r0, 0).raw({0x06, 0, 0, 2, 0}).exit()),
              "pc 1: opcode 0x06 (gotol): offset must be 0, is 2");
    EXPECT_EQ(check(Asm().raw({0x95, 0, 2, 0, 0})), "pc 0: opcode 0x95 (exit): src must be 0, is 2");
}

TEST(VerifierRejects, WritesOfR10) {
    EXPECT_EQ(check(Asm().raw({0xb7, 10, 0, 0, 0}).exit()), "pc 0: opcode 0xb7 (mov): r10 is read-only");
    EXPECT_EQ(check(Asm().raw({0x79, 10, 1, 0, 0}).exit()), "pc 0: opcode 0x79 (ldxdw): r10 is read-only");
    EXPECT_EQ(check(Asm().lddw(r10, 1).exit()), "pc 0: opcode 0x18 (lddw): r10 is read-only");
}

// --- control flow -----------------------------------------------------------------------------------------------

TEST(VerifierRejects, EmptyProgram) {
    EXPECT_EQ(check(std::vector<Insn>{}), "pc 0: the program is empty");
}

TEST(VerifierRejects, TooManySlots) {
    std::vector<Insn> huge(kMaxSlots + 1, Insn{0x95, 0, 0, 0, 0});
    EXPECT_EQ(check(huge), "pc 0: the program has 16777217 slots, more than the limit of 16777216");
}

TEST(VerifierRejects, FallingOffTheEnd) {
    EXPECT_EQ(check(Asm().mov(r0, 0)), "pc 0: mov: falls off the end of the program");
    EXPECT_EQ(check(Asm().mov(r0, 0).lddw(r2, 7)), "pc 1: lddw: falls off the end of the program");
    EXPECT_EQ(check(Asm().mov(r0, 0).mov(r2, 1).jeq(r2, 1, "out").exit().label("out").mov(r0, 1)),
              "pc 4: mov: falls off the end of the program");
}

TEST(VerifierRejects, UnreachableInstruction) {
    EXPECT_EQ(check(Asm().mov(r0, 0).exit().mov(r0, 1).exit()), "pc 2: mov: unreachable instruction");
    EXPECT_EQ(check(Asm().mov(r0, 0).ja("end").mov(r0, 1).label("end").exit()), "pc 2: mov: unreachable instruction");
}

// --- registers ----------------------------------------------------------------------------------------------------

TEST(VerifierRejects, ReadOfUninitialisedRegister) {
    EXPECT_EQ(check(Asm().mov(r0, r2).exit()), "pc 0: mov: r2 is not initialised");
    EXPECT_EQ(check(Asm().exit()), "pc 0: exit: r0 is not initialised");
    EXPECT_EQ(check(Asm().mov(r0, 0).add(r0, r7).exit()), "pc 1: add: r7 is not initialised");
    EXPECT_EQ(check(Asm().add(r3, 1).mov(r0, 0).exit()), "pc 0: add: r3 is not initialised");
    EXPECT_EQ(check(Asm().neg(r3).mov(r0, 0).exit()), "pc 0: neg: r3 is not initialised");
    EXPECT_EQ(check(Asm().mov(r0, 0).jeq(r4, 0, "x").label("x").exit()), "pc 1: jeq: r4 is not initialised");
    EXPECT_EQ(check(Asm().mov(r0, 0).mov(r2, 0).jeq(r2, r4, "x").label("x").exit()),
              "pc 2: jeq: r4 is not initialised");
    EXPECT_EQ(check(Asm().mov(r0, 0).ldxdw(r0, r5, 0).exit()), "pc 1: ldxdw: r5 is not initialised");
}

TEST(VerifierRejects, ReadOfRegisterInitialisedOnOnePathOnly) {
    const Asm a = Asm().ldxdw(r2, r1, 0).jeq(r2, 0, "join").mov(r3, 1).label("join").mov(r0, r3).exit();
    EXPECT_EQ(check(a), "pc 3: mov: r3 is not initialised");
}

TEST(VerifierRejects, HelperArgumentsPerArity) {
    // set_has reads r1 and r2; rate_count only r1.
    EXPECT_EQ(check(Asm().mov(r1, 0).call(kSetHas).exit()),
              "pc 1: call: r2 is not initialised (set_has takes 2 arguments)");
    EXPECT_EQ(check(Asm().mov(r1, 0).mov(r2, 0).call(kSetCmp).exit()),
              "pc 2: call: r3 is not initialised (set_cmp takes 3 arguments)");
    EXPECT_EQ(check(Asm().mov(r1, 0).call(kRateCount).exit()), "ok");
    EXPECT_EQ(check(Asm().call(kRateCount).exit()),
              "pc 0: call: r1 holds the context pointer: helper arguments must be numbers");
}

TEST(VerifierRejects, ReadOfArgumentRegisterAfterCall) {
    // Calls clobber r1-r5; r0 holds the result; r6-r9 survive.
    const Asm base = Asm().mov(r6, 6).mov(r1, 0).mov(r2, 2).call(kMatch);
    EXPECT_EQ(check(Asm(base).mov(r0, r2).exit()), "pc 4: mov: r2 is not initialised");
    EXPECT_EQ(check(Asm(base).mov(r0, r1).exit()), "pc 4: mov: r1 is not initialised");
    EXPECT_EQ(check(Asm(base).add(r0, r6).exit()), "ok");
}

TEST(VerifierRejects, PointerArithmetic) {
    EXPECT_EQ(check(Asm().add(r1, 8).mov(r0, 0).exit()),
              "pc 0: add: r1 holds the context pointer: no arithmetic on pointers");
    EXPECT_EQ(check(Asm().mov(r2, r10).sub(r2, 8).mov(r0, 0).exit()),
              "pc 1: sub: r2 holds the frame pointer: no arithmetic on pointers");
    EXPECT_EQ(check(Asm().mov(r0, 0).add(r0, r10).exit()),
              "pc 1: add: r10 holds the frame pointer: no arithmetic on pointers");
    EXPECT_EQ(check(Asm().neg(r1).mov(r0, 0).exit()),
              "pc 0: neg: r1 holds the context pointer: no arithmetic on pointers");
    EXPECT_EQ(check(Asm().mov(r6, r1).and_(r6, -8).mov(r0, 0).exit()),
              "pc 1: and: r6 holds the context pointer: no arithmetic on pointers");
}

TEST(VerifierRejects, PointerComparison) {
    EXPECT_EQ(check(Asm().mov(r0, 0).jeq(r1, 0, "x").label("x").exit()),
              "pc 1: jeq: r1 holds the context pointer: pointers cannot be compared");
    EXPECT_EQ(check(Asm().mov(r0, 0).jgt(r0, r10, "x").label("x").exit()),
              "pc 1: jgt: r10 holds the frame pointer: pointers cannot be compared");
}

TEST(VerifierRejects, PointerLeaks) {
    EXPECT_EQ(check(Asm().stx(8, r10, -8, r1).mov(r0, 0).exit()),
              "pc 0: stxdw: r1 holds the context pointer: pointers cannot be stored");
    EXPECT_EQ(check(Asm().mov(r0, r10).exit()), "pc 1: exit: r0 holds the frame pointer: the result must be a number");
    EXPECT_EQ(check(Asm().mov(r2, r10).mov(r1, 0).call(kSetHas).mov(r0, 0).exit()),
              "pc 2: call: r2 holds the frame pointer: helper arguments must be numbers");
}

TEST(VerifierRejects, PointerOnSomePathsOnly) {
    const Asm a =
        Asm().ldxdw(r2, r1, 0).mov(r3, r1).jeq(r2, 0, "join").mov(r3, 5).label("join").ldxdw(r0, r3, 0).exit();
    EXPECT_EQ(check(a), "pc 4: ldxdw: r3 holds a pointer on some paths only");
    // The context pointer on one path and the frame pointer on the other: just as unusable.
    const Asm b = Asm().ldxdw(r2, r1, 0).mov(r3, r1).jeq(r2, 0, "join").mov(r3, r10).label("join").mov(r0, r3).exit();
    EXPECT_EQ(check(b), "pc 4: mov: r3 holds a pointer on some paths only");
}

// --- memory -------------------------------------------------------------------------------------------------------

TEST(VerifierRejects, ContextLoadsOtherThanAlignedWords) {
    EXPECT_EQ(check(Asm().ldxdw(r0, r1, 12).exit()), "pc 0: ldxdw: context offset 12 is not a multiple of 8");
    EXPECT_EQ(check(Asm().ldx(4, r0, r1, 8).exit()), "pc 0: ldxw: the context is read with ldxdw only");
    EXPECT_EQ(check(Asm().ldx(1, r0, r1, 8).exit()), "pc 0: ldxb: the context is read with ldxdw only");
    // A copy of the context pointer is the context pointer.
    EXPECT_EQ(check(Asm().mov(r6, r1).mov(r1, 0).ldxdw(r0, r6, 8).exit()), "ok");
}

TEST(VerifierRejects, LoadsThroughNonPointers) {
    EXPECT_EQ(check(Asm().mov(r2, 0).ldxdw(r0, r2, 0).exit()),
              "pc 1: ldxdw: r2 is not a pointer: loads read only the context or the stack");
    EXPECT_EQ(check(Asm().ldxdw(r2, r1, 0).ldxdw(r0, r2, 0).exit()),
              "pc 1: ldxdw: r2 is not a pointer: loads read only the context or the stack");
}

TEST(VerifierRejects, StoresAnywhereButTheStack) {
    EXPECT_EQ(check(Asm().st(8, r1, 0, 1).mov(r0, 0).exit()),
              "pc 0: stdw: r1 holds the context pointer: stores go only to the stack");
    EXPECT_EQ(check(Asm().mov(r2, 0).stx(8, r2, 0, r2).mov(r0, 0).exit()),
              "pc 1: stxdw: r2 is not a pointer: stores go only to the stack");
    EXPECT_EQ(check(Asm().st(4, r3, 0, 1).mov(r0, 0).exit()), "pc 0: stw: r3 is not initialised");
}

TEST(VerifierRejects, StackAccessOutsideTheStack) {
    EXPECT_EQ(check(Asm().st(8, r10, -520, 1).mov(r0, 0).exit()),
              "pc 0: stdw: stack access at r10 - 520 is outside the stack (r10 - 512 to r10 - 8)");
    EXPECT_EQ(check(Asm().st(8, r10, 0, 1).mov(r0, 0).exit()),
              "pc 0: stdw: stack access at r10 + 0 is outside the stack (r10 - 512 to r10 - 8)");
    EXPECT_EQ(check(Asm().st(4, r10, -4, 1).mov(r0, 0).exit()),
              "pc 0: stw: stack access at r10 - 4 is outside the stack (r10 - 512 to r10 - 8)");
    EXPECT_EQ(check(Asm().ldxdw(r0, r10, 16).exit()),
              "pc 0: ldxdw: stack access at r10 + 16 is outside the stack (r10 - 512 to r10 - 8)");
    EXPECT_EQ(check(Asm().st(8, r10, -512, 1).st(8, r10, -8, 2).mov(r0, 0).exit()), "ok");
}

TEST(VerifierRejects, MisalignedStackAccess) {
    EXPECT_EQ(check(Asm().st(8, r10, -12, 1).mov(r0, 0).exit()),
              "pc 0: stdw: stack access at r10 - 12 is not aligned to 8 bytes");
    EXPECT_EQ(check(Asm().st(8, r10, -16, 1).ldx(2, r0, r10, -15).exit()),
              "pc 1: ldxh: stack access at r10 - 15 is not aligned to 2 bytes");
    EXPECT_EQ(check(Asm().st(4, r10, -12, 1).mov(r0, 0).exit()), "ok");
}

TEST(VerifierRejects, StackReadBeforeWrite) {
    EXPECT_EQ(check(Asm().ldxdw(r0, r10, -8).exit()),
              "pc 0: ldxdw: reads 8 bytes at r10 - 8, not written on every path to here");
    // Half of the double word written.
    EXPECT_EQ(check(Asm().st(4, r10, -8, 1).ldxdw(r0, r10, -8).exit()),
              "pc 1: ldxdw: reads 8 bytes at r10 - 8, not written on every path to here");
    // Written on one path only.
    const Asm a =
        Asm().ldxdw(r2, r1, 0).jeq(r2, 0, "join").st(8, r10, -16, 1).label("join").ldx(1, r0, r10, -16).exit();
    EXPECT_EQ(check(a), "pc 3: ldxb: reads 1 byte at r10 - 16, not written on every path to here");
    // Written on both paths.
    const Asm b = Asm()
                      .ldxdw(r2, r1, 0)
                      .jeq(r2, 0, "other")
                      .st(8, r10, -16, 1)
                      .ja("join")
                      .label("other")
                      .stx(8, r10, -16, r2)
                      .label("join")
                      .ldx(4, r0, r10, -12)
                      .exit();
    EXPECT_EQ(check(b), "ok");
}

// --- helpers ------------------------------------------------------------------------------------------------------

TEST(VerifierRejects, ConstantArgumentsNotProvenConstant) {
    EXPECT_EQ(check(Asm().ldxdw(r1, r1, 0).mov(r2, 2).call(kMatch).exit()),
              "pc 2: call: match needs a constant rule index in r1");
    EXPECT_EQ(check(Asm().ldxdw(r1, r1, 0).ldxdw(r2, r1, 0).call(kGlob).exit()),
              "pc 1: ldxdw: r1 is not a pointer: loads read only the context or the stack");
    EXPECT_EQ(check(Asm().ldxdw(r2, r1, 8).ldxdw(r1, r1, 0).call(kGlob).exit()),
              "pc 2: call: glob needs a constant matcher id in r1");
    EXPECT_EQ(check(Asm().mov(r1, 0).mov(r2, 0).ldxdw(r3, r10, -8).call(kSetCmp).exit()),
              "pc 2: ldxdw: reads 8 bytes at r10 - 8, not written on every path to here");
    // Different constants on two paths merge to an unknown number.
    const Asm a = Asm().ldxdw(r2, r1, 0).mov(r1, 0).jeq(r2, 0, "join").mov(r1, 1).label("join").call(kMatch).exit();
    EXPECT_EQ(check(a), "pc 4: call: match needs a constant rule index in r1");
    // The same constant on both paths stays a constant.
    const Asm b = Asm().ldxdw(r2, r1, 0).mov(r1, 1).jeq(r2, 0, "join").mov(r1, 1).label("join").call(kMatch).exit();
    EXPECT_EQ(check(b), "ok");
}

TEST(VerifierRejects, ConstantArgumentsOutOfRange) {
    EXPECT_EQ(check(Asm().mov(r1, 4).mov(r2, 2).call(kMatch).exit()),
              "pc 2: call: match: rule index 4 in r1 is out of range (the bundle has 4 rules)");
    EXPECT_EQ(check(Asm().mov(r1, 3).mov(r2, 2).call(kMatch).exit()), "ok");
    EXPECT_EQ(check(Asm().mov(r1, -1).call(kRateCount).exit()),
              "pc 1: call: rate_count: rule index 18446744073709551615 in r1 is out of range (the bundle has 4 rules)");
    EXPECT_EQ(check(Asm().mov(r1, 2).mov(r2, 0).call(kPrefix).exit()),
              "pc 2: call: prefix: matcher id 2 in r1 is out of range (the bundle has 2 matchers)");
    EXPECT_EQ(check(Asm().mov(r1, 0).mov(r2, 0).mov(r3, 3).call(kSetCmp).exit()),
              "pc 3: call: set_cmp: op 3 in r3 is out of range (set_cmp ops are 0 to 2)");
    EXPECT_EQ(check(Asm().mov(r1, 0).mov(r2, 0).mov(r3, 4).call(kTaint).exit()),
              "pc 3: call: taint: op 4 in r3 is out of range (taint ops are 0 to 3)");
    EXPECT_EQ(check(Asm().mov(r1, 0).mov(r2, 0).mov(r3, 3).call(kTaint).exit()), "ok");
    // Constants are folded through arithmetic, with RFC 9669 semantics (mod by 0 leaves the dividend).
    EXPECT_EQ(check(Asm().mov(r1, 1).add(r1, 2).call(kRateCount).exit()), "ok");
    EXPECT_EQ(check(Asm().mov(r1, 2).lsh(r1, 65).call(kRateCount).exit()),
              "pc 2: call: rate_count: rule index 4 in r1 is out of range (the bundle has 4 rules)");
    EXPECT_EQ(check(Asm().mov(r1, 3).mod(r1, 0).call(kRateCount).exit()), "ok");
    EXPECT_EQ(check(Asm().mov(r1, 9).div(r1, 0).call(kRateCount).exit()), "ok");
    EXPECT_EQ(check(Asm().lddw(r1, std::int64_t{1} << 32).call(kRateCount).exit()),
              "pc 2: call: rate_count: rule index 4294967296 in r1 is out of range (the bundle has 4 rules)");
}

// --- cost ---------------------------------------------------------------------------------------------------------

TEST(VerifierRejects, CostAboveTheLimit) {
    Limits tight = limits();
    tight.maxCost = 1;
    EXPECT_EQ(check(Asm().mov(r0, 0).exit(), tight), "pc 1: exit: worst-case cost 2 exceeds the limit 1");
    tight.maxCost = 100;
    const HelperSpec& glob = *findHelper(kGlob);
    EXPECT_EQ(check(Asm().mov(r1, 0).mov(r2, 0).call(kGlob).exit(), tight),
              "pc 2: call: worst-case cost " + std::to_string(3 + glob.cost) + " exceeds the limit 100");
    tight.maxCost = 2;
    EXPECT_EQ(check(Asm().mov(r0, 0).exit(), tight), "ok");
}

// --- accepted programs and their bound ----------------------------------------------------------------------------

TEST(Verifier, KeepsTheCodeAndTheContextSize) {
    const auto slots = Asm().ldxdw(r0, r1, 8).exit().slots();
    auto verified = verify(slots, limits());
    ASSERT_TRUE(verified) << verified.error().text();
    EXPECT_EQ(std::vector<Insn>(verified.value().code().begin(), verified.value().code().end()), slots);
    EXPECT_EQ(verified.value().contextWords(), 16u);
    EXPECT_EQ(verified.value().bound(), (CostBound{2, 2}));
}

TEST(Verifier, CostBoundIsTheLongestPathOfADiamond) {
    // pc 1 branches: the left arm is five instructions long, the right arm two, one of them a glob call. The
    // longest path in instructions goes left; the costliest goes right.
    const Asm a = Asm()
                      .ldxdw(r2, r1, 0)     // 0
                      .jeq(r2, 0, "right")  // 1
                      .mov(r0, 1)           // 2  left
                      .add(r0, 1)           // 3
                      .add(r0, 1)           // 4
                      .add(r0, 1)           // 5
                      .ja("join")           // 6
                      .label("right")       //
                      .mov(r1, 0)           // 7  right
                      .call(kGlob)          // 8
                      .label("join")        //
                      .mov(r0, 0)           // 9
                      .exit();              // 10
    auto verified = verify(a.slots(), limits());
    ASSERT_TRUE(verified) << verified.error().text();
    const std::uint64_t glob = findHelper(kGlob)->cost;
    ASSERT_GT(6 + glob, 9u);
    // left: 0 1 2 3 4 5 6 9 10 = 9 instructions; right: 0 1 7 8 9 10 = 6 instructions plus the glob call.
    EXPECT_EQ(verified.value().bound().instructions, 9u);
    EXPECT_EQ(verified.value().bound().cost, 6 + glob);
}

TEST(Verifier, WideLoadCountsOnceAndCostIsAtTheWorstExit) {
    const Asm a =
        Asm().ldxdw(r2, r1, 0).lddw(r0, -1).jeq(r2, 0, "short").mov(r0, 2).mov(r0, 3).exit().label("short").exit();
    auto verified = verify(a.slots(), limits());
    ASSERT_TRUE(verified) << verified.error().text();
    EXPECT_EQ(verified.value().bound(), (CostBound{6, 6}));
}

TEST(Verifier, AcceptsJumpsWithOffsetZeroAndJoinsOfManyPaths) {
    const Asm a = Asm()
                      .ldxdw(r2, r1, 0)
                      .mov(r0, 0)
                      .jeq(r2, 0, 0)
                      .jeq(r2, 1, "end")
                      .jeq(r2, 2, "end")
                      .jeq(r2, 3, "end")
                      .ja("end")
                      .label("end")
                      .exit();
    EXPECT_EQ(check(a), "ok");
}

TEST(Verifier, AcceptsGotolOverMoreThanAJaCanReach) {
    // 40000 slots between the gotol and its target: past the 32767 of a 16-bit offset.
    const std::vector<Insn> slots = gotolOverBlock(40000);
    Limits wide = limits();
    wide.maxCost = 100000;
    auto verified = verify(slots, wide);
    ASSERT_TRUE(verified) << verified.error().text();
    // Longest path: through the block, 3 + 40000 + 1; the gotol path is 5 instructions.
    EXPECT_EQ(verified.value().bound(), (CostBound{40004, 40004}));
    // The target is the exit: one slot less is the last add, one more is past the end.
    auto shorter = slots;
    shorter[3].imm = 39999;
    EXPECT_EQ(check(shorter, wide), "ok");
    auto longer = slots;
    longer[3].imm = 40001;
    EXPECT_EQ(check(longer, wide), "pc 3: gotol: jump target 40005 is past the end (program has 40005 slots)");
}

TEST(Verifier, GotolCountsAsOneInstruction) {
    EXPECT_EQ(check(Asm().mov(r0, 0).raw(gotol(1)).mov(r0, 1).exit()), "pc 2: mov: unreachable instruction");
    auto verified = verify(Asm().mov(r0, 0).raw(gotol(0)).exit().slots(), limits());
    ASSERT_TRUE(verified) << verified.error().text();
    EXPECT_EQ(verified.value().bound(), (CostBound{3, 3}));
    // A gotol joins its state with the fall-through like any jump.
    EXPECT_EQ(check(Asm().ldxdw(r2, r1, 0).jeq(r2, 0, 2).mov(r3, 1).raw(gotol(1)).mov(r3, 2).mov(r0, r3).exit()), "ok");
    EXPECT_EQ(check(Asm().ldxdw(r2, r1, 0).jeq(r2, 0, 2).mov(r3, 1).raw(gotol(0)).mov(r0, r3).exit()),
              "pc 4: mov: r3 is not initialised");
}

TEST(Helpers, TableMatchesTheDesign) {
    ASSERT_EQ(helperTable().size(), 8u);
    const char* names[] = {"match", "set_has", "set_cmp", "glob", "prefix", "label_le", "taint", "rate_count"};
    const int args[] = {2, 2, 3, 2, 2, 2, 3, 1};
    const std::uint8_t constArgs[] = {0b001, 0, 0b100, 0b001, 0b001, 0, 0b100, 0b001};
    for (std::size_t i = 0; i < 8; ++i) {
        const HelperSpec& h = helperTable()[i];
        EXPECT_EQ(h.id, i + 1);
        EXPECT_STREQ(h.name, names[i]);
        EXPECT_EQ(h.args, args[i]);
        EXPECT_EQ(h.constArgs(), constArgs[i]) << h.name;
        EXPECT_GT(h.cost, 0u);
        EXPECT_EQ(findHelper(h.id), &h);
    }
    EXPECT_EQ(findHelper(0), nullptr);
    EXPECT_EQ(findHelper(9), nullptr);
    EXPECT_EQ(findHelper(-1), nullptr);
}
