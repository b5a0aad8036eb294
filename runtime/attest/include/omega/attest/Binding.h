// What a report says about the policy: REPORT_DATA is SHA-512 over a domain tag, the bundle measurement, the root
// of the bundle's module tree, the decision-log head, the relying party's nonce and an optional digest of the
// confidential GPU's evidence (docs/attestation.md, "The binding", byte for byte).
#pragma once

#include "omega/attest/Report.h"
#include "omega/bundle/Bundle.h"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace omega::attest {

inline constexpr std::size_t kNonceSize = 32;
inline constexpr char kBindingTag[16] = "omega-attest-v1";  // 15 characters and a NUL: 16 bytes

using Nonce = std::array<std::uint8_t, kNonceSize>;
using Sha256 = std::array<std::uint8_t, 32>;
using Sha384 = std::array<std::uint8_t, 48>;

struct Binding {
    Sha384 measurement{};      // the bundle's (docs/bundle.md section 2)
    Sha256 modulesRoot{};      // the root of its module tree (Merkle.h)
    std::uint64_t logSeq = 0;  // the decision log's head: the last record's seq (0: no record, or no log)
    Sha256 logHash{};          // and its chain hash (zeros with seq 0)
    Nonce nonce{};
    std::optional<Sha384> gpuEvidence;  // SHA-384 of the GPU's attestation evidence, when folded in
};

// The 217 bytes that are hashed, in order (exposed for the documentation's test vector).
std::string bindingMessage(const Binding& binding);
ReportData reportData(const Binding& binding);

// Hex helpers shared by the CLI and the daemon: exact sizes, lowercase or uppercase digits, nothing else.
using bundle::toHex;
template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> fromHex(std::string_view text);
extern template std::optional<std::array<std::uint8_t, 32>> fromHex<32>(std::string_view);
extern template std::optional<std::array<std::uint8_t, 48>> fromHex<48>(std::string_view);
extern template std::optional<std::array<std::uint8_t, 64>> fromHex<64>(std::string_view);
// Any even number of hex digits.
std::optional<std::vector<std::uint8_t>> fromHexBytes(std::string_view text);

// A nonce from text: exactly 64 hex digits. The error says what was wrong ("nonce: 10 hex digits, expected 64").
Result<Nonce> parseNonce(std::string_view text);

}  // namespace omega::attest
