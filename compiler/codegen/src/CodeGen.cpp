// The code generator (CodeGen.h). Two passes over the checked program: the first gathers every string the image
// will hold (so string ids are final before any code is written), the second builds the tables and the code.
//
// Code shape (docs/bytecode.md 8.5): r6 keeps the context pointer; a chain of `jne` on the action selects a
// section; a section is a balanced `jgt`/`jne` tree on the dispatch word (the target for tool, read and write; the
// agent otherwise) down to the block of rules for that key, then the rules common to every key. Each rule skips
// itself unless its subject, recipient and condition allow it, then reports itself with `match`. A condition
// leaves 0 (false), 1 (unknown) or 2 (true) in r0; `and` and `or` keep their running value on the stack.
#include "omega/codegen/CodeGen.h"

#include "Asm.h"
#include "omega/policy/Engine.h"
#include "omega/schema/Schema.h"
#include "omega/vm/Helpers.h"

#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace omega::codegen {

namespace {

using namespace omega::ast;
using isa::AluOp;
using isa::Cond;
using isa::Imm;
using isa::Reg;
using policy::kConstSetTag;
using policy::kNone;

constexpr std::uint8_t kCtx = 6;             // r6: the context pointer, for the whole program
constexpr std::uint32_t kStackSlots = 64;    // 512 bytes of scratch stack, 8 per nesting level of and/or
constexpr std::size_t kDuplicateLimit = 16;  // a rule covering more keys than this goes in the common block

schema::Type schemaType(TypeKind t) {
    switch (t) {
        case TypeKind::Bool: return schema::Type::Bool;
        case TypeKind::Int: return schema::Type::Int;
        case TypeKind::Size: return schema::Type::Size;
        case TypeKind::Duration: return schema::Type::Duration;
        case TypeKind::Label: return schema::Type::Label;
        case TypeKind::Hash: return schema::Type::Hash;
        case TypeKind::LabelSet: return schema::Type::LabelSet;
        case TypeKind::StringSet:
        case TypeKind::EmptySet: return schema::Type::StringSet;
        default: return schema::Type::String;
    }
}

bool isSet(TypeKind t) {
    return t == TypeKind::StringSet || t == TypeKind::LabelSet || t == TypeKind::EmptySet;
}

bool isBoolExpr(const Expr& e) {
    return e.kind == Expr::Kind::Binary || e.kind == Expr::Kind::Not || e.kind == Expr::Kind::Has;
}

bool targeted(Action a) {
    return a == Action::Tool || a == Action::Read || a == Action::Write;
}

std::string hashText(const Expr& e) {
    return e.algorithm.text + ":" + e.text;
}

std::int64_t quantityValue(const Expr& e) {
    auto f = sema::sizeUnit(e.text);
    if (!f) f = sema::durationUnit(e.text);
    return e.number * f.value_or(1);
}

bool readsArgs(const Expr* e) {
    if (!e) return false;
    if ((e->kind == Expr::Kind::Path || e->kind == Expr::Kind::Has) && !e->path.empty() && e->path[0].text == "args")
        return true;
    return std::any_of(e->kids.begin(), e->kids.end(), [](const ExprPtr& k) { return readsArgs(k.get()); });
}

// Derived fields that every request of their action carries, and supplied sets (empty when not given): reading
// them needs no presence test.
bool alwaysPresent(const schema::Field& f, Action action) {
    if (!(f.actions & schema::bit(static_cast<schema::Action>(action)))) return false;
    if (f.supplied) return f.type == schema::Type::StringSet || f.type == schema::Type::LabelSet;
    static const std::set<std::string> optional{"agent.owner",           "agent.measurement", "recipient.owner",
                                                "recipient.measurement", "tool.label",        "data.label",
                                                "data.region",           "data.owner"};
    return !optional.count(std::string(f.root) + "." + std::string(f.field));
}

struct RuleRef {
    const Body* body = nullptr;
    policy::Rule::Kind kind = policy::Rule::Kind::Permit;
    std::uint32_t index = 0;
};

// Where an operand's value comes from.
struct Val {
    enum class Kind { Const, Slot, Word, Absent };
    Kind kind = Kind::Const;
    std::int64_t value = 0;  // Const
    std::uint32_t slot = 0;  // Slot: context slot; Word: header word
    bool check = false;      // Slot: test the presence bit first
};

class Generator {
public:
    Generator(const std::vector<Module>& modules, const sema::Model& model, const source::SourceManager& sources,
              const Options& options)
        : modules_(modules), model_(model), sources_(sources), options_(options) {}

    bool run(policy::Image& out, std::string& error);

private:
    // ---- pass 1: strings
    void collectStrings();
    void collect(const Expr& e);
    std::uint32_t sid(const std::string& s) const {
        auto it = std::lower_bound(image_.strings.begin(), image_.strings.end(), s);
        return static_cast<std::uint32_t>(it - image_.strings.begin());  // INVARIANT: collected in pass 1
    }

    // ---- tables
    void buildTables();
    void toolCallers();
    std::uint32_t constSet(std::vector<std::uint64_t> items);
    std::uint32_t matcher(policy::Matcher::Kind kind, const std::vector<std::string>& patterns);
    std::uint64_t literalSlotValue(const Expr& e, TypeKind type);
    std::uint32_t labelIndex(const std::string& name) const {
        return static_cast<std::uint32_t>(*model_.lattice.find(name));
    }
    std::uint32_t agentIndex(const std::string& name) const;

    // ---- code
    void program();
    void section(Action action, const std::vector<RuleRef>& rules);
    void tree(const std::vector<std::uint32_t>& keys, std::size_t lo, std::size_t hi, Asm::Label common,
              const std::vector<Asm::Label>& blocks);
    void rule(const RuleRef& r, Action action, std::optional<std::uint32_t> key,
              std::optional<std::pair<std::uint32_t, std::uint32_t>> range);
    void agentGuard(const AgentPattern& p, std::uint32_t word, Asm::Label skip);
    std::vector<std::uint32_t> agentsOf(const AgentPattern& p) const;

    void tri(const Expr& e);  // r0 := 0, 1 or 2
    void junction(const Expr& e);
    void compare(const Expr& e);
    void compareBranch(const Expr& e, Asm::Label no, Asm::Label unknown);
    void branch(const Expr& e, Asm::Label no, Asm::Label unknown);
    void condition(const Expr& e, Asm::Label skip, bool permit);
    void compareBools(const Expr& e);
    void inGroup(const Expr& lhs, const sema::GroupInfo& g);
    void inKernels(const Expr& lhs, const sema::KernelSetInfo& k);
    void kernelPart(const Val& v, bool module, const sema::KernelSetInfo& k);
    void hasTest(const Expr& e);
    void boolPath(const Expr& e);

