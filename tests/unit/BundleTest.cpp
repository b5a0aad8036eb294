// Unit tests for omega_bundle: canonical encoding, strict decoding of malformed files, the measurement, PEM keys,
// signing and verification. Keys are generated here with OpenSSL's API; no private key is committed.
#include "omega/bundle/Bundle.h"
#include "omega/bundle/Keys.h"
#include "omega/bundle/Signing.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

using namespace omega::bundle;

namespace {

using Bytes = std::vector<std::uint8_t>;

// ---- helpers ------------------------------------------------------------------------------------------------

template <typename T>
::testing::AssertionResult failsWith(const Result<T>& result, const std::string& needle) {
    if (result.ok())
        return ::testing::AssertionFailure() << "succeeded; expected an error containing `" << needle << "`";
    if (result.error().find(needle) == std::string::npos) {
        return ::testing::AssertionFailure() << "error `" << result.error() << "` does not contain `" << needle << "`";
    }
    return ::testing::AssertionSuccess();
}

template <typename T>
void put(Bytes& b, std::size_t at, T value) {
    for (std::size_t i = 0; i < sizeof(T); ++i) b.at(at + i) = static_cast<std::uint8_t>(value >> (8 * i));
}

template <typename T>
T get(const Bytes& b, std::size_t at) {
    T value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(static_cast<T>(b.at(at + i)) << (8 * i));
    return value;
}

// Hex digits, spaces ignored.
Bytes fromHex(std::string hex) {
    hex.erase(std::remove(hex.begin(), hex.end(), ' '), hex.end());
    Bytes out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    }
    return out;
}

Bytes encodeOk(const std::vector<Section>& sections) {
    auto bytes = encode(sections);
    EXPECT_TRUE(bytes.ok()) << bytes.error();
    return bytes.ok() ? *bytes : Bytes{};
}

Bundle decodeOk(const Bytes& bytes, const Limits& limits = {}) {
    auto bundle = decode(bytes, limits);
    if (!bundle.ok()) {
        ADD_FAILURE() << bundle.error();
        std::abort();
    }
    return std::move(bundle).value();
}

// STRINGS "abc" and CODE 01..09: the small bundle of the golden test, 168 bytes, signed length 160.
std::vector<Section> smallSections() {
    return {{SectionType::Code, {1, 2, 3, 4, 5, 6, 7, 8, 9}}, {SectionType::Strings, {'a', 'b', 'c'}}};
}

constexpr std::size_t kEntry0 = 64, kEntry1 = 88, kEntry2 = 112;  // table entries of the small bundle
std::size_t typeAt(std::size_t entry) {
    return entry;
}
std::size_t reservedAt(std::size_t entry) {
    return entry + 4;
}
std::size_t offsetAt(std::size_t entry) {
    return entry + 8;
}
std::size_t lengthAt(std::size_t entry) {
    return entry + 16;
}

// Replaces the signatures section of an encoded bundle by `body` (padded with zeros in the file, not in the
// section's length) and fixes the lengths, so tests can present hand-made signature sections to decode().
Bytes withSignaturesBody(const Bytes& bundle, const Bytes& body) {
    const auto signedLength = get<std::uint64_t>(bundle, 16);
    const auto count = get<std::uint32_t>(bundle, 12);
    Bytes out(bundle.begin(), bundle.begin() + static_cast<std::ptrdiff_t>(signedLength));
    out.insert(out.end(), body.begin(), body.end());
    out.resize(out.size() + (8 - body.size() % 8) % 8, 0);
    put<std::uint64_t>(out, 24, out.size());
    put<std::uint64_t>(out, 64 + (count - 1) * 24 + 16, body.size());
    return out;
}

// One signature entry of a signatures section body, padded as the format requires unless `pad` is false.
Bytes signatureEntry(std::uint16_t algorithm, std::uint8_t keyByte, std::uint32_t length, bool pad = true) {
    Bytes e(40 + length, 0);
    put<std::uint16_t>(e, 0, algorithm);
    std::memset(e.data() + 4, keyByte, 32);
    put<std::uint32_t>(e, 36, length);
    for (std::uint32_t i = 0; i < length; ++i) e[40 + i] = static_cast<std::uint8_t>(i + 1);
    if (pad) e.resize(e.size() + (8 - e.size() % 8) % 8, 0);
    return e;
}

Bytes signaturesBody(std::uint32_t count, const std::vector<Bytes>& entries) {
    Bytes body(8, 0);
    put<std::uint32_t>(body, 0, count);
    for (const Bytes& e : entries) body.insert(body.end(), e.begin(), e.end());
    return body;
}

// ---- test keys, generated with OpenSSL -----------------------------------------------------------------------

struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string bioString(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string s(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return s;
}

struct TestKey {
    std::string privatePem;
    std::string publicPem;
    std::string traditionalPem;  // "EC PRIVATE KEY" for EC keys; empty for Ed25519, which has no such form
};

PkeyPtr generate(const std::string& kind) {
    if (kind == "ED25519") return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (kind == "ED448") return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448"));
    if (kind == "RSA") return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}));
    return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", kind.c_str()));  // "P-384", "P-256"
}

