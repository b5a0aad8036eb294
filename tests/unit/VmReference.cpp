// The reference model (VmReference.h): registers carry a tag (uninitialised, number, context or frame pointer)
// and every stack byte an initialised bit, so each rule the verifier enforces statically is checked here on the
// one path actually taken.
#include "VmReference.h"

#include "omega/isa/Instruction.h"
#include "omega/vm/Helpers.h"

#include <variant>
#include <vector>

namespace vmtest {
namespace {

using namespace omega;

enum class Tag { Uninit, Num, Ctx, Frame };

struct Reg {
    Tag tag = Tag::Uninit;
    std::uint64_t v = 0;
};

std::uint64_t sext(std::int32_t imm) {
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(imm));
}

std::uint64_t aluOp(isa::AluOp op, std::uint64_t a, std::uint64_t b) {
    switch (op) {
        case isa::AluOp::Add: return a + b;
        case isa::AluOp::Sub: return a - b;
        case isa::AluOp::Mul: return a * b;
        case isa::AluOp::Div: return b ? a / b : 0;
        case isa::AluOp::Or: return a | b;
        case isa::AluOp::And: return a & b;
        case isa::AluOp::Lsh: return a << (b % 64);
        case isa::AluOp::Rsh: return a >> (b % 64);
        case isa::AluOp::Neg: return ~a + 1;
        case isa::AluOp::Mod: return b ? a % b : a;
        case isa::AluOp::Xor: return a ^ b;
        case isa::AluOp::Mov: return b;
        case isa::AluOp::Arsh: {
            const unsigned n = static_cast<unsigned>(b % 64);
            const bool negative = a >> 63;
            std::uint64_t r = a >> n;
            if (negative && n) r |= ~std::uint64_t{0} << (64 - n);
            return r;
        }
    }
    return 0;
}

bool condition(isa::Cond c, std::uint64_t a, std::uint64_t b) {
    const auto sa = static_cast<std::int64_t>(a), sb = static_cast<std::int64_t>(b);
    switch (c) {
        case isa::Cond::Eq: return a == b;
        case isa::Cond::Gt: return a > b;
        case isa::Cond::Ge: return a >= b;
        case isa::Cond::Set: return (a & b) != 0;
        case isa::Cond::Ne: return a != b;
        case isa::Cond::Sgt: return sa > sb;
        case isa::Cond::Sge: return sa >= sb;
        case isa::Cond::Lt: return a < b;
        case isa::Cond::Le: return a <= b;
        case isa::Cond::Slt: return sa < sb;
        case isa::Cond::Sle: return sa <= sb;
    }
    return false;
}

class Machine {
public:
    Machine(const vm::Limits& limits, std::span<const std::uint64_t> context, const RefHelper& helper)
        : limits_(limits), context_(context), helper_(helper) {
        regs_[1] = {Tag::Ctx, 0};
        regs_[10] = {Tag::Frame, 0};
    }

    RefOutcome run(std::span<const isa::Insn> slots, std::uint64_t fuel) {
        auto program = isa::unmarshal(slots);
        if (!program) return violation(0, "does not unmarshal: " + program.error().text());
        std::vector<int> at(slots.size(), -1);
        std::size_t pc = 0;
        for (std::size_t i = 0; i < program.value().size(); ++i) {
            at[pc] = static_cast<int>(i);
            pc += isa::slotCount(program.value()[i]);
        }
        pc = 0;
        for (;;) {
            if (pc >= slots.size() || at[pc] < 0) return violation(pc, "control reaches a slot that is no instruction");
            const isa::Instruction& insn = program.value()[static_cast<std::size_t>(at[pc])];
            std::uint64_t unit = 1;
            if (const auto* call = std::get_if<isa::Call>(&insn)) {
                const vm::HelperSpec* h = vm::findHelper(call->helper);
                if (!h) return violation(pc, "unknown helper");
                unit += h->cost;
            }
            if (fuel < unit) {
                out_.error = "out of fuel";
                return out_;
            }
            fuel -= unit;
            out_.steps += 1;
            out_.cost += unit;
            pc_ = pc;
            next_ = pc + isa::slotCount(insn);
            done_ = false;
            std::visit([this](const auto& i) { step(i); }, insn);
            if (!out_.violation.empty() || done_) return out_;
            pc = next_;
        }
    }

private:
    RefOutcome violation(std::size_t pc, const std::string& what) {
        out_.violation = "pc " + std::to_string(pc) + ": " + what;
        return out_;
    }
    void fail(const std::string& what) {
        if (out_.violation.empty()) violation(pc_, what);
    }
    // The value of a register that must hold a number.
    std::uint64_t number(std::uint8_t r) {
        if (regs_[r].tag == Tag::Uninit) fail("reads uninitialised r" + std::to_string(r));
        if (regs_[r].tag == Tag::Ctx || regs_[r].tag == Tag::Frame) fail("uses pointer r" + std::to_string(r));
        return regs_[r].v;
    }
    std::uint64_t operand(const isa::Operand& o) {
        if (const auto* reg = std::get_if<isa::Reg>(&o)) return number(reg->index);
        return sext(std::get<isa::Imm>(o).value);
    }

