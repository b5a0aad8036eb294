// Report decoding steps shared by the parser and the verifier, and the product-dependent TCB_VERSION layout;
// private to omega_attest.
#pragma once

#include "omega/attest/Report.h"

#include <optional>
#include <string>

namespace omega::attest::detail {

// parseReport without the signature-algorithm check: the size and the version only. The verifier reports the
// algorithm as a check of its own ("report.signature-algorithm").
Result<Report> decodeReport(std::span<const std::uint8_t> bytes);

// The components of a TCB_VERSION. Milan and Genoa: boot_loader, tee, 4 reserved, snp, microcode. Turin (family
// 0x1A, known from the CPUID fields of version 3 and later reports): fmc, boot_loader, tee, snp, 3 reserved,
// microcode.
struct TcbParts {
    std::optional<std::uint8_t> fmc;
    std::uint8_t bootLoader = 0, tee = 0, snp = 0, microcode = 0;
};
bool turinLayout(const Report& report);
TcbParts tcbParts(TcbVersion tcb, bool turin);

// "0x" and 16 lowercase hex digits, as reports' u64 fields are shown.
std::string hex64(std::uint64_t value);

}  // namespace omega::attest::detail
