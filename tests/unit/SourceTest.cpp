// Unit tests for the source library: UTF-8 validation, positions, suggestions, diagnostic sorting and rendering.
#include "omega/source/Diagnostic.h"
#include "omega/source/Source.h"

#include <gtest/gtest.h>

#include <sstream>

using namespace omega::source;

TEST(Utf8, AcceptsValidText) {
    EXPECT_FALSE(findInvalidUtf8("plain ascii"));
    EXPECT_FALSE(findInvalidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
}

TEST(Utf8, FindsFirstInvalidByte) {
    EXPECT_EQ(findInvalidUtf8("ab\xff"), 2u);
    EXPECT_EQ(findInvalidUtf8("ab\xc3"), 2u);            // truncated sequence
    EXPECT_EQ(findInvalidUtf8("\xc0\xaf"), 0u);          // overlong '/'
    EXPECT_EQ(findInvalidUtf8("x\xed\xa0\x80"), 1u);     // surrogate
    EXPECT_EQ(findInvalidUtf8("\xf4\x90\x80\x80"), 0u);  // above U+10FFFF
}

TEST(Position, CountsLinesAndCodePoints) {
    SourceManager sm;
    FileId id = sm.add("f", "ab\nc\xc3\xa9x\n");
    const SourceFile& f = sm.file(id);
    EXPECT_EQ(positionOf(f, 0), (Position{1, 1}));
    EXPECT_EQ(positionOf(f, 3), (Position{2, 1}));
    EXPECT_EQ(positionOf(f, 6), (Position{2, 3}));  // after 'c' and the two-byte 'é'
    EXPECT_EQ(sm.line(id, 2), "c\xc3\xa9x");
    EXPECT_EQ(sm.line(id, 9), "");
}

TEST(ClosestMatch, SuggestsNearNamesOnly) {
    EXPECT_EQ(closestMatch("feilds", {"fields", "patient_id"}), "fields");
    EXPECT_EQ(closestMatch("triag", {"triage", "billing"}), "triage");
    EXPECT_FALSE(closestMatch("completely_different", {"fields", "x"}));
}

TEST(Diagnostics, SortedByFileThenPosition) {
    DiagnosticEngine diags;
    diags.error("E2", Span{0, {3, 1}, {3, 2}}, "c");
    diags.error("E1", Span{0, {1, 5}, {1, 6}}, "a");
    diags.warning("W1", Span{0, {1, 9}, {1, 10}}, "b");
    auto sorted = diags.sorted();
    ASSERT_EQ(sorted.size(), 3u);
    EXPECT_EQ(sorted[0].message, "a");
    EXPECT_EQ(sorted[1].message, "b");
    EXPECT_EQ(sorted[2].message, "c");
    EXPECT_EQ(diags.errorCount(), 2u);
    EXPECT_EQ(diags.warningCount(), 1u);
}

TEST(Diagnostics, CapKeepsCountingButStopsStoring) {
    DiagnosticEngine diags(2);
    for (int i = 0; i < 5; ++i) diags.error("E1", Span{}, "x").help = "h";
    EXPECT_EQ(diags.sorted().size(), 2u);
    EXPECT_EQ(diags.errorCount(), 5u);
    EXPECT_EQ(diags.dropped(), 3u);
    EXPECT_TRUE(diags.full());
}

TEST(Render, HumanFormatHasLocationCaretAndHelp) {
    SourceManager sm;
    FileId id = sm.add("p.omega", "permit tool ehr.reed;\n");
    DiagnosticEngine diags;
    auto& d = diags.error("E0202", Span{id, {1, 13}, {1, 21}}, "unknown tool `ehr.reed`", "not declared");
    d.help = "did you mean `ehr.read`?";
    std::ostringstream out;
    renderHuman(out, sm, diags.sorted());
    EXPECT_EQ(out.str(),
              "p.omega:1:13: error[E0202]: unknown tool `ehr.reed`\n"
              " 1 | permit tool ehr.reed;\n"
              "   |             ^^^^^^^^ not declared\n"
              "  = help: did you mean `ehr.read`?\n");
}

TEST(Render, JsonEscapesAndCounts) {
    SourceManager sm;
    FileId id = sm.add("a\"b.omega", "x\n");
    DiagnosticEngine diags;
    diags.warning("W0601", Span{id, {1, 1}, {1, 2}}, "say \"hi\"\n");
    std::ostringstream out;
    renderJson(out, sm, diags);
    std::string s = out.str();
    EXPECT_NE(s.find("\"file\":\"a\\\"b.omega\""), std::string::npos);
    EXPECT_NE(s.find("\"message\":\"say \\\"hi\\\"\\n\""), std::string::npos);
    EXPECT_NE(s.find("\"errors\":0,\"warnings\":1,\"dropped\":0"), std::string::npos);
    EXPECT_EQ(jsonEscape(std::string("\x01", 1)), "\\u0001");
}
