// A request as the runtime receives it, before interning: names and typed values, the same content as the JSON
// of docs/requests.md. The JSON decoder (Json.h) produces one; the interner (Interner.h) turns it into a context.
#pragma once

#include "omega/schema/Schema.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace omega::policy {

// Sizes are bytes and durations nanoseconds (Kind::Int); labels are label names; hashes "sha256:<hex>".
struct Value {
    enum class Kind : std::uint8_t { Bool, Int, String, Label, Hash, StringSet, LabelSet };
    Kind kind = Kind::Bool;
    std::int64_t number = 0;         // Bool (0 or 1), Int
    std::string text;                // String, Label, Hash
    std::vector<std::string> items;  // StringSet, LabelSet: sorted, unique
    friend bool operator==(const Value&, const Value&) = default;
};

struct Request {
    schema::Action action = schema::Action::Tool;
    std::string target;                                        // tool or data resource (tool, read, write)
    std::string agent;                                         // the requesting agent (the sender of a send)
    std::string recipient;                                     // send only
    std::vector<std::pair<std::string, Value>> args;           // by parameter name
    std::vector<std::pair<std::string, Value>> fields;         // supplied fields by "root.field"
    std::vector<std::pair<std::string, std::int64_t>> counts;  // rate-limit counters by rule id ("module:line")
};

// The runtime's answer. Ids index the image: rules into Image::rules, the rest are string ids.
struct Decision {
    bool allow = false;
    std::vector<std::uint32_t> rules;           // deciding rules in rule order: forbids on a deny, permits on an allow
    std::vector<std::uint32_t> consentMissing;  // principals, in consent order
    bool forbidOnUnknown = false;               // a deciding forbid matched on an unknown condition
    bool audit = false;
    std::vector<std::uint32_t> redact;   // sorted string ids (so sorted by text)
    std::vector<std::uint32_t> approve;  // sorted string ids
    std::string error;                   // set when the request could not be decided: the answer is deny
};

}  // namespace omega::policy
