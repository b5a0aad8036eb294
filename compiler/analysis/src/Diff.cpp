// Two programs over one symbolic request (Diff.h). Per action, both programs get an Encoder over one Z3 context
// and one Space (the union of their names), so a model is a request both can read; each direction is a query
// "A allows and B does not" repeated with the classes found so far excluded, and every witness is replayed through
// both reference evaluators before it is reported.
#include "omega/analysis/Diff.h"

#include "Encoder.h"
#include "Query.h"
#include "omega/ast/Printer.h"
#include "omega/eval/Json.h"

#include <algorithm>
#include <map>
#include <optional>
#include <thread>

namespace omega::analysis {

using eval::RuleInfo;

namespace {

// A program's decision on a witness: decoded by its own request decoder (a request it rejects is denied, as the
// runtime fails closed) and decided by the reference evaluator.
struct Replayed {
    bool decoded = false;
    eval::Request request;
    eval::State state;
    eval::Decision decision;
    std::string error;  // why the decoder rejected it
};

Replayed replay(const eval::Evaluator& ev, const std::string& witness) {
    Replayed r;
    auto request = eval::requestFromJson(witness, ev.model(), r.state, r.error);
    if (!request) {
        r.decision.reason = "the request is rejected: " + r.error;
        return r;
    }
    r.decoded = true;
    r.request = std::move(*request);
    r.decision = ev.decide(r.request, r.state);
    return r;
}

std::vector<const RuleInfo*> rulesOf(const eval::Evaluator& ev, ast::Action action) {
    std::vector<const RuleInfo*> out;
    for (const RuleInfo& r : ev.rules())
        if (r.body->action == action) out.push_back(&r);
    return out;
}

bool hasPermit(const std::vector<const RuleInfo*>& rules) {
    return std::any_of(rules.begin(), rules.end(), [](const RuleInfo* r) { return r->kind == RuleInfo::Kind::Permit; });
}

// Tools both programs declare whose parameters (names and types) differ.
std::vector<std::string> changedTools(const sema::Model& a, const sema::Model& b) {
    auto shape = [](const sema::ToolInfo& t) {
        std::map<std::string, ast::TypeKind> params;
        for (const sema::ParamInfo& p : t.params) params.emplace(p.name, p.type);
        return params;
    };
    std::vector<std::string> out;
    for (const auto& [name, tool] : a.tools)
        if (auto it = b.tools.find(name); it != b.tools.end() && shape(tool) != shape(it->second)) out.push_back(name);
    return out;
}

// A rate-limited rule's counter is the same state in both programs when the rule is the same rule: same module,
// effect, action, target, agents, condition and limit. Rule ids (`module:line`) move whenever lines are added above
// a rule, so they cannot say it. Returns the counter names of both programs' rules, by rule id.
std::pair<std::map<std::string, std::string>, std::map<std::string, std::string>> sharedCounters(
    const eval::Evaluator& a, const eval::Evaluator& b) {
    auto agents = [](const std::optional<ast::AgentPattern>& p) {
        std::string s = p ? std::to_string(static_cast<int>(p->kind)) : "-";
        if (p)
            for (const ast::Ident& n : p->names) s += "," + n.text;
        return s;
    };
    auto key = [&](const RuleInfo& r) {
        const ast::Body& body = *r.body;
        const ast::RateLimit& l = *r.rule->limit;
        return r.module + "|" + std::to_string(static_cast<int>(r.kind)) + "|" + ast::actionName(body.action) + "|" +
               (body.target ? body.target->text() : "-") + "|" + agents(body.subject) + "|" + agents(body.recipient) +
               "|" + (body.condition ? ast::dump(*body.condition) : "-") + "|" + std::to_string(l.count) + "/" +
               std::to_string(l.windowCount) + l.windowUnit.text + (l.key ? "/" + l.key->text : "");
    };
    std::map<std::string, int> numbers;
    auto names = [&](const eval::Evaluator& ev) {
        std::map<std::string, std::string> out;
        std::map<std::string, int> seen;
        for (const RuleInfo& r : ev.rules()) {
            if (!r.rule || !r.rule->limit) continue;
            std::string k = key(r);
            // Two identical rules of one program keep two counters.
            if (const int n = seen[k]++) k += "#" + std::to_string(n);
            const int number = numbers.emplace(k, static_cast<int>(numbers.size())).first->second;
            out.emplace(r.id, "count#" + std::to_string(number));
        }
        return out;
    };
    auto first = names(a);
    return {std::move(first), names(b)};
}

std::string describeClass(const Difference& d) {
    std::string s = std::string(ast::actionName(d.action)) + " by agent " + d.agent;
    if (!d.target.empty()) s += " on " + d.target;
    if (!d.recipient.empty()) s += " to agent " + d.recipient;
    return s;
}

}  // namespace

std::size_t DiffResult::count(bool newAccess, bool unknown) const {
    return static_cast<std::size_t>(std::count_if(differences.begin(), differences.end(), [&](const Difference& d) {
        return d.newAccess == newAccess && d.unknown == unknown;
    }));
}

DiffResult diff(const eval::Evaluator& oldProgram, const eval::Evaluator& newProgram, const DiffOptions& options) {
    DiffResult result;
    result.changedTools = changedTools(oldProgram.model(), newProgram.model());
    const std::set<std::string> changed(result.changedTools.begin(), result.changedTools.end());
    const Budget budget(options.timeoutMs, options.budgetMs);
    const auto [oldCounters, newCounters] = sharedCounters(oldProgram, newProgram);

    // One direction: the classes `allowing` allows and `denying` denies. The two directions share nothing but the
    // read-only programs, so they run on two threads, each with its own Z3 contexts.
    // (The structured bindings are captured by name: clang before 16 cannot capture them implicitly.)
    auto direction = [&, &oldCounters = oldCounters, &newCounters = newCounters](const bool newAccess) {
        DiffResult out;
        const eval::Evaluator& allowing = newAccess ? newProgram : oldProgram;
        const eval::Evaluator& denying = newAccess ? oldProgram : newProgram;
        const char* const allowingName = newAccess ? "NEW" : "OLD";
        const char* const denyingName = newAccess ? "OLD" : "NEW";
        std::size_t listed = 0;
        for (ast::Action action : ast::kAllActions) {
            const std::vector<const RuleInfo*> rulesA = rulesOf(allowing, action);
            if (!hasPermit(rulesA)) continue;  // it allows nothing of this action
            const std::vector<const RuleInfo*> rulesB = rulesOf(denying, action);
            try {
                z3::context ctx;
                const Space space = Space::of(action, {&oldProgram, &newProgram});
                // A changed tool's requests are shaped for the allowing program: the denying one rejects them.
                Encoder a(ctx, allowing, action, space);
                Encoder b(ctx, denying, action, space, changed);
                a.nameCounters(newAccess ? newCounters : oldCounters);
                b.nameCounters(newAccess ? oldCounters : newCounters);
                const z3::expr differs = a.allowed(rulesA) && !b.allowed(rulesB);
                z3::solver solver(ctx);
                solver.add(a.domain());
                solver.add(b.domain());
                solver.add(differs);
                while (true) {
                    const Answer answer = check(solver, budget);
                    if (answer == Answer::Unsat) break;
                    Difference d;
                    d.newAccess = newAccess;
                    d.action = action;
                    if (answer == Answer::Unknown) {
                        d.unknown = true;
                        d.message = std::string("unknown: no answer within the time limits on whether ") +
                                    allowingName + " allows more " + ast::actionName(action) + " requests that " +
                                    denyingName + " denies";
                        out.differences.push_back(std::move(d));
                        break;
                    }
                    if (listed == options.limit) {
                        out.truncated = true;
                        break;
                    }
                    std::vector<z3::expr> prefer = a.preferences();
                    for (const z3::expr& e : b.preferences()) prefer.push_back(e);
                    const z3::model m = readableModel(solver, budget, prefer);
                    d.agent = a.agentOf(m);
                    d.target = a.targetOf(m);
                    d.recipient = a.recipientOf(m);
                    d.witness = a.witness(m, &b);
                    // Replayed through both programs: one must allow it, the other deny it, or nothing is claimed.
                    const Replayed yes = replay(allowing, d.witness);
                    const Replayed no = replay(denying, d.witness);
                    if (yes.decoded && yes.decision.allow && !no.decision.allow) {
                        d.allowedBy = yes.decision.rules;
                        d.deniedBy = no.decision.rules;
                        d.deniedBecause = no.decision.reason;
                        d.message = std::string(newAccess ? "new access: " : "lost access: ") + describeClass(d) +
                                    " is allowed by " + allowingName + " and denied by " + denyingName;
                    } else {
                        d.unknown = true;
                        d.message = "unknown: " + describeClass(d) + " may be allowed by " + allowingName +
                                    " and denied by " + denyingName +
                                    ", but the solver's example did not hold up when replayed";
                        d.witness.clear();
                    }
                    out.differences.push_back(std::move(d));
                    ++listed;
                    const Difference& last = out.differences.back();
                    solver.add(!a.is(last.agent, last.target, last.recipient));  // the next class
                }
            } catch (const z3::exception& e) {
                // The encoding hit a limit of Z3: no answer for this action, never a claim.
                Difference d;
                d.newAccess = newAccess;
                d.action = action;
                d.unknown = true;
                d.message = std::string("unknown: the solver failed on ") + ast::actionName(action) + " requests (" +
                            e.msg() + ")";
                out.differences.push_back(std::move(d));
            }
        }
        return out;
    };
    DiffResult lost;
    std::thread other;
    if (options.jobs != 1) other = std::thread([&] { lost = direction(false); });
    DiffResult gained = direction(true);
    if (other.joinable())
        other.join();
    else
        lost = direction(false);
    result.differences = std::move(gained.differences);
    result.differences.insert(result.differences.end(), std::make_move_iterator(lost.differences.begin()),
                              std::make_move_iterator(lost.differences.end()));
    result.truncated = gained.truncated || lost.truncated;
    return result;
}

std::vector<Finding> refine(const eval::Evaluator& policy, const eval::Evaluator& combined,
                            const std::set<std::string>& packModules, const Options& options) {
    std::vector<Finding> findings;
    const Budget budget(options.timeoutMs, options.budgetMs);
    // Permits listed per pack forbid before the rest is summed up in one more finding.
    constexpr std::size_t kPermitsPerForbid = 20;
    for (ast::Action action : ast::kAllActions) {
        const std::vector<const RuleInfo*> policyRules = rulesOf(policy, action);
        if (!hasPermit(policyRules)) continue;
        std::vector<const RuleInfo*> forbids;
        for (const RuleInfo* r : rulesOf(combined, action))
            if (r->kind == RuleInfo::Kind::Forbid && packModules.count(r->module)) forbids.push_back(r);
        if (forbids.empty()) continue;
        try {
            z3::context ctx;
            const Space space = Space::of(action, {&policy, &combined});
            Encoder p(ctx, policy, action, space);
            Encoder c(ctx, combined, action, space);
            const z3::expr allowed = p.allowed(policyRules);
            std::map<const RuleInfo*, z3::expr> forbidMatch, permitMatch;
            for (const RuleInfo* f : forbids) forbidMatch.emplace(f, c.matches(*f));
            for (const RuleInfo* r : policyRules)
                if (r->kind == RuleInfo::Kind::Permit) permitMatch.emplace(r, p.matches(*r));
            z3::solver solver(ctx);
            solver.add(p.domain());
            solver.add(c.domain());
            solver.add(allowed);
            for (const RuleInfo* f : forbids) {
                solver.push();
                solver.add(forbidMatch.at(f));
                // Each round finds a request the policy allows and `f` forbids, names the permit that allows it, and
                // then asks again outside that permit: the findings together cover every such request.
                for (std::size_t round = 0;; ++round) {
                    const Answer answer = check(solver, budget);
                    if (answer == Answer::Unsat) break;
                    Finding finding;
                    finding.code = "A0301";
                    finding.severity = Severity::Error;
                    if (answer == Answer::Unknown || round == kPermitsPerForbid) {
                        finding.severity = Severity::Note;
                        finding.unknown = answer == Answer::Unknown;
                        finding.rules = {f};
                        finding.span = f->span;
                        finding.message = answer == Answer::Unknown
                                              ? "unknown: no answer within " + std::to_string(options.timeoutMs) +
                                                    " ms on whether the policy allows more requests that " + f->id +
                                                    " (" + f->principal + ") forbids"
                                              : "more permits allow requests that " + f->id + " (" + f->principal +
                                                    ") forbids; the first " + std::to_string(kPermitsPerForbid) +
                                                    " are listed";
                        findings.push_back(std::move(finding));
                        break;
                    }
                    std::vector<z3::expr> prefer = p.preferences();
                    for (const z3::expr& e : c.preferences()) prefer.push_back(e);
                    const z3::model m = readableModel(solver, budget, prefer);
                    std::string witness = p.witness(m, &c);
                    const Replayed mine = replay(policy, witness);
                    const Replayed theirs = replay(combined, witness);
                    const bool holds = mine.decoded && mine.decision.allow && theirs.decoded &&
                                       !theirs.decision.allow &&
                                       std::find(theirs.decision.rules.begin(), theirs.decision.rules.end(), f) !=
                                           theirs.decision.rules.end();
                    if (!holds) {
                        finding.severity = Severity::Note;
                        finding.unknown = true;
                        finding.rules = {f};
                        finding.span = f->span;
                        finding.message = "unknown: the policy may allow requests that " + f->id + " (" + f->principal +
                                          ") forbids, but the solver's example did not hold up when replayed";
                        findings.push_back(std::move(finding));
                        break;
                    }
                    const RuleInfo* permit = mine.decision.rules.front();
                    finding.rules = {permit, f};
                    finding.span = permit->span;
                    finding.witness = std::move(witness);
                    finding.message = "permit " + permit->id + " (" + permit->principal + ") allows requests that " +
                                      f->id + " (" + f->principal + ") forbids";
                    findings.push_back(std::move(finding));
                    // Outside every permit that allowed this request (the permits that decided it).
                    for (const RuleInfo* q : mine.decision.rules) solver.add(!permitMatch.at(q));
                }
                solver.pop();
            }
        } catch (const z3::exception& e) {
            Finding finding;
            finding.code = "A0301";
            finding.severity = Severity::Note;
            finding.unknown = true;
            finding.rules = {forbids.front()};
            finding.span = forbids.front()->span;
            finding.message = std::string("unknown: the solver failed on ") + ast::actionName(action) +
                              " requests against the pack (" + e.msg() + ")";
            findings.push_back(std::move(finding));
        }
    }
    return findings;
}

}  // namespace omega::analysis
