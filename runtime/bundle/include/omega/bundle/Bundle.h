// The bundle container: canonical encoding of sections, strict decoding of untrusted bytes into a Bundle, and
// the SHA-384 measurement that signatures cover. The format is specified in docs/bundle.md.
#pragma once

#include "omega/bundle/Format.h"
#include "omega/bundle/Result.h"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace omega::bundle {

// A content section as the code generator produces it. The signatures section is not one: sign() manages it.
struct Section {
    SectionType type = SectionType::Strings;
    std::vector<std::uint8_t> data;
    friend bool operator==(const Section&, const Section&) = default;
};

// Bounds applied by decode() before it reads anything they cover.
struct Limits {
    std::uint64_t maxTotalSize = 64 * 1024 * 1024;
    std::uint32_t maxSections = 16;  // section table entries, the signatures section included
    std::uint32_t maxSignatures = 16;
};

using KeyId = std::array<std::uint8_t, kKeyIdSize>;  // SHA-256 of the public key's DER SubjectPublicKeyInfo

struct Signature {
    Algorithm algorithm = Algorithm::Ed25519;
    KeyId keyId{};
    std::vector<std::uint8_t> bytes;
    friend bool operator==(const Signature&, const Signature&) = default;
};

// Where a content section lies in the file.
struct SectionEntry {
    SectionType type = SectionType::Strings;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

struct Measurement {
    std::array<std::uint8_t, kMeasurementSize> bytes{};
    std::string hex() const;  // 96 lowercase hex digits
    friend bool operator==(const Measurement&, const Measurement&) = default;
};

class Bundle;

// Lays out `sections` (sorted by type) with an empty signatures section. The same sections always give the same
// bytes. Fails if a type is unknown, repeated, or Signatures.
Result<std::vector<std::uint8_t>> encode(const std::vector<Section>& sections);

// Checks every rule of docs/bundle.md and copies the bytes into a Bundle. Signatures are parsed, not verified.
Result<Bundle> decode(std::span<const std::uint8_t> bytes, const Limits& limits = {});

// SHA-384 over bytes [0, signed length), with the two fields that signing rewrites (the header's total length and
// the signatures section's table length) hashed as zeros. Equal for a bundle before and after signing.
Measurement measure(const Bundle& bundle);

// INVARIANT: a Bundle is only made by decode(), so its bytes passed every check and its accessors need none.
class Bundle {
public:
    std::span<const std::uint8_t> bytes() const { return bytes_; }
    std::uint64_t signedLength() const { return signedLength_; }
    // Content sections in table (type) order; the signatures section is not listed.
    const std::vector<SectionEntry>& entries() const { return entries_; }
    std::span<const std::uint8_t> body(const SectionEntry& entry) const;
    std::optional<std::span<const std::uint8_t>> section(SectionType type) const;
    std::vector<Section> sections() const;  // copies of the content sections, in table order
    const std::vector<Signature>& signatures() const { return signatures_; }

private:
    friend Result<Bundle> decode(std::span<const std::uint8_t> bytes, const Limits& limits);
    Bundle() = default;

    std::vector<std::uint8_t> bytes_;
    std::uint64_t signedLength_ = 0;
    std::vector<SectionEntry> entries_;
    std::vector<Signature> signatures_;
};

// Lowercase hex of any bytes (measurements, key ids).
std::string toHex(std::span<const std::uint8_t> bytes);

}  // namespace omega::bundle
