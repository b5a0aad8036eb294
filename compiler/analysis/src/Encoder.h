// Private: the symbolic request of one action and the encoding of rules over it (docs/analysis.md).
//
// A request is: the target (an index into the declared tools or data resources), the agent and recipient (indices
// into the agents), and per supplied field and tool argument a presence bit and a value: Z3 strings (over printable
// ASCII) for strings, Z3 integers bounded to 64 bits for ints, sizes and durations, integers below the lattice size
// for labels, a choice among the policy's hash literals and one fresh hash for hashes, and membership bits over a
// finite universe for sets (the policy's string literals plus two fresh strings; the declared labels). Derived
// facts (agent.owner, tool.label, data.purpose, ...) are functions of the indices. A condition is encoded in three
// values as a pair (true, false): unknown is neither.
//
// Two programs can read one symbolic request (omegac diff, lint --against): each gets an Encoder over the same
// Z3 context and the same Space, the union of both programs' names, so indices mean the same agent, target and
// label in both, and a variable (named after its field and type) is the same Z3 constant in both.
#pragma once

#include "omega/eval/Evaluator.h"
#include "omega/sema/Sema.h"

#include <z3++.h>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace omega::analysis {

// What the indices of a symbolic request mean, and the finite universes its values come from.
struct Space {
    std::vector<std::string> agents, targets;  // by index; targets are tools (tool) or data resources (read, write)
    std::vector<std::string> labels;           // every program's labels, in first-seen order
    std::vector<bool> commonLabels;       // parallel to labels: declared by every program (requests use only these)
    std::vector<std::string> characters;  // beyond printable ASCII, the characters strings may hold (UTF-8)
    std::vector<std::string> universe;    // string universe for sets: every literal, plus two fresh strings
    std::vector<std::string> hashes;      // hash literals, plus one fresh hash

    // The space of an action for one or more programs (names of all of them, by first appearance).
    static Space of(ast::Action action, const std::vector<const eval::Evaluator*>& programs);
};

class Encoder {
    using TypeKind = ast::TypeKind;

public:
    Encoder(z3::context& ctx, const eval::Evaluator& ev, ast::Action action);
    // Over a shared space. `hiddenTargets`: declared targets this program must treat as foreign (a tool whose
    // parameters differ between two programs: a request shaped for the other program is one this one rejects).
    Encoder(z3::context& ctx, const eval::Evaluator& ev, ast::Action action, Space space,
            const std::set<std::string>& hiddenTargets = {});

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
    // The program allows the request (language.md 10): it accepts the request (accepts()), no forbid matches, every
    // consent that covers it is given by a matching permit of its principal, and some permit matches. `rules`:
    // every rule of this action.
    z3::expr allowed(const std::vector<const eval::RuleInfo*>& rules);
    // The program's decoder accepts the request: its agent, recipient and target are declared here (always true
    // over a program's own space).
    z3::expr accepts();
    // A concrete request from a model of domain() and the queried formulas: JSON, one line. `other`: an encoder
    // of another program over the same space whose variables the request must also carry.
    std::string witness(const z3::model& m, const Encoder* other = nullptr);
    // What a readable witness looks like, as formulas to keep where the query allows: supplied sets empty,
    // supplied fields absent, counters at zero (Query.h, readableModel).
    std::vector<z3::expr> preferences() const;
    // The Z3 names of rate-limit counters, by rule id (by default "count:<id>"): two programs over one space share
    // a counter by giving it one name. Set before encoding.
    void nameCounters(std::map<std::string, std::string> names) { counterNames_ = std::move(names); }
    // The agent, target and recipient of a model, by name ("" where the action has none).
    std::string agentOf(const z3::model& m) const;
    std::string targetOf(const z3::model& m) const;
    std::string recipientOf(const z3::model& m) const;
    // The request has this agent, target and recipient (those the action has).
    z3::expr is(const std::string& agent, const std::string& target, const std::string& recipient) const;

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
    struct Fact {
        std::optional<z3::expr> scalar;              // a value of the fact's type
        std::optional<std::set<std::string>> items;  // or a set's items
    };
    Val choice(const z3::expr& idx, std::size_t n, TypeKind type,
               const std::function<std::optional<Fact>(std::size_t)>& at);
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
    z3::expr stringVal(const std::string& s);  // UTF-8 bytes, unescaped
    z3::expr oneCharacter();
    z3::expr noString();  // the empty language
    z3::expr labelVal(int ownIndex) { return ctx_.int_val(labelOf_.at(static_cast<std::size_t>(ownIndex))); }
    int labelIndex(const std::string& name) const;  // in the space
    z3::expr knownIndex(const z3::expr& idx, const std::vector<bool>& known) const;
    const sema::AgentInfo* agentAt(std::size_t i) const;

    z3::context& ctx_;
    const eval::Evaluator& ev_;
    const sema::Model& model_;
    ast::Action action_;
    z3::expr target_, agent_, recipient_;
    std::vector<z3::expr> domain_;
    std::vector<std::string> agents_, targets_;     // names by index (Space)
    std::vector<bool> knownAgents_, knownTargets_;  // declared by this program (and not hidden)
    std::vector<std::string> labels_;               // label names by index (Space)
    std::vector<bool> commonLabels_;
    std::vector<int> labelOf_;             // this program's lattice index -> space index
    std::vector<int> ownLabel_;            // space index -> this program's lattice index, or -1
    std::vector<std::string> characters_;  // Space::characters
    std::optional<z3::expr> oneCharacter_;
    std::vector<std::string> universe_;       // string universe for sets
    std::vector<std::string> hashes_;         // hash literals, plus one fresh
    std::map<std::string, Var> vars_;         // supplied fields ("request.purpose") and args ("args.amount")
    std::map<std::string, z3::expr> counts_;  // rate-limit counters by rule id
    std::map<std::string, std::string> counterNames_;
};

}  // namespace omega::analysis
