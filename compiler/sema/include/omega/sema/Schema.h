// The request schema in AST types: which fields a condition may read for each action, their types, and which ones
// the enforcement point supplies. A view of the one table in runtime/schema, which also gives context slots.
#pragma once

#include "omega/ast/Ast.h"

#include <string_view>
#include <vector>

namespace omega::sema {

// Bit per ast::Action.
using ActionMask = unsigned;
constexpr ActionMask bit(ast::Action a) {
    return 1u << static_cast<unsigned>(a);
}
inline constexpr ActionMask kAnyAction = 0x7f;

struct FieldDef {
    std::string_view root;   // request, session, args (dynamic), data, tool, message, kernel, gpu, net, ...
    std::string_view field;  // empty for the root itself (agent, recipient, kernel)
    ast::TypeKind type;
    ActionMask actions;  // actions whose requests carry this field
    bool supplied;       // part of the request (assignable in tests) rather than derived from declarations
};

const std::vector<FieldDef>& requestSchema();
const FieldDef* findField(std::string_view root, std::string_view field);
bool isRoot(std::string_view name);

}  // namespace omega::sema
