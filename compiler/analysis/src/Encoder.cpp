// The symbolic request and the three-valued encoding of rules (Encoder.h, docs/analysis.md).
#include "Encoder.h"

#include "omega/sema/Schema.h"

#include <cstdio>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <set>

namespace omega::analysis {

using namespace omega::ast;

namespace {

bool targeted(Action a) {
    return a == Action::Tool || a == Action::Read || a == Action::Write;
}

bool isSetType(TypeKind t) {
    return t == TypeKind::StringSet || t == TypeKind::LabelSet || t == TypeKind::EmptySet;
}

z3::expr any(z3::context& c, const std::vector<z3::expr>& xs) {
    z3::expr_vector v(c);
    for (const auto& x : xs) v.push_back(x);
    return v.empty() ? c.bool_val(false) : z3::mk_or(v);
}

z3::expr all(z3::context& c, const std::vector<z3::expr>& xs) {
    z3::expr_vector v(c);
    for (const auto& x : xs) v.push_back(x);
    return v.empty() ? c.bool_val(true) : z3::mk_and(v);
}

z3::expr reUnion(const z3::expr& a, const z3::expr& b) {
    Z3_ast args[2] = {a, b};
    return z3::expr(a.ctx(), Z3_mk_re_union(a.ctx(), 2, args));
}

// Strings are sequences of UTF-8 bytes (Z3_mk_lstring and Z3_get_lstring pass bytes through unescaped; Z3's
// own escapes and its printing of characters past 0x7F are not used), so a code point is one to four Z3
// characters and every regular expression below matches whole code points.
std::vector<char32_t> codePoints(const std::string& s) {
    std::vector<char32_t> out;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
        char32_t cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
        for (std::size_t k = 1; k < len && i + k < s.size(); ++k)
            cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        out.push_back(cp);
        i += len;
    }
    return out;
}

std::string utf8(char32_t cp) {
    std::string out;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return out;
}

bool printableAscii(char32_t cp) {
    return cp >= 0x20 && cp <= 0x7E;
}

// The characters a string literal adds to the request alphabet: its own, and around every `a-z` range (which may
// be a glob class) the endpoints and their neighbours, so that every region the program's ranges cut the code
// points into has a member in the alphabet.
void addCharacters(const std::string& text, std::set<char32_t>& out) {
    const std::vector<char32_t> cps = codePoints(text);
    for (std::size_t i = 0; i < cps.size(); ++i) {
        out.insert(cps[i]);
        if (i + 2 < cps.size() && cps[i + 1] == U'-')
            for (char32_t e : {cps[i], cps[i + 2]}) {
                if (e > 0) out.insert(e - 1);
                if (e < 0x10FFFF) out.insert(e + 1);
            }
    }
}

void collectLiterals(const Expr& e, std::set<std::string>& strings, std::set<std::string>& hashes) {
    if (e.kind == Expr::Kind::String) strings.insert(e.text);
    if (e.kind == Expr::Kind::Hash) hashes.insert(e.algorithm.text + ":" + e.text);
    for (const auto& k : e.kids) collectLiterals(*k, strings, hashes);
}

std::string fresh(const std::string& base, const std::set<std::string>& taken) {
    std::string s = base;
    while (taken.count(s)) s += "~";
    return s;
}

}  // namespace

Space Space::of(Action action, const std::vector<const eval::Evaluator*>& programs) {
    Space space;
    auto add = [](std::vector<std::string>& names, const std::string& name) {
        if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    };
    // The universe of set elements and the hash values: every string the programs can compare a set element with
    // (literals of rules and assertions, named sets, and every string a declaration gives a derived fact: names,
    // owners, regions, providers, purposes, fields, attribute values), and fresh ones.
    std::set<std::string> strings, hashes;
    for (const eval::Evaluator* ev : programs) {
        const sema::Model& model = ev->model();
        for (const auto& [name, _] : model.agents) add(space.agents, name);
        if (action == Action::Tool)
            for (const auto& [name, _] : model.tools) add(space.targets, name);
        if (action == Action::Read || action == Action::Write)
            for (const auto& [name, _] : model.data) add(space.targets, name);
        for (const std::string& l : model.lattice.names) add(space.labels, l);
        for (const eval::RuleInfo& r : ev->rules())
            if (r.body->condition) collectLiterals(*r.body->condition, strings, hashes);
        for (const ast::Module& m : ev->modules())
            for (const ast::Item& item : m.items)
                if (const auto* a = std::get_if<ast::Assertion>(&item); a && a->body.condition)
                    collectLiterals(*a->body.condition, strings, hashes);
        for (const auto& [_, s] : model.sets)
            if (s.type != TypeKind::LabelSet) strings.insert(s.values.begin(), s.values.end());
        for (const auto& [name, d] : model.data) {
            strings.insert(name);
            if (d.region) strings.insert(*d.region);
            if (d.owner) strings.insert(*d.owner);
            strings.insert(d.purposes.begin(), d.purposes.end());
            strings.insert(d.fields.begin(), d.fields.end());
        }
        for (const auto& [name, _] : model.tools) {
            strings.insert(name);
            strings.insert(name.substr(0, name.find('.')));
        }
        for (const auto& [name, a] : model.agents) {
            strings.insert(name);
            if (a.owner) strings.insert(*a.owner);
            for (const auto& [attr, v] : a.attributes)
                if (v.expr) collectLiterals(*v.expr, strings, hashes);
            if (a.measurement) hashes.insert(*a.measurement);
        }
        for (const auto& [_, k] : model.kernels) hashes.insert(k.modules.begin(), k.modules.end());
    }
    for (const std::string& l : space.labels) {
        bool everywhere = true;
        for (const eval::Evaluator* ev : programs) everywhere = everywhere && ev->model().lattice.find(l).has_value();
        space.commonLabels.push_back(everywhere);
    }
    std::set<char32_t> characters;
    for (const std::string& text : strings) addCharacters(text, characters);
    for (const eval::Evaluator* ev : programs)
        for (const auto& [_, k] : ev->model().kernels)
            for (const std::string& g : k.names) addCharacters(g, characters);
    for (char32_t cp : characters)
        if (!printableAscii(cp) && cp != 0 && (cp < 0xD800 || cp > 0xDFFF)) space.characters.push_back(utf8(cp));
    space.universe.assign(strings.begin(), strings.end());
    space.universe.push_back(fresh("~u0", strings));
    space.universe.push_back(fresh("~u1", strings));
    space.hashes.assign(hashes.begin(), hashes.end());
    space.hashes.push_back(fresh("sha256:" + std::string(64, '0'), hashes));
    return space;
}

