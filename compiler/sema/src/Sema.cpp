// Semantic checks: declarations and the label lattice first (all modules), then rules, assertions and tests,
// typing every condition against the request schema. Collects every error; never throws.
#include "omega/sema/Sema.h"

#include "omega/schema/Schema.h"
#include "omega/schema/Units.h"
#include "omega/sema/Schema.h"

#include <algorithm>
#include <functional>

namespace omega::sema {

using namespace omega::ast;
using source::DiagnosticEngine;

std::optional<int> Lattice::find(const std::string& name) const {
    auto it = index.find(name);
    if (it == index.end()) return std::nullopt;
    return it->second;
}

const ParamInfo* ToolInfo::param(const std::string& n) const {
    for (const ParamInfo& p : params)
        if (p.name == n) return &p;
    return nullptr;
}

bool patternMatches(const NamePattern& p, const std::string& name) {
    if (p.any()) return true;
    std::string prefix;
    for (const Ident& part : p.parts) prefix += (prefix.empty() ? "" : ".") + part.text;
    if (!p.wildcard) return name == prefix;
    return name.size() > prefix.size() + 1 && name.compare(0, prefix.size(), prefix) == 0 && name[prefix.size()] == '.';
}

std::vector<const ToolInfo*> Model::toolsMatching(const NamePattern& p) const {
    std::vector<const ToolInfo*> out;
    for (const auto& [name, t] : tools)
        if (patternMatches(p, name)) out.push_back(&t);
    return out;
}

std::vector<const DataInfo*> Model::dataMatching(const NamePattern& p) const {
    std::vector<const DataInfo*> out;
    for (const auto& [name, d] : data)
        if (patternMatches(p, name)) out.push_back(&d);
    return out;
}

std::optional<std::int64_t> sizeUnit(const std::string& u) {
    return schema::sizeUnit(u);
}

std::optional<std::int64_t> durationUnit(const std::string& u) {
    return schema::durationUnit(u);
}

namespace {

std::string quoteName(const std::string& s) {
    return "`" + s + "`";
}

std::vector<std::string> allUnits() {
    std::vector<std::string> out;
    for (const schema::Unit& u : schema::units()) out.emplace_back(u.name);
    return out;
}

bool isQuantity(TypeKind t) {
    return t == TypeKind::Size || t == TypeKind::Duration;
}
bool isSet(TypeKind t) {
    return t == TypeKind::StringSet || t == TypeKind::LabelSet || t == TypeKind::EmptySet;
}

// The common type of two operands, if they have one: equal types, or `{}` with either kind of set.
std::optional<TypeKind> unify(TypeKind a, TypeKind b) {
    if (a == b) return a;
    if (a == TypeKind::EmptySet && isSet(b)) return b;
    if (b == TypeKind::EmptySet && isSet(a)) return a;
    return std::nullopt;
}
bool isOrdered(TypeKind t) {
    return t == TypeKind::Int || isQuantity(t);
}

// What kind of identifier a bare name in an expression denotes.
enum class NameKind { Label, Agent, Set, Group, Kernels };

struct NameEntry {
    NameKind kind;
    Span span;
};

const char* nameKindText(NameKind k) {
    switch (k) {
        case NameKind::Label: return "label";
        case NameKind::Agent: return "agent";
        case NameKind::Set: return "set";
        case NameKind::Group: return "group";
        case NameKind::Kernels: return "kernel set";
    }
    return "name";
}

// The facts an expression is checked against: the action and the tools its rule can be about.
struct Scope {
    Action action = Action::Tool;
    std::vector<const ToolInfo*> tools;  // tool rules: every tool the target matches
    bool hasTarget = false;
};

class Checker {
public:
    Checker(std::vector<Module>& modules, const std::vector<bool>& isRoot, DiagnosticEngine& diags)
        : modules_(modules), isRoot_(isRoot), diags_(diags) {}

    Model run() {
        for (std::size_t i = 0; i < modules_.size(); ++i) header(i);
        for (std::size_t i = 0; i < modules_.size(); ++i) labels(i);
        buildLattice();
        // Declarations in phases across all modules, so no declaration depends on module load order.
        for (std::size_t i = 0; i < modules_.size(); ++i) declarations(i, Phase::Attributes);
        for (std::size_t i = 0; i < modules_.size(); ++i) declarations(i, Phase::Agents);
        for (std::size_t i = 0; i < modules_.size(); ++i) declarations(i, Phase::Others);
        for (std::size_t i = 0; i < modules_.size(); ++i) declarations(i, Phase::Groups);
        for (std::size_t i = 0; i < modules_.size(); ++i) statements(i);
        unused();
        return std::move(model_);
    }

private:
    // -----------------------------------------------------------------------------------------------------------
    // Headers and names

    void header(std::size_t m) {
        const Header& h = modules_[m].header;
        model_.modules.push_back({h.name.text, h.version, h.principal, isRoot_[m]});
        if (auto it = policyNames_.find(h.name.text); it != policyNames_.end()) {
            auto& d = diags_.error("E0305", h.name.span, "two modules are both named " + quoteName(h.name.text),
                                   "second module with this name");
            d.notes.push_back({"the other module is declared here", it->second});
        } else {
            policyNames_[h.name.text] = h.name.span;
        }
        if (h.version <= 0) diags_.error("E0510", h.versionSpan, "policy version must be a positive integer", "here");
        if (h.principal.empty())
            diags_.error("E0511", h.principalSpan, "principal must not be empty", "empty principal");
    }

    bool declareName(const Ident& id, NameKind kind) {
        if (isRoot(id.text)) {
            diags_.error("E0219", id.span, quoteName(id.text) + " is reserved for request fields", "reserved name")
                .help = "choose another name";
            return false;
        }
        auto [it, inserted] = names_.emplace(id.text, NameEntry{kind, id.span});
        if (!inserted) {
            if (kind == NameKind::Label && it->second.kind == NameKind::Label) return true;  // labels merge
            // Labels are registered in an earlier pass than other names, so report at whichever declaration comes
            // later in the source, with the note at the earlier one.
            auto key = [](const Span& s) { return std::make_pair(s.file, s.begin); };
            bool newIsLater = key(it->second.span) < key(id.span);
            const Span& later = newIsLater ? id.span : it->second.span;
            const Span& earlier = newIsLater ? it->second.span : id.span;
            NameKind earlierKind = newIsLater ? it->second.kind : kind;
            auto& d =
                diags_.error("E0301", later, quoteName(id.text) + " is already declared as " + article(earlierKind),
                             "duplicate declaration");
            d.notes.push_back({"previously declared here", earlier});
            return false;
        }
        return true;
    }

    static std::string article(NameKind k) {
        std::string t = nameKindText(k);
        return (t[0] == 'a' ? "an " : "a ") + t;
    }

    std::vector<std::string> namesOf(NameKind kind) const {
        std::vector<std::string> out;
        for (const auto& [n, e] : names_)
            if (e.kind == kind) out.push_back(n);
        return out;
    }

    void suggest(source::Diagnostic& d, const std::string& word, const std::vector<std::string>& candidates) {
        if (auto near = source::closestMatch(word, candidates)) d.help = "did you mean " + quoteName(*near) + "?";
    }

    // -----------------------------------------------------------------------------------------------------------
    // Labels and the lattice

    void labels(std::size_t m) {
        for (const Item& item : modules_[m].items) {
            const auto* l = std::get_if<LabelDecl>(&item);
            if (!l) continue;
            for (const Ident& id : l->chain) {
                if (!declareName(id, NameKind::Label)) continue;
                labelModules_[id.text].insert(m);
                if (!model_.lattice.index.count(id.text)) {
                    model_.lattice.index[id.text] = static_cast<int>(model_.lattice.names.size());
                    model_.lattice.names.push_back(id.text);
                }
            }
            for (std::size_t i = 0; i + 1 < l->chain.size(); ++i)
                edges_.push_back({l->chain[i].text, l->chain[i + 1].text, l->chain[i + 1].span, m});
        }
    }

    struct Edge {
        std::string from, to;
        Span span;
        std::size_t module;
    };

    // Reflexive-transitive closure by a search from every label: O(labels x edges).
    static std::vector<std::vector<bool>> closure(const std::vector<std::vector<int>>& succ) {
        const std::size_t n = succ.size();
        std::vector<std::vector<bool>> leq(n, std::vector<bool>(n, false));
        std::vector<int> work;
        for (std::size_t s = 0; s < n; ++s) {
            leq[s][s] = true;
            work.assign(1, static_cast<int>(s));
            while (!work.empty()) {
                int v = work.back();
                work.pop_back();
                for (int w : succ[v])
                    if (!leq[s][w]) {
                        leq[s][w] = true;
                        work.push_back(w);
                    }
            }
        }
        return leq;
    }

