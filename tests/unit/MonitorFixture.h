// Test support for the monitor: policy texts compiled into signed bundles, and fresh Ed25519 keys.
#pragma once

#include "omega/bundle/Keys.h"

#include <cstdint>
#include <string>
#include <vector>

namespace omega::fixture {

struct KeyPair {
    std::string privatePem, publicPem;
    bundle::PrivateKey priv() const;
    bundle::PublicKey pub() const;
};

// A new Ed25519 key pair (OpenSSL).
KeyPair newKey();

// Checks and compiles module texts into a bundle signed by `key` (unsigned when the key is empty). Aborts the test
// (through a GoogleTest failure and an empty result) when the texts do not check.
std::vector<std::uint8_t> compileBundle(const std::vector<std::string>& texts, const KeyPair* key);

}  // namespace omega::fixture
