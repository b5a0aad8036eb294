// Semantic checks over a whole program (all modules, all principals) and the model they produce: the label
// lattice, declarations by name, and a type on every expression. Later stages (IR, analysis, codegen) read the
// model; they never re-resolve names.
#pragma once

#include "omega/ast/Ast.h"
#include "omega/source/Diagnostic.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace omega::sema {

using ast::TypeKind;
using source::Span;

// The label lattice: a partial order given by `label a < b` chains. INVARIANT: acyclic (sema rejects cycles), and
// `leq` is its reflexive transitive closure.
struct Lattice {
    std::vector<std::string> names;
    std::map<std::string, int> index;
    std::vector<std::vector<bool>> leq;  // leq[a][b]: a <= b
    std::optional<int> find(const std::string& name) const;
    bool le(int a, int b) const { return leq[a][b]; }
};

struct Value {  // a declared literal: agent attribute, data property
    TypeKind type = TypeKind::Error;
    const ast::Expr* expr = nullptr;
};

struct AgentInfo {
    std::string name;
    Span span;
    std::optional<std::string> owner;
    std::optional<std::string> measurement;  // "sha384:<hex>"
    std::map<std::string, Value> attributes;
    std::size_t module = 0;
};

struct ParamInfo {
    std::string name;
    TypeKind type = TypeKind::Error;
    Span span;
};

struct ToolInfo {
    std::string name;  // dotted: server.tool
    Span span;
    std::vector<ParamInfo> params;
    std::optional<int> resultLabel;
    bool sink = false;
    bool privileged = false;
    std::string pin;  // "sha256:<hex>" or empty
    std::size_t module = 0;
    const ParamInfo* param(const std::string& n) const;
};

struct DataInfo {
    std::string name;
    Span span;
    std::vector<std::string> patterns;  // path or URI globs
    std::optional<int> label;
    std::optional<std::string> region;
    std::set<std::string> purposes;
    std::set<std::string> fields;
    std::optional<std::string> owner;
    std::size_t module = 0;
};

struct KernelSetInfo {
    std::string name;
    Span span;
    std::set<std::string> modules;   // "sha256:<hex>"
    std::vector<std::string> names;  // globs
    std::size_t module = 0;
};

struct SetInfo {
    std::string name;
    Span span;
    TypeKind type = TypeKind::StringSet;
    std::vector<std::string> values;
    std::size_t module = 0;
};

struct GroupInfo {
    std::string name;
    Span span;
    std::vector<std::string> members;
    std::size_t module = 0;
};

struct ModuleInfo {
    std::string name;
    std::int64_t version = 0;
    std::string principal;
    bool root = false;
};

struct Model {
    Lattice lattice;
    std::map<std::string, AgentInfo> agents;
    std::map<std::string, ToolInfo> tools;
    std::map<std::string, DataInfo> data;
    std::map<std::string, KernelSetInfo> kernels;
    std::map<std::string, SetInfo> sets;
    std::map<std::string, GroupInfo> groups;
    std::vector<ModuleInfo> modules;

    // Names matched by a target pattern, in name order.
    std::vector<const ToolInfo*> toolsMatching(const ast::NamePattern& p) const;
    std::vector<const DataInfo*> dataMatching(const ast::NamePattern& p) const;
};

// Checks every module; annotates expression types in place. Returns the model even when errors were reported
// (declarations that checked are in it); callers stop on diags.hasErrors().
Model check(std::vector<ast::Module>& modules, const std::vector<bool>& isRoot, source::DiagnosticEngine& diags);

// Unit tables, shared with the evaluator: bytes per size unit and nanoseconds per duration unit.
std::optional<std::int64_t> sizeUnit(const std::string& unit);
std::optional<std::int64_t> durationUnit(const std::string& unit);
// True when a name pattern covers a name (`*`, exact, or `prefix.*`).
bool patternMatches(const ast::NamePattern& p, const std::string& name);

}  // namespace omega::sema
