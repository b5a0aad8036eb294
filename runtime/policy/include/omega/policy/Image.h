// The policy image: everything the code generator produces besides the bytecode, as the runtime reads it. The
// compiler fills one in; Serialize.h turns it into bundle sections and back; the interner, the helpers and the
// combiner read it. docs/bytecode.md section 8 says what every table means; docs/bundle.md section 8 how it is
// encoded.
//
// Ids. Strings are indices into `strings`, which is sorted and free of duplicates, so id order is text order.
// Labels are lattice indices. Agents, tools and data resources are indices into their tables, each sorted by
// name. A request value the policy never mentions gets a request-local id above the table (strings) or above the
// lattice (labels); see Interner.h.
#pragma once

#include "omega/isa/Isa.h"
#include "omega/schema/Schema.h"

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace omega::policy {

inline constexpr std::uint32_t kNone = 0xFFFFFFFFu;  // an optional id or index that is not there

// A set reference as a slot or helper argument holds it: a constant set of the image has this bit set, a set of
// the request (interned per request) does not.
inline constexpr std::uint64_t kConstSetTag = std::uint64_t{1} << 32;

// A value of a declaration (agent attribute): present or not, and its slot encoding.
struct SlotValue {
    bool present = false;
    std::uint64_t value = 0;
    friend bool operator==(const SlotValue&, const SlotValue&) = default;
};

struct Lattice {
    std::vector<std::uint32_t> names;  // string ids, by lattice index
    std::vector<std::uint64_t> leq;    // bit a * n + b set when a <= b; (n * n + 63) / 64 words
    std::uint32_t size() const { return static_cast<std::uint32_t>(names.size()); }
    bool le(std::uint64_t a, std::uint64_t b) const {
        const std::uint64_t n = names.size();
        if (a >= n || b >= n) return false;  // a label the policy does not declare is below and above nothing
        const std::uint64_t bit = a * n + b;
        return (leq[bit / 64] >> (bit % 64)) & 1u;
    }
    friend bool operator==(const Lattice&, const Lattice&) = default;
};

// A glob or prefix matcher: true when the string matches any of its patterns.
struct Matcher {
    enum class Kind : std::uint8_t { Glob = 0, Prefix = 1 };
    Kind kind = Kind::Glob;
    std::vector<std::uint32_t> patterns;  // string ids, at least one
    friend bool operator==(const Matcher&, const Matcher&) = default;
};

// `attribute NAME: TYPE;`: attribute k of every agent lives in slot Layout::agentAttribute(k) (the requesting
// agent) and Layout::recipientAttribute(k) (the recipient of a send).
struct Attribute {
    std::uint32_t name = 0;  // string id
    schema::Type type = schema::Type::String;
    friend bool operator==(const Attribute&, const Attribute&) = default;
};

struct Agent {
    std::uint32_t name = 0;             // string id
    std::uint32_t owner = kNone;        // string id
    std::uint32_t measurement = kNone;  // string id of "sha384:<hex>"
    std::vector<SlotValue> attributes;  // one per Image::attributes, in that order
    friend bool operator==(const Agent&, const Agent&) = default;
};

struct Param {
    std::uint32_t name = 0;  // string id
    schema::Type type = schema::Type::String;
    friend bool operator==(const Param&, const Param&) = default;
};

struct Tool {
    std::uint32_t name = 0;       // string id of "server.tool"
    std::uint32_t provider = 0;   // string id of "server"
    std::uint32_t label = kNone;  // lattice index of `returns`
    bool sink = false;
    bool privileged = false;
    std::uint32_t pin = kNone;  // string id of the `pin` hash, "sha256:<64 hex>" or "sha384:<96 hex>"
    // The agents some permit rule for this tool could allow, judged by its target and `by` patterns alone (not its
    // condition, rate limit, consent or `governs` scope): an agent outside it is never allowed the tool. kNone: a
    // permit admits every agent; otherwise a constant set index (agent name string ids), empty when no permit
    // names the tool.
    std::uint32_t callers = kNone;
    std::vector<Param> params;  // at most schema::kMaxToolParams; parameter k is in slot argsSlot() + k
    bool pinned() const { return pin != kNone; }
    friend bool operator==(const Tool&, const Tool&) = default;
};

struct Data {
    std::uint32_t name = 0;        // string id
    std::uint32_t label = kNone;   // lattice index
    std::uint32_t region = kNone;  // string id
    std::uint32_t owner = kNone;   // string id
    std::uint32_t purposes = 0;    // constant set index (string ids)
    std::uint32_t fields = 0;      // constant set index (string ids)
    friend bool operator==(const Data&, const Data&) = default;
};

// A set literal with elements that are not constants (`{agent.team, "ops"}`): the interner builds it per request
// into slot Layout::dynamicSet(j); when an element is absent the slot is absent.
struct DynamicSet {
    struct Element {
        bool fromSlot = false;  // true: the value of slot `value`; false: the constant id `value`
        std::uint32_t value = 0;
        friend bool operator==(const Element&, const Element&) = default;
    };
    std::vector<Element> elements;
    friend bool operator==(const DynamicSet&, const DynamicSet&) = default;
};

struct Rule {
    enum class Kind : std::uint8_t { Permit = 0, Forbid = 1, Obligation = 2 };
    // What a rate limit counts separately (`per KEY`, docs/language.md 5.6): one counter per requesting agent,
    // session.id, request.user or tool name.
    enum class LimitKey : std::uint8_t { Agent = 0, Session = 1, User = 2, Tool = 3 };
    std::uint32_t id = 0;         // string id of "module:line"
    std::uint32_t principal = 0;  // string id
    std::uint32_t module = 0;     // index into Image::modules
    std::uint32_t line = 0;
    Kind kind = Kind::Permit;
    bool limited = false;            // has a rate limit
    std::int64_t limit = 0;          // the limit's count, when limited
    std::int64_t window = 0;         // the window in nanoseconds, > 0 exactly when limited
    LimitKey key = LimitKey::Agent;  // what is counted separately; Agent when not limited
    bool audit = false;
    std::vector<std::uint32_t> redact;   // string ids, sorted, unique
    std::vector<std::uint32_t> approve;  // string ids, sorted, unique
    friend bool operator==(const Rule&, const Rule&) = default;
};

// `require consent for SCOPE;` of one principal.
struct Consent {
    enum class Scope : std::uint8_t { Tool = 0, Data = 1, Agent = 2, Gpu = 3, Net = 4 };
    std::uint32_t principal = 0;  // string id
    Scope scope = Scope::Tool;
    bool any = false;                // the pattern is `*`: every target (every agent) is covered
    std::vector<std::uint32_t> ids;  // otherwise the covered tool, data or agent indices, sorted, unique
    friend bool operator==(const Consent&, const Consent&) = default;
};

struct Module {
    std::uint32_t name = 0;       // string id
    std::uint32_t principal = 0;  // string id
    std::int64_t version = 0;
    bool root = false;
    std::array<std::uint8_t, 32> sourceHash{};  // SHA-256 of the module's source text
    friend bool operator==(const Module&, const Module&) = default;
};

// Where things are in the context of a request (docs/bytecode.md 8.3), given the image's counts.
struct Layout {
    std::uint32_t attributes = 0;
    std::uint32_t dynamicSets = 0;

    static std::uint32_t base() { return schema::contextWords(); }
    std::uint32_t agentAttribute(std::uint32_t k) const { return base() + k; }
    std::uint32_t recipientAttribute(std::uint32_t k) const { return base() + attributes + k; }
    std::uint32_t dynamicSet(std::uint32_t j) const { return base() + 2 * attributes + j; }
    // Value slots end here; presence words for slots 128 and above follow.
    std::uint32_t slots() const { return base() + 2 * attributes + dynamicSets; }
    std::uint32_t words() const { return slots() + (slots() > 128 ? (slots() - 128 + 63) / 64 : 0); }
    // The word and bit that say whether `slot` holds a value.
    std::pair<std::uint32_t, std::uint32_t> presence(std::uint32_t slot) const {
        if (slot < 128) return {4 + slot / 64, slot % 64};
        return {slots() + (slot - 128) / 64, (slot - 128) % 64};
    }
};

struct CostBound {
    std::uint64_t instructions = 0;
    std::uint64_t cost = 0;
    friend bool operator==(const CostBound&, const CostBound&) = default;
};

struct Image {
    std::vector<std::string> strings;              // sorted, unique
    std::vector<std::vector<std::uint64_t>> sets;  // constant sets, each sorted and unique
    std::vector<Matcher> matchers;
    Lattice lattice;
    std::vector<Attribute> attributes;
    std::vector<Agent> agents;  // sorted by name
    std::vector<Tool> tools;    // sorted by name
    std::vector<Data> data;     // sorted by name
    std::vector<DynamicSet> dynamicSets;
    std::vector<Rule> rules;  // in program order (module order, then source order)
    std::vector<Consent> consents;
    std::vector<Module> modules;
    std::string compilerVersion;
    CostBound bound;  // what the verifier proved for `code`
    std::vector<isa::Insn> code;

    Layout layout() const {
        return {static_cast<std::uint32_t>(attributes.size()), static_cast<std::uint32_t>(dynamicSets.size())};
    }
    const std::string& text(std::uint32_t id) const { return strings[id]; }
    friend bool operator==(const Image&, const Image&) = default;
};

}  // namespace omega::policy
