// Deterministic sample instructions for the ISA tests: well-formed instances of every opcode-table row with
// varied registers, offsets and immediates (extremes first, then from a fixed-seed generator).
#pragma once

#include "omega/isa/Isa.h"

#include <cstdint>
#include <vector>

namespace isatest {

struct Sample {
    const omega::isa::OpcodeInfo* row = nullptr;
    std::vector<omega::isa::Insn> slots;  // one, or two for a wide load
};

// `perRow` samples of each row, rows in table order. Registers cycle through every one the row allows.
std::vector<Sample> samples(std::uint32_t seed = 9669, int perRow = 12);
// The row's instance with the operands the docs use for their examples (r1, r2, imm 7, offset +2 / -8 / +8).
std::vector<omega::isa::Insn> docExample(const omega::isa::OpcodeInfo& row);
// Opcodes LLVM 14 cannot disassemble (no syntax before later LLVM versions): mod, jset, store immediate.
bool llvm14Knows(std::uint8_t opcode);

}  // namespace isatest
