// Unit tests for the parse library: AST shapes and spans, precedence, comments, limits, and program loading.
#include "TestUtil.h"
#include "omega/ast/Printer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace omega;
using omega::test::parseText;

namespace {

std::string firstCondition(const std::string& cond) {
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    auto m = parseText("policy p version 1 by principal \"x\";\npermit tool t when " + cond + ";\n", sm, diags);
    if (!m) return "<error>";
    return ast::dump(*std::get<ast::Rule>(m->items.at(0)).body.condition);
}

}  // namespace

TEST(Parse, HeaderAndGoverns) {
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    auto m = parseText("policy ehr version 2 by principal \"provider:ehr\" governs tool ehr.*, data records, gpu;\n",
                       sm, diags);
    ASSERT_TRUE(m) << diags.sorted().front().message;
    EXPECT_EQ(m->header.name.text, "ehr");
    EXPECT_EQ(m->header.version, 2);
    EXPECT_EQ(m->header.principal, "provider:ehr");
    ASSERT_EQ(m->header.governs.size(), 3u);
    EXPECT_EQ(m->header.governs[0].pattern.text(), "ehr.*");
    EXPECT_TRUE(m->header.governs[0].pattern.wildcard);
    EXPECT_EQ(m->header.governs[2].area.text, "gpu");
}

TEST(Parse, PrecedenceOrAndNotComparison) {
    EXPECT_EQ(firstCondition("a == 1 or b == 2 and c == 3"),
              "(or (== (path a) (int 1)) (and (== (path b) (int 2)) (== (path c) (int 3))))");
    EXPECT_EQ(firstCondition("not a == 1 and b"), "(and (not (== (path a) (int 1))) (path b))");
    EXPECT_EQ(firstCondition("not (a and b)"), "(not (and (path a) (path b)))");
    EXPECT_EQ(firstCondition("a and b and c"), "(and (path a) (path b) (path c))");
    EXPECT_EQ(firstCondition("a and (b and c)"), "(and (path a) (and (path b) (path c)))");
    EXPECT_EQ(firstCondition("(a and b) and c"), "(and (and (path a) (path b)) (path c))");
    EXPECT_EQ(firstCondition("x <= 40 GiB"), "(<= (path x) (qty 40 GiB))");
    EXPECT_EQ(firstCondition("x < 30s"), "(< (path x) (qty 30 s))");
    EXPECT_EQ(firstCondition("args.f <= {\"a\", \"b\"}"), "(<= (path args.f) (set (str \"a\") (str \"b\")))");
    EXPECT_EQ(firstCondition("kernel.module in k"), "(in (path kernel.module) (path k))");
}

TEST(Parse, SpansPointAtTheSource) {
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    auto m = parseText("policy p version 1 by principal \"x\";\n  forbid tool web.search when session.taint >= PHI;\n",
                       sm, diags);
    ASSERT_TRUE(m);
    const auto& r = std::get<ast::Rule>(m->items.at(0));
    EXPECT_EQ(r.span.begin, (source::Position{2, 3}));
    EXPECT_EQ(r.span.end, (source::Position{2, 52}));
    EXPECT_EQ(r.body.target->span.begin, (source::Position{2, 15}));
    EXPECT_EQ(r.body.condition->span.begin, (source::Position{2, 31}));
}

TEST(Parse, KeywordsServeAsParameterAndFieldNames) {
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    auto m = parseText(
        "policy p version 1 by principal \"x\";\n"
        "tool fs.write(path: string, data: string, to: string, limit: int);\n"
        "permit tool fs.write when args.to == \"a\" and args.limit < 3;\n",
        sm, diags);
    ASSERT_TRUE(m) << diags.sorted().front().message;
    EXPECT_EQ(std::get<ast::ToolDecl>(m->items[0]).params[1].name.text, "data");
}

TEST(Parse, CommentsAreCollectedWithPlacement) {
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    auto m = parseText("// lead\npolicy p version 1 by principal \"x\"; // trail\n/* block\n comment */\n", sm, diags);
    ASSERT_TRUE(m);
    ASSERT_EQ(m->comments.size(), 3u);
    EXPECT_TRUE(m->comments[0].ownLine);
    EXPECT_FALSE(m->comments[1].ownLine);
    EXPECT_EQ(m->comments[2].span.end.line, 4u);
}

TEST(Parse, RejectsWithLocatedErrors) {
    struct Case {
        std::string text, code;
    };
    std::vector<Case> cases = {
        {"", "E0010"},
        {"policy p version 1 by principal \"x\"", "E0009"},
        {"policy p version 1 by principal \"x;\n", "E0004"},
        {"policy p version 1 by principal \"x\"; /* open", "E0005"},
        {"policy p version 1 by principal \"x\"; #", "E0006"},
        {std::string("policy p\0", 9), "E0002"},
        {"policy p version 1 by principal \"\xff\";", "E0001"},
        {"policy p version 99999999999999999999 by principal \"x\";", "E0011"},
        {"policy p version 1 by principal \"a\\qb\";", "E0012"},
        {"policy p version 1 by principal \"x\";\npermit gpu.lunch;", "E0214"},
        {"policy p version 1 by principal \"x\";\nset s = sha1:\"ab\";", "E0408"},
    };
    for (const Case& c : cases) {
        source::SourceManager sm;
        source::DiagnosticEngine diags;
        EXPECT_FALSE(parseText(c.text, sm, diags)) << c.text;
        ASSERT_TRUE(diags.hasErrors()) << c.text;
        auto first = diags.sorted().front();
        EXPECT_EQ(first.code, c.code) << c.text << ": " << first.message;
        EXPECT_TRUE(first.span.valid()) << c.text;
    }
}

