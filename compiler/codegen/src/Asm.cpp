// The code generator's assembler (Asm.h).
#include "Asm.h"

#include <limits>

namespace omega::codegen {

namespace {

constexpr std::size_t kUnbound = std::numeric_limits<std::size_t>::max();

}  // namespace

isa::Cond Asm::inverse(isa::Cond c) {
    using C = isa::Cond;
    switch (c) {
        case C::Eq: return C::Ne;
        case C::Ne: return C::Eq;
        case C::Gt: return C::Le;
        case C::Le: return C::Gt;
        case C::Ge: return C::Lt;
        case C::Lt: return C::Ge;
        case C::Sgt: return C::Sle;
        case C::Sle: return C::Sgt;
        case C::Sge: return C::Slt;
        case C::Slt: return C::Sge;
        case C::Set: break;  // no inverse; the code generator never emits jset
    }
    return c;
}

Asm::Label Asm::label() {
    bound_.push_back(kUnbound);
    used_.push_back(false);
    return static_cast<Label>(bound_.size() - 1);
}

void Asm::bind(Label l) {
    bound_[l] = items_.size();
}

void Asm::emit(const isa::Instruction& insn) {
    items_.push_back({insn, kNoLabel});
}

void Asm::jump(Label target) {
    used_[target] = true;
    items_.push_back({isa::Jmp{std::nullopt, 0}, target});
}

void Asm::jump(isa::Cond cond, std::uint8_t left, isa::Operand right, Label target) {
    used_[target] = true;
    items_.push_back({isa::Jmp{isa::Condition{cond, {left}, right}, 0}, target});
}

void Asm::mov(std::uint8_t dst, std::int64_t value) {
    if (value >= std::numeric_limits<std::int32_t>::min() && value <= std::numeric_limits<std::int32_t>::max()) {
        emit(isa::Alu{isa::AluOp::Mov, {dst}, isa::Imm{static_cast<std::int32_t>(value)}});
    } else {
        emit(isa::LoadImm64{{dst}, value});
    }
}

bool Asm::finish(isa::Program& out, std::string& error) const {
    const std::size_t n = items_.size();
    // An unconditional jump to the very next instruction is dropped.
    std::vector<bool> keep(n, true);
    for (std::size_t i = 0; i < n; ++i) {
        const Item& item = items_[i];
        if (item.target == kNoLabel) continue;
        if (bound_[item.target] == kUnbound) {
            error = "internal error: a jump to an unbound label";
            return false;
        }
        const auto& jmp = std::get<isa::Jmp>(item.insn);
        if (!jmp.cond && bound_[item.target] == i + 1) keep[i] = false;
    }
    // Slots per item: 0 dropped, 2 lddw or a far conditional jump (inverted jump + gotol), else 1. Far jumps only
    // grow the program, so iterating from "all near" reaches a fixed point.
    std::vector<bool> far(n, false);
    std::vector<std::size_t> at(n + 1, 0);
    for (bool changed = true; changed;) {
        changed = false;
        for (std::size_t i = 0; i < n; ++i) {
            std::size_t slots = keep[i] ? isa::slotCount(items_[i].insn) : 0;
            if (keep[i] && far[i] && std::get<isa::Jmp>(items_[i].insn).cond) slots = 2;
            at[i + 1] = at[i] + slots;
        }
        for (std::size_t i = 0; i < n; ++i) {
            if (!keep[i] || far[i] || items_[i].target == kNoLabel) continue;
            const std::size_t target = at[bound_[items_[i].target]];
            const std::size_t from = at[i] + 1;  // a near jump is one slot
            if (target - from > static_cast<std::size_t>(std::numeric_limits<std::int16_t>::max())) {
                far[i] = true;
                changed = true;
            }
        }
    }
    if (at[n] > std::numeric_limits<std::int32_t>::max()) {
        error = "the program is too large to address";
        return false;
    }
    out.clear();
    out.reserve(at[n]);
    for (std::size_t i = 0; i < n; ++i) {
        if (!keep[i]) continue;
        const Item& item = items_[i];
        if (item.target == kNoLabel) {
            out.push_back(item.insn);
            continue;
        }
        const std::size_t target = at[bound_[item.target]];
        isa::Jmp jmp = std::get<isa::Jmp>(item.insn);
        if (!far[i]) {
            jmp.offset = static_cast<std::int16_t>(target - (at[i] + 1));
            out.push_back(jmp);
            continue;
        }
        std::size_t gotoAt = at[i];
        if (jmp.cond) {
            isa::Condition skip = *jmp.cond;
            skip.op = inverse(skip.op);
            out.push_back(isa::Jmp{skip, 1});
            ++gotoAt;
        }
        out.push_back(isa::Gotol{static_cast<std::int32_t>(target - (gotoAt + 1))});
    }
    return true;
}

}  // namespace omega::codegen
