// The REPORT_DATA binding and the module tree (docs/attestation.md): the byte layout, pinned vectors computed
// independently (Python's hashlib, as the document shows), and inclusion proofs for every leaf of trees of many
// sizes, with every kind of tampering rejected.
#include "omega/attest/Binding.h"
#include "omega/attest/Merkle.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <cstring>

namespace omega::attest {
namespace {

template <std::size_t N>
std::array<std::uint8_t, N> filled(std::uint8_t b) {
    std::array<std::uint8_t, N> a{};
    a.fill(b);
    return a;
}

Binding sample() {
    Binding b;
    b.measurement = filled<48>(0x11);
    b.modulesRoot = filled<32>(0x22);
    b.logSeq = 7;
    b.logHash = filled<32>(0x33);
    b.nonce = filled<32>(0x44);
    return b;
}

TEST(Binding, MessageLayout) {
    Binding b = sample();
    b.gpuEvidence = filled<48>(0x55);
    const std::string m = bindingMessage(b);
    ASSERT_EQ(m.size(), 217u);
    EXPECT_EQ(std::memcmp(m.data(), "omega-attest-v1\0", 16), 0);
    EXPECT_EQ(m.substr(16, 48), std::string(48, '\x11'));
    EXPECT_EQ(m.substr(64, 32), std::string(32, '\x22'));
    EXPECT_EQ(m.substr(96, 8), std::string("\x07\0\0\0\0\0\0\0", 8));  // little-endian
    EXPECT_EQ(m.substr(104, 32), std::string(32, '\x33'));
    EXPECT_EQ(m.substr(136, 32), std::string(32, '\x44'));
    EXPECT_EQ(m[168], '\x01');
    EXPECT_EQ(m.substr(169, 48), std::string(48, '\x55'));
}

TEST(Binding, PinnedVectors) {
    // python3: hashlib.sha512(b"omega-attest-v1\0" + b"\x11"*48 + b"\x22"*32 + struct.pack("<Q", 7) +
    //          b"\x33"*32 + b"\x44"*32 + b"\x00" + b"\x00"*48).hexdigest()
    Binding b = sample();
    EXPECT_EQ(toHex(reportData(b)),
              "f8aed3e376ca7475ca1d2d59a5f329727de7686a423d447ca2e0c72de57be88ba7e84810e963e53b77a847103441ef063a5b844f"
              "171501e059c68b9bd6dce5f0");
    b.gpuEvidence = filled<48>(0x55);  // flag byte 1, then the digest
    EXPECT_EQ(toHex(reportData(b)),
              "dea284029efb7a840711f2383a042e96a8d9360643fe54505839b390adc67a91bf34cd1458406e0eec3f185a7420a6a0e0294f43"
              "03c2a54ad6fdb4926224e925");
}

TEST(Binding, EveryInputChangesTheResult) {
    const ReportData base = reportData(sample());
    std::vector<Binding> changed(7, sample());
    changed[0].measurement[47] ^= 1;
    changed[1].modulesRoot[0] ^= 1;
    changed[2].logSeq = 8;
    changed[3].logHash[5] ^= 1;
    changed[4].nonce[31] ^= 1;
    changed[5].gpuEvidence = Sha384{};  // present but zero differs from absent
    changed[6].logSeq = 7ull << 32;
    for (const Binding& b : changed) EXPECT_NE(reportData(b), base);
}

TEST(Binding, Nonce) {
    EXPECT_TRUE(parseNonce(std::string(64, 'a')).ok());
    EXPECT_TRUE(parseNonce(std::string(64, 'F')).ok());
    auto shortNonce = parseNonce("0123456789");
    ASSERT_FALSE(shortNonce.ok());
    EXPECT_EQ(shortNonce.error(), "nonce: 10 hex digits, expected 64 (32 bytes)");
    EXPECT_FALSE(parseNonce(std::string(66, '0')).ok());
    auto bad = parseNonce(std::string(63, '0') + "g");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error(), "nonce: character 64 is not a hex digit");
    EXPECT_FALSE(parseNonce("").ok());
}

TEST(Binding, Hex) {
    const std::array<std::uint8_t, 3> bytes{0x00, 0xab, 0xff};
    EXPECT_EQ(toHex(bytes), "00abff");
    EXPECT_EQ(fromHex<32>(std::string(64, 'A')), filled<32>(0xaa));
    EXPECT_FALSE(fromHex<32>(std::string(62, 'a')).has_value());
    EXPECT_FALSE(fromHex<32>(std::string(63, 'a') + " ").has_value());
}

// ---- the module tree ----

Sha256 sha256(std::string_view s) {
    Sha256 out{};
    SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), out.data());
    return out;
}