TestKey makeKey(const std::string& kind) {
    PkeyPtr key = generate(kind);
    if (!key) std::abort();
    TestKey t;
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    t.privatePem = bioString(bio);
    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key.get());
    t.publicPem = bioString(bio);
    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey_traditional(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    t.traditionalPem = bioString(bio);
    return t;
}

// A P-384 key written with explicit curve parameters instead of the curve's name.
std::string explicitCurvePublicPem() {
    PkeyPtr key = generate("P-384");
    char explicitEncoding[] = OSSL_PKEY_EC_ENCODING_EXPLICIT;
    if (EVP_PKEY_set_utf8_string_param(key.get(), OSSL_PKEY_PARAM_EC_ENCODING, explicitEncoding) != 1) std::abort();
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key.get());
    return bioString(bio);
}

std::string encryptedPem(const std::string& kind) {
    PkeyPtr key = generate(kind);
    BIO* bio = BIO_new(BIO_s_mem());
    char passphrase[] = "correct horse";
    PEM_write_bio_PKCS8PrivateKey(bio, key.get(), EVP_aes_256_cbc(), nullptr, 0, nullptr, passphrase);
    return bioString(bio);
}

PublicKey publicOk(const TestKey& k) {
    auto key = loadPublicKey(k.publicPem);
    if (!key.ok()) {
        ADD_FAILURE() << key.error();
        std::abort();
    }
    return *key;
}

PrivateKey privateOk(const TestKey& k) {
    auto key = loadPrivateKey(k.privatePem);
    if (!key.ok()) {
        ADD_FAILURE() << key.error();
        std::abort();
    }
    return *key;
}

KeyId verifiedBy(const Bundle& bundle, const std::vector<PublicKey>& trusted) {
    auto id = verify(bundle, trusted);
    if (!id.ok()) {
        ADD_FAILURE() << id.error();
        return KeyId{};
    }
    return *id;
}

Bytes signOk(const Bytes& bundle, const PrivateKey& key, const Limits& limits = {}) {
    auto signed_ = sign(bundle, key, limits);
    EXPECT_TRUE(signed_.ok()) << signed_.error();
    return signed_.ok() ? *signed_ : Bytes{};
}

// ---- encoding ------------------------------------------------------------------------------------------------

TEST(Encode, GoldenLayout) {
    const Bytes expected = fromHex(
        // header: magic, version 1, flags 0, count 3, signed length 160, total length 168, reserved
        "4f4d454741424e44 0100 0000 03000000 a000000000000000 a800000000000000 "
        "0000000000000000 0000000000000000 0000000000000000 0000000000000000 "
        // table: STRINGS at 136 (3 bytes), CODE at 144 (9 bytes), SIGNATURES at 160 (8 bytes)
        "01000000 00000000 8800000000000000 0300000000000000 "
        "05000000 00000000 9000000000000000 0900000000000000 "
        "00010000 00000000 a000000000000000 0800000000000000 "
        // bodies, each padded to 8; then the empty signatures section
        "6162630000000000 0102030405060708 0900000000000000 0000000000000000");
    const Bytes bytes = encodeOk(smallSections());
    EXPECT_EQ(bytes, expected);
    // Computed independently (Python hashlib) from the rule in docs/bundle.md.
    EXPECT_EQ(measure(decodeOk(bytes)).hex(),
              "95b4e8bce96c6dd274b31085f8ba16f6444dcab9542d4450b93e988f4fbc171ef3abe2a9ed4e4575212f42b78da56740");
}

TEST(Encode, RoundTrip) {
    std::vector<Section> sections;
    const std::size_t sizes[] = {0, 1, 7, 8, 9, 15, 1000};
    for (std::uint32_t t = 7; t >= 1; --t) {
        Bytes data(sizes[t - 1]);
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 31 + t);
        sections.push_back({static_cast<SectionType>(t), data});
    }
    const Bytes bytes = encodeOk(sections);
    const Bundle bundle = decodeOk(bytes);
    std::vector<Section> sorted(sections.rbegin(), sections.rend());
    EXPECT_EQ(bundle.sections(), sorted);
    EXPECT_TRUE(bundle.signatures().empty());
    EXPECT_EQ(bundle.signedLength(), bytes.size() - 8);
    ASSERT_TRUE(bundle.section(SectionType::Code));
    EXPECT_EQ(Bytes(bundle.section(SectionType::Code)->begin(), bundle.section(SectionType::Code)->end()),
              sorted[4].data);
    for (const SectionEntry& e : bundle.entries()) EXPECT_EQ(e.offset % 8, 0u);
}

TEST(Encode, EmptyAndMissingSections) {
    const Bytes bytes = encodeOk({});
    EXPECT_EQ(bytes.size(), 64u + 24u + 8u);
    const Bundle bundle = decodeOk(bytes);
    EXPECT_TRUE(bundle.sections().empty());
    EXPECT_FALSE(bundle.section(SectionType::Strings));
}

