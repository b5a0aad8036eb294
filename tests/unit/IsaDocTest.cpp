// Keeps docs/bytecode.md honest: its table of accepted opcodes must list exactly the rows of the code's table,
// in order, with the same class, source, kind, size and example text.
#include "omega/isa/Disassembler.h"
#include "omega/isa/Instruction.h"

#include "IsaSamples.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

using namespace omega::isa;

namespace {

using Row = std::vector<std::string>;

std::string kind(const OpcodeInfo& row) {
    if (row.wide) return "wide";
    if (row.call) return "call";
    if (row.exit) return "exit";
    if (row.jump) return "jump";
    if (row.access == Access::Load) return "load";
    if (row.access == Access::Store) return "store";
    return "alu";
}

std::string escapePipes(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '|') out += '\\';
        out += c;
    }
    return out;
}

std::vector<Row> expectedRows() {
    std::vector<Row> rows;
    for (const OpcodeInfo& row : opcodeTable()) {
        char opcode[16];
        std::snprintf(opcode, sizeof opcode, "`0x%02x`", row.opcode);
        const auto example = isatest::docExample(row);
        const std::string text = disassemble(example[0], example.size() > 1 ? example[1] : Insn{});
        rows.push_back({opcode, std::string(row.mnemonic), std::string(className(row.cls)),
                        row.source == Source::K ? "K" : "X", kind(row), row.size ? std::to_string(row.size) : "",
                        "`" + escapePipes(text) + "`", isatest::llvm14Knows(row.opcode) ? "yes" : "no"});
    }
    return rows;
}

std::string render(const std::vector<Row>& rows) {
    std::string out =
        "| Opcode | Mnemonic | Class | Source | Kind | Size | Example | LLVM 14 |\n"
        "|--------|----------|-------|--------|------|------|---------|---------|\n";
    for (const Row& row : rows) {
        out += "|";
        for (const std::string& cell : row) out += " " + cell + " |";
        out += "\n";
    }
    return out;
}

// Cells of a markdown table row, split at unescaped pipes; escapes are kept (the expected cells have them too).
Row cells(const std::string& line) {
    Row row;
    std::string cell;
    for (std::size_t i = 1; i < line.size(); ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) {
            cell += line[i];
            cell += line[++i];
        } else if (line[i] == '|') {
            const auto b = cell.find_first_not_of(' ');
            row.push_back(b == std::string::npos ? "" : cell.substr(b, cell.find_last_not_of(' ') - b + 1));
            cell.clear();
        } else {
            cell += line[i];
        }
    }
    return row;
}

}  // namespace

TEST(Docs, OpcodeTableMatchesCode) {
    const std::string path = std::string(OMEGA_SOURCE_DIR) + "/docs/bytecode.md";
    std::ifstream in(path);
    ASSERT_TRUE(in) << "cannot read " << path;
    std::vector<Row> rows;
    bool inTable = false;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("| Opcode | Mnemonic |", 0) == 0) {
            inTable = true;
            std::getline(in, line);  // the |---| separator
            continue;
        }
        if (!inTable) continue;
        if (line.empty() || line[0] != '|') break;
        rows.push_back(cells(line));
    }
    const std::vector<Row> expected = expectedRows();
    EXPECT_EQ(rows, expected) << path << " should have this table (generated from the code):\n" << render(expected);
}
