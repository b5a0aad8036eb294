// Hot reload under load: client threads decide (from JSON and through builders) while another thread swaps two
// bundles that answer differently, and refused bundles are offered in between. No decision may fail, and each must
// be exactly the answer of the bundle whose measurement it carries.
#include "MonitorFixture.h"
#include "omega/monitor/Monitor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

using namespace omega;
using monitor::Verdict;

namespace {

const char* kAllow = R"(policy p version 1 by principal "tenant:p";
agent a {}
tool web.search(query: string);
tool web.fetch(url: string);
permit tool web.search by agent a;
forbid tool web.fetch;
)";

// The same declarations, the opposite answers.
const char* kDeny = R"(policy p version 2 by principal "tenant:p";
agent a {}
tool web.search(query: string);
tool web.fetch(url: string);
forbid tool web.search;
permit tool web.fetch by agent a;
)";

TEST(MonitorReload, EveryDecisionIsTheAnswerOfTheBundleItNames) {
    const auto key = fixture::newKey();
    const auto allowBytes = fixture::compileBundle({kAllow}, &key);
    const auto denyBytes = fixture::compileBundle({kDeny}, &key);
    ASSERT_FALSE(allowBytes.empty());
    ASSERT_FALSE(denyBytes.empty());
    auto garbage = allowBytes;
    garbage[garbage.size() / 2] ^= 1;

    monitor::Options options;
    options.trusted.push_back(key.pub());
    monitor::Monitor m(options);
    auto mAllow = m.load(allowBytes);
    ASSERT_TRUE(mAllow);
    auto mDeny = m.load(denyBytes);
    ASSERT_TRUE(mDeny);
    ASSERT_NE(*mAllow, *mDeny);

    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> decisions{0}, wrong{0}, errors{0}, seenAllow{0}, seenDeny{0};
    auto check = [&](const monitor::Decision& d, bool search) {
        ++decisions;
        if (!d.error.empty() && d.error.find("stale builder") == std::string::npos) {
            ++errors;
            return;
        }
        if (!d.error.empty()) return;  // a builder that raced a reload: denied, and it rebinds
        const bool allowBundle = d.measurement == *mAllow;
        if (!allowBundle && d.measurement != *mDeny) {
            ++wrong;
            return;
        }
        (allowBundle ? seenAllow : seenDeny)++;
        const bool expectAllow = allowBundle == search;
        if ((d.verdict == Verdict::Allow) != expectAllow) ++wrong;
    };

    std::vector<std::thread> clients;
    for (int t = 0; t < 3; ++t)
        clients.emplace_back([&, t] {
            for (std::uint64_t i = 0; !stop; ++i) {
                const bool search = (i + static_cast<std::uint64_t>(t)) % 2 == 0;
                check(m.decide(search ? R"({"action":"tool","target":"web.search","agent":"a","args":{"query":"q"}})"
                                      : R"({"action":"tool","target":"web.fetch","agent":"a","args":{"url":"u"}})"),
                      search);
            }
        });
    for (int t = 0; t < 2; ++t)
        clients.emplace_back([&] {
            monitor::Builder b;
            monitor::Decision d;
            m.rebind(b);
            for (std::uint64_t i = 0; !stop; ++i) {
                const bool search = i % 2 == 0;
                const std::uint32_t tool = b.tool(search ? "web.search" : "web.fetch");
                if (!b.reset(schema::Action::Tool, tool, b.agent("a"))) {
                    ++errors;
                    continue;
                }
                b.setString(b.param(tool, search ? "query" : "url"), "x");
                m.decide(b, d);
                check(d, search);
                if (!d.error.empty()) m.rebind(b);
            }
        });

    int reloads = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
    while (std::chrono::steady_clock::now() < until) {
        ASSERT_TRUE(m.load(reloads % 2 ? allowBytes : denyBytes));
        ASSERT_FALSE(m.load(garbage));  // refused; the loaded one stays
        ++reloads;
    }
    stop = true;
    for (auto& c : clients) c.join();

    EXPECT_EQ(wrong.load(), 0u);
    EXPECT_EQ(errors.load(), 0u);
    EXPECT_GT(decisions.load(), 1000u);
    EXPECT_GT(seenAllow.load(), 0u);
    EXPECT_GT(seenDeny.load(), 0u);
    EXPECT_GT(reloads, 20);
    EXPECT_EQ(m.generation(), static_cast<std::uint64_t>(2 + reloads));
    std::printf("%llu decisions during %d reloads\n", static_cast<unsigned long long>(decisions.load()), reloads);
}

}  // namespace
