// Keeps docs/bytecode.md section 9.3 honest: its helper table must list exactly the rows of the code's table, with
// the same arity, constant arguments and cost.
#include "omega/vm/Helpers.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace omega::vm;

namespace {

std::string constantArguments(const HelperSpec& h) {
    std::string out;
    for (std::size_t i = 0; i < h.argKinds.size(); ++i) {
        std::string what;
        switch (h.argKinds[i]) {
            case ArgKind::Rule: what = "rule index"; break;
            case ArgKind::Matcher: what = "matcher id"; break;
            case ArgKind::SetCmpOp: what = "op (" + std::to_string(kSetCmpOps) + ")"; break;
            case ArgKind::TaintOp: what = "op (" + std::to_string(kTaintOps) + ")"; break;
            case ArgKind::Value: continue;
        }
        if (!out.empty()) out += ", ";
        out += "r" + std::to_string(i + 1) + " " + what;
    }
    return out;
}

std::string render() {
    std::string out =
        "| id | name | arguments | constant arguments | cost |\n"
        "|---|---|---|---|---|\n";
    for (const HelperSpec& h : helperTable()) {
        const std::string constants = constantArguments(h);
        out += "| " + std::to_string(h.id) + " | `" + h.name + "` | " + std::to_string(h.args) + " | " + constants +
               (constants.empty() ? "| " : " | ") + std::to_string(h.cost) + " |\n";
    }
    return out;
}

// The table that follows the "### 9.3 Helpers" heading: its lines from the header row to the first non-table line.
std::string documentedTable() {
    std::ifstream in(std::string(OMEGA_SOURCE_DIR) + "/docs/bytecode.md");
    std::string line, table;
    bool inSection = false;
    while (std::getline(in, line)) {
        if (line.rfind("### ", 0) == 0) inSection = line == "### 9.3 Helpers";
        if (!inSection) continue;
        if (line.rfind("|", 0) == 0) {
            table += line + "\n";
        } else if (!table.empty()) {
            break;
        }
    }
    return table;
}

}  // namespace

TEST(VmDocs, HelperTableMatchesCode) {
    const std::string expected = render();
    EXPECT_EQ(documentedTable(), expected) << "docs/bytecode.md section 9.3 should read:\n" << expected;
}
