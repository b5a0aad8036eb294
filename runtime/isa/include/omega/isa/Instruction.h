// The semantic level of the ISA, after PREVAIL: a std::variant of small instruction structs, and the checked
// conversions between it and the raw slots (unmarshal) or back (marshal).
#pragma once

#include "omega/isa/Isa.h"
#include "omega/isa/Result.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <variant>
#include <vector>

namespace omega::isa {

struct Reg {
    std::uint8_t index = 0;  // 0..10
    bool operator==(const Reg&) const = default;
};

struct Imm {
    std::int32_t value = 0;
    bool operator==(const Imm&) const = default;
};

using Operand = std::variant<Reg, Imm>;

// Values are the RFC 9669 operation codes (high nibble of the opcode).
enum class AluOp : std::uint8_t {
    Add = 0x0,
    Sub = 0x1,
    Mul = 0x2,
    Div = 0x3,
    Or = 0x4,
    And = 0x5,
    Lsh = 0x6,
    Rsh = 0x7,
    Neg = 0x8,
    Mod = 0x9,
    Xor = 0xa,
    Mov = 0xb,
    Arsh = 0xc,
};
enum class Cond : std::uint8_t {
    Eq = 0x1,
    Gt = 0x2,
    Ge = 0x3,
    Set = 0x4,
    Ne = 0x5,
    Sgt = 0x6,
    Sge = 0x7,
    Lt = 0xa,
    Le = 0xb,
    Slt = 0xc,
    Sle = 0xd,
};
enum class Width : std::uint8_t { B = 1, H = 2, W = 4, DW = 8 };

// 64-bit ALU: dst = dst op src. Neg has no source: its src is Imm{0}.
struct Alu {
    AluOp op = AluOp::Mov;
    Reg dst;
    Operand src = Imm{};
    bool operator==(const Alu&) const = default;
};

struct Condition {
    Cond op = Cond::Eq;
    Reg left;
    Operand right = Imm{};
    bool operator==(const Condition&) const = default;
};

// goto (no condition) or if-goto. The offset counts slots from the next slot, as encoded.
struct Jmp {
    std::optional<Condition> cond;
    std::int16_t offset = 0;
    bool operator==(const Jmp&) const = default;
};

// gotol (RFC 9669: class JMP32, operation JA): goto with a 32-bit offset, encoded in imm and counted from the next
// slot, for targets a 16-bit Jmp cannot reach. A separate type, so marshal writes ja or gotol exactly as the program
// says.
struct Gotol {
    std::int32_t offset = 0;
    bool operator==(const Gotol&) const = default;
};

struct Call {
    std::int32_t helper = 0;
    bool operator==(const Call&) const = default;
};

struct Exit {
    bool operator==(const Exit&) const = default;
};

// dst = *(width *)(base + offset), zero-extended.
struct Load {
    Width width = Width::DW;
    Reg dst;
    Reg base;
    std::int16_t offset = 0;
    bool operator==(const Load&) const = default;
};

// *(width *)(base + offset) = value. Omega stores only words and double words.
struct Store {
    Width width = Width::DW;
    Reg base;
    std::int16_t offset = 0;
    Operand value = Imm{};
    bool operator==(const Store&) const = default;
};

// dst = value, a full 64-bit immediate in two slots.
struct LoadImm64 {
    Reg dst;
    std::int64_t value = 0;
    bool operator==(const LoadImm64&) const = default;
};

using Instruction = std::variant<Alu, Jmp, Gotol, Call, Exit, Load, Store, LoadImm64>;
using Program = std::vector<Instruction>;

// 2 for LoadImm64, 1 for the rest.
std::size_t slotCount(const Instruction& insn);

// Checks each instruction on its own: the opcode is in the table, unused fields are zero, registers are r0..r10,
// r10 is not written, a wide load is complete and its second slot is empty. Whole-program rules (jump targets,
// helper ids, cost) belong to the verifier.
Result<Program> unmarshal(std::span<const Insn> slots);
Result<Program> unmarshal(std::span<const std::uint8_t> bytes);
// The instruction that starts at slots[pc].
Result<Instruction> unmarshalAt(std::span<const Insn> slots, std::size_t pc);

// The inverse; fails, with the same checks and messages as unmarshal, on an instruction Omega does not accept
// (a register above r10, a write to r10, neg with an operand, a byte or half-word store).
Result<std::vector<Insn>> marshalSlots(const Program& program);
Result<std::vector<std::uint8_t>> marshal(const Program& program);

}  // namespace omega::isa
