// The monitor library: loading (signatures, refusals that keep the old bundle), the decision path from JSON and from
// the builder, rate limits over sliding windows, session taint, approvals, redaction in the log, state bounds, and
// fail-closed errors.
#include "MonitorFixture.h"
#include "omega/monitor/Monitor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace omega;
using monitor::Verdict;

namespace {

const char* kPolicy = R"(policy shop version 1 by principal "tenant:shop";
label Public < Internal < PHI;
agent helper { role "support"; }
agent auditor { role "audit"; }
tool crm.lookup(customer: string, ssn: string) returns PHI;
tool web.search(query: string) returns Public sink;
tool pay.refund(amount: int) returns Internal;
data notes { path "/srv/notes/**"; label Internal; }
permit tool crm.lookup by agent helper limit 3 per minute per agent obligation redact("ssn");
permit tool web.search by agent *;
forbid tool web.search when session.taint >= PHI;
permit tool pay.refund by agent helper when args.amount <= 500 obligation approve("lead"), approve("finance");
forbid tool pay.refund limit 5 per hour per user;
permit read notes by agent auditor obligation audit;
permit tool web.search by agent auditor when "lead" in session.approvals;
)";

struct Clock {
    std::atomic<std::int64_t> now{1'000'000'000'000};
    std::function<std::int64_t()> fn() {
        return [this] { return now.load(); };
    }
};

std::string req(const std::string& body) {
    return "{" + body + "}";
}

class MonitorTest : public ::testing::Test {
protected:
    void SetUp() override {
        key = fixture::newKey();
        bytes = fixture::compileBundle({kPolicy}, &key);
        ASSERT_FALSE(bytes.empty());
    }
    monitor::Options options() {
        monitor::Options o;
        o.trusted.push_back(key.pub());
        o.monotonicNs = clock.fn();
        o.wallNs = clock.fn();
        return o;
    }
    fixture::KeyPair key;
    std::vector<std::uint8_t> bytes;
    Clock clock;
};

TEST_F(MonitorTest, RefusesWithoutAGoodSignatureAndKeepsTheOldBundle) {
    monitor::Monitor m(options());
    EXPECT_EQ(m.decide(req(R"("action":"tool","target":"web.search","agent":"helper","args":{"query":"x"})")).error,
              "no bundle is loaded");
    auto first = m.load(bytes);
    ASSERT_TRUE(first) << first.error();
    EXPECT_EQ(m.generation(), 1u);

    // Unsigned, signed by another key, truncated, one flipped byte: each refused with its check; the old one stays.
    const auto other = fixture::newKey();
    auto unsignedBytes = fixture::compileBundle({kPolicy}, nullptr);
    auto otherBytes = fixture::compileBundle({kPolicy}, &other);
    auto r1 = m.load(unsignedBytes);
    ASSERT_FALSE(r1);
    EXPECT_NE(r1.error().find("signature: no signatures"), std::string::npos) << r1.error();
    auto r2 = m.load(otherBytes);
    ASSERT_FALSE(r2);
    EXPECT_NE(r2.error().find("signature"), std::string::npos) << r2.error();
    auto cut = bytes;
    cut.resize(cut.size() / 2);
    EXPECT_FALSE(m.load(cut));
    auto flipped = bytes;
    flipped[flipped.size() / 3] ^= 0x40;
    EXPECT_FALSE(m.load(flipped));
    EXPECT_FALSE(m.load({}));
    EXPECT_EQ(m.generation(), 1u);
    EXPECT_EQ(m.measurement(), *first);
    EXPECT_EQ(m.stats().refused, 5u);
    auto d = m.decide(req(R"("action":"tool","target":"web.search","agent":"helper","args":{"query":"x"})"));
    EXPECT_EQ(d.verdict, Verdict::Allow) << d.json();
    EXPECT_EQ(d.measurement, *first);

    // No keys at all: refused unless unsigned bundles are allowed explicitly.
    monitor::Options none = options();
    none.trusted.clear();
    monitor::Monitor strict(none);
    EXPECT_FALSE(strict.load(unsignedBytes));
    none.allowUnsigned = true;
    monitor::Monitor lax(none);
    EXPECT_TRUE(lax.load(unsignedBytes));
}

