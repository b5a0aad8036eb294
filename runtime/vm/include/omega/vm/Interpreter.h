// The interpreter: runs a Verified program over a request context, calling helpers through a plain function table.
// No exceptions, no allocation; fuel bounds every run even if the verifier were wrong.
#pragma once

#include "omega/vm/Helpers.h"
#include "omega/vm/Verifier.h"

#include <array>
#include <cstdint>
#include <span>

namespace omega::vm {

using HelperFn = std::uint64_t (*)(void* self, std::uint64_t r1, std::uint64_t r2, std::uint64_t r3, std::uint64_t r4,
                                   std::uint64_t r5);

// Helpers by id (slot 0 unused). Each helper the program calls must be present; run() checks once, at entry.
struct Env {
    std::array<HelperFn, kHelperSlots> helpers{};
    void* self = nullptr;  // passed to every helper
};

struct Outcome {
    bool ok = false;
    std::uint64_t r0 = 0;         // the program's result when ok
    std::uint64_t steps = 0;      // instructions executed (a wide load counts once)
    std::uint64_t cost = 0;       // fuel used: steps plus the cost of each helper called
    const char* error = nullptr;  // static text when not ok
};

// Runs `verified` with r1 = the context (read-only, at least verified.contextWords() words) and r10 = the top of a
// fresh 512-byte stack. Stops with ok = false and "out of fuel" when the next instruction would cost more than the
// fuel left; verified.bound().cost is always enough.
Outcome run(const Verified& verified, std::span<const std::uint64_t> context, const Env& env, std::uint64_t fuel);

}  // namespace omega::vm
