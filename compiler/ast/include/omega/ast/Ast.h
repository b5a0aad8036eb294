// The Omega AST: one struct per construct, every node with its source span. Built by the parse library's converter,
// checked and annotated with types by sema, printed canonically by the printer (omegac fmt).
#pragma once

#include "omega/source/Source.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace omega::ast {

using source::Span;

struct Ident {
    std::string text;
    Span span;
};

// ---------------------------------------------------------------------------------------------------------------
// Types (filled in by sema on expressions; written by authors in tool parameters)

enum class TypeKind {
    Error,  // a type could not be determined; suppresses follow-on errors
    Bool,
    Int,
    String,
    Size,      // bytes
    Duration,  // nanoseconds
    Label,
    Hash,       // sha256/sha384 digest literal
    StringSet,  // set<string>
    LabelSet,   // set<label> (session.taint)
    EmptySet,   // `{}`: unifies with either set type
    Agent,
    Group,      // a named agent group
    KernelSet,  // a named GPU kernel set
    Kernel,     // the kernel of a gpu.launch request
};
const char* typeName(TypeKind t);

struct TypeRef {
    Ident name;                 // string, int, bool, duration, size, label, set
    std::optional<Ident> elem;  // for set<string>
    Span span;
};

// ---------------------------------------------------------------------------------------------------------------
// Expressions

enum class BinOp { Or, And, Eq, Ne, Lt, Le, Gt, Ge, In, Like, StartsWith };
const char* binOpText(BinOp op);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    enum class Kind { String, Int, Bool, Quantity, Hash, Path, Set, Not, Binary, Has };
    Kind kind = Kind::Bool;
    Span span;
    std::string text;         // String: decoded value; Hash: hex digits; Quantity: unit as written
    std::int64_t number = 0;  // Int and Quantity: the number as written; Bool: 0 or 1
    Ident algorithm;          // Hash: sha256 or sha384
    Span unitSpan;            // Quantity
    std::vector<Ident> path;  // Path: root then fields; Has: root then the field asked about
    BinOp op = BinOp::And;    // Binary
    // Set: elements; Not: one; Binary: two for comparisons, two or more for `and` / `or`.
    // INVARIANT: an `and` (`or`) node has no direct `and` (`or`) child that came from the same unparenthesised
    // chain: `a and b and c` is one node with three kids, `a and (b and c)` two nodes. Chains so cost no depth.
    std::vector<ExprPtr> kids;
    TypeKind type = TypeKind::Error;  // set by sema
};

// ---------------------------------------------------------------------------------------------------------------
// Patterns over targets and agents

// `*`, `ehr.read`, or `ehr.*`
struct NamePattern {
    std::vector<Ident> parts;  // empty for `*`
    bool wildcard = false;     // true for `*` and for a trailing `.*`
    Span span;
    bool any() const { return parts.empty() && wildcard; }
    std::string text() const;
};

struct AgentPattern {
    enum class Kind { Any, Named, List, Group };
    Kind kind = Kind::Any;
    std::vector<Ident> names;  // Named: one; List: several; Group: the group name
    Span span;
};

enum class Action { Tool, Read, Write, Send, GpuLaunch, GpuAlloc, NetConnect };
const char* actionName(Action a);
inline constexpr Action kAllActions[] = {Action::Tool,      Action::Read,     Action::Write,     Action::Send,
                                         Action::GpuLaunch, Action::GpuAlloc, Action::NetConnect};

struct Obligation {
    Ident name;  // audit, redact, approve
    std::vector<ExprPtr> args;
    bool hasParens = false;
    Span span;
};

struct RateLimit {
    std::int64_t count = 0;
    bool durationWindow = false;   // `30s` rather than a named window such as `minute`
    std::int64_t windowCount = 0;  // the number of a duration window
    Ident windowUnit;              // `minute`, or the unit of `30s`
    std::optional<Ident> key;      // `per agent`
    Span span;
};

