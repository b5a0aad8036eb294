// Names of a log's files: the active file PATH, rotated files PATH.<first seq> and the writer's PATH.new and
// PATH.lock; private to omega_log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace omega::log::detail {

// PATH.<first seq, zero-padded to 12 digits>: names sort in log order while seqs stay under 10^12.
std::string rotatedPath(const std::string& active, std::uint64_t firstSeq);
// The first seq in a rotated file's name `base`.<digits>; nothing when `name` is not one.
std::optional<std::uint64_t> rotatedSeq(std::string_view name, std::string_view base);
inline std::string newPath(const std::string& active) {
    return active + ".new";
}
inline std::string lockPath(const std::string& active) {
    return active + ".lock";
}

}  // namespace omega::log::detail
