// Random well-typed Omega programs and random requests for them, for differential and property testing: every
// program the generator writes must check with zero errors, and every request it writes must decode. Everything is
// a pure function of an explicit 64-bit seed (std::mt19937_64, never std::random_device, and no standard
// distributions, whose output differs between standard libraries), so a failure is reproduced by its seed alone.
//
// Alongside the texts the generator keeps what it knows about the program (declarations, rules, conditions as
// typed trees), and `expectedDecision` decides a request against that knowledge with its own implementation of
// docs/language.md sections 8 and 10. It shares nothing with sema or the reference evaluator but the request schema
// table (sema/Schema.h) and the decoded eval::Request, so it is a second opinion on both.
#pragma once

#include "omega/ast/Ast.h"
#include "omega/eval/Evaluator.h"
#include "omega/sema/Sema.h"
#include "omega/source/Diagnostic.h"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace omega::gen {

// A count or seed from the environment (OMEGA_GEN_PROGRAMS and the like, which the sanitizer stage of
// scripts/test.sh lowers): `fallback` when the variable is unset or empty.
inline std::uint64_t envNumber(const char* name, std::uint64_t fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

// The size of a generated program. Counts are upper bounds; each program draws its own, at least what the rules
// need (two labels, two agents, one tool, one data resource).
struct PolicyShape {
    int modules = 3;  // 1: one unscoped module; 2 and 3 add modules of other principals, usually with `governs`
    int labels = 6;
    int attributes = 6;
    int agents = 4;
    int groups = 2;
    int tools = 6;
    int data = 3;
    int kernelSets = 2;
    int namedSets = 3;
    int rules = 18;  // permit and forbid rules, over all modules
    int obligationRules = 3;
    int assertions = 2;
    int maxDepth = 3;       // nesting of and / or / not in a condition
    bool comments = true;   // comments, blank lines and rules broken over lines (layout only)
    bool keywords = true;   // keywords where names are allowed (`args.to`, `tool data.export`, `agent.limit`)
    bool consent = true;    // `require consent` in scoped modules
    bool emptySets = true;  // `{}` as attribute values, named sets and in conditions

    // Constructs that once exposed compiler bugs (fixed; regressions in GenRegressions, tests/unit/GenTest.cpp).
    // `{}` and a named set `= {}` ordered against a label (sema once rejected it with E0402).
    bool emptySetAgainstLabel = true;
    // A set<label> agent attribute written `{}` (the evaluator once read it as a set of strings).
    bool emptyLabelSetAttributes = true;
    // `owner "";` and `region "";` (sema once stored "" for "not declared", so they read as absent).
    bool emptyDeclaredStrings = true;
};

// What the request generator draws from. Probabilities are per field.
struct RequestShape {
    double present = 0.5;      // a supplied scalar field (request.purpose, net.port, ...) is given
    double setPresent = 0.4;   // a supplied set field (session.taint, request.consent, ...) is given
    double counts = 0.5;       // rate-limit counters are given for the rate-limited rules of the action
    double unitStrings = 0.3;  // sizes and durations written as "1 KiB" rather than an integer
};

struct Knowledge;  // what the generator knows about a program (opaque)

// A generated program: one source text per module, module 0 first; every module is a root.
struct Program {
    std::uint64_t seed = 0;
    std::vector<std::string> texts;
    std::vector<std::string> moduleNames;  // parallel to texts
    std::shared_ptr<const Knowledge> knowledge;
};

Program generate(std::uint64_t seed, const PolicyShape& shape = {});
// The module texts of generate(seed, shape).
std::vector<std::string> randomProgram(std::uint64_t seed, const PolicyShape& shape = {});
// A one-module program: generate(seed, shape with modules = 1).
std::string randomPolicy(std::uint64_t seed, const PolicyShape& shape = {});

// A JSON request (docs/requests.md) for a checked program: an action that some rule is about, a declared target,
// agent and recipient, every tool argument of its type, supplied fields each present or absent, sometimes
// session.taint and rate-limit counters. Values are drawn from the generator's pools and from the literals that
// the program's rules, sets and declarations mention, so requests often hit rules. Works for any checked program,
// not only generated ones.
std::string randomRequest(std::uint64_t seed, const sema::Model& model, const std::vector<ast::Module>& modules,
                          const RequestShape& shape = {});

// randomRequest for many requests of one program: gathers the program's literals once. generator(seed) ==
// randomRequest(seed, model, modules, shape). `model` and `modules` must outlive it.
class RequestGenerator {
public:
    RequestGenerator(const sema::Model& model, const std::vector<ast::Module>& modules, const RequestShape& shape = {});
    std::string operator()(std::uint64_t seed) const;

private:
    struct Impl;
    std::shared_ptr<const Impl> impl_;
};

// The decision the generator expects for a decoded request: allow or deny, the ids (`module:line`) of the deciding
// rules, the principals whose consent is missing, the obligations, and whether some deciding forbid matched only
// because of an absent value.
struct Expected {
    bool allow = false;
    std::set<std::string> rules;
    std::set<std::string> consentMissing;
    eval::Obligations obligations;
    bool forbidOnUnknown = false;
};
Expected expectedDecision(const Program& program, const eval::Request& request, const eval::State& state);
// Whether the field at `path` ("agent.role", "request.user", "args.x", "kernel") is absent in the request as the
// generator understands it.
bool expectedAbsent(const Program& program, const eval::Request& request, const std::string& path);
// Empty when the decision agrees with the expectation, otherwise what differs, for people.
std::string compare(const Expected& expected, const eval::Decision& actual);
std::string describe(const Expected& e);

// A module, under a principal of its own, whose line 2 + i forbids the action and target of requests[i]
// (`forbid tool NAME;`, `forbid send;`, ...): added to any program, it turns the decision on every one of the
// requests into a deny that names that line.
std::string forbidModule(const std::vector<eval::Request>& requests, const std::string& moduleName = "omega_meta");

// A module with one `test` block (language.md section 7) per request, named "r<index>", that describes the request
// (decoded against `model`): the same action, target, agent, recipient, arguments and supplied fields. Tests start
// with empty rate-limit counters, so a request's state has no counterpart. TestRunner's requestOf() of each block
// must decide like its request. `emptyLabelSetArgs` includes requests with an empty set<label> argument (which
// requestOf once read as a set of strings; GenRegressions.EmptyLabelSetArgument).
std::string testModule(const std::vector<eval::Request>& requests, const sema::Model& model,
                       const std::string& moduleName = "omega_test", bool emptyLabelSetArgs = true);

// Parses and checks module texts held in memory, each its own root file named `<index>.omega`.
struct Checked {
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    std::vector<ast::Module> modules;
    sema::Model model;
    bool parsed = false;
    bool ok() const { return parsed && !diags.hasErrors(); }
    std::string report() const;  // every diagnostic, rendered for people
};
std::unique_ptr<Checked> check(const std::vector<std::string>& texts);
// Parses each text as module "<i>.omega" into `c` and, when all parse, checks them together as roots.
void checkInto(Checked& c, const std::vector<std::string>& texts);

// All module texts with `// ---- module N ----` separators and line numbers, for failure messages.
std::string listing(const std::vector<std::string>& texts);

// splitmix64: derives independent seeds (a request's seed from its program's seed and its index).
std::uint64_t mix(std::uint64_t a, std::uint64_t b = 0);

}  // namespace omega::gen
