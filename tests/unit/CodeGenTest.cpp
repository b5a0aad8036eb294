// Unit tests for the code generator and the decision engine: the shapes of code the random differential test
// (GenTest) rarely or never reaches: far jumps, range guards for wide target patterns, large agent lists and
// groups, conditions that compare conditions, nesting at the scratch stack's limit, and the errors for what the
// bytecode cannot express. Every decision is checked against the reference evaluator.
#include "TestUtil.h"
#include "omega/codegen/CodeGen.h"
#include "omega/eval/Evaluator.h"
#include "omega/eval/Json.h"
#include "omega/eval/Runtime.h"
#include "omega/isa/Instruction.h"

#include <gtest/gtest.h>

#include <cctype>

using namespace omega;

namespace {

struct Compiled {
    std::unique_ptr<test::Checked> c;
    std::unique_ptr<eval::Evaluator> ev;
    std::unique_ptr<policy::Engine> engine;
    std::string error;

    explicit Compiled(const std::string& text) : c(test::check(text)) {
        if (c->diags.hasErrors()) {
            error = "does not check: " + c->first();
            return;
        }
        ev = std::make_unique<eval::Evaluator>(c->modules, c->model);
        policy::Image image;
        if (!codegen::generate(c->modules, c->model, c->sm, {"test"}, image, error)) return;
        auto e = policy::Engine::make(std::move(image));
        if (!e) {
            error = e.error();
            return;
        }
        engine = std::make_unique<policy::Engine>(std::move(e).value());
    }

    // Decides with both; returns "allow"/"deny" when they agree, else what differs.
    std::string decide(const std::string& json) {
        eval::State state;
        std::string why;
        auto r = eval::requestFromJson(json, c->model, state, why);
        if (!r) return "undecodable: " + why;
        eval::Decision want = ev->decide(*r, state);
        policy::Decision have = engine->decide(eval::toPolicy(*r, state));
        std::string diff = eval::compareDecisions(want, have, engine->image());
        if (!diff.empty()) return "disagree on " + json + "\n" + diff;
        return want.allow ? "allow" : "deny";
    }
};

std::size_t countGotol(const policy::Image& image) {
    auto program = isa::unmarshal(std::span<const isa::Insn>(image.code));
    std::size_t n = 0;
    for (const auto& insn : program.value()) n += std::holds_alternative<isa::Gotol>(insn);
    return n;
}

TEST(CodeGen, AnEmptyPolicyDeniesEverything) {
    Compiled p(R"(policy p version 1 by principal "t";
agent a {}
)");
    ASSERT_TRUE(p.engine) << p.error;
    EXPECT_EQ(p.decide(R"({"action":"net.connect","agent":"a"})"), "deny");
    EXPECT_EQ(p.engine->image().bound.instructions, 4u);  // mov r6; ldxdw r7; mov r0; exit
}

// More than 32,767 slots between a dispatch jump and its target: the assembler turns the far ones into gotol.
TEST(CodeGen, FarJumpsBecomeGotol) {
    std::string text = "policy p version 1 by principal \"t\";\nagent a { }\nagent b { }\n";
    text += "tool s.t(n: int, s: string);\n";
    for (int i = 0; i < 3000; ++i)
        text += "permit tool s.t by agent a when args.n > " + std::to_string(i) + " and args.s like \"x" +
                std::to_string(i) + "*\" or args.n == " + std::to_string(100000 + i) + ";\n";
    text += "permit net.connect by agent b when net.port == 443;\n";
    Compiled p(text);
    ASSERT_TRUE(p.engine) << p.error;
    EXPECT_GT(p.engine->image().code.size(), 40000u);
    EXPECT_GT(countGotol(p.engine->image()), 0u);
    EXPECT_EQ(p.decide(R"({"action":"net.connect","agent":"b","net":{"port":443}})"), "allow");
    EXPECT_EQ(p.decide(R"({"action":"net.connect","agent":"a","net":{"port":443}})"), "deny");
    EXPECT_EQ(p.decide(R"({"action":"tool","target":"s.t","agent":"a","args":{"n":5,"s":"x4yz"}})"), "allow");
    EXPECT_EQ(p.decide(R"({"action":"tool","target":"s.t","agent":"a","args":{"n":102999,"s":"q"}})"), "allow");
    EXPECT_EQ(p.decide(R"({"action":"tool","target":"s.t","agent":"a","args":{"n":103000,"s":"q"}})"), "deny");
}

// A `prefix.*` pattern over more tools than are worth copying its code into: one copy behind a range test.
TEST(CodeGen, WidePatternsUseARangeGuard) {
    std::string text = "policy p version 1 by principal \"t\";\nagent a { }\n";
    for (int i = 0; i < 30; ++i) text += "tool m.t" + std::to_string(100 + i) + "();\n";
    text += "tool a.first();\ntool z.last();\n";
    text += "permit tool m.* when request.purpose == \"ops\";\nforbid tool m.t105;\npermit tool z.last;\n";
    Compiled p(text);
    ASSERT_TRUE(p.engine) << p.error;
    auto req = [](const std::string& tool, const std::string& purpose) {
        return R"({"action":"tool","target":")" + tool + R"(","agent":"a","args":{},"request":{"purpose":")" + purpose +
               R"("}})";
    };
    EXPECT_EQ(p.decide(req("m.t100", "ops")), "allow");
    EXPECT_EQ(p.decide(req("m.t129", "ops")), "allow");
    EXPECT_EQ(p.decide(req("m.t105", "ops")), "deny");
    EXPECT_EQ(p.decide(req("m.t110", "other")), "deny");
    EXPECT_EQ(p.decide(req("a.first", "ops")), "deny");
    EXPECT_EQ(p.decide(req("z.last", "ops")), "allow");
}

