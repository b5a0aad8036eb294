// Private: the symbolic request of one action and the encoding of rules over it (docs/analysis.md).
//
// A request is: the target (an index into the declared tools or data resources), the agent and recipient (indices
// into the agents), and per supplied field and tool argument a presence bit and a value: Z3 strings (over printable
// ASCII) for strings, Z3 integers bounded to 64 bits for ints, sizes and durations, integers below the lattice size
// for labels, a choice among the policy's hash literals and one fresh hash for hashes, and membership bits over a
// finite universe for sets (the policy's string literals plus two fresh strings; the declared labels). Derived
// facts (agent.owner, tool.label, data.purpose, ...) are functions of the indices. A condition is encoded in three
// values as a pair (true, false): unknown is neither.
#pragma once

#include "omega/eval/Evaluator.h"
#include "omega/sema/Sema.h"

#include <z3++.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace omega::analysis {

class Encoder {
    using TypeKind = ast::TypeKind;

public:
    Encoder(z3::context& ctx, const eval::Evaluator& ev, ast::Action action);

    // The constraints every request of the action satisfies (declared agents and targets, bounds, universes).
    // Variables are made as rules mention them: take the domain after encoding the formulas of a query.
    z3::expr domain() const;
    // The rule matches the request: its action, target, subject and recipient, its condition (true for a permit,
    // true or unknown otherwise) and its rate limit (the counter below the limit for a permit, at or above it for a
    // forbid).
    z3::expr matches(const eval::RuleInfo& rule);
    // The targets and subjects a rule can apply to, without its condition (cheap pre-filter for pairing).
    z3::expr scope(const eval::RuleInfo& rule);
    // A request matches an assertion's body: its target, subject and recipient, and its condition true or unknown
    // (language.md 6).
    z3::expr assertionBody(const ast::Body& body);
    // The program allows the request (language.md 10): no forbid matches, every consent that covers it is given by
    // a matching permit of its principal, and some permit matches. `rules`: every rule of this action.
    z3::expr allowed(const std::vector<const eval::RuleInfo*>& rules);
    // A concrete request from a model of domain() and the queried formulas: JSON, one line.
    std::string witness(const z3::model& m);

private:
    struct Tri {
        z3::expr t, f;  // true, false; unknown is neither
    };
    // A value: present or not; a scalar, or a set as membership over the universe plus elements outside it.
    struct Val {
        enum class Kind { Int, Str, Bool, Set } kind = Kind::Int;
        z3::expr present;
        z3::expr v;                   // scalar value
        std::vector<z3::expr> mem;    // Set: membership of each universe element
        std::vector<z3::expr> extra;  // Set: elements given by request values (a set literal's paths)
        bool labels = false;          // Set: over the label universe
    };
    struct Var {
        TypeKind type;
        z3::expr present;
        z3::expr v;
        std::vector<z3::expr> mem;
    };
    Var& field(const std::string& key, TypeKind type);
    Var makeVar(const std::string& name, TypeKind type);
    Val fromVar(const Var& var, TypeKind type);
    Val path(const std::vector<ast::Ident>& p, TypeKind type);
    Val value(const ast::Expr& e);
    Val constSet(const std::vector<std::string>& items, bool labels);
    Val agentFact(const std::string& root, const std::string& field, TypeKind type);
    Tri cond(const ast::Expr& e);
    Tri compare(const ast::Expr& e);
    Tri known(const z3::expr& present, const z3::expr& holds);
    z3::expr member(const z3::expr& x, const Val& set);
    z3::expr subset(const Val& a, const Val& b);
    z3::expr labelLe(const z3::expr& a, const z3::expr& b);
    z3::expr glob(const z3::expr& s, const std::string& pattern);
    z3::expr agentIn(const z3::expr& agent, const std::optional<ast::AgentPattern>& p);
    z3::expr targetIn(const std::optional<ast::NamePattern>& p);
    z3::expr bodyScope(const ast::Body& body);
    z3::expr stringVal(const std::string& s) { return ctx_.string_val(s); }

    z3::context& ctx_;
    const eval::Evaluator& ev_;
    const sema::Model& model_;
    ast::Action action_;
    z3::expr target_, agent_, recipient_;
    std::vector<z3::expr> domain_;
    std::vector<std::string> agents_, targets_;  // names by index
    std::vector<std::string> universe_;          // string universe for sets
    std::vector<std::string> hashes_;            // hash literals, plus one fresh
    std::map<std::string, Var> vars_;            // supplied fields ("request.purpose") and args ("args.amount")
    std::map<std::string, z3::expr> counts_;     // rate-limit counters by rule id
};

}  // namespace omega::analysis
