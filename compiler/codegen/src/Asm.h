// A small assembler for the code generator: instructions at the semantic level (isa::Instruction), forward labels,
// and a final pass that resolves jump offsets and turns any jump too far for a 16-bit offset into a `gotol`.
#pragma once

#include "omega/isa/Instruction.h"

#include <cstdint>
#include <string>
#include <vector>

namespace omega::codegen {

class Asm {
public:
    using Label = std::uint32_t;

    Label label();
    // Binds `l` to the next instruction emitted. A label is bound once, after every jump to it (jumps are forward).
    void bind(Label l);
    bool used(Label l) const { return used_[l]; }

    void emit(const isa::Instruction& insn);
    void jump(Label target);                                                         // ja
    void jump(isa::Cond cond, std::uint8_t left, isa::Operand right, Label target);  // if left cond right goto

    // Convenience forms.
    void mov(std::uint8_t dst, std::int64_t value);  // mov or lddw, as the value needs
    void mov(std::uint8_t dst, isa::Reg src) { emit(isa::Alu{isa::AluOp::Mov, {dst}, src}); }
    void alu(isa::AluOp op, std::uint8_t dst, std::int32_t imm) { emit(isa::Alu{op, {dst}, isa::Imm{imm}}); }
    void alu(isa::AluOp op, std::uint8_t dst, isa::Reg src) { emit(isa::Alu{op, {dst}, src}); }
    void load(std::uint8_t dst, std::uint8_t base, std::int16_t offset) {
        emit(isa::Load{isa::Width::DW, {dst}, {base}, offset});
    }
    void store(std::uint8_t base, std::int16_t offset, std::uint8_t src) {
        emit(isa::Store{isa::Width::DW, {base}, offset, isa::Reg{src}});
    }
    void call(std::int32_t helper) { emit(isa::Call{helper}); }
    void exit() { emit(isa::Exit{}); }

    std::size_t size() const { return items_.size(); }
    // The condition that holds exactly when `c` does not. INVARIANT: not Set (jset has no inverse).
    static isa::Cond inverse(isa::Cond c);

    // Resolves labels into offsets; false with `error` set on an unbound label or a program too large to address.
    bool finish(isa::Program& out, std::string& error) const;

private:
    static constexpr Label kNoLabel = 0xFFFFFFFFu;
    struct Item {
        isa::Instruction insn;
        Label target = kNoLabel;
    };
    std::vector<Item> items_;
    std::vector<std::size_t> bound_;  // item index per label, or npos
    std::vector<bool> used_;
};

}  // namespace omega::codegen