// Subjects: long lists and groups (a set_has on a constant set of agent ids), and the agent dispatch of sends.
TEST(CodeGen, LongAgentListsAndGroups) {
    std::string text = "policy p version 1 by principal \"t\";\n";
    std::string list, group;
    for (int i = 0; i < 20; ++i) {
        text += "agent g" + std::to_string(10 + i) + " { }\n";
        if (i % 2 == 0) list += std::string(list.empty() ? "" : ", ") + "g" + std::to_string(10 + i);
        if (i % 3 == 0) group += std::string(group.empty() ? "" : ", ") + "g" + std::to_string(10 + i);
    }
    text += "group many = {" + group + "};\n";
    text += "permit send from agent {" + list + "} to group many;\n";
    text += "permit net.connect by group many when net.port == 22;\n";
    text += "permit gpu.alloc when agent in many;\n";
    Compiled p(text);
    ASSERT_TRUE(p.engine) << p.error;
    for (int from = 10; from < 30; ++from)
        for (int to = 10; to < 30; to += 3) {
            std::string r = R"({"action":"send","agent":"g)" + std::to_string(from) + R"(","recipient":"g)" +
                            std::to_string(to) + R"("})";
            std::string want = (from - 10) % 2 == 0 && (to - 10) % 3 == 0 ? "allow" : "deny";
            EXPECT_EQ(p.decide(r), want) << r;
        }
    EXPECT_EQ(p.decide(R"({"action":"net.connect","agent":"g13","net":{"port":22}})"), "allow");
    EXPECT_EQ(p.decide(R"({"action":"net.connect","agent":"g14","net":{"port":22}})"), "deny");
    EXPECT_EQ(p.decide(R"({"action":"gpu.alloc","agent":"g16"})"), "allow");
    EXPECT_EQ(p.decide(R"({"action":"gpu.alloc","agent":"g17"})"), "deny");
}

// Conditions compared as values, with unknowns on either side.
TEST(CodeGen, ConditionsComparedAsValues) {
    Compiled p(R"(policy p version 1 by principal "t";
agent a { }
permit net.connect when (net.port > 1000) == (request.purpose == "batch");
forbid net.connect when (net.host like "*.evil") != false;
forbid net.connect when net.port == 81 and not (net.host like "*.good");
)");
    ASSERT_TRUE(p.engine) << p.error;
    EXPECT_EQ(p.decide(R"({"action":"net.connect","agent":"a","net":{"port":8080,"host":"h"},
                           "request":{"purpose":"batch"}})"),
              "allow");
    EXPECT_EQ(
        p.decide(R"({"action":"net.connect","agent":"a","net":{"port":80,"host":"h"},"request":{"purpose":"x"}})"),
        "allow");
    EXPECT_EQ(p.decide(R"({"action":"net.connect","agent":"a","net":{"port":80,"host":"h"},
                           "request":{"purpose":"batch"}})"),
              "deny");
    EXPECT_EQ(p.decide(R"({"action":"net.connect","agent":"a","net":{"port":8080},"request":{"purpose":"batch"}})"),
              "deny");  // the forbid's host is absent: unknown, and a forbid matches on unknown
    EXPECT_EQ(p.decide(R"({"action":"net.connect","agent":"a","net":{"port":81,"host":"a.good"},
                           "request":{"purpose":"x"}})"),
              "allow");
    EXPECT_EQ(p.decide(R"({"action":"net.connect","agent":"a","net":{"port":81,"host":"a.bad"},
                           "request":{"purpose":"x"}})"),
              "deny");
    EXPECT_EQ(p.decide(R"({"action":"net.connect","agent":"a","request":{"purpose":"batch"}})"), "deny");
    EXPECT_EQ(p.decide(R"({"action":"net.connect","agent":"a","net":{"port":8080,"host":"x.evil"},
                           "request":{"purpose":"batch"}})"),
              "deny");
}

