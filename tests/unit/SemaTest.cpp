// Unit tests for sema: the lattice, expression types, scoping, tests, and the codes of typical mistakes.
#include "TestUtil.h"

#include <gtest/gtest.h>

using namespace omega;
using omega::test::check;
using omega::test::kPrelude;

namespace {

std::string codesOf(const std::string& text) {
    auto c = check(std::string(kPrelude) + text);
    std::string out;
    for (const auto& code : c->codes())
        if (code[0] == 'E') out += (out.empty() ? "" : ",") + code;  // errors only; warnings are tested apart
    return out;
}

}  // namespace

TEST(Sema, PreludeIsCleanApartFromUnusedWarnings) {
    auto c = check(std::string(kPrelude) + "permit tool * by agent *;\npermit read records;\n");
    EXPECT_EQ(c->diags.errorCount(), 0u) << c->first();
    EXPECT_EQ(c->diags.warningCount(), 0u) << c->first();
}

TEST(Sema, LatticeIsTheTransitiveClosureOfPartialOrders) {
    auto c = check(
        "policy p version 1 by principal \"x\";\nlabel Public < Internal < PII < PHI;\n"
        "label Internal < Secret;\n");
    const auto& L = c->model.lattice;
    auto id = [&](const char* n) { return *L.find(n); };
    EXPECT_TRUE(L.le(id("Public"), id("PHI")));
    EXPECT_TRUE(L.le(id("Public"), id("Secret")));
    EXPECT_FALSE(L.le(id("Secret"), id("PHI")));
    EXPECT_FALSE(L.le(id("PHI"), id("Secret")));
    EXPECT_TRUE(L.le(id("PII"), id("PII")));
}

TEST(Sema, LabelCyclesAreRejectedAcrossStatements) {
    auto c = check("policy p version 1 by principal \"x\";\nlabel A < B < C;\nlabel C < A;\n");
    ASSERT_EQ(c->codes(), std::vector<std::string>{"E0501"});
    EXPECT_EQ(c->first(), "3:11 E0501 label ordering has a cycle: A < B < C < A");
}

TEST(Sema, AnnotatesExpressionTypes) {
    auto c = check(std::string(kPrelude) +
                   "permit tool ehr.read by agent triage when args.fields <= {\"vitals\"} and session.taint >= PII;\n"
                   "permit read records;\npermit tool web.search;\npermit tool bank.transfer;\n");
    ASSERT_FALSE(c->diags.hasErrors()) << c->first();
    const ast::Rule* rule = nullptr;
    for (const auto& item : c->modules[0].items)
        if (auto* r = std::get_if<ast::Rule>(&item); r && !rule) rule = r;
    ASSERT_TRUE(rule);
    const ast::Expr& cond = *rule->body.condition;
    EXPECT_EQ(cond.type, ast::TypeKind::Bool);
    EXPECT_EQ(cond.kids[0]->kids[0]->type, ast::TypeKind::StringSet);
    EXPECT_EQ(cond.kids[1]->kids[0]->type, ast::TypeKind::LabelSet);
    EXPECT_EQ(cond.kids[1]->kids[1]->type, ast::TypeKind::Label);
}

TEST(Sema, MisspelledArgumentIsAnErrorNeverASilentFalse) {
    // The published Rego policy's `input.pramas.arguments` bug, in Omega: a compile error with a suggestion.
    auto c = check(std::string(kPrelude) + "permit tool ehr.read when args.feilds <= {\"vitals\"};\n");
    ASSERT_TRUE(c->diags.hasErrors());
    auto all = c->diags.sorted();
    auto d = *std::find_if(all.begin(), all.end(), [](const auto& x) { return x.code[0] == 'E'; });
    EXPECT_EQ(d.code, "E0203");
    EXPECT_EQ(d.help, "did you mean `fields`?");
}

