// The findings (Analysis.h, docs/analysis.md 2): dead rules, conflicts between a permit and a forbid (a rate limit's
// apart), shadowed and redundant permits, approvals that disagree, and assertions.
//
// Scale (docs/performance.md): rules meet only where their targets and agents do, and those are finite declared
// sets, so a syntactic index decides exactly which pairs reach Z3, without a scan of all pairs; most satisfiable
// queries are then answered by moving the model of an earlier one (Session::reuse) instead of by the solver. The work
// is cut into fixed chunks, each solved in a fresh Z3 context by one of `Options::jobs` threads: an answer depends
// only on its chunk, never on what a thread solved before, so the findings, witnesses included, are the same
// whatever the number of threads.
#include "omega/analysis/Analysis.h"

#include "Encoder.h"
#include "Query.h"
#include "omega/eval/Json.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <thread>
#include <tuple>

namespace omega::analysis {

using ast::Action;
using eval::RuleInfo;

const char* severityName(Severity s) {
    switch (s) {
        case Severity::Note: return "note";
        case Severity::Warning: return "warning";
        case Severity::Error: return "error";
    }
    return "warning";
}

namespace {

const char* kindName(RuleInfo::Kind k) {
    switch (k) {
        case RuleInfo::Kind::Permit: return "permit";
        case RuleInfo::Kind::Forbid: return "forbid";
        case RuleInfo::Kind::Obligation: return "obligation rule";
    }
    return "rule";
}

// A rule's obligations as sorted strings ("audit", "redact:ssn", "approve:lead").
std::vector<std::string> obligationsOf(const RuleInfo& r) {
    std::vector<std::string> out;
    for (const ast::Obligation& o : *r.obligations) {
        if (o.name.text == "audit") out.push_back("audit");
        for (const auto& a : o.args) out.push_back(o.name.text + ":" + a->text);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

// The roles a rule's `approve` obligations name, sorted.
std::vector<std::string> approversOf(const RuleInfo& r) {
    std::vector<std::string> out;
    for (const ast::Obligation& o : *r.obligations)
        if (o.name.text == "approve")
            for (const auto& a : o.args) out.push_back(a->text);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::string describe(const RuleInfo& r) {
    return std::string(kindName(r.kind)) + " " + r.id + " (" + r.principal + ")";
}

std::string limitText(const ast::RateLimit& l) {
    const std::string window = l.durationWindow ? std::to_string(l.windowCount) + l.windowUnit.text : l.windowUnit.text;
    return std::to_string(l.count) + " per " + window;
}

bool rateLimited(const RuleInfo& r) {
    return r.rule && r.rule->limit;
}

// Every witness is checked with the reference evaluator before it is reported: a model the solver got wrong (the
// string and regular-expression theories of older Z3 releases have known bugs) turns into an `unknown` rather than
// a false finding.
std::optional<eval::Decision> replay(const eval::Evaluator& ev, const std::string& witness, eval::Request& request,
                                     eval::State& state) {
    std::string error;
    auto decoded = eval::requestFromJson(witness, ev.model(), state, error);
    if (!decoded) return std::nullopt;
    request = std::move(*decoded);
    return ev.decide(request, state);
}

// ---------------------------------------------------------------------------------------------------------------
// Scopes: where a rule can apply, decided without the solver

// Sorted indices of the declared targets or agents a pattern covers; `all` when it covers every one.
struct Indices {
    bool all = false;
    std::vector<std::uint32_t> items;
};

bool meets(const Indices& a, const Indices& b, std::size_t declared) {
    if (declared == 0) return false;
    if (a.all || b.all) return (a.all || !a.items.empty()) && (b.all || !b.items.empty());
    auto x = a.items.begin(), y = b.items.begin();
    while (x != a.items.end() && y != b.items.end()) {
        if (*x == *y) return true;
        if (*x < *y)
            ++x;
        else
            ++y;
    }
    return false;
}

Indices common(const Indices& a, const Indices& b) {
    if (a.all) return b;
    if (b.all) return a;
    Indices out;
    std::set_intersection(a.items.begin(), a.items.end(), b.items.begin(), b.items.end(),
                          std::back_inserter(out.items));
    return out;
}

// The requests a rule or an assertion's body can apply to: a product of targets, agents and recipients. Requests
// may only name declared targets and agents, so two scopes meet exactly when all three parts meet: the same answer
// as a solver query on Encoder::scope, without the query.
struct Scope {
    Indices targets, agents, recipients;
};

// The declared targets and agents of one action. An action without targets (or recipients) has one pseudo-target
// that every scope covers, so that the same test works for every action.
class Names {
public:
    Names(const sema::Model& model, Action action)
        : model_(model),
          targeted_(action == Action::Tool || action == Action::Read || action == Action::Write),
          send_(action == Action::Send) {
        if (action == Action::Tool)
            for (const auto& [name, _] : model.tools) targets_.push_back(name);
        if (action == Action::Read || action == Action::Write)
            for (const auto& [name, _] : model.data) targets_.push_back(name);
        for (const auto& [name, _] : model.agents) {
            agents_.emplace(name, static_cast<std::uint32_t>(agentNames_.size()));
            agentNames_.push_back(name);
        }
    }

    Scope of(const ast::Body& body) const {
        Scope s;
        s.targets = targeted_ ? targetsOf(body.target) : Indices{true, {}};
        s.agents = agentsOf(body.subject);
        s.recipients = send_ ? agentsOf(body.recipient) : Indices{true, {}};
        return s;
    }
    bool meet(const Scope& a, const Scope& b) const {
        return meets(a.targets, b.targets, targetCount()) && meets(a.agents, b.agents, agentCount()) &&
               meets(a.recipients, b.recipients, send_ ? agentCount() : 1);
    }
    static Scope common(const Scope& a, const Scope& b) {
        return {analysis::common(a.targets, b.targets), analysis::common(a.agents, b.agents),
                analysis::common(a.recipients, b.recipients)};
    }
    std::size_t targetCount() const { return targeted_ ? targets_.size() : 1; }
    std::size_t agentCount() const { return agents_.size(); }
    const std::string& target(std::uint32_t i) const { return targets_.at(i); }
    const std::string& agent(std::uint32_t i) const { return agentNames_.at(i); }

private:
    Indices targetsOf(const std::optional<ast::NamePattern>& p) const {
        if (!p || p->any()) return {true, {}};
        Indices out;
        for (std::size_t i = 0; i < targets_.size(); ++i)
            if (sema::patternMatches(*p, targets_[i])) out.items.push_back(static_cast<std::uint32_t>(i));
        return out;
    }
    Indices agentsOf(const std::optional<ast::AgentPattern>& p) const {
        if (!p || p->kind == ast::AgentPattern::Kind::Any) return {true, {}};
        std::vector<std::string> names;
        if (p->kind == ast::AgentPattern::Kind::Group) {
            if (auto g = model_.groups.find(p->names[0].text); g != model_.groups.end()) names = g->second.members;
        } else {
            for (const ast::Ident& n : p->names) names.push_back(n.text);
        }
        Indices out;
        for (const std::string& n : names)
            if (auto it = agents_.find(n); it != agents_.end()) out.items.push_back(it->second);
        std::sort(out.items.begin(), out.items.end());
        out.items.erase(std::unique(out.items.begin(), out.items.end()), out.items.end());
        return out;
    }

    const sema::Model& model_;
    bool targeted_, send_;
    std::vector<std::string> targets_, agentNames_;
    std::map<std::string, std::uint32_t> agents_;  // name -> index
};

// Some rules of an action bucketed by target and by agent: lists those whose scope meets a given one through the
// part that gives fewer candidates, so pairing costs about what can meet instead of every pair.
class ScopeIndex {
public:
    ScopeIndex(const Names& names, const std::vector<Scope>& scopes, std::vector<std::uint32_t> members)
        : names_(names), scopes_(scopes), members_(std::move(members)) {
        targets_.by.resize(names.targetCount());
        agents_.by.resize(names.agentCount());
        for (std::uint32_t m : members_) {
            targets_.add(m, scopes[m].targets);
            agents_.add(m, scopes[m].agents);
        }
    }

    // The members whose scope meets `s`, ascending.
    std::vector<std::uint32_t> meeting(const Scope& s) const {
        std::vector<std::uint32_t> out;
        if (targets_.cost(s.targets, members_) <= agents_.cost(s.agents, members_))
            targets_.gather(s.targets, members_, out);
        else
            agents_.gather(s.agents, members_, out);
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        out.erase(std::remove_if(out.begin(), out.end(), [&](std::uint32_t m) { return !names_.meet(scopes_[m], s); }),
                  out.end());
        return out;
    }

private:
    struct Buckets {
        std::vector<std::vector<std::uint32_t>> by;  // per index, the members that name it
        std::vector<std::uint32_t> any;              // the members that cover every index
        void add(std::uint32_t m, const Indices& x) {
            if (x.all) {
                any.push_back(m);
                return;
            }
            for (std::uint32_t i : x.items) by[i].push_back(m);
        }
        std::size_t cost(const Indices& x, const std::vector<std::uint32_t>& everyone) const {
            if (x.all) return everyone.size();
            std::size_t n = any.size();
            for (std::uint32_t i : x.items) n += by[i].size();
            return n;
        }
        void gather(const Indices& x, const std::vector<std::uint32_t>& everyone,
                    std::vector<std::uint32_t>& out) const {
            if (x.all) {
                out = everyone;
                return;
            }
            out = any;
            for (std::uint32_t i : x.items) out.insert(out.end(), by[i].begin(), by[i].end());
        }
    };
    const Names& names_;
    const std::vector<Scope>& scopes_;
    std::vector<std::uint32_t> members_;
    Buckets targets_, agents_;
};

// One action's rules in rule order, with their scopes (parallel).
struct ActionRules {
    Action action;
    Space space;  // what every chunk's encoder starts from (computing it reads every rule)
    Names names;
    std::vector<const RuleInfo*> rules;
    std::vector<Scope> scopes;
};

// ---------------------------------------------------------------------------------------------------------------
// Queries

// A query's outcome: an answer (Query.h), or none because the budget was spent before it could run.
enum class Outcome { Sat, Unsat, Unknown, Skipped };

// A chunk's Z3 context, encoder and solver. The encoder makes variables as rules mention them, so a chunk encodes
// everything it will ask first and adds the domain once (seal); each query is then a push, its formula, a check and
// a pop. A context is not thread-safe: a session belongs to one thread.
//
// Most satisfiable queries are answered without the solver (reuse): rules that differ only in whom or what they
// are about are the common case, and a model of one, moved to the other's target, agent and recipient, is a model
// of the other. On the generated benchmark policies four queries in five are answered so; most of the rest are
// proofs (unsatisfiable), which no model can show.
class Session {
public:
    Session(const eval::Evaluator& ev, Action action, Space space, const Budget& budget)
        : enc_(ctx_, ev, action, std::move(space)), solver_(ctx_), budget_(budget) {}

    z3::context& ctx() { return ctx_; }
    Encoder& encoder() { return enc_; }
    const z3::expr& matches(const RuleInfo* r) {
        auto it = match_.find(r);
        if (it == match_.end()) {
            it = match_.emplace(r, enc_.matches(*r)).first;
            ruleConstants_[it->second.id()];
        }
        return it->second;
    }
    // Adds the domain: after everything the chunk asks is encoded.
    void seal();
    // The time limit the last query ran under, for its message.
    unsigned lastLimitMs() const { return limitMs_; }
    // A query ran out of time (or the solver failed): what the session answers next may depend on timing.
    bool timedOut() const { return timedOut_; }

    // Satisfiable (with a witness when asked for one), unsatisfiable, unknown, or skipped for want of budget: from a
    // moved model of an earlier query (`scope`: where the formula's requests are) or else from the solver. Never
    // throws: a solver failure, or a model the witness cannot be read from, is unknown.
    Outcome ask(const z3::expr& formula, const Scope* scope, const Names& names, std::string* witness);

private:
    // Constants of a kept model set for one move and put back afterwards: models are changed in place, as copying
    // one costs more than the evaluation it serves.
    class Patch {
    public:
        explicit Patch(z3::model& m) : m_(m) {}
        Patch(const Patch&) = delete;
        Patch& operator=(const Patch&) = delete;
        ~Patch() {
            try {
                for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) m_.add_const_interp(it->first, it->second);
            } catch (const std::exception&) {
                // The model keeps a moved value. Still sound: a move only sets index constants, which every reuse
                // checks again, and a tidy only values under which the domain holds.
            }
        }
        void set(z3::func_decl d, z3::expr value) {
            // What evaluation saw before: the interpretation, or the completion's default (which an interpretation
            // equal to it does not change).
            saved_.emplace_back(d, m_.eval(d(), true));
            m_.add_const_interp(d, value);
        }

    private:
        z3::model& m_;
        std::vector<std::pair<z3::func_decl, z3::expr>> saved_;
    };

    // The request's index constants and their values for a target, agent and recipient of `scope` (the model's own
    // where the scope has them all), as the encoder writes them: the `index == value` conjuncts of Encoder::is.
    std::vector<std::pair<z3::func_decl, z3::expr>> move(const z3::model& m, const Scope& scope, const Names& names);
    static void equations(const z3::expr& is, std::vector<std::pair<z3::func_decl, z3::expr>>& out);
    bool reuse(const z3::expr& formula, const Scope& scope, const Names& names, std::string* witness);
    void tidy(Patch& patch, z3::model& m, const z3::expr& formula);
    static std::set<unsigned> constantsOf(const z3::expr& formula);  // by declaration id
    Outcome solve(const z3::expr& formula, std::string* witness);

    // Models kept for reuse: the latest two, as trying each costs an evaluation (a query no model shows, such as
    // most proofs, pays for every one).
    static constexpr std::size_t kModels = 2;

    z3::context ctx_;
    Encoder enc_;
    z3::solver solver_;
    const Budget& budget_;
    std::optional<z3::expr> domain_;
    std::vector<z3::expr> conjuncts_;                    // of the domain
    std::map<unsigned, std::vector<std::size_t>> uses_;  // constant (declaration id) -> the conjuncts that mention it
    std::optional<z3::expr> indexDomain_;                // the conjuncts that mention an index constant
    // The encoder's preferences for a readable witness (Encoder::preferences) as assignments, `not c` and `c == v`:
    // constant (declaration id) -> value.
    std::map<unsigned, z3::expr> preferred_;
    // The constants of each rule's formula (by AST id), filled when tidy() first meets it.
    std::map<unsigned, std::set<unsigned>> ruleConstants_;
    std::vector<z3::model> models_;  // each satisfies the whole domain (checked when kept)
    std::map<const RuleInfo*, z3::expr> match_;
    unsigned limitMs_ = 0;
    bool timedOut_ = false;
    bool broken_ = false;  // the solver's scopes are no longer known: every later query is unknown
};

void Session::seal() {
    domain_ = enc_.domain();
    solver_.add(*domain_);
    if (domain_->is_and())
        for (unsigned i = 0; i < domain_->num_args(); ++i) conjuncts_.push_back(domain_->arg(i));
    else
        conjuncts_.push_back(*domain_);
    for (std::size_t k = 0; k < conjuncts_.size(); ++k)
        for (unsigned c : constantsOf(conjuncts_[k])) uses_[c].push_back(k);
    std::vector<std::pair<z3::func_decl, z3::expr>> indices;
    equations(enc_.is("", "", ""), indices);
    std::set<std::size_t> touched;
    for (const auto& [d, _] : indices)
        if (auto it = uses_.find(d.id()); it != uses_.end()) touched.insert(it->second.begin(), it->second.end());
    z3::expr_vector parts(ctx_);
    for (std::size_t k : touched) parts.push_back(conjuncts_[k]);
    indexDomain_ = parts.empty() ? ctx_.bool_val(true) : z3::mk_and(parts);
    for (const z3::expr& p : enc_.preferences()) {
        if (p.is_not() && p.arg(0).is_const())
            preferred_.emplace(p.arg(0).decl().id(), ctx_.bool_val(false));
        else if (p.is_eq() && p.arg(0).is_const() && !p.arg(0).is_numeral() && p.arg(1).is_numeral())
            preferred_.emplace(p.arg(0).decl().id(), p.arg(1));
    }
}

std::vector<std::pair<z3::func_decl, z3::expr>> Session::move(const z3::model& m, const Scope& scope,
                                                              const Names& names) {
    auto first = [](const Indices& x, const std::string& own, auto name) {
        return x.all ? own : x.items.empty() ? std::string() : name(x.items.front());
    };
    auto agent = [&](std::uint32_t i) { return names.agent(i); };
    auto target = [&](std::uint32_t i) { return names.target(i); };
    const std::string a = first(scope.agents, enc_.agentOf(m), agent);
    const std::string t = first(scope.targets, enc_.targetOf(m), target);
    const std::string r = first(scope.recipients, enc_.recipientOf(m), agent);
    std::vector<std::pair<z3::func_decl, z3::expr>> out;
    equations(enc_.is(a, t, r), out);
    return out;
}

std::set<unsigned> Session::constantsOf(const z3::expr& formula) {
    std::set<unsigned> out, seen;
    std::vector<z3::expr> todo{formula};
    while (!todo.empty()) {
        const z3::expr e = todo.back();
        todo.pop_back();
        if (!e.is_app() || !seen.insert(e.id()).second) continue;
        if (e.is_const() && !e.is_numeral()) out.insert(e.decl().id());
        for (unsigned i = 0; i < e.num_args(); ++i) todo.push_back(e.arg(i));
    }
    return out;
}

void Session::equations(const z3::expr& is, std::vector<std::pair<z3::func_decl, z3::expr>>& out) {
    std::vector<z3::expr> todo{is};
    while (!todo.empty()) {
        const z3::expr e = todo.back();
        todo.pop_back();
        if (e.is_and()) {
            for (unsigned i = 0; i < e.num_args(); ++i) todo.push_back(e.arg(i));
        } else if (e.is_eq() && e.arg(0).is_const() && !e.arg(0).is_numeral() && e.arg(1).is_numeral()) {
            out.emplace_back(e.arg(0).decl(), e.arg(1));
        }
    }
}

// Whether a kept model, moved, satisfies the domain and `formula` (then the witness, if asked for, is read from it).
// Sound whatever the move gives: the moved values are a concrete request, checked by evaluation, and a witness read
// from one is replayed like any other; a move the encoder's indices do not allow just fails. The domain's other
// conjuncts held before the move and do not mention what it changes.
bool Session::reuse(const z3::expr& formula, const Scope& scope, const Names& names, std::string* witness) {
    const z3::expr query = *indexDomain_ && formula;
    for (auto m = models_.rbegin(); m != models_.rend(); ++m) {
        try {
            Patch patch(*m);
            for (const auto& [d, v] : move(*m, scope, names)) patch.set(d, v);
            if (!m->eval(query, true).is_true()) continue;
            if (witness) {
                tidy(patch, *m, formula);
                *witness = enc_.witness(*m);
            }
            return true;
        } catch (const std::exception&) {
            // Not from this model; the next, or the solver, will answer.
        }
    }
    return false;
}

// A moved model keeps whatever the earlier query needed (a counter at its limit, a set member), which would show in
// a witness of this one, and the solver's own models hold arbitrary values where nothing constrains them: the
// encoder's preferences (empty sets, absent fields, counters at zero) are applied to the constants the formula does
// not mention, as long as the domain's conjuncts that mention them still hold (the formula cannot change).
void Session::tidy(Patch& patch, z3::model& m, const z3::expr& formula) {
    // The constants the formula mentions; a rule's, once per session (formulas are mostly rules put together).
    std::set<unsigned> mentioned, seen;
    std::vector<z3::expr> todo{formula};
    while (!todo.empty()) {
        const z3::expr e = todo.back();
        todo.pop_back();
        if (!e.is_app() || !seen.insert(e.id()).second) continue;
        if (auto it = ruleConstants_.find(e.id()); it != ruleConstants_.end()) {
            if (it->second.empty()) it->second = constantsOf(e);
            mentioned.insert(it->second.begin(), it->second.end());
            continue;
        }
        if (e.is_const() && !e.is_numeral()) mentioned.insert(e.decl().id());
        for (unsigned i = 0; i < e.num_args(); ++i) todo.push_back(e.arg(i));
    }
    // Only constants the model interprets can differ from a preference (completion gives false and 0).
    for (unsigned i = 0; i < m.num_consts(); ++i) {
        const z3::func_decl d = m.get_const_decl(i);
        auto p = preferred_.find(d.id());
        if (p == preferred_.end() || mentioned.count(d.id()) || z3::eq(m.get_const_interp(d), p->second)) continue;
        const z3::expr v = p->second;
        bool holds = true;
        {
            Patch attempt(m);
            attempt.set(d, v);
            if (auto it = uses_.find(d.id()); it != uses_.end())
                for (std::size_t k : it->second) holds = holds && m.eval(conjuncts_[k], true).is_true();
        }
        if (holds) patch.set(d, v);  // until the move ends
    }
}

Outcome Session::ask(const z3::expr& formula, const Scope* scope, const Names& names, std::string* witness) {
    limitMs_ = budget_.next();
    if (limitMs_ == 0) return Outcome::Skipped;
    if (scope && reuse(formula, *scope, names, witness)) return Outcome::Sat;
    return solve(formula, witness);
}

Outcome Session::solve(const z3::expr& formula, std::string* witness) {
    limitMs_ = budget_.next();
    if (limitMs_ == 0) return Outcome::Skipped;
    if (broken_) return Outcome::Unknown;
    try {
        solver_.push();
    } catch (const std::exception&) {
        broken_ = timedOut_ = true;  // whether the scope was opened is not known: no later answer can be trusted
        return Outcome::Unknown;
    }
    Outcome o = Outcome::Unknown;
    try {
        solver_.add(formula);
        switch (check(solver_, budget_)) {
            case Answer::Sat: {
                z3::model m = solver_.get_model();
                if (witness) {
                    // Tidied like a moved model rather than by Query.h's readableModel: its extra solver rounds can
                    // each run to the time limit and then fall back, which makes the witness depend on timing.
                    Patch patch(m);
                    tidy(patch, m, formula);
                    *witness = enc_.witness(m);
                }
                // Kept once it is known to satisfy the whole domain under completion, so that a move need only
                // check what it changes.
                if (m.eval(*domain_, true).is_true()) {
                    models_.push_back(m);
                    if (models_.size() > kModels) models_.erase(models_.begin());
                }
                o = Outcome::Sat;
                break;
            }
            case Answer::Unsat: o = Outcome::Unsat; break;
            case Answer::Unknown: timedOut_ = true; break;
        }
    } catch (const std::exception&) {
        o = Outcome::Unknown;
        timedOut_ = true;
    }
    try {
        solver_.pop();
    } catch (const std::exception&) {
        broken_ = timedOut_ = true;
    }
    return o;
}

// ---------------------------------------------------------------------------------------------------------------
// Work items

// One unit of work and what came of it. What it will ask is known before it runs, so that its chunk can encode
// everything before adding the domain.
struct Item {
    // Rule: whether the rule can match, then for a permit its conflicts, shadowing and redundancy.
    enum class Kind { Assertion, Rule, Approvals } kind = Kind::Rule;
    const ActionRules* action = nullptr;
    const RuleInfo* rule = nullptr;   // Rule: the rule; Approvals: the first of the two
    const Scope* scope = nullptr;     // Rule: the rule's
    const RuleInfo* other = nullptr;  // Approvals: the second
    std::string roles[2];             // Approvals: a role only `rule` asks for, and one only `other` asks for
    const ast::Assertion* assertion = nullptr;
    std::string where;                             // Assertion: "module:line"
    std::vector<const RuleInfo*> forbids, covers;  // Rule (a permit): the forbids that meet it; covering candidates
    std::vector<Scope> meets;                      // Rule: where the permit meets each forbid (parallel to forbids)
    std::vector<const RuleInfo*> context;  // Assertion, Approvals: the rules that can match the requests in question

    Outcome live = Outcome::Unknown;  // Rule: whether it can match (Sat) or is dead (Unsat)
    std::vector<Finding> findings;
    std::map<std::string, std::size_t> skipped;  // checks not run for want of budget, by the code they would report

    // The rules its chunk encodes for it.
    std::vector<const RuleInfo*> encodes() const {
        std::vector<const RuleInfo*> out = forbids;
        out.insert(out.end(), covers.begin(), covers.end());
        out.insert(out.end(), context.begin(), context.end());
        if (rule) out.push_back(rule);
        if (other) out.push_back(other);
        return out;
    }
};

bool mustDeny(const ast::Assertion& a) {
    return a.never == a.permitVerdict;  // never permit, always deny
}

std::string assertionText(const ast::Assertion& a) {
    return std::string("assert ") + (a.never ? "never " : "always ") + (a.permitVerdict ? "permit" : "deny");
}

// `limitMs`: the time limit the query ran under; 0 when the solver failed before it could run.
Finding unknownNote(const std::string& code, std::vector<const RuleInfo*> rules, unsigned limitMs,
                    const std::string& what) {
    Finding f;
    f.code = code;
    f.severity = Severity::Note;
    f.unknown = true;
    f.rules = std::move(rules);
    f.message = limitMs == 0 ? "unknown: the solver failed on whether " + what
                             : "unknown: no answer within " + std::to_string(limitMs) +
                                   " ms (or a solver model that did not hold up when replayed) on whether " + what;
    return f;
}

void runLive(Item& it, Session& s) {
    const RuleInfo* r = it.rule;
    const z3::expr& m = s.matches(r);
    it.live = s.ask(m, it.scope, it.action->names, nullptr);
    switch (it.live) {
        case Outcome::Unsat: {
            Finding f;
            f.code = "A0103";
            f.message = std::string(kindName(r->kind)) + " " + r->id +
                        " is dead: no request can match it (its target, subject and condition cannot all hold)";
            f.rules = {r};
            it.findings.push_back(std::move(f));
            break;
        }
        case Outcome::Unknown:
            it.findings.push_back(unknownNote("A0103", {r}, s.lastLimitMs(), describe(*r) + " can match any request"));
            break;
        case Outcome::Skipped: ++it.skipped["A0103"]; break;
        case Outcome::Sat: break;
    }
}

// Conflicts of one permit, then whether it is shadowed, then whether it is redundant. Its candidates may include
// rules found dead in their own items: a dead forbid conflicts with nothing, and a dead cover is dropped from the
// finding afterwards (it matches nothing, so the proof stands without it).
void runPairs(Item& it, Session& s, const eval::Evaluator& ev) {
    const RuleInfo* p = it.rule;
    const z3::expr mp = s.matches(p);
    // The forbids that conflict with the permit, for shadowing. A rate-limited forbid is left out: it matches only
    // once its own counter reaches the limit, and counters are free inputs, one per rule, so the solver could always
    // keep it below: it never helps to prove a permit shadowed (a permit is not dead because a counter can run out).
    std::vector<const RuleInfo*> shadowing;
    bool unsettled = false;  // a conflict check with such a forbid was skipped: shadowing cannot be decided
    for (std::size_t k = 0; k < it.forbids.size(); ++k) {
        const RuleInfo* f = it.forbids[k];
        const bool capped = rateLimited(*f);
        const std::string code = capped ? "A0106" : "A0101";
        std::string witness;
        Outcome answer = s.ask(mp && s.matches(f), &it.meets[k], it.action->names, &witness);
        if (answer == Outcome::Sat) {
            eval::Request request;
            eval::State state;
            auto d = replay(ev, witness, request, state);
            const bool holds = d && !d->allow && std::find(d->rules.begin(), d->rules.end(), f) != d->rules.end() &&
                               ev.matches(*p, request, state);
            if (!holds) answer = Outcome::Unknown;
        }
        const std::string across = p->principal != f->principal ? " (a conflict between principals)" : "";
        switch (answer) {
            case Outcome::Sat: {
                Finding c;
                c.code = code;
                if (capped) {
                    // A ceiling on traffic, not a contradiction between the two rules: a note, so that
                    // `--fail-on warning` does not fail every permit under a baseline's rate limits.
                    c.severity = Severity::Note;
                    c.message = describe(*p) + " is capped by the rate limit of " + describe(*f) + " (" +
                                limitText(*f->rule->limit) + "): once its counter reaches the limit, the forbid wins" +
                                across;
                } else {
                    c.message =
                        describe(*p) + " and " + describe(*f) + " both match a request; the forbid wins" + across;
                    shadowing.push_back(f);
                }
                c.rules = {p, f};
                c.witness = std::move(witness);
                it.findings.push_back(std::move(c));
                break;
            }
            case Outcome::Unknown:
                it.findings.push_back(unknownNote(code, {p, f}, s.lastLimitMs(),
                                                  describe(*p) + " and " + describe(*f) + " can both match"));
                break;
            case Outcome::Skipped:
                ++it.skipped[code];
                unsettled = unsettled || !capped;
                break;
            case Outcome::Unsat: break;
        }
    }

    // Shadowed: every request the permit matches, one of those forbids matches too.
    Outcome shadowed = Outcome::Sat;
    if (!shadowing.empty()) {
        z3::expr_vector any(s.ctx());
        for (const RuleInfo* f : shadowing) any.push_back(s.matches(f));
        shadowed = s.ask(mp && !z3::mk_or(any), it.scope, it.action->names, nullptr);
    } else if (unsettled) {
        shadowed = Outcome::Skipped;
    }
    switch (shadowed) {
        case Outcome::Unsat: {
            Finding f;
            f.code = "A0102";
            f.message = describe(*p) + " never takes effect: every request it matches is forbidden";
            f.rules = {p};
            f.rules.insert(f.rules.end(), shadowing.begin(), shadowing.end());
            it.findings.push_back(std::move(f));
            return;
        }
        case Outcome::Unknown:
            it.findings.push_back(unknownNote("A0102", {p}, s.lastLimitMs(), describe(*p) + " is shadowed by forbids"));
            break;
        case Outcome::Skipped: ++it.skipped["A0102"]; break;
        case Outcome::Sat: break;
    }

    // Redundant: other permits of the same principal, each carrying at least its obligations, match every request
    // it matches; removing it changes no decision, no consent and no obligation.
    if (it.covers.empty()) return;
    z3::expr_vector others(s.ctx());
    for (const RuleInfo* q : it.covers) others.push_back(s.matches(q));
    switch (s.ask(mp && !z3::mk_or(others), it.scope, it.action->names, nullptr)) {
        case Outcome::Unsat: {
            Finding r;
            r.code = "A0104";
            r.message = describe(*p) +
                        " is redundant: other permits of its principal match every request it matches, with at least "
                        "its obligations";
            r.rules = {p};
            r.rules.insert(r.rules.end(), it.covers.begin(), it.covers.end());
            it.findings.push_back(std::move(r));
            break;
        }
        case Outcome::Unknown:
            it.findings.push_back(
                unknownNote("A0104", {p}, s.lastLimitMs(), describe(*p) + " is implied by other permits"));
            break;
        case Outcome::Skipped: ++it.skipped["A0104"]; break;
        case Outcome::Sat: break;
    }
}

void runRule(Item& it, Session& s, const eval::Evaluator& ev) {
    runLive(it, s);
    if (it.live != Outcome::Unsat && (!it.forbids.empty() || !it.covers.empty())) runPairs(it, s, ev);
}

// Two rules that ask different roles to approve, on one allowed request that both match: every role named must
// approve (language.md 10), which is rarely what either author meant.
void runApprovals(Item& it, Session& s, const z3::expr& query, const eval::Evaluator& ev) {
    const RuleInfo* a = it.rule;
    const RuleInfo* b = it.other;
    std::string witness;
    Outcome answer = s.ask(query, nullptr, it.action->names, &witness);
    if (answer == Outcome::Sat) {
        eval::Request request;
        eval::State state;
        auto d = replay(ev, witness, request, state);
        const bool holds = d && d->allow && d->obligations.approve.count(it.roles[0]) &&
                           d->obligations.approve.count(it.roles[1]) && ev.matches(*a, request, state) &&
                           ev.matches(*b, request, state);
        if (!holds) answer = Outcome::Unknown;
    }
    switch (answer) {
        case Outcome::Sat: {
            Finding f;
            f.code = "A0105";
            f.message = describe(*a) + " requires approval by \"" + it.roles[0] + "\" and " + describe(*b) + " by \"" +
                        it.roles[1] + "\" on the same allowed request: both roles must approve it";
            f.rules = {a, b};
            f.witness = std::move(witness);
            it.findings.push_back(std::move(f));
            break;
        }
        case Outcome::Unknown:
            it.findings.push_back(unknownNote(
                "A0105", {a, b}, s.lastLimitMs(),
                describe(*a) + " and " + describe(*b) + " can require different approvers of one allowed request"));
            break;
        case Outcome::Skipped: ++it.skipped["A0105"]; break;
        case Outcome::Unsat: break;
    }
}

// Assertions (language.md 6): a request under the body that is decided the way the assertion excludes is a
// counterexample; none is a proof over every request and state.
void runAssertion(Item& it, Session& s, const z3::expr& query, unsigned budgetMs, const eval::Evaluator& ev) {
    const ast::Assertion& a = *it.assertion;
    const bool deny = mustDeny(a);
    const std::string text = assertionText(a);
    std::string witness;
    Outcome answer = s.ask(query, nullptr, it.action->names, &witness);
    if (answer == Outcome::Sat) {
        eval::Request request;
        eval::State state;
        auto d = replay(ev, witness, request, state);
        if (!d || d->allow != deny || !ev.bodyCovers(a.body, request)) answer = Outcome::Unknown;
    }
    Finding f;
    f.span = a.span;
    switch (answer) {
        case Outcome::Sat:
            f.code = "A0201";
            f.severity = Severity::Error;
            f.message =
                "assertion " + it.where + " (" + text + ") fails: this request is " + (deny ? "allowed" : "denied");
            f.witness = std::move(witness);
            break;
        case Outcome::Unsat:
            f.code = "A0202";
            f.severity = Severity::Note;
            f.message = "assertion " + it.where + " (" + text + ") holds for every request and state";
            break;
        case Outcome::Unknown:
            f = unknownNote("A0201", {}, s.lastLimitMs(), "assertion " + it.where + " (" + text + ") holds");
            f.span = a.span;
            break;
        case Outcome::Skipped:
            // An assertion is a claim someone wrote down: it gets a note of its own rather than a count.
            f.code = "A0201";
            f.severity = Severity::Note;
            f.unknown = true;
            f.message = "unknown: the time budget (" + std::to_string(budgetMs) + " ms) ran out before assertion " +
                        it.where + " (" + text + ") was checked";
            break;
    }
    it.findings.push_back(std::move(f));
}

// What an item reports when the solver failed outside a query (while encoding, or an exception in its checks).
void fail(Item& it) {
    switch (it.kind) {
        case Item::Kind::Rule:
            it.findings.push_back(unknownNote("A0103", {it.rule}, 0,
                                              describe(*it.rule) + " can match any request (and, for a permit, " +
                                                  "whether it conflicts with a forbid, is shadowed or is redundant)"));
            break;
        case Item::Kind::Approvals:
            it.findings.push_back(unknownNote("A0105", {it.rule, it.other}, 0,
                                              describe(*it.rule) + " and " + describe(*it.other) +
                                                  " can require different approvers of one allowed request"));
            break;
        case Item::Kind::Assertion: {
            Finding f = unknownNote("A0201", {}, 0, "assertion " + it.where + " holds");
            f.span = it.assertion->span;
            it.findings.push_back(std::move(f));
            break;
        }
    }
}

// Runs the items [first, last), all of one action, in one fresh session. A query that runs out of time leaves the
// session in a state that depends on how far the solver got (what it learnt, the terms it made in the context): the
// items after it start again in a new session, so that only the answer that timed out depends on timing.
void runChunk(const eval::Evaluator& ev, const Budget& budget, unsigned budgetMs, Item* first, Item* last) {
    while (first != last) {
        std::optional<Session> s;
        std::vector<z3::expr> queries;  // per item: the query of an assertion or approvals item (else unused)
        try {
            s.emplace(ev, first->action->action, first->action->space, budget);
            for (Item* it = first; it != last; ++it) {
                z3::expr query = s->ctx().bool_val(true);
                switch (it->kind) {
                    case Item::Kind::Rule:
                        s->matches(it->rule);
                        for (const RuleInfo* r : it->forbids) s->matches(r);
                        for (const RuleInfo* r : it->covers) s->matches(r);
                        break;
                    case Item::Kind::Approvals:
                        query = s->encoder().allowed(it->context) && s->matches(it->rule) && s->matches(it->other);
                        break;
                    case Item::Kind::Assertion: {
                        const z3::expr allow = s->encoder().allowed(it->context);
                        query = s->encoder().assertionBody(it->assertion->body) &&
                                (mustDeny(*it->assertion) ? allow : !allow);
                        break;
                    }
                }
                queries.push_back(query);
            }
            s->seal();
        } catch (const std::exception&) {
            for (Item* it = first; it != last; ++it) fail(*it);
            return;
        }
        Item* it = first;
        while (it != last) {
            const z3::expr& query = queries[static_cast<std::size_t>(it - first)];
            try {
                switch (it->kind) {
                    case Item::Kind::Rule: runRule(*it, *s, ev); break;
                    case Item::Kind::Approvals: runApprovals(*it, *s, query, ev); break;
                    case Item::Kind::Assertion: runAssertion(*it, *s, query, budgetMs, ev); break;
                }
            } catch (const std::exception&) {
                fail(*it);
            }
            ++it;
            if (s->timedOut()) break;
        }
        first = it;
    }
}

// Chunks: consecutive items of one action that encode up to kChunkRules rules between them (a rule shared by items
// is encoded once). Their bounds depend on the items alone, never on the number of threads, which is what keeps
// every answer the same whatever it is. Small enough that the solver of a chunk carries few variables besides those
// its queries need, large enough that making a context and an encoder costs little per query.
constexpr std::size_t kChunkRules = 256;
constexpr std::size_t kChunkItems = 64;
constexpr unsigned kMaxAutoJobs = 8;

// Runs every item, chunk by chunk, on `jobs` threads (the calling one among them), chunks taken in order.
void run(std::vector<Item>& items, const eval::Evaluator& ev, const Budget& budget, const Options& options,
         unsigned jobs) {
    std::vector<std::pair<std::size_t, std::size_t>> chunks;
    std::size_t begin = 0;
    std::set<const RuleInfo*> encoded;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const std::vector<const RuleInfo*> mine = items[i].encodes();
        std::size_t added = 0;
        for (const RuleInfo* r : mine) added += !encoded.count(r);
        if (i > begin && (items[i].action != items[begin].action || encoded.size() + added > kChunkRules ||
                          i - begin >= kChunkItems)) {
            chunks.emplace_back(begin, i);
            begin = i;
            encoded.clear();
        }
        encoded.insert(mine.begin(), mine.end());
    }
    if (begin < items.size()) chunks.emplace_back(begin, items.size());

    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t c; (c = next.fetch_add(1)) < chunks.size();)
            runChunk(ev, budget, options.budgetMs, items.data() + chunks[c].first, items.data() + chunks[c].second);
    };
    std::vector<std::thread> threads;
    const std::size_t helpers = std::min<std::size_t>(jobs, chunks.size()) - (chunks.empty() ? 0 : 1);
    for (std::size_t t = 0; t < helpers; ++t) {
        try {
            threads.emplace_back(work);
        } catch (const std::system_error&) {
            break;  // fewer threads than asked for: the ones running take the rest
        }
    }
    work();
    for (std::thread& t : threads) t.join();
}

const char* checkName(const std::string& code) {
    if (code == "A0101") return "conflict check";
    if (code == "A0102") return "shadowing check";
    if (code == "A0103") return "dead-rule check";
    if (code == "A0104") return "redundancy check";
    if (code == "A0105") return "approval check";
    return "rate-limit check";
}

}  // namespace

