// Owning handles for the OpenSSL objects omega_bundle uses, and small digest helpers; private to omega_bundle.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>

namespace omega::bundle::detail {

struct BioFree {
    void operator()(BIO* p) const { BIO_free(p); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// One-shot SHA-256; only fails when OpenSSL cannot allocate, which is treated like a failed `new`: fatal.
std::array<std::uint8_t, 32> sha256(std::span<const std::uint8_t> bytes);

}  // namespace omega::bundle::detail
