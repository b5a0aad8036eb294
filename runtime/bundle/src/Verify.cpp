// verify(): a bundle is accepted when at least one of its signatures is by a trusted key and is valid for the
// bundle's measurement; otherwise the error names the check that failed.
#include "OpenSsl.h"
#include "omega/bundle/Signing.h"

#include <openssl/err.h>

#include <string>

namespace omega::bundle {

namespace {

bool verifyMessage(const PublicKey& key, std::span<const std::uint8_t> message, std::span<const std::uint8_t> sig) {
    detail::MdCtxPtr ctx(EVP_MD_CTX_new());
    const EVP_MD* md = key.algorithm() == Algorithm::Ed25519 ? nullptr : EVP_sha384();
    const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.native()) == 1 &&
                    EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), message.data(), message.size()) == 1;
    ERR_clear_error();
    return ok;
}

}  // namespace

Result<KeyId> verify(const Bundle& bundle, const std::vector<PublicKey>& trusted) {
    const std::vector<Signature>& signatures = bundle.signatures();
    if (signatures.empty()) return Error{"no signatures: the bundle is unsigned"};
    const auto message = signingMessage(measure(bundle));
    std::string firstFailure;
    for (std::size_t i = 0; i < signatures.size(); ++i) {
        const Signature& s = signatures[i];
        for (const PublicKey& key : trusted) {
            if (key.id() != s.keyId) continue;
            const std::string which = "signature " + std::to_string(i) + " by trusted key " + toHex(s.keyId);
            if (key.algorithm() != s.algorithm) {
                if (firstFailure.empty()) {
                    firstFailure = "bad signature: " + which + " claims " + algorithmName(s.algorithm) +
                                   " but the key is " + algorithmName(key.algorithm());
                }
            } else if (verifyMessage(key, message, s.bytes)) {
                return s.keyId;
            } else if (firstFailure.empty()) {
                firstFailure = "bad signature: " + which + " does not match the bundle's measurement";
            }
            break;  // key ids are unique per key, so no other trusted key can match
        }
    }
    if (!firstFailure.empty()) return Error{firstFailure};
    return Error{"no trusted key: none of the " + std::to_string(signatures.size()) +
                 " signatures is by a trusted key"};
}

}  // namespace omega::bundle