std::vector<Finding> analyze(const eval::Evaluator& ev, const Options& options) {
    const Budget budget(options.timeoutMs, options.budgetMs);
    const unsigned jobs =
        options.jobs ? options.jobs : std::clamp(std::thread::hardware_concurrency(), 1u, kMaxAutoJobs);
    std::map<const RuleInfo*, std::size_t> order;
    for (const RuleInfo& r : ev.rules()) order.emplace(&r, order.size());

    std::vector<ActionRules> actions;
    actions.reserve(std::size(ast::kAllActions));  // items point into it
    for (Action action : ast::kAllActions) {
        ActionRules a{action, Space::of(action, {&ev}), Names(ev.model(), action), {}, {}};
        for (const RuleInfo& r : ev.rules()) {
            if (r.body->action != action) continue;
            a.rules.push_back(&r);
            a.scopes.push_back(a.names.of(*r.body));
        }
        actions.push_back(std::move(a));
    }
    auto positions = [](const ActionRules& a, auto keep) {
        std::vector<std::uint32_t> out;
        for (std::uint32_t i = 0; i < a.rules.size(); ++i)
            if (keep(i)) out.push_back(i);
        return out;
    };
    auto rulesAt = [](const ActionRules& a, const std::vector<std::uint32_t>& at) {
        std::vector<const RuleInfo*> out;
        for (std::uint32_t i : at) out.push_back(a.rules[i]);
        return out;
    };

    // Per action: its assertions first (claims people wrote, so they come first if the budget is short), then every
    // rule, then the pairs of rules whose approvers differ. One action's items share chunks: each chunk costs a Z3
    // context and a solver, which take milliseconds to start.
    std::vector<Item> items;
    for (const ActionRules& a : actions) {
        const ScopeIndex all(a.names, a.scopes, positions(a, [](std::uint32_t) { return true; }));
        for (const ast::Module& m : ev.modules()) {
            for (const ast::Item& item : m.items) {
                const auto* assertion = std::get_if<ast::Assertion>(&item);
                if (!assertion || assertion->body.action != a.action) continue;
                Item it;
                it.kind = Item::Kind::Assertion;
                it.action = &a;
                it.assertion = assertion;
                it.where = m.header.name.text + ":" + std::to_string(assertion->span.begin.line);
                it.context = rulesAt(a, all.meeting(a.names.of(assertion->body)));
                items.push_back(std::move(it));
            }
        }
        auto kind = [&](RuleInfo::Kind k) { return [&a, k](std::uint32_t i) { return a.rules[i]->kind == k; }; };
        const std::vector<std::uint32_t> permits = positions(a, kind(RuleInfo::Kind::Permit));
        const ScopeIndex forbidIndex(a.names, a.scopes, positions(a, kind(RuleInfo::Kind::Forbid)));
        const ScopeIndex permitIndex(a.names, a.scopes, permits);
        std::vector<std::vector<std::string>> obligations(a.rules.size());
        for (std::uint32_t p : permits) obligations[p] = obligationsOf(*a.rules[p]);

        // Rules about the same target and agent side by side, so that a chunk encodes a permit and the rules it is
        // paired with once (the findings are put in rule order at the end).
        std::vector<std::uint32_t> byPlace = positions(a, [](std::uint32_t) { return true; });
        auto place = [&](std::uint32_t i) {
            auto first = [](const Indices& x) { return x.all || x.items.empty() ? UINT32_MAX : x.items.front(); };
            return std::tuple(first(a.scopes[i].targets), first(a.scopes[i].agents), i);
        };
        std::sort(byPlace.begin(), byPlace.end(),
                  [&](std::uint32_t x, std::uint32_t y) { return place(x) < place(y); });
        for (std::uint32_t i : byPlace) {
            Item it;
            it.action = &a;
            it.rule = a.rules[i];
            it.scope = &a.scopes[i];
            if (it.rule->kind == RuleInfo::Kind::Permit) {
                for (std::uint32_t f : forbidIndex.meeting(a.scopes[i])) {
                    it.forbids.push_back(a.rules[f]);
                    it.meets.push_back(Names::common(a.scopes[i], a.scopes[f]));
                }
                for (std::uint32_t q : permitIndex.meeting(a.scopes[i])) {
                    if (q == i || a.rules[q]->principal != it.rule->principal) continue;
                    const std::vector<std::string>& mine = obligations[i];
                    const std::vector<std::string>& theirs = obligations[q];
                    if (std::includes(theirs.begin(), theirs.end(), mine.begin(), mine.end()))
                        it.covers.push_back(a.rules[q]);
                }
            }
            items.push_back(std::move(it));
        }

        // Pairs of rules whose approvers differ (neither asks for all the roles of the other), and the rules that can
        // match where both do: the only ones `allowed` needs.
        std::vector<std::vector<std::string>> roles(a.rules.size());
        const std::vector<std::uint32_t> approving = positions(a, [&](std::uint32_t i) {
            if (a.rules[i]->kind == RuleInfo::Kind::Forbid) return false;
            roles[i] = approversOf(*a.rules[i]);
            return !roles[i].empty();
        });
        if (approving.size() < 2) continue;
        const ScopeIndex approverIndex(a.names, a.scopes, approving);
        for (std::uint32_t x : approving) {
            for (std::uint32_t y : approverIndex.meeting(a.scopes[x])) {
                if (y <= x) continue;
                std::vector<std::string> onlyX, onlyY;
                std::set_difference(roles[x].begin(), roles[x].end(), roles[y].begin(), roles[y].end(),
                                    std::back_inserter(onlyX));
                std::set_difference(roles[y].begin(), roles[y].end(), roles[x].begin(), roles[x].end(),
                                    std::back_inserter(onlyY));
                if (onlyX.empty() || onlyY.empty()) continue;
                Item it;
                it.kind = Item::Kind::Approvals;
                it.action = &a;
                it.rule = a.rules[x];
                it.other = a.rules[y];
                it.roles[0] = onlyX.front();
                it.roles[1] = onlyY.front();
                it.context = rulesAt(a, all.meeting(Names::common(a.scopes[x], a.scopes[y])));
                items.push_back(std::move(it));
            }
        }
    }
    run(items, ev, budget, options, jobs);
    std::set<const RuleInfo*> dead;
    for (const Item& it : items)
        if (it.kind == Item::Kind::Rule && it.live == Outcome::Unsat) dead.insert(it.rule);

    std::vector<Finding> findings;
    // Checks skipped for want of budget: one note per action and kind of check, after everything else.
    std::vector<Finding> skipped;
    for (const ActionRules& a : actions) {
        std::map<std::string, std::pair<std::size_t, const RuleInfo*>> count;  // code -> how many, the first rule
        for (Item& it : items) {
            if (it.action != &a) continue;
            for (Finding& f : it.findings) {
                if (f.code == "A0104" && !f.unknown)
                    f.rules.erase(std::remove_if(f.rules.begin() + 1, f.rules.end(),
                                                 [&](const RuleInfo* r) { return dead.count(r) > 0; }),
                                  f.rules.end());
                findings.push_back(std::move(f));
            }
            for (const auto& [code, n] : it.skipped) {
                auto& [total, rule] = count[code];
                total += n;
                if (!rule || order.at(it.rule) < order.at(rule)) rule = it.rule;
            }
        }
        for (const auto& [code, c] : count) {
            Finding f;
            f.code = code;
            f.severity = Severity::Note;
            f.unknown = true;
            f.rules = {c.second};
            f.span = c.second->span;
            f.message = "unknown: the time budget (" + std::to_string(options.budgetMs) + " ms) ran out before " +
                        std::to_string(c.first) + " " + checkName(code) + (c.first == 1 ? "" : "s") + " on `" +
                        ast::actionName(a.action) + "` rules (the first on " + describe(*c.second) +
                        "); nothing is claimed about them";
            skipped.push_back(std::move(f));
        }
    }
    for (Finding& f : findings)
        if (!f.span.valid() && !f.rules.empty()) f.span = f.rules.front()->span;
    // Rule findings in rule order, then assertions in source order.
    std::stable_sort(findings.begin(), findings.end(), [&](const Finding& a, const Finding& b) {
        const std::size_t x =
            a.rules.empty() || a.code.compare(0, 3, "A02") == 0 ? order.size() : order.at(a.rules.front());
        const std::size_t y =
            b.rules.empty() || b.code.compare(0, 3, "A02") == 0 ? order.size() : order.at(b.rules.front());
        if (x != y) return x < y;
        return std::tie(a.span.file, a.span.begin) < std::tie(b.span.file, b.span.begin);
    });
    findings.insert(findings.end(), std::make_move_iterator(skipped.begin()), std::make_move_iterator(skipped.end()));
    return findings;
}

}  // namespace omega::analysis