TEST(Encode, Deterministic) {
    std::vector<Section> a = smallSections();
    std::vector<Section> b(a.rbegin(), a.rend());
    const Bytes first = encodeOk(a), second = encodeOk(a), reordered = encodeOk(b);
    EXPECT_EQ(first, second);
    EXPECT_EQ(first, reordered);
    const Measurement m1 = measure(decodeOk(first)), m2 = measure(decodeOk(reordered));
    EXPECT_EQ(m1, m2);
    EXPECT_EQ(m1.hex().size(), 96u);
    EXPECT_EQ(m1.hex().find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(Encode, MeasurementCoversContent) {
    std::vector<Section> a = smallSections();
    std::vector<Section> b = a;
    b[1].data[2] ^= 1;
    EXPECT_NE(measure(decodeOk(encodeOk(a))), measure(decodeOk(encodeOk(b))));
    b = a;
    b[1].data.push_back(0);  // "abc" vs "abc\0": the same padded bytes, a different length in the table
    EXPECT_NE(measure(decodeOk(encodeOk(a))), measure(decodeOk(encodeOk(b))));
}

TEST(Encode, RejectsBadSections) {
    EXPECT_TRUE(failsWith(encode({{SectionType::Code, {}}, {SectionType::Code, {1}}}), "cannot encode two CODE"));
    EXPECT_TRUE(failsWith(encode({{SectionType::Signatures, {}}}), "cannot encode section type 256"));
    EXPECT_TRUE(failsWith(encode({{static_cast<SectionType>(8), {}}}), "cannot encode section type 8"));
    EXPECT_TRUE(failsWith(encode({{static_cast<SectionType>(0), {}}}), "cannot encode section type 0"));
}

// ---- decoding: header ----------------------------------------------------------------------------------------

TEST(Decode, RejectsEveryTruncation) {
    const TestKey k = makeKey("P-384");
    const Bytes bytes = signOk(encodeOk(smallSections()), privateOk(k));
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        Bytes prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
        const std::string expected =
            n < 64 ? "offset " + std::to_string(n) + ": truncated header" : "offset 24: total length mismatch";
        EXPECT_TRUE(failsWith(decode(prefix), expected)) << "length " << n;
        // With a consistent total length the deeper range checks must catch it.
        if (n >= 32) {
            put<std::uint64_t>(prefix, 24, n);
            EXPECT_FALSE(decode(prefix).ok()) << "length " << n;
        }
    }
    EXPECT_TRUE(decode(bytes).ok());
}

TEST(Decode, RejectsOversize) {
    const Bytes bytes = encodeOk(smallSections());
    Limits limits;
    limits.maxTotalSize = bytes.size() - 1;
    EXPECT_TRUE(failsWith(decode(bytes, limits), "offset 167: file too large: 168 bytes exceed the limit of 167"));
    limits.maxTotalSize = bytes.size();
    EXPECT_TRUE(decode(bytes, limits).ok());
    Bytes huge(64 * 1024 * 1024 + 8, 0);
    EXPECT_TRUE(failsWith(decode(huge), "offset 67108864: file too large"));
}

TEST(Decode, RejectsBadMagicVersionFlags) {
    const Bytes good = encodeOk(smallSections());
    Bytes b = good;
    b[3] = 'e';
    EXPECT_TRUE(failsWith(decode(b), "offset 0: bad magic"));
    b = good;
    put<std::uint16_t>(b, 8, 2);
    EXPECT_TRUE(failsWith(decode(b), "offset 8: unsupported version: version 2, expected 1"));
    put<std::uint16_t>(b, 8, 0);
    EXPECT_TRUE(failsWith(decode(b), "offset 8: unsupported version: version 0"));
    b = good;
    put<std::uint16_t>(b, 10, 0x8000);
    EXPECT_TRUE(failsWith(decode(b), "offset 10: non-zero flags"));
}

TEST(Decode, RejectsNonZeroHeaderReserved) {
    const Bytes good = encodeOk(smallSections());
    for (std::size_t at = 32; at < 64; ++at) {
        Bytes b = good;
        b[at] = 0x40;
        EXPECT_TRUE(failsWith(decode(b), "offset " + std::to_string(at) + ": non-zero reserved field")) << at;
    }
}

TEST(Decode, RejectsLengthMismatches) {
    const Bytes good = encodeOk(smallSections());
    Bytes b = good;
    put<std::uint64_t>(b, 24, 176);
    EXPECT_TRUE(failsWith(decode(b), "offset 24: total length mismatch: header says 176 bytes, file has 168"));
    b = good;
    put<std::uint64_t>(b, 16, 152);
    EXPECT_TRUE(failsWith(decode(b), "offset 16: signed length mismatch: header says 152"));
    b = good;
    put<std::uint64_t>(b, 16, 168);
    EXPECT_TRUE(failsWith(decode(b), "offset 16: signed length mismatch"));
}

TEST(Decode, RejectsBadSectionCounts) {
    const Bytes good = encodeOk(smallSections());
    Bytes b = good;
    put<std::uint32_t>(b, 12, 0);
    EXPECT_TRUE(failsWith(decode(b), "offset 12: missing signatures section: section count is 0"));
    put<std::uint32_t>(b, 12, 17);
    EXPECT_TRUE(failsWith(decode(b), "offset 12: too many sections: 17 exceeds the limit of 16"));
    Limits two;
    two.maxSections = 2;
    EXPECT_TRUE(failsWith(decode(good, two), "offset 12: too many sections: 3 exceeds the limit of 2"));
    // Counts whose table would run past the end of the file, up to the largest u32.
    put<std::uint32_t>(b, 12, 5);
    EXPECT_TRUE(failsWith(decode(b), "offset 12: section table exceeds file: 5 entries end at 184, file has 168"));
    Limits unlimited;
    unlimited.maxSections = std::numeric_limits<std::uint32_t>::max();
    put<std::uint32_t>(b, 12, std::numeric_limits<std::uint32_t>::max());
    EXPECT_TRUE(failsWith(decode(b, unlimited), "offset 12: section table exceeds file: 4294967295 entries end at"));
    // A smaller count that fits: the table then ends inside the first section, which overlaps it.
    put<std::uint32_t>(b, 12, 4);
    EXPECT_TRUE(failsWith(decode(b),
                          "offset 72: overlapping section: section 0 starts at 136, inside the section "
                          "table which ends at 160"));
}

// ---- decoding: section table ---------------------------------------------------------------------------------

TEST(Decode, RejectsUnknownTypesAndReservedFields) {
    const Bytes good = encodeOk(smallSections());
    for (std::uint32_t type : {0u, 8u, 0xffu, 0x101u, 0xffffffffu}) {
        Bytes b = good;
        put<std::uint32_t>(b, typeAt(kEntry0), type);
        EXPECT_TRUE(
            failsWith(decode(b), "offset 64: unknown section type: section 0 has type " + std::to_string(type)));
    }
    Bytes b = good;
    put<std::uint32_t>(b, reservedAt(kEntry1), 1);
    EXPECT_TRUE(failsWith(decode(b), "offset 92: non-zero reserved field: in section table entry 1"));
}

TEST(Decode, RejectsUnsortedAndDuplicateTypes) {
    const Bytes good = encodeOk(smallSections());
    Bytes b = good;
    // CODE laid out before STRINGS: a consistent layout whose only fault is the order of types.
    put<std::uint32_t>(b, typeAt(kEntry0), 5);
    put<std::uint64_t>(b, lengthAt(kEntry0), 9);
    put<std::uint32_t>(b, typeAt(kEntry1), 1);
    put<std::uint64_t>(b, offsetAt(kEntry1), 152);
    put<std::uint64_t>(b, lengthAt(kEntry1), 3);
    const Bytes bodies = fromHex("0102030405060708 0900000000000000 6162630000000000");
    std::copy(bodies.begin(), bodies.end(), b.begin() + 136);
    EXPECT_TRUE(failsWith(decode(b), "offset 88: unsorted section table: section 1 (STRINGS) comes after CODE"));
    b = good;
    put<std::uint32_t>(b, typeAt(kEntry1), 1);
    EXPECT_TRUE(failsWith(decode(b), "offset 88: duplicate section type: section 1 repeats STRINGS"));
    b = good;
    put<std::uint32_t>(b, typeAt(kEntry2), 5);
    EXPECT_TRUE(failsWith(decode(b), "offset 112: duplicate section type: section 2 repeats CODE"));
    b = good;
    put<std::uint32_t>(b, typeAt(kEntry2), 7);  // the last entry is no longer the signatures section
    EXPECT_TRUE(failsWith(decode(b), "offset 112: missing signatures section: the last section must be SIGNATURES"));
}

TEST(Decode, RejectsOutOfRangeSections) {
    const Bytes good = encodeOk(smallSections());
    Bytes b = good;
    put<std::uint64_t>(b, lengthAt(kEntry0), 1000);
    EXPECT_TRUE(failsWith(decode(b), "offset 72: section out of range: section 0 at 136 with length 1000 ends past"));
    b = good;
    put<std::uint64_t>(b, lengthAt(kEntry0), std::numeric_limits<std::uint64_t>::max());
    EXPECT_TRUE(failsWith(decode(b), "offset 72: section out of range"));
    b = good;
    put<std::uint64_t>(b, offsetAt(kEntry1), std::numeric_limits<std::uint64_t>::max() - 7);  // offset + length wraps
    EXPECT_TRUE(failsWith(decode(b), "offset 96: section out of range"));
    b = good;
    put<std::uint64_t>(b, offsetAt(kEntry2), 176);
    EXPECT_TRUE(failsWith(decode(b), "offset 120: section out of range"));
}

TEST(Decode, RejectsMisalignedOverlappingAndGappedSections) {
    const Bytes good = encodeOk(smallSections());
    Bytes b = good;
    put<std::uint64_t>(b, offsetAt(kEntry1), 148);
    put<std::uint64_t>(b, lengthAt(kEntry1), 5);
    EXPECT_TRUE(failsWith(decode(b), "offset 96: misaligned section: section 1 starts at 148, not a multiple of 8"));
    b = good;
    put<std::uint64_t>(b, offsetAt(kEntry0), 128);
    EXPECT_TRUE(failsWith(decode(b),
                          "offset 72: overlapping section: section 0 starts at 128, inside the section "
                          "table which ends at 136"));
    b = good;
    put<std::uint64_t>(b, offsetAt(kEntry1), 136);
    EXPECT_TRUE(failsWith(decode(b),
                          "offset 96: overlapping section: section 1 starts at 136, inside the previous "
                          "section which ends at 144"));
    b = good;
    put<std::uint64_t>(b, lengthAt(kEntry0), 16);  // STRINGS now runs over CODE's first bytes
    EXPECT_TRUE(failsWith(decode(b),
                          "offset 96: overlapping section: section 1 starts at 144, inside the previous "
                          "section which ends at 152"));
    b = good;
    put<std::uint64_t>(b, offsetAt(kEntry1), 152);
    put<std::uint64_t>(b, lengthAt(kEntry1), 1);
    EXPECT_TRUE(failsWith(decode(b), "offset 96: gap before section: section 1 starts at 152, expected 144"));
}

TEST(Decode, RejectsBadPaddingAndTrailingBytes) {
    const Bytes good = encodeOk(smallSections());
    for (std::size_t at : {139u, 143u, 153u, 159u}) {
        Bytes b = good;
        b[at] = 0xff;
        EXPECT_TRUE(failsWith(decode(b), "offset " + std::to_string(at) + ": non-zero padding")) << at;
    }
    Bytes b = good;
    b.resize(b.size() + 8, 0);
    put<std::uint64_t>(b, 24, b.size());
    EXPECT_TRUE(failsWith(decode(b), "offset 168: trailing bytes: 8 bytes after the last section"));
    // A signatures section whose length leaves the file short of its padding.
    b = good;
    b.resize(b.size() - 3);
    put<std::uint64_t>(b, 24, b.size());
    put<std::uint64_t>(b, lengthAt(kEntry2), 5);
    EXPECT_TRUE(failsWith(decode(b), "offset 165: missing padding"));
}

// ---- decoding: signatures section ----------------------------------------------------------------------------

TEST(Decode, AcceptsHandMadeSignatures) {
    const Bytes base = encodeOk(smallSections());
    const Bundle bundle = decodeOk(
        withSignaturesBody(base, signaturesBody(2, {signatureEntry(1, 0xaa, 64), signatureEntry(2, 0xbb, 101)})));
    ASSERT_EQ(bundle.signatures().size(), 2u);
    EXPECT_EQ(bundle.signatures()[0].algorithm, Algorithm::Ed25519);
    EXPECT_EQ(bundle.signatures()[1].algorithm, Algorithm::EcdsaP384Sha384);
    EXPECT_EQ(bundle.signatures()[1].bytes.size(), 101u);
    EXPECT_EQ(bundle.signatures()[1].keyId[31], 0xbb);
    EXPECT_EQ(measure(bundle), measure(decodeOk(base)));
}

TEST(Decode, RejectsMalformedSignaturesSections) {
    const Bytes base = encodeOk(smallSections());
    auto check = [&](const Bytes& body, const std::string& expected, const Limits& limits = {}) {
        EXPECT_TRUE(failsWith(decode(withSignaturesBody(base, body), limits), expected));
    };
    // The section starts at 160; its first signature at 168; a signature's bytes at 208.
    check({}, "offset 160: truncated signatures section: needs 8 bytes, has 0");
    check({0, 0, 0, 0}, "offset 160: truncated signatures section: needs 8 bytes, has 4");
    check({0, 0, 0, 0, 1, 0, 0, 0}, "offset 164: non-zero reserved field: in the signatures section head");
    check(signaturesBody(17, {}), "offset 160: too many signatures: 17 exceeds the limit of 16");
    Limits one;
    one.maxSignatures = 1;
    check(signaturesBody(2, {signatureEntry(1, 1, 64), signatureEntry(1, 2, 64)}),
          "offset 160: too many signatures: 2 exceeds the limit of 1", one);
    check(signaturesBody(1, {}), "offset 168: truncated signature: signature 0 needs a 40-byte head, 0 left");
    check(signaturesBody(0xffffffff, {}), "offset 160: too many signatures");
    check(signaturesBody(1, {signatureEntry(3, 1, 64)}),
          "offset 168: unknown signature algorithm: signature 0 has algorithm 3");
    check(signaturesBody(1, {signatureEntry(0, 1, 64)}), "offset 168: unknown signature algorithm");
    Bytes reserved = signatureEntry(1, 1, 64);
    reserved[2] = 1;
    check(signaturesBody(1, {reserved}), "offset 170: non-zero reserved field: in signature 0");
    check(signaturesBody(1, {signatureEntry(1, 1, 63)}),
          "offset 204: bad signature length: signature 0 is 63 bytes; Ed25519 signatures are 64 bytes");
    check(signaturesBody(1, {signatureEntry(2, 1, 105)}), "offset 204: bad signature length");
    check(signaturesBody(1, {signatureEntry(2, 1, 7)}), "offset 204: bad signature length");
    Bytes cut = signatureEntry(2, 1, 100);
    cut.resize(40 + 50);
    check(signaturesBody(1, {cut}), "offset 204: truncated signature: signature 0 is 100 bytes, 50 left");
    Bytes padded = signatureEntry(2, 1, 101);  // 40 + 101 bytes, then 3 bytes of padding
    padded[142] = 1;
    check(signaturesBody(1, {padded}), "offset 310: non-zero padding: padding after signature 0 must be zero");
    check(signaturesBody(1, {signatureEntry(2, 1, 101, false)}),
          "offset 309: missing padding: signature 0 needs 3 bytes of padding");
    check(signaturesBody(2, {signatureEntry(1, 7, 64), signatureEntry(2, 7, 90)}),
          "offset 276: duplicate key id: signature 1 repeats key 0707");
    check(signaturesBody(0, {signatureEntry(1, 1, 64)}),
          "offset 168: trailing bytes: 104 bytes after the last signature in the signatures section");
}

// ---- keys ----------------------------------------------------------------------------------------------------

KeyId referenceKeyId(const std::string& publicPem) {
    BIO* bio = BIO_new_mem_buf(publicPem.data(), static_cast<int>(publicPem.size()));
    PkeyPtr key(PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr));
    BIO_free(bio);
    unsigned char* der = nullptr;
    int n = i2d_PUBKEY(key.get(), &der);
    KeyId id{};
    unsigned int len = 0;
    EVP_Digest(der, static_cast<std::size_t>(n), id.data(), &len, EVP_sha256(), nullptr);
    OPENSSL_free(der);
    return id;
}

