// The GHCB certificate table (GHCB specification 2.03, section 4.1.8.1) that the host returns beside an extended
// report, as configfs-tsm's auxblob or SNP_GET_EXT_REPORT's certificate pages, turned into PEM. The host is not
// trusted: every entry is bounds checked before a byte of it is read.
#include "omega/attest/Provider.h"
#include "omega/bundle/Bundle.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <memory>

namespace omega::attest {

namespace {

// An entry: GUID (16 bytes), offset (u32), length (u32), little-endian; an all-zero entry ends the table. Offsets
// count from the start of the table.
constexpr std::size_t kEntrySize = 24;
// Hosts send three or four certificates; a table claiming more is malformed, not a reason to allocate.
constexpr std::size_t kMaxEntries = 64;

using Guid = std::array<std::uint8_t, 16>;

constexpr std::uint8_t hexValue(char c) {
    return static_cast<std::uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10);
}

// The table stores a GUID's bytes in the order its text is written (RFC 4122 order), not in the mixed-endian
// EFI_GUID layout: AMD's guest tools (libuuid's uuid_parse) and go-sev-guest both read and write it so.
constexpr Guid guidFromText(const char (&text)[37]) {
    Guid g{};
    std::size_t digit = 0;
    for (std::size_t i = 0; i < 36; ++i) {
        if (text[i] == '-') continue;
        g[digit / 2] = static_cast<std::uint8_t>(g[digit / 2] << 4 | hexValue(text[i]));
        ++digit;
    }
    return g;
}

struct KnownGuid {
    const char* role;
    Guid guid;
};

// The order of the output: the endorsement key (VCEK, or the VLEK a cloud host may provision instead), then the
// chain above it. Other GUIDs (a CRL, vendor data) are allowed by the specification and skipped.
constexpr KnownGuid kKnown[] = {
    {"VCEK", guidFromText("63da758d-e664-4564-adc5-f4b93be8accd")},
    {"VLEK", guidFromText("a8074bc2-a25a-483e-aae6-39c045a0b8a1")},
    {"ASK", guidFromText("4ab7b379-bbac-4fe4-a02f-05aef327c782")},
    {"ARK", guidFromText("c0b406a4-a803-4952-9743-3fb6014cd0ae")},
};

struct Entry {
    std::size_t index;
    Guid guid;
    std::uint32_t offset;
    std::uint32_t length;
};

std::uint32_t le32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

std::string guidText(const Guid& g) {
    std::string out = bundle::toHex(g);
    for (std::size_t at : {20, 16, 12, 8}) out.insert(at, 1, '-');
    return out;
}

std::string describe(const Entry& e) {
    for (const KnownGuid& k : kKnown) {
        if (k.guid == e.guid) return "entry " + std::to_string(e.index) + " (" + k.role + ")";
    }
    return "entry " + std::to_string(e.index) + " (" + guidText(e.guid) + ")";
}

// One DER certificate as PEM. Zero bytes after the certificate, up to the entry's length, are padding some hosts
// add; anything else there is an error.
Result<std::string> derToPem(std::span<const std::uint8_t> der, const std::string& what) {
    const unsigned char* p = der.data();
    std::unique_ptr<X509, decltype(&X509_free)> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
    if (!cert) {
        ERR_clear_error();
        return Error{"certificate table: " + what + ": not a DER X.509 certificate"};
    }
    const std::size_t used = static_cast<std::size_t>(p - der.data());
    if (std::any_of(der.begin() + static_cast<std::ptrdiff_t>(used), der.end(), [](std::uint8_t b) { return b; }))
        return Error{"certificate table: " + what + ": " + std::to_string(der.size() - used) +
                     " bytes after the certificate are not zero padding"};
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) {
        ERR_clear_error();
        return Error{"certificate table: " + what + ": cannot write PEM"};
    }
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

Result<std::string> certificateTableToPem(std::span<const std::uint8_t> table) {
    // No table at all: the host supplied no certificates (go-sev-guest accepts this too).
    if (table.empty()) return std::string();

    std::vector<Entry> entries;
    for (std::size_t i = 0;; ++i) {
        const std::size_t at = i * kEntrySize;
        if (table.size() - at < kEntrySize)
            return Error{"certificate table: no all-zero entry ends the table within its " +
                         std::to_string(table.size()) + " bytes"};
        if (i == kMaxEntries) return Error{"certificate table: more than " + std::to_string(kMaxEntries) + " entries"};
        Entry e{i, {}, le32(table.data() + at + 16), le32(table.data() + at + 20)};
        std::copy_n(table.data() + at, 16, e.guid.begin());
        if (e.guid == Guid{}) {
            if (e.offset == 0 && e.length == 0) break;
            return Error{"certificate table: entry " + std::to_string(i) + " has a zero GUID but offset " +
                         std::to_string(e.offset) + " and length " + std::to_string(e.length)};
        }
        entries.push_back(e);
    }

    // INVARIANT: after this loop every entry's bytes lie after the header and inside the table.
    const std::size_t headerEnd = (entries.size() + 1) * kEntrySize;
    for (const Entry& e : entries) {
        if (e.offset < headerEnd)
            return Error{"certificate table: " + describe(e) + ": offset " + std::to_string(e.offset) +
                         " is inside the table's " + std::to_string(headerEnd) + "-byte header"};
        if (std::uint64_t{e.offset} + e.length > table.size())
            return Error{"certificate table: " + describe(e) + ": bytes " + std::to_string(e.offset) + " to " +
                         std::to_string(std::uint64_t{e.offset} + e.length) + " lie beyond the table's " +
                         std::to_string(table.size()) + " bytes"};
    }
    std::vector<Entry> byOffset = entries;
    std::sort(byOffset.begin(), byOffset.end(), [](const Entry& a, const Entry& b) { return a.offset < b.offset; });
    for (std::size_t i = 1; i < byOffset.size(); ++i) {
        const Entry& prev = byOffset[i - 1];
        if (std::uint64_t{prev.offset} + prev.length > byOffset[i].offset)
            return Error{"certificate table: " + describe(prev) + " and " + describe(byOffset[i]) + " overlap"};
    }

    std::string pem;
    for (const KnownGuid& k : kKnown) {
        const Entry* found = nullptr;
        for (const Entry& e : entries) {
            if (e.guid != k.guid) continue;
            if (found)
                return Error{"certificate table: entries " + std::to_string(found->index) + " and " +
                             std::to_string(e.index) + " are both the " + k.role};
            found = &e;
        }
        if (!found) continue;
        if (found->length == 0) return Error{"certificate table: " + describe(*found) + " is empty"};
        auto one = derToPem(table.subspan(found->offset, found->length), describe(*found));
        if (!one) return Error{one.error()};
        pem += *one;
    }
    return pem;
}

}  // namespace omega::attest
