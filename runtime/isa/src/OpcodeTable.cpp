// The declarative table of accepted opcodes, one row each, after uBPF: everything else in the library (unmarshal,
// marshal, the disassembler, the docs test) reads its facts about an opcode from here.
#include "omega/isa/Isa.h"

#include "OpcodeBits.h"

#include <array>

namespace omega::isa {
namespace {

constexpr auto K = Source::K;
constexpr auto X = Source::X;
constexpr auto LD = InsnClass::Ld;
constexpr auto LDX = InsnClass::Ldx;
constexpr auto ST = InsnClass::St;
constexpr auto STX = InsnClass::Stx;
constexpr auto JMP = InsnClass::Jmp;
constexpr auto JMP32 = InsnClass::Jmp32;
constexpr auto ALU64 = InsnClass::Alu64;
constexpr auto None = Access::None;
constexpr auto Load = Access::Load;
constexpr auto Store = Access::Store;
constexpr std::uint8_t D = kDst;
constexpr std::uint8_t DI = kDst | kImm;
constexpr std::uint8_t DS = kDst | kSrc;
constexpr std::uint8_t DSO = kDst | kSrc | kOffset;
constexpr std::uint8_t DOI = kDst | kOffset | kImm;
constexpr std::uint8_t O = kOffset;
constexpr std::uint8_t I = kImm;
constexpr std::uint8_t NONE = 0;
constexpr bool y = true;
constexpr bool n = false;

// clang-format off
constexpr std::array kTable = std::to_array<OpcodeInfo>({
    // opcode mnemonic class  src fields jump wide call exit access size writesDst
    {0x07, "add",   ALU64, K, DI,   n, n, n, n, None,  0, y},
    {0x0f, "add",   ALU64, X, DS,   n, n, n, n, None,  0, y},
    {0x17, "sub",   ALU64, K, DI,   n, n, n, n, None,  0, y},
    {0x1f, "sub",   ALU64, X, DS,   n, n, n, n, None,  0, y},
    {0x27, "mul",   ALU64, K, DI,   n, n, n, n, None,  0, y},
    {0x2f, "mul",   ALU64, X, DS,   n, n, n, n, None,  0, y},
    {0x37, "div",   ALU64, K, DI,   n, n, n, n, None,  0, y},
    {0x3f, "div",   ALU64, X, DS,   n, n, n, n, None,  0, y},
    {0x47, "or",    ALU64, K, DI,   n, n, n, n, None,  0, y},
    {0x4f, "or",    ALU64, X, DS,   n, n, n, n, None,  0, y},
    {0x57, "and",   ALU64, K, DI,   n, n, n, n, None,  0, y},
    {0x5f, "and",   ALU64, X, DS,   n, n, n, n, None,  0, y},
    {0x67, "lsh",   ALU64, K, DI,   n, n, n, n, None,  0, y},
    {0x6f, "lsh",   ALU64, X, DS,   n, n, n, n, None,  0, y},
    {0x77, "rsh",   ALU64, K, DI,   n, n, n, n, None,  0, y},
    {0x7f, "rsh",   ALU64, X, DS,   n, n, n, n, None,  0, y},
    {0x87, "neg",   ALU64, K, D,    n, n, n, n, None,  0, y},
    {0x97, "mod",   ALU64, K, DI,   n, n, n, n, None,  0, y},
    {0x9f, "mod",   ALU64, X, DS,   n, n, n, n, None,  0, y},
    {0xa7, "xor",   ALU64, K, DI,   n, n, n, n, None,  0, y},
    {0xaf, "xor",   ALU64, X, DS,   n, n, n, n, None,  0, y},
    {0xb7, "mov",   ALU64, K, DI,   n, n, n, n, None,  0, y},
    {0xbf, "mov",   ALU64, X, DS,   n, n, n, n, None,  0, y},
    {0xc7, "arsh",  ALU64, K, DI,   n, n, n, n, None,  0, y},
    {0xcf, "arsh",  ALU64, X, DS,   n, n, n, n, None,  0, y},

    {0x05, "ja",    JMP,   K, O,    y, n, n, n, None,  0, n},
    {0x06, "gotol", JMP32, K, I,    y, n, n, n, None,  0, n},
    {0x15, "jeq",   JMP,   K, DOI,  y, n, n, n, None,  0, n},
    {0x1d, "jeq",   JMP,   X, DSO,  y, n, n, n, None,  0, n},
    {0x25, "jgt",   JMP,   K, DOI,  y, n, n, n, None,  0, n},
    {0x2d, "jgt",   JMP,   X, DSO,  y, n, n, n, None,  0, n},
    {0x35, "jge",   JMP,   K, DOI,  y, n, n, n, None,  0, n},
    {0x3d, "jge",   JMP,   X, DSO,  y, n, n, n, None,  0, n},
    {0x45, "jset",  JMP,   K, DOI,  y, n, n, n, None,  0, n},
    {0x4d, "jset",  JMP,   X, DSO,  y, n, n, n, None,  0, n},
    {0x55, "jne",   JMP,   K, DOI,  y, n, n, n, None,  0, n},
    {0x5d, "jne",   JMP,   X, DSO,  y, n, n, n, None,  0, n},
    {0x65, "jsgt",  JMP,   K, DOI,  y, n, n, n, None,  0, n},
    {0x6d, "jsgt",  JMP,   X, DSO,  y, n, n, n, None,  0, n},
    {0x75, "jsge",  JMP,   K, DOI,  y, n, n, n, None,  0, n},
    {0x7d, "jsge",  JMP,   X, DSO,  y, n, n, n, None,  0, n},
    {0x85, "call",  JMP,   K, I,    n, n, y, n, None,  0, n},
    {0x95, "exit",  JMP,   K, NONE, n, n, n, y, None,  0, n},
    {0xa5, "jlt",   JMP,   K, DOI,  y, n, n, n, None,  0, n},
    {0xad, "jlt",   JMP,   X, DSO,  y, n, n, n, None,  0, n},
    {0xb5, "jle",   JMP,   K, DOI,  y, n, n, n, None,  0, n},
    {0xbd, "jle",   JMP,   X, DSO,  y, n, n, n, None,  0, n},
    {0xc5, "jslt",  JMP,   K, DOI,  y, n, n, n, None,  0, n},
    {0xcd, "jslt",  JMP,   X, DSO,  y, n, n, n, None,  0, n},
    {0xd5, "jsle",  JMP,   K, DOI,  y, n, n, n, None,  0, n},
    {0xdd, "jsle",  JMP,   X, DSO,  y, n, n, n, None,  0, n},

    {0x18, "lddw",  LD,    K, DI,   n, y, n, n, None,  0, y},
    {0x61, "ldxw",  LDX,   X, DSO,  n, n, n, n, Load,  4, y},
    {0x69, "ldxh",  LDX,   X, DSO,  n, n, n, n, Load,  2, y},
    {0x71, "ldxb",  LDX,   X, DSO,  n, n, n, n, Load,  1, y},
    {0x79, "ldxdw", LDX,   X, DSO,  n, n, n, n, Load,  8, y},
    {0x62, "stw",   ST,    K, DOI,  n, n, n, n, Store, 4, n},
    {0x7a, "stdw",  ST,    K, DOI,  n, n, n, n, Store, 8, n},
    {0x63, "stxw",  STX,   X, DSO,  n, n, n, n, Store, 4, n},
    {0x7b, "stxdw", STX,   X, DSO,  n, n, n, n, Store, 8, n},
});
// clang-format on

// INVARIANT: each row agrees with its own opcode: class bits, the K/X bit of ALU and JMP, the mode and size bits
// of memory instructions; the only JMP32 row is gotol; and no opcode appears twice.
constexpr bool consistent(const OpcodeInfo& row) {
    if ((row.opcode & bits::kClassMask) != static_cast<std::uint8_t>(row.cls)) return false;
    if (row.cls == InsnClass::Jmp32 && row.opcode != bits::kGotol) return false;
    if (row.cls == InsnClass::Alu64 || row.cls == InsnClass::Jmp || row.cls == InsnClass::Jmp32) {
        return ((row.opcode & bits::kSourceX) != 0) == (row.source == Source::X) && row.access == Access::None;
    }
    if (row.wide) return row.opcode == bits::kLddw && row.access == Access::None;
    return (row.opcode & 0xe0) == bits::kModeMem && (row.opcode & bits::kSizeMask) == bits::sizeBits(row.size) &&
           row.access != Access::None;
}

constexpr std::array<std::int16_t, 256> buildIndex() {
    std::array<std::int16_t, 256> index{};
    index.fill(-1);
    for (std::size_t i = 0; i < kTable.size(); ++i) {
        if (!consistent(kTable[i]) || index[kTable[i].opcode] != -1) {
            index.fill(-2);  // turned into a compile error below
            return index;
        }
        index[kTable[i].opcode] = static_cast<std::int16_t>(i);
    }
    return index;
}

constexpr std::array<std::int16_t, 256> kIndex = buildIndex();
static_assert(kIndex[0] != -2, "the opcode table is inconsistent");

}  // namespace

std::string_view className(InsnClass c) {
    switch (c) {
        case InsnClass::Ld: return "ld";
        case InsnClass::Ldx: return "ldx";
        case InsnClass::St: return "st";
        case InsnClass::Stx: return "stx";
        case InsnClass::Alu: return "alu";
        case InsnClass::Jmp: return "jmp";
        case InsnClass::Jmp32: return "jmp32";
        case InsnClass::Alu64: return "alu64";
    }
    return "?";
}

std::span<const OpcodeInfo> opcodeTable() {
    return kTable;
}

const OpcodeInfo* findOpcode(std::uint8_t opcode) {
    const std::int16_t i = kIndex[opcode];
    return i < 0 ? nullptr : &kTable[static_cast<std::size_t>(i)];
}

}  // namespace omega::isa
