// The decision engine (Engine.h): interning, helpers, and the combiner of docs/language.md section 10.
#include "omega/policy/Engine.h"

#include "omega/policy/Glob.h"
#include "omega/policy/Serialize.h"
#include "omega/vm/Helpers.h"
#include "omega/vm/Interpreter.h"

#include <algorithm>
#include <iterator>

namespace omega::policy {

namespace {

using schema::Action;
using schema::Type;

// Binary search of a table sorted by name id (ids are in text order because the string table is sorted).
template <typename Row>
std::uint32_t findByName(const Image& image, const std::vector<Row>& rows, std::string_view name) {
    auto it = std::lower_bound(rows.begin(), rows.end(), name,
                               [&](const Row& row, std::string_view n) { return image.strings[row.name] < n; });
    if (it == rows.end() || image.strings[it->name] != name) return kNone;
    return static_cast<std::uint32_t>(it - rows.begin());
}

bool isSetType(Type t) {
    return t == Type::StringSet || t == Type::LabelSet;
}

bool sameKind(Type type, Value::Kind kind) {
    switch (type) {
        case Type::Bool: return kind == Value::Kind::Bool;
        case Type::Int:
        case Type::Size:
        case Type::Duration: return kind == Value::Kind::Int;
        case Type::String: return kind == Value::Kind::String;
        case Type::Label: return kind == Value::Kind::Label;
        case Type::Hash: return kind == Value::Kind::Hash;
        case Type::StringSet: return kind == Value::Kind::StringSet;
        case Type::LabelSet: return kind == Value::Kind::LabelSet;
        case Type::Agent:
        case Type::Kernel: return false;
    }
    return false;
}

// What the helpers see through Env::self during one run.
struct RunState {
    const Engine& engine;
    const Interned& interned;
    Scratch& scratch;
};

RunState& state(void* self) {
    return *static_cast<RunState*>(self);
}

// Helpers never trust their value arguments: a reference out of range records a fault, and the run is a deny.
std::uint64_t fault(RunState& s, const char* what) {
    if (s.scratch.fault.empty()) s.scratch.fault = what;
    return 0;
}

const std::vector<std::uint64_t>* setOf(RunState& s, std::uint64_t ref) {
    const Image& image = s.engine.image();
    if (ref & kConstSetTag) {
        const std::uint64_t index = ref & ~kConstSetTag;
        if (index >= image.sets.size()) return nullptr;
        return &image.sets[index];
    }
    if (ref >= s.interned.setsUsed) return nullptr;
    return &s.interned.sets[ref];
}

std::uint64_t hMatch(void* self, std::uint64_t rule, std::uint64_t value, std::uint64_t, std::uint64_t, std::uint64_t) {
    RunState& s = state(self);
    if (value > 2) return fault(s, "match: value out of range");
    if (value > 0) s.scratch.matches.emplace_back(static_cast<std::uint32_t>(rule), static_cast<std::uint8_t>(value));
    return 0;
}

std::uint64_t hSetHas(void* self, std::uint64_t ref, std::uint64_t element, std::uint64_t, std::uint64_t,
                      std::uint64_t) {
    RunState& s = state(self);
    const auto* set = setOf(s, ref);
    if (!set) return fault(s, "set_has: bad set reference");
    return std::binary_search(set->begin(), set->end(), element);
}

std::uint64_t hSetCmp(void* self, std::uint64_t a, std::uint64_t b, std::uint64_t op, std::uint64_t, std::uint64_t) {
    RunState& s = state(self);
    const auto* x = setOf(s, a);
    const auto* y = setOf(s, b);
    if (!x || !y) return fault(s, "set_cmp: bad set reference");
    switch (static_cast<vm::SetCmpOp>(op)) {
        case vm::SetCmpOp::Eq: return *x == *y;
        case vm::SetCmpOp::Subset: return std::includes(y->begin(), y->end(), x->begin(), x->end());
        case vm::SetCmpOp::ProperSubset:
            return x->size() < y->size() && std::includes(y->begin(), y->end(), x->begin(), x->end());
    }
    return fault(s, "set_cmp: bad op");
}

template <typename Test>
std::uint64_t anyPattern(RunState& s, std::uint64_t matcher, std::uint64_t string, Matcher::Kind kind, Test test) {
    const Image& image = s.engine.image();
    if (matcher >= image.matchers.size() || image.matchers[matcher].kind != kind) return fault(s, "bad matcher");
    const std::string* text = s.engine.text(s.interned, string);
    if (!text) return fault(s, "bad string id");
    for (std::uint32_t p : image.matchers[matcher].patterns)
        if (test(image.strings[p], *text)) return 1;
    return 0;
}

std::uint64_t hGlob(void* self, std::uint64_t matcher, std::uint64_t string, std::uint64_t, std::uint64_t,
                    std::uint64_t) {
    return anyPattern(state(self), matcher, string, Matcher::Kind::Glob,
                      [](const std::string& p, const std::string& t) { return globMatch(p, t); });
}

std::uint64_t hPrefix(void* self, std::uint64_t matcher, std::uint64_t string, std::uint64_t, std::uint64_t,
                      std::uint64_t) {
    return anyPattern(state(self), matcher, string, Matcher::Kind::Prefix,
                      [](const std::string& p, const std::string& t) { return t.compare(0, p.size(), p) == 0; });
}

std::uint64_t hLabelLe(void* self, std::uint64_t a, std::uint64_t b, std::uint64_t, std::uint64_t, std::uint64_t) {
    return state(self).engine.image().lattice.le(a, b);
}

std::uint64_t hTaint(void* self, std::uint64_t ref, std::uint64_t label, std::uint64_t op, std::uint64_t,
                     std::uint64_t) {
    RunState& s = state(self);
    const auto* set = setOf(s, ref);
    if (!set) return fault(s, "taint: bad set reference");
    const Lattice& lattice = s.engine.image().lattice;
    switch (static_cast<vm::TaintOp>(op)) {
        case vm::TaintOp::AnyGe:
            return std::any_of(set->begin(), set->end(), [&](std::uint64_t l) { return lattice.le(label, l); });
        case vm::TaintOp::AnyGt:
            return std::any_of(set->begin(), set->end(),
                               [&](std::uint64_t l) { return l != label && lattice.le(label, l); });
        case vm::TaintOp::AllLe:
            return std::all_of(set->begin(), set->end(), [&](std::uint64_t l) { return lattice.le(l, label); });
        case vm::TaintOp::AllLt:
            return std::all_of(set->begin(), set->end(),
                               [&](std::uint64_t l) { return l != label && lattice.le(l, label); });
    }
    return fault(s, "taint: bad op");
}

// The request's counter for a rule (Interned::counts is sorted by rule); 0 when the request gives none.
std::int64_t counterOf(const Interned& interned, std::uint64_t rule) {
    const auto& counts = interned.counts;
    auto it =
        std::lower_bound(counts.begin(), counts.end(), rule,
                         [](const std::pair<std::uint32_t, std::int64_t>& c, std::uint64_t r) { return c.first < r; });
    return it != counts.end() && it->first == rule ? it->second : 0;
}

std::uint64_t hRateCount(void* self, std::uint64_t rule, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t) {
    return static_cast<std::uint64_t>(counterOf(state(self).interned, rule));
}

vm::Env environment() {
    vm::Env env;
    env.helpers[vm::kMatch] = hMatch;
    env.helpers[vm::kSetHas] = hSetHas;
    env.helpers[vm::kSetCmp] = hSetCmp;
    env.helpers[vm::kGlob] = hGlob;
    env.helpers[vm::kPrefix] = hPrefix;
    env.helpers[vm::kLabelLe] = hLabelLe;
    env.helpers[vm::kTaint] = hTaint;
    env.helpers[vm::kRateCount] = hRateCount;
    return env;
}

void setSlot(Interned& in, const Layout& layout, std::uint32_t slot, std::uint64_t value) {
    in.context[slot] = value;
    auto [word, bit] = layout.presence(slot);
    in.context[word] |= std::uint64_t{1} << bit;
}

bool contains(const std::vector<std::uint32_t>& sorted, std::uint32_t x) {
    return std::binary_search(sorted.begin(), sorted.end(), x);
}

}  // namespace

Engine::Engine(Image image, vm::Verified verified) : image_(std::move(image)), verified_(std::move(verified)) {
    labelOfString_.assign(image_.strings.size(), kNone);
    for (std::uint32_t l = 0; l < image_.lattice.size(); ++l) labelOfString_[image_.lattice.names[l]] = l;
    ruleOfString_.assign(image_.strings.size(), kNone);
    for (std::uint32_t r = 0; r < image_.rules.size(); ++r) ruleOfString_[image_.rules[r].id] = r;
}

Result<Engine> Engine::make(Image image) {
    if (auto invalid = validate(image)) return *invalid;
    vm::Limits limits;
    limits.contextWords = image.layout().words();
    limits.rules = static_cast<std::uint32_t>(image.rules.size());
    limits.matchers = static_cast<std::uint32_t>(image.matchers.size());
    limits.maxCost = image.bound.cost;
    auto verified = vm::verify(image.code, limits);
    if (!verified) return bundle::Error{"bytecode rejected: " + verified.error().text()};
    const vm::CostBound& b = verified.value().bound();
    if (b.instructions != image.bound.instructions || b.cost != image.bound.cost) {
        return bundle::Error{"the stated cost bound (" + std::to_string(image.bound.cost) +
                             ") is not the verified one (" + std::to_string(b.cost) + ")"};
    }
    return Engine(std::move(image), std::move(verified).value());
}

std::uint32_t Engine::stringId(std::string_view text) const {
    auto it = std::lower_bound(image_.strings.begin(), image_.strings.end(), text);
    if (it == image_.strings.end() || *it != text) return kNone;
    return static_cast<std::uint32_t>(it - image_.strings.begin());
}

std::uint32_t Engine::agentIndex(std::string_view name) const {
    return findByName(image_, image_.agents, name);
}
std::uint32_t Engine::toolIndex(std::string_view name) const {
    return findByName(image_, image_.tools, name);
}
std::uint32_t Engine::dataIndex(std::string_view name) const {
    return findByName(image_, image_.data, name);
}
std::uint32_t Engine::labelIndex(std::string_view name) const {
    std::uint32_t id = stringId(name);
    return id == kNone ? kNone : labelOfString_[id];
}
std::uint32_t Engine::ruleIndex(std::string_view id) const {
    std::uint32_t s = stringId(id);
    return s == kNone ? kNone : ruleOfString_[s];
}

const std::string* Engine::text(const Interned& interned, std::uint64_t id) const {
    if (id < image_.strings.size()) return &image_.strings[id];
    id -= image_.strings.size();
    return id < interned.localStrings.size() ? &interned.localStrings[id] : nullptr;
}

std::uint64_t Engine::internString(Interned& out, std::string_view text) const {
    const std::uint32_t id = stringId(text);
    if (id != kNone) return id;
    auto it = std::find(out.localStrings.begin(), out.localStrings.end(), text);
    if (it == out.localStrings.end()) it = out.localStrings.insert(out.localStrings.end(), std::string(text));
    return image_.strings.size() + static_cast<std::uint64_t>(it - out.localStrings.begin());
}

std::uint64_t Engine::internLabel(Interned& out, std::string_view name) const {
    const std::uint32_t l = labelIndex(name);
    if (l != kNone) return l;
    auto it = std::find(out.localLabels.begin(), out.localLabels.end(), name);
    if (it == out.localLabels.end()) it = out.localLabels.insert(out.localLabels.end(), std::string(name));
    return image_.lattice.size() + static_cast<std::uint64_t>(it - out.localLabels.begin());
}

std::uint64_t Engine::internSet(Interned& out, std::span<const std::uint64_t> items) const {
    // Handles past the ones in use are kept (with their capacity) for the next request.
    if (out.setsUsed == out.sets.size()) out.sets.emplace_back();
    std::vector<std::uint64_t>& set = out.sets[out.setsUsed];
    set.assign(items.begin(), items.end());
    std::sort(set.begin(), set.end());
    set.erase(std::unique(set.begin(), set.end()), set.end());
    return out.setsUsed++;
}

void Engine::setSlot(Interned& out, std::uint32_t slot, std::uint64_t value) const {
    policy::setSlot(out, image_.layout(), slot, value);
}

bool Engine::begin(Action action, std::uint32_t target, std::uint32_t agent, std::uint32_t recipient, Interned& out,
                   std::string& error) const {
    const Layout layout = image_.layout();
    out.context.assign(layout.words(), 0);
    out.localStrings.clear();
    out.localLabels.clear();
    out.counts.clear();
    if (out.sets.empty()) out.sets.emplace_back();
    out.sets[0].clear();  // handle 0: the empty set, the value of every supplied set that is not given
    out.setsUsed = 1;

    const auto actionIndex = static_cast<unsigned>(action);
    if (actionIndex >= schema::kActionCount) {
        error = "action: unknown action";
        return false;
    }
    out.context[0] = actionIndex;
    if (agent >= image_.agents.size()) {
        error = "agent: unknown agent";
        return false;
    }
    out.context[2] = agent;
    if (action == Action::Send) {
        if (recipient >= image_.agents.size()) {
            error = "recipient: unknown agent";
            return false;
        }
        out.context[3] = recipient;
    } else {
        recipient = kNone;
    }
    if (action == Action::Tool || action == Action::Read || action == Action::Write) {
        if (target >= (action == Action::Tool ? image_.tools.size() : image_.data.size())) {
            error = action == Action::Tool ? "target: unknown tool" : "target: unknown data resource";
            return false;
        }
        out.context[1] = target;
    } else {
        target = kNone;
    }

    // Derived fields, from the declaration tables (their slots looked up once per process).
    struct AgentSlots {
        std::uint32_t name, owner, measurement;
    };
    struct DerivedSlots {
        AgentSlots agent, recipient;
        std::uint32_t toolName, toolProvider, toolLabel, toolSink, toolPrivileged, toolPinned;
        std::uint32_t dataName, dataLabel, dataRegion, dataOwner, dataPurpose, dataFields;
    };
    static const DerivedSlots kSlots = [] {
        auto at = [](std::string_view root, std::string_view field) { return schema::find(root, field)->slot; };
        auto agentSlots = [&](std::string_view root) {
            return AgentSlots{at(root, "name"), at(root, "owner"), at(root, "measurement")};
        };
        return DerivedSlots{agentSlots("agent"),      agentSlots("recipient"), at("tool", "name"),
                            at("tool", "provider"),   at("tool", "label"),     at("tool", "sink"),
                            at("tool", "privileged"), at("tool", "pinned"),    at("data", "name"),
                            at("data", "label"),      at("data", "region"),    at("data", "owner"),
                            at("data", "purpose"),    at("data", "fields")};
    }();
    auto agentFacts = [&](const AgentSlots& slots, std::uint32_t a, bool recipientSide) {
        const Agent& row = image_.agents[a];
        policy::setSlot(out, layout, slots.name, row.name);
        if (row.owner != kNone) policy::setSlot(out, layout, slots.owner, row.owner);
        if (row.measurement != kNone) policy::setSlot(out, layout, slots.measurement, row.measurement);
        for (std::uint32_t k = 0; k < row.attributes.size(); ++k) {
            if (!row.attributes[k].present) continue;
            policy::setSlot(out, layout, recipientSide ? layout.recipientAttribute(k) : layout.agentAttribute(k),
                            row.attributes[k].value);
        }
    };
    agentFacts(kSlots.agent, agent, false);
    if (recipient != kNone) agentFacts(kSlots.recipient, recipient, true);
    if (action == Action::Tool) {
        const Tool& t = image_.tools[target];
        policy::setSlot(out, layout, kSlots.toolName, t.name);
        policy::setSlot(out, layout, kSlots.toolProvider, t.provider);
        if (t.label != kNone) policy::setSlot(out, layout, kSlots.toolLabel, t.label);
        policy::setSlot(out, layout, kSlots.toolSink, t.sink);
        policy::setSlot(out, layout, kSlots.toolPrivileged, t.privileged);
        policy::setSlot(out, layout, kSlots.toolPinned, t.pinned());
    } else if (target != kNone) {
        const Data& d = image_.data[target];
        policy::setSlot(out, layout, kSlots.dataName, d.name);
        if (d.label != kNone) policy::setSlot(out, layout, kSlots.dataLabel, d.label);
        if (d.region != kNone) policy::setSlot(out, layout, kSlots.dataRegion, d.region);
        if (d.owner != kNone) policy::setSlot(out, layout, kSlots.dataOwner, d.owner);
        policy::setSlot(out, layout, kSlots.dataPurpose, kConstSetTag | d.purposes);
        policy::setSlot(out, layout, kSlots.dataFields, kConstSetTag | d.fields);
    }

    // Supplied sets default to empty; the other supplied fields are absent unless given.
    static const std::vector<std::uint32_t> kSuppliedSets = [] {
        std::vector<std::uint32_t> slots;
        for (const schema::Field& f : schema::fields())
            if (f.supplied && f.slot != 0 && isSetType(f.type)) slots.push_back(f.slot);
        return slots;
    }();
    for (std::uint32_t slot : kSuppliedSets) policy::setSlot(out, layout, slot, 0);
    return true;
}

bool Engine::setCount(Interned& out, std::uint32_t rule, std::int64_t count) const {
    if (rule >= image_.rules.size()) return false;
    out.counts.emplace_back(rule, count);
    return true;
}

void Engine::finish(Interned& out) const {
    const Layout layout = image_.layout();
    // Set literals with request values in them.
    std::uint64_t items[64];
    std::vector<std::uint64_t> large;
    for (std::uint32_t j = 0; j < image_.dynamicSets.size(); ++j) {
        const auto& elements = image_.dynamicSets[j].elements;
        std::uint64_t* at = items;
        if (elements.size() > std::size(items)) {
            large.resize(elements.size());
            at = large.data();
        }
        std::size_t n = 0;
        bool complete = true;
        for (const DynamicSet::Element& e : elements) {
            if (!e.fromSlot) {
                at[n++] = e.value;
                continue;
            }
            auto [word, bit] = layout.presence(e.value);
            if (!((out.context[word] >> bit) & 1u)) {
                complete = false;
                break;
            }
            at[n++] = out.context[e.value];
        }
        if (complete) policy::setSlot(out, layout, layout.dynamicSet(j), internSet(out, {at, n}));
    }
    std::sort(out.counts.begin(), out.counts.end());
}

bool Engine::intern(const Request& request, Interned& out, std::string& error, bool complete) const {
    const Action action = request.action;
    std::uint32_t target = kNone, recipient = kNone;
    const std::uint32_t agent = agentIndex(request.agent);
    if (agent == kNone) {
        error = "agent: unknown agent \"" + request.agent + "\"";
        return false;
    }
    if (action == Action::Send) {
        recipient = agentIndex(request.recipient);
        if (recipient == kNone) {
            error = "recipient: unknown agent \"" + request.recipient + "\"";
            return false;
        }
    }
    if (action == Action::Tool) {
        target = toolIndex(request.target);
        if (target == kNone) {
            error = "target: unknown tool \"" + request.target + "\"";
            return false;
        }
    } else if (action == Action::Read || action == Action::Write) {
        target = dataIndex(request.target);
        if (target == kNone) {
            error = "target: unknown data resource \"" + request.target + "\"";
            return false;
        }
    }
    if (!begin(action, target, agent, recipient, out, error)) return false;

    std::vector<std::uint64_t> items;
    // A value of `type` in slot encoding; false when the value is not of that type.
    auto encode = [&](Type type, const Value& v, std::uint64_t& slot) {
        if (!sameKind(type, v.kind)) return false;
        switch (v.kind) {
            case Value::Kind::Bool:
            case Value::Kind::Int: slot = static_cast<std::uint64_t>(v.number); break;
            case Value::Kind::String:
            case Value::Kind::Hash: slot = internString(out, v.text); break;
            case Value::Kind::Label: slot = internLabel(out, v.text); break;
            case Value::Kind::StringSet:
            case Value::Kind::LabelSet: {
                items.clear();
                for (const std::string& item : v.items)
                    items.push_back(v.kind == Value::Kind::StringSet ? internString(out, item)
                                                                     : internLabel(out, item));
                slot = internSet(out, items);
                break;
            }
        }
        return true;
    };

    for (const auto& [key, value] : request.fields) {
        const std::size_t dot = key.find('.');
        const schema::Field* f = dot == std::string::npos
                                     ? nullptr
                                     : schema::find(std::string_view(key).substr(0, dot), key.substr(dot + 1));
        if (!f || !f->supplied || f->slot == 0 || !(f->actions & schema::bit(action))) {
            error = key + ": not a supplied field of a " + schema::actionName(action) + " request";
            return false;
        }
        std::uint64_t slot = 0;
        if (!encode(f->type, value, slot)) {
            error = key + ": value of the wrong type";
            return false;
        }
        setSlot(out, f->slot, slot);
    }

    // Arguments: every one must be a parameter of the tool, of its type.
    if (!request.args.empty() && action != Action::Tool) {
        error = "args: only tool calls have arguments";
        return false;
    }
    for (const auto& [name, value] : request.args) {
        const Tool& t = image_.tools[target];
        std::uint32_t k = 0;
        while (k < t.params.size() && image_.strings[t.params[k].name] != name) ++k;
        if (k == t.params.size()) {
            error = "args." + name + ": not a parameter of " + image_.strings[t.name];
            return false;
        }
        std::uint64_t slot = 0;
        if (!encode(t.params[k].type, value, slot)) {
            error = "args." + name + ": value of the wrong type";
            return false;
        }
        setSlot(out, schema::argsSlot() + k, slot);
    }

    for (const auto& [id, count] : request.counts) {
        std::uint32_t r = ruleIndex(id);
        if (r == kNone) continue;  // a counter of a rule this policy does not have: nothing reads it
        out.counts.emplace_back(r, count);
    }
    if (complete) finish(out);
    return true;
}

bool Engine::evaluate(const Interned& interned, Scratch& scratch, Decision& d) const {
    d.allow = false;
    d.rules.clear();
    d.consentMissing.clear();
    d.forbidOnUnknown = false;
    d.audit = false;
    d.redact.clear();
    d.approve.clear();
    d.error.clear();
    scratch.matches.clear();
    scratch.fault.clear();

    static const vm::Env env = environment();
    RunState run{*this, interned, scratch};
    vm::Env local = env;
    local.self = &run;
    const vm::Outcome outcome = vm::run(verified_, interned.context, local, image_.bound.cost);
    if (!outcome.ok) {
        d.error = std::string("bytecode: ") + outcome.error;
        return false;
    }
    if (!scratch.fault.empty()) {
        d.error = "helper fault: " + scratch.fault;
        return false;
    }
    return true;
}

void Engine::decide(const Interned& interned, Scratch& scratch, Decision& d) const {
    if (evaluate(interned, scratch, d)) combine(interned, scratch, d);
}

void Engine::combine(const Interned& interned, Scratch& scratch, Decision& d) const {
    // The combiner: language.md section 10, the same steps as the reference evaluator's decide().
    auto& m = scratch.matches;
    std::sort(m.begin(), m.end());
    bool anyForbid = false, anyPermit = false;
    for (std::size_t i = 0; i < m.size(); ++i) {
        if (i + 1 < m.size() && m[i + 1].first == m[i].first) continue;  // a rule reported twice: the larger value
        const auto [index, value] = m[i];
        if (index >= image_.rules.size()) {
            d.error = "bytecode: rule index out of range";
            return;
        }
        const Rule& r = image_.rules[index];
        bool matches = r.kind == Rule::Kind::Permit ? value == 2 : value >= 1;
        if (matches && r.limited) {
            const std::int64_t count = counterOf(interned, index);
            matches = r.kind == Rule::Kind::Permit ? count < r.limit : count >= r.limit;
        }
        if (!matches) continue;
        m[i].second |= 0x80;  // mark: matched
        anyForbid = anyForbid || r.kind == Rule::Kind::Forbid;
        anyPermit = anyPermit || r.kind == Rule::Kind::Permit;
    }
    auto matched = [&](std::size_t i) {
        return (m[i].second & 0x80) && (i + 1 == m.size() || m[i + 1].first != m[i].first);
    };
    if (anyForbid) {
        for (std::size_t i = 0; i < m.size(); ++i) {
            if (!matched(i) || image_.rules[m[i].first].kind != Rule::Kind::Forbid) continue;
            d.rules.push_back(m[i].first);
            if ((m[i].second & 0x7F) == 1) d.forbidOnUnknown = true;
        }
        return;
    }

    const auto action = static_cast<Action>(interned.context[0]);
    const auto target = static_cast<std::uint32_t>(interned.context[1]);
    const auto agent = static_cast<std::uint32_t>(interned.context[2]);
    const auto recipient = static_cast<std::uint32_t>(interned.context[3]);
    auto covers = [&](const Consent& c) {
        switch (c.scope) {
            case Consent::Scope::Tool: return action == Action::Tool && (c.any || contains(c.ids, target));
            case Consent::Scope::Data:
                return (action == Action::Read || action == Action::Write) && (c.any || contains(c.ids, target));
            case Consent::Scope::Agent:
                return action == Action::Send && (c.any || contains(c.ids, agent) || contains(c.ids, recipient));
            case Consent::Scope::Gpu: return action == Action::GpuLaunch || action == Action::GpuAlloc;
            case Consent::Scope::Net: return action == Action::NetConnect;
        }
        return false;
    };
    for (const Consent& c : image_.consents) {
        if (!covers(c)) continue;
        bool given = false;
        for (std::size_t i = 0; i < m.size() && !given; ++i)
            given = matched(i) && image_.rules[m[i].first].kind == Rule::Kind::Permit &&
                    image_.rules[m[i].first].principal == c.principal;
        if (!given &&
            std::find(d.consentMissing.begin(), d.consentMissing.end(), c.principal) == d.consentMissing.end())
            d.consentMissing.push_back(c.principal);
    }
    if (!d.consentMissing.empty() || !anyPermit) return;

    d.allow = true;
    auto addAll = [](std::vector<std::uint32_t>& into, const std::vector<std::uint32_t>& from) {
        for (std::uint32_t x : from)
            if (!contains(into, x)) into.insert(std::upper_bound(into.begin(), into.end(), x), x);
    };
    for (std::size_t i = 0; i < m.size(); ++i) {
        if (!matched(i)) continue;
        const Rule& r = image_.rules[m[i].first];
        if (r.kind == Rule::Kind::Forbid) continue;
        if (r.kind == Rule::Kind::Permit) d.rules.push_back(m[i].first);
        d.audit = d.audit || r.audit;
        addAll(d.redact, r.redact);
        addAll(d.approve, r.approve);
    }
}

Decision Engine::decide(const Request& request) const {
    Interned interned;
    Scratch scratch;
    Decision d;
    if (!intern(request, interned, d.error)) return d;
    decide(interned, scratch, d);
    return d;
}

}  // namespace omega::policy
