// Module images (runtime/cudagate/src/Image.h): the extent of ELF cubins, fatbins, fatbin wrappers and text passed
// by pointer, refused images, and the module digest.
#include "Image.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

namespace omega::cudagate {
namespace {

template <typename T>
void put(std::vector<std::uint8_t>& b, std::size_t at, T v) {
    if (b.size() < at + sizeof v) b.resize(at + sizeof v);
    std::memcpy(b.data() + at, &v, sizeof v);
}

// A little-endian ELF64 file: header, `sections` section headers at `shoff` (one PROGBITS section of `dataSize`
// bytes at `dataAt`, one NOBITS section claiming a huge size), and one program header.
std::vector<std::uint8_t> elf64(std::uint64_t shoff, std::uint64_t dataAt, std::uint64_t dataSize) {
    std::vector<std::uint8_t> b(64, 0);
    b[0] = 0x7f, b[1] = 'E', b[2] = 'L', b[3] = 'F', b[4] = 2, b[5] = 1, b[6] = 1;
    put<std::uint64_t>(b, 32, 64);       // e_phoff
    put<std::uint64_t>(b, 40, shoff);    // e_shoff
    put<std::uint16_t>(b, 54, 56);       // e_phentsize
    put<std::uint16_t>(b, 56, 1);        // e_phnum
    put<std::uint16_t>(b, 58, 64);       // e_shentsize
    put<std::uint16_t>(b, 60, 3);        // e_shnum
    put<std::uint64_t>(b, 64 + 8, 64);   // p_offset
    put<std::uint64_t>(b, 64 + 32, 56);  // p_filesz
    const std::size_t s1 = shoff + 64, s2 = shoff + 128;
    put<std::uint32_t>(b, s1 + 4, 1);  // PROGBITS
    put<std::uint64_t>(b, s1 + 24, dataAt);
    put<std::uint64_t>(b, s1 + 32, dataSize);
    put<std::uint32_t>(b, s2 + 4, 8);  // NOBITS: no file space, whatever its size
    put<std::uint64_t>(b, s2 + 24, 0x1000);
    put<std::uint64_t>(b, s2 + 32, std::uint64_t{1} << 40);
    b.resize(std::max<std::size_t>(b.size(), dataAt + dataSize), 0xAB);
    return b;
}

TEST(CudaGateImage, ElfEndsAtItsSectionHeaders) {
    const auto b = elf64(200, 120, 40);  // data before the section headers
    ImageSpan span;
    std::string error;
    ASSERT_TRUE(findImage(b.data(), span, error)) << error;
    EXPECT_STREQ(span.kind, "cubin");
    EXPECT_EQ(span.size, 200u + 3 * 64);
    EXPECT_EQ(span.data, b.data());
}

TEST(CudaGateImage, ElfEndsAtItsLastSection) {
    auto b = elf64(200, 600, 1000);  // a section after the section headers
    b.resize(4096, 0xCD);            // bytes beyond the image are not part of it
    ImageSpan span;
    std::string error;
    ASSERT_TRUE(findImage(b.data(), span, error)) << error;
    EXPECT_EQ(span.size, 1600u);
}

TEST(CudaGateImage, Elf32) {
    std::vector<std::uint8_t> b(52, 0);
    b[0] = 0x7f, b[1] = 'E', b[2] = 'L', b[3] = 'F', b[4] = 1, b[5] = 1;
    put<std::uint32_t>(b, 32, 100);  // e_shoff
    put<std::uint16_t>(b, 46, 40);   // e_shentsize
    put<std::uint16_t>(b, 48, 2);    // e_shnum
    put<std::uint32_t>(b, 100 + 40 + 4, 1);
    put<std::uint32_t>(b, 100 + 40 + 16, 60);  // sh_offset
    put<std::uint32_t>(b, 100 + 40 + 20, 30);  // sh_size
    ImageSpan span;
    std::string error;
    ASSERT_TRUE(findImage(b.data(), span, error)) << error;
    EXPECT_EQ(span.size, 180u);
}

TEST(CudaGateImage, ElfExtendedSectionCount) {
    auto b = elf64(200, 120, 40);
    put<std::uint16_t>(b, 60, 0);  // e_shnum 0: the count is section 0's sh_size
    put<std::uint64_t>(b, 200 + 32, 3);
    ImageSpan span;
    std::string error;
    ASSERT_TRUE(findImage(b.data(), span, error)) << error;
    EXPECT_EQ(span.size, 200u + 3 * 64);
}

TEST(CudaGateImage, InconsistentElfIsRefused) {
    auto big = elf64(200, 120, 40);
    put<std::uint64_t>(big, 200 + 64 + 32, std::uint64_t{1} << 40);  // a PROGBITS section of a terabyte
    ImageSpan span;
    std::string error;
    EXPECT_FALSE(findImage(big.data(), span, error));
    EXPECT_NE(error.find("larger than"), std::string::npos) << error;

    auto bigEndian = elf64(200, 120, 40);
    bigEndian[5] = 2;
    EXPECT_FALSE(findImage(bigEndian.data(), span, error));
    EXPECT_EQ(error, "ELF image is not little-endian");

    auto shortHeaders = elf64(200, 120, 40);
    put<std::uint16_t>(shortHeaders, 58, 8);  // section headers smaller than the format's
    EXPECT_FALSE(findImage(shortHeaders.data(), span, error));
    EXPECT_EQ(error, "ELF image with inconsistent headers");
}

std::vector<std::uint8_t> fatbin(std::uint64_t payload) {
    std::vector<std::uint8_t> b;
    put<std::uint32_t>(b, 0, 0xBA55ED50u);
    put<std::uint16_t>(b, 4, 1);
    put<std::uint16_t>(b, 6, 16);
    put<std::uint64_t>(b, 8, payload);
    b.resize(16 + payload + 100, 0x11);  // trailing bytes are not part of it
    return b;
}

TEST(CudaGateImage, Fatbin) {
    const auto b = fatbin(300);
    ImageSpan span;
    std::string error;
    ASSERT_TRUE(findImage(b.data(), span, error)) << error;
    EXPECT_STREQ(span.kind, "fatbin");
    EXPECT_EQ(span.size, 316u);

    auto bad = fatbin(10);
    put<std::uint16_t>(bad, 6, 8);  // a header shorter than itself
    EXPECT_FALSE(findImage(bad.data(), span, error));
    EXPECT_EQ(error, "fatbin with inconsistent header");
}

TEST(CudaGateImage, FatbinWrapperIsFollowed) {
    const auto b = fatbin(64);
    struct {
        std::int32_t magic = 0x466243B1;
        std::int32_t version = 1;
        const void* data;
        const void* filename = nullptr;
    } wrapper{.data = b.data()};
    ImageSpan span;
    std::string error;
    ASSERT_TRUE(findImage(&wrapper, span, error)) << error;
    EXPECT_EQ(span.data, b.data());
    EXPECT_EQ(span.size, 80u);

    const char notFatbin[] = "not a fatbin";
    wrapper.data = notFatbin;
    EXPECT_FALSE(findImage(&wrapper, span, error));
}

TEST(CudaGateImage, TextIncludesItsNul) {
    const char ptx[] = ".version 8.0\n.target sm_90\n";
    ImageSpan span;
    std::string error;
    ASSERT_TRUE(findImage(ptx, span, error)) << error;
    EXPECT_STREQ(span.kind, "text");
    EXPECT_EQ(span.size, sizeof ptx);
    // Short texts: the magic comparison stops at the NUL (AddressSanitizer would see a read past it).
    for (const char* s : {"", "\x7f",
                          "\x7f"
                          "E",
                          "\x50\xED", "\xB1\x43\x62"}) {
        const std::size_t n = std::strlen(s) + 1;
        std::vector<char> exact(s, s + n);
        ASSERT_TRUE(findImage(exact.data(), span, error)) << error;
        EXPECT_EQ(span.size, n);
    }
    EXPECT_FALSE(findImage(nullptr, span, error));
    EXPECT_EQ(error, "null image");
}

TEST(CudaGateImage, DigestIsSha256) {
    const std::uint8_t abc[] = {'a', 'b', 'c'};
    EXPECT_EQ(moduleDigest(abc), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(moduleDigest({}), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(CudaGateImage, ReadFile) {
    const std::string path = ::testing::TempDir() + "cudagate-image-test.bin";
    std::vector<std::uint8_t> written(200000);
    for (std::size_t i = 0; i < written.size(); ++i) written[i] = static_cast<std::uint8_t>(i * 7);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(written.data()), written.size());
    std::vector<std::uint8_t> read;
    std::string error;
    ASSERT_TRUE(readFile(path.c_str(), read, error)) << error;
    EXPECT_EQ(read, written);
    std::remove(path.c_str());
    EXPECT_FALSE(readFile(path.c_str(), read, error));
    EXPECT_EQ(error, "cannot open " + path);
    EXPECT_FALSE(readFile(nullptr, read, error));
}

}  // namespace
}  // namespace omega::cudagate