Encoder::Encoder(z3::context& ctx, const eval::Evaluator& ev, Action action)
    : Encoder(ctx, ev, action, Space::of(action, {&ev})) {}

Encoder::Encoder(z3::context& ctx, const eval::Evaluator& ev, Action action, Space space,
                 const std::set<std::string>& hiddenTargets)
    : ctx_(ctx),
      ev_(ev),
      model_(ev.model()),
      action_(action),
      target_(ctx.int_const("target")),
      agent_(ctx.int_const("agent")),
      recipient_(ctx.int_const("recipient")),
      agents_(std::move(space.agents)),
      targets_(std::move(space.targets)),
      labels_(std::move(space.labels)),
      commonLabels_(std::move(space.commonLabels)),
      characters_(std::move(space.characters)),
      universe_(std::move(space.universe)),
      hashes_(std::move(space.hashes)) {
    for (const std::string& a : agents_) knownAgents_.push_back(model_.agents.count(a) > 0);
    for (const std::string& t : targets_) {
        const bool declared = action == Action::Tool ? model_.tools.count(t) > 0 : model_.data.count(t) > 0;
        knownTargets_.push_back(declared && !hiddenTargets.count(t));
    }
    ownLabel_.assign(labels_.size(), -1);
    for (const std::string& l : model_.lattice.names) {
        const int at = labelIndex(l);
        labelOf_.push_back(at);
        ownLabel_.at(static_cast<std::size_t>(at)) = static_cast<int>(labelOf_.size() - 1);
    }
    auto index = [&](const z3::expr& x, std::size_t n) {
        domain_.push_back(x >= 0 && x < ctx_.int_val(static_cast<int>(n)));
    };
    index(agent_, agents_.size());
    if (targeted(action)) index(target_, targets_.size());
    if (action == Action::Send) index(recipient_, agents_.size());
}

int Encoder::labelIndex(const std::string& name) const {
    return static_cast<int>(std::find(labels_.begin(), labels_.end(), name) - labels_.begin());
}

const sema::AgentInfo* Encoder::agentAt(std::size_t i) const {
    auto it = model_.agents.find(agents_[i]);
    return it == model_.agents.end() ? nullptr : &it->second;
}

z3::expr Encoder::knownIndex(const z3::expr& idx, const std::vector<bool>& known) const {
    std::vector<z3::expr> is;
    for (std::size_t i = 0; i < known.size(); ++i)
        if (known[i]) is.push_back(idx == ctx_.int_val(static_cast<int>(i)));
    return any(ctx_, is);
}

z3::expr Encoder::accepts() {
    z3::expr ok = knownIndex(agent_, knownAgents_);
    if (action_ == Action::Send) ok = ok && knownIndex(recipient_, knownAgents_);
    if (targeted(action_)) ok = ok && knownIndex(target_, knownTargets_);
    return ok;
}

z3::expr Encoder::domain() const {
    return all(ctx_, domain_);
}

Encoder::Var Encoder::makeVar(const std::string& name, TypeKind type) {
    Var var{type, ctx_.bool_const((name + "?").c_str()), ctx_.bool_val(false), {}};
    switch (type) {
        case TypeKind::String:
            var.v = ctx_.string_const(name.c_str());
            domain_.push_back(z3::in_re(var.v, z3::star(oneCharacter())));
            break;
        case TypeKind::Hash: {
            var.v = ctx_.string_const(name.c_str());
            std::vector<z3::expr> choices;
            for (const auto& h : hashes_) choices.push_back(var.v == stringVal(h));
            domain_.push_back(any(ctx_, choices));
            break;
        }
        case TypeKind::Int:
        case TypeKind::Size:
        case TypeKind::Duration:
            var.v = ctx_.int_const(name.c_str());
            domain_.push_back(var.v >= ctx_.int_val(std::numeric_limits<std::int64_t>::min()) &&
                              var.v <= ctx_.int_val(std::numeric_limits<std::int64_t>::max()));
            break;
        case TypeKind::Bool: var.v = ctx_.bool_const(name.c_str()); break;
        case TypeKind::Label: {
            var.v = ctx_.int_const(name.c_str());
            // Requests may only name declared labels (docs/requests.md), of every program that reads them.
            std::vector<z3::expr> declared;
            for (std::size_t l = 0; l < labels_.size(); ++l)
                if (commonLabels_[l]) declared.push_back(var.v == ctx_.int_val(static_cast<int>(l)));
            domain_.push_back(any(ctx_, declared));
            break;
        }
        case TypeKind::StringSet:
        case TypeKind::EmptySet:
            for (std::size_t u = 0; u < universe_.size(); ++u)
                var.mem.push_back(ctx_.bool_const((name + "#" + std::to_string(u)).c_str()));
            break;
        case TypeKind::LabelSet:
            for (std::size_t l = 0; l < labels_.size(); ++l) {
                var.mem.push_back(ctx_.bool_const((name + "#" + std::to_string(l)).c_str()));
                if (!commonLabels_[l]) domain_.push_back(!var.mem.back());
            }
            break;
        default: break;
    }
    return var;
}

