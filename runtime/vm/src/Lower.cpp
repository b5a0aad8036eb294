// Verified instructions to interpreter Ops: opcode and operand form picked once, immediates sign-extended, shift
// amounts masked, division and modulo by the constant 0 turned into what RFC 9669 defines them to do.
#include "Lower.h"

#include "Semantics.h"

#include <variant>

namespace omega::vm {
namespace {

using isa::AluOp;
using isa::Cond;

OpCode aluCode(AluOp op, bool x) {
    switch (op) {
        case AluOp::Add: return x ? OpCode::AddX : OpCode::AddK;
        case AluOp::Sub: return x ? OpCode::SubX : OpCode::SubK;
        case AluOp::Mul: return x ? OpCode::MulX : OpCode::MulK;
        case AluOp::Div: return x ? OpCode::DivX : OpCode::DivK;
        case AluOp::Or: return x ? OpCode::OrX : OpCode::OrK;
        case AluOp::And: return x ? OpCode::AndX : OpCode::AndK;
        case AluOp::Lsh: return x ? OpCode::LshX : OpCode::LshK;
        case AluOp::Rsh: return x ? OpCode::RshX : OpCode::RshK;
        case AluOp::Neg: return OpCode::Neg;
        case AluOp::Mod: return x ? OpCode::ModX : OpCode::ModK;
        case AluOp::Xor: return x ? OpCode::XorX : OpCode::XorK;
        case AluOp::Mov: return x ? OpCode::MovX : OpCode::MovK;
        case AluOp::Arsh: return x ? OpCode::ArshX : OpCode::ArshK;
    }
    return OpCode::Filler;
}

OpCode jumpCode(Cond cond, bool x) {
    switch (cond) {
        case Cond::Eq: return x ? OpCode::JeqX : OpCode::JeqK;
        case Cond::Gt: return x ? OpCode::JgtX : OpCode::JgtK;
        case Cond::Ge: return x ? OpCode::JgeX : OpCode::JgeK;
        case Cond::Set: return x ? OpCode::JsetX : OpCode::JsetK;
        case Cond::Ne: return x ? OpCode::JneX : OpCode::JneK;
        case Cond::Sgt: return x ? OpCode::JsgtX : OpCode::JsgtK;
        case Cond::Sge: return x ? OpCode::JsgeX : OpCode::JsgeK;
        case Cond::Lt: return x ? OpCode::JltX : OpCode::JltK;
        case Cond::Le: return x ? OpCode::JleX : OpCode::JleK;
        case Cond::Slt: return x ? OpCode::JsltX : OpCode::JsltK;
        case Cond::Sle: return x ? OpCode::JsleX : OpCode::JsleK;
    }
    return OpCode::Filler;
}

// Register operands go to `src`, immediates to `arg` (the interpreter sign-extends them).
void setOperand(Op& op, const isa::Operand& operand) {
    if (const auto* reg = std::get_if<isa::Reg>(&operand)) {
        op.regs = static_cast<std::uint8_t>((op.regs & 15) | (reg->index << 4));
    } else {
        op.arg = static_cast<std::uint32_t>(std::get<isa::Imm>(operand).value);
    }
}

std::uint32_t stackOffset(std::int16_t offset) {
    return static_cast<std::uint32_t>(kStackSize + offset);
}

}  // namespace

Op lowerAlu(const isa::Alu& alu) {
    const bool x = std::holds_alternative<isa::Reg>(alu.src);
    Op op = makeOp(aluCode(alu.op, x), alu.dst.index, 0, 0, 0);
    setOperand(op, alu.src);
    if (x) return op;
    switch (op.code) {
        case OpCode::LshK:
        case OpCode::RshK:
        case OpCode::ArshK: op.arg &= 63; break;
        case OpCode::DivK:
            if (op.arg == 0) op.code = OpCode::MovK;  // dst / 0 = 0
            break;
        case OpCode::ModK:
            if (op.arg == 0) return makeOp(OpCode::MovX, alu.dst.index, alu.dst.index, 0, 0);  // dst % 0 = dst
            break;
        default: break;
    }
    return op;
}

Op lowerJump(const isa::Jmp& jmp, std::uint32_t target) {
    if (!jmp.cond) return lowerGoto(target);
    (void)target;  // INVARIANT (verifier): target == pc + 1 + jmp.offset, so the 16-bit offset is the relative jump
    Op op = makeOp(jumpCode(jmp.cond->op, std::holds_alternative<isa::Reg>(jmp.cond->right)), jmp.cond->left.index, 0,
                   jmp.offset, 0);
    setOperand(op, jmp.cond->right);
    return op;
}

Op lowerGoto(std::uint32_t target) {
    return makeOp(OpCode::Ja, 0, 0, 0, target);
}

Op lowerCall(std::uint32_t helper, std::uint32_t cost) {
    return makeOp(OpCode::Call, 0, 0, static_cast<std::int16_t>(helper), cost);
}

std::pair<Op, Op> lowerLoadImm64(const isa::LoadImm64& load) {
    const auto value = static_cast<std::uint64_t>(load.value);
    return {makeOp(OpCode::Lddw, load.dst.index, 0, 0, static_cast<std::uint32_t>(value)),
            makeOp(OpCode::Filler, 0, 0, 0, static_cast<std::uint32_t>(value >> 32))};
}

Op lowerContextLoad(const isa::Load& load) {
    return makeOp(OpCode::LoadContext, load.dst.index, 0, 0, static_cast<std::uint32_t>(load.offset / 8));
}

Op lowerStackLoad(const isa::Load& load) {
    OpCode code = OpCode::LoadStackDW;
    switch (load.width) {
        case isa::Width::B: code = OpCode::LoadStackB; break;
        case isa::Width::H: code = OpCode::LoadStackH; break;
        case isa::Width::W: code = OpCode::LoadStackW; break;
        case isa::Width::DW: code = OpCode::LoadStackDW; break;
    }
    return makeOp(code, load.dst.index, 0, 0, stackOffset(load.offset));
}

Op lowerStackStore(const isa::Store& store) {
    const bool x = std::holds_alternative<isa::Reg>(store.value);
    const bool dw = store.width == isa::Width::DW;
    Op op = makeOp(
        x ? (dw ? OpCode::StoreStackDWX : OpCode::StoreStackWX) : (dw ? OpCode::StoreStackDWK : OpCode::StoreStackWK),
        0, 0, 0, 0);
    setOperand(op, store.value);
    // A store of a constant keeps the constant in `arg` and the offset (0..511) in `rel`; a store of a register
    // keeps the offset in `arg`.
    if (x) {
        op.arg = stackOffset(store.offset);
    } else {
        op.rel = static_cast<std::int16_t>(stackOffset(store.offset));
    }
    return op;
}

}  // namespace omega::vm
