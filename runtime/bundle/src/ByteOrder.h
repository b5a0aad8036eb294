// Little-endian reads and writes at byte offsets; private to omega_bundle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

namespace omega::bundle::detail {

// INVARIANT: callers check the range before reading; a read past the end is a bug in this library, so it stops
// the program instead of touching memory it does not own.
template <typename T>
T readLe(std::span<const std::uint8_t> bytes, std::uint64_t at) {
    if (at > bytes.size() || bytes.size() - at < sizeof(T)) std::abort();
    T value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(static_cast<T>(bytes[at + i]) << (8 * i));
    return value;
}

inline std::uint16_t readU16(std::span<const std::uint8_t> b, std::uint64_t at) {
    return readLe<std::uint16_t>(b, at);
}
inline std::uint32_t readU32(std::span<const std::uint8_t> b, std::uint64_t at) {
    return readLe<std::uint32_t>(b, at);
}
inline std::uint64_t readU64(std::span<const std::uint8_t> b, std::uint64_t at) {
    return readLe<std::uint64_t>(b, at);
}

template <typename T>
void appendLe(std::vector<std::uint8_t>& out, T value) {
    for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

template <typename T>
void writeLe(std::vector<std::uint8_t>& out, std::size_t at, T value) {
    if (at > out.size() || out.size() - at < sizeof(T)) std::abort();
    for (std::size_t i = 0; i < sizeof(T); ++i) out[at + i] = static_cast<std::uint8_t>(value >> (8 * i));
}

// Bytes of zero padding after `length` bytes to reach the next multiple of 8.
inline std::uint64_t paddingAfter(std::uint64_t length) {
    return (8 - length % 8) % 8;
}

}  // namespace omega::bundle::detail
