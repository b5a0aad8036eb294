// The interpreter: one switch loop over the verifier's pre-decoded Ops, a fuel counter, and no check the verifier
// has already made. Each check it leaves out is named by an INVARIANT (verifier) comment.
#include "omega/vm/Interpreter.h"

#include "Compiled.h"
#include "Semantics.h"

#include <bit>
#include <cstring>

namespace omega::vm {
namespace {

// Partial loads and stores on the stack follow eBPF's little-endian layout.
static_assert(std::endian::native == std::endian::little, "the interpreter assumes a little-endian host");

template <typename T>
std::uint64_t loadStack(const std::uint8_t* stack, std::uint32_t offset) {
    T value;
    std::memcpy(&value, stack + offset, sizeof value);
    return value;
}

template <typename T>
void storeStack(std::uint8_t* stack, std::uint32_t offset, std::uint64_t value) {
    const T narrow = static_cast<T>(value);
    std::memcpy(stack + offset, &narrow, sizeof narrow);
}

std::int64_t s(std::uint64_t v) {
    return static_cast<std::int64_t>(v);
}

}  // namespace

Outcome run(const Verified& verified, std::span<const std::uint64_t> context, const Env& env, std::uint64_t fuel) {
    const detail::Compiled& program = compiled(verified);
    Outcome out;
    if (context.size() < program.contextWords) {
        out.error = "the context is smaller than the program was verified for";
        return out;
    }
    for (std::uint32_t id = 1; id < kHelperSlots; ++id) {
        if ((program.helpersUsed >> id & 1) && env.helpers[id] == nullptr) {
            out.error = "the environment lacks a helper the program calls";
            return out;
        }
    }

    const std::uint64_t initialFuel = fuel;
    std::uint64_t steps = 0;
    const std::uint64_t* const ctx = context.data();
    // INVARIANT (verifier): every stack byte is written before it is read, on every path.
    alignas(8) std::uint8_t stack[kStackSize];
    std::uint64_t r[isa::kRegisterCount] = {};
    // Pointers only ever get copied (no arithmetic, comparison, store, helper argument or result), so their value
    // is never observed; the real addresses help a debugger.
    r[1] = reinterpret_cast<std::uintptr_t>(ctx);
    r[isa::kFramePointer] = reinterpret_cast<std::uintptr_t>(stack + kStackSize);

    const Op* const base = program.ops.data();
    const Op* op = base;
    // INVARIANT (verifier): every path reaches an exit without leaving ops (no fall off the end, jump targets are
    // instruction starts inside the program), so `op` stays in range; registers are r0..r10.
    for (;;) {
        if (fuel == 0) break;
        --fuel;
        ++steps;
        auto& dst = r[op->dst];
        const std::uint64_t src = r[op->src];
        const Op* next = op + 1;
        switch (op->code) {
            case OpCode::AddK: dst += op->imm; break;
            case OpCode::AddX: dst += src; break;
            case OpCode::SubK: dst -= op->imm; break;
            case OpCode::SubX: dst -= src; break;
            case OpCode::MulK: dst *= op->imm; break;
            case OpCode::MulX: dst *= src; break;
            // INVARIANT (verifier): imm != 0 (the lowering turned division by the constant 0 into mov 0).
            case OpCode::DivK: dst /= op->imm; break;
            case OpCode::DivX: dst = sem::div(dst, src); break;
            case OpCode::OrK: dst |= op->imm; break;
            case OpCode::OrX: dst |= src; break;
            case OpCode::AndK: dst &= op->imm; break;
            case OpCode::AndX: dst &= src; break;
            // INVARIANT (verifier): imm < 64 (masked by the lowering).
            case OpCode::LshK: dst <<= op->imm; break;
            case OpCode::RshK: dst >>= op->imm; break;
            case OpCode::ArshK: dst = static_cast<std::uint64_t>(s(dst) >> op->imm); break;
            case OpCode::LshX: dst = sem::lsh(dst, src); break;
            case OpCode::RshX: dst = sem::rsh(dst, src); break;
            case OpCode::ArshX: dst = sem::arsh(dst, src); break;
            case OpCode::Neg: dst = 0 - dst; break;
            // INVARIANT (verifier): imm != 0 (the lowering turned modulo by the constant 0 into mov dst, dst).
            case OpCode::ModK: dst %= op->imm; break;
            case OpCode::ModX: dst = sem::mod(dst, src); break;
            case OpCode::XorK: dst ^= op->imm; break;
            case OpCode::XorX: dst ^= src; break;
            case OpCode::MovK: dst = op->imm; break;
            case OpCode::MovX: dst = src; break;
            case OpCode::Lddw:
                dst = op->imm;
                next = op + 2;
                break;

            case OpCode::Ja: next = base + op->target; break;
            case OpCode::JeqK: next = dst == op->imm ? base + op->target : next; break;
            case OpCode::JeqX: next = dst == src ? base + op->target : next; break;
            case OpCode::JgtK: next = dst > op->imm ? base + op->target : next; break;
            case OpCode::JgtX: next = dst > src ? base + op->target : next; break;
            case OpCode::JgeK: next = dst >= op->imm ? base + op->target : next; break;
            case OpCode::JgeX: next = dst >= src ? base + op->target : next; break;
            case OpCode::JsetK: next = (dst & op->imm) != 0 ? base + op->target : next; break;
            case OpCode::JsetX: next = (dst & src) != 0 ? base + op->target : next; break;
            case OpCode::JneK: next = dst != op->imm ? base + op->target : next; break;
            case OpCode::JneX: next = dst != src ? base + op->target : next; break;
            case OpCode::JsgtK: next = s(dst) > s(op->imm) ? base + op->target : next; break;
            case OpCode::JsgtX: next = s(dst) > s(src) ? base + op->target : next; break;
            case OpCode::JsgeK: next = s(dst) >= s(op->imm) ? base + op->target : next; break;
            case OpCode::JsgeX: next = s(dst) >= s(src) ? base + op->target : next; break;
            case OpCode::JltK: next = dst < op->imm ? base + op->target : next; break;
            case OpCode::JltX: next = dst < src ? base + op->target : next; break;
            case OpCode::JleK: next = dst <= op->imm ? base + op->target : next; break;
            case OpCode::JleX: next = dst <= src ? base + op->target : next; break;
            case OpCode::JsltK: next = s(dst) < s(op->imm) ? base + op->target : next; break;
            case OpCode::JsltX: next = s(dst) < s(src) ? base + op->target : next; break;
            case OpCode::JsleK: next = s(dst) <= s(op->imm) ? base + op->target : next; break;
            case OpCode::JsleX: next = s(dst) <= s(src) ? base + op->target : next; break;

            case OpCode::Call:
                if (fuel < op->imm) {  // the helper's cost; give back the call's own unit, it did not run
                    ++fuel;
                    --steps;
                    goto outOfFuel;
                }
                fuel -= op->imm;
                // INVARIANT (verifier): target is a helper id in 1..8, and run() checked on entry that the
                // environment has every helper the program calls.
                r[0] = env.helpers[op->target](env.self, r[1], r[2], r[3], r[4], r[5]);
                break;
            case OpCode::Exit:
                out.ok = true;
                out.r0 = r[0];
                out.steps = steps;
                out.cost = initialFuel - fuel;
                return out;

            // INVARIANT (verifier): target < contextWords <= context.size() (checked on entry).
            case OpCode::LoadContext: dst = ctx[op->target]; break;
            // INVARIANT (verifier): target + size <= 512, and the bytes were written on every path to here.
            case OpCode::LoadStackB: dst = loadStack<std::uint8_t>(stack, op->target); break;
            case OpCode::LoadStackH: dst = loadStack<std::uint16_t>(stack, op->target); break;
            case OpCode::LoadStackW: dst = loadStack<std::uint32_t>(stack, op->target); break;
            case OpCode::LoadStackDW: dst = loadStack<std::uint64_t>(stack, op->target); break;
            // INVARIANT (verifier): target + size <= 512; the only writable memory is the stack.
            case OpCode::StoreStackWK: storeStack<std::uint32_t>(stack, op->target, op->imm); break;
            case OpCode::StoreStackDWK: storeStack<std::uint64_t>(stack, op->target, op->imm); break;
            case OpCode::StoreStackWX: storeStack<std::uint32_t>(stack, op->target, src); break;
            case OpCode::StoreStackDWX: storeStack<std::uint64_t>(stack, op->target, src); break;

            // INVARIANT (verifier): never reached (jumps do not land on the second slot of a wide load and Lddw
            // skips it); the case keeps the switch total.
            case OpCode::Filler:
                out.error = "reached the second slot of a wide load";
                out.steps = steps;
                out.cost = initialFuel - fuel;
                return out;
        }
        op = next;
    }
outOfFuel:
    out.error = "out of fuel";
    out.steps = steps;
    out.cost = initialFuel - fuel;
    return out;
}

}  // namespace omega::vm
