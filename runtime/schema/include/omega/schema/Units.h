// The units of size and duration literals (`40 GiB`, `30s`): one table for the compiler's checker and evaluator and
// the runtime's request decoder. Sizes are bytes, durations nanoseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace omega::schema {

struct Unit {
    std::string_view name;  // as written, case-sensitive: `KiB`, `min`
    std::int64_t factor;    // bytes or nanoseconds in one unit
    bool size;              // true: a size unit; false: a duration unit
};

// Every unit, size units first, in the order language.md lists them.
std::span<const Unit> units();

// The factor of a unit, or nothing when `unit` is not a unit of that kind.
std::optional<std::int64_t> sizeUnit(std::string_view unit);
std::optional<std::int64_t> durationUnit(std::string_view unit);

}  // namespace omega::schema