TEST(Keys, LoadsEd25519AndP384) {
    for (const auto& [kind, algorithm] :
         {std::pair{"ED25519", Algorithm::Ed25519}, std::pair{"P-384", Algorithm::EcdsaP384Sha384}}) {
        const TestKey k = makeKey(kind);
        const PublicKey pub = publicOk(k);
        const PrivateKey priv = privateOk(k);
        EXPECT_EQ(pub.algorithm(), algorithm) << kind;
        EXPECT_EQ(priv.algorithm(), algorithm) << kind;
        EXPECT_EQ(pub.id(), referenceKeyId(k.publicPem)) << kind;
        EXPECT_EQ(priv.id(), pub.id()) << kind;
        if (algorithm == Algorithm::EcdsaP384Sha384) {  // Ed25519 has no traditional form
            auto traditional = loadPrivateKey(k.traditionalPem);
            ASSERT_TRUE(traditional.ok()) << traditional.error();
            EXPECT_NE(k.traditionalPem.find("BEGIN EC PRIVATE KEY"), std::string::npos);
            EXPECT_EQ(traditional->id(), pub.id());
        }
    }
}

TEST(Keys, RejectsOtherKeyTypes) {
    const TestKey rsa = makeKey("RSA"), p256 = makeKey("P-256"), ed448 = makeKey("ED448");
    EXPECT_TRUE(failsWith(loadPublicKey(rsa.publicPem), "unsupported public key type `RSA`"));
    EXPECT_TRUE(failsWith(loadPrivateKey(rsa.privatePem), "unsupported private key type `RSA`"));
    EXPECT_TRUE(failsWith(loadPublicKey(p256.publicPem), "unsupported public key curve `prime256v1`"));
    EXPECT_TRUE(failsWith(loadPrivateKey(p256.privatePem), "unsupported private key curve `prime256v1`"));
    EXPECT_TRUE(failsWith(loadPublicKey(ed448.publicPem), "unsupported public key type `ED448`"));
    const std::string explicitPem = explicitCurvePublicPem();
    EXPECT_NE(explicitPem.size(), makeKey("P-384").publicPem.size());  // really written with the parameters
    EXPECT_TRUE(failsWith(loadPublicKey(explicitPem), "EC keys must name the curve P-384"));
}