// Set literals with request values, and labels the program never declared.
TEST(CodeGen, DynamicSetsAndUndeclaredValues) {
    Compiled p(R"(policy p version 1 by principal "t";
label Low < High;
attribute team: string;
agent a { team "red"; }
agent b { }
permit net.connect when net.host in {agent.team, "blue", request.user};
permit gpu.alloc when {request.user, "x"} <= session.approvals;
permit send when message.label <= High and session.taint == {Low, message.label};
)");
    ASSERT_TRUE(p.engine) << p.error;
    EXPECT_EQ(p.decide(R"({"action":"net.connect","agent":"a","net":{"host":"red"},"request":{"user":"u"}})"), "allow");
    EXPECT_EQ(p.decide(R"({"action":"net.connect","agent":"a","net":{"host":"u"},"request":{"user":"u"}})"), "allow");
    EXPECT_EQ(p.decide(R"({"action":"net.connect","agent":"b","net":{"host":"blue"},"request":{"user":"u"}})"),
              "deny");  // b has no team: the set is unknown
    EXPECT_EQ(p.decide(R"({"action":"gpu.alloc","agent":"a","request":{"user":"u"},
                           "session":{"approvals":["x","u","v"]}})"),
              "allow");
    EXPECT_EQ(p.decide(R"({"action":"gpu.alloc","agent":"a","request":{"user":"w"},"session":{"approvals":["x"]}})"),
              "deny");
    EXPECT_EQ(p.decide(R"({"action":"send","agent":"a","recipient":"b","message":{"label":"High"},
                           "session":{"taint":["Low","High"]}})"),
              "allow");
}

// 64 levels of and/or fill the scratch stack exactly; 65 cannot be compiled, and say so.
TEST(CodeGen, NestingUpToTheScratchStack) {
    auto policy = [](int depth) {
        std::string c = "net.port == 0";
        for (int i = 1; i <= depth; ++i) c = "(net.port == " + std::to_string(i) + " or (" + c + "))";
        return "policy p version 1 by principal \"t\";\nagent a { }\npermit net.connect when " + c + ";\n";
    };
    Compiled ok(policy(64));
    ASSERT_TRUE(ok.engine) << ok.error;
    EXPECT_EQ(ok.decide(R"({"action":"net.connect","agent":"a","net":{"port":0}})"), "allow");
    EXPECT_EQ(ok.decide(R"({"action":"net.connect","agent":"a","net":{"port":64}})"), "allow");
    EXPECT_EQ(ok.decide(R"({"action":"net.connect","agent":"a","net":{"port":65}})"), "deny");
    EXPECT_EQ(ok.decide(R"({"action":"net.connect","agent":"a"})"), "deny");
    Compiled deep(policy(65));
    EXPECT_FALSE(deep.engine);
    EXPECT_NE(deep.error.find("more than 64 deep"), std::string::npos) << deep.error;
}

// The same sources always give the same image.
TEST(CodeGen, Deterministic) {
    const char* text = R"(policy p version 1 by principal "t";
label L < H;
attribute tags: set<string>;
agent a { tags {"x", "y"}; }
tool s.t(q: string);
permit tool s.t when args.q in agent.tags and session.taint <= H;
forbid tool s.* when args.q startswith "rm";
)";
    Compiled one(text), two(text);
    ASSERT_TRUE(one.engine && two.engine) << one.error << two.error;
    EXPECT_EQ(one.engine->image(), two.engine->image());
}

