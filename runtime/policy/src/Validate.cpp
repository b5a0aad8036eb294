// validate(): every cross-reference and invariant of a policy image (docs/bundle.md 8.8), checked in section order;
// the first violation is reported as "SECTION: <table> <index>: <field>: <problem>".
#include "omega/policy/Serialize.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace omega::policy {

namespace {

using bundle::Error;

std::string num(std::uint64_t v) {
    return std::to_string(v);
}

Error fail(const char* section, const std::string& what) {
    return Error{std::string(section) + ": " + what};
}

std::string at(const char* table, std::size_t index) {
    return std::string(table) + " " + num(index) + ": ";
}

const char* typeName(schema::Type type) {
    static constexpr const char* names[] = {"bool", "int",         "string",     "size",  "duration", "label",
                                            "hash", "set<string>", "set<label>", "agent", "kernel"};
    const auto i = static_cast<std::size_t>(type);
    return i < std::size(names) ? names[i] : nullptr;
}

const char* scopeName(Consent::Scope scope) {
    static constexpr const char* names[] = {"tool", "data", "agent", "gpu", "net"};
    return names[static_cast<std::size_t>(scope)];  // INVARIANT: called only with a known scope
}

// Each returns what is wrong with a reference, or nothing.
std::optional<std::string> badString(const Image& image, std::uint32_t id) {
    if (id < image.strings.size()) return std::nullopt;
    return "string id " + num(id) + " is out of range (the string table has " + num(image.strings.size()) + " strings)";
}

std::optional<std::string> badOptionalString(const Image& image, std::uint32_t id) {
    if (id == kNone) return std::nullopt;
    return badString(image, id);
}

std::optional<std::string> badLabel(const Image& image, std::uint32_t index) {
    if (index < image.lattice.size()) return std::nullopt;
    return "lattice index " + num(index) + " is out of range (the lattice has " + num(image.lattice.size()) +
           " labels)";
}

std::optional<std::string> badOptionalLabel(const Image& image, std::uint32_t index) {
    if (index == kNone) return std::nullopt;
    return badLabel(image, index);
}

std::optional<std::string> badSet(const Image& image, std::uint32_t index) {
    if (index < image.sets.size()) return std::nullopt;
    return "set index " + num(index) + " is out of range (the image has " + num(image.sets.size()) + " constant sets)";
}

std::optional<std::string> badFieldType(schema::Type type, const char* what) {
    const char* name = typeName(type);
    if (name == nullptr) return "unknown type " + num(static_cast<std::uint8_t>(type));
    if (type == schema::Type::Agent || type == schema::Type::Kernel) {
        return std::string(name) + " is not a type " + what + " can have";
    }
    return std::nullopt;
}

// The smallest index whose key repeats an earlier one, with the first index of that key.
std::optional<std::pair<std::size_t, std::size_t>> firstRepeat(const std::vector<std::uint32_t>& keys) {
    std::vector<std::pair<std::uint32_t, std::size_t>> sorted;
    sorted.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) sorted.emplace_back(keys[i], i);
    std::sort(sorted.begin(), sorted.end());
    std::optional<std::pair<std::size_t, std::size_t>> best;
    for (std::size_t i = 1; i < sorted.size(); ++i) {
        // The first pair of each run of equal keys: (first index, second index).
        if (sorted[i].first != sorted[i - 1].first || (i >= 2 && sorted[i - 2].first == sorted[i].first)) continue;
        if (!best || sorted[i].second < best->second) best = std::pair{sorted[i - 1].second, sorted[i].second};
    }
    return best;
}

// A list of string ids that must be sorted strictly ascending and in range; `what` names an entry ("redact").
std::optional<std::string> badSortedStrings(const Image& image, const std::vector<std::uint32_t>& ids,
                                            const char* what) {
    for (std::size_t k = 0; k < ids.size(); ++k) {
        if (auto p = badString(image, ids[k])) return at(what, k) + *p;
        if (k > 0 && ids[k] <= ids[k - 1]) {
            return at(what, k) + "string id " + num(ids[k]) + " is not after the previous one, " + num(ids[k - 1]) +
                   " (the list is sorted strictly ascending)";
        }
    }
    return std::nullopt;
}

