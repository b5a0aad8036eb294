// Canonical text for modules (omegac fmt) and a span-free structural dump used to prove that formatting keeps
// meaning: dump(parse(format(m))) == dump(m).
#pragma once

#include "omega/ast/Ast.h"

#include <string>

namespace omega::ast {

// The canonical layout: 4-space indent, one item per line, rules broken before `when`, `limit` and `obligation`
// when longer than 100 columns, comments kept next to the item they precede or follow.
std::string format(const Module& module);

// Structural dump without spans or comments; equal dumps mean equal ASTs.
std::string dump(const Module& module);
std::string dump(const Expr& expr);

// A string literal as source text: quotes added, `"` `\` and control characters escaped.
std::string quoteString(const std::string& s);

// Expression text in canonical form with minimal parentheses.
std::string exprText(const Expr& expr);

}  // namespace omega::ast
