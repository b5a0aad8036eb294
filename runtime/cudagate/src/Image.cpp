// Module image extents and digests (Image.h).
#include "Image.h"

#include <openssl/sha.h>

#include <cstring>
#include <fstream>

namespace omega::cudagate {

namespace {

constexpr std::uint32_t kFatbinMagic = 0xBA55ED50u;  // little-endian in memory
constexpr std::uint32_t kFatbinWrapperMagic = 0x466243B1u;

template <typename T>
T load(const std::uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);  // images need not be aligned
    return v;
}

// Field offsets of the ELF headers, by class (32 or 64 bit). Cubins are little-endian; a big-endian ELF is not an
// image this driver loads, and is refused.
struct ElfLayout {
    bool is64;
    std::size_t ehdrSize, phoff, shoff, phentsize, phnum, shentsize, shnum;
    std::size_t shType, shOffset, shSize, shdrSize;  // within a section header
    std::size_t phOffset, phFilesz, phdrSize;        // within a program header
};
constexpr ElfLayout kElf32{false, 52, 28, 32, 42, 44, 46, 48, 4, 16, 20, 40, 4, 16, 32};
constexpr ElfLayout kElf64{true, 64, 32, 40, 54, 56, 58, 60, 4, 24, 32, 64, 8, 32, 56};

std::uint64_t word(const std::uint8_t* p, bool is64) {
    return is64 ? load<std::uint64_t>(p) : load<std::uint32_t>(p);
}

bool elfExtent(const std::uint8_t* p, std::size_t& size, std::string& error) {
    if (p[5] != 1) {
        error = "ELF image is not little-endian";
        return false;
    }
    if (p[4] != 1 && p[4] != 2) {
        error = "ELF image of unknown class";
        return false;
    }
    const ElfLayout& l = p[4] == 2 ? kElf64 : kElf32;
    const std::uint64_t phoff = word(p + l.phoff, l.is64), shoff = word(p + l.shoff, l.is64);
    const std::uint64_t phentsize = load<std::uint16_t>(p + l.phentsize), phnum = load<std::uint16_t>(p + l.phnum);
    const std::uint64_t shentsize = load<std::uint16_t>(p + l.shentsize);
    std::uint64_t shnum = load<std::uint16_t>(p + l.shnum);
    if ((phnum != 0 && phentsize < l.phdrSize) || (shoff != 0 && shentsize < l.shdrSize) || phoff >= kMaxImageBytes ||
        shoff >= kMaxImageBytes) {
        error = "ELF image with inconsistent headers";
        return false;
    }
    // Extended numbering: more than 0xff00 sections keep their count in section 0's size.
    if (shoff != 0 && shnum == 0) shnum = word(p + shoff + l.shSize, l.is64);
    if (shnum > 1u << 20) {
        error = "ELF image with too many sections";
        return false;
    }
    std::uint64_t end = l.ehdrSize;
    auto extend = [&](std::uint64_t offset, std::uint64_t length) {
        if (offset > kMaxImageBytes || length > kMaxImageBytes) return false;
        end = std::max(end, offset + length);
        return end <= kMaxImageBytes;
    };
    bool ok = (phnum == 0 || extend(phoff, phnum * phentsize)) && (shnum == 0 || extend(shoff, shnum * shentsize));
    for (std::uint64_t i = 0; ok && i < shnum; ++i) {
        const std::uint8_t* sh = p + shoff + i * shentsize;
        constexpr std::uint32_t kNobits = 8;  // occupies no file space
        if (load<std::uint32_t>(sh + l.shType) != kNobits)
            ok = extend(word(sh + l.shOffset, l.is64), word(sh + l.shSize, l.is64));
    }
    for (std::uint64_t i = 0; ok && i < phnum; ++i) {
        const std::uint8_t* ph = p + phoff + i * phentsize;
        ok = extend(word(ph + l.phOffset, l.is64), word(ph + l.phFilesz, l.is64));
    }
    if (!ok) {
        error = "ELF image larger than " + std::to_string(kMaxImageBytes) + " bytes";
        return false;
    }
    size = static_cast<std::size_t>(end);
    return true;
}

bool fatbinExtent(const std::uint8_t* p, std::size_t& size, std::string& error) {
    // struct { u32 magic; u16 version; u16 headerSize; u64 fatSize; }
    const std::uint16_t headerSize = load<std::uint16_t>(p + 6);
    const std::uint64_t fatSize = load<std::uint64_t>(p + 8);
    if (headerSize < 16 || fatSize > kMaxImageBytes) {
        error = "fatbin with inconsistent header";
        return false;
    }
    size = static_cast<std::size_t>(headerSize + fatSize);
    return true;
}

}  // namespace

bool findImage(const void* image, ImageSpan& out, std::string& error) {
    if (image == nullptr) {
        error = "null image";
        return false;
    }
    auto p = static_cast<const std::uint8_t*>(image);
    // Magic numbers are compared byte by byte: none of their bytes is 0, so the comparison stops at or before the
    // NUL of a short text image and never reads past it.
    auto starts = [](const std::uint8_t* q, std::uint32_t magic) {
        for (int i = 0; i < 4; ++i)
            if (q[i] != ((magic >> (8 * i)) & 0xff)) return false;
        return true;
    };
    if (starts(p, 0x464c457fu)) {  // "\x7fELF"
        out = {p, 0, "cubin"};
        return elfExtent(p, out.size, error);
    }
    if (starts(p, kFatbinWrapperMagic)) {
        // struct { i32 magic; i32 version; const u64* data; void* filename_or_fatbins; }
        auto fatbin = load<const std::uint8_t*>(p + 8);
        if (fatbin == nullptr || !starts(fatbin, kFatbinMagic)) {
            error = "fatbin wrapper that does not point to a fatbin";
            return false;
        }
        p = fatbin;
    }
    if (starts(p, kFatbinMagic)) {
        out = {p, 0, "fatbin"};
        return fatbinExtent(p, out.size, error);
    }
    const std::size_t length = strnlen(reinterpret_cast<const char*>(p), kMaxImageBytes);
    if (length == kMaxImageBytes) {
        error = "text image without a NUL terminator";
        return false;
    }
    out = {p, length + 1, "text"};
    return true;
}

std::string moduleDigest(std::span<const std::uint8_t> bytes) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(bytes.data(), bytes.size(), digest);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned char b : digest) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

bool readFile(const char* path, std::vector<std::uint8_t>& out, std::string& error) {
    if (path == nullptr) {
        error = "null file name";
        return false;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = std::string("cannot open ") + path;
        return false;
    }
    out.clear();
    char buffer[1 << 16];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        out.insert(out.end(), buffer, buffer + in.gcount());
        if (out.size() > kMaxImageBytes) {
            error = std::string(path) + " is larger than " + std::to_string(kMaxImageBytes) + " bytes";
            return false;
        }
    }
    if (in.bad()) {
        error = std::string("cannot read ") + path;
        return false;
    }
    return true;
}

}  // namespace omega::cudagate