    // A scoped principal may place its own labels in the lattice, but may not order labels that other modules use:
    // that would change what their rules allow. Its edge is kept when one end is mentioned by no other module, or
    // when the other modules' edges already imply it; otherwise E0514. Independent of load order.
    std::vector<const Edge*> admittedEdges() {
        const Lattice& L = model_.lattice;
        auto ownedBy = [&](const std::string& label, std::size_t m) {
            const auto& ms = labelModules_[label];
            return ms.size() == 1 && *ms.begin() == m;
        };
        std::vector<const Edge*> trusted, questioned;
        for (const Edge& e : edges_) {
            bool scoped = !modules_[e.module].header.governs.empty();
            (!scoped || ownedBy(e.from, e.module) || ownedBy(e.to, e.module) ? trusted : questioned).push_back(&e);
        }
        if (questioned.empty()) return trusted;
        std::vector<std::vector<int>> succ(L.names.size());
        for (const Edge* e : trusted) succ[*L.find(e->from)].push_back(*L.find(e->to));
        auto implied = closure(succ);
        for (const Edge* e : questioned) {
            if (implied[*L.find(e->from)][*L.find(e->to)]) {
                trusted.push_back(e);
                continue;
            }
            auto& d = diags_.error("E0514", e->span,
                                   "principal " + quoteName(modules_[e->module].header.principal) +
                                       " may not order labels that other modules declare",
                                   "both labels are used by other modules");
            d.help =
                "only unscoped modules (without `governs`) may relate existing labels; declare a label of this "
                "module instead";
        }
        return trusted;
    }

    void buildLattice() {
        Lattice& L = model_.lattice;
        const std::size_t n = L.names.size();
        std::vector<std::vector<int>> succ(n);
        std::vector<std::vector<Span>> succSpan(n);
        for (const Edge* e : admittedEdges()) {
            auto a = L.find(e->from), b = L.find(e->to);
            if (!a || !b) continue;
            succ[*a].push_back(*b);
            succSpan[*a].push_back(e->span);
        }
        // Cycle detection by iterative DFS; each back edge closes a cycle and is reported once, at that edge.
        std::vector<int> state(n, 0);
        for (std::size_t s = 0; s < n; ++s) {
            if (state[s]) continue;
            std::vector<std::pair<int, std::size_t>> stack{{static_cast<int>(s), 0}};
            state[s] = 1;
            while (!stack.empty()) {
                auto& [v, i] = stack.back();
                if (i == succ[v].size()) {
                    state[v] = 2;
                    stack.pop_back();
                    continue;
                }
                int w = succ[v][i];
                Span edgeSpan = succSpan[v][i];
                ++i;
                if (state[w] == 1) {
                    std::string path = L.names[w];
                    bool on = false;
                    for (auto& [u, _] : stack) {
                        if (u == w) on = true;
                        if (on && u != w) path += " < " + L.names[u];
                    }
                    path += " < " + L.names[w];
                    diags_.error("E0501", edgeSpan, "label ordering has a cycle: " + path, "closes the cycle").help =
                        "labels form a partial order: no label may be below itself";
                } else if (state[w] == 0) {
                    state[w] = 1;
                    stack.push_back({w, 0});
                }
            }
        }
        L.leq = closure(succ);
    }

    std::optional<int> labelRef(const Ident& id) {
        if (auto l = model_.lattice.find(id.text)) {
            usedNames_.insert(id.text);
            return l;
        }
        auto& d = diags_.error("E0205", id.span, "unknown label " + quoteName(id.text), "not a declared label");
        suggest(d, id.text, model_.lattice.names);
        return std::nullopt;
    }

    // -----------------------------------------------------------------------------------------------------------
    // Declarations

    void attribute(const AttributeDecl& a) {
        static const std::vector<std::string> builtin{"name", "owner", "measurement"};
        if (std::find(builtin.begin(), builtin.end(), a.name.text) != builtin.end()) {
            diags_.error("E0219", a.name.span, quoteName(a.name.text) + " is a built-in agent field", "reserved name");
            return;
        }
        auto type = paramType(a.type);
        if (!type) return;
        if (auto it = attrTypes_.find(a.name.text); it != attrTypes_.end()) {
            if (it->second.first != *type) {
                diags_
                    .error("E0401", a.type.span,
                           "attribute " + quoteName(a.name.text) + " is declared " + typeName(*type) + " here but " +
                               typeName(it->second.first) + " elsewhere",
                           "type differs")
                    .notes.push_back({"other declaration", it->second.second});
            }
            return;
        }
        attrTypes_.emplace(a.name.text, std::make_pair(*type, a.name.span));
    }

    enum class Phase { Attributes, Agents, Others, Groups };

    void declarations(std::size_t m, Phase phase) {
        for (Item& item : modules_[m].items) {
            switch (phase) {
                case Phase::Attributes:
                    if (auto* a = std::get_if<AttributeDecl>(&item)) attribute(*a);
                    break;
                case Phase::Agents:
                    if (auto* a = std::get_if<AgentDecl>(&item)) agent(*a, m);
                    break;
                case Phase::Others:
                    if (auto* t = std::get_if<ToolDecl>(&item))
                        tool(*t, m);
                    else if (auto* d = std::get_if<DataDecl>(&item))
                        data(*d, m);
                    else if (auto* k = std::get_if<KernelsDecl>(&item))
                        kernels(*k, m);
                    else if (auto* s = std::get_if<SetDecl>(&item))
                        set(*s, m);
                    break;
                case Phase::Groups:
                    if (auto* g = std::get_if<GroupDecl>(&item)) group(*g, m);
                    break;
            }
        }
    }

    // The type of a declared literal (agent attribute, data property); labels by bare name.
    TypeKind literalType(Expr& e) {
        switch (e.kind) {
            case Expr::Kind::String: return e.type = TypeKind::String;
            case Expr::Kind::Int: return e.type = TypeKind::Int;
            case Expr::Kind::Bool: return e.type = TypeKind::Bool;
            case Expr::Kind::Hash: return e.type = TypeKind::Hash;
            case Expr::Kind::Quantity: return e.type = quantity(e);
            case Expr::Kind::Path:
                if (e.path.size() == 1 && model_.lattice.find(e.path[0].text)) {
                    usedNames_.insert(e.path[0].text);
                    return e.type = TypeKind::Label;
                }
                if (e.path.size() == 1 && !names_.count(e.path[0].text) && !isRoot(e.path[0].text)) {
                    // A bare word where a literal belongs can only be meant as a label.
                    labelRef(e.path[0]);
                    return TypeKind::Error;
                }
                break;
            case Expr::Kind::Set: {
                if (e.kids.empty()) return e.type = TypeKind::EmptySet;
                TypeKind elem = TypeKind::String;
                for (auto& k : e.kids) {
                    TypeKind t = literalType(*k);
                    if (t == TypeKind::Error) return TypeKind::Error;
                    if (t != TypeKind::String && t != TypeKind::Label) {
                        diags_.error("E0404", k->span,
                                     "sets hold strings or labels, not " + std::string(typeName(t)) + " values",
                                     "not a string or label");
                        return TypeKind::Error;
                    }
                    if (&k == &e.kids.front())
                        elem = t;
                    else if (t != elem) {
                        diags_.error("E0404", k->span,
                                     "set mixes " + std::string(typeName(elem)) + " and " + typeName(t) + " elements",
                                     "different type");
                        return TypeKind::Error;
                    }
                }
                return e.type = elem == TypeKind::Label ? TypeKind::LabelSet : TypeKind::StringSet;
            }
            default: break;
        }
        diags_.error("E0414", e.span, "expected a literal value (string, number, boolean, hash, label or set)",
                     "not a literal");
        return TypeKind::Error;
    }