TEST(Sema, TypicalMistakesHaveStableCodes) {
    EXPECT_EQ(codesOf("permit tool ehr.read by agent triag;\n"), "E0201");
    EXPECT_EQ(codesOf("permit tool ehr.reed;\n"), "E0202");
    EXPECT_EQ(codesOf("permit tool ehr.read when requst.purpose == \"x\";\n"), "E0210");
    EXPECT_EQ(codesOf("permit tool ehr.read when request.purpos == \"x\";\n"), "E0204");
    EXPECT_EQ(codesOf("permit tool ehr.read when session.taint >= PHX;\n"), "E0210");
    EXPECT_EQ(codesOf("permit read recs;\n"), "E0207");
    EXPECT_EQ(codesOf("permit tool bank.transfer when args.amount <= \"5\";\n"), "E0401");
    EXPECT_EQ(codesOf("permit gpu.alloc when gpu.bytes_total <= 40;\n"), "E0406");
    EXPECT_EQ(codesOf("permit gpu.alloc when gpu.bytes_total <= 40 s;\n"), "E0406");
    EXPECT_EQ(codesOf("permit gpu.alloc when gpu.bytes_total <= 40 GiX;\n"), "E0211");
    EXPECT_EQ(codesOf("permit tool ehr.read when request.purpose;\n"), "E0403");
    EXPECT_EQ(codesOf("permit tool ehr.read when request.purpose like request.user;\n"), "E0405");
    EXPECT_EQ(codesOf("permit tool ehr.read when request.purpose < \"b\";\n"), "E0402");
    EXPECT_EQ(codesOf("permit read records when args.x == 1;\n"), "E0412");
    EXPECT_EQ(codesOf("forbid tool ehr.read obligation audit;\n"), "E0505");
    EXPECT_EQ(codesOf("permit tool ehr.read obligation aprove(\"x\");\n"), "E0213");
    EXPECT_EQ(codesOf("permit tool ehr.read obligation approve;\n"), "E0220");
    EXPECT_EQ(codesOf("permit tool ehr.read from agent triage;\n"), "E0503");
    EXPECT_EQ(codesOf("permit send to agent billing;\n"), "");
    EXPECT_EQ(codesOf("permit send web.search;\n"), "E0504");
    EXPECT_EQ(codesOf("permit tool;\n"), "E0506");
    EXPECT_EQ(codesOf("permit tool ehr.read limit 0 per minute;\n"), "E0507");
    EXPECT_EQ(codesOf("permit tool ehr.read limit 5 per fortnight;\n"), "E0211");
    EXPECT_EQ(codesOf("agent triage { owner \"x\"; }\n"), "E0301");
    EXPECT_EQ(codesOf("tool t(a: string, a: int);\npermit tool t;\n"), "E0302");
    EXPECT_EQ(codesOf("tool t(a: strng);\npermit tool t;\n"), "E0212");
    std::string many = "tool t(";
    for (int i = 0; i < 17; ++i) many += (i ? ", p" : "p") + std::to_string(i) + ": int";
    EXPECT_EQ(codesOf(many + ");\npermit tool t;\n"), "E0221");
    EXPECT_EQ(codesOf("agent x { role 3; }\n"), "E0401");
    EXPECT_EQ(codesOf("set session = {\"a\"};\n"), "E0219");
    EXPECT_EQ(codesOf("set s = {\"a\", PHI};\n"), "E0404");
}

TEST(Sema, ScopesLimitWhatAPrincipalGoverns) {
    const char* lib =
        "policy decls version 1 by principal \"operator\";\nlabel PHI;\nagent a { owner \"o\"; }\n"
        "tool ehr.read(id: string) returns PHI;\ntool web.search(q: string) sink;\n"
        "permit tool * by agent a;\n";
    auto ok = check(
        std::vector<std::string>{lib,
                                 "policy ehr version 1 by principal \"provider:ehr\" governs tool ehr.*;\n"
                                 "forbid tool ehr.read when args.id == \"\";\nrequire consent for tool ehr.*;\n"});
    EXPECT_FALSE(ok->diags.hasErrors()) << ok->first();
    auto bad = check(std::vector<std::string>{lib,
                                              "policy ehr version 1 by principal \"provider:ehr\" governs tool ehr.*;\n"
                                              "forbid tool web.search;\nrequire consent for tool web.*;\n"});
    EXPECT_EQ(bad->codes(), (std::vector<std::string>{"E0502", "E0508"}));
}