Encoder::Var& Encoder::field(const std::string& key, TypeKind type) {
    // The type is part of the name: two tools may have a parameter of one name and different types, and
    // programs over one space share a variable exactly when they read the same field with the same type.
    const std::string name = key + ":" + typeName(type);
    auto it = vars_.find(name);
    if (it != vars_.end()) return it->second;
    Var var = makeVar(name, type);
    if (key.compare(0, 5, "args.") == 0) {
        // Every parameter of the target tool is given (docs/requests.md); other tools have no such argument. Said
        // only of the tools this program declares: another program's tools are the other program's business.
        std::vector<z3::expr> has;
        const std::string param = key.substr(5);
        for (std::size_t i = 0; i < targets_.size(); ++i) {
            if (!knownTargets_[i]) continue;
            const sema::ParamInfo* p = model_.tools.at(targets_[i]).param(param);
            if (p && p->type == type) has.push_back(target_ == ctx_.int_val(static_cast<int>(i)));
        }
        domain_.push_back(z3::implies(knownIndex(target_, knownTargets_), var.present == any(ctx_, has)));
    } else if (isSetType(type)) {
        domain_.push_back(var.present);  // a supplied set that is not given is empty, never absent
    }
    return vars_.emplace(name, std::move(var)).first->second;
}

Encoder::Val Encoder::fromVar(const Var& var, TypeKind type) {
    Val v{Val::Kind::Int, var.present, var.v, var.mem, {}, type == TypeKind::LabelSet};
    if (type == TypeKind::String || type == TypeKind::Hash) v.kind = Val::Kind::Str;
    if (type == TypeKind::Bool) v.kind = Val::Kind::Bool;
    if (isSetType(type)) v.kind = Val::Kind::Set;
    return v;
}

Encoder::Val Encoder::constSet(const std::vector<std::string>& items, bool labels) {
    Val v{Val::Kind::Set, ctx_.bool_val(true), ctx_.bool_val(false), {}, {}, labels};
    if (labels) {
        for (const auto& l : labels_)
            v.mem.push_back(ctx_.bool_val(std::find(items.begin(), items.end(), l) != items.end()));
    } else {
        for (const auto& u : universe_)
            v.mem.push_back(ctx_.bool_val(std::find(items.begin(), items.end(), u) != items.end()));
    }
    return v;
}

// A declared fact of the element an index points at (an agent, a tool, a data resource): `at(i)` gives element i's
// value, a scalar or a set of items, or nothing where it has none (absent). Elements this program does not declare
// have none.
Encoder::Val Encoder::choice(const z3::expr& idx, std::size_t n, TypeKind type,
                             const std::function<std::optional<Fact>(std::size_t)>& at) {
    std::vector<z3::expr> present;
    z3::expr chosen = type == TypeKind::Bool                                 ? ctx_.bool_val(false)
                      : (type == TypeKind::String || type == TypeKind::Hash) ? stringVal("")
                                                                             : ctx_.int_val(0);
    const bool labels = type == TypeKind::LabelSet;
    std::vector<std::vector<z3::expr>> mem(labels ? labels_.size() : universe_.size());
    for (std::size_t i = 0; i < n; ++i) {
        std::optional<Fact> fact = at(i);
        if (!fact) continue;
        const z3::expr is = idx == ctx_.int_val(static_cast<int>(i));
        present.push_back(is);
        if (fact->items) {
            for (std::size_t u = 0; u < mem.size(); ++u)
                if (fact->items->count(labels ? labels_[u] : universe_[u])) mem[u].push_back(is);
        } else {
            chosen = z3::ite(is, *fact->scalar, chosen);
        }
    }
    Val out{Val::Kind::Int, any(ctx_, present), chosen, {}, {}, labels};
    if (type == TypeKind::String || type == TypeKind::Hash) out.kind = Val::Kind::Str;
    if (type == TypeKind::Bool) out.kind = Val::Kind::Bool;
    if (isSetType(type)) {
        out.kind = Val::Kind::Set;
        for (auto& m : mem) out.mem.push_back(any(ctx_, m));
    }
    return out;
}

// A fact of the agent (or recipient) from the declarations: a choice over the agent index.
Encoder::Val Encoder::agentFact(const std::string& root, const std::string& field, TypeKind type) {
    return choice(
        root == "agent" ? agent_ : recipient_, agents_.size(), type, [&](std::size_t i) -> std::optional<Fact> {
            const sema::AgentInfo* a = agentAt(i);
            if (!a) return std::nullopt;  // another program's agent: this program rejects its requests (accepts())
            std::optional<eval::Value> value;
            if (field == "name")
                value = eval::Value::string(a->name);
            else if (field == "owner" && a->owner)
                value = eval::Value::string(*a->owner);
            else if (field == "measurement" && a->measurement)
                value = eval::Value{eval::Value::Kind::Hash, 0, *a->measurement, {}};
            else if (auto it = a->attributes.find(field); it != a->attributes.end() && it->second.expr)
                value = ev_.literal(*it->second.expr);
            if (!value) return std::nullopt;
            if (isSetType(type)) return Fact{std::nullopt, value->items};
            switch (value->kind) {
                case eval::Value::Kind::Bool: return Fact{ctx_.bool_val(value->number != 0), std::nullopt};
                case eval::Value::Kind::Int: return Fact{ctx_.int_val(value->number), std::nullopt};
                case eval::Value::Kind::Label: return Fact{ctx_.int_val(labelIndex(value->text)), std::nullopt};
                default: return Fact{stringVal(value->text), std::nullopt};
            }
        });
}

