// decode(): checks untrusted bytes against every rule of docs/bundle.md, in file order, and stops at the first
// violation with "offset N: <check>: <detail>". Only bytes that pass become a Bundle.
#include "ByteOrder.h"
#include "omega/bundle/Bundle.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace omega::bundle {

namespace {

using detail::paddingAfter;
using detail::readU16;
using detail::readU32;
using detail::readU64;

Error reject(std::uint64_t offset, std::string_view check, const std::string& detail) {
    return Error{"offset " + std::to_string(offset) + ": " + std::string(check) + ": " + detail};
}

std::string num(std::uint64_t v) {
    return std::to_string(v);
}

// Checks that the `length` padding bytes at `at` (in range) are zero; the error names the first that is not.
// `what` names what the padding follows.
std::optional<Error> checkPadding(std::span<const std::uint8_t> bytes, std::uint64_t at, std::uint64_t length,
                                  const std::string& what) {
    for (std::uint64_t p = at; p < at + length; ++p) {
        if (bytes[p] != 0) return reject(p, "non-zero padding", "padding after " + what + " must be zero");
    }
    return std::nullopt;
}

// Parses the signatures section body at [begin, end) of `bytes`; the range is inside the file.
Result<std::vector<Signature>> decodeSignatures(std::span<const std::uint8_t> bytes, std::uint64_t begin,
                                                std::uint64_t end, const Limits& limits) {
    if (end - begin < kSignaturesHeadSize) {
        return reject(begin, "truncated signatures section",
                      "needs " + num(kSignaturesHeadSize) + " bytes, has " + num(end - begin));
    }
    const std::uint32_t count = readU32(bytes, begin);
    if (readU32(bytes, begin + 4) != 0) {
        return reject(begin + 4, "non-zero reserved field", "in the signatures section head");
    }
    if (count > limits.maxSignatures) {
        return reject(begin, "too many signatures", num(count) + " exceeds the limit of " + num(limits.maxSignatures));
    }
    std::vector<Signature> signatures;
    std::uint64_t at = begin + kSignaturesHeadSize;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::string which = "signature " + num(i);
        if (end - at < kSignatureHeadSize) {
            return reject(at, "truncated signature",
                          which + " needs a " + num(kSignatureHeadSize) + "-byte head, " + num(end - at) + " left");
        }
        const std::uint16_t algorithm = readU16(bytes, at + kSignatureAlgorithmAt);
        if (algorithm != static_cast<std::uint16_t>(Algorithm::Ed25519) &&
            algorithm != static_cast<std::uint16_t>(Algorithm::EcdsaP384Sha384)) {
            return reject(at + kSignatureAlgorithmAt, "unknown signature algorithm",
                          which + " has algorithm " + num(algorithm));
        }
        if (readU16(bytes, at + kSignatureReservedAt) != 0) {
            return reject(at + kSignatureReservedAt, "non-zero reserved field", "in " + which);
        }
        const std::uint32_t length = readU32(bytes, at + kSignatureLengthAt);
        const bool ed25519 = algorithm == static_cast<std::uint16_t>(Algorithm::Ed25519);
        if (ed25519 ? length != kEd25519SignatureSize
                    : (length < kEcdsaP384MinSignatureSize || length > kEcdsaP384MaxSignatureSize)) {
            return reject(
                at + kSignatureLengthAt, "bad signature length",
                which + " is " + num(length) + " bytes; " +
                    (ed25519 ? "Ed25519 signatures are 64 bytes" : "ECDSA P-384 signatures are 8 to 104 bytes"));
        }
        const std::uint64_t sigAt = at + kSignatureHeadSize;
        if (end - sigAt < length) {
            return reject(at + kSignatureLengthAt, "truncated signature",
                          which + " is " + num(length) + " bytes, " + num(end - sigAt) + " left in the section");
        }
        const std::uint64_t sigEnd = sigAt + length;
        const std::uint64_t padding = paddingAfter(kSignatureHeadSize + length);
        if (end - sigEnd < padding) {
            return reject(sigEnd, "missing padding", which + " needs " + num(padding) + " bytes of padding");
        }
        if (auto bad = checkPadding(bytes, sigEnd, padding, which)) return *bad;

        Signature s;
        s.algorithm = static_cast<Algorithm>(algorithm);
        std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(at + kSignatureKeyIdAt), kKeyIdSize, s.keyId.begin());
        s.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(sigAt),
                       bytes.begin() + static_cast<std::ptrdiff_t>(sigEnd));
        for (const Signature& earlier : signatures) {
            if (earlier.keyId == s.keyId) {
                return reject(at + kSignatureKeyIdAt, "duplicate key id", which + " repeats key " + toHex(s.keyId));
            }
        }
        signatures.push_back(std::move(s));
        at = sigEnd + padding;
    }
    if (at != end) {
        return reject(at, "trailing bytes",
                      num(end - at) + " bytes after the last signature in the signatures section");
    }
    return signatures;
}

}  // namespace

