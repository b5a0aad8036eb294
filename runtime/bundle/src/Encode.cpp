// Canonical encoding: sections sorted by type, laid out back to back from the end of the table, each padded with
// zeros to 8 bytes, followed by the signatures section; no choice is left to the encoder.
#include "ByteOrder.h"
#include "Layout.h"
#include "omega/bundle/Bundle.h"

#include <algorithm>

namespace omega::bundle {

namespace detail {

void appendSignaturesSection(std::vector<std::uint8_t>& out, const std::vector<Signature>& signatures) {
    appendLe<std::uint32_t>(out, static_cast<std::uint32_t>(signatures.size()));
    appendLe<std::uint32_t>(out, 0);
    for (const Signature& s : signatures) {
        appendLe<std::uint16_t>(out, static_cast<std::uint16_t>(s.algorithm));
        appendLe<std::uint16_t>(out, 0);
        out.insert(out.end(), s.keyId.begin(), s.keyId.end());
        appendLe<std::uint32_t>(out, static_cast<std::uint32_t>(s.bytes.size()));
        out.insert(out.end(), s.bytes.begin(), s.bytes.end());
        out.resize(out.size() + paddingAfter(kSignatureHeadSize + s.bytes.size()), 0);
    }
}

}  // namespace detail

Result<std::vector<std::uint8_t>> encode(const std::vector<Section>& sections) {
    std::vector<const Section*> sorted;
    for (const Section& s : sections) {
        auto type = static_cast<std::uint32_t>(s.type);
        if (!isKnownSectionType(type) || s.type == SectionType::Signatures) {
            return Error{"cannot encode section type " + std::to_string(type) +
                         ": content sections are types 1 to 7 (signatures are added by sign)"};
        }
        sorted.push_back(&s);
    }
    std::sort(sorted.begin(), sorted.end(), [](const Section* a, const Section* b) { return a->type < b->type; });
    for (std::size_t i = 1; i < sorted.size(); ++i) {
        if (sorted[i]->type == sorted[i - 1]->type) {
            return Error{std::string("cannot encode two ") + sectionTypeName(sorted[i]->type) + " sections"};
        }
    }

    const std::uint64_t count = sorted.size() + 1;  // + the signatures section
    std::uint64_t cursor = kHeaderSize + count * kEntrySize;
    std::vector<std::uint8_t> table;
    auto addEntry = [&](SectionType type, std::uint64_t length) {
        detail::appendLe<std::uint32_t>(table, static_cast<std::uint32_t>(type));
        detail::appendLe<std::uint32_t>(table, 0);
        detail::appendLe<std::uint64_t>(table, cursor);
        detail::appendLe<std::uint64_t>(table, length);
        cursor += length + detail::paddingAfter(length);
    };
    for (const Section* s : sorted) addEntry(s->type, s->data.size());
    const std::uint64_t signedLength = cursor;
    std::vector<std::uint8_t> signatures;
    detail::appendSignaturesSection(signatures, {});
    addEntry(SectionType::Signatures, signatures.size());

    std::vector<std::uint8_t> out;
    out.reserve(cursor);
    out.insert(out.end(), kMagic.begin(), kMagic.end());
    detail::appendLe<std::uint16_t>(out, kFormatVersion);
    detail::appendLe<std::uint16_t>(out, 0);  // flags
    detail::appendLe<std::uint32_t>(out, static_cast<std::uint32_t>(count));
    detail::appendLe<std::uint64_t>(out, signedLength);
    detail::appendLe<std::uint64_t>(out, cursor);  // total length
    out.resize(kHeaderSize, 0);                    // reserved
    out.insert(out.end(), table.begin(), table.end());
    for (const Section* s : sorted) {
        out.insert(out.end(), s->data.begin(), s->data.end());
        out.resize(out.size() + detail::paddingAfter(s->data.size()), 0);
    }
    out.insert(out.end(), signatures.begin(), signatures.end());
    // INVARIANT: out.size() == cursor, the total length written above.
    return out;
}

}  // namespace omega::bundle
