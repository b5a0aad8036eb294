// Loading PEM keys: parse with OpenSSL, accept only Ed25519 and EC P-384 (named curve), compute the key id.
#include "omega/bundle/Keys.h"
#include "OpenSsl.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <string>

namespace omega::bundle {

// Builds keys; the only code allowed to call their constructors.
class KeyFactory {
public:
    template <typename Key>
    static Result<Key> make(EVP_PKEY* raw, const char* what) {
        std::shared_ptr<evp_pkey_st> key(raw, EVP_PKEY_free);
        auto algorithm = algorithmOf(key.get(), what);
        if (!algorithm) return Error{algorithm.error()};
        auto id = keyIdOf(key.get());
        if (!id) return Error{id.error()};
        return Key(*algorithm, *id, std::move(key));
    }

private:
    static Result<Algorithm> algorithmOf(EVP_PKEY* key, const char* what) {
        if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) return Algorithm::Ed25519;
        if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
            return Error{std::string("unsupported ") + what + " type `" + typeName(key) +
                         "`: only Ed25519 and EC P-384 keys are accepted"};
        }
        char group[64] = {};
        std::size_t length = 0;
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &length) != 1) {
            ERR_clear_error();
            return Error{std::string("unsupported ") + what + ": EC keys must use the named curve P-384"};
        }
        if (std::string_view(group, length) != "secp384r1") {
            return Error{std::string("unsupported ") + what + " curve `" + std::string(group, length) +
                         "`: EC keys must use P-384 (secp384r1)"};
        }
        // Explicit curve parameters are refused even when they describe P-384: they are a needless attack surface
        // and would give the same key a second key id.
        char encoding[32] = {};
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_EC_ENCODING, encoding, sizeof encoding, &length) != 1 ||
            std::string_view(encoding, length) != OSSL_PKEY_EC_ENCODING_GROUP) {
            ERR_clear_error();
            return Error{std::string("unsupported ") + what + ": EC keys must name the curve P-384, not spell it out"};
        }
        return Algorithm::EcdsaP384Sha384;
    }

    static std::string typeName(EVP_PKEY* key) {
        const char* name = EVP_PKEY_get0_type_name(key);
        return name != nullptr ? name : "unknown";
    }

    // SHA-256 of the DER SubjectPublicKeyInfo (for a private key, that of its public half).
    static Result<KeyId> keyIdOf(EVP_PKEY* key) {
        unsigned char* der = nullptr;
        const int length = i2d_PUBKEY(key, &der);
        if (length <= 0) {
            ERR_clear_error();
            return Error{"cannot encode the public key as SubjectPublicKeyInfo"};
        }
        KeyId id = detail::sha256(std::span<const std::uint8_t>(der, static_cast<std::size_t>(length)));
        OPENSSL_free(der);
        return id;
    }
};

namespace {

// Refuses to decrypt: an encrypted private key fails to load instead of prompting on the terminal.
int noPassphrase(char*, int, int, void*) {
    return -1;
}

Result<detail::BioPtr> pemBio(std::string_view pem, const char* what) {
    if (pem.empty()) return Error{std::string("empty ") + what + " PEM"};
    if (pem.size() > kMaxPemSize) {
        return Error{std::string(what) + " PEM is " + std::to_string(pem.size()) + " bytes, over the limit of " +
                     std::to_string(kMaxPemSize)};
    }
    detail::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return Error{"cannot allocate a buffer for the PEM text"};
    return bio;
}

}  // namespace

Result<PublicKey> loadPublicKey(std::string_view pem) {
    auto bio = pemBio(pem, "public key");
    if (!bio) return Error{bio.error()};
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio->get(), nullptr, noPassphrase, nullptr);
    if (key == nullptr) {
        ERR_clear_error();
        return Error{"cannot parse public key: expected a PEM `PUBLIC KEY` block"};
    }
    return KeyFactory::make<PublicKey>(key, "public key");
}

Result<PrivateKey> loadPrivateKey(std::string_view pem) {
    auto bio = pemBio(pem, "private key");
    if (!bio) return Error{bio.error()};
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio->get(), nullptr, noPassphrase, nullptr);
    if (key == nullptr) {
        ERR_clear_error();
        return Error{"cannot parse private key: expected an unencrypted PEM `PRIVATE KEY` block"};
    }
    return KeyFactory::make<PrivateKey>(key, "private key");
}

}  // namespace omega::bundle
