// The SEV-SNP attestation report (AMD SEV-SNP ABI specification, "ATTESTATION_REPORT Structure"): 1184 bytes,
// little-endian, signed by the chip's VCEK with ECDSA P-384 over bytes 0x000-0x29F. docs/attestation.md lists every
// field with its offset. Reports are untrusted input: parsing checks sizes and known values and never crashes.
#pragma once

#include "omega/bundle/Result.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace omega::attest {

template <typename T>
using Result = bundle::Result<T>;
using bundle::Error;

inline constexpr std::size_t kReportSize = 0x4A0;   // 1184
inline constexpr std::size_t kSignedSize = 0x2A0;   // the signature covers bytes [0, 0x2A0)
inline constexpr std::size_t kSignatureAt = 0x2A0;  // r (72 bytes, little-endian), then s (72 bytes)
inline constexpr std::size_t kSignatureComponent = 72;
inline constexpr std::size_t kReportDataAt = 0x50;
inline constexpr std::size_t kReportDataSize = 64;
inline constexpr std::uint32_t kSignatureAlgoEcdsaP384Sha384 = 1;

using ReportData = std::array<std::uint8_t, kReportDataSize>;

// A TCB_VERSION (8 bytes, one u64). Milan and Genoa: boot_loader, tee, 4 reserved, snp, microcode (bytes 0..7).
struct TcbVersion {
    std::uint64_t raw = 0;
    std::uint8_t bootLoader() const { return static_cast<std::uint8_t>(raw); }
    std::uint8_t tee() const { return static_cast<std::uint8_t>(raw >> 8); }
    std::uint8_t snp() const { return static_cast<std::uint8_t>(raw >> 48); }
    std::uint8_t microcode() const { return static_cast<std::uint8_t>(raw >> 56); }
};

// Every field of the report, decoded. `bytes` keeps the report exactly as received (the signature is over it).
struct Report {
    std::uint32_t version = 0;
    std::uint32_t guestSvn = 0;
    std::uint64_t policy = 0;
    std::array<std::uint8_t, 16> familyId{};
    std::array<std::uint8_t, 16> imageId{};
    std::uint32_t vmpl = 0;
    std::uint32_t signatureAlgo = 0;
    TcbVersion currentTcb;
    std::uint64_t platformInfo = 0;
    std::uint32_t flags = 0;  // bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 2-4 SIGNING_KEY (0 VCEK, 1 VLEK)
    ReportData reportData{};
    std::array<std::uint8_t, 48> measurement{};
    std::array<std::uint8_t, 32> hostData{};
    std::array<std::uint8_t, 48> idKeyDigest{};
    std::array<std::uint8_t, 48> authorKeyDigest{};
    std::array<std::uint8_t, 32> reportId{};
    std::array<std::uint8_t, 32> reportIdMa{};
    TcbVersion reportedTcb;
    std::uint8_t cpuidFamId = 0, cpuidModId = 0, cpuidStep = 0;  // version 3 and later (zero before)
    std::array<std::uint8_t, 64> chipId{};
    TcbVersion committedTcb;
    std::uint8_t currentBuild = 0, currentMinor = 0, currentMajor = 0;
    std::uint8_t committedBuild = 0, committedMinor = 0, committedMajor = 0;
    TcbVersion launchTcb;
    std::uint64_t launchMitVector = 0, currentMitVector = 0;     // version 5 and later (zero before)
    std::array<std::uint8_t, kSignatureComponent> signatureR{};  // little-endian, as in the report
    std::array<std::uint8_t, kSignatureComponent> signatureS{};
    std::array<std::uint8_t, kReportSize> bytes{};

    bool debugAllowed() const { return (policy >> 19) & 1; }  // POLICY bit 19: DEBUG
    std::uint32_t signingKey() const { return (flags >> 2) & 7; }
};

// Decodes a report. Errors: the wrong size ("report: 1183 bytes, expected 1184"), a version this parser does not
// know (2 to 5 are known), a signature algorithm other than 1.
Result<Report> parseReport(std::span<const std::uint8_t> bytes);

// Writes `report`'s fields into 1184 bytes (reserved bytes zero, signature as given); the software provider signs
// the result. encodeReport(parseReport(b)) == b for every report whose reserved bytes are zero.
std::array<std::uint8_t, kReportSize> encodeReport(const Report& report);

// Every field as one JSON object (byte arrays as lowercase hex; TCB versions as hex u64 and their parts; policy
// bits by name), the output of `omegac attest show`.
std::string reportToJson(const Report& report);

}  // namespace omega::attest
