#include "omega/attest/Merkle.h"

#include <openssl/sha.h>

#include <algorithm>

namespace omega::attest {

namespace {

// SHA-256(prefix || a || b) with RFC 6962's one-byte domain separation.
Sha256 hashWithPrefix(std::uint8_t prefix, std::span<const std::uint8_t> a, std::span<const std::uint8_t> b = {}) {
    std::uint8_t buffer[1 + 2 * 32];
    std::vector<std::uint8_t> large;
    std::uint8_t* data = buffer;
    const std::size_t n = 1 + a.size() + b.size();
    if (n > sizeof buffer) {
        large.resize(n);
        data = large.data();
    }
    data[0] = prefix;
    std::copy(a.begin(), a.end(), data + 1);
    std::copy(b.begin(), b.end(), data + 1 + a.size());
    Sha256 out{};
    SHA256(data, n, out.data());
    return out;
}

void appendLe(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void appendString(std::vector<std::uint8_t>& out, const std::string& s) {
    appendLe(out, s.size(), 4);
    out.insert(out.end(), s.begin(), s.end());
}

// The largest power of two smaller than n (n >= 2): RFC 6962's split point.
std::uint64_t split(std::uint64_t n) {
    std::uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
}

Sha256 subtreeRoot(std::span<const Sha256> leaves) {
    if (leaves.size() == 1) return leaves[0];
    const std::uint64_t k = split(leaves.size());
    const Sha256 left = subtreeRoot(leaves.subspan(0, k));
    const Sha256 right = subtreeRoot(leaves.subspan(k));
    return hashWithPrefix(0x01, left, right);
}

void auditPath(std::span<const Sha256> leaves, std::uint64_t index, std::vector<Sha256>& path) {
    if (leaves.size() <= 1) return;
    const std::uint64_t k = split(leaves.size());
    if (index < k) {
        auditPath(leaves.subspan(0, k), index, path);
        path.push_back(subtreeRoot(leaves.subspan(k)));
    } else {
        auditPath(leaves.subspan(k), index - k, path);
        path.push_back(subtreeRoot(leaves.subspan(0, k)));
    }
}

}  // namespace

std::vector<ModuleLeaf> moduleLeaves(const policy::Image& image) {
    std::vector<ModuleLeaf> out;
    out.reserve(image.modules.size());
    auto str = [&](std::uint32_t id) { return id < image.strings.size() ? image.strings[id] : std::string(); };
    for (const policy::Module& m : image.modules)
        out.push_back(ModuleLeaf{str(m.name), str(m.principal), m.version, m.root, m.sourceHash});
    return out;
}

Sha256 leafHash(const ModuleLeaf& leaf) {
    std::vector<std::uint8_t> data;
    appendString(data, leaf.name);
    appendString(data, leaf.principal);
    appendLe(data, static_cast<std::uint64_t>(leaf.version), 8);
    data.push_back(leaf.root ? 1 : 0);
    data.insert(data.end(), leaf.sourceHash.begin(), leaf.sourceHash.end());
    return hashWithPrefix(0x00, data);
}

Sha256 merkleRoot(std::span<const Sha256> leaves) {
    if (leaves.empty()) {
        Sha256 out{};
        SHA256(nullptr, 0, out.data());
        return out;
    }
    return subtreeRoot(leaves);
}

Sha256 modulesRoot(const std::vector<ModuleLeaf>& leaves) {
    std::vector<Sha256> hashes;
    hashes.reserve(leaves.size());
    for (const ModuleLeaf& l : leaves) hashes.push_back(leafHash(l));
    return merkleRoot(hashes);
}

InclusionProof proveInclusion(std::span<const Sha256> leaves, std::uint64_t index) {
    InclusionProof proof;
    proof.index = index;
    proof.size = leaves.size();
    if (index < leaves.size()) auditPath(leaves, index, proof.path);
    return proof;
}

Result<Sha256> rootFromProof(const Sha256& leaf, const InclusionProof& proof) {
    // RFC 9162 section 2.1.3.2: walk up from the leaf; the path must be used exactly.
    if (proof.size == 0 || proof.index >= proof.size)
        return Error{"proof: leaf index " + std::to_string(proof.index) + " is outside a tree of " +
                     std::to_string(proof.size) + " leaves"};
    std::uint64_t fn = proof.index, sn = proof.size - 1;
    Sha256 r = leaf;
    for (const Sha256& p : proof.path) {
        if (sn == 0) return Error{"proof: the path is longer than a tree of this size needs"};
        if ((fn & 1) == 1 || fn == sn) {
            r = hashWithPrefix(0x01, p, r);
            if ((fn & 1) == 0) {
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = hashWithPrefix(0x01, r, p);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0) return Error{"proof: the path is shorter than a tree of this size needs"};
    return r;
}

}  // namespace omega::attest
