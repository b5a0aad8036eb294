// Parsing: policy text to AST (one module), and a whole program (root files plus their imports).
// Never throws; every problem is a diagnostic with a location.
#pragma once

#include "omega/ast/Ast.h"
#include "omega/source/Diagnostic.h"

#include <optional>
#include <string>
#include <vector>

namespace omega::parse {

// Parses one source file already added to `sm`. Returns nothing when any error was reported.
std::optional<ast::Module> parseModule(const source::SourceManager& sm, source::FileId file,
                                       source::DiagnosticEngine& diags, const source::Limits& limits = {});

struct LoadOptions {
    std::vector<std::string> includeDirs;  // searched, in order, for imports not found beside the importer
    source::Limits limits;
};

// A program: the root modules named on the command line and everything they import, each module once.
struct Program {
    std::vector<ast::Module> modules;  // imports before importers; roots in the order given
    std::vector<bool> isRoot;          // parallel to modules
};

struct LoadResult {
    Program program;
    bool ioError = false;  // a root file could not be read (exit code 2 territory)
};

LoadResult loadProgram(const std::vector<std::string>& roots, const LoadOptions& options, source::SourceManager& sm,
                       source::DiagnosticEngine& diags);

// Reads a whole file; returns nothing (and sets `error`) on failure, or when it exceeds `maxBytes` (then the
// text holds the first maxBytes + 1 bytes so the caller can report the size problem with a location).
std::optional<std::string> readFile(const std::string& path, std::size_t maxBytes, std::string& error);

}  // namespace omega::parse
