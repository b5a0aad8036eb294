// Bytes <-> raw slots: 8 bytes each, little-endian offset and imm, dst in the low nibble of byte 1.
#include "omega/isa/Isa.h"

#include <string>

namespace omega::isa {

void encodeSlot(const Insn& insn, std::uint8_t out[kSlotSize]) {
    const auto offset = static_cast<std::uint16_t>(insn.offset);
    const auto imm = static_cast<std::uint32_t>(insn.imm);
    out[0] = insn.opcode;
    out[1] = static_cast<std::uint8_t>((insn.dst & 0x0f) | ((insn.src & 0x0f) << 4));
    out[2] = static_cast<std::uint8_t>(offset);
    out[3] = static_cast<std::uint8_t>(offset >> 8);
    for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<std::uint8_t>(imm >> (8 * i));
}

Insn decodeSlot(const std::uint8_t in[kSlotSize]) {
    Insn insn;
    insn.opcode = in[0];
    insn.dst = in[1] & 0x0f;
    insn.src = in[1] >> 4;
    insn.offset = static_cast<std::int16_t>(static_cast<std::uint16_t>(in[2] | (in[3] << 8)));
    std::uint32_t imm = 0;
    for (int i = 0; i < 4; ++i) imm |= static_cast<std::uint32_t>(in[4 + i]) << (8 * i);
    insn.imm = static_cast<std::int32_t>(imm);
    return insn;
}

std::vector<std::uint8_t> encode(std::span<const Insn> insns) {
    std::vector<std::uint8_t> bytes(insns.size() * kSlotSize);
    for (std::size_t i = 0; i < insns.size(); ++i) encodeSlot(insns[i], bytes.data() + i * kSlotSize);
    return bytes;
}

Result<std::vector<Insn>> decode(std::span<const std::uint8_t> bytes) {
    const std::size_t whole = bytes.size() / kSlotSize;
    if (bytes.size() % kSlotSize != 0) {
        return Error{whole, "truncated instruction: " + std::to_string(bytes.size() % kSlotSize) + " of " +
                                std::to_string(kSlotSize) + " bytes"};
    }
    std::vector<Insn> insns(whole);
    for (std::size_t i = 0; i < whole; ++i) insns[i] = decodeSlot(bytes.data() + i * kSlotSize);
    return insns;
}

}  // namespace omega::isa