TEST(Keys, RejectsMalformedPem) {
    const TestKey k = makeKey("ED25519");
    EXPECT_TRUE(failsWith(loadPublicKey(""), "empty public key PEM"));
    EXPECT_TRUE(failsWith(loadPrivateKey(""), "empty private key PEM"));
    EXPECT_TRUE(failsWith(loadPublicKey("hello"), "cannot parse public key"));
    EXPECT_TRUE(failsWith(loadPublicKey(k.privatePem), "cannot parse public key"));
    EXPECT_TRUE(failsWith(loadPrivateKey(k.publicPem), "cannot parse private key"));
    std::string corrupt = k.publicPem;
    corrupt[40] = corrupt[40] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(loadPublicKey(corrupt).ok());
    EXPECT_TRUE(failsWith(loadPublicKey(std::string(kMaxPemSize + 1, 'A')), "over the limit of 16384"));
    EXPECT_TRUE(failsWith(loadPrivateKey(encryptedPem("ED25519")), "cannot parse private key"));
}

// ---- signing and verification --------------------------------------------------------------------------------

class SignVerify : public ::testing::TestWithParam<const char*> {};

// Checks a signature with OpenSSL directly, not through the library: the spec says what is signed and how.
bool referenceVerify(const TestKey& k, const Measurement& m, const Bytes& signature) {
    BIO* bio = BIO_new_mem_buf(k.publicPem.data(), static_cast<int>(k.publicPem.size()));
    PkeyPtr key(PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr));
    BIO_free(bio);
    std::string message("omega-bundle-v1", 16);
    message.append(m.bytes.begin(), m.bytes.end());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const EVP_MD* md = EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_ED25519 ? nullptr : EVP_sha384();
    bool ok = EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, key.get()) == 1 &&
              EVP_DigestVerify(ctx, signature.data(), signature.size(),
                               reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

TEST_P(SignVerify, SignsAndVerifies) {
    const TestKey k = makeKey(GetParam());
    const PrivateKey priv = privateOk(k);
    const PublicKey pub = publicOk(k);
    const Bytes unsignedBytes = encodeOk(smallSections());
    const Bytes signedBytes = signOk(unsignedBytes, priv);
    const Bundle before = decodeOk(unsignedBytes), after = decodeOk(signedBytes);

    auto id = verify(after, {pub});
    ASSERT_TRUE(id.ok()) << id.error();
    EXPECT_EQ(*id, pub.id());
    ASSERT_EQ(after.signatures().size(), 1u);
    EXPECT_EQ(after.signatures()[0].algorithm, pub.algorithm());
    EXPECT_EQ(after.signatures()[0].keyId, pub.id());
    EXPECT_TRUE(referenceVerify(k, measure(after), after.signatures()[0].bytes));

    // Signing leaves the signed part alone, except the two length fields the measurement skips.
    EXPECT_EQ(measure(before), measure(after));
    EXPECT_EQ(after.sections(), before.sections());
    ASSERT_EQ(after.signedLength(), before.signedLength());
    for (std::size_t i = 0; i < before.signedLength(); ++i) {
        const bool skipped = (i >= 24 && i < 32) || (i >= lengthAt(kEntry2) && i < lengthAt(kEntry2) + 8);
        if (!skipped) {
            EXPECT_EQ(signedBytes[i], unsignedBytes[i]) << "byte " << i;
        }
    }
    EXPECT_EQ(get<std::uint64_t>(signedBytes, 24), signedBytes.size());

    // Signing through the PEM text gives a bundle that verifies as well.
    auto viaPem = sign(unsignedBytes, k.privatePem);
    ASSERT_TRUE(viaPem.ok()) << viaPem.error();
    EXPECT_TRUE(verify(decodeOk(*viaPem), {pub}).ok());
}

TEST_P(SignVerify, ResigningReplacesTheSignature) {
    const TestKey k = makeKey(GetParam());
    const PrivateKey priv = privateOk(k);
    const Bytes once = signOk(encodeOk(smallSections()), priv);
    const Bytes twice = signOk(once, priv);
    const Bundle bundle = decodeOk(twice);
    EXPECT_EQ(bundle.signatures().size(), 1u);
    EXPECT_TRUE(verify(bundle, {publicOk(k)}).ok());
    if (std::string(GetParam()) == "ED25519") {
        EXPECT_EQ(once, twice);  // Ed25519 is deterministic
    }
}

TEST_P(SignVerify, RejectsUnsignedAndUntrusted) {
    const TestKey k = makeKey(GetParam()), other = makeKey(GetParam());
    const Bytes unsignedBytes = encodeOk(smallSections());
    EXPECT_TRUE(failsWith(verify(decodeOk(unsignedBytes), {publicOk(k)}), "no signatures: the bundle is unsigned"));
    const Bundle signedBundle = decodeOk(signOk(unsignedBytes, privateOk(k)));
    EXPECT_TRUE(failsWith(verify(signedBundle, {publicOk(other)}),
                          "no trusted key: none of the 1 signatures is by a trusted key"));
    EXPECT_TRUE(failsWith(verify(signedBundle, {}), "no trusted key"));
}

// Every single-bit change to the signed region: decode rejects it (header, table, padding) or the signature no
// longer matches. Nothing else is possible, and both outcomes occur.
TEST_P(SignVerify, AnyBitFlipInTheSignedRegionFails) {
    const TestKey k = makeKey(GetParam());
    const PublicKey pub = publicOk(k);
    const Bytes good = signOk(encodeOk(smallSections()), privateOk(k));
    const std::uint64_t signedLength = decodeOk(good).signedLength();
    std::size_t byDecode = 0, byVerify = 0;
    for (std::size_t i = 0; i < signedLength; ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            Bytes b = good;
            b[i] ^= static_cast<std::uint8_t>(1u << bit);
            auto bundle = decode(b);
            if (!bundle.ok()) {
                ++byDecode;
                continue;
            }
            ++byVerify;
            EXPECT_TRUE(failsWith(verify(*bundle, {pub}), "bad signature: signature 0 by trusted key"))
                << "byte " << i << " bit " << bit;
        }
    }
    EXPECT_EQ(byDecode + byVerify, signedLength * 8);
    EXPECT_GT(byDecode, 0u);
    EXPECT_GT(byVerify, 0u);
    EXPECT_GE(byVerify, 12u * 8);  // at least every bit of the 12 content bytes
}