Sha256 node(const Sha256& l, const Sha256& r) {
    std::string m(1, '\x01');
    m.append(reinterpret_cast<const char*>(l.data()), 32);
    m.append(reinterpret_cast<const char*>(r.data()), 32);
    return sha256(m);
}

std::vector<Sha256> leaves(std::size_t n) {
    std::vector<Sha256> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(sha256("leaf " + std::to_string(i)));
    return out;
}

TEST(Merkle, LeafHashIsPinned) {
    // python3: d = pack("<I",6)+b"clinic"+pack("<I",21)+b"tenant:clinic.example"+pack("<q",3)+b"\x01"+b"\x66"*32;
    //          hashlib.sha256(b"\x00" + d).hexdigest()
    ModuleLeaf leaf{"clinic", "tenant:clinic.example", 3, true, filled<32>(0x66)};
    EXPECT_EQ(toHex(leafHash(leaf)), "0db2ac2d709cba20688e67d0da5c0ee25ae2c276d031b5ed7e75853740a96f2f");
    ModuleLeaf other = leaf;
    other.root = false;
    EXPECT_NE(leafHash(other), leafHash(leaf));
    other = leaf;
    other.version = 4;
    EXPECT_NE(leafHash(other), leafHash(leaf));
    // The length prefixes keep ("ab", "c") and ("a", "bc") apart.
    ModuleLeaf a{"ab", "c", 1, false, {}}, b{"a", "bc", 1, false, {}};
    EXPECT_NE(leafHash(a), leafHash(b));
}

TEST(Merkle, RfcShape) {
    const auto l = leaves(5);
    EXPECT_EQ(merkleRoot({}), sha256(""));
    EXPECT_EQ(merkleRoot(std::span(l).first(1)), l[0]);
    EXPECT_EQ(merkleRoot(std::span(l).first(2)), node(l[0], l[1]));
    EXPECT_EQ(merkleRoot(std::span(l).first(3)), node(node(l[0], l[1]), l[2]));
    EXPECT_EQ(merkleRoot(std::span(l).first(5)), node(node(node(l[0], l[1]), node(l[2], l[3])), l[4]));
}

TEST(Merkle, EveryLeafOfEverySizeProves) {
    for (std::size_t n = 1; n <= 40; ++n) {
        const auto l = leaves(n);
        const Sha256 root = merkleRoot(l);
        for (std::size_t i = 0; i < n; ++i) {
            const InclusionProof p = proveInclusion(l, i);
            auto r = rootFromProof(l[i], p);
            ASSERT_TRUE(r.ok()) << n << " " << i << ": " << r.error();
            EXPECT_EQ(*r, root) << n << " " << i;
            // Another leaf, another index, a flipped path entry, a path too short or too long: never the root.
            if (n > 1) {
                auto wrongLeaf = rootFromProof(l[(i + 1) % n], p);
                EXPECT_TRUE(!wrongLeaf.ok() || *wrongLeaf != root);
                InclusionProof q = p;
                q.index = (i + 1) % n;
                auto wrongIndex = rootFromProof(l[i], q);
                EXPECT_TRUE(!wrongIndex.ok() || *wrongIndex != root);
                for (std::size_t k = 0; k < p.path.size(); ++k) {
                    q = p;
                    q.path[k][0] ^= 1;
                    auto flipped = rootFromProof(l[i], q);
                    EXPECT_TRUE(!flipped.ok() || *flipped != root);
                }
                q = p;
                q.path.pop_back();
                EXPECT_FALSE(rootFromProof(l[i], q).ok());
            }
            InclusionProof longer = p;
            longer.path.push_back(root);
            EXPECT_FALSE(rootFromProof(l[i], longer).ok());
        }
    }
}

TEST(Merkle, ImpossibleProofs) {
    InclusionProof p;
    p.size = 0;
    EXPECT_FALSE(rootFromProof({}, p).ok());
    p.size = 4;
    p.index = 4;
    auto r = rootFromProof({}, p);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), "proof: leaf index 4 is outside a tree of 4 leaves");
}

}  // namespace
}  // namespace omega::attest