TEST_F(MonitorTest, BadRequestsAndClientSuppliedStateAreDenied) {
    monitor::Monitor m(options());
    ASSERT_TRUE(m.load(bytes));
    for (const std::string& bad : {
             std::string("not json"),
             req(R"("action":"tool","target":"nope.tool","agent":"helper","args":{})"),
             req(R"("action":"tool","target":"web.search","agent":"ghost","args":{"query":"x"})"),
             req(R"("action":"tool","target":"web.search","agent":"helper","args":{"query":1})"),
             req(R"("action":"tool","target":"web.search","agent":"helper","args":{"query":"x"},)"
                 R"("session":{"taint":[]})"),
             req(R"("action":"tool","target":"web.search","agent":"helper","args":{"query":"x"},)"
                 R"("session":{"approvals":["lead"]})"),
             req(R"("action":"tool","target":"web.search","agent":"helper","args":{"query":"x"},)"
                 R"("state":{"counts":{"0:9":0}})"),
         }) {
        auto d = m.decide(bad);
        EXPECT_EQ(d.verdict, Verdict::Deny) << bad;
        EXPECT_FALSE(d.error.empty()) << bad;
    }
    EXPECT_EQ(m.stats().errors, 7u);
}

TEST_F(MonitorTest, RateLimitsSlideAndCountPerKey) {
    monitor::Monitor m(options());
    ASSERT_TRUE(m.load(bytes));
    const std::string call =
        req(R"("action":"tool","target":"crm.lookup","agent":"helper","args":{"customer":"c1","ssn":"123"})");
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(m.decide(call).verdict, Verdict::Allow) << i;
        clock.now += 10'000'000'000;  // 10 s
    }
    // The fourth within a minute: the limited permit no longer matches, so the default deny.
    auto d = m.decide(call);
    EXPECT_EQ(d.verdict, Verdict::Deny) << d.json();
    EXPECT_EQ(d.reason, "no rule permits it (default deny)");
    // 31 s on, the first event (at t0) has left the window; the second (t0 + 10 s) has not.
    clock.now += 31'000'000'000;
    EXPECT_EQ(m.decide(call).verdict, Verdict::Allow);
    EXPECT_EQ(m.decide(call).verdict, Verdict::Deny);

    // Forbid beyond 5 per hour per user: the first five matching requests pass the forbid (they still need
    // approvals: pending), the sixth is denied by it, and users are counted apart.
    auto refund = [&](const std::string& user) {
        return m.decide(req(R"("action":"tool","target":"pay.refund","agent":"helper","args":{"amount":10},)"
                            R"("request":{"user":")" +
                            user + "\"}"));
    };
    for (int i = 0; i < 5; ++i) EXPECT_EQ(refund("ann").verdict, Verdict::Pending) << i;
    auto sixth = refund("ann");
    EXPECT_EQ(sixth.verdict, Verdict::Deny);
    ASSERT_EQ(sixth.rules.size(), 1u);
    EXPECT_TRUE(sixth.rules[0].forbid);
    EXPECT_EQ(refund("bob").verdict, Verdict::Pending);
    // Denied requests that match the forbid's body still count (language.md 5.6): after an hour of them, still
    // denied until an hour after the last five.
    clock.now += 3'600'000'000'000;
    EXPECT_EQ(refund("ann").verdict, Verdict::Pending);
}

