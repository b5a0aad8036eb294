// Private: the verifier's abstract state at one pc (docs/bytecode.md 9.2): what each register holds, which stack
// bytes are written on every path, and the longest path to the pc. Merged at joins.
#pragma once

#include "Compiled.h"

#include <algorithm>
#include <array>
#include <bitset>
#include <cstdint>
#include <string>

namespace omega::vm {

enum class Kind : std::uint8_t {
    Uninit,   // not written on every path to here
    Scalar,   // a number, value unknown
    Const,    // a number known to be `constant`
    Context,  // the context pointer (exactly; there is no pointer arithmetic)
    Frame,    // the frame pointer r10 (exactly)
    Mixed,    // a pointer on some paths, something else on others: unusable
};

struct Value {
    Kind kind = Kind::Uninit;
    std::uint64_t constant = 0;  // meaningful for Const only, 0 otherwise
    bool operator==(const Value&) const = default;
};

inline Value scalar() {
    return Value{Kind::Scalar, 0};
}
inline Value constant(std::uint64_t v) {
    return Value{Kind::Const, v};
}
inline bool isPointer(const Value& v) {
    return v.kind == Kind::Context || v.kind == Kind::Frame;
}
inline bool isNumber(const Value& v) {
    return v.kind == Kind::Scalar || v.kind == Kind::Const;
}

inline Value merge(const Value& a, const Value& b) {
    if (a == b) return a;
    if (a.kind == Kind::Uninit || b.kind == Kind::Uninit) return Value{};
    if (isNumber(a) && isNumber(b)) return scalar();
    return Value{Kind::Mixed, 0};
}

// The stack is tracked in 4-byte granules (stores are 4 or 8 bytes, aligned): bit g covers r10 - 512 + 4g.
inline constexpr std::size_t kGranule = 4;
inline constexpr std::size_t kGranules = kStackSize / kGranule;

struct State {
    std::array<Value, isa::kRegisterCount> regs{};
    std::bitset<kGranules> written;  // granules written on every path to here
    std::uint64_t steps = 0;         // instructions on the longest path to here (not counting this pc)
    std::uint64_t cost = 0;          // cost of the costliest path to here

    static State entry() {
        State s;
        s.regs[1] = Value{Kind::Context, 0};
        s.regs[isa::kFramePointer] = Value{Kind::Frame, 0};
        return s;
    }

    void mergeFrom(const State& other) {
        for (std::size_t r = 0; r < regs.size(); ++r) regs[r] = merge(regs[r], other.regs[r]);
        written &= other.written;
        steps = std::max(steps, other.steps);
        cost = std::max(cost, other.cost);
    }
};

}  // namespace omega::vm
