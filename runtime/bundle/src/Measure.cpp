// The measurement: SHA-384 over the signed part of a bundle, with the two fields that signing rewrites hashed as
// zeros (see docs/bundle.md, "Measurement").
#include "ByteOrder.h"
#include "Layout.h"
#include "OpenSsl.h"
#include "omega/bundle/Bundle.h"

#include <cstdlib>

namespace omega::bundle {

namespace detail {

std::array<std::uint8_t, 32> sha256(std::span<const std::uint8_t> bytes) {
    std::array<std::uint8_t, 32> out{};
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), out.data(), &length, EVP_sha256(), nullptr) != 1 ||
        length != out.size()) {
        std::abort();
    }
    return out;
}

}  // namespace detail

Measurement measure(const Bundle& bundle) {
    static constexpr std::uint8_t kZeros[8] = {};
    const std::span<const std::uint8_t> bytes = bundle.bytes();
    const std::uint64_t signedLength = bundle.signedLength();
    // INVARIANT (from decode): the table has entries().size() + 1 entries, the last one for the signatures section,
    // and it ends before signedLength.
    const std::uint64_t lengthField = detail::signaturesLengthFieldAt(bundle.entries().size() + 1);
    const struct {
        const std::uint8_t* data;
        std::uint64_t size;
    } pieces[] = {
        {bytes.data(), kTotalLengthAt},
        {kZeros, 8},
        {bytes.data() + kTotalLengthAt + 8, lengthField - (kTotalLengthAt + 8)},
        {kZeros, 8},
        {bytes.data() + lengthField + 8, signedLength - (lengthField + 8)},
    };
    Measurement m;
    unsigned int length = 0;
    detail::MdCtxPtr ctx(EVP_MD_CTX_new());
    // OpenSSL fails here only when it cannot allocate; like a failed `new`, that is fatal.
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha384(), nullptr) != 1) std::abort();
    for (const auto& piece : pieces) {
        if (EVP_DigestUpdate(ctx.get(), piece.data, piece.size) != 1) std::abort();
    }
    if (EVP_DigestFinal_ex(ctx.get(), m.bytes.data(), &length) != 1 || length != m.bytes.size()) std::abort();
    return m;
}

}  // namespace omega::bundle
