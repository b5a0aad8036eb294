#include "omega/attest/Binding.h"

#include <openssl/sha.h>

#include <algorithm>

namespace omega::attest {

namespace {

void appendLe64(std::string& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

template <std::size_t N>
void appendBytes(std::string& out, const std::array<std::uint8_t, N>& bytes) {
    out.append(reinterpret_cast<const char*>(bytes.data()), N);
}

int hexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string bindingMessage(const Binding& b) {
    std::string m;
    m.reserve(217);
    m.append(kBindingTag, sizeof kBindingTag);
    appendBytes(m, b.measurement);
    appendBytes(m, b.modulesRoot);
    appendLe64(m, b.logSeq);
    appendBytes(m, b.logHash);
    appendBytes(m, b.nonce);
    m.push_back(b.gpuEvidence ? '\x01' : '\x00');
    appendBytes(m, b.gpuEvidence.value_or(Sha384{}));
    return m;
}

ReportData reportData(const Binding& binding) {
    const std::string m = bindingMessage(binding);
    ReportData out{};
    SHA512(reinterpret_cast<const unsigned char*>(m.data()), m.size(), out.data());
    return out;
}

std::optional<std::vector<std::uint8_t>> fromHexBytes(std::string_view text) {
    if (text.size() % 2 != 0) return std::nullopt;
    std::vector<std::uint8_t> out(text.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = hexDigit(text[2 * i]), lo = hexDigit(text[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return out;
}

template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> fromHex(std::string_view text) {
    if (text.size() != 2 * N) return std::nullopt;
    auto bytes = fromHexBytes(text);
    if (!bytes) return std::nullopt;
    std::array<std::uint8_t, N> out{};
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
}
template std::optional<std::array<std::uint8_t, 32>> fromHex<32>(std::string_view);
template std::optional<std::array<std::uint8_t, 48>> fromHex<48>(std::string_view);
template std::optional<std::array<std::uint8_t, 64>> fromHex<64>(std::string_view);

Result<Nonce> parseNonce(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (hexDigit(text[i]) < 0) return Error{"nonce: character " + std::to_string(i + 1) + " is not a hex digit"};
    }
    if (text.size() != 2 * kNonceSize)
        return Error{"nonce: " + std::to_string(text.size()) + " hex digits, expected " +
                     std::to_string(2 * kNonceSize) + " (" + std::to_string(kNonceSize) + " bytes)"};
    return *fromHex<kNonceSize>(text);
}

}  // namespace omega::attest