    Val operand(const Expr& e);
    Val resolve(const std::vector<Ident>& path);
    void load(const Val& v, std::uint8_t r, Asm::Label unknown);
    void presence(std::uint32_t slot, std::uint8_t r, Asm::Label unknown);
    // After code that left 0/2 in r0 and may have jumped to `unknown`: the unknown case sets 1.
    void unknownTail(Asm::Label unknown, Asm::Label end);
    std::int16_t stackSlot() const { return static_cast<std::int16_t>(-8 * static_cast<int>(depth_)); }
    void fail(const std::string& message) {
        if (error_.empty()) error_ = message;
    }

    const std::vector<Module>& modules_;
    const sema::Model& model_;
    const source::SourceManager& sources_;
    const Options& options_;
    std::string error_;

    policy::Image image_;
    std::set<std::string> pool_;
    std::vector<std::string> attributeNames_;  // sorted; index = attribute index
    std::map<std::vector<std::uint64_t>, std::uint32_t> setIndex_;
    std::map<std::pair<int, std::vector<std::string>>, std::uint32_t> matcherIndex_;
    std::map<std::vector<std::pair<bool, std::uint32_t>>, std::uint32_t> dynamicIndex_;
    std::vector<RuleRef> rules_;

    Asm asm_;
    Action action_ = Action::Tool;          // of the rule being generated
    const sema::ToolInfo* tool_ = nullptr;  // its target tool, when it is generated for one
    std::uint32_t depth_ = 0;               // and/or nesting in use
};

// ---------------------------------------------------------------------------------------------------------------
// Pass 1

void Generator::collect(const Expr& e) {
    if (e.kind == Expr::Kind::String) pool_.insert(e.text);
    if (e.kind == Expr::Kind::Hash) pool_.insert(hashText(e));
    for (const auto& k : e.kids) collect(*k);
}

void Generator::collectStrings() {
    for (const auto& l : model_.lattice.names) pool_.insert(l);
    for (const auto& [name, a] : model_.agents) {
        pool_.insert(name);
        if (a.owner) pool_.insert(*a.owner);
        if (a.measurement) pool_.insert(*a.measurement);
        for (const auto& [attr, v] : a.attributes) {
            pool_.insert(attr);
            if (v.expr) collect(*v.expr);
        }
    }
    for (const auto& [name, t] : model_.tools) {
        pool_.insert(name);
        pool_.insert(name.substr(0, name.find('.')));
        if (!t.pin.empty()) pool_.insert(t.pin);
        for (const auto& p : t.params) pool_.insert(p.name);
    }
    for (const auto& [name, d] : model_.data) {
        pool_.insert(name);
        if (d.region) pool_.insert(*d.region);
        if (d.owner) pool_.insert(*d.owner);
        pool_.insert(d.purposes.begin(), d.purposes.end());
        pool_.insert(d.fields.begin(), d.fields.end());
    }
    for (const auto& [name, k] : model_.kernels) {
        pool_.insert(k.modules.begin(), k.modules.end());
        pool_.insert(k.names.begin(), k.names.end());
    }
    for (const auto& [name, s] : model_.sets)
        if (s.type != TypeKind::LabelSet) pool_.insert(s.values.begin(), s.values.end());
    for (const auto& m : model_.modules) {
        pool_.insert(m.name);
        pool_.insert(m.principal);
    }
    for (const Module& m : modules_) {
        for (const Item& item : m.items) {
            if (const auto* a = std::get_if<AttributeDecl>(&item)) pool_.insert(a->name.text);
            const Body* body = nullptr;
            const std::vector<Obligation>* obligations = nullptr;
            Span span;
            if (const auto* r = std::get_if<Rule>(&item)) {
                body = &r->body;
                obligations = &r->obligations;
                span = r->span;
            } else if (const auto* o = std::get_if<ObligationRule>(&item)) {
                body = &o->body;
                obligations = &o->obligations;
                span = o->span;
            } else {
                continue;
            }
            pool_.insert(m.header.name.text + ":" + std::to_string(span.begin.line));
            if (body->condition) collect(*body->condition);
            for (const Obligation& o : *obligations)
                for (const auto& a : o.args) pool_.insert(a->text);
        }
    }
    image_.strings.assign(pool_.begin(), pool_.end());
}

// ---------------------------------------------------------------------------------------------------------------
// Tables

std::uint32_t Generator::constSet(std::vector<std::uint64_t> items) {
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    auto [it, inserted] = setIndex_.try_emplace(items, static_cast<std::uint32_t>(image_.sets.size()));
    if (inserted) image_.sets.push_back(items);
    return it->second;
}

std::uint32_t Generator::matcher(policy::Matcher::Kind kind, const std::vector<std::string>& patterns) {
    auto [it, inserted] = matcherIndex_.try_emplace({static_cast<int>(kind), patterns},
                                                    static_cast<std::uint32_t>(image_.matchers.size()));
    if (inserted) {
        policy::Matcher m;
        m.kind = kind;
        for (const std::string& p : patterns) m.patterns.push_back(sid(p));
        image_.matchers.push_back(std::move(m));
    }
    return it->second;
}

std::uint32_t Generator::agentIndex(const std::string& name) const {
    auto it = model_.agents.find(name);
    if (it == model_.agents.end()) return kNone;
    return static_cast<std::uint32_t>(std::distance(model_.agents.begin(), it));
}

// The slot encoding of a declared literal (an agent attribute).
std::uint64_t Generator::literalSlotValue(const Expr& e, TypeKind type) {
    switch (e.kind) {
        case Expr::Kind::String: return sid(e.text);
        case Expr::Kind::Hash: return sid(hashText(e));
        case Expr::Kind::Int:
        case Expr::Kind::Bool: return static_cast<std::uint64_t>(e.number);
        case Expr::Kind::Quantity: return static_cast<std::uint64_t>(quantityValue(e));
        case Expr::Kind::Path: return labelIndex(e.path[0].text);
        case Expr::Kind::Set: {
            std::vector<std::uint64_t> items;
            for (const auto& k : e.kids) items.push_back(literalSlotValue(*k, type));
            return kConstSetTag | constSet(std::move(items));
        }
        default: return 0;
    }
}

void Generator::buildTables() {
    const sema::Lattice& lat = model_.lattice;
    const std::size_t n = lat.names.size();
    for (const auto& name : lat.names) image_.lattice.names.push_back(sid(name));
    image_.lattice.leq.assign((n * n + 63) / 64, 0);
    for (std::size_t a = 0; a < n; ++a)
        for (std::size_t b = 0; b < n; ++b)
            if (lat.le(static_cast<int>(a), static_cast<int>(b)))
                image_.lattice.leq[(a * n + b) / 64] |= std::uint64_t{1} << ((a * n + b) % 64);

    // Attributes: every declared one and every one an agent gives, in name order.
    std::map<std::string, schema::Type> attributes;
    for (const Module& m : modules_)
        for (const Item& item : m.items)
            if (const auto* a = std::get_if<AttributeDecl>(&item)) {
                const std::string& t = a->type.name.text;
                schema::Type type = t == "int"        ? schema::Type::Int
                                    : t == "bool"     ? schema::Type::Bool
                                    : t == "duration" ? schema::Type::Duration
                                    : t == "size"     ? schema::Type::Size
                                    : t == "label"    ? schema::Type::Label
                                    : t == "set"
                                        ? (a->type.elem && a->type.elem->text == "label" ? schema::Type::LabelSet
                                                                                         : schema::Type::StringSet)
                                        : schema::Type::String;
                attributes.emplace(a->name.text, type);
            }
    for (const auto& [name, a] : model_.agents)
        for (const auto& [attr, v] : a.attributes) attributes.emplace(attr, schemaType(v.type));
    for (const auto& [name, type] : attributes) {
        attributeNames_.push_back(name);
        image_.attributes.push_back({sid(name), type});
    }

    for (const auto& [name, a] : model_.agents) {
        policy::Agent row;
        row.name = sid(name);
        if (a.owner) row.owner = sid(*a.owner);
        if (a.measurement) row.measurement = sid(*a.measurement);
        row.attributes.resize(attributeNames_.size());
        for (std::size_t k = 0; k < attributeNames_.size(); ++k) {
            auto it = a.attributes.find(attributeNames_[k]);
            if (it == a.attributes.end() || !it->second.expr) continue;
            row.attributes[k] = {true, literalSlotValue(*it->second.expr, it->second.type)};
        }
        image_.agents.push_back(std::move(row));
    }
    for (const auto& [name, t] : model_.tools) {
        policy::Tool row;
        row.name = sid(name);
        row.provider = sid(name.substr(0, name.find('.')));
        if (t.resultLabel) row.label = static_cast<std::uint32_t>(*t.resultLabel);
        row.sink = t.sink;
        row.privileged = t.privileged;
        if (!t.pin.empty()) row.pin = sid(t.pin);  // the parser lowercased the digits: the canonical text
        for (const auto& p : t.params) row.params.push_back({sid(p.name), schemaType(p.type)});
        image_.tools.push_back(std::move(row));
    }
    for (const auto& [name, d] : model_.data) {
        policy::Data row;
        row.name = sid(name);
        if (d.label) row.label = static_cast<std::uint32_t>(*d.label);
        if (d.region) row.region = sid(*d.region);
        if (d.owner) row.owner = sid(*d.owner);
        std::vector<std::uint64_t> purposes, fields;
        for (const auto& p : d.purposes) purposes.push_back(sid(p));
        for (const auto& f : d.fields) fields.push_back(sid(f));
        row.purposes = constSet(std::move(purposes));
        row.fields = constSet(std::move(fields));
        image_.data.push_back(std::move(row));
    }

    // Modules, rules and consents, in program order (the reference evaluator's order).
    for (const auto& m : model_.modules) {
        policy::Module row;
        row.name = sid(m.name);
        row.principal = sid(m.principal);
        row.version = m.version;
        row.root = m.root;
        image_.modules.push_back(row);
    }
    for (std::size_t mi = 0; mi < modules_.size(); ++mi) {
        const Module& m = modules_[mi];
        if (mi < image_.modules.size() && m.file != source::kNoFile) {
            const std::string& text = sources_.file(m.file).text;
            SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                   image_.modules[mi].sourceHash.data());
        }
        for (const Item& item : m.items) {
            policy::Rule row;
            row.principal = sid(m.header.principal);
            row.module = static_cast<std::uint32_t>(mi);
            const Body* body = nullptr;
            const std::vector<Obligation>* obligations = nullptr;
            if (const auto* r = std::get_if<Rule>(&item)) {
                row.kind = r->effect == Effect::Permit ? policy::Rule::Kind::Permit : policy::Rule::Kind::Forbid;
                row.line = r->span.begin.line;
                if (r->limit) {
                    row.limited = true;
                    row.limit = r->limit->count;
                    const RateLimit& l = *r->limit;
                    static const std::map<std::string, std::int64_t> windows{{"second", 1'000'000'000},
                                                                             {"minute", 60'000'000'000},
                                                                             {"hour", 3'600'000'000'000},
                                                                             {"day", 86'400'000'000'000}};
                    // Sema has checked the window and the key; a bad one is reported there, never generated.
                    if (l.durationWindow) {
                        row.window = l.windowCount * sema::durationUnit(l.windowUnit.text).value_or(0);
                    } else if (auto w = windows.find(l.windowUnit.text); w != windows.end()) {
                        row.window = w->second;
                    }
                    const std::string key = l.key ? l.key->text : "agent";
                    row.key = key == "session" ? policy::Rule::LimitKey::Session
                              : key == "user"  ? policy::Rule::LimitKey::User
                              : key == "tool"  ? policy::Rule::LimitKey::Tool
                                               : policy::Rule::LimitKey::Agent;
                }
                body = &r->body;
                obligations = &r->obligations;
            } else if (const auto* o = std::get_if<ObligationRule>(&item)) {
                row.kind = policy::Rule::Kind::Obligation;
                row.line = o->span.begin.line;
                body = &o->body;
                obligations = &o->obligations;
            } else {
                if (const auto* c = std::get_if<ConsentDecl>(&item)) {
                    policy::Consent consent;
                    consent.principal = sid(m.header.principal);
                    const ScopeItem& s = c->target;
                    auto cover = [&](const auto& table) {
                        consent.any = s.pattern.any();
                        if (consent.any) return;
                        std::uint32_t i = 0;
                        for (const auto& [name, _] : table) {
                            if (sema::patternMatches(s.pattern, name)) consent.ids.push_back(i);
                            ++i;
                        }
                    };
                    switch (s.kind) {
                        case ScopeItem::Kind::Tool:
                            consent.scope = policy::Consent::Scope::Tool;
                            cover(model_.tools);
                            break;
                        case ScopeItem::Kind::Data:
                            consent.scope = policy::Consent::Scope::Data;
                            cover(model_.data);
                            break;
                        case ScopeItem::Kind::Agent:
                            consent.scope = policy::Consent::Scope::Agent;
                            cover(model_.agents);
                            break;
                        case ScopeItem::Kind::Area:
                            consent.scope =
                                s.area.text == "gpu" ? policy::Consent::Scope::Gpu : policy::Consent::Scope::Net;
                            break;
                    }
                    image_.consents.push_back(std::move(consent));
                }
                continue;
            }
            row.id = sid(m.header.name.text + ":" + std::to_string(row.line));
            std::set<std::uint32_t> redact, approve;
            for (const Obligation& o : *obligations) {
                if (o.name.text == "audit") row.audit = true;
                for (const auto& a : o.args) (o.name.text == "redact" ? redact : approve).insert(sid(a->text));
            }
            row.redact.assign(redact.begin(), redact.end());
            row.approve.assign(approve.begin(), approve.end());
            rules_.push_back({body, row.kind, static_cast<std::uint32_t>(image_.rules.size())});
            image_.rules.push_back(std::move(row));
        }
    }
    toolCallers();
}

// Tool::callers, for a gateway that shows an agent only the tools it could ever be allowed: every agent that the
// subject of a permit rule covering the tool names. Conditions, rate limits, consent and `governs` scoping can only
// narrow a permit, so leaving them out over-approximates, which is the safe side.
void Generator::toolCallers() {
    std::vector<bool> everyone(image_.tools.size(), false);
    std::vector<std::vector<std::uint32_t>> agents(image_.tools.size());
    for (const RuleRef& r : rules_) {
        const Body& b = *r.body;
        if (r.kind != policy::Rule::Kind::Permit || b.action != Action::Tool) continue;
        const bool any = !b.subject || b.subject->kind == AgentPattern::Kind::Any;
        const std::vector<std::uint32_t> named = any ? std::vector<std::uint32_t>{} : agentsOf(*b.subject);
        std::size_t i = 0;
        for (const auto& [name, _] : model_.tools) {
            if (!b.target || sema::patternMatches(*b.target, name)) {
                if (any) everyone[i] = true;
                agents[i].insert(agents[i].end(), named.begin(), named.end());
            }
            ++i;
        }
    }
    for (std::size_t i = 0; i < image_.tools.size(); ++i) {
        if (everyone[i]) continue;  // kNone: every declared agent may be allowed
        std::vector<std::uint64_t> names;
        for (std::uint32_t a : agents[i]) names.push_back(image_.agents[a].name);
        image_.tools[i].callers = constSet(std::move(names));  // empty when no permit names the tool
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Code: dispatch

void Generator::program() {
    asm_.mov(kCtx, Reg{1});
    asm_.load(7, kCtx, 0);  // the action; the chain below runs before any rule code, so r7 survives it
    std::vector<std::pair<Action, std::vector<RuleRef>>> sections;
    for (Action a : kAllActions) {
        std::vector<RuleRef> rules;
        for (const RuleRef& r : rules_)
            if (r.body->action == a) rules.push_back(r);
        if (!rules.empty()) sections.emplace_back(a, std::move(rules));
    }
    Asm::Label end = asm_.label();
    for (std::size_t i = 0; i < sections.size(); ++i) {
        const bool last = i + 1 == sections.size();
        Asm::Label next = last ? end : asm_.label();
        asm_.jump(Cond::Ne, 7, Imm{static_cast<std::int32_t>(sections[i].first)}, next);
        section(sections[i].first, sections[i].second);
        if (!last) {
            asm_.jump(end);
            asm_.bind(next);
        }
    }
    asm_.bind(end);
    asm_.mov(0, 0);
    asm_.exit();
}

std::vector<std::uint32_t> Generator::agentsOf(const AgentPattern& p) const {
    std::vector<std::uint32_t> out;
    auto add = [&](const std::string& name) {
        std::uint32_t i = agentIndex(name);
        if (i != kNone) out.push_back(i);
    };
    if (p.kind == AgentPattern::Kind::Group) {
        auto g = model_.groups.find(p.names[0].text);
        if (g != model_.groups.end())
            for (const auto& m : g->second.members) add(m);
    } else {
        for (const Ident& n : p.names) add(n.text);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

void Generator::section(Action action, const std::vector<RuleRef>& rules) {
    // Place each rule: in the blocks of the keys it can apply to, or once in the common block.
    std::map<std::uint32_t, std::vector<const RuleRef*>> blocks;
    struct Common {
        const RuleRef* rule;
        std::optional<std::pair<std::uint32_t, std::uint32_t>> range;
    };
    std::vector<Common> common;
    for (const RuleRef& r : rules) {
        const Body& b = *r.body;
        if (targeted(action)) {
            std::vector<std::uint32_t> covered;
            std::uint32_t i = 0;
            auto scan = [&](const auto& table) {
                for (const auto& [name, _] : table) {
                    if (!b.target || sema::patternMatches(*b.target, name)) covered.push_back(i);
                    ++i;
                }
            };
            if (action == Action::Tool) {
                scan(model_.tools);
            } else {
                scan(model_.data);
            }
            const bool args = readsArgs(b.condition.get());
            const bool all = !b.target || b.target->any();
            if (covered.empty()) continue;  // names nothing declared: no request can reach it
            if (args || (!all && covered.size() <= kDuplicateLimit)) {
                for (std::uint32_t k : covered) blocks[k].push_back(&r);
            } else if (all) {
                common.push_back({&r, std::nullopt});
            } else {
                // Names with a common prefix are contiguous in the sorted table.
                common.push_back({&r, std::make_pair(covered.front(), covered.back())});
            }
        } else {
            if (!b.subject || b.subject->kind == AgentPattern::Kind::Any) {
                common.push_back({&r, std::nullopt});
                continue;
            }
            std::vector<std::uint32_t> agents = agentsOf(*b.subject);
            if (agents.empty()) continue;
            if (agents.size() <= kDuplicateLimit) {
                for (std::uint32_t k : agents) blocks[k].push_back(&r);
            } else {
                common.push_back({&r, std::nullopt});
            }
        }
    }

    Asm::Label commonLabel = asm_.label();
    if (!blocks.empty()) {
        std::vector<std::uint32_t> keys;
        std::vector<Asm::Label> labels;
        for (const auto& [k, _] : blocks) {
            keys.push_back(k);
            labels.push_back(asm_.label());
        }
        asm_.load(0, kCtx, static_cast<std::int16_t>(targeted(action) ? 8 : 16));
        tree(keys, 0, keys.size() - 1, commonLabel, labels);
        for (std::size_t i = 0; i < keys.size(); ++i) {
            asm_.bind(labels[i]);
            for (const RuleRef* r : blocks.at(keys[i])) rule(*r, action, keys[i], std::nullopt);
            asm_.jump(commonLabel);  // dropped after the last block, which falls into the common rules
        }
    }
    asm_.bind(commonLabel);
    for (const Common& c : common) rule(*c.rule, action, std::nullopt, c.range);
}

// Keys [lo, hi] of the sorted `keys`, r0 holding the dispatch word: a binary search that ends in a jump to the
// key's block, or to `common` for a key without one. The tree's code is contiguous (the blocks follow it), so a
// search touches a few cache lines even when the program is megabytes long.
void Generator::tree(const std::vector<std::uint32_t>& keys, std::size_t lo, std::size_t hi, Asm::Label common,
                     const std::vector<Asm::Label>& blocks) {
    if (lo == hi) {
        asm_.jump(Cond::Eq, 0, Imm{static_cast<std::int32_t>(keys[lo])}, blocks[lo]);
        asm_.jump(common);
        return;
    }
    const std::size_t mid = lo + (hi - lo) / 2;
    Asm::Label right = asm_.label();
    asm_.jump(Cond::Gt, 0, Imm{static_cast<std::int32_t>(keys[mid])}, right);
    tree(keys, lo, mid, common, blocks);
    asm_.bind(right);
    tree(keys, mid + 1, hi, common, blocks);
}

void Generator::agentGuard(const AgentPattern& p, std::uint32_t word, Asm::Label skip) {
    std::vector<std::uint32_t> agents = agentsOf(p);
    asm_.load(0, kCtx, static_cast<std::int16_t>(8 * word));
    // INVARIANT: `agents` is not empty (rule() gives such rules no code).
    if (agents.size() > 8) {
        asm_.mov(2, Reg{0});
        asm_.mov(1, static_cast<std::int64_t>(kConstSetTag | constSet({agents.begin(), agents.end()})));
        asm_.call(vm::kSetHas);
        asm_.jump(Cond::Eq, 0, Imm{0}, skip);
        return;
    }
    Asm::Label ok = asm_.label();
    for (std::size_t i = 0; i + 1 < agents.size(); ++i)
        asm_.jump(Cond::Eq, 0, Imm{static_cast<std::int32_t>(agents[i])}, ok);
    asm_.jump(Cond::Ne, 0, Imm{static_cast<std::int32_t>(agents.back())}, skip);
    if (asm_.used(ok)) asm_.bind(ok);
}

void Generator::rule(const RuleRef& r, Action action, std::optional<std::uint32_t> key,
                     std::optional<std::pair<std::uint32_t, std::uint32_t>> range) {
    const Body& b = *r.body;
    action_ = action;
    tool_ = nullptr;
    if (key && action == Action::Tool) tool_ = &std::next(model_.tools.begin(), *key)->second;
    const bool keyedBySubject = key && !targeted(action);
    const bool subjectGuard = b.subject && b.subject->kind != AgentPattern::Kind::Any && !keyedBySubject;
    const bool recipientGuard = action == Action::Send && b.recipient && b.recipient->kind != AgentPattern::Kind::Any;
    // A subject or recipient that names no declared agent matches no request: the rule has no code.
    if ((subjectGuard && agentsOf(*b.subject).empty()) || (recipientGuard && agentsOf(*b.recipient).empty())) return;
    Asm::Label skip = asm_.label();
    if (subjectGuard) agentGuard(*b.subject, 2, skip);
    if (recipientGuard) agentGuard(*b.recipient, 3, skip);
    if (range) {
        asm_.load(0, kCtx, 8);
        asm_.jump(Cond::Lt, 0, Imm{static_cast<std::int32_t>(range->first)}, skip);
        asm_.jump(Cond::Gt, 0, Imm{static_cast<std::int32_t>(range->second)}, skip);
    }
    if (!b.condition) {
        asm_.mov(2, 2);
    } else if (r.kind == policy::Rule::Kind::Permit) {
        condition(*b.condition, skip, true);
        asm_.mov(2, 2);
    } else {
        asm_.mov(9, 2);
        condition(*b.condition, skip, false);
        asm_.mov(2, Reg{9});
    }
    asm_.mov(1, static_cast<std::int64_t>(r.index));
    asm_.call(vm::kMatch);
    if (asm_.used(skip)) asm_.bind(skip);
}

// ---------------------------------------------------------------------------------------------------------------
// Code: conditions

void Generator::unknownTail(Asm::Label unknown, Asm::Label end) {
    if (asm_.used(unknown)) {
        asm_.jump(end);
        asm_.bind(unknown);
        asm_.mov(0, 1);
    }
    asm_.bind(end);
}

void Generator::presence(std::uint32_t slot, std::uint8_t r, Asm::Label unknown) {
    auto [word, bit] = image_.layout().presence(slot);
    asm_.load(r, kCtx, static_cast<std::int16_t>(8 * word));
    if (bit < 31) {
        asm_.alu(AluOp::And, r, static_cast<std::int32_t>(1u << bit));
    } else {
        asm_.alu(AluOp::Rsh, r, static_cast<std::int32_t>(bit));
        asm_.alu(AluOp::And, r, 1);
    }
    asm_.jump(Cond::Eq, r, Imm{0}, unknown);
}

void Generator::load(const Val& v, std::uint8_t r, Asm::Label unknown) {
    switch (v.kind) {
        case Val::Kind::Const: asm_.mov(r, v.value); break;
        case Val::Kind::Word: asm_.load(r, kCtx, static_cast<std::int16_t>(8 * v.slot)); break;
        case Val::Kind::Slot:
            if (v.check) presence(v.slot, r, unknown);
            asm_.load(r, kCtx, static_cast<std::int16_t>(8 * v.slot));
            break;
        case Val::Kind::Absent: asm_.jump(unknown); break;  // INVARIANT: callers handle Absent before loading
    }
}

Val Generator::resolve(const std::vector<Ident>& path) {
    const std::string& root = path[0].text;
    Val v;
    if (path.size() == 1 && !schema::isRoot(root)) {
        if (auto l = model_.lattice.find(root)) {
            v.value = *l;
        } else if (auto s = model_.sets.find(root); s != model_.sets.end()) {
            std::vector<std::uint64_t> items;
            for (const auto& x : s->second.values)
                items.push_back(s->second.type == TypeKind::LabelSet ? labelIndex(x) : sid(x));
            v.value = static_cast<std::int64_t>(kConstSetTag | constSet(std::move(items)));
        } else {
            v.value = agentIndex(root);
        }
        return v;
    }
    const std::string field = path.size() > 1 ? path[1].text : "";
    if ((root == "agent" || root == "recipient") && field.empty()) {
        v.kind = Val::Kind::Word;
        v.slot = root == "agent" ? 2 : 3;
        return v;
    }
    v.kind = Val::Kind::Slot;
    v.check = true;
    const policy::Layout layout = image_.layout();
    if (root == "args") {
        std::uint32_t k = 0;
        while (tool_ && k < tool_->params.size() && tool_->params[k].name != field) ++k;
        if (!tool_ || k == tool_->params.size()) {
            fail("internal error: args." + field + " outside a tool block");
            v.kind = Val::Kind::Absent;
            return v;
        }
        v.slot = schema::argsSlot() + k;
        return v;
    }
    if (const schema::Field* f = schema::find(root, field)) {
        v.slot = f->slot;
        v.check = !alwaysPresent(*f, action_);
        return v;
    }
    if (root == "agent" || root == "recipient") {
        auto it = std::lower_bound(attributeNames_.begin(), attributeNames_.end(), field);
        if (it == attributeNames_.end() || *it != field) {
            v.kind = Val::Kind::Absent;  // no agent has it
            return v;
        }
        const auto k = static_cast<std::uint32_t>(it - attributeNames_.begin());
        v.slot = root == "agent" ? layout.agentAttribute(k) : layout.recipientAttribute(k);
        return v;
    }
    fail("internal error: no slot for " + root + "." + field);
    v.kind = Val::Kind::Absent;
    return v;
}

Val Generator::operand(const Expr& e) {
    Val v;
    switch (e.kind) {
        case Expr::Kind::String: v.value = sid(e.text); return v;
        case Expr::Kind::Hash: v.value = sid(hashText(e)); return v;
        case Expr::Kind::Int:
        case Expr::Kind::Bool: v.value = e.number; return v;
        case Expr::Kind::Quantity: v.value = quantityValue(e); return v;
        case Expr::Kind::Path: return resolve(e.path);
        case Expr::Kind::Set: {
            std::vector<policy::DynamicSet::Element> elements;
            bool dynamic = false;
            for (const auto& k : e.kids) {
                Val x = operand(*k);
                if (x.kind == Val::Kind::Absent) return x;
                if (x.kind == Val::Kind::Slot) {
                    dynamic = true;
                    elements.push_back({true, x.slot});
                } else {
                    elements.push_back({false, static_cast<std::uint32_t>(x.value)});
                }
            }
            if (!dynamic) {
                std::vector<std::uint64_t> items;
                for (const auto& el : elements) items.push_back(el.value);
                v.value = static_cast<std::int64_t>(kConstSetTag | constSet(std::move(items)));
                return v;
            }
            std::vector<std::pair<bool, std::uint32_t>> key;
            for (const auto& el : elements) key.emplace_back(el.fromSlot, el.value);
            auto [it, inserted] = dynamicIndex_.try_emplace(key, static_cast<std::uint32_t>(image_.dynamicSets.size()));
            if (inserted) image_.dynamicSets.push_back({elements});
            v.kind = Val::Kind::Slot;
            v.check = true;
            v.slot = image_.layout().dynamicSet(it->second);
            return v;
        }
        default:
            fail("internal error: not an operand");
            v.kind = Val::Kind::Absent;
            return v;
    }
}

void Generator::tri(const Expr& e) {
    switch (e.kind) {
        case Expr::Kind::Bool: asm_.mov(0, e.number ? 2 : 0); return;
        case Expr::Kind::Not:
            tri(*e.kids[0]);
            asm_.emit(isa::Alu{AluOp::Neg, {0}, Imm{0}});
            asm_.alu(AluOp::Add, 0, 2);
            return;
        case Expr::Kind::Has: hasTest(e); return;
        case Expr::Kind::Binary:
            if (e.op == BinOp::And || e.op == BinOp::Or) {
                junction(e);
            } else {
                compare(e);
            }
            return;
        case Expr::Kind::Path: boolPath(e); return;
        default:
            fail("internal error: a condition that is not a bool");
            asm_.mov(0, 1);
            return;
    }
}

void Generator::junction(const Expr& e) {
    if (depth_ >= kStackSlots) {
        fail("a condition nests `and` and `or` more than " + std::to_string(kStackSlots) +
             " deep, more than the bytecode's scratch stack holds");
        asm_.mov(0, 1);
        return;
    }
    ++depth_;
    const std::int16_t slot = stackSlot();
    const bool isAnd = e.op == BinOp::And;
    Asm::Label done = asm_.label();
    tri(*e.kids[0]);
    for (std::size_t i = 1; i < e.kids.size(); ++i) {
        asm_.jump(Cond::Eq, 0, Imm{isAnd ? 0 : 2}, done);  // decided
        asm_.store(10, slot, 0);
        tri(*e.kids[i]);
        asm_.load(1, 10, slot);
        Asm::Label keep = asm_.label();
        asm_.jump(isAnd ? Cond::Le : Cond::Ge, 0, Reg{1}, keep);
        asm_.mov(0, Reg{1});
        asm_.bind(keep);
    }
    asm_.bind(done);
    --depth_;
}

void Generator::hasTest(const Expr& e) {
    Val v = resolve(e.path);
    if (v.kind == Val::Kind::Absent) {
        asm_.mov(0, 0);
        return;
    }
    if (v.kind != Val::Kind::Slot || !v.check) {
        asm_.mov(0, 2);
        return;
    }
    auto [word, bit] = image_.layout().presence(v.slot);
    asm_.load(0, kCtx, static_cast<std::int16_t>(8 * word));
    if (bit) asm_.alu(AluOp::Rsh, 0, static_cast<std::int32_t>(bit));
    asm_.alu(AluOp::And, 0, 1);
    asm_.alu(AluOp::Lsh, 0, 1);
}

void Generator::boolPath(const Expr& e) {
    Val v = resolve(e.path);
    if (v.kind == Val::Kind::Absent) {
        asm_.mov(0, 1);
        return;
    }
    Asm::Label unknown = asm_.label(), end = asm_.label();
    load(v, 0, unknown);
    asm_.alu(AluOp::Lsh, 0, 1);
    unknownTail(unknown, end);
}

// `(a < b) == c`: both sides are conditions; unknown when either is.
void Generator::compareBools(const Expr& e) {
    if (depth_ >= kStackSlots) {
        fail("a condition is nested deeper than the bytecode's scratch stack holds");
        asm_.mov(0, 1);
        return;
    }
    ++depth_;
    const std::int16_t slot = stackSlot();
    Asm::Label unknown = asm_.label(), end = asm_.label();
    auto side = [&](const Expr& x, std::uint8_t r) {
        if (isBoolExpr(x)) {
            tri(x);
            asm_.jump(Cond::Eq, 0, Imm{1}, unknown);
            asm_.alu(AluOp::Rsh, 0, 1);
            if (r != 0) asm_.mov(r, Reg{0});
        } else {
            Val v = operand(x);
            if (v.kind == Val::Kind::Absent) {
                asm_.jump(unknown);
                return false;
            }
            load(v, r, unknown);
        }
        return true;
    };
    if (!side(*e.kids[0], 0)) {
        --depth_;
        asm_.bind(unknown);
        asm_.mov(0, 1);
        asm_.bind(end);
        return;
    }
    asm_.store(10, slot, 0);
    if (!side(*e.kids[1], 0)) {
        --depth_;
        asm_.bind(unknown);
        asm_.mov(0, 1);
        asm_.bind(end);
        return;
    }
    asm_.load(1, 10, slot);
    asm_.mov(2, Reg{0});
    asm_.mov(0, 2);
    asm_.jump(e.op == BinOp::Eq ? Cond::Eq : Cond::Ne, 1, Reg{2}, end);
    asm_.mov(0, 0);
    unknownTail(unknown, end);
    --depth_;
}

void Generator::inGroup(const Expr& lhs, const sema::GroupInfo& g) {
    Val v = operand(lhs);
    if (v.kind == Val::Kind::Absent) {
        asm_.mov(0, 1);
        return;
    }
    std::vector<std::uint64_t> members;
    for (const auto& m : g.members)
        if (std::uint32_t i = agentIndex(m); i != kNone) members.push_back(i);
    Asm::Label unknown = asm_.label(), end = asm_.label();
    load(v, 2, unknown);
    asm_.mov(1, static_cast<std::int64_t>(kConstSetTag | constSet(std::move(members))));
    asm_.call(vm::kSetHas);
    asm_.alu(AluOp::Lsh, 0, 1);
    unknownTail(unknown, end);
}

// One part of `x in KERNELS`: r0 := tri of the module (set_has) or the name (glob) test.
void Generator::kernelPart(const Val& v, bool module, const sema::KernelSetInfo& k) {
    if (v.kind == Val::Kind::Absent) {
        asm_.mov(0, 1);
        return;
    }
    Asm::Label unknown = asm_.label(), end = asm_.label();
    if (module) {
        std::vector<std::uint64_t> modules;
        for (const auto& m : k.modules) modules.push_back(sid(m));
        load(v, 2, unknown);
        asm_.mov(1, static_cast<std::int64_t>(kConstSetTag | constSet(std::move(modules))));
        asm_.call(vm::kSetHas);
        asm_.alu(AluOp::Lsh, 0, 1);
    } else if (k.names.empty()) {
        load(v, 0, unknown);  // only for the presence test
        asm_.mov(0, 0);
    } else {
        load(v, 2, unknown);
        asm_.mov(1, matcher(policy::Matcher::Kind::Glob, k.names));
        asm_.call(vm::kGlob);
        asm_.alu(AluOp::Lsh, 0, 1);
    }
    unknownTail(unknown, end);
}

void Generator::inKernels(const Expr& lhs, const sema::KernelSetInfo& k) {
    if (lhs.type == TypeKind::Kernel) {
        // Both parts, combined as Kleene `and`: r7 keeps the module part across the name part's call.
        kernelPart(resolve({Ident{"kernel", {}}, Ident{"module", {}}}), true, k);
        asm_.mov(7, Reg{0});
        kernelPart(resolve({Ident{"kernel", {}}, Ident{"name", {}}}), false, k);
        Asm::Label keep = asm_.label();
        asm_.jump(Cond::Le, 0, Reg{7}, keep);
        asm_.mov(0, Reg{7});
        asm_.bind(keep);
        return;
    }
    kernelPart(operand(lhs), lhs.type == TypeKind::Hash, k);
}

// A comparison as a value: r0 := 2, 0 or 1.
void Generator::compare(const Expr& e) {
    const Expr& rhs = *e.kids[1];
    if (e.op == BinOp::In && rhs.kind == Expr::Kind::Path && rhs.path.size() == 1) {
        const std::string& name = rhs.path[0].text;
        if (auto k = model_.kernels.find(name); k != model_.kernels.end()) return inKernels(*e.kids[0], k->second);
        if (auto g = model_.groups.find(name); g != model_.groups.end()) return inGroup(*e.kids[0], g->second);
    }
    if (isBoolExpr(*e.kids[0]) || isBoolExpr(rhs)) return compareBools(e);
    if (operand(*e.kids[0]).kind == Val::Kind::Absent || operand(rhs).kind == Val::Kind::Absent) {
        asm_.mov(0, 1);
        return;
    }
    Asm::Label no = asm_.label(), unknown = asm_.label(), end = asm_.label();
    compareBranch(e, no, unknown);
    asm_.mov(0, 2);
    if (asm_.used(no) || asm_.used(unknown)) asm_.jump(end);
    if (asm_.used(no)) {
        asm_.bind(no);
        asm_.mov(0, 0);
        if (asm_.used(unknown)) asm_.jump(end);
    }
    if (asm_.used(unknown)) {
        asm_.bind(unknown);
        asm_.mov(0, 1);
    }
    asm_.bind(end);
}

// Falls through when the condition is true; jumps to `no` when it is false and to `unknown` when it is unknown.
void Generator::branch(const Expr& e, Asm::Label no, Asm::Label unknown) {
    const bool simpleCompare =
        e.kind == Expr::Kind::Binary && e.op != BinOp::And && e.op != BinOp::Or && !isBoolExpr(*e.kids[0]) &&
        !isBoolExpr(*e.kids[1]) &&
        !(e.op == BinOp::In && e.kids[1]->kind == Expr::Kind::Path && e.kids[1]->path.size() == 1 &&
          (model_.kernels.count(e.kids[1]->path[0].text) || model_.groups.count(e.kids[1]->path[0].text))) &&
        operand(*e.kids[0]).kind != Val::Kind::Absent && operand(*e.kids[1]).kind != Val::Kind::Absent;
    if (simpleCompare) return compareBranch(e, no, unknown);
    if (e.kind == Expr::Kind::Path) {
        Val v = resolve(e.path);
        if (v.kind != Val::Kind::Absent) {
            load(v, 0, unknown);
            asm_.jump(Cond::Eq, 0, Imm{0}, no);
            return;
        }
    }
    tri(e);
    asm_.jump(Cond::Eq, 0, Imm{0}, no);
    asm_.jump(Cond::Ne, 0, Imm{2}, unknown);
}

// A rule's condition as control flow. A permit matches only when it is true, so false and unknown both skip it; a
// forbid or obligation rule matches when it is true (r9 = 2) or unknown (r9 = 1), so an unknown conjunct lowers r9
// and evaluation goes on: a later false conjunct still skips (Kleene `and`).
void Generator::condition(const Expr& e, Asm::Label skip, bool permit) {
    if (e.kind == Expr::Kind::Binary && e.op == BinOp::And) {
        for (const auto& k : e.kids) condition(*k, skip, permit);
        return;
    }
    if (permit) {
        branch(e, skip, skip);
        return;
    }
    Asm::Label unknown = asm_.label(), next = asm_.label();
    branch(e, skip, unknown);
    if (asm_.used(unknown)) {
        asm_.jump(next);
        asm_.bind(unknown);
        asm_.mov(9, 1);
    }
    asm_.bind(next);
}

// The comparison `e` as control flow (see branch()). INVARIANT: no operand is Absent, and it is not a kernel-set
// or group membership nor a comparison of conditions (compare() and branch() route those elsewhere).
void Generator::compareBranch(const Expr& e, Asm::Label no, Asm::Label unknown) {
    const Expr& lhs = *e.kids[0];
    const Expr& rhs = *e.kids[1];
    Val a = operand(lhs);
    Val b = operand(rhs);
    // A helper that answers 0 or 1 from (r1, r2[, r3 = op]); `invert` for `!=`.
    auto helper = [&](std::int32_t id, const Val& x, const Val& y, std::optional<std::int32_t> op, bool invert) {
        load(x, 1, unknown);
        load(y, 2, unknown);
        if (op) asm_.mov(3, *op);
        asm_.call(id);
        asm_.jump(invert ? Cond::Ne : Cond::Eq, 0, Imm{0}, no);
    };
    // Falls through when `cond` holds between the left operand (r1) and the right one.
    auto jumpCompare = [&](Cond cond) {
        load(a, 1, unknown);
        isa::Operand right = Reg{2};
        if (b.kind == Val::Kind::Const && b.value >= INT32_MIN && b.value <= INT32_MAX) {
            right = Imm{static_cast<std::int32_t>(b.value)};
        } else {
            load(b, 2, unknown);
        }
        asm_.jump(Asm::inverse(cond), 1, right, no);
    };
    const TypeKind lt = lhs.type, rt = rhs.type;
    const auto setCmp = [](vm::SetCmpOp op) { return static_cast<std::int32_t>(op); };
    switch (e.op) {
        case BinOp::Eq:
        case BinOp::Ne:
            if (isSet(lt) || isSet(rt)) return helper(vm::kSetCmp, a, b, setCmp(vm::SetCmpOp::Eq), e.op == BinOp::Ne);
            return jumpCompare(e.op == BinOp::Eq ? Cond::Eq : Cond::Ne);
        case BinOp::Lt:
        case BinOp::Le:
        case BinOp::Gt:
        case BinOp::Ge: {
            if (lt == TypeKind::Int || lt == TypeKind::Size || lt == TypeKind::Duration) {
                const Cond c = e.op == BinOp::Lt   ? Cond::Slt
                               : e.op == BinOp::Le ? Cond::Sle
                               : e.op == BinOp::Gt ? Cond::Sgt
                                                   : Cond::Sge;
                return jumpCompare(c);
            }
            if (rt == TypeKind::Label && lt == TypeKind::Label) {
                // a <= b is label_le(a, b); a >= b is label_le(b, a); the strict forms also need a != b.
                const bool down = e.op == BinOp::Lt || e.op == BinOp::Le;
                load(down ? a : b, 1, unknown);
                load(down ? b : a, 2, unknown);
                if (e.op == BinOp::Lt || e.op == BinOp::Gt) asm_.jump(Cond::Eq, 1, Reg{2}, no);
                asm_.call(vm::kLabelLe);
                asm_.jump(Cond::Eq, 0, Imm{0}, no);
                return;
            }
            if (rt == TypeKind::Label) {
                const vm::TaintOp op = e.op == BinOp::Ge   ? vm::TaintOp::AnyGe
                                       : e.op == BinOp::Gt ? vm::TaintOp::AnyGt
                                       : e.op == BinOp::Le ? vm::TaintOp::AllLe
                                                           : vm::TaintOp::AllLt;
                return helper(vm::kTaint, a, b, static_cast<std::int32_t>(op), false);
            }
            switch (e.op) {
                case BinOp::Le: return helper(vm::kSetCmp, a, b, setCmp(vm::SetCmpOp::Subset), false);
                case BinOp::Lt: return helper(vm::kSetCmp, a, b, setCmp(vm::SetCmpOp::ProperSubset), false);
                case BinOp::Ge: return helper(vm::kSetCmp, b, a, setCmp(vm::SetCmpOp::Subset), false);
                default: return helper(vm::kSetCmp, b, a, setCmp(vm::SetCmpOp::ProperSubset), false);
            }
        }
        case BinOp::In: return helper(vm::kSetHas, b, a, std::nullopt, false);
        case BinOp::Like:
        case BinOp::StartsWith: {
            const bool glob = e.op == BinOp::Like;
            Val m;
            m.value = matcher(glob ? policy::Matcher::Kind::Glob : policy::Matcher::Kind::Prefix, {rhs.text});
            return helper(glob ? vm::kGlob : vm::kPrefix, m, a, std::nullopt, false);
        }
        default: fail("internal error: unexpected operator"); return;
    }
}

bool Generator::run(policy::Image& out, std::string& error) {
    collectStrings();
    buildTables();
    program();
    if (!image_.dynamicSets.empty()) {
        // Presence words of slots past 127 follow the last slot, so they move as set literals with request values
        // are found. A second pass, with every one known, writes the final code (the tables it adds to are
        // deduplicated, so it adds nothing new).
        asm_ = Asm();
        depth_ = 0;
        program();
    }
    if (image_.layout().words() > 4095) {
        error = "the policy needs a request context of " + std::to_string(image_.layout().words()) +
                " words, more than the 4,095 that 16-bit load offsets reach (too many agent attributes or set "
                "literals with request values)";
        return false;
    }
    if (!error_.empty()) {
        error = error_;
        return false;
    }
    image_.compilerVersion = options_.compilerVersion;
    isa::Program code;
    if (!asm_.finish(code, error)) return false;
    auto slots = isa::marshalSlots(code);
    if (!slots) {
        error = "internal error: " + slots.error().text();
        return false;
    }
    image_.code = std::move(slots).value();
    // Verify, and record the bound the verifier proves (the engine checks the two agree).
    vm::Limits limits;
    limits.contextWords = image_.layout().words();
    limits.rules = static_cast<std::uint32_t>(image_.rules.size());
    limits.matchers = static_cast<std::uint32_t>(image_.matchers.size());
    limits.maxCost = UINT64_MAX;
    auto verified = vm::verify(image_.code, limits);
    if (!verified) {
        error = "internal error: the generated program does not verify: " + verified.error().text();
        return false;
    }
    image_.bound = {verified.value().bound().instructions, verified.value().bound().cost};
    out = std::move(image_);
    return true;
}

}  // namespace

bool generate(const std::vector<Module>& modules, const sema::Model& model, const source::SourceManager& sources,
              const Options& options, policy::Image& out, std::string& error) {
    Generator g(modules, model, sources, options);
    return g.run(out, error);
}

}  // namespace omega::codegen
