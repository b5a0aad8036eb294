// The analyser: proves things about a checked program with Z3 (docs/analysis.md). Each rule becomes a formula over
// a symbolic request of its action; a finding is a satisfiable (or unsatisfiable) combination of them, and every
// satisfiable one carries a witness: a concrete request in the JSON of docs/requests.md that `omegac eval` reads.
#pragma once

#include "omega/ast/Ast.h"
#include "omega/eval/Evaluator.h"
#include "omega/sema/Sema.h"

#include <string>
#include <vector>

namespace omega::analysis {

enum class Severity { Note, Warning, Error };
const char* severityName(Severity s);

struct Finding {
    // Stable codes: A0101 conflict, A0102 shadowed permit, A0103 dead rule, A0104 redundant permit, A0105
    // obligations disagree (two approver roles on one allowed request), A0106 permit capped by a rate limit (a
    // conflict with a rate-limited forbid; a note), A0201 assertion fails, A0202 assertion holds (proved).
    std::string code;
    Severity severity = Severity::Warning;
    std::string message;
    source::Span span;                         // where it is reported: the first rule, or the assertion
    std::vector<const eval::RuleInfo*> rules;  // the rules involved (none for an assertion that holds)
    bool unknown = false;                      // the solver gave up (time limit): nothing is claimed either way
    std::string witness;  // a request (JSON, one line) that shows it; empty for proofs and unknowns
};

struct Options {
    unsigned timeoutMs = 10000;  // per solver query; a query that runs out is reported as unknown
    // For the whole analysis, in milliseconds; 0: no limit. No query runs past it; once it is spent, the checks not
    // yet run are reported as unknown: one note per action and kind of check saying how many were skipped, one per
    // assertion.
    unsigned budgetMs = 0;
    // Threads, each with Z3 contexts of its own; 0: one per core, at most 8. The findings do not depend on it (only
    // time limits can make them differ from run to run).
    unsigned jobs = 0;
};

// INVARIANT: `ev` was built over the checked `modules` and `model` and outlives the result (findings point at its
// rules). Findings come in rule order, then assertions in source order, then the notes on skipped checks. Never
// throws: a solver failure is an unknown.
std::vector<Finding> analyze(const eval::Evaluator& ev, const Options& options = {});

}  // namespace omega::analysis
