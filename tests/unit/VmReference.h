// A reference model of Omega bytecode for the vm tests and the fuzzer: a slow, direct reading of RFC 9669 over the
// semantic instructions that checks every safety property concretely as it runs. Independent of the verifier and
// the interpreter: a violation on a program the verifier accepted is a verifier bug.
#pragma once

#include "omega/isa/Isa.h"
#include "omega/vm/Verifier.h"

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace vmtest {

struct RefOutcome {
    bool ok = false;
    std::uint64_t r0 = 0;
    std::uint64_t steps = 0;
    std::uint64_t cost = 0;
    std::string error;      // "out of fuel"
    std::string violation;  // what a verified program must never do, with its pc; empty when none
};

using RefHelper = std::function<std::uint64_t(std::uint32_t id, const std::array<std::uint64_t, 5>& args)>;

// Runs with the interpreter's fuel rule (each instruction 1, a call 1 + the helper's cost, stop before an
// instruction the fuel left cannot pay for).
RefOutcome referenceRun(std::span<const omega::isa::Insn> slots, const omega::vm::Limits& limits,
                        std::span<const std::uint64_t> context, const RefHelper& helper, std::uint64_t fuel);

}  // namespace vmtest
