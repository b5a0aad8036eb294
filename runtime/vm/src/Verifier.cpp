// The verifier of docs/bytecode.md 8.6 (its rules and messages are listed in section 9): unmarshal, then one pass
// in pc order over an abstract state per pc, merged at joins, lowering each instruction once it is proven safe.
#include "omega/vm/Verifier.h"

#include "AbstractState.h"
#include "Compiled.h"
#include "Lower.h"
#include "Semantics.h"

#include "omega/isa/Instruction.h"
#include "omega/vm/Helpers.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace omega::vm {
namespace {

// Why an instruction is rejected, or nullopt when it is fine.
using Reason = std::optional<std::string>;

std::string reg(std::uint8_t r) {
    return "r" + std::to_string(r);
}

std::string pointerName(Kind kind) {
    return kind == Kind::Context ? "the context pointer" : "the frame pointer";
}

// "r10 - 16"
std::string stackAt(std::int64_t offset) {
    return offset < 0 ? "r10 - " + std::to_string(-offset) : "r10 + " + std::to_string(offset);
}

std::string argNoun(ArgKind kind) {
    switch (kind) {
        case ArgKind::Rule: return "rule index";
        case ArgKind::Matcher: return "matcher id";
        case ArgKind::SetCmpOp:
        case ArgKind::TaintOp: return "op";
        case ArgKind::Value: break;
    }
    return "value";
}

class Pass {
public:
    Pass(std::span<const isa::Insn> slots, const Limits& limits) : slots_(slots), limits_(limits) {}

    Result<std::shared_ptr<const detail::Compiled>> run();

private:
    Reason visit(const isa::Alu& alu);
    Reason visit(const isa::Jmp& jmp);
    Reason visit(const isa::Gotol& gotol);
    Reason visit(const isa::Call& call);
    Reason visit(const isa::Exit& exit);
    Reason visit(const isa::Load& load);
    Reason visit(const isa::Store& store);
    Reason visit(const isa::LoadImm64& load);

    Reason readable(std::uint8_t r) const;
    Reason number(std::uint8_t r, const char* rule) const;
    Reason target(std::int32_t offset, std::uint32_t& out) const;
    Reason helperArgument(const HelperSpec& helper, std::uint8_t r) const;
    Reason stackAccess(std::int16_t offset, unsigned size) const;
    Reason contextAccess(const isa::Load& load) const;
    void join();
    void propagate();

    std::span<const isa::Insn> slots_;
    const Limits& limits_;
    std::vector<bool> second_;                // the slot is the second slot of a wide load
    std::map<std::uint32_t, State> pending_;  // states jumped to, by target pc (all ahead of pc_)
    State cur_ = State::entry();              // the state before pc_
    bool live_ = true;                        // some path reaches pc_
    std::uint32_t pc_ = 0;
    std::vector<Op> ops_;
    CostBound bound_;
    std::uint32_t helpersUsed_ = 0;