TEST(Sema, TestBlocksAreTypedAgainstTheRequest) {
    EXPECT_EQ(
        codesOf("permit tool * by agent *;\npermit read records;\n"
                "test \"t\" { session.taint = PHI; request tool bank.transfer(to: \"x\", amount: 5) by agent billing; "
                "expect allow; }\n"),
        "");
    EXPECT_EQ(codesOf("permit tool * by agent *;\npermit read records;\n"
                      "test \"t\" { request tool bank.transfer(to: \"x\") by agent billing; expect allow; }\n"),
              "E0410");
    EXPECT_EQ(
        codesOf("permit tool * by agent *;\npermit read records;\n"
                "test \"t\" { request tool bank.transfer(to: \"x\", amount: \"5\") by agent billing; expect deny; }\n"),
        "E0409");
    EXPECT_EQ(codesOf("permit tool * by agent *;\npermit read records;\n"
                      "test \"t\" { data.label = PHI; request read records by agent billing; expect deny; }\n"),
              "E0204");
    EXPECT_EQ(codesOf("permit tool * by agent *;\npermit read records;\ntest \"t\" { expect deny; }\n"), "E0509");
}

TEST(Sema, UnusedDeclarationsWarn) {
    auto c = check(std::string(kPrelude) + "set unused = {\"a\"};\npermit tool web.search;\n");
    EXPECT_FALSE(c->diags.hasErrors()) << c->first();
    EXPECT_EQ(c->diags.warningCount(), 4u);  // two tools, the data resource and the set
}

TEST(Sema, DeclarationsDoNotDependOnModuleOrder) {
    // A group in an earlier module naming an agent of a later one.
    auto c = check(
        std::vector<std::string>{"policy a version 1 by principal \"a\";\ngroup g = {x};\npermit tool * by group g;\n",
                                 "policy b version 1 by principal \"b\";\nagent x { owner \"o\"; }\n"});
    EXPECT_FALSE(c->diags.hasErrors()) << c->first();
}

TEST(Sema, ScopedModulesMayNotReorderOthersLabels) {
    const char* base = "policy base version 1 by principal \"operator\";\nlabel Public < PHI;\nlabel Finance;\n";
    auto bad = check(std::vector<std::string>{
        base, "policy p version 1 by principal \"provider\" governs gpu;\nlabel PHI < Finance;\n"});
    EXPECT_EQ(bad->codes(), std::vector<std::string>{"E0514"});
    auto ok = check(std::vector<std::string>{
        base, "policy p version 1 by principal \"provider\" governs gpu;\nlabel PHI < ProviderSecret;\n"});
    EXPECT_FALSE(ok->diags.hasErrors()) << ok->first();
    auto unscoped =
        check(std::vector<std::string>{base, "policy p version 1 by principal \"tenant\";\nlabel PHI < Finance;\n"});
    EXPECT_FALSE(unscoped->diags.hasErrors()) << unscoped->first();
}

TEST(Sema, EmptySetFitsEitherKindOfSet) {
    EXPECT_EQ(codesOf("forbid tool web.search when session.taint == {};\npermit read records;\n"), "");
    EXPECT_EQ(codesOf("forbid tool web.search when request.consent <= {} and session.taint <= {};\n"), "");
    EXPECT_EQ(codesOf("permit tool * by agent *;\npermit read records;\n"
                      "test \"t\" { session.taint = {}; request tool ehr.read(patient_id: \"p\", fields: {}) "
                      "by agent triage; expect allow; }\n"),
              "");
    EXPECT_EQ(codesOf("attribute badges: set<label>;\nagent x { badges {}; }\n"), "");
}