// What a rule, an assertion or a test request is about.
struct Body {
    Action action = Action::Tool;
    Span actionSpan;
    std::optional<NamePattern> target;
    std::optional<AgentPattern> subject;
    bool subjectFrom = false;  // written `from` rather than `by`
    std::optional<AgentPattern> recipient;
    ExprPtr condition;  // may be null
};

// ---------------------------------------------------------------------------------------------------------------
// Items

struct Property {
    Ident key;
    ExprPtr value;
    Span span;
};

struct ScopeItem {
    enum class Kind { Tool, Data, Agent, Area };
    Kind kind = Kind::Tool;
    NamePattern pattern;  // Tool, Data, Agent
    Ident area;           // Area: gpu or net
    Span span;
};

struct Header {
    Ident name;
    std::int64_t version = 0;
    Span versionSpan;
    std::string principal;
    Span principalSpan;
    std::vector<ScopeItem> governs;
    Span span;
};

struct Import {
    std::string path;
    Span span;
};
struct LabelDecl {
    std::vector<Ident> chain;  // a < b < c
    Span span;
};
struct AttributeDecl {  // `attribute role: string;` types an agent attribute for every agent
    Ident name;
    TypeRef type;
    Span span;
};
struct AgentDecl {
    Ident name;
    std::vector<Property> props;
    Span span;
};
struct DataDecl {
    Ident name;
    std::vector<Property> props;
    Span span;
};
struct KernelsDecl {
    Ident name;
    std::vector<Property> props;
    Span span;
};
struct Param {
    Ident name;
    TypeRef type;
    Span span;
};
struct ToolMod {
    enum class Kind { Returns, Sink, Pin, Flag };
    Kind kind = Kind::Sink;
    Ident name;     // Returns: the label; Flag: the flag
    ExprPtr value;  // Pin: the hash
    Span span;
};
struct ToolDecl {
    NamePattern name;  // never a wildcard
    std::vector<Param> params;
    std::vector<ToolMod> mods;
    Span span;
};
struct SetDecl {
    Ident name;
    ExprPtr value;
    Span span;
};
struct GroupDecl {
    Ident name;
    std::vector<Ident> members;
    Span span;
};
struct ConsentDecl {
    ScopeItem target;
    Span span;
};
enum class Effect { Permit, Forbid };
struct Rule {
    Effect effect = Effect::Permit;
    Body body;
    std::optional<RateLimit> limit;
    std::vector<Obligation> obligations;
    Span span;
};
// `require audit for read * when ...;` adds obligations to every allowed request it matches; it never allows or
// denies on its own.
struct ObligationRule {
    std::vector<Obligation> obligations;
    Body body;
    Span span;
};
struct Assertion {
    bool never = true;          // never / always
    bool permitVerdict = true;  // permit / deny
    Body body;
    Span span;
};
struct TestAssign {
    std::vector<Ident> path;
    ExprPtr value;
    Span span;
};
struct TestArg {
    Ident name;
    ExprPtr value;
    Span span;
};
struct TestRequest {
    Body body;  // condition unused
    std::vector<TestArg> args;
    bool hasArgs = false;
    Span span;
};
struct TestExpect {
    bool allow = false;
    std::vector<Obligation> obligations;
    Span span;
};
using TestStmt = std::variant<TestAssign, TestRequest, TestExpect>;
struct TestBlock {
    std::string name;
    Span nameSpan;
    std::vector<TestStmt> stmts;
    Span span;
};

using Item = std::variant<Import, LabelDecl, AttributeDecl, AgentDecl, ToolDecl, DataDecl, KernelsDecl, SetDecl,
                          GroupDecl, ConsentDecl, ObligationRule, Rule, Assertion, TestBlock>;

struct Comment {
    std::string text;  // including `//` or `/* */`
    Span span;
    bool ownLine = true;  // nothing but whitespace before it on its line
};

struct Module {
    source::FileId file = source::kNoFile;
    Header header;
    std::vector<Item> items;
    std::vector<Comment> comments;  // in source order; kept by the printer
};

Span spanOf(const Item& item);

}  // namespace omega::ast
