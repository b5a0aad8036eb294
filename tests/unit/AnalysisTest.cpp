// The analyser's findings are sound, checked against the compiled bundle: every witness, decoded by the runtime's
// JSON decoder and decided by the engine (the code path of `omegac eval --bundle`), shows exactly what its finding
// claims; rules called dead never match, and permits called shadowed never decide, on thousands of random requests.
// Plus golden findings on small hand-written policies with known conflicts.
#include "TestUtil.h"
#include "omega/analysis/Analysis.h"
#include "omega/codegen/CodeGen.h"
#include "omega/eval/Evaluator.h"
#include "omega/gen/Generate.h"
#include "omega/parse/Parser.h"
#include "omega/policy/Engine.h"
#include "omega/policy/Json.h"

#include "AnalysisProgram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

using namespace omega;

namespace {

using fixture::Program;

std::unique_ptr<Program> load(const std::vector<std::string>& files) {
    return fixture::loadProgram(files);
}

std::unique_ptr<Program> fromText(const std::string& text) {
    return fixture::programFromTexts({text});
}

std::uint32_t ruleIndex(const Program& p, const eval::RuleInfo* r) {
    return p.engine->ruleIndex(r->id);
}

// Decides a witness with the bundle's engine; returns what went wrong, or "" when the finding holds.
std::string confirm(const Program& p, const analysis::Finding& f) {
    policy::Request request;
    policy::Interned interned;
    policy::Scratch scratch;
    policy::Decision d;
    std::string error;
    if (!policy::decodeRequest(f.witness, p.engine->image(), request, error))
        return "the witness does not decode: " + error;
    if (!p.engine->intern(request, interned, error)) return "the witness does not intern: " + error;
    p.engine->decide(interned, scratch, d);
    if (!d.error.empty()) return "the engine failed: " + d.error;
    auto value = [&](const eval::RuleInfo* r) {
        std::uint8_t best = 0;
        for (auto [rule, v] : scratch.matches)
            if (rule == ruleIndex(p, r)) best = std::max<std::uint8_t>(best, v & 0x7F);
        return best;
    };
    if (f.code == "A0201") {
        const bool allowedClaim = f.message.find("is allowed") != std::string::npos;
        if (d.allow != allowedClaim) return std::string("the witness is ") + (d.allow ? "allowed" : "denied");
    }
    if (f.code == "A0105") {
        // Allowed, and every role either rule asks for is among the decision's approvers.
        if (!d.allow) return "the witness is denied";
        std::set<std::string> approvers;
        for (std::uint32_t id : d.approve) approvers.insert(p.engine->image().strings[id]);
        for (const eval::RuleInfo* r : f.rules)
            for (const ast::Obligation& o : *r->obligations)
                if (o.name.text == "approve")
                    for (const auto& role : o.args)
                        if (!approvers.count(role->text)) return "the decision does not ask " + role->text;
    }
    if (f.code == "A0101" || f.code == "A0106") {
        const eval::RuleInfo* permit = f.rules[0];
        const eval::RuleInfo* forbid = f.rules[1];
        if (d.allow) return "the witness is allowed";
        if (std::find(d.rules.begin(), d.rules.end(), ruleIndex(p, forbid)) == d.rules.end())
            return "the forbid does not decide the witness";
        if (value(permit) != 2) return "the permit's condition is not true on the witness";
        if (permit->rule->limit) {
            std::int64_t count = 0;
            for (const auto& [id, c] : request.counts)
                if (id == permit->id) count = c;
            if (count >= permit->rule->limit->count) return "the permit's rate limit is exhausted on the witness";
        }
    }
    return "";
}

void checkProgram(const Program& p, const std::string& name, std::size_t& witnesses) {
    ASSERT_TRUE(p.engine) << name << ": " << p.error;
    std::vector<analysis::Finding> findings = analysis::analyze(*p.ev);
    for (const analysis::Finding& f : findings) {
        EXPECT_FALSE(f.unknown) << name << ": " << f.message;
        if (f.witness.empty()) continue;
        ++witnesses;
        std::string problem = confirm(p, f);
        EXPECT_EQ(problem, "") << name << ": " << f.message << "\nwitness: " << f.witness;
    }
    // Dead rules never match and shadowed permits never decide, on random requests.
    std::set<std::uint32_t> dead, shadowed;
    std::map<std::uint32_t, std::set<std::uint32_t>> redundant;  // permit -> the permits that cover it
    for (const analysis::Finding& f : findings) {
        if (f.code == "A0103") dead.insert(ruleIndex(p, f.rules[0]));
        if (f.code == "A0102") shadowed.insert(ruleIndex(p, f.rules[0]));
        if (f.code == "A0104" && !f.unknown)
            for (std::size_t k = 1; k < f.rules.size(); ++k)
                redundant[ruleIndex(p, f.rules[0])].insert(ruleIndex(p, f.rules[k]));
    }
    gen::RequestGenerator requests(p.model, p.modules);
    policy::Interned interned;
    policy::Scratch scratch;
    policy::Decision d;
    policy::Request request;
    for (std::uint64_t i = 0; i < 2000; ++i) {
        std::string text = requests(gen::mix(i, 77)), error;
        if (!policy::decodeRequest(text, p.engine->image(), request, error) ||
            !p.engine->intern(request, interned, error))
            continue;
        p.engine->decide(interned, scratch, d);
        for (auto [rule, v] : scratch.matches) {
            const policy::Rule& r = p.engine->image().rules[rule];
            bool counts = r.kind == policy::Rule::Kind::Permit ? (v & 0x7F) == 2 : (v & 0x7F) >= 1;
            if (counts && dead.count(rule) && !r.limited)
                ADD_FAILURE() << name << ": dead rule " << p.engine->image().strings[r.id] << " matches " << text;
        }
        if (!d.allow) continue;
        for (std::uint32_t rule : d.rules) {
            auto it = redundant.find(rule);
            if (it == redundant.end()) continue;
            bool covered = std::any_of(d.rules.begin(), d.rules.end(),
                                       [&](std::uint32_t other) { return it->second.count(other) > 0; });
            EXPECT_TRUE(covered) << name << ": redundant permit "
                                 << p.engine->image().strings[p.engine->image().rules[rule].id] << " decides alone "
                                 << text;
        }
        for (std::uint32_t rule : d.rules) {
            EXPECT_FALSE(shadowed.count(rule))
                << name << ": shadowed permit " << p.engine->image().strings[p.engine->image().rules[rule].id]
                << " decides " << text;
        }
    }
}

TEST(Analysis, EveryWitnessOnTheExamplesIsConfirmedByTheBundle) {
    const std::string root = OMEGA_SOURCE_DIR;
    std::size_t witnesses = 0;
    for (const auto& dir : {"clinic", "finance", "gpu-research"}) {
        std::vector<std::string> files;
        for (const auto& entry : std::filesystem::directory_iterator(root + "/examples/" + dir))
            if (entry.path().extension() == ".omega") files.push_back(entry.path().string());
        std::sort(files.begin(), files.end());
        auto p = load(files);
        checkProgram(*p, dir, witnesses);
    }
    EXPECT_GT(witnesses, 10u);
}

TEST(Analysis, GoldenFindings) {
    auto p = fromText(R"(policy p version 1 by principal "tenant";
label Public < Internal < Secret;
agent a { }
agent b { }
tool web.get(url: string, tags: set<string>);
permit tool web.get by agent a when args.url like "https://*.example.com/*";
forbid tool web.get when args.url like "*/admin/*";
permit tool web.get by agent b when "x" in args.tags;
forbid tool web.get when args.tags <= {"x", "y"};
permit send when message.label <= Internal;
forbid send when message.label >= Internal;
permit net.connect when net.port > 10 and net.port < 5;
permit gpu.alloc by agent a;
forbid gpu.alloc;
)");
    ASSERT_TRUE(p->engine) << p->error;
    std::vector<analysis::Finding> findings = analysis::analyze(*p->ev);
    std::vector<std::string> got;
    for (const auto& f : findings) {
        std::string ids;
        for (const auto* r : f.rules) ids += " " + r->id;
        got.push_back(f.code + ids);
        if (!f.witness.empty()) {
            EXPECT_EQ(confirm(*p, f), "") << f.message << "\n" << f.witness;
        }
    }
    std::vector<std::string> want = {
        "A0101 p:6 p:7",    // overlapping globs: https://x.example.com/admin/
        "A0101 p:6 p:9",    // any url, and tags that are a subset of {"x", "y"} (the empty set is)
        "A0101 p:8 p:7",    // "x" in tags, and an admin url
        "A0101 p:8 p:9",    // membership against a subset: tags = {"x"}
        "A0101 p:10 p:11",  // label order: Internal is both <= and >= Internal
        "A0103 p:12",       // an empty integer range
        "A0101 p:13 p:14",  // a forbid without a condition against a permit ...
        "A0102 p:13 p:14",  // ... which therefore never takes effect
    };
    // Not shadowed: p:6 (a url without /admin/ and tags outside {"x","y"}), p:8 (tags {"x", "z"}), p:10 (Public).
    EXPECT_EQ(got, want);
}

TEST(Analysis, RedundantPermits) {
    auto p = fromText(R"(policy p version 1 by principal "t";
agent a {}
agent b {}
tool web.get(url: string);
permit tool web.get when args.url startswith "https://";
permit tool web.get by agent a when args.url startswith "https://docs.";
permit tool web.get by agent b when args.url == "http://x" obligation audit;
permit tool web.get when args.url like "http://*" obligation audit;
permit tool web.get by agent b when args.url == "http://y" obligation approve("lead");
)");
    ASSERT_TRUE(p->engine) << p->error;
    std::vector<std::string> got;
    for (const auto& f : analysis::analyze(*p->ev)) {
        std::string ids;
        for (const auto* r : f.rules) ids += " " + r->id;
        got.push_back(f.code + ids);
    }
    // p:6 is covered by p:5 (the notes list every candidate whose scope meets it); p:7 by p:8 alone (p:5 lacks its
    // audit); p:9 is not: no other permit carries its approval.
    std::vector<std::string> want = {"A0104 p:6 p:5 p:8", "A0104 p:7 p:8"};
    EXPECT_EQ(got, want);
}

TEST(Analysis, AssertionsAreProvedOrGetACounterexample) {
    auto p = fromText(R"(policy assert_demo version 1 by principal "operator";
agent a {}
agent b {}
tool bank.transfer(to: string, amount: int);
permit tool bank.transfer when args.amount <= 1000;
forbid tool bank.transfer by agent b when args.to like "*@evil.example";
assert never permit tool bank.transfer when args.amount > 10000;
assert never permit tool bank.transfer when args.amount > 500;
assert always deny tool bank.transfer by agent a when args.to == "mallory" and args.amount > 2000;
assert always permit tool bank.transfer when args.amount < 10;
assert never deny tool bank.transfer by agent a when args.amount < 10;
assert always deny tool bank.transfer by agent b when args.to like "x*@evil.example";
)");
    ASSERT_TRUE(p->engine) << p->error;
    std::vector<std::string> got;
    for (const auto& f : analysis::analyze(*p->ev)) {
        if (f.code.compare(0, 3, "A02") != 0) continue;
        got.push_back((f.unknown ? std::string("unknown") : f.code) + " " + std::to_string(f.span.begin.line));
        if (!f.witness.empty()) {
            EXPECT_EQ(confirm(*p, f), "") << f.message << "\n" << f.witness;
        }
    }
    std::vector<std::string> want = {
        "A0202 7",   // nothing above 1,000 is permitted
        "A0201 8",   // 501 is
        "A0202 9",   // > 2000 is never permitted at all
        "A0201 10",  // agent b may send to an evil address below 10
        "A0202 11",  // agent a below 10 is always permitted
    };
    // Line 12 holds (x...@evil.example is covered by the forbid's glob). Debian's Z3 4.8.12 answers this query with
    // a model that does not replay (a glob under negation), which the analyser reports as unknown, never as a
    // failure; a later Z3 proves it.
    ASSERT_EQ(got.size(), 6u);
    EXPECT_TRUE(got.back() == "A0202 12" || got.back() == "unknown 12") << got.back();
    got.pop_back();
    EXPECT_EQ(got, want);
}

}  // namespace
