// Private: one verified instruction to the interpreter's Op. Called by the verifier once it has proven the
// instruction safe, with the facts the Op relies on (absolute jump target, which memory a load reads).
#pragma once

#include "Compiled.h"

#include "omega/isa/Instruction.h"

#include <cstdint>
#include <utility>

namespace omega::vm {

Op lowerAlu(const isa::Alu& alu);
Op lowerJump(const isa::Jmp& jmp, std::uint32_t target);  // target: pc + 1 + jmp.offset
Op lowerGoto(std::uint32_t target);                       // ja and gotol
Op lowerCall(std::uint32_t helper, std::uint32_t cost);
// The op and the filler after it (which carries the high 32 bits).
std::pair<Op, Op> lowerLoadImm64(const isa::LoadImm64& load);
Op lowerContextLoad(const isa::Load& load);
Op lowerStackLoad(const isa::Load& load);
Op lowerStackStore(const isa::Store& store);

}  // namespace omega::vm
