// Names of AST enumerations and small helpers on nodes.
#include "omega/ast/Ast.h"

namespace omega::ast {

const char* typeName(TypeKind t) {
    switch (t) {
        case TypeKind::Error: return "<error>";
        case TypeKind::Bool: return "bool";
        case TypeKind::Int: return "int";
        case TypeKind::String: return "string";
        case TypeKind::Size: return "size";
        case TypeKind::Duration: return "duration";
        case TypeKind::Label: return "label";
        case TypeKind::Hash: return "hash";
        case TypeKind::StringSet: return "set<string>";
        case TypeKind::LabelSet: return "set<label>";
        case TypeKind::EmptySet: return "empty set";
        case TypeKind::Agent: return "agent";
        case TypeKind::Group: return "group";
        case TypeKind::KernelSet: return "kernel set";
        case TypeKind::Kernel: return "kernel";
    }
    return "<error>";
}

const char* binOpText(BinOp op) {
    switch (op) {
        case BinOp::Or: return "or";
        case BinOp::And: return "and";
        case BinOp::Eq: return "==";
        case BinOp::Ne: return "!=";
        case BinOp::Lt: return "<";
        case BinOp::Le: return "<=";
        case BinOp::Gt: return ">";
        case BinOp::Ge: return ">=";
        case BinOp::In: return "in";
        case BinOp::Like: return "like";
        case BinOp::StartsWith: return "startswith";
    }
    return "?";
}

const char* actionName(Action a) {
    switch (a) {
        case Action::Tool: return "tool";
        case Action::Read: return "read";
        case Action::Write: return "write";
        case Action::Send: return "send";
        case Action::GpuLaunch: return "gpu.launch";
        case Action::GpuAlloc: return "gpu.alloc";
        case Action::NetConnect: return "net.connect";
    }
    return "?";
}

std::string NamePattern::text() const {
    std::string out;
    for (const Ident& p : parts) {
        if (!out.empty()) out += '.';
        out += p.text;
    }
    if (wildcard) out += out.empty() ? "*" : ".*";
    return out;
}

Span spanOf(const Item& item) {
    return std::visit([](const auto& node) { return node.span; }, item);
}

}  // namespace omega::ast
