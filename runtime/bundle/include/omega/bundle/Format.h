// The bundle's wire format as constants: header and table layout, section types, signature algorithms and the
// domain tag. docs/bundle.md is the normative description; these names follow it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace omega::bundle {

inline constexpr std::array<std::uint8_t, 8> kMagic = {'O', 'M', 'E', 'G', 'A', 'B', 'N', 'D'};
inline constexpr std::uint16_t kFormatVersion = 1;
inline constexpr std::size_t kAlignment = 8;

// Header: 64 bytes at offset 0.
inline constexpr std::size_t kHeaderSize = 64;
inline constexpr std::size_t kMagicAt = 0;
inline constexpr std::size_t kVersionAt = 8;
inline constexpr std::size_t kFlagsAt = 10;
inline constexpr std::size_t kSectionCountAt = 12;
inline constexpr std::size_t kSignedLengthAt = 16;
inline constexpr std::size_t kTotalLengthAt = 24;
inline constexpr std::size_t kHeaderReservedAt = 32;

// Section table entry: 24 bytes; entry i is at kHeaderSize + i * kEntrySize. Field offsets within an entry.
inline constexpr std::size_t kEntrySize = 24;
inline constexpr std::size_t kEntryTypeAt = 0;
inline constexpr std::size_t kEntryReservedAt = 4;
inline constexpr std::size_t kEntryOffsetAt = 8;
inline constexpr std::size_t kEntryLengthAt = 16;

enum class SectionType : std::uint32_t {
    Strings = 1,
    Sets = 2,
    Matchers = 3,
    Lattice = 4,
    Code = 5,
    Metadata = 6,
    SourcesMerkle = 7,
    Signatures = 0x100,
};

// True for the eight types above; every other value is rejected.
bool isKnownSectionType(std::uint32_t type);
// "STRINGS", "SETS", ... as in docs/bundle.md; "unknown" for anything else.
const char* sectionTypeName(SectionType type);

// Signatures section: an 8-byte head { count u32, reserved u32 }, then the signatures, each a 40-byte head
// { algorithm u16, reserved u16, key id [32], length u32 } followed by the signature and zero padding to 8.
inline constexpr std::size_t kSignaturesHeadSize = 8;
inline constexpr std::size_t kSignatureHeadSize = 40;
inline constexpr std::size_t kSignatureAlgorithmAt = 0;
inline constexpr std::size_t kSignatureReservedAt = 2;
inline constexpr std::size_t kSignatureKeyIdAt = 4;
inline constexpr std::size_t kSignatureLengthAt = 36;

enum class Algorithm : std::uint16_t {
    Ed25519 = 1,
    EcdsaP384Sha384 = 2,
};

// "Ed25519" or "ECDSA P-384"; "unknown" for anything else.
const char* algorithmName(Algorithm algorithm);

inline constexpr std::size_t kEd25519SignatureSize = 64;
// A DER ECDSA-Sig-Value for P-384 is at most 2 + 2 * (2 + 49) bytes; 8 bytes is the shortest well-formed one.
inline constexpr std::size_t kEcdsaP384MinSignatureSize = 8;
inline constexpr std::size_t kEcdsaP384MaxSignatureSize = 104;

// What a signature signs: this 16-byte tag (NUL included), then the 48-byte measurement.
inline constexpr std::string_view kDomainTag{"omega-bundle-v1\0", 16};

inline constexpr std::size_t kMeasurementSize = 48;  // SHA-384
inline constexpr std::size_t kKeyIdSize = 32;        // SHA-256

}  // namespace omega::bundle