Encoder::Val Encoder::path(const std::vector<Ident>& p, TypeKind type) {
    const std::string& root = p[0].text;
    if (p.size() == 1 && !sema::isRoot(root)) {
        if (auto l = model_.lattice.find(root))
            return {Val::Kind::Int, ctx_.bool_val(true), labelVal(*l), {}, {}, false};
        if (auto s = model_.sets.find(root); s != model_.sets.end())
            return constSet(s->second.values, s->second.type == TypeKind::LabelSet);
        auto a = std::find(agents_.begin(), agents_.end(), root);
        return {Val::Kind::Int, ctx_.bool_val(true), ctx_.int_val(static_cast<int>(a - agents_.begin())), {}, {},
                false};
    }
    const std::string name = p.size() > 1 ? p[1].text : "";
    if ((root == "agent" || root == "recipient") && name.empty())
        return {Val::Kind::Int, ctx_.bool_val(true), root == "agent" ? agent_ : recipient_, {}, {}, false};
    if (root == "agent" || root == "recipient") return agentFact(root, name, type);
    if (root == "args") return fromVar(field("args." + name, type), type);
    const sema::FieldDef* def = sema::findField(root, name);
    if (def && def->supplied) return fromVar(field(root + "." + name, type), type);
    // Derived facts of the target tool or data resource: a choice over the target index.
    return choice(target_, targets_.size(), type, [&](std::size_t i) -> std::optional<Fact> {
        if (!knownTargets_[i]) return std::nullopt;
        auto scalar = [](const z3::expr& v) { return Fact{v, std::nullopt}; };
        if (root == "tool" && action_ == Action::Tool) {
            const sema::ToolInfo& t = model_.tools.at(targets_[i]);
            if (name == "name") return scalar(stringVal(t.name));
            if (name == "provider") return scalar(stringVal(t.name.substr(0, t.name.find('.'))));
            if (name == "label" && t.resultLabel) return scalar(labelVal(*t.resultLabel));
            if (name == "sink") return scalar(ctx_.bool_val(t.sink));
            if (name == "privileged") return scalar(ctx_.bool_val(t.privileged));
            if (name == "pinned") return scalar(ctx_.bool_val(!t.pin.empty()));
        } else if (root == "data" && (action_ == Action::Read || action_ == Action::Write)) {
            const sema::DataInfo& d = model_.data.at(targets_[i]);
            if (name == "name") return scalar(stringVal(d.name));
            if (name == "label" && d.label) return scalar(labelVal(*d.label));
            if (name == "region" && d.region) return scalar(stringVal(*d.region));
            if (name == "owner" && d.owner) return scalar(stringVal(*d.owner));
            if (name == "purpose") return Fact{std::nullopt, d.purposes};
            if (name == "fields") return Fact{std::nullopt, d.fields};
        }
        return std::nullopt;
    });
}

Encoder::Val Encoder::value(const Expr& e) {
    switch (e.kind) {
        case Expr::Kind::String: return {Val::Kind::Str, ctx_.bool_val(true), stringVal(e.text), {}, {}, false};
        case Expr::Kind::Hash:
            return {Val::Kind::Str, ctx_.bool_val(true), stringVal(e.algorithm.text + ":" + e.text), {}, {}, false};
        case Expr::Kind::Int: return {Val::Kind::Int, ctx_.bool_val(true), ctx_.int_val(e.number), {}, {}, false};
        case Expr::Kind::Bool:
            return {Val::Kind::Bool, ctx_.bool_val(true), ctx_.bool_val(e.number != 0), {}, {}, false};
        case Expr::Kind::Quantity: {
            auto f = sema::sizeUnit(e.text);
            if (!f) f = sema::durationUnit(e.text);
            return {Val::Kind::Int, ctx_.bool_val(true), ctx_.int_val(e.number * f.value_or(1)), {}, {}, false};
        }
        case Expr::Kind::Path: return path(e.path, e.type);
        case Expr::Kind::Set: {
            const bool labels = e.type == TypeKind::LabelSet;
            Val out{Val::Kind::Set, ctx_.bool_val(true), ctx_.bool_val(false), {}, {}, labels};
            std::vector<z3::expr> present;
            std::vector<Val> items;
            for (const auto& k : e.kids) {
                items.push_back(value(*k));
                present.push_back(items.back().present);
            }
            out.present = all(ctx_, present);
            const std::size_t width = labels ? labels_.size() : universe_.size();
            for (std::size_t u = 0; u < width; ++u) {
                const z3::expr element = labels ? ctx_.int_val(static_cast<int>(u)) : stringVal(universe_[u]);
                std::vector<z3::expr> eq;
                for (const Val& item : items) eq.push_back(item.v == element);
                out.mem.push_back(any(ctx_, eq));
            }
            if (!labels)
                for (const Val& item : items) out.extra.push_back(item.v);
            return out;
        }
        default: {
            Tri t = cond(e);
            return {Val::Kind::Bool, t.t || t.f, t.t, {}, {}, false};
        }
    }
}

