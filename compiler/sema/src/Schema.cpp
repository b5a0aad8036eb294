// The request schema as sema sees it: the shared runtime table (omega/schema/Schema.h) in AST types.
#include "omega/sema/Schema.h"

#include "omega/schema/Schema.h"

namespace omega::sema {

static_assert(static_cast<int>(ast::Action::NetConnect) == static_cast<int>(schema::Action::NetConnect) &&
                  static_cast<int>(ast::Action::Send) == static_cast<int>(schema::Action::Send),
              "ast::Action and schema::Action must list the actions in the same order");

namespace {

ast::TypeKind typeOf(schema::Type t) {
    switch (t) {
        case schema::Type::Bool: return ast::TypeKind::Bool;
        case schema::Type::Int: return ast::TypeKind::Int;
        case schema::Type::String: return ast::TypeKind::String;
        case schema::Type::Size: return ast::TypeKind::Size;
        case schema::Type::Duration: return ast::TypeKind::Duration;
        case schema::Type::Label: return ast::TypeKind::Label;
        case schema::Type::Hash: return ast::TypeKind::Hash;
        case schema::Type::StringSet: return ast::TypeKind::StringSet;
        case schema::Type::LabelSet: return ast::TypeKind::LabelSet;
        case schema::Type::Agent: return ast::TypeKind::Agent;
        case schema::Type::Kernel: return ast::TypeKind::Kernel;
    }
    return ast::TypeKind::Error;
}

}  // namespace

const std::vector<FieldDef>& requestSchema() {
    static const std::vector<FieldDef> table = [] {
        std::vector<FieldDef> out;
        for (const schema::Field& f : schema::fields())
            out.push_back({f.root, f.field, typeOf(f.type), f.actions, f.supplied});
        return out;
    }();
    return table;
}

const FieldDef* findField(std::string_view root, std::string_view field) {
    for (const FieldDef& f : requestSchema())
        if (f.root == root && f.field == field) return &f;
    return nullptr;
}

bool isRoot(std::string_view name) { return schema::isRoot(name); }

}  // namespace omega::sema