    void agent(AgentDecl& a, std::size_t m) {
        if (!declareName(a.name, NameKind::Agent)) return;
        AgentInfo info{a.name.text, a.name.span, std::nullopt, std::nullopt, {}, m};
        std::map<std::string, Span> seen;
        for (Property& p : a.props) {
            if (auto [it, ok] = seen.emplace(p.key.text, p.key.span); !ok) {
                diags_
                    .error("E0303", p.key.span, "agent property " + quoteName(p.key.text) + " is given twice",
                           "duplicate")
                    .notes.push_back({"first given here", it->second});
                continue;
            }
            TypeKind t = literalType(*p.value);
            if (t == TypeKind::Error) continue;
            if (p.key.text == "measurement") {
                if (t != TypeKind::Hash)
                    mismatch(p.value->span, "agent measurement", TypeKind::Hash, t);
                else
                    info.measurement = p.value->algorithm.text + ":" + p.value->text;
            } else if (p.key.text == "owner") {
                if (t != TypeKind::String)
                    mismatch(p.value->span, "agent owner", TypeKind::String, t);
                else
                    info.owner = p.value->text;
            } else if (p.key.text == "name") {
                diags_.error("E0219", p.key.span, "`name` is reserved: an agent's name is its declared name",
                             "reserved");
            } else {
                auto it = attrTypes_.find(p.key.text);
                if (it != attrTypes_.end() && unify(it->second.first, t)) {
                    it->second.first = *unify(it->second.first, t);
                } else if (it != attrTypes_.end()) {
                    auto& d = diags_.error("E0401", p.value->span,
                                           "attribute " + quoteName(p.key.text) + " is " + typeName(t) + " here but " +
                                               typeName(it->second.first) + " elsewhere",
                                           "type differs");
                    d.notes.push_back({"its type was first given here", it->second.second});
                    continue;
                }
                attrTypes_.emplace(p.key.text, std::make_pair(t, p.value->span));
                info.attributes[p.key.text] = {t, p.value.get()};
            }
        }
        model_.agents[a.name.text] = std::move(info);
    }

    void mismatch(Span s, const std::string& what, TypeKind want, TypeKind got) {
        diags_.error("E0401", s, what + " must be " + article(want) + ", found " + article(got),
                     std::string("expected ") + typeName(want));
    }
    static std::string article(TypeKind t) {
        std::string n = typeName(t);
        if (n.rfind("set", 0) == 0) return "a " + n;
        return (std::string("aeiou").find(n[0]) != std::string::npos ? "an " : "a ") + n;
    }

    std::optional<TypeKind> paramType(const TypeRef& t) {
        static const std::pair<const char*, TypeKind> types[] = {
            {"string", TypeKind::String},     {"int", TypeKind::Int},   {"bool", TypeKind::Bool},
            {"duration", TypeKind::Duration}, {"size", TypeKind::Size}, {"label", TypeKind::Label}};
        if (t.name.text == "set") {
            if (t.elem && t.elem->text == "string") return TypeKind::StringSet;
            if (t.elem && t.elem->text == "label") return TypeKind::LabelSet;
            diags_
                .error("E0212", t.span,
                       "unknown type " + quoteName(t.name.text + (t.elem ? "<" + t.elem->text + ">" : "")),
                       "not a parameter type")
                .help = "sets are `set<string>` or `set<label>`";
            return std::nullopt;
        }
        if (!t.elem) {
            for (auto& [n, k] : types)
                if (t.name.text == n) return k;
        }
        std::vector<std::string> names{"string", "int", "bool", "duration", "size", "label", "set"};
        auto& d = diags_.error("E0212", t.span, "unknown type " + quoteName(t.name.text), "not a parameter type");
        d.help = "parameter types are string, int, bool, duration, size, label, set<string> and set<label>";
        suggest(d, t.name.text, names);
        return std::nullopt;
    }

    void tool(ToolDecl& t, std::size_t m) {
        std::string name = t.name.text();
        if (auto it = model_.tools.find(name); it != model_.tools.end()) {
            diags_
                .error("E0301", t.name.span, "tool " + quoteName(name) + " is already declared",
                       "duplicate declaration")
                .notes.push_back({"previously declared here", it->second.span});
            return;
        }
        ToolInfo info;
        info.name = name;
        info.span = t.name.span;
        info.module = m;
        if (t.params.size() > schema::kMaxToolParams) {
            diags_
                .error("E0221", t.params[schema::kMaxToolParams].name.span,
                       "tool " + quoteName(name) + " has " + std::to_string(t.params.size()) +
                           " parameters; the limit is " + std::to_string(schema::kMaxToolParams),
                       "one too many")
                .help = "group related arguments into a `set<string>` parameter, or split the tool";
        }
        for (const Param& p : t.params) {
            if (info.param(p.name.text)) {
                diags_.error("E0302", p.name.span, "parameter " + quoteName(p.name.text) + " is declared twice",
                             "duplicate parameter");
                continue;
            }
            auto type = paramType(p.type);
            info.params.push_back({p.name.text, type.value_or(TypeKind::Error), p.name.span});
        }
        for (ToolMod& mod : t.mods) {
            switch (mod.kind) {
                case ToolMod::Kind::Returns: info.resultLabel = labelRef(mod.name); break;
                case ToolMod::Kind::Sink: info.sink = true; break;
                case ToolMod::Kind::Pin:
                    if (mod.value->kind != Expr::Kind::Hash) {
                        diags_.error("E0401", mod.value->span, "a tool pin must be a hash such as `sha256:\"...\"`",
                                     "not a hash");
                    } else {
                        mod.value->type = TypeKind::Hash;
                        info.pin = mod.value->algorithm.text + ":" + mod.value->text;
                    }
                    break;
                case ToolMod::Kind::Flag:
                    if (mod.name.text == "privileged") {
                        info.privileged = true;
                    } else {
                        auto& d = diags_.error("E0218", mod.name.span,
                                               "unknown tool modifier " + quoteName(mod.name.text), "not a modifier");
                        d.help = "tool modifiers are `returns LABEL`, `sink`, `privileged` and `pin HASH`";
                        suggest(d, mod.name.text, {"privileged", "sink", "returns", "pin"});
                    }
                    break;
            }
        }
        model_.tools[name] = std::move(info);
    }

    template <typename Fn>
    void eachString(Expr& e, const std::string& what, Fn fn) {
        TypeKind t = literalType(e);
        if (t == TypeKind::String)
            fn(e.text, e.span);
        else if (t == TypeKind::StringSet)
            for (auto& k : e.kids) fn(k->text, k->span);
        else if (t != TypeKind::Error && t != TypeKind::EmptySet)
            mismatch(e.span, what, TypeKind::StringSet, t);
    }

    void data(DataDecl& d, std::size_t m) {
        if (auto it = model_.data.find(d.name.text); it != model_.data.end()) {
            diags_
                .error("E0301", d.name.span, "data resource " + quoteName(d.name.text) + " is already declared",
                       "duplicate declaration")
                .notes.push_back({"previously declared here", it->second.span});
            return;
        }
        if (isRoot(d.name.text)) {
            diags_.error("E0219", d.name.span, quoteName(d.name.text) + " is reserved for request fields",
                         "reserved name");
            return;
        }
        DataInfo info;
        info.name = d.name.text;
        info.span = d.name.span;
        info.module = m;
        std::map<std::string, Span> seen;
        static const std::vector<std::string> keys{"path", "uri", "label", "region", "purpose", "fields", "owner"};
        for (Property& p : d.props) {
            const std::string& k = p.key.text;
            if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
                auto& diag =
                    diags_.error("E0204", p.key.span, "unknown data property " + quoteName(k), "not a property");
                diag.help = "data properties are path, uri, label, region, purpose, fields and owner";
                suggest(diag, k, keys);
                continue;
            }
            if (auto [it, ok] = seen.emplace(k, p.key.span); !ok && k != "path" && k != "uri") {
                diags_.error("E0303", p.key.span, "data property " + quoteName(k) + " is given twice", "duplicate")
                    .notes.push_back({"first given here", it->second});
                continue;
            }
            if (k == "path" || k == "uri") {
                eachString(*p.value, "a data " + k, [&](const std::string& s, Span sp) {
                    if (s.empty()) diags_.error("E0411", sp, "empty " + k + " pattern", "empty");
                    info.patterns.push_back(s);
                });
            } else if (k == "label") {
                if (p.value->kind == Expr::Kind::Path && p.value->path.size() == 1) {
                    info.label = labelRef(p.value->path[0]);
                    p.value->type = TypeKind::Label;
                } else {
                    diags_.error("E0401", p.value->span, "a data label must be a declared label name", "not a label");
                }
            } else if (k == "region" || k == "owner") {
                TypeKind t = literalType(*p.value);
                if (t != TypeKind::String && t != TypeKind::Error)
                    mismatch(p.value->span, "data " + k, TypeKind::String, t);
                else
                    (k == "region" ? info.region : info.owner) = p.value->text;
            } else {
                auto& target = k == "purpose" ? info.purposes : info.fields;
                eachString(*p.value, "data " + k, [&](const std::string& s, Span) { target.insert(s); });
            }
        }
        if (!seen.count("label"))  // a label given but unknown was reported where it was written
            diags_
                .error("E0216", d.name.span, "data resource " + quoteName(d.name.text) + " has no `label`",
                       "missing label")
                .help = "add `label NAME;` so flows of this data can be checked";
        if (!seen.count("path") && !seen.count("uri"))
            diags_
                .error("E0216", d.name.span, "data resource " + quoteName(d.name.text) + " has no `path` or `uri`",
                       "missing location")
                .help = "add `path \"/data/...\";` or `uri \"s3://...\";`";
        model_.data[d.name.text] = std::move(info);
    }

