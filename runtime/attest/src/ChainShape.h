// What the verifier checks and the software authority makes alike: AMD's VCEK extensions (AMD, "Versioned Chip
// Endorsement Key (VCEK) Certificate and KDS Interface Specification") and the name of a software authority's
// certificates; private to omega_attest.
#pragma once

#include "omega/attest/Certs.h"

namespace omega::attest::detail {

// The chip's HWID: the 64 bytes of CHIP_ID as the extension's contents (8 bytes on Turin).
inline constexpr const char* kVcekHwidOid = "1.3.6.1.4.1.3704.1.4";

// The organization in every subject of a software authority's chain. 64 characters, the most X.520 allows.
inline constexpr const char* kSoftwareOrganization = "Omega software SEV-SNP stand-in (NOT AMD, not hardware evidence)";

// True when `certificate`'s subject has kSoftwareOrganization as an organization: a software authority's.
bool namesSoftwareAuthority(const Certificate& certificate);

}  // namespace omega::attest::detail
