// Parse tree to AST (private to the parse library).
#pragma once

#include "OmegaParser.h"
#include "omega/ast/Ast.h"
#include "omega/source/Diagnostic.h"

#include <optional>
#include <vector>

namespace omega::parse {

std::optional<ast::Module> convertModule(OmegaParser::ModuleContext* tree, source::FileId file,
                                         std::vector<ast::Comment> comments, source::DiagnosticEngine& diags,
                                         const source::Limits& limits);

}  // namespace omega::parse
