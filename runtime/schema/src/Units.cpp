// The unit table of size and duration literals.
#include "omega/schema/Units.h"

namespace omega::schema {

namespace {

constexpr std::int64_t kSecond = 1000000000;

constexpr Unit kUnits[] = {
    {"B", 1, true},
    {"KB", 1000, true},
    {"MB", 1000000, true},
    {"GB", 1000000000, true},
    {"TB", 1000000000000, true},
    {"KiB", std::int64_t{1} << 10, true},
    {"MiB", std::int64_t{1} << 20, true},
    {"GiB", std::int64_t{1} << 30, true},
    {"TiB", std::int64_t{1} << 40, true},
    {"ns", 1, false},
    {"us", 1000, false},
    {"ms", 1000000, false},
    {"s", kSecond, false},
    {"m", 60 * kSecond, false},
    {"min", 60 * kSecond, false},
    {"h", 3600 * kSecond, false},
    {"d", 86400 * kSecond, false},
};

std::optional<std::int64_t> lookup(std::string_view unit, bool size) {
    for (const Unit& u : kUnits)
        if (u.size == size && u.name == unit) return u.factor;
    return std::nullopt;
}

}  // namespace

std::span<const Unit> units() {
    return kUnits;
}

std::optional<std::int64_t> sizeUnit(std::string_view unit) {
    return lookup(unit, true);
}

std::optional<std::int64_t> durationUnit(std::string_view unit) {
    return lookup(unit, false);
}

}  // namespace omega::schema
