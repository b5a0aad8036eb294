// Loading a policy bundle from untrusted bytes: the container is decoded strictly, a signature by a trusted key is
// required when keys are given, the sections are decoded and validated into an image, and its bytecode is verified
// again. The result is an engine ready to decide, or the first check that failed.
#pragma once

#include "omega/bundle/Bundle.h"
#include "omega/bundle/Keys.h"
#include "omega/policy/Engine.h"

#include <cstdint>
#include <span>
#include <vector>

namespace omega::policy {

struct LoadOptions {
    // Keys whose signature is accepted. Empty: signatures are not checked (for tools such as `omegac disasm`);
    // the monitor always passes its trusted keys.
    std::vector<bundle::PublicKey> trusted;
    bundle::Limits limits;
};

struct Loaded {
    bundle::Measurement measurement;
    std::optional<bundle::KeyId> signer;  // the trusted key that vouched for it, when keys were given
    Engine engine;
};

Result<Loaded> load(std::span<const std::uint8_t> bytes, const LoadOptions& options);

}  // namespace omega::policy
