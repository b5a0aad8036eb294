// The JSON forms of requests and decisions (docs/requests.md): what `omegac eval` reads and prints, and what the
// analyser's witnesses, the daemon and the gateway will use.
#pragma once

#include "omega/eval/Evaluator.h"

#include <optional>
#include <string>

namespace omega::eval {

struct RequestLimits {
    std::size_t maxBytes = 1u << 20;  // one request document
    std::size_t maxString = 65536;    // bytes in one string value
    std::size_t maxSetItems = 4096;   // elements of one set value
};

// Parses and types one request against the program's declarations. On failure returns nothing and sets `error`
// to a message naming the offending member (for example "args.amount: expected an integer").
std::optional<Request> requestFromJson(const std::string& text, const sema::Model& model, State& state,
                                       std::string& error, const RequestLimits& limits = {});

// One line of JSON: {"decision":"allow","reason":...,"rules":[...],"principals":[...],"obligations":{...}}.
std::string decisionToJson(const Decision& d);
// A deny for a request that could not be decoded: {"decision":"deny","error":...}.
std::string errorDecisionJson(const std::string& error);

}  // namespace omega::eval
