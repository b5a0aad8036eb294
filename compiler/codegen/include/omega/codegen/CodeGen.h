// The code generator: a checked program (typed AST plus sema's model) to a policy image with its bytecode, as
// docs/bytecode.md section 8 lays it out. The program the generator writes is verified before it is returned, and
// the verifier's cost bound is stored in the image.
#pragma once

#include "omega/ast/Ast.h"
#include "omega/policy/Image.h"
#include "omega/sema/Sema.h"
#include "omega/source/Source.h"

#include <string>
#include <vector>

namespace omega::codegen {

struct Options {
    std::string compilerVersion;
};

// INVARIANT: `modules` checked without errors into `model`; `sources` holds their files (for the per-module
// source hashes). Fails, with `error` set, only where the bytecode cannot express a program that checked: a
// condition nested deeper than the scratch stack, or tables past the image's caps. A program the verifier
// rejects is a bug in the generator and is reported as an internal error.
bool generate(const std::vector<ast::Module>& modules, const sema::Model& model, const source::SourceManager& sources,
              const Options& options, policy::Image& out, std::string& error);

}  // namespace omega::codegen