std::optional<Error> checkStrings(const Image& image) {
    if (image.strings.size() > kMaxStrings) {
        return fail("STRINGS", num(image.strings.size()) + " strings exceed the limit of " + num(kMaxStrings));
    }
    for (std::size_t i = 0; i < image.strings.size(); ++i) {
        if (image.strings[i].size() > kMaxStringBytes) {
            return fail("STRINGS", at("string", i) + num(image.strings[i].size()) + " bytes exceed the limit of " +
                                       num(kMaxStringBytes));
        }
        if (i > 0 && !(image.strings[i - 1] < image.strings[i])) {
            return fail("STRINGS", at("string", i) + "not after string " + num(i - 1) +
                                       " (the table is sorted strictly ascending, so without duplicates)");
        }
    }
    return std::nullopt;
}

std::optional<Error> checkSets(const Image& image) {
    if (image.sets.size() > kMaxSets) {
        return fail("SETS", num(image.sets.size()) + " sets exceed the limit of " + num(kMaxSets));
    }
    std::uint64_t total = 0;
    for (const auto& set : image.sets) total += set.size();
    if (total > kMaxSetElements) {
        return fail("SETS", num(total) + " elements in all exceed the limit of " + num(kMaxSetElements));
    }
    for (std::size_t i = 0; i < image.sets.size(); ++i) {
        const auto& set = image.sets[i];
        for (std::size_t k = 1; k < set.size(); ++k) {
            if (set[k] <= set[k - 1]) {
                return fail("SETS", at("set", i) + at("element", k) + num(set[k]) +
                                        " is not after the previous element, " + num(set[k - 1]) +
                                        " (a set is sorted strictly ascending)");
            }
        }
    }
    return std::nullopt;
}

std::optional<Error> checkMatchers(const Image& image) {
    if (image.matchers.size() > kMaxMatchers) {
        return fail("MATCHERS", num(image.matchers.size()) + " matchers exceed the limit of " + num(kMaxMatchers));
    }
    std::uint64_t total = 0;
    for (const Matcher& m : image.matchers) total += m.patterns.size();
    if (total > kMaxMatcherPatterns) {
        return fail("MATCHERS", num(total) + " patterns in all exceed the limit of " + num(kMaxMatcherPatterns));
    }
    for (std::size_t i = 0; i < image.matchers.size(); ++i) {
        const Matcher& m = image.matchers[i];
        if (m.kind != Matcher::Kind::Glob && m.kind != Matcher::Kind::Prefix) {
            return fail("MATCHERS",
                        at("matcher", i) + "kind: unknown matcher kind " + num(static_cast<std::uint8_t>(m.kind)));
        }
        if (m.patterns.empty()) return fail("MATCHERS", at("matcher", i) + "no patterns (a matcher has at least one)");
        for (std::size_t k = 0; k < m.patterns.size(); ++k) {
            if (auto p = badString(image, m.patterns[k]))
                return fail("MATCHERS", at("matcher", i) + at("pattern", k) + *p);
        }
    }
    return std::nullopt;
}

