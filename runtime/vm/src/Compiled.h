// Private: the form the verifier decodes a program into and the interpreter runs. One Op per slot (the second slot
// of a wide load is a never-executed filler), every operand resolved: jump targets are resolved, context loads are
// word indices, stack accesses are offsets into the 512-byte stack. 8 bytes an op.
#pragma once

#include "omega/vm/Verifier.h"

#include <cstdint>
#include <vector>

namespace omega::vm {

inline constexpr std::int32_t kStackSize = 512;

// clang-format off
enum class OpCode : std::uint8_t {
    // alu64: K forms take `arg` (sign-extended), X forms the register `src`.
    // INVARIANT (verifier): DivK and ModK have arg != 0 (by the constant 0 they are lowered to MovK 0 and to
    // MovX dst, dst); LshK, RshK and ArshK have arg < 64 (masked when lowered).
    AddK, AddX, SubK, SubX, MulK, MulX, DivK, DivX, OrK, OrX, AndK, AndX,
    LshK, RshK, ArshK, LshX, RshX, ArshX,
    Neg, ModK, ModX, XorK, XorX, MovK, MovX,
    Lddw,  // dst = the 64-bit value (arg of this op and the next), and skip the second slot
    // Ja jumps to `arg`; the conditional jumps to pc + 1 + rel.
    Ja,  // ja and gotol
    JeqK, JeqX, JgtK, JgtX, JgeK, JgeX, JsetK, JsetX, JneK, JneX,
    JsgtK, JsgtX, JsgeK, JsgeX, JltK, JltX, JleK, JleX, JsltK, JsltX, JsleK, JsleX,
    Call,  // helper id in `rel`, its cost in `arg`
    Exit,
    LoadContext,                                      // dst = context[arg]
    LoadStackB, LoadStackH, LoadStackW, LoadStackDW,  // dst = stack[arg ..], zero-extended
    StoreStackWK, StoreStackDWK,                      // stack[rel ..] = the sign-extended K operand (arg)
    StoreStackWX, StoreStackDWX,                      // stack[arg ..] = src
    Filler,  // the second slot of a wide load; never executed
};
// clang-format on

// 8 bytes, so a program of 200,000 slots (a 10,000-rule policy) decodes to 1.6 MB and stays in a core's L2.
struct Op {
    OpCode code = OpCode::Filler;
    std::uint8_t regs = 0;  // dst in the low nibble, src in the high nibble
    std::int16_t rel = 0;   // conditional jumps: target - (pc + 1); Call: the helper id; StoreStack*K: the offset
    std::uint32_t arg = 0;  // K operand (32 bits, sign-extended when used; shifts pre-masked); Ja: the absolute
                            // target; LoadContext: the word; other stack ops: the offset (0..511); Call: the helper's
                            // cost; Lddw: the low 32 bits of the value (the high 32 are in the next op's arg)
    std::uint8_t dst() const { return regs & 15; }
    std::uint8_t src() const { return regs >> 4; }
};
static_assert(sizeof(Op) == 8);

inline Op makeOp(OpCode code, std::uint8_t dst, std::uint8_t src, std::int16_t rel, std::uint32_t arg) {
    return Op{code, static_cast<std::uint8_t>((dst & 15) | (src << 4)), rel, arg};
}

namespace detail {
struct Compiled {
    std::vector<isa::Insn> code;
    std::vector<Op> ops;  // one per slot
    CostBound bound;
    std::uint32_t contextWords = 0;
    std::uint32_t helpersUsed = 0;  // bit id set for each helper the program calls
};
}  // namespace detail

const detail::Compiled& compiled(const Verified& verified);

}  // namespace omega::vm
