// Names of section types and algorithms, and lowercase hex, for messages and tools.
#include "omega/bundle/Format.h"
#include "omega/bundle/Bundle.h"

namespace omega::bundle {

bool isKnownSectionType(std::uint32_t type) {
    return (type >= static_cast<std::uint32_t>(SectionType::Strings) &&
            type <= static_cast<std::uint32_t>(SectionType::SourcesMerkle)) ||
           type == static_cast<std::uint32_t>(SectionType::Signatures);
}

const char* sectionTypeName(SectionType type) {
    switch (type) {
        case SectionType::Strings: return "STRINGS";
        case SectionType::Sets: return "SETS";
        case SectionType::Matchers: return "MATCHERS";
        case SectionType::Lattice: return "LATTICE";
        case SectionType::Code: return "CODE";
        case SectionType::Metadata: return "METADATA";
        case SectionType::SourcesMerkle: return "SOURCES_MERKLE";
        case SectionType::Signatures: return "SIGNATURES";
    }
    return "unknown";
}

const char* algorithmName(Algorithm algorithm) {
    switch (algorithm) {
        case Algorithm::Ed25519: return "Ed25519";
        case Algorithm::EcdsaP384Sha384: return "ECDSA P-384";
    }
    return "unknown";
}

std::string toHex(std::span<const std::uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (std::uint8_t b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0xf]);
    }
    return out;
}

std::string Measurement::hex() const {
    return toHex(bytes);
}

}  // namespace omega::bundle