Encoder::Tri Encoder::known(const z3::expr& present, const z3::expr& holds) {
    return {present && holds, present && !holds};
}

z3::expr Encoder::member(const z3::expr& x, const Val& set) {
    std::vector<z3::expr> options;
    // `{}` is typed as neither strings nor labels: a label is in it never, and must not meet a string element.
    if (!set.labels && !x.is_seq()) return ctx_.bool_val(false);
    for (std::size_t u = 0; u < set.mem.size(); ++u)
        options.push_back(set.mem[u] &&
                          x == (set.labels ? ctx_.int_val(static_cast<int>(u)) : stringVal(universe_[u])));
    for (const auto& e : set.extra) options.push_back(x == e);
    return any(ctx_, options);
}

z3::expr Encoder::subset(const Val& a, const Val& b) {
    std::vector<z3::expr> parts;
    for (std::size_t u = 0; u < a.mem.size() && u < b.mem.size(); ++u) {
        const z3::expr element = a.labels ? ctx_.int_val(static_cast<int>(u)) : stringVal(universe_[u]);
        std::vector<z3::expr> inB{b.mem[u]};
        for (const auto& e : b.extra) inB.push_back(e == element);
        parts.push_back(z3::implies(a.mem[u], any(ctx_, inB)));
    }
    for (const auto& e : a.extra) parts.push_back(member(e, b));
    return all(ctx_, parts);
}

// This program's order, over the space's label indices.
z3::expr Encoder::labelLe(const z3::expr& a, const z3::expr& b) {
    std::vector<z3::expr> pairs;
    const std::size_t n = model_.lattice.names.size();
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j)
            if (model_.lattice.le(static_cast<int>(i), static_cast<int>(j)))
                pairs.push_back(a == labelVal(static_cast<int>(i)) && b == labelVal(static_cast<int>(j)));
    return any(ctx_, pairs);
}

z3::expr Encoder::noString() {
    z3::sort str = ctx_.string_sort();
    return z3::re_empty(ctx_.re_sort(str));
}

z3::expr Encoder::stringVal(const std::string& s) {
    return z3::expr(ctx_, Z3_mk_lstring(ctx_, static_cast<unsigned>(s.size()), s.data()));
}

// One character of a request string: printable ASCII, or a character some literal of the programs has (Space).
z3::expr Encoder::oneCharacter() {
    if (!oneCharacter_) {
        z3::expr re = z3::range(stringVal(" "), stringVal("~"));
        for (const std::string& c : characters_) re = reUnion(re, z3::to_re(stringVal(c)));
        oneCharacter_ = re;
    }
    return *oneCharacter_;
}

// A glob (language.md: `*` any run, `?` one character, `[a-z0-9]` a class) as a regular expression over code
// points of the request alphabet.
z3::expr Encoder::glob(const z3::expr& s, const std::string& pattern) {
    z3::expr re = z3::to_re(stringVal(""));
    const std::vector<char32_t> cps = codePoints(pattern);
    auto inRange = [&](char32_t lo, char32_t hi) {
        // ASCII by a byte range; past it, the alphabet's characters that fall inside.
        std::optional<z3::expr> out;
        auto add = [&](const z3::expr& piece) { out = out ? reUnion(*out, piece) : piece; };
        if (lo < 0x80) add(z3::range(stringVal(utf8(lo)), stringVal(utf8(std::min<char32_t>(hi, 0x7F)))));
        for (const std::string& c : characters_) {
            const char32_t cp = codePoints(c).front();
            if (cp >= 0x80 && cp >= lo && cp <= hi) add(z3::to_re(stringVal(c)));
        }
        return out ? *out : noString();
    };
    for (std::size_t i = 0; i < cps.size();) {
        z3::expr part = oneCharacter();
        if (cps[i] == U'*') {
            part = z3::star(part);
            ++i;
        } else if (cps[i] == U'?') {
            ++i;
        } else if (cps[i] == U'[') {
            std::size_t j = i + 1;
            std::optional<z3::expr> cls;
            while (j < cps.size() && cps[j] != U']') {
                char32_t lo = cps[j], hi = cps[j];
                if (j + 2 < cps.size() && cps[j + 1] == U'-' && cps[j + 2] != U']') {
                    hi = cps[j + 2];
                    j += 3;
                } else {
                    ++j;
                }
                const z3::expr piece = lo <= hi ? inRange(lo, hi) : noString();
                cls = cls ? reUnion(*cls, piece) : piece;
            }
            part = cls ? *cls : noString();
            i = j + 1;
        } else {
            part = z3::to_re(stringVal(utf8(cps[i])));
            ++i;
        }
        re = z3::concat(re, part);
    }
    return z3::in_re(s, re);
}

