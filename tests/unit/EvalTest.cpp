// Unit tests for the reference evaluator, request JSON and the test runner: decision semantics of
// docs/language.md section 10, three-valued conditions (8.6), and every way a request can be refused.
#include "TestUtil.h"
#include "omega/eval/Evaluator.h"
#include "omega/eval/Json.h"
#include "omega/eval/TestRunner.h"

#include <gtest/gtest.h>

using namespace omega;
using omega::test::check;

namespace {

const char* kPolicy = R"(policy p version 1 by principal "tenant";
label Public < Internal < PII < PHI;
label Internal < Secret;
attribute role: string;
agent a { owner "o"; role "nurse"; }
agent b { owner "o"; }
group staff = {a};
tool web.search(query: string) sink;
tool bank.pay(to: string, amount: int, size: size);
data charts { path "/c/**"; label PHI; purpose {"treatment"}; }
kernels ok { module sha256:"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; name "gemm_*"; }
permit tool web.search when args.query like "f?u*" and not session.taint >= PII;
permit tool bank.pay by group staff when args.amount <= 100 obligation audit;
permit tool bank.pay when agent.role == "nurse" and args.amount <= 1000 limit 2 per minute obligation approve("lead");
forbid tool bank.pay when args.to == request.user;
require redact("iban") for tool bank.pay;
permit read charts when request.purpose in data.purpose;
permit gpu.launch when kernel in ok;
permit send from agent a to agent b when message.label <= Internal;
)";

struct Fixture {
    std::unique_ptr<test::Checked> c;
    std::unique_ptr<eval::Evaluator> ev;
    explicit Fixture(const std::vector<std::string>& texts) : c(check(texts)) {
        EXPECT_FALSE(c->diags.hasErrors()) << c->first();
        ev = std::make_unique<eval::Evaluator>(c->modules, c->model);
    }
    explicit Fixture(const std::string& text = kPolicy) : Fixture(std::vector<std::string>{text}) {}

    eval::Decision decide(const std::string& json, std::string* error = nullptr) {
        eval::State state;
        std::string why;
        auto r = eval::requestFromJson(json, c->model, state, why);
        if (error) *error = why;
        if (!r) {
            eval::Decision deny;
            deny.reason = why;
            return deny;
        }
        return ev->decide(*r, state);
    }
};

std::string ids(const eval::Decision& d) {
    std::string out;
    for (const auto* r : d.rules) out += (out.empty() ? "" : ",") + r->id;
    return out;
}

}  // namespace

TEST(Eval, DefaultDenyAndPermit) {
    Fixture f;
    auto d = f.decide(R"({"action":"tool","target":"web.search","agent":"b","args":{"query":"flu"}})");
    EXPECT_TRUE(d.allow) << d.reason;
    EXPECT_EQ(ids(d), "p:12");
    d = f.decide(R"({"action":"tool","target":"web.search","agent":"b","args":{"query":"cold"}})");
    EXPECT_FALSE(d.allow);
    EXPECT_TRUE(d.rules.empty());
    EXPECT_EQ(d.reason, "no rule permits it (default deny)");
}

TEST(Eval, TaintIsExistentialAndLabelsArePartiallyOrdered) {
    Fixture f;
    auto search = [&](const char* taint) {
        return f
            .decide(std::string(R"({"action":"tool","target":"web.search","agent":"b","args":{"query":"flu"},)") +
                    R"("session":{"taint":)" + taint + "}}")
            .allow;
    };
    EXPECT_TRUE(search("[]"));
    EXPECT_TRUE(search(R"(["Public","Internal"])"));
    EXPECT_FALSE(search(R"(["Public","PHI"])"));
    EXPECT_TRUE(search(R"(["Secret"])"));  // Secret is not above PII: incomparable
}

TEST(Eval, ForbidWinsAndMatchesOnAbsentValues) {
    Fixture f;
    // request.user is absent: `args.to == request.user` is unknown, so the forbid matches (fail closed).
    auto d = f.decide(R"({"action":"tool","target":"bank.pay","agent":"a","args":{"to":"x","amount":5,"size":1}})");
    EXPECT_FALSE(d.allow);
    EXPECT_EQ(ids(d), "p:15");
    EXPECT_EQ(d.absent, std::vector<std::string>{"request.user"});
    d = f.decide(
        R"({"action":"tool","target":"bank.pay","agent":"a","args":{"to":"x","amount":5,"size":"1 KiB"},"request":{"user":"u"}})");
    EXPECT_TRUE(d.allow) << d.reason;
    EXPECT_EQ(ids(d), "p:13,p:14");
    // Obligations are the union over matching permits and obligation rules.
    EXPECT_TRUE(d.obligations.audit);
    EXPECT_EQ(d.obligations.approve, std::set<std::string>{"lead"});
    EXPECT_EQ(d.obligations.redact, std::set<std::string>{"iban"});
}