    void kernels(KernelsDecl& k, std::size_t m) {
        if (!declareName(k.name, NameKind::Kernels)) return;
        KernelSetInfo info;
        info.name = k.name.text;
        info.span = k.name.span;
        info.module = m;
        for (Property& p : k.props) {
            const std::string& key = p.key.text;
            if (key == "module" || key == "modules") {
                std::vector<Expr*> hashes;
                if (p.value->kind == Expr::Kind::Set)
                    for (auto& kid : p.value->kids) hashes.push_back(kid.get());
                else
                    hashes.push_back(p.value.get());
                for (Expr* h : hashes) {
                    if (h->kind != Expr::Kind::Hash) {
                        diags_.error("E0401", h->span, "a kernel module is a hash such as `sha256:\"...\"`",
                                     "not a hash");
                        continue;
                    }
                    h->type = TypeKind::Hash;
                    info.modules.insert(h->algorithm.text + ":" + h->text);
                }
            } else if (key == "name" || key == "names") {
                eachString(*p.value, "a kernel name pattern",
                           [&](const std::string& s, Span) { info.names.push_back(s); });
            } else {
                auto& d = diags_.error("E0204", p.key.span, "unknown kernel-set property " + quoteName(key),
                                       "not a property");
                d.help = "kernel sets have `module HASH;` and `name \"glob\";` entries";
                suggest(d, key, {"module", "name", "modules", "names"});
            }
        }
        model_.kernels[k.name.text] = std::move(info);
    }

    void set(SetDecl& s, std::size_t m) {
        if (!declareName(s.name, NameKind::Set)) return;
        if (s.value->kind != Expr::Kind::Set) {
            diags_.error("E0401", s.value->span, "a named set must be a set literal such as `{\"a\", \"b\"}`",
                         "not a set");
            return;
        }
        TypeKind t = literalType(*s.value);
        if (t == TypeKind::Error) return;
        SetInfo info{s.name.text, s.name.span, t, {}, m};
        for (auto& k : s.value->kids) info.values.push_back(k->kind == Expr::Kind::Path ? k->path[0].text : k->text);
        model_.sets[s.name.text] = std::move(info);
    }

    void group(GroupDecl& g, std::size_t m) {
        if (!declareName(g.name, NameKind::Group)) return;
        GroupInfo info{g.name.text, g.name.span, {}, m};
        for (const Ident& member : g.members) {
            if (agentRef(member)) info.members.push_back(member.text);
        }
        model_.groups[g.name.text] = std::move(info);
    }

    bool agentRef(const Ident& id) {
        if (model_.agents.count(id.text)) {
            usedNames_.insert(id.text);
            return true;
        }
        auto& d = diags_.error("E0201", id.span, "unknown agent " + quoteName(id.text), "not a declared agent");
        std::vector<std::string> names;
        for (auto& [n, _] : model_.agents) names.push_back(n);
        suggest(d, id.text, names);
        return false;
    }

    // -----------------------------------------------------------------------------------------------------------
    // Rules, assertions, consent, tests

    void statements(std::size_t m) {
        Module& mod = modules_[m];
        for (Item& item : mod.items) {
            if (auto* r = std::get_if<Rule>(&item))
                rule(*r, m);
            else if (auto* a = std::get_if<Assertion>(&item)) {
                Scope sc;
                body(a->body, sc);
            } else if (auto* c = std::get_if<ConsentDecl>(&item)) {
                consent(*c, m);
            } else if (auto* o = std::get_if<ObligationRule>(&item)) {
                Scope sc;
                body(o->body, sc);
                for (Obligation& ob : o->obligations) obligation(ob);
                governs(o->body, m);
            } else if (auto* t = std::get_if<TestBlock>(&item)) {
                test(*t);
            }
        }
    }

    // Resolves subject, recipient and target, and types the condition.
    void body(Body& b, Scope& sc) {
        sc.action = b.action;
        unknownTarget_ = false;
        if (b.subject) agentPattern(*b.subject);
        if (b.recipient) {
            if (b.action != Action::Send)
                diags_.error(
                    "E0503", b.recipient->span,
                    "`to` names the recipient of a `send`; a `" + std::string(actionName(b.action)) + "` rule has none",
                    "only for send");
            else
                agentPattern(*b.recipient);
        }
        if (b.subject && b.subjectFrom && b.action != Action::Send)
            diags_.error("E0503", b.subject->span, "`from` names the sender of a `send`; use `by` here", "use `by`");
        bool needsTarget = b.action == Action::Tool || b.action == Action::Read || b.action == Action::Write;
        if (b.target && !needsTarget) {
            diags_.error("E0504", b.target->span,
                         std::string("`") + actionName(b.action) + "` takes no target" +
                             (b.action == Action::Send ? "; name the recipient with `to agent NAME`"
                                                       : "; constrain it with `when`"),
                         "unexpected target");
        } else if (!b.target && needsTarget) {
            diags_.error("E0506", b.actionSpan,
                         std::string("`") + actionName(b.action) + "` needs a target: a name, a pattern such as " +
                             "`ehr.*`, or `*`",
                         "target missing");
        } else if (b.target) {
            target(*b.target, b.action, sc);
        }
        if (b.condition) {
            TypeKind t = expr(*b.condition, sc);
            if (t != TypeKind::Bool && t != TypeKind::Error)
                diags_
                    .error("E0403", b.condition->span, std::string("condition must be a bool, found ") + article(t),
                           "not a condition")
                    .help = "compare it with something, for example `== \"value\"`";
        }
    }

    void target(const NamePattern& p, Action action, Scope& sc) {
        sc.hasTarget = true;
        if (action == Action::Tool) {
            sc.tools = model_.toolsMatching(p);
            for (const ToolInfo* t : sc.tools) usedTools_.insert(t->name);
            if (sc.tools.empty() && !p.any()) {  // `*` in a library module may match nothing yet
                std::vector<std::string> names;
                for (auto& [n, _] : model_.tools) names.push_back(n);
                auto& d = diags_.error("E0202", p.span,
                                       p.wildcard ? "no declared tool matches " + quoteName(p.text())
                                                  : "unknown tool " + quoteName(p.text()),
                                       "not a declared tool");
                suggest(d, p.text(), names);
                if (d.help.empty()) d.help = "declare it with `tool " + p.text() + "(...);`";
                unknownTarget_ = true;
            }
        } else {
            auto matched = model_.dataMatching(p);
            for (const DataInfo* d : matched) usedData_.insert(d->name);
            if (matched.empty() && !p.any()) {
                std::vector<std::string> names;
                for (auto& [n, _] : model_.data) names.push_back(n);
                auto& d = diags_.error("E0207", p.span, "unknown data resource " + quoteName(p.text()),
                                       "not a declared data resource");
                suggest(d, p.text(), names);
            }
        }
    }

    void agentPattern(const AgentPattern& a) {
        switch (a.kind) {
            case AgentPattern::Kind::Any: break;
            case AgentPattern::Kind::Named:
            case AgentPattern::Kind::List:
                for (const Ident& n : a.names) agentRef(n);
                break;
            case AgentPattern::Kind::Group:
                if (model_.groups.count(a.names[0].text)) {
                    usedNames_.insert(a.names[0].text);
                } else {
                    auto& d = diags_.error("E0209", a.names[0].span, "unknown group " + quoteName(a.names[0].text),
                                           "not a declared group");
                    suggest(d, a.names[0].text, namesOf(NameKind::Group));
                }
                break;
        }
    }

    void rule(Rule& r, std::size_t m) {
        Scope sc;
        body(r.body, sc);
        if (r.limit) limit(*r.limit, r.body.action);
        if (!r.obligations.empty() && r.effect == Effect::Forbid) {
            diags_.error("E0505", r.obligations.front().span, "obligations apply only to `permit` rules", "on a forbid")
                .help =
                "a forbid always denies; to attach obligations without granting anything, write "
                "`require audit for ...`";
        }
        for (Obligation& o : r.obligations) obligation(o);
        governs(r.body, m);
    }

