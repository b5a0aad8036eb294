// Unit tests for the AST library: the canonical printer is idempotent, keeps comments and keeps meaning; random
// expressions survive a print-and-parse round trip with minimal parentheses.
#include "TestUtil.h"
#include "omega/ast/Printer.h"

#include <gtest/gtest.h>

#include <random>

using namespace omega;
using omega::test::parseText;

namespace {

std::string formatText(const std::string& text, std::string* dumpOut = nullptr) {
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    auto m = parseText(text, sm, diags);
    if (!m) return "<parse error: " + diags.sorted().front().message + ">";
    if (dumpOut) *dumpOut = ast::dump(*m);
    return ast::format(*m);
}

const char* kMessy = R"(// leading comment
policy   clinic version 3 by principal "tenant:clinic"   governs tool ehr.*, data records;
label Public<Internal<PII<PHI ;   // the lattice
agent triage{owner "clinic";  /* inline */ role "nurse";}
tool ehr.read( patient_id:string,fields:set<string> ) returns PHI;
data records { path "/ehr/**"; label PHI; }


permit tool ehr.read by agent triage when (request.purpose=="treatment") and args.fields<={"vitals","allergies"} and not (agent.role == "intern" or agent.role == "visitor") limit 10 per minute per agent obligation audit, redact("ssn");
forbid read records
   // why this forbid exists
   when request.region != "eu";
test "t" { request.purpose = "treatment"; request tool ehr.read(patient_id: "p", fields: {"vitals"}) by agent triage; expect allow obligation audit; }
// trailing comment
)";

}  // namespace

TEST(Format, IdempotentAndMeaningPreserving) {
    std::string dump1, dump2;
    std::string once = formatText(kMessy, &dump1);
    ASSERT_EQ(once.find("<parse error"), std::string::npos) << once;
    std::string twice = formatText(once, &dump2);
    EXPECT_EQ(once, twice);
    EXPECT_EQ(dump1, dump2);
}

TEST(Format, KeepsEveryComment) {
    std::string out = formatText(kMessy);
    for (const char* c :
         {"// leading comment", "// the lattice", "/* inline */", "// why this forbid exists", "// trailing comment"})
        EXPECT_NE(out.find(c), std::string::npos) << c << "\n" << out;
}

TEST(Format, CanonicalLayout) {
    std::string out = formatText(kMessy);
    EXPECT_NE(out.find("label Public < Internal < PII < PHI; // the lattice\n"), std::string::npos) << out;
    EXPECT_NE(out.find("tool ehr.read(patient_id: string, fields: set<string>) returns PHI;\n"), std::string::npos);
    // A long rule breaks before its clauses; an over-long condition breaks at its top-level `and`s.
    EXPECT_NE(out.find("permit tool ehr.read by agent triage\n    when request.purpose == \"treatment\"\n"
                       "        and args.fields <= {\"vitals\", \"allergies\"}\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("    limit 10 per minute per agent\n    obligation audit, redact(\"ssn\");\n"),
              std::string::npos);
    // At most one blank line is kept between items.
    EXPECT_EQ(out.find("\n\n\n"), std::string::npos);
}

namespace {

// Random well-formed conditions over a few paths, for the round-trip property.
std::string randomExpr(std::mt19937& rng, int depth) {
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    if (depth <= 0 || pick(4) == 0) {
        static const char* atoms[] = {"a == 1",
                                      "b != \"x\"",
                                      "c <= 4 GiB",
                                      "d in {\"p\", \"q\"}",
                                      "e",
                                      "f like \"x*\"",
                                      "g startswith \"/tmp\"",
                                      "h >= PHI",
                                      "i < 30s"};
        return atoms[pick(9)];
    }
    switch (pick(4)) {
        case 0: return randomExpr(rng, depth - 1) + " and " + randomExpr(rng, depth - 1);
        case 1: return randomExpr(rng, depth - 1) + " or " + randomExpr(rng, depth - 1);
        case 2: return "not " + randomExpr(rng, depth - 1);
        default: return "(" + randomExpr(rng, depth - 1) + ")";
    }
}

}  // namespace

TEST(Format, RandomConditionsRoundTrip) {
    std::mt19937 rng(1234);
    for (int i = 0; i < 500; ++i) {
        std::string text = "policy p version 1 by principal \"x\";\npermit tool t when " + randomExpr(rng, 5) + ";\n";
        std::string d1, d2;
        std::string once = formatText(text, &d1);
        ASSERT_EQ(once.find("<parse error"), std::string::npos) << text;
        std::string twice = formatText(once, &d2);
        ASSERT_EQ(d1, d2) << "meaning changed:\n" << text << "\n" << once;
        ASSERT_EQ(once, twice) << "not idempotent:\n" << text;
    }
}

TEST(ExprText, MinimalParentheses) {
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    auto m = parseText("policy p version 1 by principal \"x\";\npermit tool t when ((a or b) and (c)) or (not (d));",
                       sm, diags);
    ASSERT_TRUE(m);
    EXPECT_EQ(ast::exprText(*std::get<ast::Rule>(m->items[0]).body.condition), "(a or b) and c or not d");
}
