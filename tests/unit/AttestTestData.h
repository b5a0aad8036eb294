// The real Milan report and chain of tests/data/sev-snp (README.md there), for the attestation unit tests.
#pragma once

#include "omega/attest/Certs.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace omega::attest::testdata {

using Bytes = std::vector<std::uint8_t>;

inline Bytes read(const std::string& name) {
    std::ifstream in(std::string(OMEGA_SOURCE_DIR) + "/tests/data/sev-snp/" + name, std::ios::binary);
    EXPECT_TRUE(in) << "cannot open tests/data/sev-snp/" << name;
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline Bytes milanReport() {
    return read("milan-report.bin");
}

// VCEK, then ASK and ARK in the order of the PEM file.
inline std::vector<Certificate> milanChain() {
    std::vector<Certificate> chain;
    for (const char* name : {"milan-vcek.der", "milan-ask-ark.pem"}) {
        auto parsed = parseCertificates(read(name));
        EXPECT_TRUE(parsed.ok()) << name << ": " << (parsed.ok() ? "" : parsed.error());
        if (parsed) chain.insert(chain.end(), parsed->begin(), parsed->end());
    }
    return chain;
}

// 2024-01-01T00:00:00Z: inside the validity of every certificate of the Milan chain.
inline constexpr std::int64_t kMilanNow = 1704067200;

}  // namespace omega::attest::testdata
