// Shared by the benchmarks that start real services (omegad, omega-gate): a fresh Ed25519 key pair as PEM text and
// a file writer, for the keys, bundles and configurations they put in their temporary directories.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <string>
#include <string_view>

namespace omega::bench {

struct KeyPems {
    std::string privatePem, publicPem;
};

// A fresh Ed25519 key pair as PEM text (empty on failure).
inline KeyPems newKey() {
    KeyPems out;
    EVP_PKEY* key = nullptr;
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
    if (ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &key) == 1) {
        for (bool priv : {true, false}) {
            BIO* bio = BIO_new(BIO_s_mem());
            const int ok = priv ? PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr)
                                : PEM_write_bio_PUBKEY(bio, key);
            char* data = nullptr;
            const long n = BIO_get_mem_data(bio, &data);
            if (ok == 1 && n > 0) (priv ? out.privatePem : out.publicPem).assign(data, static_cast<std::size_t>(n));
            BIO_free(bio);
        }
    }
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(ctx);
    return out;
}

inline void writeFile(const std::string& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace omega::bench
