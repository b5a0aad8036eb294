// The findings (Analysis.h): dead rules, conflicts between a permit and a forbid, and permits that never take
// effect. One Z3 context and one solver per action; every query is a push, its formulas, a check and a pop.
#include "omega/analysis/Analysis.h"

#include "Encoder.h"
#include "omega/eval/Json.h"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

namespace omega::analysis {

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

std::string describe(const RuleInfo& r) {
    return std::string(kindName(r.kind)) + " " + r.id + " (" + r.principal + ")";
}

}  // namespace

// Every witness is checked with the reference evaluator before it is reported: a model the solver got wrong (the
// string and regular-expression theories of older Z3 releases have known bugs) turns into an `unknown` rather than
// a false finding.
static std::optional<eval::Decision> replay(const eval::Evaluator& ev, const std::string& witness,
                                            eval::Request& request, eval::State& state) {
    std::string error;
    auto decoded = eval::requestFromJson(witness, ev.model(), state, error);
    if (!decoded) return std::nullopt;
    request = std::move(*decoded);
    return ev.decide(request, state);
}

std::vector<Finding> analyze(const eval::Evaluator& ev, const Options& options) {
    std::vector<Finding> findings;
    z3::context ctx;
    std::map<const RuleInfo*, std::size_t> order;
    for (const RuleInfo& r : ev.rules()) order.emplace(&r, order.size());

    for (ast::Action action : ast::kAllActions) {
        std::vector<const RuleInfo*> rules;
        for (const RuleInfo& r : ev.rules())
            if (r.body->action == action) rules.push_back(&r);
        if (rules.empty()) continue;

        Encoder enc(ctx, ev, action);
        std::map<const RuleInfo*, z3::expr> match, scope;
        for (const RuleInfo* r : rules) {
            match.emplace(r, enc.matches(*r));
            scope.emplace(r, enc.scope(*r));
        }
        z3::solver solver(ctx);
        z3::params params(ctx);
        params.set("timeout", options.timeoutMs);
        solver.set(params);
        solver.add(enc.domain());

        // Satisfiable with a witness, unsatisfiable, or unknown.
        enum class Answer { Sat, Unsat, Unknown };
        auto ask = [&](const z3::expr& formula, std::string* witness) {
            solver.push();
            solver.add(formula);
            Answer a = Answer::Unknown;
            switch (solver.check()) {
                case z3::sat:
                    a = Answer::Sat;
                    if (witness) *witness = enc.witness(solver.get_model());
                    break;
                case z3::unsat: a = Answer::Unsat; break;
                case z3::unknown: a = Answer::Unknown; break;
            }
            solver.pop();
            return a;
        };
        auto unknown = [&](const std::string& code, std::vector<const RuleInfo*> involved, const std::string& what) {
            Finding f;
            f.code = code;
            f.severity = Severity::Note;
            f.unknown = true;
            f.rules = std::move(involved);
            f.message = "unknown: no answer within " + std::to_string(options.timeoutMs) +
                        " ms (or a solver model that did not hold up when replayed) on whether " + what;
            findings.push_back(std::move(f));
        };

        std::vector<const RuleInfo*> live;
        for (const RuleInfo* r : rules) {
            switch (ask(match.at(r), nullptr)) {
                case Answer::Unsat: {
                    Finding f;
                    f.code = "A0103";
                    f.message = std::string(kindName(r->kind)) + " " + r->id +
                                " is dead: no request can match it (its target, subject and condition cannot all hold)";
                    f.rules = {r};
                    findings.push_back(std::move(f));
                    break;
                }
                case Answer::Unknown: unknown("A0103", {r}, describe(*r) + " can match any request"); break;
                case Answer::Sat: live.push_back(r); break;
            }
        }

        std::vector<const RuleInfo*> permits, forbids;
        for (const RuleInfo* r : live) {
            if (r->kind == RuleInfo::Kind::Permit) permits.push_back(r);
            if (r->kind == RuleInfo::Kind::Forbid) forbids.push_back(r);
        }
        for (const RuleInfo* p : permits) {
            std::vector<const RuleInfo*> conflicting;
            for (const RuleInfo* f : forbids) {
                // Only rules whose targets and subjects meet can conflict: a cheap query first.
                if (ask(scope.at(p) && scope.at(f), nullptr) == Answer::Unsat) continue;
                std::string witness;
                Answer answer = ask(match.at(p) && match.at(f), &witness);
                if (answer == Answer::Sat) {
                    eval::Request request;
                    eval::State state;
                    auto d = replay(ev, witness, request, state);
                    const bool holds = d && !d->allow &&
                                       std::find(d->rules.begin(), d->rules.end(), f) != d->rules.end() &&
                                       ev.matches(*p, request, state);
                    if (!holds) answer = Answer::Unknown;
                }
                switch (answer) {
                    case Answer::Sat: {
                        Finding c;
                        c.code = "A0101";
                        const bool across = p->principal != f->principal;
                        c.message = describe(*p) + " and " + describe(*f) + " both match a request; the forbid wins" +
                                    (across ? " (a conflict between principals)" : "");
                        c.rules = {p, f};
                        c.witness = std::move(witness);
                        findings.push_back(std::move(c));
                        conflicting.push_back(f);
                        break;
                    }
                    case Answer::Unknown:
                        unknown("A0101", {p, f}, describe(*p) + " and " + describe(*f) + " can both match");
                        break;
                    case Answer::Unsat: break;
                }
            }
            bool shadowed = false;
            if (!conflicting.empty()) {
                // Shadowed: every request the permit matches, some forbid matches too.
                z3::expr_vector any(ctx);
                for (const RuleInfo* f : conflicting) any.push_back(match.at(f));
                switch (ask(match.at(p) && !z3::mk_or(any), nullptr)) {
                    case Answer::Unsat: {
                        Finding s;
                        s.code = "A0102";
                        s.message = describe(*p) + " never takes effect: every request it matches is forbidden";
                        s.rules = {p};
                        s.rules.insert(s.rules.end(), conflicting.begin(), conflicting.end());
                        findings.push_back(std::move(s));
                        shadowed = true;
                        break;
                    }
                    case Answer::Unknown: unknown("A0102", {p}, describe(*p) + " is shadowed by forbids"); break;
                    case Answer::Sat: break;
                }
            }
            if (shadowed) continue;
            // Redundant: other permits of the same principal, each carrying at least its obligations, match every
            // request it matches; removing it changes no decision, no consent and no obligation.
            std::vector<const RuleInfo*> cover;
            const std::vector<std::string> mine = obligationsOf(*p);
            for (const RuleInfo* q : permits) {
                if (q == p || q->principal != p->principal) continue;
                const std::vector<std::string> theirs = obligationsOf(*q);
                if (!std::includes(theirs.begin(), theirs.end(), mine.begin(), mine.end())) continue;
                if (ask(scope.at(p) && scope.at(q), nullptr) != Answer::Unsat) cover.push_back(q);
            }
            if (cover.empty()) continue;
            z3::expr_vector others(ctx);
            for (const RuleInfo* q : cover) others.push_back(match.at(q));
            switch (ask(match.at(p) && !z3::mk_or(others), nullptr)) {
                case Answer::Unsat: {
                    Finding r;
                    r.code = "A0104";
                    r.message = describe(*p) +
                                " is redundant: other permits of its principal match every request it "
                                "matches, with at least its obligations";
                    r.rules = {p};
                    r.rules.insert(r.rules.end(), cover.begin(), cover.end());
                    findings.push_back(std::move(r));
                    break;
                }
                case Answer::Unknown: unknown("A0104", {p}, describe(*p) + " is implied by other permits"); break;
                case Answer::Sat: break;
            }
        }

        // Assertions about this action (language.md 6): a request that matches the body and is decided the way the
        // assertion excludes is a counterexample; none is a proof over every request and state.
        for (const ast::Module& m : ev.modules()) {
            for (const ast::Item& item : m.items) {
                const auto* a = std::get_if<ast::Assertion>(&item);
                if (!a || a->body.action != action) continue;
                const bool mustDeny = a->never == a->permitVerdict;  // never permit, always deny
                const std::string text =
                    std::string("assert ") + (a->never ? "never " : "always ") + (a->permitVerdict ? "permit" : "deny");
                const std::string where = m.header.name.text + ":" + std::to_string(a->span.begin.line);
                const z3::expr allow = enc.allowed(rules);
                std::string witness;
                Finding f;
                f.span = a->span;
                Answer answer = ask(enc.assertionBody(a->body) && (mustDeny ? allow : !allow), &witness);
                if (answer == Answer::Sat) {
                    eval::Request request;
                    eval::State state;
                    auto d = replay(ev, witness, request, state);
                    if (!d || d->allow != mustDeny || !ev.bodyCovers(a->body, request)) answer = Answer::Unknown;
                }
                switch (answer) {
                    case Answer::Sat:
                        f.code = "A0201";
                        f.severity = Severity::Error;
                        f.message = "assertion " + where + " (" + text + ") fails: this request is " +
                                    (mustDeny ? "allowed" : "denied");
                        f.witness = std::move(witness);
                        break;
                    case Answer::Unsat:
                        f.code = "A0202";
                        f.severity = Severity::Note;
                        f.message = "assertion " + where + " (" + text + ") holds for every request and state";
                        break;
                    case Answer::Unknown:
                        f.code = "A0201";
                        f.severity = Severity::Note;
                        f.unknown = true;
                        f.message = "unknown: no answer within " + std::to_string(options.timeoutMs) +
                                    " ms (or a solver model that did not hold up when replayed) on whether assertion " +
                                    where + " (" + text + ") holds";
                        break;
                }
                findings.push_back(std::move(f));
            }
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
    return findings;
}

}  // namespace omega::analysis
