// Private: the RFC 9669 arithmetic that needs more than one C++ operator (division and modulo by zero, shifts,
// arithmetic shift), shared by the interpreter and the verifier's constant folding so the two cannot disagree.
#pragma once

#include "omega/isa/Instruction.h"

#include <cstdint>

namespace omega::vm::sem {

// Unsigned; division by zero gives 0.
constexpr std::uint64_t div(std::uint64_t a, std::uint64_t b) {
    return b == 0 ? 0 : a / b;
}
// Unsigned; modulo by zero leaves the dividend.
constexpr std::uint64_t mod(std::uint64_t a, std::uint64_t b) {
    return b == 0 ? a : a % b;
}
// Shift amounts are masked to 6 bits.
constexpr std::uint64_t lsh(std::uint64_t a, std::uint64_t b) {
    return a << (b & 63);
}
constexpr std::uint64_t rsh(std::uint64_t a, std::uint64_t b) {
    return a >> (b & 63);
}
// Arithmetic shift right (C++20 defines >> of a negative value as arithmetic).
constexpr std::uint64_t arsh(std::uint64_t a, std::uint64_t b) {
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(a) >> (b & 63));
}

// dst op src for every ALU operation (Neg ignores src, Mov returns src).
constexpr std::uint64_t alu(isa::AluOp op, std::uint64_t a, std::uint64_t b) {
    switch (op) {
        case isa::AluOp::Add: return a + b;
        case isa::AluOp::Sub: return a - b;
        case isa::AluOp::Mul: return a * b;
        case isa::AluOp::Div: return div(a, b);
        case isa::AluOp::Or: return a | b;
        case isa::AluOp::And: return a & b;
        case isa::AluOp::Lsh: return lsh(a, b);
        case isa::AluOp::Rsh: return rsh(a, b);
        case isa::AluOp::Neg: return 0 - a;
        case isa::AluOp::Mod: return mod(a, b);
        case isa::AluOp::Xor: return a ^ b;
        case isa::AluOp::Mov: return b;
        case isa::AluOp::Arsh: return arsh(a, b);
    }
    return 0;
}

// The K operand: imm sign-extended to 64 bits.
constexpr std::uint64_t sext(std::int32_t imm) {
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(imm));
}

}  // namespace omega::vm::sem