Encoder::Tri Encoder::compare(const Expr& e) {
    const Expr& lhs = *e.kids[0];
    const Expr& rhs = *e.kids[1];
    if (e.op == BinOp::In && rhs.kind == Expr::Kind::Path && rhs.path.size() == 1) {
        const std::string& name = rhs.path[0].text;
        if (auto k = model_.kernels.find(name); k != model_.kernels.end()) {
            const sema::KernelSetInfo& ks = k->second;
            auto moduleIn = [&](const Val& m) {
                std::vector<z3::expr> eq;
                for (const auto& h : ks.modules) eq.push_back(m.v == stringVal(h));
                return known(m.present, any(ctx_, eq));
            };
            auto nameIn = [&](const Val& n) {
                std::vector<z3::expr> match;
                for (const auto& g : ks.names) match.push_back(glob(n.v, g));
                return known(n.present, any(ctx_, match));
            };
            if (lhs.type == TypeKind::Kernel) {
                Tri a = moduleIn(fromVar(field("kernel.module", TypeKind::Hash), TypeKind::Hash));
                Tri b = nameIn(fromVar(field("kernel.name", TypeKind::String), TypeKind::String));
                return {a.t && b.t, a.f || b.f};
            }
            return lhs.type == TypeKind::Hash ? moduleIn(value(lhs)) : nameIn(value(lhs));
        }
        if (auto g = model_.groups.find(name); g != model_.groups.end()) {
            Val a = value(lhs);
            std::vector<z3::expr> eq;
            for (const auto& m : g->second.members) {
                auto it = std::find(agents_.begin(), agents_.end(), m);
                if (it != agents_.end()) eq.push_back(a.v == ctx_.int_val(static_cast<int>(it - agents_.begin())));
            }
            return known(a.present, any(ctx_, eq));
        }
    }
    Val a = value(lhs);
    Val b = value(rhs);
    const z3::expr present = a.present && b.present;
    const TypeKind lt = lhs.type, rt = rhs.type;
    switch (e.op) {
        case BinOp::Eq:
        case BinOp::Ne: {
            z3::expr eq =
                (a.kind == Val::Kind::Set || b.kind == Val::Kind::Set) ? (subset(a, b) && subset(b, a)) : (a.v == b.v);
            return known(present, e.op == BinOp::Eq ? eq : !eq);
        }
        case BinOp::Lt:
        case BinOp::Le:
        case BinOp::Gt:
        case BinOp::Ge: {
            if (lt == TypeKind::Int || lt == TypeKind::Size || lt == TypeKind::Duration) {
                z3::expr h = e.op == BinOp::Lt   ? a.v < b.v
                             : e.op == BinOp::Le ? a.v <= b.v
                             : e.op == BinOp::Gt ? a.v > b.v
                                                 : a.v >= b.v;
                return known(present, h);
            }
            if (lt == TypeKind::Label && rt == TypeKind::Label) {
                const bool down = e.op == BinOp::Lt || e.op == BinOp::Le;
                z3::expr h = down ? labelLe(a.v, b.v) : labelLe(b.v, a.v);
                if (e.op == BinOp::Lt || e.op == BinOp::Gt) h = h && a.v != b.v;
                return known(present, h);
            }
            if (rt == TypeKind::Label) {
                // A set of labels against a label: any element >= (>) it, or all elements <= (<) it.
                std::vector<z3::expr> each;
                const bool existential = e.op == BinOp::Ge || e.op == BinOp::Gt;
                const bool strict = e.op == BinOp::Gt || e.op == BinOp::Lt;
                for (std::size_t l = 0; l < a.mem.size(); ++l) {
                    const z3::expr label = ctx_.int_val(static_cast<int>(l));
                    z3::expr h = existential ? labelLe(b.v, label) : labelLe(label, b.v);
                    if (strict) h = h && label != b.v;
                    each.push_back(existential ? (a.mem[l] && h) : z3::implies(a.mem[l], h));
                }
                return known(present, existential ? any(ctx_, each) : all(ctx_, each));
            }
            z3::expr h = e.op == BinOp::Le   ? subset(a, b)
                         : e.op == BinOp::Lt ? subset(a, b) && !subset(b, a)
                         : e.op == BinOp::Ge ? subset(b, a)
                                             : subset(b, a) && !subset(a, b);
            return known(present, h);
        }
        case BinOp::In: return known(present, member(a.v, b));
        case BinOp::Like: return known(a.present, glob(a.v, rhs.text));
        case BinOp::StartsWith: return known(a.present, z3::prefixof(stringVal(rhs.text), a.v));
        default: return {ctx_.bool_val(false), ctx_.bool_val(false)};
    }
}

Encoder::Tri Encoder::cond(const Expr& e) {
    switch (e.kind) {
        case Expr::Kind::Bool: return {ctx_.bool_val(e.number != 0), ctx_.bool_val(e.number == 0)};
        case Expr::Kind::Not: {
            Tri t = cond(*e.kids[0]);
            return {t.f, t.t};
        }
        case Expr::Kind::Has: {
            // Presence only; the value's type is the declared one (a field's, a parameter's, an attribute's).
            const std::string& root = e.path[0].text;
            const std::string& name = e.path[1].text;
            TypeKind type = TypeKind::String;
            if (const sema::FieldDef* def = sema::findField(root, name)) type = def->type;
            if (root == "args") {
                for (const auto& [_, t] : model_.tools)
                    if (const sema::ParamInfo* p = t.param(name)) type = p->type;
            }
            if ((root == "agent" || root == "recipient") && !sema::findField(root, name)) {
                for (const auto& [_, a] : model_.agents)
                    if (auto it = a.attributes.find(name); it != a.attributes.end()) type = it->second.type;
            }
            Val v = path(e.path, type);
            return {v.present, !v.present};
        }
        case Expr::Kind::Binary: {
            if (e.op == BinOp::And || e.op == BinOp::Or) {
                std::vector<z3::expr> ts, fs;
                for (const auto& k : e.kids) {
                    Tri t = cond(*k);
                    ts.push_back(t.t);
                    fs.push_back(t.f);
                }
                if (e.op == BinOp::And) return {all(ctx_, ts), any(ctx_, fs)};
                return {any(ctx_, ts), all(ctx_, fs)};
            }
            return compare(e);
        }
        case Expr::Kind::Path: {
            Val v = value(e);
            return known(v.present, v.v);
        }
        default: return {ctx_.bool_val(false), ctx_.bool_val(false)};
    }
}

