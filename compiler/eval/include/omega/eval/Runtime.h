// Bridges from the reference evaluator's request and decision to the runtime's (omega_policy): `omegac test` and
// the differential tests decide the same request both ways and compare.
#pragma once

#include "omega/eval/Evaluator.h"
#include "omega/policy/Engine.h"

#include <string>

namespace omega::eval {

// The same request in the runtime's form; rate-limit counters from `state`.
policy::Request toPolicy(const Request& request, const State& state = {});

// Empty when the bytecode's decision says what the evaluator's does (allow, deciding rules, missing consent,
// obligations); otherwise what differs, for people.
std::string compareDecisions(const Decision& reference, const policy::Decision& bytecode, const policy::Image& image);

}  // namespace omega::eval