TEST(Parse, DeepNestingIsAnErrorNotACrash) {
    std::string cond(10000, '(');
    cond += "a";
    cond += std::string(10000, ')');
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    EXPECT_FALSE(parseText("policy p version 1 by principal \"x\";\npermit tool t when " + cond + ";", sm, diags));
    EXPECT_EQ(diags.sorted().front().code, "E0008");
    std::string nots;
    for (int i = 0; i < 5000; ++i) nots += "not ";
    source::DiagnosticEngine diags2;
    EXPECT_FALSE(parseText("policy p version 1 by principal \"x\";\npermit tool t when " + nots + "a;", sm, diags2));
    EXPECT_EQ(diags2.sorted().front().code, "E0008");
}

TEST(Parse, LongChainsAreIterativeAndBounded) {
    std::string ok = "a == 1";
    for (int i = 1; i < 2000; ++i) ok += " or a == 1";  // exactly the limit of 2000 terms
    EXPECT_NE(firstCondition(ok), "<error>");
    EXPECT_EQ(firstCondition(ok + " or a == 1"), "<error>");
}

TEST(Parse, HugeIdentifierIsAnError) {
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    EXPECT_FALSE(parseText("policy " + std::string(100000, 'x') + " version 1 by principal \"x\";", sm, diags));
    EXPECT_EQ(diags.sorted().front().code, "E0007");
}

class LoaderTest : public ::testing::Test {
protected:
    std::filesystem::path dir;
    void SetUp() override {
        dir = std::filesystem::temp_directory_path() /
              ("omega-loader-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir / "lib");
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
    void write(const std::string& name, const std::string& text) { std::ofstream(dir / name) << text; }
    parse::LoadResult load(const std::string& root, source::SourceManager& sm, source::DiagnosticEngine& diags) {
        parse::LoadOptions options;
        options.includeDirs.push_back((dir / "lib").string());
        return parse::loadProgram({(dir / root).string()}, options, sm, diags);
    }
};

TEST_F(LoaderTest, ResolvesBesideThenIncludeDirsEachFileOnce) {
    write("a.omega", "policy a version 1 by principal \"a\";\nimport \"b.omega\";\nimport \"c.omega\";\n");
    write("b.omega", "policy b version 1 by principal \"b\";\nimport \"c.omega\";\n");
    write("lib/c.omega", "policy c version 1 by principal \"c\";\n");
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    auto r = load("a.omega", sm, diags);
    EXPECT_FALSE(diags.hasErrors());
    ASSERT_EQ(r.program.modules.size(), 3u);
    EXPECT_EQ(r.program.modules[0].header.name.text, "c");  // imports first
    EXPECT_EQ(r.program.modules[2].header.name.text, "a");
    EXPECT_EQ(r.program.isRoot, (std::vector<bool>{false, false, true}));
}

TEST_F(LoaderTest, CycleAndMissingImportsAreLocated) {
    write("a.omega", "policy a version 1 by principal \"a\";\nimport \"b.omega\";\nimport \"nope.omega\";\n");
    write("b.omega", "policy b version 1 by principal \"b\";\nimport \"a.omega\";\n");
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    load("a.omega", sm, diags);
    auto all = diags.sorted();
    std::vector<std::string> codes;
    for (auto& d : all) codes.push_back(d.code);
    EXPECT_NE(std::find(codes.begin(), codes.end(), "E0102"), codes.end());
    EXPECT_NE(std::find(codes.begin(), codes.end(), "E0101"), codes.end());
    for (auto& d : all) EXPECT_EQ(d.span.begin.line, d.code == "E0101" ? 3u : 2u) << d.message;
}

TEST_F(LoaderTest, UnreadableRootIsAnIoError) {
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    auto r = load("missing.omega", sm, diags);
    EXPECT_TRUE(r.ioError);
    EXPECT_EQ(diags.sorted().front().code, "E0103");
}

TEST_F(LoaderTest, ImportChainsAreBoundedInDepth) {
    for (int i = 0; i < 70; ++i)
        write("m" + std::to_string(i) + ".omega", "policy m" + std::to_string(i) + " version 1 by principal \"p\";\n" +
                                                      "import \"m" + std::to_string(i + 1) + ".omega\";\n");
    write("m70.omega", "policy m70 version 1 by principal \"p\";\n");
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    load("m0.omega", sm, diags);
    ASSERT_TRUE(diags.hasErrors());
    auto d = diags.sorted().front();
    EXPECT_EQ(d.code, "E0104");
    EXPECT_EQ(d.message, "imports are nested more than 64 deep");
    EXPECT_TRUE(d.span.valid());
}
