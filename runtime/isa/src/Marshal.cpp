// Semantic instructions -> raw slots -> bytes. Each lowered instruction is checked by unmarshalAt, so marshal
// accepts exactly what unmarshal accepts and reports the same errors.
#include "omega/isa/Instruction.h"

#include "OpcodeBits.h"

#include <type_traits>

namespace omega::isa {
namespace {

// Opcode 0x00 (never accepted) stands for an enum value outside the ISA.
std::uint8_t withOperation(unsigned operation, std::uint8_t rest) {
    return operation > 0x0f ? 0 : static_cast<std::uint8_t>(operation << 4 | rest);
}

std::uint8_t memory(InsnClass cls, Width width) {
    const std::uint8_t size = bits::sizeBits(static_cast<unsigned>(width));
    return size == 0xff ? 0 : static_cast<std::uint8_t>(bits::kModeMem | size | static_cast<std::uint8_t>(cls));
}

// Sets src or imm from an operand; returns the source bit for ALU and JMP opcodes.
std::uint8_t setOperand(Insn& insn, const Operand& operand) {
    if (const Reg* reg = std::get_if<Reg>(&operand)) {
        insn.src = reg->index;
        return bits::kSourceX;
    }
    insn.imm = std::get_if<Imm>(&operand)->value;
    return 0;
}

void lower(const Instruction& instruction, std::vector<Insn>& out) {
    Insn insn;
    std::visit(
        [&](const auto& in) {
            using T = std::decay_t<decltype(in)>;
            if constexpr (std::is_same_v<T, Alu>) {
                insn.dst = in.dst.index;
                const std::uint8_t x = setOperand(insn, in.src);
                insn.opcode =
                    withOperation(static_cast<unsigned>(in.op), x | static_cast<std::uint8_t>(InsnClass::Alu64));
            } else if constexpr (std::is_same_v<T, Jmp>) {
                insn.offset = in.offset;
                if (!in.cond) {
                    insn.opcode = bits::kJa;
                } else {
                    insn.dst = in.cond->left.index;
                    const std::uint8_t x = setOperand(insn, in.cond->right);
                    insn.opcode = withOperation(static_cast<unsigned>(in.cond->op),
                                                x | static_cast<std::uint8_t>(InsnClass::Jmp));
                }
            } else if constexpr (std::is_same_v<T, Gotol>) {
                insn.opcode = bits::kGotol;
                insn.imm = in.offset;
            } else if constexpr (std::is_same_v<T, Call>) {
                insn.opcode = bits::kCall;
                insn.imm = in.helper;
            } else if constexpr (std::is_same_v<T, Exit>) {
                insn.opcode = bits::kExit;
            } else if constexpr (std::is_same_v<T, Load>) {
                insn.opcode = memory(InsnClass::Ldx, in.width);
                insn.dst = in.dst.index;
                insn.src = in.base.index;
                insn.offset = in.offset;
            } else if constexpr (std::is_same_v<T, Store>) {
                insn.dst = in.base.index;
                insn.offset = in.offset;
                const bool fromRegister = setOperand(insn, in.value) != 0;
                insn.opcode = memory(fromRegister ? InsnClass::Stx : InsnClass::St, in.width);
            } else if constexpr (std::is_same_v<T, LoadImm64>) {
                const auto value = static_cast<std::uint64_t>(in.value);
                insn.opcode = bits::kLddw;
                insn.dst = in.dst.index;
                insn.imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(value));
                out.push_back(insn);
                insn = Insn{};
                insn.imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(value >> 32));
            }
        },
        instruction);
    out.push_back(insn);
}

}  // namespace

Result<std::vector<Insn>> marshalSlots(const Program& program) {
    std::vector<Insn> slots;
    slots.reserve(program.size());
    for (const Instruction& instruction : program) {
        const std::size_t pc = slots.size();
        lower(instruction, slots);
        auto check = unmarshalAt(slots, pc);
        if (!check) return check.error();
    }
    return slots;
}

Result<std::vector<std::uint8_t>> marshal(const Program& program) {
    auto slots = marshalSlots(program);
    if (!slots) return slots.error();
    return encode(slots.value());
}

}  // namespace omega::isa