z3::expr Encoder::agentIn(const z3::expr& agent, const std::optional<AgentPattern>& p) {
    if (!p || p->kind == AgentPattern::Kind::Any) return ctx_.bool_val(true);
    std::vector<std::string> names;
    if (p->kind == AgentPattern::Kind::Group) {
        if (auto g = model_.groups.find(p->names[0].text); g != model_.groups.end()) names = g->second.members;
    } else {
        for (const Ident& n : p->names) names.push_back(n.text);
    }
    std::vector<z3::expr> eq;
    for (const auto& n : names) {
        auto it = std::find(agents_.begin(), agents_.end(), n);
        if (it != agents_.end()) eq.push_back(agent == ctx_.int_val(static_cast<int>(it - agents_.begin())));
    }
    return any(ctx_, eq);
}

z3::expr Encoder::targetIn(const std::optional<NamePattern>& p) {
    if (!targeted(action_) || !p || p->any()) return ctx_.bool_val(true);
    std::vector<z3::expr> eq;
    for (std::size_t i = 0; i < targets_.size(); ++i)
        if (sema::patternMatches(*p, targets_[i])) eq.push_back(target_ == ctx_.int_val(static_cast<int>(i)));
    return any(ctx_, eq);
}

z3::expr Encoder::bodyScope(const Body& b) {
    z3::expr s = targetIn(b.target) && agentIn(agent_, b.subject);
    if (action_ == Action::Send) s = s && agentIn(recipient_, b.recipient);
    return s;
}

z3::expr Encoder::scope(const eval::RuleInfo& rule) {
    return bodyScope(*rule.body);
}

z3::expr Encoder::assertionBody(const Body& body) {
    z3::expr m = bodyScope(body);
    if (body.condition) m = m && !cond(*body.condition).f;
    return m;
}

z3::expr Encoder::allowed(const std::vector<const eval::RuleInfo*>& rules) {
    std::vector<z3::expr> forbids, permits;
    std::map<std::string, std::vector<z3::expr>> byPrincipal;
    for (const eval::RuleInfo* r : rules) {
        if (r->kind == eval::RuleInfo::Kind::Forbid) forbids.push_back(matches(*r));
        if (r->kind != eval::RuleInfo::Kind::Permit) continue;
        permits.push_back(matches(*r));
        byPrincipal[r->principal].push_back(permits.back());
    }
    std::vector<z3::expr> consents;
    for (const eval::Evaluator::Consent& c : ev_.consents()) {
        const ScopeItem& s = *c.scope;
        z3::expr covered = ctx_.bool_val(false);
        auto named = [&](const z3::expr& idx) {
            std::vector<z3::expr> eq;
            for (std::size_t i = 0; i < agents_.size(); ++i)
                if (sema::patternMatches(s.pattern, agents_[i])) eq.push_back(idx == ctx_.int_val(static_cast<int>(i)));
            return any(ctx_, eq);
        };
        switch (s.kind) {
            case ScopeItem::Kind::Tool:
                if (action_ == Action::Tool) covered = targetIn(s.pattern);
                break;
            case ScopeItem::Kind::Data:
                if (action_ == Action::Read || action_ == Action::Write) covered = targetIn(s.pattern);
                break;
            case ScopeItem::Kind::Agent:
                if (action_ == Action::Send) covered = named(agent_) || named(recipient_);
                break;
            case ScopeItem::Kind::Area:
                if (s.area.text == "gpu")
                    covered = ctx_.bool_val(action_ == Action::GpuLaunch || action_ == Action::GpuAlloc);
                else
                    covered = ctx_.bool_val(action_ == Action::NetConnect);
                break;
        }
        consents.push_back(z3::implies(covered, any(ctx_, byPrincipal[c.principal])));
    }
    return accepts() && !any(ctx_, forbids) && all(ctx_, consents) && any(ctx_, permits);
}

z3::expr Encoder::matches(const eval::RuleInfo& rule) {
    z3::expr m = scope(rule);
    if (rule.body->condition) {
        Tri t = cond(*rule.body->condition);
        m = m && (rule.kind == eval::RuleInfo::Kind::Permit ? t.t : !t.f);
    }
    if (rule.rule && rule.rule->limit) {
        auto it = counts_.find(rule.id);
        if (it == counts_.end()) {
            auto named = counterNames_.find(rule.id);
            const std::string name = named != counterNames_.end() ? named->second : "count:" + rule.id;
            it = counts_.emplace(rule.id, ctx_.int_const(name.c_str())).first;
            domain_.push_back(it->second >= 0 && it->second <= ctx_.int_val(std::numeric_limits<std::int64_t>::max()));
        }
        const z3::expr limit = ctx_.int_val(rule.rule->limit->count);
        m = m && (rule.kind == eval::RuleInfo::Kind::Permit ? it->second < limit : it->second >= limit);
    }
    return m;
}

// ---------------------------------------------------------------------------------------------------------------
// Witnesses

namespace {

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

}  // namespace

std::vector<z3::expr> Encoder::preferences() const {
    std::vector<z3::expr> out;
    for (const auto& [name, var] : vars_) {
        for (const z3::expr& bit : var.mem) out.push_back(!bit);
        // An argument is present exactly when the target declares it: nothing to prefer.
        if (var.mem.empty() && name.compare(0, 5, "args.") != 0) out.push_back(!var.present);
    }
    for (const auto& [_, count] : counts_) out.push_back(count == 0);
    return out;
}