std::optional<Error> checkLattice(const Image& image) {
    const Lattice& lattice = image.lattice;
    const std::uint64_t n = lattice.names.size();
    if (n > kMaxLabels) return fail("LATTICE", num(n) + " labels exceed the limit of " + num(kMaxLabels));
    for (std::size_t i = 0; i < n; ++i) {
        if (auto p = badString(image, lattice.names[i])) return fail("LATTICE", at("label", i) + "name: " + *p);
    }
    if (auto repeat = firstRepeat(lattice.names)) {
        return fail("LATTICE", at("label", repeat->second) + "name: the same as label " + num(repeat->first) +
                                   "'s (string id " + num(lattice.names[repeat->second]) + ")");
    }
    const std::uint64_t bits = n * n;
    const std::uint64_t words = (bits + 63) / 64;
    if (lattice.leq.size() != words) {
        return fail("LATTICE", "order: " + num(lattice.leq.size()) + " words, expected " + num(words) + " for " +
                                   num(n) + " labels ((n * n + 63) / 64)");
    }
    if (bits % 64 != 0 && (lattice.leq.back() >> (bits % 64)) != 0) {
        const std::uint64_t high = lattice.leq.back() >> (bits % 64);
        std::uint64_t first = 0;
        while (((high >> first) & 1u) == 0) ++first;
        return fail("LATTICE", "order: bit " + num(bits + first) + " is set, past the " + num(bits) + " bits of the " +
                                   num(n) + " x " + num(n) + " matrix");
    }
    for (std::uint64_t a = 0; a < n; ++a) {
        if (!lattice.le(a, a)) return fail("LATTICE", "order: label " + num(a) + " is not <= itself (not reflexive)");
    }
    for (std::uint64_t a = 0; a < n; ++a) {
        for (std::uint64_t b = a + 1; b < n; ++b) {
            if (lattice.le(a, b) && lattice.le(b, a)) {
                return fail("LATTICE", "order: labels " + num(a) + " and " + num(b) +
                                           " are each <= the other (not antisymmetric)");
            }
        }
    }
    // Transitivity with word-aligned rows: for every a <= b, row b must be inside row a. The inner loop is a plain
    // reduction (no early exit) so the compiler vectorises it: at the cap of 4096 labels this is the costliest check.
    const std::uint64_t stride = (n + 63) / 64;
    std::vector<std::uint64_t> rows(n * stride, 0);
    for (std::uint64_t a = 0; a < n; ++a) {
        for (std::uint64_t b = 0; b < n; ++b) {
            if (lattice.le(a, b)) rows[a * stride + b / 64] |= std::uint64_t{1} << (b % 64);
        }
    }
    for (std::uint64_t a = 0; a < n; ++a) {
        const std::uint64_t* rowA = &rows[a * stride];
        for (std::uint64_t b = 0; b < n; ++b) {
            if (a == b || ((rowA[b / 64] >> (b % 64)) & 1u) == 0) continue;
            const std::uint64_t* rowB = &rows[b * stride];
            std::uint64_t missing = 0;
            for (std::uint64_t w = 0; w < stride; ++w) missing |= rowB[w] & ~rowA[w];
            if (missing == 0) continue;
            std::uint64_t c = 0;
            while (((rowB[c / 64] & ~rowA[c / 64]) >> (c % 64) & 1u) == 0) ++c;
            return fail("LATTICE", "order: " + num(a) + " <= " + num(b) + " and " + num(b) + " <= " + num(c) +
                                       " but not " + num(a) + " <= " + num(c) + " (not transitive)");
        }
    }
    return std::nullopt;
}

std::optional<Error> checkCode(const Image& image) {
    if (image.code.empty()) return fail("CODE", "the program is empty");
    if (image.code.size() > kMaxCodeSlots) {
        return fail("CODE", num(image.code.size()) + " slots exceed the limit of " + num(kMaxCodeSlots));
    }
    for (std::size_t pc = 0; pc < image.code.size(); ++pc) {
        const isa::Insn& insn = image.code[pc];
        if (insn.dst > 15) return fail("CODE", at("slot", pc) + "dst: " + num(insn.dst) + " does not fit in 4 bits");
        if (insn.src > 15) return fail("CODE", at("slot", pc) + "src: " + num(insn.src) + " does not fit in 4 bits");
    }
    return std::nullopt;
}

// What is wrong with a present attribute value of the given type, or nothing.
std::optional<std::string> badAttributeValue(const Image& image, schema::Type type, std::uint64_t value) {
    switch (type) {
        case schema::Type::Bool:
            if (value > 1) return "value " + num(value) + " is not a bool (0 or 1)";
            return std::nullopt;
        case schema::Type::String:
        case schema::Type::Hash:
            if (value > kNone) return "value " + num(value) + " is not a string id";
            return badString(image, static_cast<std::uint32_t>(value));
        case schema::Type::Label:
            if (value > kNone) return "value " + num(value) + " is not a lattice index";
            return badLabel(image, static_cast<std::uint32_t>(value));
        case schema::Type::StringSet:
        case schema::Type::LabelSet:
            if ((value & ~(kConstSetTag | kNone)) != 0 || (value & kConstSetTag) == 0) {
                return "value " + num(value) + " is not a constant set reference (2^32 + set index)";
            }
            return badSet(image, static_cast<std::uint32_t>(value));
        default: return std::nullopt;  // int, size, duration: any 64 bits
    }
}

