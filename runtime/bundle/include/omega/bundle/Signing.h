// Signing and verifying bundles: a signature covers the domain tag followed by the measurement; a bundle verifies
// when at least one signature by a trusted key is valid.
#pragma once

#include "omega/bundle/Bundle.h"
#include "omega/bundle/Keys.h"
#include "omega/bundle/Result.h"

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace omega::bundle {

// kDomainTag followed by the measurement: the 64 bytes every signature signs.
std::array<std::uint8_t, kDomainTag.size() + kMeasurementSize> signingMessage(const Measurement& measurement);

// Decodes `bundle` and returns it with `key`'s signature added to the signatures section, replacing an earlier
// signature by the same key. Bytes [0, signed length) are copied unchanged except the two fields the measurement
// ignores, so the measurement and the other signatures stay valid.
Result<std::vector<std::uint8_t>> sign(std::span<const std::uint8_t> bundle, const PrivateKey& key,
                                       const Limits& limits = {});
Result<std::vector<std::uint8_t>> sign(std::span<const std::uint8_t> bundle, std::string_view privateKeyPem,
                                       const Limits& limits = {});

// Signs any message: Ed25519 signs the message itself, ECDSA P-384 its SHA-384 digest (a DER ECDSA-Sig-Value).
// For other signed formats (the decision log's checkpoints) that put their own domain tag in the message.
Result<std::vector<std::uint8_t>> signMessage(const PrivateKey& key, std::span<const std::uint8_t> message);
// True when `signature` is `key`'s valid signature of `message` (as signMessage makes them).
bool verifySignature(const PublicKey& key, std::span<const std::uint8_t> message,
                     std::span<const std::uint8_t> signature);
// The public half of a private key, with the same key id.
Result<PublicKey> publicKeyOf(const PrivateKey& key);

// The id of the first trusted key whose signature is valid. Otherwise an error starting with the failed check:
// "no signatures", "no trusted key" or "bad signature".
Result<KeyId> verify(const Bundle& bundle, const std::vector<PublicKey>& trusted);

}  // namespace omega::bundle