// Every single-bit change to the signatures section: rejected by decode, or the key id no longer matches a trusted
// key, or the signature is bad.
TEST_P(SignVerify, AnyBitFlipInTheSignatureFails) {
    const TestKey k = makeKey(GetParam());
    const PublicKey pub = publicOk(k);
    const Bytes good = signOk(encodeOk(smallSections()), privateOk(k));
    const std::uint64_t signedLength = decodeOk(good).signedLength();
    const std::size_t keyIdAt = signedLength + 8 + 4, signatureAt = signedLength + 8 + 40;
    const std::size_t signatureEnd = signatureAt + decodeOk(good).signatures()[0].bytes.size();
    for (std::size_t i = signedLength; i < good.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            Bytes b = good;
            b[i] ^= static_cast<std::uint8_t>(1u << bit);
            auto bundle = decode(b);
            if (i >= signatureAt && i < signatureEnd) {
                ASSERT_TRUE(bundle.ok()) << "byte " << i << ": " << bundle.error();
                EXPECT_TRUE(failsWith(verify(*bundle, {pub}), "bad signature")) << "byte " << i << " bit " << bit;
            } else if (i >= keyIdAt && i < keyIdAt + 32) {
                ASSERT_TRUE(bundle.ok()) << "byte " << i << ": " << bundle.error();
                EXPECT_TRUE(failsWith(verify(*bundle, {pub}), "no trusted key")) << "byte " << i << " bit " << bit;
            } else {
                EXPECT_FALSE(bundle.ok() && verify(*bundle, {pub}).ok()) << "byte " << i << " bit " << bit;
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Algorithms, SignVerify, ::testing::Values("ED25519", "P-384"));

TEST(Signing, TwoSignersAndPartialFailure) {
    const TestKey ed = makeKey("ED25519"), ec = makeKey("P-384");
    const PublicKey edPub = publicOk(ed), ecPub = publicOk(ec);
    Bytes both = signOk(signOk(encodeOk(smallSections()), privateOk(ed)), privateOk(ec));
    const Bundle bundle = decodeOk(both);
    ASSERT_EQ(bundle.signatures().size(), 2u);
    EXPECT_EQ(verifiedBy(bundle, {ecPub}), ecPub.id());
    EXPECT_EQ(verifiedBy(bundle, {edPub}), edPub.id());
    EXPECT_EQ(verifiedBy(bundle, {ecPub, edPub}), edPub.id());  // the first valid signature wins
    // A bad signature by one trusted key does not hide a good one by another.
    const std::size_t edSignatureAt = bundle.signedLength() + 8 + 40;
    both[edSignatureAt] ^= 1;
    const Bundle damaged = decodeOk(both);
    EXPECT_EQ(verifiedBy(damaged, {edPub, ecPub}), ecPub.id());
    EXPECT_TRUE(failsWith(verify(damaged, {edPub}), "bad signature: signature 0 by trusted key " + toHex(edPub.id()) +
                                                        " does not match the bundle's measurement"));
}

TEST(Signing, RejectsAlgorithmMismatch) {
    const TestKey ed = makeKey("ED25519");
    Bytes b = signOk(encodeOk(smallSections()), privateOk(ed));
    put<std::uint16_t>(b, 160 + 8, 2);  // claims ECDSA; 64 bytes is a plausible ECDSA length, so decode accepts
    EXPECT_TRUE(failsWith(verify(decodeOk(b), {publicOk(ed)}), "claims ECDSA P-384 but the key is Ed25519"));
}

TEST(Signing, RejectsBadInputs) {
    const TestKey ed = makeKey("ED25519"), ec = makeKey("P-384");
    EXPECT_TRUE(failsWith(sign(Bytes{1, 2, 3}, privateOk(ed)), "cannot sign: offset 3: truncated header"));
    EXPECT_TRUE(failsWith(sign(encodeOk({}), std::string_view("not a key")), "cannot sign: cannot parse private key"));
    Limits one;
    one.maxSignatures = 1;
    const Bytes first = signOk(encodeOk({}), privateOk(ed), one);
    EXPECT_TRUE(failsWith(sign(first, privateOk(ec), one), "cannot sign: the bundle already has 1 signatures"));
    Limits small;
    small.maxTotalSize = encodeOk({}).size() + 16;
    EXPECT_TRUE(failsWith(sign(encodeOk({}), privateOk(ed), small), "cannot sign: the signed bundle would be"));
}

TEST(Signing, MessageIsTagThenMeasurement) {
    Measurement m;
    for (std::size_t i = 0; i < m.bytes.size(); ++i) m.bytes[i] = static_cast<std::uint8_t>(i);
    const auto message = signingMessage(m);
    EXPECT_EQ(std::string(message.begin(), message.begin() + 16), std::string("omega-bundle-v1\0", 16));
    EXPECT_TRUE(std::equal(m.bytes.begin(), m.bytes.end(), message.begin() + 16));
}

}  // namespace