TEST_F(MonitorTest, TaintFollowsTheSessionAndCannotBeShedByLeavingOutTheId) {
    monitor::Monitor m(options());
    ASSERT_TRUE(m.load(bytes));
    auto search = [&](const std::string& session) {
        std::string s = session.empty() ? "" : R"(,"session":{"id":")" + session + "\"}";
        return m.decide(req(R"("action":"tool","target":"web.search","agent":"helper","args":{"query":"q"})" + s));
    };
    auto lookup = [&](const std::string& session) {
        std::string s = session.empty() ? "" : R"(,"session":{"id":")" + session + "\"}";
        return m.decide(
            req(R"("action":"tool","target":"crm.lookup","agent":"helper","args":{"customer":"c","ssn":"1"})" + s));
    };
    EXPECT_EQ(search("s1").verdict, Verdict::Allow);
    EXPECT_EQ(lookup("s1").verdict, Verdict::Allow);  // returns PHI: s1 is now tainted
    auto d = search("s1");
    EXPECT_EQ(d.verdict, Verdict::Deny) << d.json();
    EXPECT_EQ(search("s2").verdict, Verdict::Allow);  // another session is not
    // Without a session id the agent's own implicit session is used, and it is tainted too.
    EXPECT_EQ(search("").verdict, Verdict::Allow);
    EXPECT_EQ(lookup("").verdict, Verdict::Allow);
    EXPECT_EQ(search("").verdict, Verdict::Deny);
    EXPECT_EQ(m.stats().sessions, 3u);  // s1, s2 (web.search returns Public) and helper's own
    // A session idle for longer than the bound is forgotten.
    clock.now += std::int64_t{25} * 3600 * 1000000000;
    EXPECT_EQ(search("s1").verdict, Verdict::Allow);
}

TEST_F(MonitorTest, ApprovalsHoldTheActionUntilEveryRoleApproves) {
    monitor::Monitor m(options());
    ASSERT_TRUE(m.load(bytes));
    const std::string refund =
        req(R"("action":"tool","target":"pay.refund","agent":"helper","args":{"amount":100},"session":{"id":"s9"})");
    auto d = m.decide(refund);
    ASSERT_EQ(d.verdict, Verdict::Pending) << d.json();
    EXPECT_EQ(d.approve, (std::vector<std::string>{"finance", "lead"}));
    ASSERT_NE(d.pendingId, 0u);
    EXPECT_EQ(m.approval(d.pendingId), monitor::Approval::Pending);
    EXPECT_EQ(m.wait(d.pendingId, std::chrono::milliseconds(20)), monitor::Approval::Pending);

    auto wrongRole = m.grant(d.pendingId, "ceo");
    ASSERT_FALSE(wrongRole);
    EXPECT_NE(wrongRole.error().find("was not asked"), std::string::npos);
    EXPECT_FALSE(m.grant(12345, "lead"));

    // A waiter on another thread wakes when the last role approves.
    std::atomic<int> seen{-1};
    std::thread waiter([&] { seen = static_cast<int>(m.wait(d.pendingId, std::chrono::seconds(10))); });
    auto g1 = m.grant(d.pendingId, "lead");
    ASSERT_TRUE(g1) << g1.error();
    EXPECT_EQ(*g1, monitor::Approval::Pending);
    auto g2 = m.grant(d.pendingId, "finance");
    ASSERT_TRUE(g2);
    EXPECT_EQ(*g2, monitor::Approval::Approved);
    waiter.join();
    EXPECT_EQ(seen.load(), static_cast<int>(monitor::Approval::Approved));
    EXPECT_FALSE(m.grant(d.pendingId, "lead"));  // answered

    // The roles are now the session's approvals: a rule that asks for one sees it.
    auto search = req(R"("action":"tool","target":"web.search","agent":"auditor","args":{"query":"q"},)"
                      R"("session":{"id":"s9"})");
    {
        auto x = m.decide(search);
        EXPECT_EQ(x.verdict, Verdict::Allow) << x.json();
    }

    // Refused, and expired.
    auto d2 = m.decide(refund);
    ASSERT_EQ(d2.verdict, Verdict::Pending);
    EXPECT_EQ(*m.refuse(d2.pendingId, "finance"), monitor::Approval::Refused);
    EXPECT_EQ(m.wait(d2.pendingId, std::chrono::milliseconds(1)), monitor::Approval::Refused);
    auto d3 = m.decide(refund);
    ASSERT_EQ(d3.verdict, Verdict::Pending);
    clock.now += std::int64_t{16} * 60 * 1000000000;
    EXPECT_EQ(m.approval(d3.pendingId), monitor::Approval::Expired);
    EXPECT_FALSE(m.grant(d3.pendingId, "lead"));
}

