// Helpers shared by the unit tests: parse and check policy text held in memory.
#pragma once

#include "omega/ast/Ast.h"
#include "omega/gen/Generate.h"
#include "omega/parse/Parser.h"
#include "omega/sema/Sema.h"
#include "omega/source/Diagnostic.h"

#include <optional>
#include <string>
#include <vector>

namespace omega::test {

// A checked program (tests/support's), plus views of its diagnostics for assertions.
struct Checked : gen::Checked {
    std::vector<std::string> codes() const;  // sorted diagnostics' codes
    std::string first() const;               // "line:col code message" of the first diagnostic
};

// Parses one module from text.
std::optional<ast::Module> parseText(const std::string& text, source::SourceManager& sm,
                                     source::DiagnosticEngine& diags);
// Parses and checks one or more modules given as texts (each its own file, all roots).
std::unique_ptr<Checked> check(const std::vector<std::string>& texts);
inline std::unique_ptr<Checked> check(const std::string& text) {
    return check(std::vector<std::string>{text});
}

// A small valid header plus declarations that most tests build on.
extern const char* kPrelude;

}  // namespace omega::test
