// Private: the RFC 9669 bit fields of an opcode (class, source, operation, size), shared by the table's
// consistency check, unmarshal and marshal.
#pragma once

#include <cstdint>

namespace omega::isa::bits {

inline constexpr std::uint8_t kClassMask = 0x07;
inline constexpr std::uint8_t kSourceX = 0x08;  // ALU and JMP: operand is the src register
inline constexpr std::uint8_t kSizeMask = 0x18;
inline constexpr std::uint8_t kModeMem = 0x60;  // LDX, ST, STX: BPF_MEM mode
inline constexpr std::uint8_t kLddw = 0x18;     // LD | IMM | DW
inline constexpr std::uint8_t kJa = 0x05;
inline constexpr std::uint8_t kGotol = 0x06;  // JMP32 | JA: the only JMP32 opcode accepted
inline constexpr std::uint8_t kCall = 0x85;
inline constexpr std::uint8_t kExit = 0x95;

// The operation (ALU op or jump condition): the high nibble.
constexpr std::uint8_t operation(std::uint8_t opcode) {
    return opcode >> 4;
}

// Size bits of a memory opcode for an access of `bytes` bytes; 0xff for a size the ISA does not have.
constexpr std::uint8_t sizeBits(unsigned bytes) {
    switch (bytes) {
        case 4: return 0x00;
        case 2: return 0x08;
        case 1: return 0x10;
        case 8: return 0x18;
        default: return 0xff;
    }
}

}  // namespace omega::isa::bits
