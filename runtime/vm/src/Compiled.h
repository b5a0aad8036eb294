// Private: the form the verifier decodes a program into and the interpreter runs. One Op per slot (the second slot
// of a wide load is a never-executed filler), every operand resolved: jump targets are absolute, context loads are
// word indices, stack accesses are offsets into the 512-byte stack, immediates are sign-extended. 16 bytes an op.
#pragma once

#include "omega/vm/Verifier.h"

#include <cstdint>
#include <vector>

namespace omega::vm {

inline constexpr std::int32_t kStackSize = 512;

// clang-format off
enum class OpCode : std::uint8_t {
    // alu64: K forms take `imm` (sign-extended), X forms the register `src`.
    // INVARIANT (verifier): DivK and ModK have imm != 0 (by the constant 0 they are lowered to MovK 0 and to
    // MovX dst, dst); LshK, RshK and ArshK have imm < 64 (masked when lowered).
    AddK, AddX, SubK, SubX, MulK, MulX, DivK, DivX, OrK, OrX, AndK, AndX,
    LshK, RshK, ArshK, LshX, RshX, ArshX,
    Neg, ModK, ModX, XorK, XorX, MovK, MovX,
    Lddw,  // dst = imm, and skip the second slot
    // Jumps to `target`.
    Ja,  // ja and gotol
    JeqK, JeqX, JgtK, JgtX, JgeK, JgeX, JsetK, JsetX, JneK, JneX,
    JsgtK, JsgtX, JsgeK, JsgeX, JltK, JltX, JleK, JleX, JsltK, JsltX, JsleK, JsleX,
    Call,  // helper id in `target`, its cost in `imm`
    Exit,
    LoadContext,                                      // dst = context[target]
    LoadStackB, LoadStackH, LoadStackW, LoadStackDW,  // dst = stack[target ..], zero-extended
    StoreStackWK, StoreStackDWK,                      // stack[target ..] = imm
    StoreStackWX, StoreStackDWX,                      // stack[target ..] = src
    Filler,  // the second slot of a wide load; never executed
};
// clang-format on

struct Op {
    OpCode code = OpCode::Filler;
    std::uint8_t dst = 0;
    std::uint8_t src = 0;
    std::uint32_t target = 0;  // jump target pc, helper id, context word index or stack offset (0..511)
    std::uint64_t imm = 0;     // operand, stored value, or helper cost
};
static_assert(sizeof(Op) == 16);

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