    void limit(const RateLimit& l, Action action) {
        if (l.count <= 0) diags_.error("E0507", l.span, "rate limit must allow at least one request", "zero limit");
        if (l.durationWindow) {
            if (l.windowUnit.text.empty()) return;  // reported by the parser
            if (l.windowCount <= 0)
                diags_.error("E0507", l.span, "rate-limit window must be longer than zero", "empty window");
            if (auto unit = durationUnit(l.windowUnit.text); unit && l.windowCount > INT64_MAX / *unit)
                diags_.error("E0011", l.span, "rate-limit window is too long", "overflows 64 bits");
            if (!durationUnit(l.windowUnit.text)) {
                auto& d = diags_.error("E0211", l.windowUnit.span, "unknown time unit " + quoteName(l.windowUnit.text),
                                       "not a time unit");
                d.help = "time units are ns, us, ms, s, m, min, h and d";
                if (sizeUnit(l.windowUnit.text))
                    diags_.error("E0406", l.windowUnit.span, "a rate-limit window is a duration, not a size",
                                 "size unit");
            }
        } else {
            static const std::vector<std::string> windows{"second", "minute", "hour", "day"};
            if (std::find(windows.begin(), windows.end(), l.windowUnit.text) == windows.end()) {
                auto& d = diags_.error("E0211", l.windowUnit.span,
                                       "unknown rate-limit window " + quoteName(l.windowUnit.text), "not a window");
                d.help = "write `per second`, `per minute`, `per hour`, `per day` or a duration such as `per 30s`";
                suggest(d, l.windowUnit.text, windows);
            }
        }
        if (l.key) {
            static const std::vector<std::string> keys{"agent", "session", "user", "tool"};
            if (std::find(keys.begin(), keys.end(), l.key->text) == keys.end()) {
                auto& d =
                    diags_.error("E0217", l.key->span, "unknown rate-limit key " + quoteName(l.key->text), "not a key");
                d.help = "count `per agent`, `per session`, `per user` or `per tool`";
                suggest(d, l.key->text, keys);
            } else if (l.key->text == "tool" && action != Action::Tool) {
                diags_
                    .error("E0217", l.key->span,
                           std::string("`per tool` counts per tool, but this is a `") + actionName(action) + "` rule",
                           "no tool here")
                    .help = "count `per agent`, `per session` or `per user`";
            }
        }
    }

    void obligation(Obligation& o) {
        const std::string& n = o.name.text;
        auto strings = [&](std::size_t min, std::size_t max, const char* what) {
            if (o.args.size() < min || o.args.size() > max || (max > 0 && !o.hasParens)) {
                diags_.error("E0220", o.span, quoteName(n) + " takes " + what, "wrong arguments");
                return;
            }
            for (auto& a : o.args) {
                if (a->kind != Expr::Kind::String) {
                    diags_.error("E0220", a->span, quoteName(n) + " takes " + what, "not a string");
                    return;
                }
                a->type = TypeKind::String;
            }
        };
        if (n == "audit") {
            if (o.hasParens) diags_.error("E0220", o.span, "`audit` takes no arguments", "remove the parentheses");
        } else if (n == "redact") {
            strings(1, 1000, "one or more field names as strings");
        } else if (n == "approve") {
            strings(1, 1, "one role name as a string");
        } else {
            auto& d = diags_.error("E0213", o.name.span, "unknown obligation " + quoteName(n), "not an obligation");
            d.help = "obligations are `audit`, `redact(\"field\", ...)` and `approve(\"role\")`";
            suggest(d, n, {"audit", "redact", "approve"});
        }
    }

    // Does the module's `governs` clause cover what this rule is about?
    void governs(const Body& b, std::size_t m) {
        const Header& h = modules_[m].header;
        if (h.governs.empty() || unknownTarget_) return;
        auto covers = [&](const ScopeItem& s) -> bool {
            switch (b.action) {
                case Action::Tool:
                    return s.kind == ScopeItem::Kind::Tool && b.target && patternCovers(s.pattern, *b.target);
                case Action::Read:
                case Action::Write:
                    return s.kind == ScopeItem::Kind::Data && b.target && patternCovers(s.pattern, *b.target);
                case Action::Send: {
                    if (s.kind != ScopeItem::Kind::Agent) return false;
                    auto agentCovered = [&](const std::optional<AgentPattern>& a) {
                        if (!a || a->kind == AgentPattern::Kind::Any) return s.pattern.any();
                        std::vector<std::string> names;
                        if (a->kind == AgentPattern::Kind::Group) {
                            auto g = model_.groups.find(a->names[0].text);
                            if (g == model_.groups.end()) return true;
                            names = g->second.members;
                        } else {
                            for (const Ident& n : a->names) names.push_back(n.text);
                        }
                        return std::all_of(names.begin(), names.end(),
                                           [&](const std::string& n) { return patternMatches(s.pattern, n); });
                    };
                    return agentCovered(b.recipient) || agentCovered(b.subject);
                }
                case Action::GpuLaunch:
                case Action::GpuAlloc: return s.kind == ScopeItem::Kind::Area && s.area.text == "gpu";
                case Action::NetConnect: return s.kind == ScopeItem::Kind::Area && s.area.text == "net";
            }
            return false;
        };
        if (std::any_of(h.governs.begin(), h.governs.end(), covers)) return;
        std::string what = std::string(actionName(b.action)) + (b.target ? " " + b.target->text() : "");
        std::string scope;
        for (const ScopeItem& s : h.governs) scope += (scope.empty() ? "" : ", ") + scopeText(s);
        Span where = b.target ? b.target->span : b.actionSpan;
        auto& d = diags_.error("E0502", where, "principal " + quoteName(h.principal) + " may not govern `" + what + "`",
                               "outside this principal's scope");
        d.notes.push_back({"the module governs only: " + scope, h.governs.front().span});
        d.help = "move the rule to a module whose principal governs it, or widen `governs`";
    }

    static std::string scopeText(const ScopeItem& s) {
        switch (s.kind) {
            case ScopeItem::Kind::Tool: return "tool " + s.pattern.text();
            case ScopeItem::Kind::Data: return "data " + s.pattern.text();
            case ScopeItem::Kind::Agent: return "agent " + s.pattern.text();
            case ScopeItem::Kind::Area: return s.area.text;
        }
        return "";
    }

    // True when scope pattern `outer` covers every name `inner` can match.
    static bool patternCovers(const NamePattern& outer, const NamePattern& inner) {
        if (outer.any()) return true;
        if (inner.any()) return false;
        std::string o = outer.text(), i = inner.text();
        if (!outer.wildcard) return !inner.wildcard && o == i;
        std::string prefix = o.substr(0, o.size() - 1);  // "ehr."
        return i.compare(0, prefix.size(), prefix) == 0 && i.size() > prefix.size();
    }

    void consent(ConsentDecl& c, std::size_t m) {
        const ScopeItem& s = c.target;
        if (s.kind == ScopeItem::Kind::Tool) {
            if (model_.toolsMatching(s.pattern).empty())
                diags_.error("E0202", s.pattern.span, "no declared tool matches " + quoteName(s.pattern.text()),
                             "not a declared tool");
        } else if (s.kind == ScopeItem::Kind::Data) {
            if (model_.dataMatching(s.pattern).empty())
                diags_.error("E0207", s.pattern.span, "unknown data resource " + quoteName(s.pattern.text()),
                             "not a declared data resource");
        } else if (s.kind == ScopeItem::Kind::Agent && !s.pattern.any()) {
            bool any = std::any_of(model_.agents.begin(), model_.agents.end(),
                                   [&](const auto& a) { return patternMatches(s.pattern, a.first); });
            if (!any)
                diags_.error("E0201", s.pattern.span, "no declared agent matches " + quoteName(s.pattern.text()),
                             "not a declared agent");
        }
        const Header& h = modules_[m].header;
        if (h.governs.empty()) {
            diags_
                .error("E0508", c.span, "consent can only be required for what the module governs",
                       "no `governs` clause")
                .help = "add `governs " + scopeText(s) + "` to the policy header";
            return;
        }
        bool ok = std::any_of(h.governs.begin(), h.governs.end(), [&](const ScopeItem& g) {
            if (g.kind != s.kind) return false;
            if (g.kind == ScopeItem::Kind::Area) return g.area.text == s.area.text;
            return patternCovers(g.pattern, s.pattern);
        });
        if (!ok)
            diags_.error("E0508", c.target.span, "consent can only be required for what the module governs",
                         "outside `governs`");
    }

    // -----------------------------------------------------------------------------------------------------------
    // Expressions

