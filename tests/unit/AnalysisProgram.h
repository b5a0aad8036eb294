// Test support for the analyser's tests: a checked program with its reference evaluator and its compiled bundle's
// engine, from files (with the stdlib packs on the include path) or from module texts.
#pragma once

#include "omega/codegen/CodeGen.h"
#include "omega/eval/Evaluator.h"
#include "omega/gen/Generate.h"
#include "omega/parse/Parser.h"
#include "omega/policy/Engine.h"
#include "omega/sema/Sema.h"

#include <memory>
#include <string>
#include <vector>

namespace omega::fixture {

struct Program {
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    std::vector<ast::Module> modules;
    sema::Model model;
    std::unique_ptr<eval::Evaluator> ev;
    std::unique_ptr<policy::Engine> engine;
    std::string error;

    bool ok() const { return engine != nullptr; }
    void finish() {
        if (diags.hasErrors()) {
            error = "does not check";
            return;
        }
        ev = std::make_unique<eval::Evaluator>(modules, model);
        policy::Image image;
        if (!codegen::generate(modules, model, sm, {"test"}, image, error)) return;
        auto e = policy::Engine::make(std::move(image));
        if (!e) {
            error = e.error();
            return;
        }
        engine = std::make_unique<policy::Engine>(std::move(e).value());
    }
};

inline std::unique_ptr<Program> loadProgram(const std::vector<std::string>& files) {
    auto p = std::make_unique<Program>();
    parse::LoadOptions options;
    options.includeDirs.push_back(std::string(OMEGA_SOURCE_DIR) + "/stdlib-policies");
    auto loaded = parse::loadProgram(files, options, p->sm, p->diags);
    p->modules = std::move(loaded.program.modules);
    if (!p->diags.hasErrors()) p->model = sema::check(p->modules, loaded.program.isRoot, p->diags);
    p->finish();
    return p;
}

inline std::unique_ptr<Program> programFromTexts(const std::vector<std::string>& texts) {
    auto p = std::make_unique<Program>();
    auto checked = gen::check(texts);
    if (!checked->ok()) {
        p->error = checked->report();
        return p;
    }
    // Move the checked program over (the checker keeps its own SourceManager).
    p->modules = std::move(checked->modules);
    p->model = std::move(checked->model);
    p->sm = std::move(checked->sm);
    p->finish();
    return p;
}

}  // namespace omega::fixture
