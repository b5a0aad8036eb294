// The analyser's claims, tested on thousands of generated programs (tests/support): every witness, decoded by the
// runtime's JSON decoder and decided by the compiled bundle's engine (the code path of `omegac eval --bundle`), shows
// what its finding claims; no proof (dead rule, shadowed or redundant permit, assertion that holds) meets a
// counterexample among random requests; and when a random request shows a conflict (or two rules asking different
// approvers of one allowed request), the analyser reported it or said unknown. Plus golden findings between
// principals, beside rate limits, and on corners of the encoding.
//
// Environment: OMEGA_GEN_SEED (first program seed, default 0) and OMEGA_ANALYSIS_PROGRAMS (programs, default
// kPrograms). A failure prints the program seed, its listing, the analyser's findings and the witness or request
// that shows the problem; OMEGA_GEN_SEED=<seed> OMEGA_ANALYSIS_PROGRAMS=1 reruns that program alone.
#include "omega/analysis/Analysis.h"
#include "omega/codegen/CodeGen.h"
#include "omega/eval/Evaluator.h"
#include "omega/eval/Json.h"
#include "omega/gen/Generate.h"
#include "omega/policy/Engine.h"
#include "omega/policy/Json.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

using namespace omega;
using eval::RuleInfo;

namespace {

using gen::envNumber;

constexpr std::uint64_t kPrograms = 1200;
constexpr std::size_t kRequestsPerProgram = 300;
// Problems listed per failing program, and failing programs reported in full (the rest by seed only).
constexpr std::size_t kProblemsShown = 6;
constexpr std::size_t kReportsInFull = 5;

// Small programs, so that one analysis takes tens of milliseconds; few rules over seven actions still meet often.
// Two modules, so that conflicts between principals and `governs` occur.
gen::PolicyShape analysisShape() {
    gen::PolicyShape s;
    s.modules = 2;
    s.rules = 8;
    s.obligationRules = 2;
    s.assertions = 3;
    s.maxDepth = 2;
    return s;
}

// Short enough that a query the solver struggles with costs little; it then comes out unknown, which claims nothing.
constexpr unsigned kTimeoutMs = 1000;

// A checked program with its reference evaluator and its bundle's engine.
struct Compiled {
    std::unique_ptr<gen::Checked> checked;
    std::unique_ptr<eval::Evaluator> ev;
    std::unique_ptr<policy::Engine> engine;
    std::string error;  // why there is no engine
};

std::unique_ptr<Compiled> compile(const std::vector<std::string>& texts) {
    auto c = std::make_unique<Compiled>();
    c->checked = gen::check(texts);
    if (!c->checked->ok()) {
        c->error = c->checked->report();
        return c;
    }
    c->ev = std::make_unique<eval::Evaluator>(c->checked->modules, c->checked->model);
    policy::Image image;
    if (!codegen::generate(c->checked->modules, c->checked->model, c->checked->sm, {"test"}, image, c->error)) return c;
    auto engine = policy::Engine::make(std::move(image));
    if (!engine) {
        c->error = engine.error();
        return c;
    }
    c->engine = std::make_unique<policy::Engine>(std::move(engine).value());
    return c;
}

// One request decided by the bundle (decoded by the runtime's decoder, as `omegac eval --bundle` does), and decoded
// by the compiler's decoder too, for the reference evaluator's per-rule tests.
struct Replay {
    policy::Request request;
    policy::Interned interned;
    policy::Scratch scratch;  // after decide(): the rules the program reported, the combiner's matches marked 0x80
    policy::Decision decision;
    eval::Request ref;
    eval::State state;
};

// Fills `r` from `json`; what went wrong, or "".
std::string replay(const Compiled& c, const std::string& json, Replay& r) {
    std::string error;
    if (!policy::decodeRequest(json, c.engine->image(), r.request, error))
        return "the runtime's decoder rejects it: " + error;
    if (!c.engine->intern(r.request, r.interned, error)) return "the engine does not intern it: " + error;
    c.engine->decide(r.interned, r.scratch, r.decision);
    if (!r.decision.error.empty()) return "the engine failed: " + r.decision.error;
    r.state = {};
    auto ref = eval::requestFromJson(json, c.checked->model, r.state, error);
    if (!ref) return "the compiler's decoder rejects it: " + error;
    r.ref = std::move(*ref);
    return "";
}

std::uint32_t indexOf(const Compiled& c, const RuleInfo& rule) {
    return c.engine->ruleIndex(rule.id);
}

bool decides(const Compiled& c, const Replay& r, const RuleInfo& rule) {
    return std::count(r.decision.rules.begin(), r.decision.rules.end(), indexOf(c, rule)) > 0;
}

// A permit matches in the bundle: its program reported the condition true (2; the combiner keeps its own mark in
// the high bit), and the request's counter is below the permit's rate limit, if it has one (language.md 10).
bool bundlePermits(const Compiled& c, const Replay& r, const RuleInfo& permit) {
    const std::uint32_t index = indexOf(c, permit);
    const bool reported = std::any_of(r.scratch.matches.begin(), r.scratch.matches.end(),
                                      [&](const auto& m) { return m.first == index && (m.second & 0x7F) == 2; });
    const policy::Rule& rule = c.engine->image().rules[index];
    if (!reported || !rule.limited) return reported;
    std::int64_t count = 0;  // a counter the request does not give is 0
    for (const auto& [id, n] : r.request.counts)
        if (id == permit.id) count = n;
    return count < rule.limit;
}

// The roles a rule's `approve` obligations name.
std::set<std::string> approvers(const RuleInfo& rule) {
    std::set<std::string> roles;
    if (!rule.obligations) return roles;
    for (const ast::Obligation& o : *rule.obligations)
        if (o.name.text == "approve")
            for (const auto& role : o.args) roles.insert(role->text);
    return roles;
}

// Each of the two asks a role to approve that the other does not: what A0105 is about.
bool approversDisagree(const RuleInfo& a, const RuleInfo& b) {
    const std::set<std::string> x = approvers(a), y = approvers(b);
    return !std::includes(x.begin(), x.end(), y.begin(), y.end()) &&
           !std::includes(y.begin(), y.end(), x.begin(), x.end());
}

// The assertion an A0201 or A0202 finding is about (those carry its span and no rules).
const ast::Assertion* assertionOf(const Compiled& c, const analysis::Finding& f) {
    for (const ast::Module& m : c.checked->modules)
        for (const ast::Item& item : m.items)
            if (const auto* a = std::get_if<ast::Assertion>(&item))
                if (a->span.file == f.span.file && a->span.begin == f.span.begin) return a;
    return nullptr;
}

// `never permit` and `always deny` hold when every request under the body is denied.
bool mustDeny(const ast::Assertion& a) {
    return a.never == a.permitVerdict;
}

std::string where(const ast::Assertion& a) {
    return "the assertion at line " + std::to_string(a.span.begin.line);
}

// What the witness of `f` fails to show, or "" when the bundle confirms the finding.
std::string confirm(const Compiled& c, const analysis::Finding& f) {
    Replay r;
    if (std::string problem = replay(c, f.witness, r); !problem.empty()) return problem;
    const policy::Decision& d = r.decision;
    if (f.code == "A0101" || f.code == "A0106") {
        // A conflict: the forbid decides the witness while the permit matches it (rate limit included).
        if (f.rules.size() != 2) return "a conflict names " + std::to_string(f.rules.size()) + " rules, not 2";
        const RuleInfo& permit = *f.rules[0];
        const RuleInfo& forbid = *f.rules[1];
        if (d.allow) return "the witness is allowed";
        if (!decides(c, r, forbid)) return "forbid " + forbid.id + " is not among the deciding rules";
        if (!c.ev->matches(permit, r.ref, r.state)) return "permit " + permit.id + " does not match (evaluator)";
        if (!bundlePermits(c, r, permit)) return "permit " + permit.id + " does not match (bundle)";
        return "";
    }
    if (f.code == "A0105") {
        // Obligations disagree: the witness is allowed, both rules match it, and its decision asks every role
        // either names to approve.
        if (f.rules.size() != 2) return "A0105 names " + std::to_string(f.rules.size()) + " rules, not 2";
        if (!approversDisagree(*f.rules[0], *f.rules[1])) return "the rules' approvers do not disagree";
        if (!d.allow) return "the witness is denied";
        std::set<std::string> asked;
        for (std::uint32_t id : d.approve) asked.insert(c.engine->image().strings[id]);
        for (const RuleInfo* rule : f.rules) {
            if (!c.ev->matches(*rule, r.ref, r.state)) return rule->id + " does not match (evaluator)";
            for (const std::string& role : approvers(*rule))
                if (!asked.count(role)) return "the decision does not ask \"" + role + "\" to approve (bundle)";
        }
        return "";
    }
    if (f.code == "A0201") {
        const ast::Assertion* a = assertionOf(c, f);
        if (!a) return "no assertion where the finding points";
        if (d.allow != mustDeny(*a)) return std::string("the witness is ") + (d.allow ? "allowed" : "denied");
        if (!c.ev->bodyCovers(a->body, r.ref)) return "the witness is not under the assertion's body";
        return "";
    }
    return "this test has no check for witnesses of " + f.code;
}

// A finding in brief, for golden lists and failure messages: "A0101 a:5 b:2", "unknown A0103 a:7", "A0202 line 9".
std::string summary(const analysis::Finding& f) {
    std::string s = (f.unknown ? "unknown " : "") + f.code;
    for (const RuleInfo* r : f.rules) s += " " + r->id;
    if (f.rules.empty()) s += " line " + std::to_string(f.span.begin.line);
    return s;
}

std::vector<std::string> summaries(const std::vector<analysis::Finding>& findings) {
    std::vector<std::string> out;
    for (const analysis::Finding& f : findings) out.push_back(summary(f));
    return out;
}

// The findings with their witnesses, one a line.
std::string describe(const std::vector<analysis::Finding>& findings) {
    std::string out;
    for (const analysis::Finding& f : findings)
        out += "  " + summary(f) + (f.witness.empty() ? "" : " witness " + f.witness) + "\n";
    return out.empty() ? "  (none)\n" : out;
}

// What the analyser claims without a witness, and which pairs of rules it reported on (conflicts, approvers);
// gathered once per program and tested against every random request.
struct Claims {
    std::set<const RuleInfo*> dead;
    std::map<const RuleInfo*, std::vector<const RuleInfo*>> shadowed;   // permit -> the forbids said to cover it
    std::map<const RuleInfo*, std::vector<const RuleInfo*>> redundant;  // permit -> the permits said to cover it
    std::vector<const ast::Assertion*> held;
    std::set<std::pair<const RuleInfo*, const RuleInfo*>> conflicts;  // (permit, forbid), found or unknown
    std::set<std::pair<const RuleInfo*, const RuleInfo*>> approvals;  // A0105, found or unknown, in both orders
    std::set<const RuleInfo*> unsettled;                              // no claim about any pair with it
};

Claims claimsOf(const Compiled& c, const std::vector<analysis::Finding>& findings) {
    Claims k;
    for (const analysis::Finding& f : findings) {
        const bool conflict = f.code == "A0101" || f.code == "A0106";
        if (conflict && f.rules.size() == 2) k.conflicts.emplace(f.rules[0], f.rules[1]);
        if (f.code == "A0105" && f.rules.size() == 2) {
            k.approvals.emplace(f.rules[0], f.rules[1]);
            k.approvals.emplace(f.rules[1], f.rules[0]);
        }
        // An unknown about one rule alone (whether it can match; all of a permit's conflicts when the solver failed
        // on them) leaves every pair with that rule open.
        if ((f.code == "A0103" || conflict) && f.unknown && f.rules.size() == 1) k.unsettled.insert(f.rules[0]);
        if (f.unknown) continue;
        if (f.code == "A0103") k.dead.insert(f.rules[0]);
        if (f.code == "A0102") k.shadowed[f.rules[0]].assign(f.rules.begin() + 1, f.rules.end());
        if (f.code == "A0104") k.redundant[f.rules[0]].assign(f.rules.begin() + 1, f.rules.end());
        if (f.code == "A0202")
            if (const ast::Assertion* a = assertionOf(c, f)) k.held.push_back(a);
    }
    return k;
}

struct Tally {
    std::size_t programs = 0, requests = 0;
    std::map<std::string, std::size_t> found, unknown;  // findings by code
    std::size_t witnesses = 0;                          // confirmed by the bundle
    std::size_t overlaps = 0;          // (request, permit, forbid) with both matching: conflict completeness checked
    std::size_t approvalOverlaps = 0;  // (allowed request, two matching rules whose approvers disagree)
    std::size_t proofHits = 0;         // (request, proof) where the request falls under what the proof is about
    double analysisSeconds = 0;
};

// Everything wrong with the analysis of one program.
std::vector<std::string> checkProgram(const Compiled& c, std::uint64_t seed,
                                      const std::vector<analysis::Finding>& findings, Tally& t) {
    std::vector<std::string> problems;
    for (const analysis::Finding& f : findings) {
        ++(f.unknown ? t.unknown : t.found)[f.code];
        // Unknown is for time limits; a solver failure on a program that checks is an encoding error.
        if (f.unknown && f.message.find("the solver failed") != std::string::npos)
            problems.push_back(f.code + ": " + f.message);
        if (f.witness.empty()) continue;
        if (std::string problem = confirm(c, f); !problem.empty()) {
            problems.push_back(f.code + " (" + f.message + "): " + problem + "\n    witness " + f.witness);
        } else {
            ++t.witnesses;
        }
    }

    const Claims k = claimsOf(c, findings);
    gen::RequestGenerator requests(c.checked->model, c.checked->modules);
    Replay r;
    for (std::size_t i = 0; i < kRequestsPerProgram; ++i) {
        const std::string json = requests(gen::mix(seed, i));
        auto problem = [&](const std::string& what) { problems.push_back(what + "\n    request " + json); };
        if (std::string p = replay(c, json, r); !p.empty()) {
            problem("a generated request: " + p);
            continue;
        }
        ++t.requests;
        // The rules of the request's action that match it, by the reference evaluator (what the analyser encodes).
        std::vector<const RuleInfo*> permits, forbids, approving;
        std::set<const RuleInfo*> matching;
        for (const RuleInfo& rule : c.ev->rules()) {
            if (rule.body->action != r.ref.action || !c.ev->matches(rule, r.ref, r.state)) continue;
            matching.insert(&rule);
            if (rule.kind == RuleInfo::Kind::Permit) permits.push_back(&rule);
            if (rule.kind == RuleInfo::Kind::Forbid) forbids.push_back(&rule);
            if (rule.kind != RuleInfo::Kind::Forbid && !approvers(rule).empty()) approving.push_back(&rule);
        }
        auto open = [&](const RuleInfo* x, const RuleInfo* y) { return k.unsettled.count(x) || k.unsettled.count(y); };
        auto anyMatches = [&](const std::vector<const RuleInfo*>& rules) {
            return std::any_of(rules.begin(), rules.end(), [&](const RuleInfo* x) { return matching.count(x) > 0; });
        };

        for (const RuleInfo* rule : k.dead)
            if (matching.count(rule)) problem("dead rule " + rule->id + " matches");
        for (const auto& [permit, cover] : k.shadowed) {
            if (!matching.count(permit)) continue;
            ++t.proofHits;
            if (!anyMatches(cover)) problem("shadowed permit " + permit->id + " matches and none of its forbids does");
            if (r.decision.allow && decides(c, r, *permit))
                problem("shadowed permit " + permit->id + " decides an allow (bundle)");
        }
        for (const auto& [permit, cover] : k.redundant) {
            if (!matching.count(permit)) continue;
            ++t.proofHits;
            if (!anyMatches(cover)) problem("redundant permit " + permit->id + " matches and none of its cover does");
        }
        for (const ast::Assertion* a : k.held) {
            if (!c.ev->bodyCovers(a->body, r.ref)) continue;
            ++t.proofHits;
            if (r.decision.allow == mustDeny(*a))
                problem(where(*a) + " is proved, but this request under its body is " +
                        (r.decision.allow ? "allowed" : "denied") + " (bundle)");
        }
        for (const RuleInfo* permit : permits) {
            for (const RuleInfo* forbid : forbids) {
                ++t.overlaps;
                if (!k.conflicts.count({permit, forbid}) && !open(permit, forbid))
                    problem("permit " + permit->id + " and forbid " + forbid->id +
                            " both match, and no conflict (or unknown) is reported for them");
            }
        }
        if (!r.decision.allow) continue;
        for (std::size_t x = 0; x < approving.size(); ++x) {
            for (std::size_t y = x + 1; y < approving.size(); ++y) {
                const RuleInfo* a = approving[x];
                const RuleInfo* b = approving[y];
                if (!approversDisagree(*a, *b)) continue;
                ++t.approvalOverlaps;
                if (!k.approvals.count({a, b}) && !open(a, b))
                    problem(a->id + " and " + b->id +
                            " ask different roles to approve this allowed request, and no "
                            "A0105 (or unknown) is reported for them");
            }
        }
    }
    return problems;
}

TEST(AnalysisGen, ClaimsHoldOnGeneratedPrograms) {
    const std::uint64_t first = envNumber("OMEGA_GEN_SEED", 0);
    const std::uint64_t count = envNumber("OMEGA_ANALYSIS_PROGRAMS", kPrograms);
    const gen::PolicyShape shape = analysisShape();
    analysis::Options options;
    options.timeoutMs = kTimeoutMs;
    options.jobs = 1;  // programs this small gain nothing from threads, and the test then uses one core
    Tally t;
    std::size_t failing = 0;
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t seed = first; seed < first + count; ++seed) {
        const gen::Program program = gen::generate(seed, shape);
        auto c = compile(program.texts);
        ASSERT_TRUE(c->engine) << "program seed " << seed << ": " << c->error << "\n" << gen::listing(program.texts);
        ++t.programs;
        std::vector<analysis::Finding> findings;
        std::vector<std::string> problems;
        // analyze() must not throw (stage APIs never do); Z3's C++ API throws on a malformed formula.
        try {
            const auto began = std::chrono::steady_clock::now();
            findings = analysis::analyze(*c->ev, options);
            t.analysisSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
        } catch (const std::exception& e) {
            problems.push_back(std::string("analyze() threw: ") + e.what());
        }
        if (problems.empty()) problems = checkProgram(*c, seed, findings, t);
        if (problems.empty()) continue;
        if (++failing > kReportsInFull) {
            ADD_FAILURE() << "program seed " << seed << ": " << problems.size() << " problems, first: " << problems[0];
            continue;
        }
        std::string shown;
        for (std::size_t i = 0; i < problems.size() && i < kProblemsShown; ++i) shown += "  - " + problems[i] + "\n";
        if (problems.size() > kProblemsShown)
            shown += "  (" + std::to_string(problems.size() - kProblemsShown) + " more)\n";
        ADD_FAILURE() << "program seed " << seed << " (gen::generate(seed, analysisShape())), analysed with a "
                      << kTimeoutMs << " ms timeout:\n"
                      << shown << "findings:\n"
                      << describe(findings) << gen::listing(program.texts);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::string codes;
    for (const auto& [code, n] : t.found) codes += " " + code + " " + std::to_string(n);
    std::string unknowns;
    for (const auto& [code, n] : t.unknown) unknowns += " " + code + " " + std::to_string(n);
    std::printf(
        "[ analysis ] %zu programs in %.1f s (%.1f s in analyze()): findings%s; unknown%s; %zu witnesses confirmed by "
        "the bundle; %zu requests, %zu permit-forbid overlaps, %zu approval overlaps, %zu requests under a proof\n",
        t.programs, seconds, t.analysisSeconds, codes.c_str(), unknowns.empty() ? " none" : unknowns.c_str(),
        t.witnesses, t.requests, t.overlaps, t.approvalOverlaps, t.proofHits);
    // The run must exercise every kind of claim, or a change to the generator could leave the test checking nothing.
    if (count >= kPrograms) {
        for (const char* code : {"A0101", "A0102", "A0103", "A0104", "A0105", "A0106", "A0201", "A0202"})
            EXPECT_GT(t.found[code], 10u) << code << " is rarely found on generated programs";
        EXPECT_GT(t.overlaps, 1000u);
        EXPECT_GT(t.approvalOverlaps, 100u);
        EXPECT_GT(t.proofHits, 1000u);
    }
}

TEST(AnalysisGen, ConflictBetweenPrincipals) {
    auto c = compile({R"(policy ops version 1 by principal "tenant:ops";
agent crawler {}
agent indexer {}
tool web.get(url: string);
permit tool web.get by agent crawler when args.url startswith "https://";
)",
                      R"(policy sec version 1 by principal "vendor:security" governs tool web.*;
forbid tool web.get when args.url like "*.evil.example/*";
)"});
    ASSERT_TRUE(c->engine) << c->error;
    const std::vector<analysis::Finding> findings = analysis::analyze(*c->ev);
    ASSERT_EQ(summaries(findings), std::vector<std::string>{"A0101 ops:5 sec:2"});
    const analysis::Finding& f = findings[0];
    EXPECT_EQ(f.rules[0]->principal, "tenant:ops");
    EXPECT_EQ(f.rules[1]->principal, "vendor:security");
    EXPECT_NE(f.message.find("tenant:ops"), std::string::npos) << f.message;
    EXPECT_NE(f.message.find("vendor:security"), std::string::npos) << f.message;
    EXPECT_NE(f.message.find("between principals"), std::string::npos) << f.message;
    EXPECT_EQ(confirm(*c, f), "") << f.witness;
}

TEST(AnalysisGen, RateLimitsBesideForbids) {
    auto c = compile({R"(policy rl version 1 by principal "operator";
agent a {}
tool api.call(n: int);
tool api.batch(n: int);
permit tool api.call when args.n < 100 limit 5 per minute;
forbid tool api.call when args.n > 50;
permit tool api.batch by agent a;
forbid tool api.batch limit 10 per minute;
assert never deny tool api.batch by agent a;
assert never permit tool api.call when args.n > 50;
)"});
    ASSERT_TRUE(c->engine) << c->error;
    const std::vector<analysis::Finding> findings = analysis::analyze(*c->ev);
    const std::vector<std::string> want = {
        "A0101 rl:5 rl:6",  // 51 to 99, below the permit's limit
        "A0106 rl:7 rl:8",  // capped: from the tenth request in a minute on, the forbid wins
        "A0201 line 9",     // ... is denied
        "A0202 line 10",    // above 50 the forbid matches whatever the counters say
    };
    // Neither permit is shadowed: rl:5 takes effect up to 50, rl:7 below the forbid's limit.
    ASSERT_EQ(summaries(findings), want);
    for (const analysis::Finding& f : findings) {
        if (!f.witness.empty()) {
            EXPECT_EQ(confirm(*c, f), "") << f.message << "\n" << f.witness;
        }
    }
    // The witnesses state the counters their findings need: rl:5 below its limit, rl:8 at or above its own.
    auto counts = [&](const analysis::Finding& f) {
        eval::State state;
        std::string error;
        EXPECT_TRUE(eval::requestFromJson(f.witness, c->checked->model, state, error)) << error;
        return state.counts;
    };
    EXPECT_LT(counts(findings[0])["rl:5"], 5) << findings[0].witness;
    EXPECT_GE(counts(findings[1])["rl:8"], 10) << findings[1].witness;
    EXPECT_GE(counts(findings[2])["rl:8"], 10) << findings[2].witness;
}

// Corners of the encoding that generated programs found wrong: each line was once a false proof (a rule called dead,
// an assertion called proved) or a solver failure.
TEST(AnalysisGen, EncodingCorners) {
    auto c = compile({R"(policy p version 1 by principal "p";
label Public;
agent erin { owner "ops"; }
tool t();
data notes { path "/n/**"; region "eu"; label Public; }
permit net.connect when request.region == "a\tb";
forbid net.connect when request.region == "é";
permit gpu.alloc when agent.name in session.approvals;
permit read notes when data.region in request.consent;
permit send when message.label in {};
permit tool t when session.approvals != {"x"};
assert never permit tool t when "lead" in session.approvals;
assert never permit tool t when "lead" in request.consent;
)"});
    ASSERT_TRUE(c->engine) << c->error;
    const std::vector<analysis::Finding> findings = analysis::analyze(*c->ev);
    const std::vector<std::string> want = {
        // Lines 6 and 7 are live: a request string may hold a tab, and any character a literal has (Z3 once read
        // the UTF-8 bytes of "é" as invalid characters, which made every formula with it unsatisfiable).
        // Lines 8 and 9 are live: a set may hold what a declaration says (an agent's name, a data region).
        "A0103 p:10",     // a label in `{}` is never true (the empty set once had string elements: a sort error)
        "A0201 line 12",  // "lead", a literal of an assertion only, may be in session.approvals
        "A0201 line 13",  // request.consent, a field only an assertion reads, is a set like any other
    };
    EXPECT_EQ(summaries(findings), want) << describe(findings);
    for (const analysis::Finding& f : findings) {
        if (!f.witness.empty()) {
            EXPECT_EQ(confirm(*c, f), "") << f.message << "\n" << f.witness;
        }
    }
}

}  // namespace
