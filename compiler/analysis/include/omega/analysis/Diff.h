// Comparing two programs over one symbolic request (docs/analysis.md section 5): `omegac diff OLD NEW` finds the
// requests one allows and the other denies, and `omegac lint --against PACK` the requests a policy allows that a
// compliance pack forbids. Agents, targets and labels are aligned by name, never by position.
#pragma once

#include "omega/analysis/Analysis.h"

#include <set>
#include <string>
#include <vector>

namespace omega::analysis {

// One class of requests decided differently: those of one action, agent, target and recipient that one program
// allows and the other denies, shown by one witness.
struct Difference {
    bool newAccess = true;  // allowed by NEW and denied by OLD; false: the reverse (lost access)
    ast::Action action{};
    std::string agent, target, recipient;  // the class ("" where the action has no target or recipient)
    bool unknown = false;  // the solver gave up, or its model did not hold up when replayed: nothing is claimed
    std::string message;   // one line for people
    std::string witness;   // a request both programs read (JSON, one line); empty when unknown
    std::vector<const eval::RuleInfo*> allowedBy;  // the allowing program's deciding permits
    std::vector<const eval::RuleInfo*> deniedBy;   // the denying program's deciding forbids (none: no permit
                                                   // matches, a consent is missing, or it rejects the request)
    std::string deniedBecause;                     // the denying program's reason
};

struct DiffOptions {
    unsigned timeoutMs = 10000;  // per solver query
    unsigned budgetMs = 0;       // for the whole comparison; 0: none. Work past it is reported as unknown
    std::size_t limit = 50;      // classes listed per direction; more set `truncated`
    unsigned jobs = 0;           // 1: one thread; otherwise the two directions run side by side
};

struct DiffResult {
    std::vector<Difference> differences;  // new access first; within a direction by action, then as found
    bool truncated = false;               // a direction has more classes than `limit` lists
    // Tools both programs declare with different parameters: a request to one is shaped for only one program
    // (the other's decoder rejects it), so every request to it that one program allows is a difference.
    std::vector<std::string> changedTools;
    std::size_t count(bool newAccess, bool unknown) const;
};

// INVARIANT: both evaluators outlive the result (differences point at their rules).
DiffResult diff(const eval::Evaluator& oldProgram, const eval::Evaluator& newProgram, const DiffOptions& options = {});

// Refinement against a compliance pack: every request `policy` allows that a forbid of the pack matches in
// `combined` (the policy with the pack's modules added as roots; `packModules` names them). One A0301 finding
// (error) per pack forbid and policy permit that allows what it forbids, located at the permit, with a witness the
// policy allows and the combined program denies by that forbid. A policy that already imports the pack has none.
// INVARIANT: both evaluators outlive the findings.
std::vector<Finding> refine(const eval::Evaluator& policy, const eval::Evaluator& combined,
                            const std::set<std::string>& packModules, const Options& options = {});

}  // namespace omega::analysis