    TypeKind quantity(Expr& e) {
        if (auto f = sizeUnit(e.text)) {
            if (e.number > INT64_MAX / *f) {
                diags_.error("E0011", e.span, "quantity is too large", "overflows 64 bits");
                return TypeKind::Error;
            }
            return TypeKind::Size;
        }
        if (auto f = durationUnit(e.text)) {
            if (e.number > INT64_MAX / *f) {
                diags_.error("E0011", e.span, "duration is too large", "overflows 64 bits");
                return TypeKind::Error;
            }
            return TypeKind::Duration;
        }
        auto& d = diags_.error("E0211", e.unitSpan, "unknown unit " + quoteName(e.text), "not a unit");
        d.help = "size units are B, KB, MB, GB, TB, KiB, MiB, GiB, TiB; time units are ns, us, ms, s, m, min, h, d";
        if (auto near = source::closestMatch(e.text, allUnits())) d.help = "did you mean " + quoteName(*near) + "?";
        return TypeKind::Error;
    }

    TypeKind expr(Expr& e, Scope& sc) { return e.type = exprImpl(e, sc); }

    // Which fields can be absent from a request (language.md 8.6): attributes, optional declared properties, and
    // supplied scalars. Sets are empty rather than absent; names and declared flags always exist.
    bool mayBeAbsent(const std::string& root, const std::string& field) const {
        const FieldDef* f = findField(root, field);
        if (!f) return true;  // an agent attribute (or an argument: always given, but checked at the boundary)
        if (f->supplied) return !isSet(f->type);
        static const std::set<std::string> optional{
            "agent.owner", "agent.measurement", "recipient.owner", "recipient.measurement",
            "tool.label",  "data.region",       "data.owner"};
        return optional.count(root + "." + field) > 0;
    }

    TypeKind exprImpl(Expr& e, Scope& sc) {
        switch (e.kind) {
            case Expr::Kind::String: return TypeKind::String;
            case Expr::Kind::Int: return TypeKind::Int;
            case Expr::Kind::Bool: return TypeKind::Bool;
            case Expr::Kind::Hash: return TypeKind::Hash;
            case Expr::Kind::Quantity: return quantity(e);
            case Expr::Kind::Path: return path(e, sc);
            case Expr::Kind::Set: {
                if (e.kids.empty()) return TypeKind::EmptySet;
                TypeKind elem = TypeKind::String;
                for (std::size_t i = 0; i < e.kids.size(); ++i) {
                    TypeKind t = expr(*e.kids[i], sc);
                    if (t == TypeKind::Error) return t;
                    if (t != TypeKind::String && t != TypeKind::Label) {
                        diags_.error("E0404", e.kids[i]->span,
                                     std::string("sets hold strings or labels, not ") + typeName(t) + " values",
                                     "not a string or label");
                        return TypeKind::Error;
                    }
                    if (i == 0)
                        elem = t;
                    else if (t != elem) {
                        diags_.error("E0404", e.kids[i]->span,
                                     std::string("set mixes ") + typeName(elem) + " and " + typeName(t) + " elements",
                                     "different type");
                        return TypeKind::Error;
                    }
                }
                return elem == TypeKind::Label ? TypeKind::LabelSet : TypeKind::StringSet;
            }
            case Expr::Kind::Not: {
                TypeKind t = expr(*e.kids[0], sc);
                if (t != TypeKind::Bool && t != TypeKind::Error) {
                    diags_.error("E0402", e.kids[0]->span, std::string("`not` needs a bool, found ") + article(t),
                                 "not a bool");
                    return TypeKind::Error;
                }
                return TypeKind::Bool;
            }
            case Expr::Kind::Binary: return binary(e, sc);
            case Expr::Kind::Has: {
                // `ROOT has FIELD` asks whether the field is present; the field must exist like any path.
                Expr field;
                field.kind = Expr::Kind::Path;
                field.span = e.span;
                field.path = e.path;
                if (!isRoot(e.path[0].text)) {
                    diags_
                        .error("E0210", e.path[0].span,
                               "`has` asks about a request field, and " + quoteName(e.path[0].text) + " is not one",
                               "not a request root")
                        .help = "write `agent has role`, `tool has label`, `request has purpose`, ...";
                    return TypeKind::Error;
                }
                if (path(field, sc) == TypeKind::Error) return TypeKind::Error;
                if (!mayBeAbsent(e.path[0].text, e.path[1].text))
                    diags_
                        .warning("W0602", e.span,
                                 quoteName(e.path[0].text + "." + e.path[1].text) +
                                     " is never absent, so this `has` is always true",
                                 "always true")
                        .help = "sets are empty rather than absent, and names and declared flags always exist";
                return TypeKind::Bool;
            }
        }
        return TypeKind::Error;
    }

    TypeKind binary(Expr& e, Scope& sc) {
        if (e.op == BinOp::And || e.op == BinOp::Or) {
            bool ok = true;
            for (auto& kid : e.kids) {
                TypeKind t = expr(*kid, sc);
                if (t != TypeKind::Bool && t != TypeKind::Error) {
                    diags_.error("E0402", kid->span,
                                 std::string("`") + binOpText(e.op) + "` needs bool operands, found " + article(t),
                                 "not a bool");
                    ok = false;
                }
                if (t == TypeKind::Error) ok = false;
            }
            return ok ? TypeKind::Bool : TypeKind::Error;
        }
        TypeKind l = expr(*e.kids[0], sc);
        TypeKind r = expr(*e.kids[1], sc);
        if (l == TypeKind::Error || r == TypeKind::Error) return TypeKind::Error;
        Expr& lhs = *e.kids[0];
        Expr& rhs = *e.kids[1];
        std::string op = std::string("`") + binOpText(e.op) + "`";
        auto fail = [&](const std::string& message, Span s, const std::string& label) {
            diags_.error("E0402", s, message, label);
            return TypeKind::Error;
        };
        switch (e.op) {
            case BinOp::And:
            case BinOp::Or: break;  // handled above
            case BinOp::Eq:
            case BinOp::Ne:
                if (!sameType(e, l, r)) return TypeKind::Error;
                if (l == TypeKind::Group || l == TypeKind::KernelSet || l == TypeKind::Kernel)
                    return fail(op + " does not compare " + std::string(typeName(l)) + " values", e.span, "use `in`");
                return TypeKind::Bool;
            case BinOp::Lt:
            case BinOp::Le:
            case BinOp::Gt:
            case BinOp::Ge: {
                if (isOrdered(l) || isOrdered(r)) {
                    if (!sameType(e, l, r)) return TypeKind::Error;
                    return TypeKind::Bool;
                }
                if (l == TypeKind::Label && r == TypeKind::Label) return TypeKind::Bool;
                if ((l == TypeKind::LabelSet || l == TypeKind::EmptySet) && r == TypeKind::Label) return TypeKind::Bool;
                if (isSet(l) && isSet(r) && unify(l, r)) return TypeKind::Bool;
                if (l == TypeKind::String && r == TypeKind::String)
                    return fail("strings have no order; " + op + " does not apply", e.span,
                                "use `==`, `startswith` or `like`");
                return fail(op + " does not apply to " + std::string(typeName(l)) + " and " + typeName(r), e.span,
                            "no ordering here");
            }
            case BinOp::In: {
                bool ok = (l == TypeKind::String && unify(r, TypeKind::StringSet) == TypeKind::StringSet) ||
                          (l == TypeKind::Label && unify(r, TypeKind::LabelSet) == TypeKind::LabelSet) ||
                          (l == TypeKind::Agent && r == TypeKind::Group) ||
                          ((l == TypeKind::Kernel || l == TypeKind::Hash || l == TypeKind::String) &&
                           r == TypeKind::KernelSet);
                if (!ok) {
                    if (r == TypeKind::String)
                        return fail("`in` needs a set on the right, found a string", rhs.span, "not a set");
                    return fail("`in` does not apply to " + article(l) + " and " + article(r), e.span, "no membership");
                }
                return TypeKind::Bool;
            }
            case BinOp::Like:
            case BinOp::StartsWith:
                if (l != TypeKind::String)
                    return fail(op + " needs a string on the left, found " + article(l), lhs.span, "not a string");
                if (rhs.kind != Expr::Kind::String) {
                    diags_.error("E0405", rhs.span, op + " needs a string literal on the right", "not a literal").help =
                        "patterns are compiled ahead of time, so they must be written out";
                    return TypeKind::Error;
                }
                if (e.op == BinOp::Like) glob(rhs);
                return TypeKind::Bool;
        }
        return TypeKind::Error;
    }

