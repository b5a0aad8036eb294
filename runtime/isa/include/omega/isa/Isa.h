// The raw eBPF instruction (RFC 9669): one 8-byte slot, its byte encoding, and the declarative table of the
// opcodes Omega accepts. The semantic level (Instruction.h) and the disassembler are built on this table.
#pragma once

#include "omega/isa/Result.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace omega::isa {

// One slot as encoded: opcode, dst (low nibble of byte 1), src (high nibble), offset and imm, little-endian.
// dst and src are 4-bit fields: encode() keeps their low four bits.
struct Insn {
    std::uint8_t opcode = 0;
    std::uint8_t dst = 0;
    std::uint8_t src = 0;
    std::int16_t offset = 0;
    std::int32_t imm = 0;
    bool operator==(const Insn&) const = default;
};

inline constexpr std::size_t kSlotSize = 8;
inline constexpr std::uint8_t kRegisterCount = 11;  // r0..r10
inline constexpr std::uint8_t kFramePointer = 10;   // r10, read-only

// Raw level: bytes <-> slots. decode() fails only when the size is not a multiple of 8; it does not look at
// opcodes (unmarshal does).
void encodeSlot(const Insn& insn, std::uint8_t out[kSlotSize]);
Insn decodeSlot(const std::uint8_t in[kSlotSize]);
std::vector<std::uint8_t> encode(std::span<const Insn> insns);
Result<std::vector<Insn>> decode(std::span<const std::uint8_t> bytes);

// RFC 9669 instruction classes (low three bits of the opcode).
enum class InsnClass : std::uint8_t { Ld = 0, Ldx = 1, St = 2, Stx = 3, Alu = 4, Jmp = 5, Jmp32 = 6, Alu64 = 7 };
std::string_view className(InsnClass c);  // "ld", "ldx", ..., "alu64"

// Where the operand comes from: K, the imm field; X, the src register. For ALU and JMP it is opcode bit 0x08.
enum class Source : std::uint8_t { K, X };

// Which of the dst, src, offset and imm fields an opcode uses; the others must be zero.
enum Field : std::uint8_t { kDst = 1, kSrc = 2, kOffset = 4, kImm = 8 };

enum class Access : std::uint8_t { None, Load, Store };

// One row per accepted opcode. The accepted set is exactly the rows of opcodeTable().
struct OpcodeInfo {
    std::uint8_t opcode;
    std::string_view mnemonic;  // "add", "jeq", "ldxdw", "stw", "lddw", ... (the same for K and X forms)
    InsnClass cls;
    Source source;
    std::uint8_t fields;  // Field bits
    bool jump;            // ja, gotol or a conditional jump: to pc + 1 + offset (gotol: pc + 1 + imm)
    bool wide;            // occupies two slots (lddw)
    bool call;
    bool exit;
    Access access;      // memory access, if any
    std::uint8_t size;  // bytes loaded or stored; 0 when access is None
    bool writesDst;     // the dst register is written (so it may not be r10)
    bool operator==(const OpcodeInfo&) const = default;
};

// Rows in ascending opcode order.
std::span<const OpcodeInfo> opcodeTable();
// The row for an opcode, or nullptr if Omega does not accept it.
const OpcodeInfo* findOpcode(std::uint8_t opcode);

}  // namespace omega::isa
