// omegac diff and lint --against (compiler/analysis/src/Diff.cpp), checked against the compiled bundles: every
// difference's witness is allowed by one program's bundle and denied (or rejected) by the other's, every A0301
// witness is allowed by the policy's bundle and denied by the pack's forbid in the combined bundle; and, on
// generated programs with one rule removed, every random request the two programs decide differently falls in a
// class the diff reported (so "no new access" is not a false claim).
#include "omega/analysis/Diff.h"
#include "omega/codegen/CodeGen.h"
#include "omega/eval/Evaluator.h"
#include "omega/eval/Json.h"
#include "omega/gen/Generate.h"
#include "omega/parse/Parser.h"
#include "omega/policy/Engine.h"
#include "omega/policy/Json.h"

#include "AnalysisProgram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace omega;

namespace {

// Generated programs of RemovingARuleOfAGeneratedProgramIsFoundAndOnlyInItsDirection: OMEGA_DIFF_PROGRAMS, 120 by
// default (scripts/test.sh runs fewer under the sanitizers, where Z3 runs on ASan's allocator: 90% of the test).
std::size_t diffPrograms() {
    return gen::envNumber("OMEGA_DIFF_PROGRAMS", 120);
}

// A checked program with its reference evaluator and its compiled bundle's engine.
using fixture::Program;

std::unique_ptr<Program> load(const std::vector<std::string>& files) {
    return fixture::loadProgram(files);
}

std::unique_ptr<Program> fromTexts(const std::vector<std::string>& texts) {
    return fixture::programFromTexts(texts);
}

// The bundle's decision on a request: nullopt when its decoder or interner rejects the request (a deny at run
// time: the runtime fails closed).
std::optional<policy::Decision> bundleDecides(const Program& p, const std::string& json,
                                              std::vector<std::string>* ruleIds = nullptr) {
    policy::Request request;
    policy::Interned interned;
    policy::Scratch scratch;
    policy::Decision d;
    std::string error;
    if (!policy::decodeRequest(json, p.engine->image(), request, error) || !p.engine->intern(request, interned, error))
        return std::nullopt;
    p.engine->decide(interned, scratch, d);
    if (ruleIds)
        for (std::uint32_t r : d.rules) ruleIds->push_back(p.engine->image().strings[p.engine->image().rules[r].id]);
    return d;
}

// Every difference's witness, decided by both bundles, shows what it claims. Returns the number checked.
std::size_t confirmDifferences(const analysis::DiffResult& result, const Program& before, const Program& after,
                               const std::string& name) {
    std::size_t checked = 0;
    for (const analysis::Difference& d : result.differences) {
        if (d.unknown) continue;
        const Program& allowing = d.newAccess ? after : before;
        const Program& denying = d.newAccess ? before : after;
        auto yes = bundleDecides(allowing, d.witness);
        auto no = bundleDecides(denying, d.witness);
        EXPECT_TRUE(yes && yes->allow) << name << ": " << d.message << "\nwitness: " << d.witness;
        EXPECT_TRUE(!no || !no->allow) << name << ": " << d.message << "\nwitness: " << d.witness;
        // The class is the witness's action, agent and target.
        EXPECT_NE(d.witness.find("\"agent\":\"" + d.agent + "\""), std::string::npos) << d.witness;
        ++checked;
    }
    return checked;
}

std::string readText(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// A copy of an example directory with one textual replacement in one file.
std::vector<std::string> editedCopy(const std::string& example, const std::string& file, const std::string& from,
                                    const std::string& to, const std::string& where) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / where;
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(std::string(OMEGA_SOURCE_DIR) + "/examples/" + example)) {
        if (entry.path().extension() != ".omega") continue;
        std::string text = readText(entry.path().string());
        if (entry.path().filename() == file) {
            const std::size_t at = text.find(from);
            EXPECT_NE(at, std::string::npos) << from;
            if (at != std::string::npos) text.replace(at, from.size(), to);
        }
        const fs::path out = dir / entry.path().filename();
        std::ofstream(out) << text;
        files.push_back(out.string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<std::string> exampleFiles(const std::string& example) {
    std::vector<std::string> files;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::string(OMEGA_SOURCE_DIR) + "/examples/" + example))
        if (entry.path().extension() == ".omega") files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    return files;
}

TEST(Diff, AProgramAgainstItselfHasNoDifference) {
    for (const char* example : {"clinic", "finance", "gpu-research"}) {
        auto a = load(exampleFiles(example));
        auto b = load(exampleFiles(example));
        ASSERT_TRUE(a->ok() && b->ok()) << example << ": " << a->error << b->error;
        const analysis::DiffResult r = analysis::diff(*a->ev, *b->ev);
        EXPECT_TRUE(r.differences.empty()) << example << ": " << r.differences.front().message;
    }
}

TEST(Diff, ANewAgentInAGroupIsNewAccessAndTheOldProgramRejectsIt) {
    auto before = load(exampleFiles("clinic"));
    auto after = load(editedCopy("clinic", "clinic.omega", "group clinical = {triage, scribe};",
                                 "group clinical = {triage, scribe, intern};\nagent intern { owner \"clinic\"; }",
                                 "omega-diff-intern"));
    ASSERT_TRUE(before->ok() && after->ok()) << before->error << after->error;
    const analysis::DiffResult r = analysis::diff(*before->ev, *after->ev);
    EXPECT_GE(r.count(true, false), 3u);
    EXPECT_EQ(r.count(false, false), 0u);  // the new line shifts rule ids: rate-limit counters still correspond
    EXPECT_EQ(r.count(true, true) + r.count(false, true), 0u);
    for (const analysis::Difference& d : r.differences) {
        EXPECT_EQ(d.agent, "intern") << d.message;
        EXPECT_NE(d.deniedBecause.find("unknown agent `intern`"), std::string::npos) << d.deniedBecause;
        ASSERT_FALSE(d.allowedBy.empty());
        EXPECT_EQ(d.allowedBy.front()->principal, "tenant:clinic.example");
    }
    EXPECT_EQ(confirmDifferences(r, *before, *after, "clinic+intern"), r.differences.size());
}

TEST(Diff, ANarrowedPermitIsLostAccessOnly) {
    auto before = load(exampleFiles("clinic"));
    auto after = load(editedCopy("clinic", "clinic.omega",
                                 "permit read clinic_charts by group clinical when request.purpose == \"treatment\";",
                                 "permit read clinic_charts by group clinical when request.purpose == \"treatment\" "
                                 "and request.user startswith \"dr-\";",
                                 "omega-diff-narrow"));
    ASSERT_TRUE(before->ok() && after->ok()) << before->error << after->error;
    const analysis::DiffResult r = analysis::diff(*before->ev, *after->ev);
    EXPECT_EQ(r.count(true, false), 0u);
    EXPECT_EQ(r.count(false, false), 2u);  // triage and scribe, reading clinic_charts
    for (const analysis::Difference& d : r.differences) {
        EXPECT_EQ(d.action, ast::Action::Read);
        EXPECT_EQ(d.target, "clinic_charts");
    }
    EXPECT_EQ(confirmDifferences(r, *before, *after, "clinic narrowed"), 2u);
}

TEST(Diff, ChangedParametersAndLabelsAreAlignedByName) {
    // OLD and NEW declare their agents, tools and labels in different orders; NEW changes a parameter's type and
    // adds a label between two of OLD's.
    auto before = fromTexts({R"(policy p version 1 by principal "t";
label Public < Internal < Secret;
agent a { }
agent b { }
tool kv.get(key: string, n: int);
tool kv.put(key: string) returns Internal;
permit tool kv.get by agent a when args.n < 10;
permit tool kv.put by agent b when session.taint <= Internal;
permit send from agent a to agent b when message.label <= Internal;
)"});
    auto after = fromTexts({R"(policy p version 2 by principal "t";
label Public < Internal < Restricted < Secret;
agent b { }
agent a { }
tool kv.put(key: string) returns Internal;
tool kv.get(key: string, n: string);
permit tool kv.get by agent a;
permit tool kv.put by agent b when session.taint <= Restricted;
permit send from agent a to agent b when message.label <= Internal;
)"});
    ASSERT_TRUE(before->ok() && after->ok()) << before->error << after->error;
    const analysis::DiffResult r = analysis::diff(*before->ev, *after->ev);
    EXPECT_EQ(r.changedTools, std::vector<std::string>{"kv.get"});
    // kv.get is a difference both ways (each program rejects the other's requests to it); kv.put by b is new
    // access only with a taint of Restricted, which OLD does not declare, so it is not a request both read; the
    // send rules are the same.
    std::set<std::string> found;
    for (const analysis::Difference& d : r.differences) {
        EXPECT_FALSE(d.unknown) << d.message;
        found.insert(std::string(d.newAccess ? "+" : "-") + ast::actionName(d.action) + " " + d.agent + " " + d.target);
    }
    EXPECT_EQ(found, (std::set<std::string>{"+tool a kv.get", "-tool a kv.get"}));
    EXPECT_EQ(confirmDifferences(r, *before, *after, "aligned"), r.differences.size());
}

TEST(Diff, RemovingARuleOfAGeneratedProgramIsFoundAndOnlyInItsDirection) {
    gen::PolicyShape shape;
    shape.modules = 2;
    shape.comments = false;  // one item per line: a rule is removed by removing its line
    shape.rules = 10;
    shape.assertions = 0;
    std::size_t programs = 0, witnesses = 0, differing = 0;
    const std::size_t wanted = diffPrograms();
    for (std::uint64_t seed = 1; programs < wanted && seed < 1000; ++seed) {
        std::vector<std::string> texts = gen::randomProgram(gen::mix(seed, 4242), shape);
        // The rule lines of the first module; remove one (blank it, or delete it so later ids move).
        std::vector<std::size_t> starts;
        for (std::size_t at = 0; at < texts[0].size();) {
            const std::size_t end = texts[0].find('\n', at);
            const std::string line = texts[0].substr(at, end - at);
            if (line.rfind("permit ", 0) == 0 || line.rfind("forbid ", 0) == 0) starts.push_back(at);
            if (end == std::string::npos) break;
            at = end + 1;
        }
        if (starts.empty()) continue;
        const std::size_t at = starts[gen::mix(seed) % starts.size()];
        const std::size_t end = texts[0].find('\n', at);
        const bool removedPermit = texts[0].compare(at, 7, "permit ") == 0;
        std::vector<std::string> edited = texts;
        edited[0].replace(at, end - at + (seed % 2), "");
        auto before = fromTexts(texts);
        auto after = fromTexts(edited);
        if (!before->ok() || !after->ok()) continue;  // a removal that leaves a test or name dangling
        ++programs;
        analysis::DiffOptions options;
        options.timeoutMs = 2000;
        options.limit = 1000;
        const analysis::DiffResult r = analysis::diff(*before->ev, *after->ev, options);
        const std::string name =
            "seed " + std::to_string(seed) + "\n" + gen::listing(texts) + "\nremoved: " + texts[0].substr(at, end - at);
        // Without a permit nothing more is allowed (consent only gets harder); without a forbid nothing less.
        EXPECT_EQ(r.count(removedPermit, false), 0u) << name;
        witnesses += confirmDifferences(r, *before, *after, name);
        // Completeness: a random request decided differently falls in a reported class of its direction.
        std::set<std::string> classes;
        bool unknownNew = false, unknownLost = false;
        for (const analysis::Difference& d : r.differences) {
            if (d.unknown) (d.newAccess ? unknownNew : unknownLost) = true;
            classes.insert(std::string(d.newAccess ? "+" : "-") + ast::actionName(d.action) + "|" + d.agent + "|" +
                           d.target + "|" + d.recipient);
        }
        gen::RequestGenerator requests(before->model, before->modules);
        for (std::uint64_t i = 0; i < 300; ++i) {
            const std::string text = requests(gen::mix(seed, i));
            eval::State s1, s2;
            std::string e1, e2;
            auto q1 = eval::requestFromJson(text, before->model, s1, e1);
            auto q2 = eval::requestFromJson(text, after->model, s2, e2);
            if (!q1 || !q2) continue;
            const bool a1 = before->ev->decide(*q1, s1).allow, a2 = after->ev->decide(*q2, s2).allow;
            if (a1 == a2) continue;
            ++differing;
            if ((a2 && unknownNew) || (a1 && unknownLost) || r.truncated) continue;
            const std::string key = std::string(a2 ? "+" : "-") + ast::actionName(q1->action) + "|" + q1->agent + "|" +
                                    q1->target + "|" + q1->recipient;
            // Rate-limit counters are keyed by rule id; with ids moved, a request's counters mean different rules.
            if (seed % 2 && text.find("\"counts\"") != std::string::npos) continue;
            EXPECT_TRUE(classes.count(key)) << name << "\nnot reported: " << key << "\nrequest: " << text;
        }
    }
    // In proportion to the programs asked for: 100, 50 and 50 at the default 120.
    EXPECT_GE(programs, wanted * 5 / 6);
    EXPECT_GT(witnesses, wanted * 5 / 12);
    EXPECT_GT(differing, wanted * 5 / 12);
}

TEST(Refine, EveryRequestThePolicyAllowsAndThePackForbidsIsFoundAndConfirmed) {
    auto policy = load(exampleFiles("gpu-research"));
    std::vector<std::string> files = exampleFiles("gpu-research");
    files.push_back(std::string(OMEGA_SOURCE_DIR) + "/stdlib-policies/hipaa/hipaa.omega");
    auto combined = load(files);
    ASSERT_TRUE(policy->ok() && combined->ok()) << policy->error << combined->error;
    const std::vector<analysis::Finding> findings = analysis::refine(*policy->ev, *combined->ev, {"hipaa"});
    std::size_t confirmed = 0;
    for (const analysis::Finding& f : findings) {
        ASSERT_EQ(f.code, "A0301");
        EXPECT_FALSE(f.unknown) << f.message;
        if (f.witness.empty()) continue;
        ASSERT_EQ(f.rules.size(), 2u);
        EXPECT_EQ(f.rules[1]->module, "hipaa");
        auto mine = bundleDecides(*policy, f.witness);
        std::vector<std::string> deciding;
        auto theirs = bundleDecides(*combined, f.witness, &deciding);
        EXPECT_TRUE(mine && mine->allow) << f.message << "\n" << f.witness;
        EXPECT_TRUE(theirs && !theirs->allow) << f.message << "\n" << f.witness;
        EXPECT_NE(std::find(deciding.begin(), deciding.end(), f.rules[1]->id), deciding.end()) << f.witness;
        ++confirmed;
    }
    EXPECT_GE(confirmed, 4u);
}

TEST(Refine, APolicyThatImportsThePackRefinesIt) {
    // The clinic imports hipaa: adding it again changes nothing, so nothing is reported.
    auto policy = load(exampleFiles("clinic"));
    std::vector<std::string> files = exampleFiles("clinic");
    files.push_back(std::string(OMEGA_SOURCE_DIR) + "/stdlib-policies/hipaa/hipaa.omega");
    auto combined = load(files);
    ASSERT_TRUE(policy->ok() && combined->ok());
    EXPECT_TRUE(analysis::refine(*policy->ev, *combined->ev, {}).empty());
}

}  // namespace
