// A tiny assembler for the vm tests: builds isa::Insn slot vectors instruction by instruction, with labels for
// forward jumps (resolved by slots()) and raw offsets or raw slots for the programs the verifier must reject.
#pragma once

#include "omega/isa/Isa.h"
#include "omega/vm/Verifier.h"

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace vmtest {

// The limits most tests verify against: 4 rules, 2 matchers, and the given context size and cost ceiling.
inline omega::vm::Limits limits(std::uint32_t contextWords, std::uint64_t maxCost) {
    omega::vm::Limits l;
    l.contextWords = contextWords;
    l.rules = 4;
    l.matchers = 2;
    l.maxCost = maxCost;
    return l;
}

using omega::isa::Insn;

struct R {
    std::uint8_t n;
};
inline constexpr R r0{0}, r1{1}, r2{2}, r3{3}, r4{4}, r5{5}, r6{6}, r7{7}, r8{8}, r9{9}, r10{10};

class Asm {
public:
    // alu64: the K opcode of the operation; the X form is opcode | 0x08.
    Asm& alu(std::uint8_t opK, R dst, std::int32_t imm) { return emit({opK, dst.n, 0, 0, imm}); }
    Asm& alu(std::uint8_t opK, R dst, R src) {
        return emit({static_cast<std::uint8_t>(opK | 0x08), dst.n, src.n, 0, 0});
    }
    // clang-format off
    template <typename S> Asm& add(R d, S s) { return alu(0x07, d, s); }
    template <typename S> Asm& sub(R d, S s) { return alu(0x17, d, s); }
    template <typename S> Asm& mul(R d, S s) { return alu(0x27, d, s); }
    template <typename S> Asm& div(R d, S s) { return alu(0x37, d, s); }
    template <typename S> Asm& or_(R d, S s) { return alu(0x47, d, s); }
    template <typename S> Asm& and_(R d, S s) { return alu(0x57, d, s); }
    template <typename S> Asm& lsh(R d, S s) { return alu(0x67, d, s); }
    template <typename S> Asm& rsh(R d, S s) { return alu(0x77, d, s); }
    template <typename S> Asm& mod(R d, S s) { return alu(0x97, d, s); }
    template <typename S> Asm& xor_(R d, S s) { return alu(0xa7, d, s); }
    template <typename S> Asm& mov(R d, S s) { return alu(0xb7, d, s); }
    template <typename S> Asm& arsh(R d, S s) { return alu(0xc7, d, s); }
    // clang-format on
    Asm& neg(R d) { return emit({0x87, d.n, 0, 0, 0}); }
    Asm& lddw(R d, std::int64_t value) {
        const auto u = static_cast<std::uint64_t>(value);
        emit({0x18, d.n, 0, 0, static_cast<std::int32_t>(static_cast<std::uint32_t>(u))});
        return emit({0x00, 0, 0, 0, static_cast<std::int32_t>(static_cast<std::uint32_t>(u >> 32))});
    }

    // Jumps: to a label defined later, or to a raw offset. opK is the K opcode of the condition.
    Asm& jump(std::uint8_t opK, R left, std::int32_t imm, std::string label) {
        return emitTo({opK, left.n, 0, 0, imm}, label);
    }
    Asm& jump(std::uint8_t opK, R left, R right, std::string label) {
        return emitTo({static_cast<std::uint8_t>(opK | 0x08), left.n, right.n, 0, 0}, label);
    }
    Asm& jump(std::uint8_t opK, R left, std::int32_t imm, int offset) {
        return emit({opK, left.n, 0, static_cast<std::int16_t>(offset), imm});
    }
    Asm& ja(std::string label) { return emitTo({0x05, 0, 0, 0, 0}, label); }
    Asm& ja(int offset) { return emit({0x05, 0, 0, static_cast<std::int16_t>(offset), 0}); }
    // clang-format off
    template <typename S, typename T> Asm& jeq(R l, S r, T to) { return jump(0x15, l, r, to); }
    template <typename S, typename T> Asm& jgt(R l, S r, T to) { return jump(0x25, l, r, to); }
    template <typename S, typename T> Asm& jge(R l, S r, T to) { return jump(0x35, l, r, to); }
    template <typename S, typename T> Asm& jset(R l, S r, T to) { return jump(0x45, l, r, to); }
    template <typename S, typename T> Asm& jne(R l, S r, T to) { return jump(0x55, l, r, to); }
    template <typename S, typename T> Asm& jsgt(R l, S r, T to) { return jump(0x65, l, r, to); }
    template <typename S, typename T> Asm& jlt(R l, S r, T to) { return jump(0xa5, l, r, to); }
    template <typename S, typename T> Asm& jle(R l, S r, T to) { return jump(0xb5, l, r, to); }
    template <typename S, typename T> Asm& jslt(R l, S r, T to) { return jump(0xc5, l, r, to); }
    // clang-format on

    Asm& call(std::int32_t helper) { return emit({0x85, 0, 0, 0, helper}); }
    Asm& exit() { return emit({0x95, 0, 0, 0, 0}); }

    // dst = *(size *)(base + offset); size in bytes.
    Asm& ldx(int size, R dst, R base, int offset) { return emit({ldxOpcode(size), dst.n, base.n, off(offset), 0}); }
    Asm& ldxdw(R dst, R base, int offset) { return ldx(8, dst, base, offset); }
    // *(size *)(base + offset) = imm / src; size 4 or 8.
    Asm& st(int size, R base, int offset, std::int32_t imm) {
        return emit({static_cast<std::uint8_t>(size == 8 ? 0x7a : 0x62), base.n, 0, off(offset), imm});
    }
    Asm& stx(int size, R base, int offset, R src) {
        return emit({static_cast<std::uint8_t>(size == 8 ? 0x7b : 0x63), base.n, src.n, off(offset), 0});
    }

    Asm& raw(Insn insn) { return emit(insn); }
    Asm& label(const std::string& name) {
        labels_[name] = pc();
        return *this;
    }
    std::size_t pc() const { return slots_.size(); }

    // The program, with every label jump resolved (an unknown label becomes offset 0x7fff, past any test program).
    std::vector<Insn> slots() const {
        std::vector<Insn> out = slots_;
        for (const auto& [at, name] : fixups_) {
            auto it = labels_.find(name);
            out[at].offset = it == labels_.end()
                                 ? std::int16_t{0x7fff}
                                 : static_cast<std::int16_t>(static_cast<long>(it->second) - static_cast<long>(at) - 1);
        }
        return out;
    }

private:
    static std::uint8_t ldxOpcode(int size) {
        switch (size) {
            case 1: return 0x71;
            case 2: return 0x69;
            case 4: return 0x61;
            default: return 0x79;
        }
    }
    static std::int16_t off(int offset) { return static_cast<std::int16_t>(offset); }
    Asm& emit(Insn insn) {
        slots_.push_back(insn);
        return *this;
    }
    Asm& emitTo(Insn insn, const std::string& label) {
        fixups_.emplace_back(slots_.size(), label);
        return emit(insn);
    }

    std::vector<Insn> slots_;
    std::map<std::string, std::size_t> labels_;
    std::vector<std::pair<std::size_t, std::string>> fixups_;
};

}  // namespace vmtest
