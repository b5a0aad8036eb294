// LLVM BPF assembly text for instructions (the forms llvm-mc 14 prints, checked by a unit test against llvm-mc
// itself) and the whole-program listing.
#include "omega/isa/Disassembler.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string_view>
#include <type_traits>

namespace omega::isa {
namespace {

std::string_view aluOperator(AluOp op) {
    switch (op) {
        case AluOp::Add: return "+=";
        case AluOp::Sub: return "-=";
        case AluOp::Mul: return "*=";
        case AluOp::Div: return "/=";
        case AluOp::Or: return "|=";
        case AluOp::And: return "&=";
        case AluOp::Lsh: return "<<=";
        case AluOp::Rsh: return ">>=";
        case AluOp::Neg: return "= -";
        case AluOp::Mod: return "%=";
        case AluOp::Xor: return "^=";
        case AluOp::Mov: return "=";
        case AluOp::Arsh: return "s>>=";
    }
    return "?=";
}

std::string_view condOperator(Cond op) {
    switch (op) {
        case Cond::Eq: return "==";
        case Cond::Gt: return ">";
        case Cond::Ge: return ">=";
        case Cond::Set: return "&";
        case Cond::Ne: return "!=";
        case Cond::Sgt: return "s>";
        case Cond::Sge: return "s>=";
        case Cond::Lt: return "<";
        case Cond::Le: return "<=";
        case Cond::Slt: return "s<";
        case Cond::Sle: return "s<=";
    }
    return "?";
}

std::string_view widthType(Width width) {
    switch (width) {
        case Width::B: return "u8";
        case Width::H: return "u16";
        case Width::W: return "u32";
        case Width::DW: return "u64";
    }
    return "u?";
}

std::string reg(Reg r) {
    return "r" + std::to_string(r.index);
}

std::string operand(const Operand& o) {
    if (const Reg* r = std::get_if<Reg>(&o)) return reg(*r);
    return std::to_string(std::get_if<Imm>(&o)->value);
}

// LLVM prints branch offsets and memory displacements with an explicit sign: "+3", "-1", "+0".
std::string signedOffset(std::int32_t offset) {
    return (offset < 0 ? "" : "+") + std::to_string(offset);
}

std::string address(Width width, Reg base, std::int16_t offset) {
    const std::string displacement =
        offset < 0 ? " - " + std::to_string(-static_cast<int>(offset)) : " + " + std::to_string(offset);
    return "*(" + std::string(widthType(width)) + " *)(" + reg(base) + displacement + ")";
}

}  // namespace

std::string disassemble(const Instruction& instruction) {
    return std::visit(
        [](const auto& in) -> std::string {
            using T = std::decay_t<decltype(in)>;
            if constexpr (std::is_same_v<T, Alu>) {
                if (in.op == AluOp::Neg) return reg(in.dst) + " = -" + reg(in.dst);
                return reg(in.dst) + " " + std::string(aluOperator(in.op)) + " " + operand(in.src);
            } else if constexpr (std::is_same_v<T, Jmp>) {
                if (!in.cond) return "goto " + signedOffset(in.offset);
                return "if " + reg(in.cond->left) + " " + std::string(condOperator(in.cond->op)) + " " +
                       operand(in.cond->right) + " goto " + signedOffset(in.offset);
            } else if constexpr (std::is_same_v<T, Gotol>) {
                return "gotol " + signedOffset(in.offset);
            } else if constexpr (std::is_same_v<T, Call>) {
                return "call " + std::to_string(in.helper);
            } else if constexpr (std::is_same_v<T, Exit>) {
                return "exit";
            } else if constexpr (std::is_same_v<T, Load>) {
                return reg(in.dst) + " = " + address(in.width, in.base, in.offset);
            } else if constexpr (std::is_same_v<T, Store>) {
                return address(in.width, in.base, in.offset) + " = " + operand(in.value);
            } else {
                static_assert(std::is_same_v<T, LoadImm64>);
                return reg(in.dst) + " = " + std::to_string(in.value) + " ll";
            }
        },
        instruction);
}

std::string disassemble(const Insn& insn, const Insn& next) {
    const std::array<Insn, 2> slots{insn, next};
    auto instruction = unmarshalAt(slots, 0);
    if (!instruction) return "<invalid: " + instruction.error().message + ">";
    return disassemble(instruction.value());
}

std::vector<ListingLine> listing(std::span<const Insn> slots) {
    std::vector<ListingLine> lines;
    for (std::size_t pc = 0; pc < slots.size();) {
        ListingLine line;
        line.pc = pc;
        auto instruction = unmarshalAt(slots, pc);
        const std::size_t count = instruction ? slotCount(instruction.value()) : 1;
        line.slots.assign(slots.begin() + static_cast<std::ptrdiff_t>(pc),
                          slots.begin() + static_cast<std::ptrdiff_t>(pc + count));
        line.valid = instruction.ok();
        line.text = instruction ? disassemble(instruction.value()) : "<invalid: " + instruction.error().message + ">";
        lines.push_back(std::move(line));
        pc += count;
    }
    return lines;
}

std::string formatListing(std::span<const ListingLine> lines) {
    // Bytes are padded to the widest line (a wide load when there is one); comments line up after the longest
    // text up to kCommentColumn.
    constexpr std::size_t kCommentColumn = 40;
    std::size_t bytesWidth = 0;
    std::size_t textWidth = 0;
    for (const ListingLine& line : lines) {
        bytesWidth = std::max(bytesWidth, line.slots.size() * kSlotSize * 3 - 1);
        textWidth = std::max(textWidth, std::min(line.text.size(), kCommentColumn));
    }
    std::string out;
    for (const ListingLine& line : lines) {
        char pc[32];
        std::snprintf(pc, sizeof pc, "%6zu:", line.pc);
        std::string bytes;
        for (const Insn& slot : line.slots) {
            std::uint8_t raw[kSlotSize];
            encodeSlot(slot, raw);
            for (std::uint8_t b : raw) {
                char hex[4];
                std::snprintf(hex, sizeof hex, "%02x", b);
                if (!bytes.empty()) bytes += ' ';
                bytes += hex;
            }
        }
        bytes.resize(bytesWidth, ' ');
        out += pc;
        out += ' ';
        out += bytes;
        out += "  ";
        out += line.text;
        if (!line.comment.empty()) {
            if (line.text.size() < textWidth) out.append(textWidth - line.text.size(), ' ');
            out += "  # ";
            out += line.comment;
        }
        out += '\n';
    }
    return out;
}

}  // namespace omega::isa
