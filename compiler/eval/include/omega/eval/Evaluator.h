// The reference evaluator: decides a request against a checked program by walking the typed AST, exactly as
// docs/language.md section 10 says. Written for clarity, not speed; the bytecode is tested against it.
#pragma once

#include "omega/ast/Ast.h"
#include "omega/sema/Sema.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace omega::eval {

// A request value. Sizes and durations are plain integers (bytes, nanoseconds); labels, hashes ("sha256:<hex>")
// and agents are strings of their kind.
struct Value {
    enum class Kind { Bool, Int, String, Label, Hash, Agent, StringSet, LabelSet };
    Kind kind = Kind::Bool;
    std::int64_t number = 0;      // Bool (0/1), Int
    std::string text;             // String, Label, Hash, Agent
    std::set<std::string> items;  // StringSet, LabelSet

    static Value boolean(bool b) { return {Kind::Bool, b ? 1 : 0, {}, {}}; }
    static Value integer(std::int64_t n) { return {Kind::Int, n, {}, {}}; }
    static Value string(std::string s) { return {Kind::String, 0, std::move(s), {}}; }
    static Value label(std::string s) { return {Kind::Label, 0, std::move(s), {}}; }
    friend bool operator==(const Value&, const Value&) = default;
};

// One request, before interning. Supplied fields are keyed "root.field" (request.purpose, session.taint,
// tool.server, kernel.module, ...); a key that is missing is absent (a missing set is empty).
struct Request {
    ast::Action action = ast::Action::Tool;
    std::string target;     // tool or data resource name (tool, read, write)
    std::string agent;      // the requesting agent (sender of a send)
    std::string recipient;  // send only
    std::map<std::string, Value> args;
    std::map<std::string, Value> fields;
};

// Monitor state the decision reads: rate-limit counters for this request's key, by rule id.
struct State {
    std::map<std::string, std::int64_t> counts;
};

// A rule of the program, as named in decisions: "<module>:<line>".
struct RuleInfo {
    std::string id;
    std::string principal;
    std::string module;
    enum class Kind { Permit, Forbid, Obligation } kind = Kind::Permit;
    source::Span span;
    const ast::Body* body = nullptr;
    const ast::Rule* rule = nullptr;  // permit and forbid
    const std::vector<ast::Obligation>* obligations = nullptr;
};

struct Obligations {
    bool audit = false;
    std::set<std::string> redact;
    std::set<std::string> approve;
    bool empty() const { return !audit && redact.empty() && approve.empty(); }
    friend bool operator==(const Obligations&, const Obligations&) = default;
};

struct Decision {
    bool allow = false;
    std::vector<const RuleInfo*> rules;       // the deciding rules (forbids on deny, permits on allow)
    std::vector<std::string> consentMissing;  // principals whose consent was required and not given
    std::vector<std::string> absent;          // fields whose absence made a deciding forbid match
    Obligations obligations;
    std::string reason;  // one line for people
};

class Evaluator {
public:
    // INVARIANT: `modules` checked without errors into `model`; both outlive the evaluator (it keeps pointers into
    // the modules' rules).
    Evaluator(const std::vector<ast::Module>& modules, const sema::Model& model);

    Decision decide(const Request& request, const State& state = {}) const;
    // Whether one rule matches (its body, its condition as its effect needs it, its rate limit): what decide()
    // tests for each rule. The analyser checks its witnesses with it.
    bool matches(const RuleInfo& rule, const Request& request, const State& state = {}) const;
    // Whether a request falls under an assertion's body: target, agents, condition true or unknown (language.md 6).
    bool bodyCovers(const ast::Body& body, const Request& request) const;
    const std::vector<RuleInfo>& rules() const { return rules_; }
    const sema::Model& model() const { return model_; }
    const std::vector<ast::Module>& modules() const { return modules_; }

    // `require consent for SCOPE;` of a principal: a request SCOPE covers needs a matching permit of that principal.
    struct Consent {
        std::string principal;
        const ast::ScopeItem* scope;
    };
    const std::vector<Consent>& consents() const { return consents_; }

    // The value of a literal expression (test arguments and assignments, agent attributes).
    std::optional<Value> literal(const ast::Expr& e) const;

private:
    const std::vector<ast::Module>& modules_;
    const sema::Model& model_;
    std::vector<RuleInfo> rules_;
    std::vector<Consent> consents_;
};

}  // namespace omega::eval