TEST_F(MonitorTest, StateBoundsDenyRatherThanForget) {
    monitor::Options o = options();
    o.limits.maxSessions = 2;
    o.limits.maxRateEvents = 4;
    o.limits.maxPending = 1;
    monitor::Monitor m(o);
    ASSERT_TRUE(m.load(bytes));
    auto lookup = [&](const std::string& session) {
        return m.decide(req(R"("action":"tool","target":"crm.lookup","agent":"helper",)"
                            R"("args":{"customer":"c","ssn":"1"},"session":{"id":")" +
                            session + "\"}"));
    };
    EXPECT_EQ(lookup("a").verdict, Verdict::Allow);
    EXPECT_EQ(lookup("b").verdict, Verdict::Allow);
    auto full = lookup("c");  // a third tainted session would exceed the bound
    EXPECT_EQ(full.verdict, Verdict::Deny);
    EXPECT_NE(full.error.find("state full"), std::string::npos) << full.json();
    // Once the idle sessions are gone there is room again.
    clock.now += std::int64_t{25} * 3600 * 1000000000;
    EXPECT_EQ(lookup("c").verdict, Verdict::Allow);

    auto refund = req(R"("action":"tool","target":"pay.refund","agent":"helper","args":{"amount":1})");
    EXPECT_EQ(m.decide(refund).verdict, Verdict::Pending);
    auto tooMany = m.decide(refund);
    EXPECT_EQ(tooMany.verdict, Verdict::Deny);
    EXPECT_NE(tooMany.error.find("approvals are held"), std::string::npos) << tooMany.json();
}

TEST_F(MonitorTest, BuilderDecidesLikeJsonAndGoesStaleOnReload) {
    monitor::Monitor m(options());
    ASSERT_TRUE(m.load(bytes));
    monitor::Builder b;
    ASSERT_TRUE(m.rebind(b));
    const std::uint32_t helper = b.agent("helper"), search = b.tool("web.search"), lookup = b.tool("crm.lookup");
    const std::uint32_t query = b.param(search, "query");
    ASSERT_NE(helper, policy::kNone);
    ASSERT_NE(query, policy::kNone);
    EXPECT_EQ(b.field("session.taint"), policy::kNone);  // kept by the monitor
    EXPECT_EQ(b.param(search, "nope"), policy::kNone);

    monitor::Decision d;
    ASSERT_TRUE(b.reset(schema::Action::Tool, search, helper));
    b.setString(query, "weather");
    b.setSession("b1");
    m.decide(b, d);
    EXPECT_EQ(d.verdict, Verdict::Allow) << d.json();
    EXPECT_EQ(d.rules.size(), 1u);

    // The builder's state is the same state: a PHI lookup in b1 taints it for the JSON path as well.
    ASSERT_TRUE(b.reset(schema::Action::Tool, lookup, helper));
    b.setString(b.param(lookup, "customer"), "c");
    b.setString(b.param(lookup, "ssn"), "1");
    b.setSession("b1");
    m.decide(b, d);
    EXPECT_EQ(d.verdict, Verdict::Allow) << d.json();
    EXPECT_EQ(m.decide(req(R"("action":"tool","target":"web.search","agent":"helper","args":{"query":"q"},)"
                           R"("session":{"id":"b1"})"))
                  .verdict,
              Verdict::Deny);

    // A value of the wrong type, a missing reset, deciding twice: each a deny with an error.
    ASSERT_TRUE(b.reset(schema::Action::Tool, search, helper));
    b.setInt(query, 7);
    m.decide(b, d);
    EXPECT_EQ(d.verdict, Verdict::Deny);
    EXPECT_NE(d.error.find("builder"), std::string::npos);
    m.decide(b, d);
    EXPECT_EQ(d.verdict, Verdict::Deny);
    EXPECT_FALSE(b.reset(schema::Action::Tool, 999, helper));
    m.decide(b, d);
    EXPECT_EQ(d.verdict, Verdict::Deny);

    // After a reload the builder's ids are stale until it is bound again.
    ASSERT_TRUE(m.load(bytes));
    ASSERT_TRUE(b.reset(schema::Action::Tool, search, helper));
    b.setString(query, "weather");
    m.decide(b, d);
    EXPECT_EQ(d.verdict, Verdict::Deny);
    EXPECT_NE(d.error.find("stale"), std::string::npos);
    ASSERT_TRUE(m.rebind(b));
    ASSERT_TRUE(b.reset(schema::Action::Tool, b.tool("web.search"), b.agent("helper")));
    b.setString(b.param(b.tool("web.search"), "query"), "weather");
    b.describe(false);
    m.decide(b, d);
    EXPECT_EQ(d.verdict, Verdict::Allow);
    EXPECT_EQ(d.generation, 2u);
}

