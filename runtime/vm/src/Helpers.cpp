// The helper table of docs/bytecode.md 8.4. Costs are in instruction units: what one call may cost the runtime's
// helper implementation at the bundle and request size limits, relative to one interpreted instruction.
#include "omega/vm/Helpers.h"

namespace omega::vm {
namespace {

constexpr auto V = ArgKind::Value;

// clang-format off
constexpr std::array<HelperSpec, 8> kHelpers{{
    // id         name          args  r1..r5 kinds                                        cost
    {kMatch,     "match",      2, {ArgKind::Rule,    V, V,                   V, V},   2},
    {kSetHas,    "set_has",    2, {V,                V, V,                   V, V},  16},
    {kSetCmp,    "set_cmp",    3, {V,                V, ArgKind::SetCmpOp,   V, V},  64},
    {kGlob,      "glob",       2, {ArgKind::Matcher, V, V,                   V, V}, 256},
    {kPrefix,    "prefix",     2, {ArgKind::Matcher, V, V,                   V, V},  64},
    {kLabelLe,   "label_le",   2, {V,                V, V,                   V, V},   2},
    {kTaint,     "taint",      3, {V,                V, ArgKind::TaintOp,    V, V},  64},
    {kRateCount, "rate_count", 1, {ArgKind::Rule,    V, V,                   V, V},   4},
}};
// clang-format on

// INVARIANT: row i has id i + 1, so findHelper can index.
constexpr bool idsAreDense() {
    for (std::size_t i = 0; i < kHelpers.size(); ++i) {
        if (kHelpers[i].id != i + 1 || kHelpers[i].args > 5) return false;
    }
    return kHelpers.size() + 1 == kHelperSlots;
}
static_assert(idsAreDense(), "the helper table must list ids 1..8 in order");

}  // namespace

std::span<const HelperSpec> helperTable() {
    return kHelpers;
}

const HelperSpec* findHelper(std::int64_t id) {
    if (id < 1 || id > static_cast<std::int64_t>(kHelpers.size())) return nullptr;
    return &kHelpers[static_cast<std::size_t>(id - 1)];
}

}  // namespace omega::vm