std::optional<Error> checkCompilerVersion(const Image& image) {
    if (image.compilerVersion.size() <= kMaxCompilerVersionBytes) return std::nullopt;
    return fail("METADATA", "compiler version: " + num(image.compilerVersion.size()) + " bytes exceed the limit of " +
                                num(kMaxCompilerVersionBytes));
}

std::optional<Error> checkAttributes(const Image& image) {
    if (image.attributes.size() > kMaxAttributes) {
        return fail("METADATA",
                    num(image.attributes.size()) + " attributes exceed the limit of " + num(kMaxAttributes));
    }
    std::vector<std::uint32_t> names;
    for (std::size_t i = 0; i < image.attributes.size(); ++i) {
        const Attribute& a = image.attributes[i];
        if (auto p = badString(image, a.name)) return fail("METADATA", at("attribute", i) + "name: " + *p);
        if (auto p = badFieldType(a.type, "an attribute")) return fail("METADATA", at("attribute", i) + "type: " + *p);
        names.push_back(a.name);
    }
    if (auto repeat = firstRepeat(names)) {
        return fail("METADATA", at("attribute", repeat->second) + "name: the same as attribute " + num(repeat->first) +
                                    "'s (string id " + num(names[repeat->second]) + ")");
    }
    return std::nullopt;
}

std::optional<Error> checkDynamicSetCounts(const Image& image) {
    if (image.dynamicSets.size() > kMaxDynamicSets) {
        return fail("METADATA",
                    num(image.dynamicSets.size()) + " dynamic sets exceed the limit of " + num(kMaxDynamicSets));
    }
    std::uint64_t total = 0;
    for (const DynamicSet& s : image.dynamicSets) total += s.elements.size();
    if (total > kMaxDynamicSetElements) {
        return fail("METADATA",
                    num(total) + " dynamic set elements in all exceed the limit of " + num(kMaxDynamicSetElements));
    }
    const Layout layout = image.layout();
    if (layout.words() > kMaxContextWords) {
        return fail("METADATA", "layout: the context needs " + num(layout.words()) + " words (" +
                                    num(layout.attributes) + " attributes, " + num(layout.dynamicSets) +
                                    " dynamic sets), more than the limit of " + num(kMaxContextWords));
    }
    return std::nullopt;
}

std::optional<Error> checkAgents(const Image& image) {
    if (image.agents.size() > kMaxAgents) {
        return fail("METADATA", num(image.agents.size()) + " agents exceed the limit of " + num(kMaxAgents));
    }
    for (std::size_t i = 0; i < image.agents.size(); ++i) {
        const Agent& a = image.agents[i];
        const std::string where = at("agent", i);
        if (auto p = badString(image, a.name)) return fail("METADATA", where + "name: " + *p);
        if (i > 0 && a.name <= image.agents[i - 1].name) {
            return fail("METADATA", where + "name: string id " + num(a.name) + " is not after agent " + num(i - 1) +
                                        "'s, " + num(image.agents[i - 1].name) +
                                        " (agents are sorted strictly ascending by name)");
        }
        if (auto p = badOptionalString(image, a.owner)) return fail("METADATA", where + "owner: " + *p);
        if (auto p = badOptionalString(image, a.measurement)) return fail("METADATA", where + "measurement: " + *p);
        if (a.attributes.size() != image.attributes.size()) {
            return fail("METADATA", where + num(a.attributes.size()) + " attribute values, expected " +
                                        num(image.attributes.size()) + " (one per attribute)");
        }
        for (std::size_t k = 0; k < a.attributes.size(); ++k) {
            const SlotValue& v = a.attributes[k];
            if (!v.present) {
                if (v.value != 0) {
                    return fail("METADATA",
                                where + at("attribute", k) + "absent, but its value is " + num(v.value) + " (not 0)");
                }
                continue;
            }
            if (auto p = badAttributeValue(image, image.attributes[k].type, v.value)) {
                return fail("METADATA", where + at("attribute", k) + *p);
            }
        }
    }
    return std::nullopt;
}