    void glob(const Expr& pattern) {
        int depth = 0;
        for (char c : pattern.text) {
            if (c == '[') ++depth;
            if (c == ']') --depth;
            if (depth < 0 || depth > 1) break;
        }
        if (depth != 0)
            diags_.error("E0411", pattern.span, "unbalanced `[` or `]` in glob pattern", "invalid glob").help =
                "globs use `*`, `?` and `[abc]`";
    }

    bool sameType(Expr& e, TypeKind l, TypeKind r) {
        if (unify(l, r)) return true;
        Expr& lhs = *e.kids[0];
        Expr& rhs = *e.kids[1];
        if ((isQuantity(l) && r == TypeKind::Int) || (isQuantity(r) && l == TypeKind::Int)) {
            TypeKind q = isQuantity(l) ? l : r;
            Expr& plain = isQuantity(l) ? rhs : lhs;
            diags_
                .error("E0406", plain.span, std::string("expected ") + article(q) + ", found a number without a unit",
                       "no unit")
                .help =
                q == TypeKind::Size ? "write the unit, for example `40 GiB`" : "write the unit, for example `30s`";
            return false;
        }
        if (isQuantity(l) && isQuantity(r)) {
            diags_.error("E0406", rhs.span, std::string("cannot compare ") + article(l) + " with " + article(r),
                         "wrong unit");
            return false;
        }
        diags_.error(
            "E0401", e.span,
            std::string("type mismatch: `") + binOpText(e.op) + "` compares " + article(l) + " with " + article(r),
            std::string(typeName(l)) + " vs " + typeName(r));
        return false;
    }

    std::vector<std::string> fieldsOf(std::string_view root, Action action) {
        std::vector<std::string> out;
        for (const FieldDef& f : requestSchema())
            if (f.root == root && !f.field.empty() && (f.actions & bit(action))) out.emplace_back(f.field);
        return out;
    }

    TypeKind path(Expr& e, Scope& sc) {
        const std::vector<Ident>& p = e.path;
        const std::string& root = p[0].text;
        if (p.size() == 1 && !isRoot(root)) {
            auto it = names_.find(root);
            if (it == names_.end()) {
                std::vector<std::string> candidates;
                for (auto& [n, _] : names_) candidates.push_back(n);
                auto& d = diags_.error("E0210", p[0].span, "unknown name " + quoteName(root),
                                       "not a label, agent, set, group or kernel set");
                suggest(d, root, candidates);
                if (d.help.empty() && root.size() > 0 && root[0] != '"')
                    d.help = "strings are written in double quotes: `\"" + root + "\"`";
                return TypeKind::Error;
            }
            usedNames_.insert(root);
            switch (it->second.kind) {
                case NameKind::Label: return TypeKind::Label;
                case NameKind::Agent: return TypeKind::Agent;
                case NameKind::Group: return TypeKind::Group;
                case NameKind::Kernels: return TypeKind::KernelSet;
                case NameKind::Set: {
                    auto s = model_.sets.find(root);
                    return s == model_.sets.end() ? TypeKind::Error : s->second.type;
                }
            }
        }
        if (!isRoot(root)) {
            std::vector<std::string> roots{"request",   "session", "agent",  "args", "tool", "data",
                                           "recipient", "message", "kernel", "gpu",  "net"};
            auto& d = diags_.error("E0210", p[0].span, "unknown name " + quoteName(root), "not a request field");
            suggest(d, root, roots);
            if (d.help.empty())
                d.help =
                    "conditions read request, session, agent, args, tool, data, recipient, "
                    "message, kernel, gpu and net";
            return TypeKind::Error;
        }
        if (root == "args") return argsPath(e, sc);
        if (p.size() > 2) {
            diags_.error("E0204", p[2].span, "field " + quoteName(p[1].text) + " has no fields", "no such field");
            return TypeKind::Error;
        }
        std::string field = p.size() == 2 ? p[1].text : "";
        const FieldDef* f = findField(root, field);
        bool agentAttr = (root == "agent" || root == "recipient") && p.size() == 2 && !f;
        if (agentAttr) {
            auto attr = attrTypes_.find(field);
            if (attr != attrTypes_.end()) {
                if (root == "recipient" && sc.action != Action::Send) return unavailable(e, sc);
                return attr->second.first;
            }
        }
        if (!f) {
            if (p.size() == 1) {
                diags_.error("E0204", p[0].span,
                             quoteName(root) + " needs a field, for example " +
                                 quoteName(root + "." +
                                           (fieldsOf(root, sc.action).empty() ? fieldsOf(root, Action::Tool).front()
                                                                              : fieldsOf(root, sc.action).front())),
                             "a field is missing");
                return TypeKind::Error;
            }
            std::vector<std::string> candidates;
            for (const FieldDef& fd : requestSchema())
                if (fd.root == root && !fd.field.empty()) candidates.emplace_back(fd.field);
            if (root == "agent" || root == "recipient")
                for (auto& [n, _] : attrTypes_) candidates.push_back(n);
            auto& d = diags_.error("E0204", p[1].span, "unknown field " + quoteName(root + "." + field),
                                   "not a field of " + quoteName(root));
            suggest(d, field, candidates);
            if (d.help.empty()) {
                std::string list;
                for (const std::string& c : candidates) list += (list.empty() ? "" : ", ") + c;
                d.help = quoteName(root) + " has: " + list;
            }
            return TypeKind::Error;
        }
        if (!(f->actions & bit(sc.action))) return unavailable(e, sc);
        return f->type;
    }

    // A field that exists, but not in requests of this rule's action.
    TypeKind unavailable(const Expr& e, const Scope& sc) {
        const std::string& root = e.path[0].text;
        std::string field = e.path.size() > 1 ? e.path[1].text : "";
        const FieldDef* f = findField(root, field);
        ActionMask mask = f ? f->actions : root == "args" ? bit(Action::Tool) : bit(Action::Send);
        std::string acts;
        for (Action a : kAllActions)
            if (mask & bit(a)) acts += (acts.empty() ? "" : ", ") + std::string(actionName(a));
        std::string whole = root + (field.empty() ? "" : "." + field);
        diags_
            .error("E0412", e.span, quoteName(whole) + " is not available in a `" + actionName(sc.action) + "` rule",
                   "not part of this request")
            .help = quoteName(whole) + " belongs to requests of: " + acts;
        return TypeKind::Error;
    }

    TypeKind argsPath(Expr& e, Scope& sc) {
        const std::vector<Ident>& p = e.path;
        if (sc.action != Action::Tool) return unavailable(e, sc);
        if (p.size() != 2) {
            diags_.error("E0204", p.size() < 2 ? p[0].span : p[2].span,
                         p.size() < 2 ? "`args` needs a parameter name, for example `args.amount`"
                                      : "parameter " + quoteName(p[1].text) + " has no fields",
                         "here");
            return TypeKind::Error;
        }
        const std::string& name = p[1].text;
        if (!sc.hasTarget || unknownTarget_) return TypeKind::Error;  // target already reported
        if (sc.tools.empty()) {
            diags_
                .error("E0203", p[1].span,
                       "unknown argument " + quoteName(name) + ": no declared tool matches this rule's target",
                       "no tool declares it")
                .help = "arguments are typed by tool declarations; declare the tool or name it in the rule";
            return TypeKind::Error;
        }
        TypeKind type = TypeKind::Error;
        for (const ToolInfo* t : sc.tools) {
            const ParamInfo* param = t->param(name);
            if (!param) {
                std::vector<std::string> names;
                for (const ParamInfo& x : t->params) names.push_back(x.name);
                auto& d = diags_.error(
                    "E0203", p[1].span,
                    "unknown argument " + quoteName(name) + ": tool " + quoteName(t->name) + " has no such parameter",
                    "not a parameter of " + quoteName(t->name));
                d.notes.push_back({"tool " + quoteName(t->name) + " is declared here", t->span});
                suggest(d, name, names);
                if (d.help.empty()) {
                    std::string list;
                    for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
                    d.help = names.empty() ? quoteName(t->name) + " takes no parameters"
                                           : quoteName(t->name) + " takes: " + list;
                }
                return TypeKind::Error;
            }
            if (type != TypeKind::Error && param->type != type) {
                diags_
                    .error("E0401", p[1].span,
                           "argument " + quoteName(name) + " has different types across the tools this rule matches",
                           "ambiguous type")
                    .notes.push_back({"it is " + article(param->type) + " in " + quoteName(t->name), param->span});
                return TypeKind::Error;
            }
            type = param->type;
        }
        return type;
    }

    // -----------------------------------------------------------------------------------------------------------
    // Tests

