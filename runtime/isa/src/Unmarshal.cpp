// Raw slots -> semantic instructions, checking each against the opcode table. Every failure is an Error naming
// the pc and the opcode; nothing is thrown and no input is trusted.
#include "omega/isa/Instruction.h"

#include "OpcodeBits.h"

#include <cstdio>
#include <optional>
#include <string>

namespace omega::isa {
namespace {

std::string hex(std::uint8_t byte) {
    char text[8];
    std::snprintf(text, sizeof text, "0x%02x", byte);
    return text;
}

std::string describe(const OpcodeInfo& row) {
    return "opcode " + hex(row.opcode) + " (" + std::string(row.mnemonic) + ")";
}

std::string unknown(std::uint8_t opcode) {
    std::string message = "unknown opcode " + hex(opcode);
    const auto cls = static_cast<InsnClass>(opcode & bits::kClassMask);
    if (cls == InsnClass::Alu) message += " (class alu is not accepted)";
    if (cls == InsnClass::Jmp32) message += " (class jmp32 is not accepted, except gotol 0x06)";
    return message;
}

// A field the row does not use must be zero.
std::optional<std::string> unusedField(const Insn& insn, std::uint8_t used) {
    auto check = [&](Field field, const char* name, long value) -> std::optional<std::string> {
        if ((used & field) || value == 0) return std::nullopt;
        return std::string(name) + " must be 0, is " + std::to_string(value);
    };
    if (auto e = check(kDst, "dst", insn.dst)) return e;
    if (auto e = check(kSrc, "src", insn.src)) return e;
    if (auto e = check(kOffset, "offset", insn.offset)) return e;
    return check(kImm, "imm", insn.imm);
}

// The first problem with a slot on its own, or nullopt.
std::optional<std::string> checkSlot(const Insn& insn, const OpcodeInfo* row) {
    if (row == nullptr) return unknown(insn.opcode);
    if (auto e = unusedField(insn, row->fields)) return describe(*row) + ": " + *e;
    if ((row->fields & kDst) && insn.dst >= kRegisterCount) {
        return describe(*row) + ": register r" + std::to_string(insn.dst) + " does not exist";
    }
    if ((row->fields & kSrc) && insn.src >= kRegisterCount) {
        return describe(*row) + ": register r" + std::to_string(insn.src) + " does not exist";
    }
    if (row->writesDst && insn.dst == kFramePointer) return describe(*row) + ": r10 is read-only";
    return std::nullopt;
}

std::optional<std::string> checkSecondSlot(const Insn& second, const OpcodeInfo& row) {
    if (second.opcode != 0) return describe(row) + ": second slot must have opcode 0x00, is " + hex(second.opcode);
    if (auto e = unusedField(second, kImm)) return describe(row) + ": second slot " + *e;
    return std::nullopt;
}

Operand operand(const OpcodeInfo& row, const Insn& insn) {
    if (row.source == Source::X) return Reg{insn.src};
    return Imm{insn.imm};
}

Instruction build(const OpcodeInfo& row, const Insn& insn, const Insn& second) {
    switch (row.cls) {
        case InsnClass::Alu64:
            return Alu{static_cast<AluOp>(bits::operation(row.opcode)), Reg{insn.dst}, operand(row, insn)};
        case InsnClass::Jmp:
            if (row.call) return Call{insn.imm};
            if (row.exit) return Exit{};
            if (row.opcode == bits::kJa) return Jmp{std::nullopt, insn.offset};
            return Jmp{Condition{static_cast<Cond>(bits::operation(row.opcode)), Reg{insn.dst}, operand(row, insn)},
                       insn.offset};
        case InsnClass::Ldx: return Load{static_cast<Width>(row.size), Reg{insn.dst}, Reg{insn.src}, insn.offset};
        case InsnClass::St:
        case InsnClass::Stx: return Store{static_cast<Width>(row.size), Reg{insn.dst}, insn.offset, operand(row, insn)};
        case InsnClass::Ld: {
            const std::uint64_t low = static_cast<std::uint32_t>(insn.imm);
            const std::uint64_t high = static_cast<std::uint32_t>(second.imm);
            return LoadImm64{Reg{insn.dst}, static_cast<std::int64_t>(high << 32 | low)};
        }
        // INVARIANT: gotol is the only JMP32 row (the table's static_assert checks it).
        case InsnClass::Jmp32: return Gotol{insn.imm};
        case InsnClass::Alu: break;
    }
    // INVARIANT: the table has no rows of the other classes (its static_assert checks the class bits).
    return Exit{};
}

}  // namespace

std::size_t slotCount(const Instruction& insn) {
    return std::holds_alternative<LoadImm64>(insn) ? 2 : 1;
}

Result<Instruction> unmarshalAt(std::span<const Insn> slots, std::size_t pc) {
    if (pc >= slots.size())
        return Error{pc, "no instruction: the program has " + std::to_string(slots.size()) + " slots"};
    const Insn& insn = slots[pc];
    const OpcodeInfo* row = findOpcode(insn.opcode);
    if (auto e = checkSlot(insn, row)) return Error{pc, std::move(*e)};
    Insn second;
    if (row->wide) {
        if (pc + 1 >= slots.size()) return Error{pc, describe(*row) + ": wide load cut off by the end of the program"};
        second = slots[pc + 1];
        if (auto e = checkSecondSlot(second, *row)) return Error{pc, std::move(*e)};
    }
    return build(*row, insn, second);
}

Result<Program> unmarshal(std::span<const Insn> slots) {
    Program program;
    program.reserve(slots.size());
    for (std::size_t pc = 0; pc < slots.size();) {
        auto insn = unmarshalAt(slots, pc);
        if (!insn) return insn.error();
        pc += slotCount(insn.value());
        program.push_back(std::move(insn).value());
    }
    return program;
}

Result<Program> unmarshal(std::span<const std::uint8_t> bytes) {
    auto slots = decode(bytes);
    if (!slots) return slots.error();
    return unmarshal(std::span<const Insn>(slots.value()));
}

}  // namespace omega::isa