// The canonical text of a hash (docs/requests.md): "sha256:" and 64 lowercase hex digits, or "sha384:" and 96.
bool canonicalHash(const std::string& text) {
    const std::string_view t(text);
    const std::size_t digits = t.starts_with("sha256:") ? 64 : t.starts_with("sha384:") ? 96 : 0;
    if (digits == 0 || t.size() != 7 + digits) return false;
    return t.substr(7).find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// What is wrong with a tool's callers set (a constant set index, in range), or nothing: every element must be the
// name of a declared agent. Runs after checkAgents, so the agents are sorted by name.
std::optional<std::string> badCallers(const Image& image, std::uint32_t index) {
    const auto& set = image.sets[index];
    for (std::size_t k = 0; k < set.size(); ++k) {
        const std::uint64_t id = set[k];
        auto it = std::lower_bound(image.agents.begin(), image.agents.end(), id,
                                   [](const Agent& a, std::uint64_t name) { return a.name < name; });
        if (it == image.agents.end() || it->name != id) {
            return "set " + num(index) + ": " + at("element", k) + num(id) +
                   " is not the name of an agent (the string id of a declared agent's name)";
        }
    }
    return std::nullopt;
}

std::optional<Error> checkTools(const Image& image) {
    if (image.tools.size() > kMaxTools) {
        return fail("METADATA", num(image.tools.size()) + " tools exceed the limit of " + num(kMaxTools));
    }
    // Tools may share a callers set: each is checked once, so the work stays linear in the image.
    std::vector<bool> callersChecked(image.sets.size(), false);
    for (std::size_t i = 0; i < image.tools.size(); ++i) {
        const Tool& t = image.tools[i];
        const std::string where = at("tool", i);
        if (auto p = badString(image, t.name)) return fail("METADATA", where + "name: " + *p);
        if (i > 0 && t.name <= image.tools[i - 1].name) {
            return fail("METADATA", where + "name: string id " + num(t.name) + " is not after tool " + num(i - 1) +
                                        "'s, " + num(image.tools[i - 1].name) +
                                        " (tools are sorted strictly ascending by name)");
        }
        if (auto p = badString(image, t.provider)) return fail("METADATA", where + "provider: " + *p);
        if (auto p = badOptionalLabel(image, t.label)) return fail("METADATA", where + "label: " + *p);
        if (auto p = badOptionalString(image, t.pin)) return fail("METADATA", where + "pin: " + *p);
        if (t.pinned() && !canonicalHash(image.text(t.pin))) {
            return fail("METADATA", where + "pin: string id " + num(t.pin) +
                                        " is not a hash (sha256:<64 lowercase hex> or sha384:<96 lowercase hex>)");
        }
        if (t.callers != kNone) {
            if (auto p = badSet(image, t.callers)) return fail("METADATA", where + "callers: " + *p);
            if (!callersChecked[t.callers]) {
                if (auto p = badCallers(image, t.callers)) return fail("METADATA", where + "callers: " + *p);
                callersChecked[t.callers] = true;
            }
        }
        if (t.params.size() > schema::kMaxToolParams) {
            return fail("METADATA", where + num(t.params.size()) + " parameters exceed the limit of " +
                                        num(schema::kMaxToolParams));
        }
        std::vector<std::uint32_t> names;
        for (std::size_t k = 0; k < t.params.size(); ++k) {
            const Param& p = t.params[k];
            if (auto bad = badString(image, p.name))
                return fail("METADATA", where + at("parameter", k) + "name: " + *bad);
            if (auto bad = badFieldType(p.type, "a parameter")) {
                return fail("METADATA", where + at("parameter", k) + "type: " + *bad);
            }
            names.push_back(p.name);
        }
        if (auto repeat = firstRepeat(names)) {
            return fail("METADATA", where + at("parameter", repeat->second) + "name: the same as parameter " +
                                        num(repeat->first) + "'s (string id " + num(names[repeat->second]) + ")");
        }
    }
    return std::nullopt;
}

std::optional<Error> checkData(const Image& image) {
    if (image.data.size() > kMaxData) {
        return fail("METADATA", num(image.data.size()) + " data resources exceed the limit of " + num(kMaxData));
    }
    for (std::size_t i = 0; i < image.data.size(); ++i) {
        const Data& d = image.data[i];
        const std::string where = at("data", i);
        if (auto p = badString(image, d.name)) return fail("METADATA", where + "name: " + *p);
        if (i > 0 && d.name <= image.data[i - 1].name) {
            return fail("METADATA", where + "name: string id " + num(d.name) + " is not after data " + num(i - 1) +
                                        "'s, " + num(image.data[i - 1].name) +
                                        " (data resources are sorted strictly ascending by name)");
        }
        if (auto p = badLabel(image, d.label)) return fail("METADATA", where + "label: " + *p);
        if (auto p = badOptionalString(image, d.region)) return fail("METADATA", where + "region: " + *p);
        if (auto p = badOptionalString(image, d.owner)) return fail("METADATA", where + "owner: " + *p);
        if (auto p = badSet(image, d.purposes)) return fail("METADATA", where + "purposes: " + *p);
        if (auto p = badSet(image, d.fields)) return fail("METADATA", where + "fields: " + *p);
    }
    return std::nullopt;
}

std::optional<Error> checkDynamicSets(const Image& image) {
    const std::uint32_t slots = image.layout().slots();
    const std::uint64_t constants = std::max<std::uint64_t>(image.strings.size(), image.lattice.size());
    for (std::size_t i = 0; i < image.dynamicSets.size(); ++i) {
        const auto& elements = image.dynamicSets[i].elements;
        for (std::size_t k = 0; k < elements.size(); ++k) {
            const DynamicSet::Element& e = elements[k];
            const std::string where = at("dynamic set", i) + at("element", k);
            if (e.fromSlot && e.value >= slots) {
                return fail("METADATA", where + "slot " + num(e.value) + " is out of range (the context has " +
                                            num(slots) + " value slots)");
            }
            if (!e.fromSlot && e.value >= constants) {
                return fail("METADATA", where + "constant " + num(e.value) +
                                            " is out of range (neither a string id nor a lattice index: " +
                                            num(image.strings.size()) + " strings, " + num(image.lattice.size()) +
                                            " labels)");
            }
        }
    }
    return std::nullopt;
}

std::optional<Error> checkRules(const Image& image) {
    if (image.rules.size() > kMaxRules) {
        return fail("METADATA", num(image.rules.size()) + " rules exceed the limit of " + num(kMaxRules));
    }
    std::uint64_t obligations = 0;
    for (const Rule& r : image.rules) obligations += r.redact.size() + r.approve.size();
    if (obligations > kMaxObligations) {
        return fail("METADATA", num(obligations) + " redact and approve entries in all exceed the limit of " +
                                    num(kMaxObligations));
    }
    for (std::size_t i = 0; i < image.rules.size(); ++i) {
        const Rule& r = image.rules[i];
        const std::string where = at("rule", i);
        if (auto p = badString(image, r.id)) return fail("METADATA", where + "id: " + *p);
        if (auto p = badString(image, r.principal)) return fail("METADATA", where + "principal: " + *p);
        if (r.module >= image.modules.size()) {
            return fail("METADATA", where + "module: index " + num(r.module) + " is out of range (the image has " +
                                        num(image.modules.size()) + " modules)");
        }
        if (r.kind != Rule::Kind::Permit && r.kind != Rule::Kind::Forbid && r.kind != Rule::Kind::Obligation) {
            return fail("METADATA", where + "kind: unknown rule kind " + num(static_cast<std::uint8_t>(r.kind)));
        }
        if (r.limited && r.limit <= 0) {
            return fail("METADATA", where + "limit: " + std::to_string(r.limit) +
                                        " is not positive (a rate-limited rule needs at least 1)");
        }
        if (!r.limited && r.limit != 0) {
            return fail("METADATA", where + "limit: " + std::to_string(r.limit) + " without a rate limit (not 0)");
        }
        if (r.limited && r.window <= 0) {
            return fail("METADATA", where + "window: " + std::to_string(r.window) +
                                        " is not positive (a rate-limited rule needs a window of at least 1 ns)");
        }
        if (!r.limited && r.window != 0) {
            return fail("METADATA", where + "window: " + std::to_string(r.window) + " without a rate limit (not 0)");
        }
        if (r.key != Rule::LimitKey::Agent && r.key != Rule::LimitKey::Session && r.key != Rule::LimitKey::User &&
            r.key != Rule::LimitKey::Tool) {
            return fail("METADATA", where + "key: unknown rate-limit key " + num(static_cast<std::uint8_t>(r.key)));
        }
        if (!r.limited && r.key != Rule::LimitKey::Agent) {
            return fail("METADATA", where + "key: " + num(static_cast<std::uint8_t>(r.key)) +
                                        " without a rate limit (not 0, agent)");
        }
        if (auto p = badSortedStrings(image, r.redact, "redact")) return fail("METADATA", where + *p);
        if (auto p = badSortedStrings(image, r.approve, "approve")) return fail("METADATA", where + *p);
    }
    return std::nullopt;
}

std::optional<Error> checkConsents(const Image& image) {
    if (image.consents.size() > kMaxConsents) {
        return fail("METADATA", num(image.consents.size()) + " consents exceed the limit of " + num(kMaxConsents));
    }
    std::uint64_t total = 0;
    for (const Consent& c : image.consents) total += c.ids.size();
    if (total > kMaxConsentIds) {
        return fail("METADATA", num(total) + " consent ids in all exceed the limit of " + num(kMaxConsentIds));
    }
    for (std::size_t i = 0; i < image.consents.size(); ++i) {
        const Consent& c = image.consents[i];
        const std::string where = at("consent", i);
        if (auto p = badString(image, c.principal)) return fail("METADATA", where + "principal: " + *p);
        const char* table = nullptr;
        std::size_t size = 0;
        switch (c.scope) {
            case Consent::Scope::Tool:
                table = "tool";
                size = image.tools.size();
                break;
            case Consent::Scope::Data:
                table = "data";
                size = image.data.size();
                break;
            case Consent::Scope::Agent:
                table = "agent";
                size = image.agents.size();
                break;
            case Consent::Scope::Gpu:
            case Consent::Scope::Net: break;
            default:
                return fail("METADATA",
                            where + "scope: unknown consent scope " + num(static_cast<std::uint8_t>(c.scope)));
        }
        if (c.any && !c.ids.empty()) {
            return fail("METADATA", where + "ids: " + num(c.ids.size()) +
                                        " listed with any (`*` covers every target): must be empty");
        }
        if (table == nullptr && !c.ids.empty()) {
            return fail("METADATA", where + "ids: " + num(c.ids.size()) + " listed for a " + scopeName(c.scope) +
                                        " consent (only tool, data and agent consents list ids): must be empty");
        }
        for (std::size_t k = 0; k < c.ids.size(); ++k) {
            if (c.ids[k] >= size) {
                return fail("METADATA", where + at("id", k) + std::string(table) + " index " + num(c.ids[k]) +
                                            " is out of range (the " + table + " table has " + num(size) + " entries)");
            }
            if (k > 0 && c.ids[k] <= c.ids[k - 1]) {
                return fail("METADATA", where + at("id", k) + num(c.ids[k]) + " is not after the previous id, " +
                                            num(c.ids[k - 1]) + " (ids are sorted strictly ascending)");
            }
        }
    }
    return std::nullopt;
}

std::optional<Error> checkModules(const Image& image) {
    if (image.modules.size() > kMaxModules) {
        return fail("METADATA", num(image.modules.size()) + " modules exceed the limit of " + num(kMaxModules));
    }
    std::vector<std::uint32_t> names;
    for (std::size_t i = 0; i < image.modules.size(); ++i) {
        const Module& m = image.modules[i];
        if (auto p = badString(image, m.name)) return fail("METADATA", at("module", i) + "name: " + *p);
        if (auto p = badString(image, m.principal)) return fail("METADATA", at("module", i) + "principal: " + *p);
        names.push_back(m.name);
    }
    if (auto repeat = firstRepeat(names)) {
        return fail("METADATA", at("module", repeat->second) + "name: the same as module " + num(repeat->first) +
                                    "'s (string id " + num(names[repeat->second]) + ")");
    }
    return std::nullopt;
}

}  // namespace

std::optional<Error> validate(const Image& image) {
    using Check = std::optional<Error> (*)(const Image&);
    static constexpr Check checks[] = {
        checkStrings,    checkSets,
        checkMatchers,   checkLattice,
        checkCode,       checkCompilerVersion,
        checkAttributes, checkDynamicSetCounts,
        checkAgents,     checkTools,
        checkData,       checkDynamicSets,
        checkRules,      checkConsents,
        checkModules,
    };
    for (Check check : checks) {
        if (auto e = check(image)) return e;
    }
    return std::nullopt;
}

}  // namespace omega::policy