    // What visit() found out about the instruction at pc_.
    std::uint64_t insnCost_ = 1;
    bool falls_ = true;  // control may go on to the next instruction
    bool exit_ = false;
    std::optional<std::uint32_t> jumpTarget_;
};

Result<std::shared_ptr<const detail::Compiled>> Pass::run() {
    const std::size_t n = slots_.size();
    if (n == 0) return Error{0, "the program is empty"};
    if (n > kMaxSlots) {
        return Error{
            0, "the program has " + std::to_string(n) + " slots, more than the limit of " + std::to_string(kMaxSlots)};
    }
    auto program = isa::unmarshal(slots_);
    if (!program) return program.error();

    second_.assign(n, false);
    ops_.assign(n, Op{});
    std::uint32_t pc = 0;
    for (const isa::Instruction& insn : program.value()) {
        if (std::holds_alternative<isa::LoadImm64>(insn)) second_[pc + 1] = true;
        pc += static_cast<std::uint32_t>(isa::slotCount(insn));
    }

    pc_ = 0;
    for (const isa::Instruction& insn : program.value()) {
        // INVARIANT: unmarshal accepted the slot, so its opcode has a row.
        const std::string_view mnemonic = isa::findOpcode(slots_[pc_].opcode)->mnemonic;
        auto fail = [&](const std::string& reason) { return Error{pc_, std::string(mnemonic) + ": " + reason}; };
        join();
        if (!live_) return fail("unreachable instruction");

        insnCost_ = 1;
        falls_ = true;
        exit_ = false;
        jumpTarget_.reset();
        if (Reason reason = std::visit([this](const auto& i) { return visit(i); }, insn)) return fail(*reason);

        const std::size_t next = pc_ + isa::slotCount(insn);
        if (falls_ && next >= n) return fail("falls off the end of the program");
        const std::uint64_t cost = cur_.cost + insnCost_;
        if (cost > limits_.maxCost) {
            return fail("worst-case cost " + std::to_string(cost) + " exceeds the limit " +
                        std::to_string(limits_.maxCost));
        }
        cur_.cost = cost;
        cur_.steps += 1;
        propagate();
        pc_ = static_cast<std::uint32_t>(next);
    }

    auto compiled = std::make_shared<detail::Compiled>();
    compiled->code.assign(slots_.begin(), slots_.end());
    compiled->ops = std::move(ops_);
    compiled->bound = bound_;
    compiled->contextWords = limits_.contextWords;
    compiled->helpersUsed = helpersUsed_;
    return std::shared_ptr<const detail::Compiled>(std::move(compiled));
}

// Jumps are forward, so every path into pc_ has been seen: the fall-through one in cur_, the jumps in pending_.
void Pass::join() {
    if (pending_.empty() || pending_.begin()->first != pc_) return;
    if (live_) {
        cur_.mergeFrom(pending_.begin()->second);
    } else {
        cur_ = pending_.begin()->second;
    }
    live_ = true;
    pending_.erase(pending_.begin());
}

void Pass::propagate() {
    if (exit_) {
        bound_.instructions = std::max(bound_.instructions, cur_.steps);
        bound_.cost = std::max(bound_.cost, cur_.cost);
    }
    if (jumpTarget_) {
        auto [it, inserted] = pending_.try_emplace(*jumpTarget_, cur_);
        if (!inserted) it->second.mergeFrom(cur_);
    }
    live_ = falls_;
}

Reason Pass::readable(std::uint8_t r) const {
    switch (cur_.regs[r].kind) {
        case Kind::Uninit: return reg(r) + " is not initialised";
        case Kind::Mixed: return reg(r) + " holds a pointer on some paths only";
        default: return std::nullopt;
    }
}

Reason Pass::number(std::uint8_t r, const char* rule) const {
    if (Reason reason = readable(r)) return reason;
    if (isPointer(cur_.regs[r])) return reg(r) + " holds " + pointerName(cur_.regs[r].kind) + ": " + rule;
    return std::nullopt;
}

Reason Pass::visit(const isa::Alu& alu) {
    const std::uint8_t dst = alu.dst.index;
    const auto* src = std::get_if<isa::Reg>(&alu.src);
    ops_[pc_] = lowerAlu(alu);
    if (alu.op == isa::AluOp::Mov) {
        if (src) {
            if (Reason reason = readable(src->index)) return reason;
            cur_.regs[dst] = cur_.regs[src->index];  // copies pointers too
        } else {
            cur_.regs[dst] = constant(sem::sext(std::get<isa::Imm>(alu.src).value));
        }
        return std::nullopt;
    }
    constexpr const char* kRule = "no arithmetic on pointers";
    if (Reason reason = number(dst, kRule)) return reason;
    Value operand = constant(0);  // neg has none
    if (src) {
        if (Reason reason = number(src->index, kRule)) return reason;
        operand = cur_.regs[src->index];
    } else if (alu.op != isa::AluOp::Neg) {
        operand = constant(sem::sext(std::get<isa::Imm>(alu.src).value));
    }
    const Value& left = cur_.regs[dst];
    cur_.regs[dst] = left.kind == Kind::Const && operand.kind == Kind::Const
                         ? constant(sem::alu(alu.op, left.constant, operand.constant))
                         : scalar();
    return std::nullopt;
}

// ja and the conditional jumps have a 16-bit offset, gotol a 32-bit one; the rules are the same.
Reason Pass::target(std::int32_t offset, std::uint32_t& out) const {
    const std::int64_t t = std::int64_t{pc_} + 1 + offset;
    const std::string text = "jump target " + std::to_string(t);
    if (offset == -1) return text + " is the jump itself";
    if (offset < -1) return text + " is backward (jumps go forward only)";
    if (t >= static_cast<std::int64_t>(slots_.size())) {
        return text + " is past the end (program has " + std::to_string(slots_.size()) + " slots)";
    }
    if (second_[static_cast<std::size_t>(t)]) {
        return text + " is the second slot of the wide load at pc " + std::to_string(t - 1);
    }
    out = static_cast<std::uint32_t>(t);
    return std::nullopt;
}

Reason Pass::visit(const isa::Jmp& jmp) {
    std::uint32_t t = 0;
    if (Reason reason = target(jmp.offset, t)) return reason;
    if (jmp.cond) {
        constexpr const char* kRule = "pointers cannot be compared";
        if (Reason reason = number(jmp.cond->left.index, kRule)) return reason;
        if (const auto* right = std::get_if<isa::Reg>(&jmp.cond->right)) {
            if (Reason reason = number(right->index, kRule)) return reason;
        }
    }
    ops_[pc_] = lowerJump(jmp, t);
    jumpTarget_ = t;
    falls_ = jmp.cond.has_value();
    return std::nullopt;
}

Reason Pass::visit(const isa::Gotol& gotol) {
    std::uint32_t t = 0;
    if (Reason reason = target(gotol.offset, t)) return reason;
    ops_[pc_] = lowerGoto(t);
    jumpTarget_ = t;
    falls_ = false;
    return std::nullopt;
}

Reason Pass::helperArgument(const HelperSpec& helper, std::uint8_t r) const {
    const Value& value = cur_.regs[r];
    if (value.kind == Kind::Uninit) {
        return reg(r) + " is not initialised (" + helper.name + " takes " + std::to_string(helper.args) +
               (helper.args == 1 ? " argument)" : " arguments)");
    }
    if (Reason reason = number(r, "helper arguments must be numbers")) return reason;
    const ArgKind kind = helper.argKinds[r - 1];
    if (kind == ArgKind::Value) return std::nullopt;
    const std::string noun = argNoun(kind);
    if (value.kind != Kind::Const) return std::string(helper.name) + " needs a constant " + noun + " in " + reg(r);
    std::uint64_t bound = 0;
    std::string range;
    switch (kind) {
        case ArgKind::Rule:
            bound = limits_.rules;
            range = "the bundle has " + std::to_string(bound) + " rules";
            break;
        case ArgKind::Matcher:
            bound = limits_.matchers;
            range = "the bundle has " + std::to_string(bound) + " matchers";
            break;
        case ArgKind::SetCmpOp:
            bound = kSetCmpOps;
            range = "set_cmp ops are 0 to " + std::to_string(bound - 1);
            break;
        case ArgKind::TaintOp:
            bound = kTaintOps;
            range = "taint ops are 0 to " + std::to_string(bound - 1);
            break;
        case ArgKind::Value: break;
    }
    if (value.constant >= bound) {
        return std::string(helper.name) + ": " + noun + " " + std::to_string(value.constant) + " in " + reg(r) +
               " is out of range (" + range + ")";
    }
    return std::nullopt;
}

Reason Pass::visit(const isa::Call& call) {
    const HelperSpec* helper = findHelper(call.helper);
    if (!helper) return "unknown helper " + std::to_string(call.helper);
    for (std::uint8_t r = 1; r <= helper->args; ++r) {
        if (Reason reason = helperArgument(*helper, r)) return reason;
    }
    ops_[pc_] = lowerCall(helper->id, helper->cost);
    insnCost_ += helper->cost;
    helpersUsed_ |= 1u << helper->id;
    cur_.regs[0] = scalar();
    for (std::uint8_t r = 1; r <= 5; ++r) cur_.regs[r] = Value{};  // clobbered
    return std::nullopt;
}

Reason Pass::visit(const isa::Exit&) {
    if (Reason reason = number(0, "the result must be a number")) return reason;
    ops_[pc_] = makeOp(OpCode::Exit, 0, 0, 0, 0);
    falls_ = false;
    exit_ = true;
    return std::nullopt;
}

// Bit range of the granules an access of `size` bytes at r10 + offset touches (offset already checked).
std::pair<std::size_t, std::size_t> granules(std::int16_t offset, unsigned size) {
    const std::size_t first = static_cast<std::size_t>(kStackSize + offset);
    return {first / kGranule, (first + size - 1) / kGranule};
}

Reason Pass::stackAccess(std::int16_t offset, unsigned size) const {
    if (offset < -kStackSize || offset > -8) {
        return "stack access at " + stackAt(offset) + " is outside the stack (r10 - 512 to r10 - 8)";
    }
    if (-offset % static_cast<int>(size) != 0) {
        return "stack access at " + stackAt(offset) + " is not aligned to " + std::to_string(size) + " bytes";
    }
    return std::nullopt;
}

Reason Pass::contextAccess(const isa::Load& load) const {
    if (load.width != isa::Width::DW) return "the context is read with ldxdw only";
    const std::int64_t offset = load.offset;
    const std::string text = "context offset " + std::to_string(offset);
    if (offset < 0) return text + " is before the start of the context";
    if (offset >= std::int64_t{limits_.contextWords} * 8) {
        return text + " is past the end of the context (" + std::to_string(limits_.contextWords) + " words)";
    }
    if (offset % 8 != 0) return text + " is not a multiple of 8";
    return std::nullopt;
}

Reason Pass::visit(const isa::Load& load) {
    const std::uint8_t base = load.base.index;
    if (Reason reason = readable(base)) return reason;
    switch (cur_.regs[base].kind) {
        case Kind::Context:
            if (Reason reason = contextAccess(load)) return reason;
            ops_[pc_] = lowerContextLoad(load);
            break;
        case Kind::Frame: {
            const unsigned size = static_cast<unsigned>(load.width);
            if (Reason reason = stackAccess(load.offset, size)) return reason;
            const auto [first, last] = granules(load.offset, size);
            for (std::size_t g = first; g <= last; ++g) {
                if (!cur_.written[g]) {
                    return "reads " + std::to_string(size) + (size == 1 ? " byte at " : " bytes at ") +
                           stackAt(load.offset) + ", not written on every path to here";
                }
            }
            ops_[pc_] = lowerStackLoad(load);
            break;
        }
        default: return reg(base) + " is not a pointer: loads read only the context or the stack";
    }
    cur_.regs[load.dst.index] = scalar();
    return std::nullopt;
}

Reason Pass::visit(const isa::Store& store) {
    const std::uint8_t base = store.base.index;
    if (Reason reason = readable(base)) return reason;
    const Kind kind = cur_.regs[base].kind;
    if (kind == Kind::Context) return reg(base) + " holds the context pointer: stores go only to the stack";
    if (kind != Kind::Frame) return reg(base) + " is not a pointer: stores go only to the stack";
    const unsigned size = static_cast<unsigned>(store.width);
    if (Reason reason = stackAccess(store.offset, size)) return reason;
    if (const auto* src = std::get_if<isa::Reg>(&store.value)) {
        if (Reason reason = number(src->index, "pointers cannot be stored")) return reason;
    }
    const auto [first, last] = granules(store.offset, size);
    for (std::size_t g = first; g <= last; ++g) cur_.written.set(g);
    ops_[pc_] = lowerStackStore(store);
    return std::nullopt;
}

Reason Pass::visit(const isa::LoadImm64& load) {
    cur_.regs[load.dst.index] = constant(static_cast<std::uint64_t>(load.value));
    const auto [op, filler] = lowerLoadImm64(load);
    ops_[pc_] = op;
    ops_[pc_ + 1] = filler;
    return std::nullopt;
}

}  // namespace

std::span<const isa::Insn> Verified::code() const {
    return compiled_->code;
}

const CostBound& Verified::bound() const {
    return compiled_->bound;
}

std::uint32_t Verified::contextWords() const {
    return compiled_->contextWords;
}

const detail::Compiled& compiled(const Verified& verified) {
    return *verified.compiled_;
}

Result<Verified> verify(std::span<const isa::Insn> code, const Limits& limits) {
    auto compiled = Pass(code, limits).run();
    if (!compiled) return compiled.error();
    return Verified(std::move(compiled).value());
}

}  // namespace omega::vm
