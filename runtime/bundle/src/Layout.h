// Pieces of the layout shared by encode(), decode() and sign(); private to omega_bundle.
#pragma once

#include "omega/bundle/Bundle.h"

#include <cstdint>
#include <vector>

namespace omega::bundle::detail {

// Appends a signatures section body (head, then each signature with its padding) to `out`.
void appendSignaturesSection(std::vector<std::uint8_t>& out, const std::vector<Signature>& signatures);

// Offset of the length field of the table entry that describes the signatures section (always the last entry).
inline std::uint64_t signaturesLengthFieldAt(std::uint64_t sectionCount) {
    return kHeaderSize + (sectionCount - 1) * kEntrySize + kEntryLengthAt;
}

}  // namespace omega::bundle::detail
