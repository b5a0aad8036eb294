// Module images as the driver receives them: how long an image passed by pointer is (ELF cubin, fatbin, fatbin
// wrapper or NUL-terminated text such as PTX), and the SHA-256 that is a kernel's module identity (docs/gpu.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace omega::cudagate {

// The largest image the gate hashes; the driver would refuse larger ones long before.
inline constexpr std::uint64_t kMaxImageBytes = std::uint64_t{1} << 31;

struct ImageSpan {
    const std::uint8_t* data = nullptr;  // the bytes to hash: for a fatbin wrapper, the fatbin it points to
    std::size_t size = 0;
    const char* kind = "";  // "cubin", "fatbin", "text"
};

// Finds the extent of the image at `image` from its own headers: an ELF file (32 or 64 bit) ends at the last of
// its headers, sections and segments; a fatbin (magic 0xBA55ED50) at header size + payload size; a fatbin wrapper
// (magic 0x466243B1, what nvcc emits for the runtime) is followed to its fatbin; anything else is text, which the
// driver reads up to its NUL (the NUL included). False with `error` set for a null pointer, inconsistent headers or
// text without a NUL within kMaxImageBytes. The memory is read as the driver would read it: a caller that passes
// a pointer to less than its headers claim would make the driver fault too.
bool findImage(const void* image, ImageSpan& out, std::string& error);

// "sha256:" and 64 lowercase hex digits, the form of kernel.module in requests.
std::string moduleDigest(std::span<const std::uint8_t> bytes);

// A file's bytes (at most kMaxImageBytes); false with `error` set when it cannot be read.
bool readFile(const char* path, std::vector<std::uint8_t>& out, std::string& error);

}  // namespace omega::cudagate
