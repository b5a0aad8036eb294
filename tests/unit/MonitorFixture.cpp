// Test support for the monitor (MonitorFixture.h).
#include "MonitorFixture.h"

#include "omega/bundle/Bundle.h"
#include "omega/bundle/Signing.h"
#include "omega/codegen/CodeGen.h"
#include "omega/gen/Generate.h"
#include "omega/policy/Serialize.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

namespace omega::fixture {

bundle::PrivateKey KeyPair::priv() const {
    return bundle::loadPrivateKey(privatePem).value();
}
bundle::PublicKey KeyPair::pub() const {
    return bundle::loadPublicKey(publicPem).value();
}

KeyPair newKey() {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr),
                                                                    EVP_PKEY_CTX_free);
    EVP_PKEY* raw = nullptr;
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) std::abort();
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw, EVP_PKEY_free);
    auto pem = [&](bool priv) {
        std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
        if (priv ? PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1
                 : PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1)
            std::abort();
        char* data = nullptr;
        const long n = BIO_get_mem_data(bio.get(), &data);
        return std::string(data, static_cast<std::size_t>(n));
    };
    return {pem(true), pem(false)};
}

std::vector<std::uint8_t> compileBundle(const std::vector<std::string>& texts, const KeyPair* key) {
    auto checked = gen::check(texts);
    if (!checked->ok()) {
        ADD_FAILURE() << checked->report();
        return {};
    }
    policy::Image image;
    std::string error;
    if (!codegen::generate(checked->modules, checked->model, checked->sm, {"test"}, image, error)) {
        ADD_FAILURE() << error;
        return {};
    }
    auto bytes = bundle::encode(policy::toSections(image));
    if (!bytes) {
        ADD_FAILURE() << bytes.error();
        return {};
    }
    if (!key) return *bytes;
    auto signedBytes = bundle::sign(*bytes, key->privatePem);
    if (!signedBytes) {
        ADD_FAILURE() << signedBytes.error();
        return {};
    }
    return *signedBytes;
}

}  // namespace omega::fixture