TEST(Eval, PermitsNeedTrueConditionsAndObligationRulesNeverGrant) {
    Fixture f;
    // Agent b has no role: `agent.role == "nurse"` is unknown, so that permit does not match; b is not staff.
    auto d = f.decide(
        R"({"action":"tool","target":"bank.pay","agent":"b","args":{"to":"x","amount":5,"size":1},"request":{"user":"u"}})");
    EXPECT_FALSE(d.allow);
    EXPECT_EQ(d.reason, "no rule permits it (default deny)");
}

TEST(Eval, RateLimitsReadTheCounters) {
    Fixture f;
    std::string base =
        R"({"action":"tool","target":"bank.pay","agent":"b","args":{"to":"x","amount":500,"size":1},"request":{"user":"u"})";
    Fixture g(std::string(kPolicy) + "agent c { role \"nurse\"; }\n");
    std::string c =
        R"({"action":"tool","target":"bank.pay","agent":"c","args":{"to":"x","amount":500,"size":1},"request":{"user":"u"})";
    EXPECT_TRUE(g.decide(c + "}").allow);
    EXPECT_TRUE(g.decide(c + R"(,"state":{"counts":{"p:14":1}}})").allow);
    EXPECT_FALSE(g.decide(c + R"(,"state":{"counts":{"p:14":2}}})").allow);
    EXPECT_FALSE(f.decide(base + "}").allow);
}

TEST(Eval, GlobsKernelSetsSubjectsAndRecipients) {
    Fixture f;
    auto query = [&](const char* q) {
        return f
            .decide(std::string(R"({"action":"tool","target":"web.search","agent":"b","args":{"query":")") + q + "\"}}")
            .allow;
    };
    EXPECT_TRUE(query("flu"));
    EXPECT_TRUE(query("fiu shots"));
    EXPECT_FALSE(query("fu"));
    EXPECT_TRUE(query("f\xc3\xa9u"));  // `?` is one code point
    std::string kernel =
        R"({"action":"gpu.launch","agent":"a","kernel":{"module":"sha256:)" + std::string(64, 'a') + R"(","name":")";
    EXPECT_TRUE(f.decide(kernel + R"(gemm_fp16"}})").allow);
    EXPECT_FALSE(f.decide(kernel + R"(conv2d"}})").allow);
    EXPECT_FALSE(f.decide(R"({"action":"gpu.launch","agent":"a","kernel":{"name":"gemm_x"}})").allow);
    EXPECT_TRUE(f.decide(R"({"action":"send","agent":"a","recipient":"b","message":{"label":"Public"}})").allow);
    EXPECT_FALSE(f.decide(R"({"action":"send","agent":"b","recipient":"a","message":{"label":"Public"}})").allow);
    EXPECT_FALSE(f.decide(R"({"action":"send","agent":"a","recipient":"b","message":{"label":"Secret"}})").allow);
}

TEST(Eval, ConsentOfAGoverningPrincipalIsRequired) {
    const char* owner =
        "policy owner version 1 by principal \"patient\" governs data charts;\n"
        "require consent for data charts;\npermit read charts by agent a;\n";
    Fixture f(std::vector<std::string>{kPolicy, owner});
    auto read = [&](const char* agent) {
        return f.decide(std::string(R"({"action":"read","target":"charts","agent":")") + agent +
                        R"(","request":{"purpose":"treatment"}})");
    };
    EXPECT_TRUE(read("a").allow);
    auto d = read("b");
    EXPECT_FALSE(d.allow);
    EXPECT_EQ(d.consentMissing, std::vector<std::string>{"patient"});
}

TEST(Eval, PresenceTestsAreNeverUnknown) {
    Fixture f(std::string(kPolicy) + "forbid tool web.search when agent has role and agent.role == \"intern\";\n");
    EXPECT_TRUE(f.decide(R"({"action":"tool","target":"web.search","agent":"b","args":{"query":"flu"}})").allow);
}