    void step(const isa::Alu& alu) {
        if (alu.op == isa::AluOp::Mov) {
            if (const auto* src = std::get_if<isa::Reg>(&alu.src)) {
                if (regs_[src->index].tag == Tag::Uninit) fail("reads uninitialised r" + std::to_string(src->index));
                regs_[alu.dst.index] = regs_[src->index];
            } else {
                regs_[alu.dst.index] = {Tag::Num, sext(std::get<isa::Imm>(alu.src).value)};
            }
            return;
        }
        const std::uint64_t a = number(alu.dst.index);
        const std::uint64_t b = alu.op == isa::AluOp::Neg ? 0 : operand(alu.src);
        regs_[alu.dst.index] = {Tag::Num, aluOp(alu.op, a, b)};
    }
    void step(const isa::Jmp& jmp) {
        bool taken = true;
        if (jmp.cond) taken = condition(jmp.cond->op, number(jmp.cond->left.index), operand(jmp.cond->right));
        if (taken) jumpBy(jmp.offset);
    }
    void step(const isa::Gotol& gotol) { jumpBy(gotol.offset); }
    void jumpBy(std::int32_t offset) {
        const std::int64_t target = static_cast<std::int64_t>(pc_) + 1 + offset;
        if (target <= static_cast<std::int64_t>(pc_)) fail("jumps backward");
        next_ = static_cast<std::size_t>(target < 0 ? 0 : target);
    }
    void step(const isa::Call& call) {
        const vm::HelperSpec& h = *vm::findHelper(call.helper);
        std::array<std::uint64_t, 5> args{};
        for (std::uint8_t i = 0; i < h.args; ++i) {
            args[i] = number(static_cast<std::uint8_t>(i + 1));
            std::uint64_t bound = 0;
            switch (h.argKinds[i]) {
                case vm::ArgKind::Rule: bound = limits_.rules; break;
                case vm::ArgKind::Matcher: bound = limits_.matchers; break;
                case vm::ArgKind::SetCmpOp: bound = vm::kSetCmpOps; break;
                case vm::ArgKind::TaintOp: bound = vm::kTaintOps; break;
                case vm::ArgKind::Value: continue;  // the helper bounds-checks it
            }
            if (args[i] >= bound) fail(std::string(h.name) + " argument out of range");
        }
        if (!out_.violation.empty()) return;
        regs_[0] = {Tag::Num, helper_(h.id, args)};
        for (int r = 1; r <= 5; ++r) regs_[r] = Reg{};
    }
    void step(const isa::Exit&) {
        out_.r0 = number(0);
        out_.ok = out_.violation.empty();
        done_ = true;
    }
    // Index of the first stack byte of an access, or -1 when it leaves the stack.
    long stackIndex(std::int16_t offset, unsigned size) {
        const long index = 512L + offset;
        if (index < 0 || index + static_cast<long>(size) > 512) {
            fail("stack access out of bounds");
            return -1;
        }
        return index;
    }
    void step(const isa::Load& load) {
        const unsigned size = static_cast<unsigned>(load.width);
        const Reg base = regs_[load.base.index];
        std::uint64_t value = 0;
        if (base.tag == Tag::Ctx) {
            if (size != 8 || load.offset < 0 || load.offset % 8 != 0 ||
                static_cast<std::uint64_t>(load.offset / 8) >= limits_.contextWords ||
                static_cast<std::size_t>(load.offset / 8) >= context_.size()) {
                return fail("bad context load");
            }
            value = context_[static_cast<std::size_t>(load.offset / 8)];
        } else if (base.tag == Tag::Frame) {
            const long index = stackIndex(load.offset, size);
            if (index < 0) return;
            for (unsigned i = 0; i < size; ++i) {
                if (!written_[static_cast<std::size_t>(index) + i]) return fail("reads an unwritten stack byte");
                value |= std::uint64_t{stack_[static_cast<std::size_t>(index) + i]} << (8 * i);
            }
        } else {
            return fail("loads through a non-pointer");
        }
        regs_[load.dst.index] = {Tag::Num, value};
    }
    void step(const isa::Store& store) {
        if (regs_[store.base.index].tag != Tag::Frame) return fail("stores outside the stack");
        const unsigned size = static_cast<unsigned>(store.width);
        const std::uint64_t value = operand(store.value);
        const long index = stackIndex(store.offset, size);
        if (index < 0) return;
        for (unsigned i = 0; i < size; ++i) {
            stack_[static_cast<std::size_t>(index) + i] = static_cast<std::uint8_t>(value >> (8 * i));
            written_[static_cast<std::size_t>(index) + i] = true;
        }
    }
    void step(const isa::LoadImm64& load) {
        regs_[load.dst.index] = {Tag::Num, static_cast<std::uint64_t>(load.value)};
    }

    const vm::Limits& limits_;
    std::span<const std::uint64_t> context_;
    const RefHelper& helper_;
    std::array<Reg, 11> regs_{};
    std::array<std::uint8_t, 512> stack_{};
    std::array<bool, 512> written_{};
    RefOutcome out_;
    std::size_t pc_ = 0, next_ = 0;
    bool done_ = false;
};

}  // namespace

RefOutcome referenceRun(std::span<const omega::isa::Insn> slots, const omega::vm::Limits& limits,
                        std::span<const std::uint64_t> context, const RefHelper& helper, std::uint64_t fuel) {
    return Machine(limits, context, helper).run(slots, fuel);
}

}  // namespace vmtest