// A rate limit's window (in nanoseconds) and key reach the image's rule table.
TEST(CodeGen, RateLimitWindowAndKey) {
    Compiled p(R"(policy p version 1 by principal "t";
agent a { }
permit net.connect limit 5 per 30s per session;
permit gpu.alloc limit 2 per minute;
forbid tool *;
)");
    ASSERT_TRUE(p.engine) << p.error;
    const auto& rules = p.engine->image().rules;
    ASSERT_EQ(rules.size(), 3u);
    EXPECT_TRUE(rules[0].limited);
    EXPECT_EQ(rules[0].limit, 5);
    EXPECT_EQ(rules[0].window, 30'000'000'000);
    EXPECT_EQ(rules[0].key, policy::Rule::LimitKey::Session);
    EXPECT_TRUE(rules[1].limited);
    EXPECT_EQ(rules[1].limit, 2);
    EXPECT_EQ(rules[1].window, 60'000'000'000);
    EXPECT_EQ(rules[1].key, policy::Rule::LimitKey::Agent);
    EXPECT_FALSE(rules[2].limited);
    EXPECT_EQ(rules[2].window, 0);
    EXPECT_EQ(rules[2].key, policy::Rule::LimitKey::Agent);
}

// Tool::callers from permit rules' target and subject patterns alone; a forbid, and a rule's condition, change
// nothing.
TEST(CodeGen, ToolCallers) {
    Compiled p(R"(policy p version 1 by principal "t";
agent w { }
agent x { }
agent y { }
agent z { }
group g = {y, z};
tool a.b();
tool a.c();
tool c.d();
tool e.f();
permit tool a.* by agent x when request.purpose == "ops";
permit tool * by group g limit 3 per minute;
permit tool c.d by agent *;
forbid tool e.f by agent w;
forbid tool * by agent w;
require approve("lead") for tool e.f by agent w;
)");
    ASSERT_TRUE(p.engine) << p.error;
    const policy::Image& image = p.engine->image();
    auto callers = [&](const std::string& tool) -> std::vector<std::string> {
        const std::uint32_t i = p.engine->toolIndex(tool);
        EXPECT_NE(i, policy::kNone) << tool;
        if (i == policy::kNone || image.tools[i].callers == policy::kNone) return {"(any)"};
        std::vector<std::string> names;
        for (std::uint64_t id : image.sets.at(image.tools[i].callers)) names.push_back(image.text(id));
        return names;
    };
    EXPECT_EQ(callers("a.b"), (std::vector<std::string>{"x", "y", "z"}));
    EXPECT_EQ(callers("a.c"), (std::vector<std::string>{"x", "y", "z"}));
    EXPECT_EQ(callers("c.d"), std::vector<std::string>{"(any)"});  // `by agent *`
    EXPECT_EQ(callers("e.f"), (std::vector<std::string>{"y", "z"}));
    EXPECT_EQ(p.decide(R"({"action":"tool","target":"c.d","agent":"w","args":{}})"), "deny");  // the forbid
    EXPECT_EQ(p.decide(R"({"action":"tool","target":"a.b","agent":"y","args":{}})"), "allow");
}

TEST(CodeGen, ToolCallersWithoutPermits) {
    Compiled p(R"(policy p version 1 by principal "t";
agent x { }
tool a.b();
tool a.c();
permit tool a.c;
forbid tool a.b by agent x;
permit net.connect by agent x;
)");
    ASSERT_TRUE(p.engine) << p.error;
    const policy::Image& image = p.engine->image();
    const policy::Tool& b = image.tools.at(p.engine->toolIndex("a.b"));
    ASSERT_NE(b.callers, policy::kNone);
    EXPECT_TRUE(image.sets.at(b.callers).empty());  // no permit names it: no agent can be allowed it
    EXPECT_EQ(image.tools.at(p.engine->toolIndex("a.c")).callers, policy::kNone);  // no `by`: any agent
}

// A tool's pin reaches the image as the canonical text of requests: lowercase digits, algorithm prefix.
TEST(CodeGen, ToolPinText) {
    const std::string digits = "E1DD8DD19519D48BC2FEEB41D31705812A2A9D71F7623CF75E7091BA4A751E76";
    const std::string digits384(96, 'c');
    Compiled p("policy p version 1 by principal \"t\";\nagent a { }\ntool s.one() pin sha256:\"" + digits +
               "\";\ntool s.two() pin sha384:\"" + digits384 + "\";\ntool s.three();\n" +
               "permit tool s.* when tool.pinned;\n");
    ASSERT_TRUE(p.engine) << p.error;
    const policy::Image& image = p.engine->image();
    const policy::Tool& one = image.tools.at(p.engine->toolIndex("s.one"));
    const policy::Tool& two = image.tools.at(p.engine->toolIndex("s.two"));
    const policy::Tool& three = image.tools.at(p.engine->toolIndex("s.three"));
    ASSERT_TRUE(one.pinned());
    std::string lower = digits;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(image.text(one.pin), "sha256:" + lower);
    ASSERT_TRUE(two.pinned());
    EXPECT_EQ(image.text(two.pin), "sha384:" + digits384);
    EXPECT_FALSE(three.pinned());
    EXPECT_EQ(three.pin, policy::kNone);
    // tool.pinned reads the pin: the two agree with the reference evaluator.
    EXPECT_EQ(p.decide(R"({"action":"tool","target":"s.one","agent":"a","args":{}})"), "allow");
    EXPECT_EQ(p.decide(R"({"action":"tool","target":"s.three","agent":"a","args":{}})"), "deny");
}

}  // namespace