TEST(Json, BadRequestsAreRefusedWithTheMember) {
    Fixture f;
    struct Case {
        std::string json, error;
    };
    std::vector<Case> cases = {
        {"nope", "request: not valid JSON"},
        {"[]", "request: expected a JSON object"},
        {R"({"agent":"a"})", "action: missing"},
        {R"({"action":"fly","agent":"a"})", "action: unknown action `fly`"},
        {R"({"action":"tool","agent":"z","target":"web.search"})", "agent: unknown agent `z`"},
        {R"({"action":"tool","agent":"a","target":"web.serch"})", "target: unknown tool `web.serch`"},
        {R"({"action":"tool","agent":"a","target":"web.search","args":{}})", "args.query: missing"},
        {R"({"action":"tool","agent":"a","target":"web.search","args":{"query":1}})", "args.query: expected a string"},
        {R"({"action":"tool","agent":"a","target":"web.search","args":{"query":"x","q":"y"}})",
         "args.q: tool `web.search` has no such parameter"},
        {R"({"action":"tool","agent":"a","target":"bank.pay","args":{"to":"x","amount":1,"size":"3 parsecs"}})",
         "args.size: unknown unit `parsecs`"},
        {R"({"action":"tool","agent":"a","target":"web.search","args":{"query":"x"},"session":{"taint":["Top"]}})",
         "session.taint[0]: unknown label `Top`"},
        {R"({"action":"tool","agent":"a","target":"web.search","args":{"query":"x"},"data":{"label":"PHI"}})",
         "data.label: comes from the declarations and cannot be given"},
        {R"({"action":"tool","agent":"a","target":"web.search","args":{"query":"x"},"message":{"size":1}})",
         "message.size: not part of a `tool` request"},
        {R"({"action":"tool","agent":"a","target":"web.search","args":{"query":"x"},"extra":1})",
         "extra: unknown member"},
        {R"({"action":"send","agent":"a"})", "recipient: missing"},
        {R"({"action":"gpu.launch","agent":"a","kernel":{"module":"sha256:abc"}})",
         "kernel.module: expected `sha256:<64 hex>` or `sha384:<96 hex>` in lowercase"},
    };
    for (const Case& c : cases) {
        std::string error;
        eval::Decision d = f.decide(c.json, &error);
        EXPECT_EQ(error, c.error) << c.json;
        EXPECT_FALSE(d.allow) << c.json;
    }
}

TEST(Json, SizeLimits) {
    Fixture f;
    eval::RequestLimits small;
    small.maxString = 10;
    small.maxSetItems = 2;
    eval::State state;
    std::string error;
    EXPECT_FALSE(
        eval::requestFromJson(R"({"action":"tool","agent":"a","target":"web.search","args":{"query":"hello world"}})",
                              f.c->model, state, error, small));
    EXPECT_EQ(error, "args.query: string of 11 bytes; the limit is 10");
    EXPECT_FALSE(
        eval::requestFromJson(R"({"action":"read","agent":"a","target":"charts","request":{"fields":["a","b","c"]}})",
                              f.c->model, state, error, small));
    EXPECT_EQ(error, "request.fields: set of 3 items; the limit is 2");
}

TEST(Json, DecisionShape) {
    Fixture f;
    auto d = f.decide(R"({"action":"tool","target":"web.search","agent":"b","args":{"query":"flu"}})");
    EXPECT_EQ(eval::decisionToJson(d),
              R"J({"decision":"allow","reason":"permitted by p:12 (tenant)","rules":[{"id":"p:12","effect":"permit",)J"
              R"J("principal":"tenant","module":"p","line":12}],"principals":["tenant"],"obligations":{}})J");
}

TEST(TestRunner, ReportsFailuresAndCoverage) {
    Fixture f(
        std::string(kPolicy) +
        "test \"ok\" { request tool web.search(query: \"flu\") by agent b; expect allow; }\n"
        "test \"wrong verdict\" { request tool web.search(query: \"cold\") by agent b; expect allow; }\n"
        "test \"wrong obligations\" { request.user = \"u\"; request tool bank.pay(to: \"x\", amount: 5, size: 1 KiB)"
        " by agent a; expect allow obligation audit; }\n");
    auto report = eval::runTests(*f.ev, f.c->modules, {true}, f.c->sm);
    ASSERT_EQ(report.results.size(), 3u);
    EXPECT_TRUE(report.results[0].passed);
    EXPECT_FALSE(report.results[1].passed);
    EXPECT_EQ(report.results[1].failure, "expected allow, got deny: no rule permits it (default deny)");
    EXPECT_FALSE(report.results[2].passed);
    EXPECT_EQ(report.results[2].failure, "expected obligations audit, got audit, redact(\"iban\"), approve(\"lead\")");
    EXPECT_EQ(report.covered, (std::set<std::string>{"p:12", "p:13", "p:14"}));
}
