// Runs the `test` blocks of a program's root modules through an evaluator and measures rule coverage.
#pragma once

#include "omega/eval/Evaluator.h"
#include "omega/policy/Engine.h"

#include <set>
#include <string>
#include <vector>

namespace omega::eval {

struct TestResult {
    const ast::TestBlock* test = nullptr;
    std::string file;
    bool passed = false;
    std::string failure;  // why it failed, for people
    Decision decision;
};

struct TestReport {
    std::vector<TestResult> results;
    std::set<std::string> covered;  // ids of rules that decided at least one test
    std::size_t passed() const;
    std::size_t failed() const { return results.size() - passed(); }
};

// The request a test block describes (language.md section 7).
Request requestOf(const Evaluator& ev, const ast::TestBlock& test);

// With `bytecode`, every test is also decided by the compiled program; a decision that differs from the reference
// evaluator's fails the test (and names what differs).
TestReport runTests(const Evaluator& ev, const std::vector<ast::Module>& modules, const std::vector<bool>& isRoot,
                    const source::SourceManager& sm, const policy::Engine* bytecode = nullptr);

}  // namespace omega::eval
