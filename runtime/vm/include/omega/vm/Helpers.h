// The helpers a program may call (docs/bytecode.md 8.4): id, name, arity, which arguments must be constants the
// verifier proves in range, and the cost each call adds to the cost bound. The table is the only source of these facts.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace omega::vm {

enum HelperId : std::uint32_t {
    kMatch = 1,
    kSetHas = 2,
    kSetCmp = 3,
    kGlob = 4,
    kPrefix = 5,
    kLabelLe = 6,
    kTaint = 7,
    kRateCount = 8,
};
// Helper ids are 1..8; Env::helpers is indexed by id, slot 0 unused.
inline constexpr std::size_t kHelperSlots = 9;

// The op argument of set_cmp and taint.
enum class SetCmpOp : std::uint8_t { Eq = 0, Subset = 1, ProperSubset = 2 };
inline constexpr std::uint32_t kSetCmpOps = 3;
enum class TaintOp : std::uint8_t { AnyGe = 0, AnyGt = 1, AllLe = 2, AllLt = 3 };
inline constexpr std::uint32_t kTaintOps = 4;

// What an argument register holds. Value: any number, bounds-checked by the helper itself (fail closed). The other
// kinds must be verifier-proven constants below an exclusive bound: Limits::rules, Limits::matchers, kSetCmpOps,
// kTaintOps.
enum class ArgKind : std::uint8_t { Value, Rule, Matcher, SetCmpOp, TaintOp };

struct HelperSpec {
    std::uint32_t id;
    const char* name;
    std::uint8_t args;                // reads r1..r<args>
    std::array<ArgKind, 5> argKinds;  // for r1..r5; Value beyond args
    std::uint32_t cost;               // added to the cost bound (and the fuel) per call, on top of the call itself

    // Bit i set when r<i+1> must be a constant.
    std::uint8_t constArgs() const {
        std::uint8_t mask = 0;
        for (std::size_t i = 0; i < argKinds.size(); ++i) mask |= (argKinds[i] != ArgKind::Value) << i;
        return mask;
    }
};

// Rows in id order.
std::span<const HelperSpec> helperTable();
// The row for an id, or nullptr when there is no such helper.
const HelperSpec* findHelper(std::int64_t id);

}  // namespace omega::vm
