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

// The K operand: 32 bits, sign-extended to 64 as RFC 9669 says.
std::uint64_t kOperand(const Op* op) {
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int32_t>(op->arg)));
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
    const Op* next = nullptr;
    std::uint64_t src = 0;
    std::uint64_t* dstp = nullptr;
    // Direct threading: each handler ends with its own indirect jump to the next op's handler, which branch
    // predictors follow far better than the single jump of a switch. Rows in OpCode order.
    // INVARIANT (verifier): every path reaches an exit without leaving ops (no fall off the end, jump targets are
    // instruction starts inside the program), so `op` stays in range; registers are r0..r10.
    static const void* const kHandlers[] = {
        &&AddK,         &&AddX,          &&SubK,         &&SubX,          &&MulK,       &&MulX,       &&DivK,
        &&DivX,         &&OrK,           &&OrX,          &&AndK,          &&AndX,       &&LshK,       &&RshK,
        &&ArshK,        &&LshX,          &&RshX,         &&ArshX,         &&Neg,        &&ModK,       &&ModX,
        &&XorK,         &&XorX,          &&MovK,         &&MovX,          &&Lddw,       &&Ja,         &&JeqK,
        &&JeqX,         &&JgtK,          &&JgtX,         &&JgeK,          &&JgeX,       &&JsetK,      &&JsetX,
        &&JneK,         &&JneX,          &&JsgtK,        &&JsgtX,         &&JsgeK,      &&JsgeX,      &&JltK,
        &&JltX,         &&JleK,          &&JleX,         &&JsltK,         &&JsltX,      &&JsleK,      &&JsleX,
        &&Call,         &&Exit,          &&LoadContext,  &&LoadStackB,    &&LoadStackH, &&LoadStackW, &&LoadStackDW,
        &&StoreStackWK, &&StoreStackDWK, &&StoreStackWX, &&StoreStackDWX, &&Filler};
    static_assert(sizeof kHandlers / sizeof kHandlers[0] == static_cast<std::size_t>(OpCode::Filler) + 1,
                  "one handler per OpCode, in order");
    // Fuel is charged one unit per instruction before it runs.
#define OMEGA_DISPATCH()                                     \
    do {                                                     \
        if (fuel == 0) goto outOfFuel;                       \
        --fuel;                                              \
        ++steps;                                             \
        dstp = &r[op->dst()];                                \
        src = r[op->src()];                                  \
        next = op + 1;                                       \
        goto* kHandlers[static_cast<std::size_t>(op->code)]; \
    } while (false)
#define OMEGA_NEXT()      \
    do {                  \
        op = next;        \
        OMEGA_DISPATCH(); \
    } while (false)
#define OMEGA_JUMP_IF(condition)                \
    do {                                        \
        if (condition) next = op + 1 + op->rel; \
        OMEGA_NEXT();                           \
    } while (false)

    OMEGA_DISPATCH();
AddK:
    (*dstp) += kOperand(op);
    OMEGA_NEXT();
AddX:
    (*dstp) += src;
    OMEGA_NEXT();
SubK:
    (*dstp) -= kOperand(op);
    OMEGA_NEXT();
SubX:
    (*dstp) -= src;
    OMEGA_NEXT();
MulK:
    (*dstp) *= kOperand(op);
    OMEGA_NEXT();
MulX:
    (*dstp) *= src;
    OMEGA_NEXT();
// INVARIANT (verifier): imm != 0 (the lowering turned division by the constant 0 into mov 0).
DivK:
    (*dstp) /= kOperand(op);
    OMEGA_NEXT();
DivX:
    (*dstp) = sem::div((*dstp), src);
    OMEGA_NEXT();
OrK:
    (*dstp) |= kOperand(op);
    OMEGA_NEXT();
OrX:
    (*dstp) |= src;
    OMEGA_NEXT();
AndK:
    (*dstp) &= kOperand(op);
    OMEGA_NEXT();
AndX:
    (*dstp) &= src;
    OMEGA_NEXT();
// INVARIANT (verifier): imm < 64 (masked by the lowering).
LshK:
    (*dstp) <<= kOperand(op);
    OMEGA_NEXT();
RshK:
    (*dstp) >>= kOperand(op);
    OMEGA_NEXT();
ArshK:
    (*dstp) = static_cast<std::uint64_t>(s((*dstp)) >> kOperand(op));
    OMEGA_NEXT();
LshX:
    (*dstp) = sem::lsh((*dstp), src);
    OMEGA_NEXT();
RshX:
    (*dstp) = sem::rsh((*dstp), src);
    OMEGA_NEXT();
ArshX:
    (*dstp) = sem::arsh((*dstp), src);
    OMEGA_NEXT();
Neg:
    (*dstp) = 0 - (*dstp);
    OMEGA_NEXT();
// INVARIANT (verifier): imm != 0 (the lowering turned modulo by the constant 0 into mov (*dstp), (*dstp)).
ModK:
    (*dstp) %= kOperand(op);
    OMEGA_NEXT();
ModX:
    (*dstp) = sem::mod((*dstp), src);
    OMEGA_NEXT();
XorK:
    (*dstp) ^= kOperand(op);
    OMEGA_NEXT();
