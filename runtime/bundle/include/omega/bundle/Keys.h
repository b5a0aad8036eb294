// Public and private keys for bundle signatures, loaded from PEM text: Ed25519 or EC P-384, nothing else.
// A key carries its algorithm and its key id (SHA-256 of the DER SubjectPublicKeyInfo).
#pragma once

#include "omega/bundle/Bundle.h"
#include "omega/bundle/Format.h"
#include "omega/bundle/Result.h"

#include <cstddef>
#include <memory>
#include <string_view>

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace omega::bundle {

inline constexpr std::size_t kMaxPemSize = 16 * 1024;

class PublicKey {
public:
    Algorithm algorithm() const { return algorithm_; }
    const KeyId& id() const { return id_; }
    evp_pkey_st* native() const { return key_.get(); }  // for this library's OpenSSL calls

private:
    friend class KeyFactory;
    PublicKey(Algorithm algorithm, KeyId id, std::shared_ptr<evp_pkey_st> key)
        : algorithm_(algorithm), id_(id), key_(std::move(key)) {}

    Algorithm algorithm_;
    KeyId id_;
    std::shared_ptr<evp_pkey_st> key_;
};

class PrivateKey {
public:
    Algorithm algorithm() const { return algorithm_; }
    const KeyId& id() const { return id_; }  // the id of the matching public key
    evp_pkey_st* native() const { return key_.get(); }

private:
    friend class KeyFactory;
    PrivateKey(Algorithm algorithm, KeyId id, std::shared_ptr<evp_pkey_st> key)
        : algorithm_(algorithm), id_(id), key_(std::move(key)) {}

    Algorithm algorithm_;
    KeyId id_;
    std::shared_ptr<evp_pkey_st> key_;
};

// A `PUBLIC KEY` (SubjectPublicKeyInfo) PEM block.
Result<PublicKey> loadPublicKey(std::string_view pem);
// An unencrypted `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` PEM block; encrypted keys are rejected.
Result<PrivateKey> loadPrivateKey(std::string_view pem);

}  // namespace omega::bundle