Result<Bundle> decode(std::span<const std::uint8_t> bytes, const Limits& limits) {
    const std::uint64_t size = bytes.size();
    if (size > limits.maxTotalSize) {
        return reject(limits.maxTotalSize, "file too large",
                      num(size) + " bytes exceed the limit of " + num(limits.maxTotalSize));
    }
    if (size < kHeaderSize) {
        return reject(size, "truncated header", "needs " + num(kHeaderSize) + " bytes, file has " + num(size));
    }
    if (!std::equal(kMagic.begin(), kMagic.end(), bytes.begin())) {
        return reject(kMagicAt, "bad magic", "expected `OMEGABND`");
    }
    if (const std::uint16_t version = readU16(bytes, kVersionAt); version != kFormatVersion) {
        return reject(kVersionAt, "unsupported version",
                      "version " + num(version) + ", expected " + num(kFormatVersion));
    }
    if (const std::uint16_t flags = readU16(bytes, kFlagsAt); flags != 0) {
        return reject(kFlagsAt, "non-zero flags", "flags are " + num(flags) + ", must be 0");
    }
    const std::uint64_t total = readU64(bytes, kTotalLengthAt);
    if (total != size) {
        return reject(kTotalLengthAt, "total length mismatch",
                      "header says " + num(total) + " bytes, file has " + num(size));
    }
    for (std::uint64_t at = kHeaderReservedAt; at < kHeaderSize; ++at) {
        if (bytes[at] != 0) return reject(at, "non-zero reserved field", "header bytes 32 to 63 must be zero");
    }
    const std::uint32_t count = readU32(bytes, kSectionCountAt);
    if (count == 0) {
        return reject(kSectionCountAt, "missing signatures section", "section count is 0");
    }
    if (count > limits.maxSections) {
        return reject(kSectionCountAt, "too many sections",
                      num(count) + " exceeds the limit of " + num(limits.maxSections));
    }
    // No overflow: count < 2^32, so the table size is below 2^37.
    const std::uint64_t tableEnd = kHeaderSize + std::uint64_t{count} * kEntrySize;
    if (tableEnd > size) {
        return reject(kSectionCountAt, "section table exceeds file",
                      num(count) + " entries end at " + num(tableEnd) + ", file has " + num(size) + " bytes");
    }

    Bundle bundle;
    std::uint64_t cursor = tableEnd;  // where the next section must start
    std::uint32_t previousType = 0;
    SectionEntry signaturesEntry;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint64_t at = kHeaderSize + std::uint64_t{i} * kEntrySize;
        const std::string which = "section " + num(i);
        const std::uint32_t type = readU32(bytes, at + kEntryTypeAt);
        const std::uint64_t offset = readU64(bytes, at + kEntryOffsetAt);
        const std::uint64_t length = readU64(bytes, at + kEntryLengthAt);
        if (!isKnownSectionType(type)) {
            return reject(at + kEntryTypeAt, "unknown section type", which + " has type " + num(type));
        }
        const auto typed = static_cast<SectionType>(type);
        if (readU32(bytes, at + kEntryReservedAt) != 0) {
            return reject(at + kEntryReservedAt, "non-zero reserved field", "in section table entry " + num(i));
        }
        if (i > 0 && type == previousType) {
            return reject(at + kEntryTypeAt, "duplicate section type", which + " repeats " + sectionTypeName(typed));
        }
        if (i > 0 && type < previousType) {
            return reject(at + kEntryTypeAt, "unsorted section table",
                          which + " (" + sectionTypeName(typed) + ") comes after " +
                              sectionTypeName(static_cast<SectionType>(previousType)));
        }
        if (offset > size || length > size - offset) {
            return reject(at + kEntryOffsetAt, "section out of range",
                          which + " at " + num(offset) + " with length " + num(length) + " ends past the file (" +
                              num(size) + " bytes)");
        }
        if (offset % kAlignment != 0) {
            return reject(at + kEntryOffsetAt, "misaligned section",
                          which + " starts at " + num(offset) + ", not a multiple of 8");
        }
        if (offset < cursor) {
            return reject(at + kEntryOffsetAt, "overlapping section",
                          which + " starts at " + num(offset) + ", inside the " +
                              (i == 0 ? std::string("section table") : "previous section") + " which ends at " +
                              num(cursor));
        }
        if (offset > cursor) {
            return reject(at + kEntryOffsetAt, "gap before section",
                          which + " starts at " + num(offset) + ", expected " + num(cursor));
        }
        const std::uint64_t end = offset + length;
        const std::uint64_t padding = paddingAfter(end);
        if (size - end < padding) {
            return reject(end, "missing padding", which + " needs " + num(padding) + " bytes of padding");
        }
        if (auto bad = checkPadding(bytes, end, padding, which)) return *bad;
        cursor = end + padding;
        previousType = type;
        if (typed == SectionType::Signatures) {
            signaturesEntry = {typed, offset, length};
        } else {
            bundle.entries_.push_back({typed, offset, length});
        }
    }
    if (previousType != static_cast<std::uint32_t>(SectionType::Signatures)) {
        return reject(kHeaderSize + std::uint64_t{count - 1} * kEntrySize, "missing signatures section",
                      "the last section must be SIGNATURES");
    }
    if (cursor != size) {
        return reject(cursor, "trailing bytes", num(size - cursor) + " bytes after the last section");
    }
    if (const std::uint64_t signedLength = readU64(bytes, kSignedLengthAt); signedLength != signaturesEntry.offset) {
        return reject(
            kSignedLengthAt, "signed length mismatch",
            "header says " + num(signedLength) + ", the signatures section starts at " + num(signaturesEntry.offset));
    }
    auto signatures =
        decodeSignatures(bytes, signaturesEntry.offset, signaturesEntry.offset + signaturesEntry.length, limits);
    if (!signatures) return Error{signatures.error()};

    bundle.bytes_.assign(bytes.begin(), bytes.end());
    bundle.signedLength_ = signaturesEntry.offset;
    bundle.signatures_ = std::move(*signatures);
    return bundle;
}

std::span<const std::uint8_t> Bundle::body(const SectionEntry& entry) const {
    // An entry from another bundle is a caller bug; stop rather than read out of bounds.
    if (entry.offset > bytes_.size() || entry.length > bytes_.size() - entry.offset) std::abort();
    return std::span<const std::uint8_t>(bytes_).subspan(entry.offset, entry.length);
}

std::optional<std::span<const std::uint8_t>> Bundle::section(SectionType type) const {
    for (const SectionEntry& e : entries_) {
        if (e.type == type) return body(e);
    }
    return std::nullopt;
}

std::vector<Section> Bundle::sections() const {
    std::vector<Section> out;
    for (const SectionEntry& e : entries_) {
        auto b = body(e);
        out.push_back({e.type, std::vector<std::uint8_t>(b.begin(), b.end())});
    }
    return out;
}

}  // namespace omega::bundle
