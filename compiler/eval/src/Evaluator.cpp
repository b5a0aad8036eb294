// The reference evaluator (see Evaluator.h): rule matching, three-valued conditions, and the combination of
// forbids, consent, permits and obligation rules into one decision.
#include "omega/eval/Evaluator.h"

#include "omega/policy/Glob.h"
#include "omega/sema/Schema.h"

#include <algorithm>

namespace omega::eval {

using namespace omega::ast;

namespace {

enum class Tri { False, True, Unknown };

Tri tri(bool b) {
    return b ? Tri::True : Tri::False;
}

using policy::globMatch;

std::string lineId(const Module& m, const Span& s) {
    return m.header.name.text + ":" + std::to_string(s.begin.line);
}

// What one decision evaluates against: the request, the state, and the declarations.
struct Context {
    const Evaluator& ev;
    const sema::Model& model;
    const Request& req;
    std::vector<std::string>* absent;  // collects the fields found absent while evaluating a forbid
};

std::optional<Value> agentField(const Context& c, const std::string& agent, const std::string& field) {
    auto it = c.model.agents.find(agent);
    if (it == c.model.agents.end()) return std::nullopt;  // an undeclared agent has no facts
    const sema::AgentInfo& a = it->second;
    if (field.empty()) return Value{Value::Kind::Agent, 0, agent, {}};
    if (field == "name") return Value::string(agent);
    if (field == "owner") return a.owner ? std::optional<Value>(Value::string(*a.owner)) : std::nullopt;
    if (field == "measurement")
        return a.measurement ? std::optional<Value>(Value{Value::Kind::Hash, 0, *a.measurement, {}}) : std::nullopt;
    auto attr = a.attributes.find(field);
    if (attr == a.attributes.end()) return std::nullopt;
    return c.ev.literal(*attr->second.expr);
}

std::optional<Value> supplied(const Context& c, const std::string& key, TypeKind type) {
    auto it = c.req.fields.find(key);
    if (it != c.req.fields.end()) return it->second;
    if (type == TypeKind::StringSet) return Value{Value::Kind::StringSet, 0, {}, {}};
    if (type == TypeKind::LabelSet) return Value{Value::Kind::LabelSet, 0, {}, {}};
    return std::nullopt;
}

std::optional<Value> pathValue(const Context& c, const std::vector<Ident>& path) {
    const std::string& root = path[0].text;
    std::string field = path.size() > 1 ? path[1].text : "";
    if (path.size() == 1 && !sema::isRoot(root)) {
        if (c.model.lattice.find(root)) return Value::label(root);
        if (auto s = c.model.sets.find(root); s != c.model.sets.end()) {
            Value v{s->second.type == TypeKind::LabelSet ? Value::Kind::LabelSet : Value::Kind::StringSet, 0, {}, {}};
            v.items.insert(s->second.values.begin(), s->second.values.end());
            return v;
        }
        if (c.model.agents.count(root)) return Value{Value::Kind::Agent, 0, root, {}};
        return std::nullopt;  // groups and kernel sets are only used with `in`, handled there
    }
    if (root == "agent") return agentField(c, c.req.agent, field);
    if (root == "recipient") return agentField(c, c.req.recipient, field);
    if (root == "args") {
        auto it = c.req.args.find(field);
        return it == c.req.args.end() ? std::nullopt : std::optional<Value>(it->second);
    }
    const sema::FieldDef* def = sema::findField(root, field);
    if (!def) return std::nullopt;
    if (def->supplied) return supplied(c, root + "." + field, def->type);
    if (root == "tool") {
        auto t = c.model.tools.find(c.req.target);
        if (t == c.model.tools.end()) return std::nullopt;
        const sema::ToolInfo& tool = t->second;
        if (field == "name") return Value::string(tool.name);
        if (field == "provider") return Value::string(tool.name.substr(0, tool.name.find('.')));
        if (field == "label") {
            if (!tool.resultLabel) return std::nullopt;
            return Value::label(c.model.lattice.names[*tool.resultLabel]);
        }
        if (field == "sink") return Value::boolean(tool.sink);
        if (field == "privileged") return Value::boolean(tool.privileged);
        if (field == "pinned") return Value::boolean(!tool.pin.empty());
    }
    if (root == "data") {
        auto d = c.model.data.find(c.req.target);
        if (d == c.model.data.end()) return std::nullopt;
        const sema::DataInfo& data = d->second;
        if (field == "name") return Value::string(data.name);
        if (field == "label") {
            if (!data.label) return std::nullopt;
            return Value::label(c.model.lattice.names[*data.label]);
        }
        if (field == "region") return data.region ? std::optional<Value>(Value::string(*data.region)) : std::nullopt;
        if (field == "owner") return data.owner ? std::optional<Value>(Value::string(*data.owner)) : std::nullopt;
        if (field == "purpose" || field == "fields") {
            Value v{Value::Kind::StringSet, 0, {}, field == "purpose" ? data.purposes : data.fields};
            return v;
        }
    }
    return std::nullopt;
}

bool labelLe(const Context& c, const std::string& a, const std::string& b) {
    auto x = c.model.lattice.find(a), y = c.model.lattice.find(b);
    if (!x || !y) return false;  // a label the program does not declare is below and above nothing
    return c.model.lattice.le(*x, *y);
}

std::string pathText(const std::vector<Ident>& p) {
    std::string out;
    for (const Ident& i : p) out += (out.empty() ? "" : ".") + i.text;
    return out;
}

std::optional<Value> value(const Context& c, const Expr& e);
Tri truth(const Context& c, const Expr& e);

void noteAbsent(const Context& c, const Expr& e) {
    if (c.absent && e.kind == Expr::Kind::Path) {
        std::string p = pathText(e.path);
        if (std::find(c.absent->begin(), c.absent->end(), p) == c.absent->end()) c.absent->push_back(p);
    }
}

std::optional<Value> value(const Context& c, const Expr& e) {
    switch (e.kind) {
        case Expr::Kind::Path: {
            auto v = pathValue(c, e.path);
            if (!v) noteAbsent(c, e);
            return v;
        }
        case Expr::Kind::Set: {
            Value v{e.type == TypeKind::LabelSet ? Value::Kind::LabelSet : Value::Kind::StringSet, 0, {}, {}};
            for (const auto& k : e.kids) {
                auto item = value(c, *k);
                if (!item) return std::nullopt;
                v.items.insert(item->text);
            }
            return v;
        }
        case Expr::Kind::Not:
        case Expr::Kind::Binary:
        case Expr::Kind::Has: {
            Tri t = truth(c, e);
            if (t == Tri::Unknown) return std::nullopt;
            return Value::boolean(t == Tri::True);
        }
        default: return c.ev.literal(e);
    }
}

bool orderHolds(BinOp op, std::int64_t a, std::int64_t b) {
    switch (op) {
        case BinOp::Lt: return a < b;
        case BinOp::Le: return a <= b;
        case BinOp::Gt: return a > b;
        case BinOp::Ge: return a >= b;
        default: return false;
    }
}

bool subsetOrder(BinOp op, const std::set<std::string>& a, const std::set<std::string>& b) {
    bool sub = std::includes(b.begin(), b.end(), a.begin(), a.end());
    bool super = std::includes(a.begin(), a.end(), b.begin(), b.end());
    switch (op) {
        case BinOp::Le: return sub;
        case BinOp::Lt: return sub && a != b;
        case BinOp::Ge: return super;
        case BinOp::Gt: return super && a != b;
        default: return false;
    }
}

bool labelOrder(const Context& c, BinOp op, const std::string& a, const std::string& b) {
    switch (op) {
        case BinOp::Le: return labelLe(c, a, b);
        case BinOp::Lt: return labelLe(c, a, b) && a != b;
        case BinOp::Ge: return labelLe(c, b, a);
        case BinOp::Gt: return labelLe(c, b, a) && a != b;
        default: return false;
    }
}

// `x in K` for a kernel set K (language.md 4.6).
Tri inKernels(const Context& c, const Expr& lhs, const sema::KernelSetInfo& k) {
    auto moduleIn = [&](const std::optional<Value>& m) {
        if (!m) return Tri::Unknown;
        return tri(k.modules.count(m->text) > 0);
    };
    auto nameIn = [&](const std::optional<Value>& n) {
        if (!n) return Tri::Unknown;
        return tri(
            std::any_of(k.names.begin(), k.names.end(), [&](const std::string& g) { return globMatch(g, n->text); }));
    };
    if (lhs.type == TypeKind::Kernel) {
        auto m = supplied(c, "kernel.module", TypeKind::Hash);
        auto n = supplied(c, "kernel.name", TypeKind::String);
        if (!m || !n) noteAbsent(c, lhs);
        Tri a = moduleIn(m), b = nameIn(n);
        if (a == Tri::False || b == Tri::False) return Tri::False;
        return a == Tri::True && b == Tri::True ? Tri::True : Tri::Unknown;
    }
    auto v = value(c, lhs);
    return lhs.type == TypeKind::Hash ? moduleIn(v) : nameIn(v);
}

Tri compare(const Context& c, const Expr& e) {
    const Expr& lhs = *e.kids[0];
    const Expr& rhs = *e.kids[1];
    if (e.op == BinOp::In && rhs.kind == Expr::Kind::Path && rhs.path.size() == 1) {
        const std::string& name = rhs.path[0].text;
        if (auto k = c.model.kernels.find(name); k != c.model.kernels.end()) return inKernels(c, lhs, k->second);
        if (auto g = c.model.groups.find(name); g != c.model.groups.end()) {
            auto a = value(c, lhs);
            if (!a) return Tri::Unknown;
            const auto& members = g->second.members;
            return tri(std::find(members.begin(), members.end(), a->text) != members.end());
        }
    }
    auto a = value(c, lhs);
    auto b = value(c, rhs);
    if (!a || !b) return Tri::Unknown;
    switch (e.op) {
        case BinOp::Eq:
        case BinOp::Ne: {
            bool eq = a->number == b->number && a->text == b->text && a->items == b->items;
            return tri(e.op == BinOp::Eq ? eq : !eq);
        }
        case BinOp::Lt:
        case BinOp::Le:
        case BinOp::Gt:
        case BinOp::Ge: {
            if (a->kind == Value::Kind::Int) return tri(orderHolds(e.op, a->number, b->number));
            if (a->kind == Value::Kind::Label) return tri(labelOrder(c, e.op, a->text, b->text));
            // A set on the left of a label is a set of labels, even an empty `{}` read without its declared type.
            bool setOfLabels = a->kind == Value::Kind::LabelSet || a->kind == Value::Kind::StringSet;
            if (setOfLabels && b->kind == Value::Kind::Label) {
                bool existential = e.op == BinOp::Ge || e.op == BinOp::Gt;
                auto holds = [&](const std::string& l) { return labelOrder(c, e.op, l, b->text); };
                return tri(existential ? std::any_of(a->items.begin(), a->items.end(), holds)
                                       : std::all_of(a->items.begin(), a->items.end(), holds));
            }
            return tri(subsetOrder(e.op, a->items, b->items));
        }
        case BinOp::In: return tri(b->items.count(a->text) > 0);
        case BinOp::Like: return tri(globMatch(b->text, a->text));
        case BinOp::StartsWith: return tri(a->text.compare(0, b->text.size(), b->text) == 0);
        default: return Tri::Unknown;
    }
}

Tri truth(const Context& c, const Expr& e) {
    switch (e.kind) {
        case Expr::Kind::Not: {
            Tri t = truth(c, *e.kids[0]);
            return t == Tri::Unknown ? t : tri(t == Tri::False);
        }
        case Expr::Kind::Has: return tri(pathValue(c, e.path).has_value());
        case Expr::Kind::Binary: {
            if (e.op == BinOp::And || e.op == BinOp::Or) {
                // Kleene: `and` is false if any kid is false, `or` true if any kid is true, else unknown if any is.
                Tri decisive = e.op == BinOp::And ? Tri::False : Tri::True;
                bool unknown = false;
                for (const auto& k : e.kids) {
                    Tri t = truth(c, *k);
                    if (t == decisive) return decisive;
                    unknown = unknown || t == Tri::Unknown;
                }
                return unknown ? Tri::Unknown : (e.op == BinOp::And ? Tri::True : Tri::False);
            }
            return compare(c, e);
        }
        default: {
            auto v = value(c, e);
            if (!v) return Tri::Unknown;
            return tri(v->number != 0);
        }
    }
}

bool agentMatches(const sema::Model& model, const std::optional<AgentPattern>& p, const std::string& agent) {
    if (!p || p->kind == AgentPattern::Kind::Any) return true;
    if (p->kind == AgentPattern::Kind::Group) {
        auto g = model.groups.find(p->names[0].text);
        if (g == model.groups.end()) return false;
        return std::find(g->second.members.begin(), g->second.members.end(), agent) != g->second.members.end();
    }
    return std::any_of(p->names.begin(), p->names.end(), [&](const Ident& n) { return n.text == agent; });
}

// Action, target, subject and recipient: everything but the condition and the rate limit.
bool bodyMatches(const sema::Model& model, const Body& b, const Request& r) {
    if (b.action != r.action) return false;
    if (b.target && !sema::patternMatches(*b.target, r.target)) return false;
    if (!agentMatches(model, b.subject, r.agent)) return false;
    if (r.action == Action::Send && !agentMatches(model, b.recipient, r.recipient)) return false;
    return true;
}

void addObligations(Obligations& out, const std::vector<Obligation>& obs) {
    for (const Obligation& o : obs) {
        if (o.name.text == "audit") out.audit = true;
        for (const auto& a : o.args) (o.name.text == "redact" ? out.redact : out.approve).insert(a->text);
    }
}

bool consentCovers(const ScopeItem& s, const Request& r) {
    switch (s.kind) {
        case ScopeItem::Kind::Tool: return r.action == Action::Tool && sema::patternMatches(s.pattern, r.target);
        case ScopeItem::Kind::Data:
            return (r.action == Action::Read || r.action == Action::Write) && sema::patternMatches(s.pattern, r.target);
        case ScopeItem::Kind::Agent:
            return r.action == Action::Send &&
                   (sema::patternMatches(s.pattern, r.agent) || sema::patternMatches(s.pattern, r.recipient));
        case ScopeItem::Kind::Area:
            if (s.area.text == "gpu") return r.action == Action::GpuLaunch || r.action == Action::GpuAlloc;
            return r.action == Action::NetConnect;
    }
    return false;
}

}  // namespace

Evaluator::Evaluator(const std::vector<Module>& modules, const sema::Model& model) : modules_(modules), model_(model) {
    for (const Module& m : modules) {
        for (const Item& item : m.items) {
            RuleInfo info;
            info.module = m.header.name.text;
            info.principal = m.header.principal;
            if (const auto* r = std::get_if<Rule>(&item)) {
                info.kind = r->effect == Effect::Permit ? RuleInfo::Kind::Permit : RuleInfo::Kind::Forbid;
                info.span = r->span;
                info.body = &r->body;
                info.rule = r;
                info.obligations = &r->obligations;
            } else if (const auto* o = std::get_if<ObligationRule>(&item)) {
                info.kind = RuleInfo::Kind::Obligation;
                info.span = o->span;
                info.body = &o->body;
                info.obligations = &o->obligations;
            } else {
                if (const auto* c = std::get_if<ConsentDecl>(&item))
                    consents_.push_back({m.header.principal, &c->target});
                continue;
            }
            info.id = lineId(m, info.span);
            rules_.push_back(std::move(info));
        }
    }
}

std::optional<Value> Evaluator::literal(const Expr& e) const {
    switch (e.kind) {
        case Expr::Kind::String: return Value::string(e.text);
        case Expr::Kind::Int: return Value::integer(e.number);
        case Expr::Kind::Bool: return Value::boolean(e.number != 0);
        case Expr::Kind::Hash: return Value{Value::Kind::Hash, 0, e.algorithm.text + ":" + e.text, {}};
        case Expr::Kind::Quantity: {
            auto f = sema::sizeUnit(e.text);
            if (!f) f = sema::durationUnit(e.text);
            return Value::integer(e.number * f.value_or(1));
        }
        case Expr::Kind::Path:
            if (e.path.size() == 1 && model_.lattice.find(e.path[0].text)) return Value::label(e.path[0].text);
            if (e.path.size() == 1 && model_.agents.count(e.path[0].text))
                return Value{Value::Kind::Agent, 0, e.path[0].text, {}};
            return std::nullopt;
        case Expr::Kind::Set: {
            bool labels = e.type == TypeKind::LabelSet || (!e.kids.empty() && e.kids[0]->kind == Expr::Kind::Path);
            Value v{labels ? Value::Kind::LabelSet : Value::Kind::StringSet, 0, {}, {}};
            for (const auto& k : e.kids) {
                auto item = literal(*k);
                if (!item) return std::nullopt;
                v.items.insert(item->text);
            }
            return v;
        }
        default: return std::nullopt;
    }
}

bool Evaluator::matches(const RuleInfo& r, const Request& request, const State& state) const {
    if (!bodyMatches(model_, *r.body, request)) return false;
    Context c{*this, model_, request, nullptr};
    Tri t = r.body->condition ? truth(c, *r.body->condition) : Tri::True;
    bool m = r.kind == RuleInfo::Kind::Permit ? t == Tri::True : t != Tri::False;
    if (m && r.rule && r.rule->limit) {
        auto it = state.counts.find(r.id);
        std::int64_t count = it == state.counts.end() ? 0 : it->second;
        m = r.kind == RuleInfo::Kind::Permit ? count < r.rule->limit->count : count >= r.rule->limit->count;
    }
    return m;
}

bool Evaluator::bodyCovers(const ast::Body& body, const Request& request) const {
    if (!bodyMatches(model_, body, request)) return false;
    if (!body.condition) return true;
    Context c{*this, model_, request, nullptr};
    return truth(c, *body.condition) != Tri::False;
}

Decision Evaluator::decide(const Request& request, const State& state) const {
    Decision d;
    std::vector<std::string> absentForbid;
    std::vector<const RuleInfo*> forbids, permits, obligers;
    for (const RuleInfo& r : rules_) {
        if (!bodyMatches(model_, *r.body, request)) continue;
        std::vector<std::string> absent;
        Context c{*this, model_, request, &absent};
        Tri t = r.body->condition ? truth(c, *r.body->condition) : Tri::True;
        // A permit needs a true condition; a forbid and an obligation rule also match on unknown (8.6).
        bool matches = r.kind == RuleInfo::Kind::Permit ? t == Tri::True : t != Tri::False;
        if (matches && r.rule && r.rule->limit) {
            auto it = state.counts.find(r.id);
            std::int64_t count = it == state.counts.end() ? 0 : it->second;
            matches = r.kind == RuleInfo::Kind::Permit ? count < r.rule->limit->count : count >= r.rule->limit->count;
        }
        if (!matches) continue;
        if (r.kind == RuleInfo::Kind::Forbid) {
            forbids.push_back(&r);
            if (t == Tri::Unknown)
                for (const std::string& a : absent)
                    if (std::find(absentForbid.begin(), absentForbid.end(), a) == absentForbid.end())
                        absentForbid.push_back(a);
        } else if (r.kind == RuleInfo::Kind::Permit) {
            permits.push_back(&r);
        } else {
            obligers.push_back(&r);
        }
    }
    if (!forbids.empty()) {
        d.rules = forbids;
        d.absent = absentForbid;
        d.reason = "forbidden by " + forbids.front()->id + " (" + forbids.front()->principal + ")";
        if (!absentForbid.empty()) d.reason += ", matched on an absent value: " + absentForbid.front();
        return d;
    }
    for (const auto& consent : consents_) {
        if (!consentCovers(*consent.scope, request)) continue;
        bool given = std::any_of(permits.begin(), permits.end(),
                                 [&](const RuleInfo* p) { return p->principal == consent.principal; });
        if (!given &&
            std::find(d.consentMissing.begin(), d.consentMissing.end(), consent.principal) == d.consentMissing.end())
            d.consentMissing.push_back(consent.principal);
    }
    if (!d.consentMissing.empty()) {
        d.reason = "consent missing from principal " + d.consentMissing.front();
        return d;
    }
    if (permits.empty()) {
        d.reason = "no rule permits it (default deny)";
        return d;
    }
    d.allow = true;
    d.rules = permits;
    for (const RuleInfo* p : permits) addObligations(d.obligations, *p->obligations);
    for (const RuleInfo* o : obligers) addObligations(d.obligations, *o->obligations);
    d.reason = "permitted by " + permits.front()->id + " (" + permits.front()->principal + ")";
    return d;
}

}  // namespace omega::eval
