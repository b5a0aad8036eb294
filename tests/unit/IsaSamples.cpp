// Deterministic sample instructions for the ISA tests (see IsaSamples.h).
#include "IsaSamples.h"

#include <limits>
#include <random>

using namespace omega::isa;

namespace isatest {
namespace {

// Raw mt19937 output is the same on every standard library (the distributions are not), so values come from it
// directly.
std::int16_t offsetFor(int variant, std::mt19937& rng) {
    switch (variant) {
        case 0: return 0;
        case 1: return -1;
        case 2: return std::numeric_limits<std::int16_t>::min();
        case 3: return std::numeric_limits<std::int16_t>::max();
        default:
            if (variant % 2 == 0) return static_cast<std::int16_t>(static_cast<int>(rng() % 64) - 32);
            return static_cast<std::int16_t>(static_cast<std::uint16_t>(rng()));
    }
}

std::int32_t immFor(int variant, std::mt19937& rng) {
    switch (variant) {
        case 0: return 0;
        case 1: return -1;
        case 2: return std::numeric_limits<std::int32_t>::min();
        case 3: return std::numeric_limits<std::int32_t>::max();
        default:
            if (variant % 2 == 0) return static_cast<std::int32_t>(rng() % 2000) - 1000;
            return static_cast<std::int32_t>(rng());
    }
}

std::uint64_t wideFor(int variant, std::mt19937& rng) {
    switch (variant) {
        case 0: return 0;
        case 1: return ~std::uint64_t{0};
        case 2: return std::uint64_t{1} << 63;
        case 3: return (std::uint64_t{1} << 63) - 1;
        case 4: return std::uint64_t{1} << 32;
        case 5: return 0xffffffffu;
        case 6: return 0x80000000u;
        default: return std::uint64_t{rng()} << 32 | rng();
    }
}

std::vector<Insn> wideSlots(std::uint8_t dst, std::uint64_t value) {
    Insn first{0x18, dst, 0, 0, static_cast<std::int32_t>(static_cast<std::uint32_t>(value))};
    Insn second{0, 0, 0, 0, static_cast<std::int32_t>(static_cast<std::uint32_t>(value >> 32))};
    return {first, second};
}

}  // namespace

std::vector<Sample> samples(std::uint32_t seed, int perRow) {
    std::mt19937 rng(seed);
    std::vector<Sample> out;
    for (const OpcodeInfo& row : opcodeTable()) {
        const int dstCount = row.writesDst ? kRegisterCount - 1 : kRegisterCount;
        for (int v = 0; v < perRow; ++v) {
            const auto dst = static_cast<std::uint8_t>(row.fields & kDst ? v % dstCount : 0);
            Sample sample{&row, {}};
            if (row.wide) {
                sample.slots = wideSlots(dst, wideFor(v, rng));
            } else {
                Insn insn;
                insn.opcode = row.opcode;
                insn.dst = dst;
                // 7 is prime to 11, so v * 7 + 3 visits every register r0..r10 within 11 samples.
                if (row.fields & kSrc) insn.src = static_cast<std::uint8_t>((v * 7 + 3) % kRegisterCount);
                if (row.fields & kOffset) insn.offset = offsetFor(v, rng);
                if (row.fields & kImm) insn.imm = immFor(v, rng);
                sample.slots = {insn};
            }
            out.push_back(std::move(sample));
        }
    }
    return out;
}

std::vector<Insn> docExample(const OpcodeInfo& row) {
    if (row.wide) return wideSlots(1, std::uint64_t{1} << 32);
    Insn insn;
    insn.opcode = row.opcode;
    insn.dst = 1;
    insn.src = 2;
    insn.imm = 7;
    insn.offset = 2;
    if (row.access == Access::Load) {
        insn.dst = 0;
        insn.src = 1;
        insn.offset = 8;
    } else if (row.access == Access::Store) {
        insn.dst = 10;
        insn.src = 1;
        insn.offset = -8;
    }
    if (row.call) insn.imm = 1;
    if (!(row.fields & kDst)) insn.dst = 0;
    if (!(row.fields & kSrc)) insn.src = 0;
    if (!(row.fields & kOffset)) insn.offset = 0;
    if (!(row.fields & kImm)) insn.imm = 0;
    return {insn};
}

bool llvm14Knows(std::uint8_t opcode) {
    switch (opcode) {
        case 0x97:
        case 0x9f:  // mod: "r1 %= r2" in later LLVM
        case 0x45:
        case 0x4d:  // jset: "if r1 & r2 goto +2" in later LLVM
        case 0x62:
        case 0x7a:  // st (immediate): "*(u64 *)(r10 - 8) = 7" in later LLVM
        case 0x06:  // gotol (JMP32 JA): "gotol +7" in later LLVM
            return false;
        default: return true;
    }
}

}  // namespace isatest