TEST(Sema, RateLimitWindowsAndKeys) {
    EXPECT_EQ(codesOf("permit tool web.search limit 5 per 0s;\n"), "E0507");
    EXPECT_EQ(codesOf("permit tool web.search limit 5 per 9223372036854775807 d;\n"), "E0011");
    EXPECT_EQ(codesOf("permit tool web.search limit 5 per 30s per tool;\n"), "");
    EXPECT_EQ(codesOf("permit read records limit 5 per minute per tool;\n"), "E0217");
}

TEST(Sema, FieldUnavailableForActionNamesTheField) {
    auto c = check(std::string(kPrelude) + "permit gpu.launch when gpu.bytes < 1 GiB;\n");
    auto all = c->diags.sorted();
    auto d = *std::find_if(all.begin(), all.end(), [](const auto& x) { return x.code == "E0412"; });
    EXPECT_EQ(d.message, "`gpu.bytes` is not available in a `gpu.launch` rule");
    EXPECT_EQ(d.help, "`gpu.bytes` belongs to requests of: gpu.alloc");
}

TEST(Sema, ScopedLabelEdgesDoNotDependOnLoadOrder) {
    const char* vendor = "policy vendor version 1 by principal \"vendor:x\" governs gpu;\nlabel Public < Internal;\n";
    const char* tenant = "policy tenant version 1 by principal \"tenant:t\";\nlabel Public < Internal;\n";
    EXPECT_FALSE(check(std::vector<std::string>{vendor, tenant})->diags.hasErrors());
    EXPECT_FALSE(check(std::vector<std::string>{tenant, vendor})->diags.hasErrors());
    const char* reorder = "policy vendor version 1 by principal \"vendor:x\" governs gpu;\nlabel Internal < Public;\n";
    EXPECT_EQ(check(std::vector<std::string>{reorder, tenant})->codes(), std::vector<std::string>{"E0514"});
    EXPECT_EQ(check(std::vector<std::string>{tenant, reorder})->codes(), std::vector<std::string>{"E0514"});
}

TEST(Sema, EveryLabelCycleIsReported) {
    auto c = check("policy p version 1 by principal \"x\";\nlabel A < B;\nlabel B < A;\nlabel X < Y;\nlabel Y < X;\n");
    EXPECT_EQ(c->codes(), (std::vector<std::string>{"E0501", "E0501"}));
}

TEST(Sema, PresenceTestsAndObligationRules) {
    EXPECT_EQ(codesOf("permit tool web.search when agent has role and not (request has purpose);\n"
                      "require audit, redact(\"ssn\") for read records when data.label >= PHI;\n"
                      "require approve(\"lead\") for tool * when tool has label and tool.label >= PHI;\n"),
              "");
    EXPECT_EQ(codesOf("permit tool web.search when agent has rol;\n"), "E0204");
    EXPECT_EQ(codesOf("permit tool web.search when records has label;\n"), "E0210");
    EXPECT_EQ(codesOf("permit tool web.search when data has label;\n"), "E0412");
    EXPECT_EQ(codesOf("require audt for tool web.search;\n"), "E0213");
    EXPECT_EQ(codesOf("require audit for tool web.serch;\n"), "E0202");
    auto scoped = check(std::vector<std::string>{
        std::string(kPrelude) + "permit tool *;\npermit read records;\n",
        "policy v version 1 by principal \"vendor\" governs tool ehr.*;\nrequire audit for tool web.search;\n"});
    EXPECT_EQ(scoped->codes(), std::vector<std::string>{"E0502"});
}

TEST(Sema, PresenceOfFieldsThatAreNeverAbsentWarns) {
    auto c = check(std::string(kPrelude) + "permit tool web.search when request has consent and tool has sink;\n"
                                           "permit tool ehr.read when tool has label and request has purpose;\n"
                                           "permit tool bank.transfer;\npermit read records;\n");
    EXPECT_EQ(c->codes(), (std::vector<std::string>{"W0602", "W0602"}));
}

TEST(Sema, ADenyCarriesNoObligations) {
    EXPECT_EQ(codesOf("permit tool * by agent *;\npermit read records;\n"
                      "test \"t\" { request read records by agent triage; expect deny obligation audit; }\n"),
              "E0515");
}