std::string Encoder::agentOf(const z3::model& m) const {
    return agents_.at(static_cast<std::size_t>(m.eval(agent_, true).get_numeral_int64()));
}

std::string Encoder::targetOf(const z3::model& m) const {
    if (!targeted(action_)) return "";
    return targets_.at(static_cast<std::size_t>(m.eval(target_, true).get_numeral_int64()));
}

std::string Encoder::recipientOf(const z3::model& m) const {
    if (action_ != Action::Send) return "";
    return agents_.at(static_cast<std::size_t>(m.eval(recipient_, true).get_numeral_int64()));
}

z3::expr Encoder::is(const std::string& agent, const std::string& target, const std::string& recipient) const {
    auto at = [&](const std::vector<std::string>& names, const std::string& n) {
        return ctx_.int_val(static_cast<int>(std::find(names.begin(), names.end(), n) - names.begin()));
    };
    z3::expr e = agent_ == at(agents_, agent);
    if (targeted(action_)) e = e && target_ == at(targets_, target);
    if (action_ == Action::Send) e = e && recipient_ == at(agents_, recipient);
    return e;
}

std::string Encoder::witness(const z3::model& m, const Encoder* other) {
    auto num = [&](const z3::expr& e) { return m.eval(e, true).get_numeral_int64(); };
    auto truth = [&](const z3::expr& e) { return m.eval(e, true).is_true(); };
    auto text = [&](const z3::expr& e) {
        const z3::expr v = m.eval(e, true);
        unsigned length = 0;
        const char* bytes = Z3_get_lstring(ctx_, v, &length);
        return std::string(bytes, length);
    };
    // The variables of both programs: the same field with the same type is the same Z3 constant in both.
    std::map<std::string, const Var*> vars;
    std::map<std::string, z3::expr> counts = counts_;
    for (const auto& [name, var] : vars_) vars.emplace(name, &var);
    if (other) {
        for (const auto& [name, var] : other->vars_) vars.emplace(name, &var);
        counts.insert(other->counts_.begin(), other->counts_.end());
    }
    auto render = [&](const Var& var) -> std::string {
        switch (var.type) {
            case TypeKind::String:
            case TypeKind::Hash: return quote(text(var.v));
            case TypeKind::Bool: return truth(var.v) ? "true" : "false";
            case TypeKind::Label: return quote(labels_.at(static_cast<std::size_t>(num(var.v))));
            case TypeKind::StringSet:
            case TypeKind::EmptySet:
            case TypeKind::LabelSet: {
                std::string out = "[";
                for (std::size_t u = 0; u < var.mem.size(); ++u) {
                    if (!truth(var.mem[u])) continue;
                    if (out.size() > 1) out += ",";
                    out += quote(var.type == TypeKind::LabelSet ? labels_[u] : universe_[u]);
                }
                return out + "]";
            }
            default: return std::to_string(num(var.v));
        }
    };
    std::string out = "{\"action\":" + quote(actionName(action_));
    out += ",\"agent\":" + quote(agentOf(m));
    if (action_ == Action::Send) out += ",\"recipient\":" + quote(recipientOf(m));
    if (targeted(action_)) {
        const std::string target = targetOf(m);
        out += ",\"target\":" + quote(target);
        if (action_ == Action::Tool) {
            out += ",\"args\":{";
            bool first = true;
            // The renderer is a program that accepts the request, so it declares the target.
            for (const sema::ParamInfo& p : model_.tools.at(target).params) {
                auto it = vars.find("args." + p.name + ":" + typeName(p.type));
                std::string v;
                if (it != vars.end()) {
                    v = render(*it->second);
                } else {
                    switch (p.type) {  // no rule reads it: any value of the type will do
                        case TypeKind::String: v = "\"\""; break;
                        case TypeKind::Bool: v = "false"; break;
                        case TypeKind::Label: {
                            auto common = std::find(commonLabels_.begin(), commonLabels_.end(), true);
                            v = quote(labels_.at(static_cast<std::size_t>(common - commonLabels_.begin())));
                            break;
                        }
                        case TypeKind::StringSet:
                        case TypeKind::LabelSet: v = "[]"; break;
                        default: v = "0"; break;
                    }
                }
                out += std::string(first ? "" : ",") + quote(p.name) + ":" + v;
                first = false;
            }
            out += "}";
        }
    }
    // Supplied fields, grouped by root.
    std::map<std::string, std::string> roots;
    for (const auto& [name, var] : vars) {
        const std::string key = name.substr(0, name.find(':'));
        if (key.compare(0, 5, "args.") == 0) continue;
        if (!truth(var->present)) continue;
        // A supplied set that is not given is empty (docs/requests.md): an empty one need not be written.
        if (!var->mem.empty() && std::none_of(var->mem.begin(), var->mem.end(), truth)) continue;
        const std::size_t dot = key.find('.');
        std::string& members = roots[key.substr(0, dot)];
        members += std::string(members.empty() ? "" : ",") + quote(key.substr(dot + 1)) + ":" + render(*var);
    }
    for (const auto& [root, members] : roots) out += "," + quote(root) + ":{" + members + "}";
    // Counters start at zero: only the others are written.
    std::string given;
    for (const auto& [id, c] : counts)
        if (const std::int64_t n = num(c); n != 0)
            given += std::string(given.empty() ? "" : ",") + quote(id) + ":" + std::to_string(n);
    if (!given.empty()) out += ",\"state\":{\"counts\":{" + given + "}}";
    return out + "}";
}

}  // namespace omega::analysis
