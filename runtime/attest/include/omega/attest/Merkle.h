// The bundle's module tree: each module (name, principal, version, root flag, SHA-256 of its source text) is a leaf
// of a Merkle tree with RFC 6962's shape and domain separation (leaf 0x00, node 0x01, SHA-256), in the bundle's
// module order. The root is in every attestation binding; an inclusion proof lets a principal holding only its own
// module's source check that the module is in the attested policy without seeing the others.
#pragma once

#include "omega/attest/Binding.h"
#include "omega/policy/Image.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace omega::attest {

struct ModuleLeaf {
    std::string name;
    std::string principal;
    std::int64_t version = 0;
    bool root = false;
    Sha256 sourceHash{};
};

// The leaves of a loaded image, in module order.
std::vector<ModuleLeaf> moduleLeaves(const policy::Image& image);

Sha256 leafHash(const ModuleLeaf& leaf);
Sha256 merkleRoot(std::span<const Sha256> leaves);  // SHA-256 of nothing for no leaves
Sha256 modulesRoot(const std::vector<ModuleLeaf>& leaves);

struct InclusionProof {
    std::uint64_t index = 0;   // the leaf's position
    std::uint64_t size = 0;    // the number of leaves
    std::vector<Sha256> path;  // RFC 6962 audit path, bottom up
};
InclusionProof proveInclusion(std::span<const Sha256> leaves, std::uint64_t index);
// The root that `leaf` and `proof` lead to, or an error when the proof's shape is impossible for its size.
Result<Sha256> rootFromProof(const Sha256& leaf, const InclusionProof& proof);

}  // namespace omega::attest
