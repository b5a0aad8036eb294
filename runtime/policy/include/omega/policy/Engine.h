// The decision engine of the reference monitor: a policy image with its verified program, the interning of a
// request into the program's context, the eight helpers, and the combiner that turns the rules the program
// reported into a decision (docs/bytecode.md 8). Everything that goes wrong is a deny with an error: an unknown
// agent or tool, a mistyped value, a helper handed an out-of-range reference, a run out of fuel.
#pragma once

#include "omega/bundle/Result.h"
#include "omega/policy/Image.h"
#include "omega/policy/Request.h"
#include "omega/vm/Verifier.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace omega::policy {

template <typename T>
using Result = bundle::Result<T>;

// A request interned for one program: the context the bytecode reads, and what the helpers need besides it.
// Reusable: intern() clears it and keeps its capacity.
struct Interned {
    std::vector<std::uint64_t> context;
    std::vector<std::string> localStrings;                       // string id strings.size() + i
    std::vector<std::string> localLabels;                        // label id lattice.size() + i
    std::vector<std::vector<std::uint64_t>> sets;                // request sets by handle; each sorted, unique
    std::size_t setsUsed = 0;                                    // handles in use: [0, setsUsed); the rest is spare
    std::vector<std::pair<std::uint32_t, std::int64_t>> counts;  // rate-limit counters by rule index, sorted
};

// Per-call scratch space of decide(), reusable across calls (it keeps its capacity).
struct Scratch {
    std::vector<std::pair<std::uint32_t, std::uint8_t>> matches;  // (rule, 0-2 value) as the program reported them
    std::string fault;                                            // the first helper fault of this run
};

class Engine {
public:
    // Validates the image, verifies its code against the image's limits and checks that the verifier's cost bound
    // is the one the image states.
    static Result<Engine> make(Image image);

    const Image& image() const { return image_; }
    const vm::Verified& program() const { return verified_; }

    // Fills `out` from `request`; false with `error` set when the request does not fit the policy. With `complete`
    // false it stops before finish(), so that the caller can add state first.
    bool intern(const Request& request, Interned& out, std::string& error, bool complete = true) const;

    // Interning in steps, for callers that hold ids already (the monitor's request builder and its state):
    // begin() fills the header and every derived field from the declarations (target, agent and recipient are
    // table indices; kNone where the action has none), then the caller sets supplied fields, arguments and
    // counters, then finish() builds the set literals that read request values and orders the counters. Nothing
    // here allocates once `out` has grown to the request's size.
    bool begin(schema::Action action, std::uint32_t target, std::uint32_t agent, std::uint32_t recipient, Interned& out,
               std::string& error) const;
    void setSlot(Interned& out, std::uint32_t slot, std::uint64_t value) const;
    std::uint64_t internString(Interned& out, std::string_view text) const;  // a table id or a request-local one
    std::uint64_t internLabel(Interned& out, std::string_view name) const;
    std::uint64_t internSet(Interned& out, std::span<const std::uint64_t> items) const;  // a set handle
    bool setCount(Interned& out, std::uint32_t rule, std::int64_t count) const;          // false: no such rule
    void finish(Interned& out) const;
    // Runs the program on an interned request and combines the result. Never throws; errors deny.
    void decide(const Interned& interned, Scratch& scratch, Decision& out) const;
    // decide() in two steps, for the monitor: evaluate() runs the program (resetting `out`; false with out.error
    // set on a fault), leaving in `scratch.matches` the rules whose bodies matched; rate counters are read only by
    // combine(), so they can be added to `interned` in between, for just the limited rules that matched.
    bool evaluate(const Interned& interned, Scratch& scratch, Decision& out) const;
    void combine(const Interned& interned, Scratch& scratch, Decision& out) const;
    // intern + decide.
    Decision decide(const Request& request) const;

    // Lookups by name (binary search over the sorted tables); kNone when absent.
    std::uint32_t stringId(std::string_view text) const;
    std::uint32_t agentIndex(std::string_view name) const;
    std::uint32_t toolIndex(std::string_view name) const;
    std::uint32_t dataIndex(std::string_view name) const;
    std::uint32_t labelIndex(std::string_view name) const;
    std::uint32_t ruleIndex(std::string_view id) const;

    // The text of a string id as the helpers see it (the table, or a request-local string).
    const std::string* text(const Interned& interned, std::uint64_t id) const;

private:
    Engine(Image image, vm::Verified verified);

    Image image_;
    vm::Verified verified_;
    std::vector<std::uint32_t> labelOfString_;  // string id -> lattice index or kNone
    std::vector<std::uint32_t> ruleOfString_;   // string id -> rule index or kNone
};

}  // namespace omega::policy