// image(): the loaded bundle's tables, with each tool's pin text and possible callers, kept alive across a reload.
TEST_F(MonitorTest, ImageShowsToolPinsAndCallers) {
    const std::string pin = "sha256:" + std::string(60, 'a') + "0b1c";
    // The digits written in uppercase: the image holds the canonical (lowercase) text that requests carry.
    const std::string text =
        "policy gate version 1 by principal \"tenant:gate\";\n"
        "agent alice { }\nagent bob { }\nagent carol { }\n"
        "tool fs.read(path: string) pin sha256:\"" +
        std::string(60, 'A') +
        "0B1C\";\n"
        "tool fs.write(path: string);\n"
        "permit tool fs.read by agent {alice, bob};\n"
        "permit tool fs.write by agent carol when args.path startswith \"/tmp/\";\n"
        "forbid tool fs.* by agent carol when args.path == \"/etc/passwd\";\n";
    monitor::Monitor m(options());
    EXPECT_EQ(m.image(), nullptr);
    ASSERT_TRUE(m.load(fixture::compileBundle({text}, &key)));
    const std::shared_ptr<const policy::Image> image = m.image();
    ASSERT_NE(image, nullptr);
    auto tool = [&](std::string_view name) -> const policy::Tool& {
        for (const policy::Tool& t : image->tools)
            if (image->text(t.name) == name) return t;
        ADD_FAILURE() << "no tool " << name;
        return image->tools.at(0);
    };
    auto names = [&](std::uint32_t set) {
        std::vector<std::string> out;
        for (std::uint64_t id : image->sets.at(set)) out.push_back(image->text(static_cast<std::uint32_t>(id)));
        return out;
    };
    const policy::Tool& read = tool("fs.read");
    ASSERT_TRUE(read.pinned());
    EXPECT_EQ(image->text(read.pin), pin);
    ASSERT_NE(read.callers, policy::kNone);
    EXPECT_EQ(names(read.callers), (std::vector<std::string>{"alice", "bob"}));
    const policy::Tool& write = tool("fs.write");
    EXPECT_FALSE(write.pinned());
    ASSERT_NE(write.callers, policy::kNone);
    EXPECT_EQ(names(write.callers), std::vector<std::string>{"carol"});

    // A reload installs another image; the one held stays as it was.
    ASSERT_TRUE(m.load(bytes));
    EXPECT_NE(m.image(), image);
    EXPECT_EQ(image->text(read.pin), pin);
    EXPECT_EQ(m.image()->tools.size(), 3u);
}

TEST_F(MonitorTest, ReloadKeepsCountersOfUnchangedRulesAndTaint) {
    monitor::Monitor m(options());
    ASSERT_TRUE(m.load(bytes));
    const std::string call = req(R"("action":"tool","target":"crm.lookup","agent":"helper",)"
                                 R"("args":{"customer":"c1","ssn":"1"},"session":{"id":"k"})");
    for (int i = 0; i < 3; ++i) ASSERT_EQ(m.decide(call).verdict, Verdict::Allow);
    ASSERT_EQ(m.decide(call).verdict, Verdict::Deny);
    // The same rules in a new bundle (an extra rule elsewhere changes the measurement): counters and taint stay.
    std::string changed = kPolicy;
    changed += "permit tool pay.refund by agent auditor;\n";
    auto next = fixture::compileBundle({changed}, &key);
    ASSERT_TRUE(m.load(next));
    EXPECT_EQ(m.decide(call).verdict, Verdict::Deny);
    EXPECT_EQ(m.decide(req(R"("action":"tool","target":"web.search","agent":"helper","args":{"query":"q"},)"
                           R"("session":{"id":"k"})"))
                  .verdict,
              Verdict::Deny);
    // A rule whose limit changed is a new rule: its counters start from zero.
    std::string loosened = kPolicy;
    const std::string from = "limit 3 per minute";
    loosened.replace(loosened.find(from), from.size(), "limit 4 per minute");
    ASSERT_TRUE(m.load(fixture::compileBundle({loosened}, &key)));
    EXPECT_EQ(m.decide(call).verdict, Verdict::Allow);
}

