// One loaded bundle and what the monitor derives from it once: the engine, its measurement, the rate-limited rules
// of each action with the identity their counters are kept under, and the slots of the state fields.
#pragma once

#include "omega/attest/Binding.h"
#include "omega/bundle/Bundle.h"
#include "omega/policy/Engine.h"
#include "omega/schema/Schema.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace omega::monitor {

class Snapshot {
public:
    // A rate-limited rule. Its counters are found by `identity`, which names everything that gives a count its
    // meaning (id, kind, limit, window, key): a reload keeps the counters of rules whose identity is unchanged.
    struct Limited {
        std::uint32_t rule = 0;
        std::string identity;
        policy::Rule::LimitKey key = policy::Rule::LimitKey::Agent;
        bool forbid = false;
        std::int64_t limit = 0;
        std::int64_t window = 0;
    };

    Snapshot(policy::Engine e, const bundle::Measurement& m, std::uint64_t g);

    policy::Engine engine;
    bundle::Measurement measurement;
    attest::Sha256 modulesRoot{};  // of the image's module tree (omega/attest/Merkle.h), for attestation
    std::uint64_t generation = 0;
    std::vector<Limited> limited;                     // by rule index; meaningful where the rule is limited
    std::vector<const schema::Field*> suppliedField;  // by slot: the supplied field kept there, or null
    std::uint32_t slotSessionId = 0, slotUser = 0, slotTaint = 0, slotApprovals = 0;

    // The text of a string slot when present.
    bool slotText(const policy::Interned& in, std::uint32_t slot, std::string_view& text) const;
};

}  // namespace omega::monitor