XorX:
    (*dstp) ^= src;
    OMEGA_NEXT();
MovK:
    (*dstp) = kOperand(op);
    OMEGA_NEXT();
MovX:
    (*dstp) = src;
    OMEGA_NEXT();
Lddw:
    (*dstp) = std::uint64_t{op->arg} | (std::uint64_t{op[1].arg} << 32);
    next = op + 2;
    OMEGA_NEXT();

Ja:
    next = base + op->arg;
    OMEGA_NEXT();
JeqK:
    OMEGA_JUMP_IF((*dstp) == kOperand(op));
JeqX:
    OMEGA_JUMP_IF((*dstp) == src);
JgtK:
    OMEGA_JUMP_IF((*dstp) > kOperand(op));
JgtX:
    OMEGA_JUMP_IF((*dstp) > src);
JgeK:
    OMEGA_JUMP_IF((*dstp) >= kOperand(op));
JgeX:
    OMEGA_JUMP_IF((*dstp) >= src);
JsetK:
    OMEGA_JUMP_IF(((*dstp) & kOperand(op)) != 0);
JsetX:
    OMEGA_JUMP_IF(((*dstp) & src) != 0);
JneK:
    OMEGA_JUMP_IF((*dstp) != kOperand(op));
JneX:
    OMEGA_JUMP_IF((*dstp) != src);
JsgtK:
    OMEGA_JUMP_IF(s((*dstp)) > s(kOperand(op)));
JsgtX:
    OMEGA_JUMP_IF(s((*dstp)) > s(src));
JsgeK:
    OMEGA_JUMP_IF(s((*dstp)) >= s(kOperand(op)));
JsgeX:
    OMEGA_JUMP_IF(s((*dstp)) >= s(src));
JltK:
    OMEGA_JUMP_IF((*dstp) < kOperand(op));
JltX:
    OMEGA_JUMP_IF((*dstp) < src);
JleK:
    OMEGA_JUMP_IF((*dstp) <= kOperand(op));
JleX:
    OMEGA_JUMP_IF((*dstp) <= src);
JsltK:
    OMEGA_JUMP_IF(s((*dstp)) < s(kOperand(op)));
JsltX:
    OMEGA_JUMP_IF(s((*dstp)) < s(src));
JsleK:
    OMEGA_JUMP_IF(s((*dstp)) <= s(kOperand(op)));
JsleX:
    OMEGA_JUMP_IF(s((*dstp)) <= s(src));

Call:
    if (fuel < op->arg) {  // the helper's cost; give back the call's own unit, it did not run
        ++fuel;
        --steps;
        goto outOfFuel;
    }
    fuel -= op->arg;
    // INVARIANT (verifier): rel is a helper id in 1..8, and run() checked on entry that the environment has
    // every helper the program calls.
    r[0] = env.helpers[op->rel](env.self, r[1], r[2], r[3], r[4], r[5]);
    OMEGA_NEXT();
Exit:
    out.ok = true;
    out.r0 = r[0];
    out.steps = steps;
    out.cost = initialFuel - fuel;
    return out;

// INVARIANT (verifier): arg < contextWords <= context.size() (checked on entry).
LoadContext:
    (*dstp) = ctx[op->arg];
    OMEGA_NEXT();
// INVARIANT (verifier): arg + size <= 512, and the bytes were written on every path to here.
LoadStackB:
    (*dstp) = loadStack<std::uint8_t>(stack, op->arg);
    OMEGA_NEXT();
LoadStackH:
    (*dstp) = loadStack<std::uint16_t>(stack, op->arg);
    OMEGA_NEXT();
LoadStackW:
    (*dstp) = loadStack<std::uint32_t>(stack, op->arg);
    OMEGA_NEXT();
LoadStackDW:
    (*dstp) = loadStack<std::uint64_t>(stack, op->arg);
    OMEGA_NEXT();
// INVARIANT (verifier): the offset (rel for K stores, else arg) + size <= 512; the only writable memory is the stack.
StoreStackWK:
    storeStack<std::uint32_t>(stack, static_cast<std::uint32_t>(op->rel), kOperand(op));
    OMEGA_NEXT();
StoreStackDWK:
    storeStack<std::uint64_t>(stack, static_cast<std::uint32_t>(op->rel), kOperand(op));
    OMEGA_NEXT();
StoreStackWX:
    storeStack<std::uint32_t>(stack, op->arg, src);
    OMEGA_NEXT();
StoreStackDWX:
    storeStack<std::uint64_t>(stack, op->arg, src);
    OMEGA_NEXT();

// INVARIANT (verifier): never reached (jumps do not land on the second slot of a wide load and Lddw skips it);
// the label keeps the table total.
Filler:
    out.error = "reached the second slot of a wide load";
    out.steps = steps;
    out.cost = initialFuel - fuel;
    return out;
#undef OMEGA_JUMP_IF
#undef OMEGA_NEXT
#undef OMEGA_DISPATCH

outOfFuel:
    out.error = "out of fuel";
    out.steps = steps;
    out.cost = initialFuel - fuel;
    return out;
}

}  // namespace omega::vm