    void test(TestBlock& t) {
        if (auto [it, ok] = testNames_.emplace(t.name, t.nameSpan); !ok) {
            diags_.error("E0304", t.nameSpan, "two tests are named " + quoteName(t.name), "duplicate test name")
                .notes.push_back({"the other test is here", it->second});
        }
        TestRequest* req = nullptr;
        TestExpect* expect = nullptr;
        for (TestStmt& s : t.stmts) {
            if (auto* r = std::get_if<TestRequest>(&s)) {
                if (req) {
                    diags_.error("E0509", r->span, "a test has exactly one `request`", "second request");
                    continue;
                }
                req = r;
            } else if (auto* e = std::get_if<TestExpect>(&s)) {
                if (expect) {
                    diags_.error("E0509", e->span, "a test has exactly one `expect`", "second expect");
                    continue;
                }
                expect = e;
            }
        }
        if (!req) diags_.error("E0509", t.nameSpan, "test " + quoteName(t.name) + " has no `request`", "no request");
        if (!expect) diags_.error("E0509", t.nameSpan, "test " + quoteName(t.name) + " has no `expect`", "no expect");
        if (expect) {
            for (Obligation& o : expect->obligations) obligation(o);
            if (!expect->allow && !expect->obligations.empty())
                diags_
                    .error("E0515", expect->obligations.front().span, "a deny carries no obligations",
                           "can never be expected")
                    .help = "expect obligations only with `expect allow`";
        }
        Scope sc;
        if (req) testRequest(*req, sc);
        std::map<std::string, Span> assigned;
        for (TestStmt& s : t.stmts) {
            auto* a = std::get_if<TestAssign>(&s);
            if (!a) continue;
            std::string whole;
            for (const Ident& i : a->path) whole += (whole.empty() ? "" : ".") + i.text;
            if (auto [it, ok] = assigned.emplace(whole, a->span); !ok) {
                diags_
                    .error("E0306", a->span, quoteName(whole) + " is assigned twice in this test", "second assignment")
                    .notes.push_back({"first assigned here", it->second});
                continue;
            }
            assign(*a, req ? &sc : nullptr);
        }
    }

    void testRequest(TestRequest& r, Scope& sc) {
        Body& b = r.body;
        sc.action = b.action;
        if (b.target && (b.target->wildcard)) {
            diags_.error("E0512", b.target->span, "a test request names one target, not a pattern", "a pattern");
            return;
        }
        if (!b.subject || b.subject->kind != AgentPattern::Kind::Named) {
            diags_.error("E0512", b.subject ? b.subject->span : r.span,
                         "a test request is made by one named agent: `by agent NAME`", "one agent needed");
        }
        if (b.action == Action::Send && (!b.recipient || b.recipient->kind != AgentPattern::Kind::Named)) {
            diags_.error("E0512", b.recipient ? b.recipient->span : r.span,
                         "a test `send` names one recipient: `to agent NAME`", "one recipient needed");
        }
        body(b, sc);
        if (b.action != Action::Tool) {
            if (r.hasArgs)
                diags_.error("E0504", r.args.empty() ? r.span : r.args.front().span,
                             "only tool requests take arguments", "unexpected arguments");
            return;
        }
        if (sc.tools.size() != 1) return;
        const ToolInfo& tool = *sc.tools.front();
        std::set<std::string> given;
        for (TestArg& a : r.args) {
            const ParamInfo* p = tool.param(a.name.text);
            if (!p) {
                std::vector<std::string> names;
                for (const ParamInfo& x : tool.params) names.push_back(x.name);
                auto& d = diags_.error("E0203", a.name.span,
                                       "unknown argument " + quoteName(a.name.text) + ": tool " + quoteName(tool.name) +
                                           " has no such parameter",
                                       "not a parameter");
                suggest(d, a.name.text, names);
                continue;
            }
            if (!given.insert(a.name.text).second) {
                diags_.error("E0306", a.name.span, "argument " + quoteName(a.name.text) + " is given twice",
                             "duplicate");
                continue;
            }
            TypeKind t = expr(*a.value, sc);
            if (t != TypeKind::Error && !unify(t, p->type)) {
                diags_.error("E0409", a.value->span,
                             "argument " + quoteName(a.name.text) + " of " + quoteName(tool.name) + " is " +
                                 article(p->type) + ", found " + article(t),
                             std::string("expected ") + typeName(p->type));
            }
        }
        for (const ParamInfo& p : tool.params) {
            if (!given.count(p.name)) {
                diags_.error("E0410", r.span,
                             "test request is missing argument " + quoteName(p.name) + " of " + quoteName(tool.name),
                             "missing " + quoteName(p.name));
            }
        }
    }

    void assign(TestAssign& a, Scope* sc) {
        const std::vector<Ident>& p = a.path;
        std::string root = p[0].text;
        std::string field = p.size() > 1 ? p[1].text : "";
        const FieldDef* f = p.size() <= 2 ? findField(root, field) : nullptr;
        if (!f || !f->supplied || f->type == TypeKind::Kernel) {
            std::vector<std::string> candidates;
            for (const FieldDef& fd : requestSchema())
                if (fd.supplied && !fd.field.empty())
                    candidates.push_back(std::string(fd.root) + "." + std::string(fd.field));
            std::string whole;
            for (const Ident& i : p) whole += (whole.empty() ? "" : ".") + i.text;
            std::string message = !f ? "unknown request field " + quoteName(whole)
                                  : f->type == TypeKind::Kernel
                                      ? "set the kernel's fields (`kernel.module`, `kernel.name`, ...), not `kernel`"
                                      : quoteName(whole) + " comes from declarations and cannot be set by a test";
            auto& d = diags_.error("E0204", a.span, message, "cannot be set");
            suggest(d, whole, candidates);
            return;
        }
        if (sc && !(f->actions & bit(sc->action))) {
            diags_.error("E0412", a.span,
                         quoteName(root + "." + field) + " is not part of a `" + actionName(sc->action) + "` request",
                         "wrong action");
            return;
        }
        Scope local;
        TypeKind t = expr(*a.value, sc ? *sc : local);
        if (t == TypeKind::Error) return;
        bool ok = unify(t, f->type) || (f->type == TypeKind::LabelSet && t == TypeKind::Label);
        if (!ok) {
            if ((isQuantity(f->type) && t == TypeKind::Int))
                diags_.error("E0406", a.value->span,
                             quoteName(root + "." + field) + " is " + article(f->type) + "; write a unit", "no unit");
            else
                diags_.error("E0409", a.value->span,
                             quoteName(root + "." + field) + " is " + article(f->type) + ", found " + article(t),
                             std::string("expected ") + typeName(f->type));
        }
    }

    // -----------------------------------------------------------------------------------------------------------
    // Unused declarations (root modules only: a library module's declarations are for its importers)

    void unused() {
        for (const auto& [name, t] : model_.tools)
            if (isRoot_[t.module] && !usedTools_.count(name))
                diags_
                    .warning("W0601", t.span, "tool " + quoteName(name) + " is declared but no rule mentions it",
                             "unused")
                    .help = "with no rule it is always denied; remove it or add a rule";
        for (const auto& [name, d] : model_.data)
            if (isRoot_[d.module] && !usedData_.count(name))
                diags_.warning("W0601", d.span,
                               "data resource " + quoteName(name) + " is declared but no rule mentions it", "unused");
        auto check = [&](const auto& map, const char* what) {
            for (const auto& [name, info] : map)
                if (isRoot_[info.module] && !usedNames_.count(name))
                    diags_.warning("W0601", info.span, std::string(what) + " " + quoteName(name) + " is never used",
                                   "unused");
        };
        check(model_.sets, "set");
        check(model_.groups, "group");
        check(model_.kernels, "kernel set");
    }

    std::vector<Module>& modules_;
    const std::vector<bool>& isRoot_;
    DiagnosticEngine& diags_;
    Model model_;
    std::map<std::string, NameEntry> names_;
    std::map<std::string, Span> policyNames_;
    std::map<std::string, Span> testNames_;
    std::map<std::string, std::pair<TypeKind, Span>> attrTypes_;
    std::vector<Edge> edges_;
    std::map<std::string, std::set<std::size_t>> labelModules_;  // modules mentioning each label
    std::set<std::string> usedNames_, usedTools_, usedData_;
    bool unknownTarget_ = false;
};

}  // namespace

Model check(std::vector<Module>& modules, const std::vector<bool>& isRoot, DiagnosticEngine& diags) {
    try {
        return Checker(modules, isRoot, diags).run();
    } catch (const std::exception& e) {
        diags.error("E0900", Span{}, std::string("internal error during checking: ") + e.what());
    }
    return Model{};
}

}  // namespace omega::sema
