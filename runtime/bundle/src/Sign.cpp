// sign(): signs the measurement of a bundle and rewrites only its signatures section (and the two length fields
// the measurement ignores), so everything already signed stays byte-identical. Also the plain message signing and
// checking that other signed formats (the decision log's checkpoints) build on.
#include "ByteOrder.h"
#include "Layout.h"
#include "OpenSsl.h"
#include "omega/bundle/Signing.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>

namespace omega::bundle {

std::array<std::uint8_t, kDomainTag.size() + kMeasurementSize> signingMessage(const Measurement& measurement) {
    std::array<std::uint8_t, kDomainTag.size() + kMeasurementSize> message{};
    std::copy(kDomainTag.begin(), kDomainTag.end(), message.begin());
    std::copy(measurement.bytes.begin(), measurement.bytes.end(), message.begin() + kDomainTag.size());
    return message;
}

// Ed25519 signs the message itself; ECDSA signs its SHA-384 digest and yields a DER ECDSA-Sig-Value.
Result<std::vector<std::uint8_t>> signMessage(const PrivateKey& key, std::span<const std::uint8_t> message) {
    detail::MdCtxPtr ctx(EVP_MD_CTX_new());
    const EVP_MD* md = key.algorithm() == Algorithm::Ed25519 ? nullptr : EVP_sha384();
    std::size_t length = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key.native()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length, message.data(), message.size()) != 1) {
        ERR_clear_error();
        return Error{std::string("cannot sign with the ") + algorithmName(key.algorithm()) + " key"};
    }
    std::vector<std::uint8_t> signature(length);
    if (EVP_DigestSign(ctx.get(), signature.data(), &length, message.data(), message.size()) != 1) {
        ERR_clear_error();
        return Error{std::string("cannot sign with the ") + algorithmName(key.algorithm()) + " key"};
    }
    signature.resize(length);
    return signature;
}

bool verifySignature(const PublicKey& key, std::span<const std::uint8_t> message,
                     std::span<const std::uint8_t> signature) {
    detail::MdCtxPtr ctx(EVP_MD_CTX_new());
    const EVP_MD* md = key.algorithm() == Algorithm::Ed25519 ? nullptr : EVP_sha384();
    const bool ok =
        ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.native()) == 1 &&
        EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(), message.size()) == 1;
    ERR_clear_error();
    return ok;
}

// Through PEM, so that the key is checked and its id computed exactly as for a key loaded from a file.
Result<PublicKey> publicKeyOf(const PrivateKey& key) {
    detail::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.native()) != 1) {
        ERR_clear_error();
        return Error{"cannot encode the public half of the private key"};
    }
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    if (length <= 0 || data == nullptr) return Error{"cannot encode the public half of the private key"};
    return loadPublicKey(std::string_view(data, static_cast<std::size_t>(length)));
}

Result<std::vector<std::uint8_t>> sign(std::span<const std::uint8_t> file, const PrivateKey& key,
                                       const Limits& limits) {
    auto bundle = decode(file, limits);
    if (!bundle) return Error{"cannot sign: " + bundle.error()};
    const auto message = signingMessage(measure(*bundle));
    auto signature = signMessage(key, message);
    if (!signature) return Error{signature.error()};

    std::vector<Signature> signatures = bundle->signatures();
    auto same =
        std::find_if(signatures.begin(), signatures.end(), [&](const Signature& s) { return s.keyId == key.id(); });
    Signature mine{key.algorithm(), key.id(), std::move(*signature)};
    if (same != signatures.end()) {
        *same = std::move(mine);
    } else {
        signatures.push_back(std::move(mine));
    }
    if (signatures.size() > limits.maxSignatures) {
        return Error{"cannot sign: the bundle already has " + std::to_string(limits.maxSignatures) +
                     " signatures, the limit"};
    }

    const std::uint64_t signedLength = bundle->signedLength();
    std::vector<std::uint8_t> out(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(signedLength));
    detail::appendSignaturesSection(out, signatures);
    if (out.size() > limits.maxTotalSize) {
        return Error{"cannot sign: the signed bundle would be " + std::to_string(out.size()) +
                     " bytes, over the limit of " + std::to_string(limits.maxTotalSize)};
    }
    detail::writeLe<std::uint64_t>(out, kTotalLengthAt, out.size());
    detail::writeLe<std::uint64_t>(out, detail::signaturesLengthFieldAt(bundle->entries().size() + 1),
                                   out.size() - signedLength);
    return out;
}

Result<std::vector<std::uint8_t>> sign(std::span<const std::uint8_t> file, std::string_view privateKeyPem,
                                       const Limits& limits) {
    auto key = loadPrivateKey(privateKeyPem);
    if (!key) return Error{"cannot sign: " + key.error()};
    return sign(file, *key, limits);
}

}  // namespace omega::bundle