TEST_F(MonitorTest, LogsEveryDecisionWithRedactionAndDeniesWhatTheLogRefuses) {
    std::vector<monitor::LogEntry> entries;
    std::mutex mu;
    bool failing = false;
    monitor::Options o = options();
    o.log = [&](const monitor::LogEntry& e) -> monitor::Result<std::uint64_t> {
        std::lock_guard lock(mu);
        if (failing) return bundle::Error{"disk full"};
        entries.push_back(e);
        return static_cast<std::uint64_t>(entries.size());
    };
    monitor::Monitor m(o);
    ASSERT_TRUE(m.load(bytes));
    ASSERT_EQ(entries.size(), 1u);  // the load event
    EXPECT_EQ(entries[0].kind, monitor::LogEntry::Kind::Event);
    auto d = m.decide(req(R"("action":"tool","target":"crm.lookup","agent":"helper",)"
                          R"("args":{"customer":"c1","ssn":"078-05-1120"},"session":{"id":"r"})"));
    ASSERT_EQ(d.verdict, Verdict::Allow) << d.json();
    EXPECT_EQ(d.logSeq, 2u);
    ASSERT_EQ(entries.size(), 2u);
    const monitor::LogEntry& e = entries[1];
    EXPECT_EQ(e.kind, monitor::LogEntry::Kind::Decision);
    EXPECT_EQ(e.request.find("078-05-1120"), std::string::npos) << e.request;
    EXPECT_NE(e.request.find(R"("ssn":"[redacted]")"), std::string::npos) << e.request;
    EXPECT_NE(e.request.find(R"("customer":"c1")"), std::string::npos) << e.request;
    EXPECT_NE(e.request.find(R"("state":{"counts":{"shop:9":0})"), std::string::npos) << e.request;
    EXPECT_NE(e.decision.find("\"decision\":\"allow\""), std::string::npos);
    EXPECT_EQ(e.measurement, m.measurement());

    // The next decision in the session shows the taint the monitor supplied.
    auto s = m.decide(req(R"("action":"tool","target":"web.search","agent":"helper","args":{"query":"q"},)"
                          R"("session":{"id":"r"})"));
    EXPECT_EQ(s.verdict, Verdict::Deny);
    EXPECT_NE(entries.back().request.find(R"("taint":["PHI"])"), std::string::npos) << entries.back().request;

    // A request that cannot be decided leaves a record too.
    const std::size_t before = entries.size();
    auto bad = m.decide(req(R"("action":"tool","target":"web.search","agent":"ghost","args":{"query":"q"})"));
    EXPECT_EQ(bad.verdict, Verdict::Deny);
    ASSERT_EQ(entries.size(), before + 1);
    EXPECT_NE(entries.back().decision.find("unknown agent"), std::string::npos) << entries.back().decision;
    EXPECT_EQ(bad.logSeq, entries.size());
    m.decide("{not json");
    ASSERT_EQ(entries.size(), before + 2);
    EXPECT_NE(entries.back().request.find("undecodable"), std::string::npos) << entries.back().request;

    failing = true;
    auto refused = m.decide(req(R"("action":"tool","target":"web.search","agent":"helper","args":{"query":"q"})"));
    EXPECT_EQ(refused.verdict, Verdict::Deny);
    EXPECT_EQ(refused.error, "decision log: disk full");
}

TEST_F(MonitorTest, ConcurrentCallersShareOneExactRateLimit) {
    monitor::Monitor m(options());
    ASSERT_TRUE(m.load(bytes));
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i)
                if (m.decide(req(R"("action":"tool","target":"crm.lookup","agent":"helper",)"
                                 R"("args":{"customer":"c","ssn":"1"})"))
                        .verdict == Verdict::Allow)
                    ++allowed;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(allowed.load(), 3);  // limit 3 per minute per agent, whatever the interleaving
    EXPECT_EQ(m.stats().decisions, 400u);
}

}  // namespace
