// The C ABI (omega/monitor.h): loading and refusing bundles, JSON decisions, the builder, approvals, a durable
// decision log that verifies afterwards, and null or bad arguments that deny instead of crashing.
#include "MonitorFixture.h"
#include "omega/log/Log.h"
#include "omega/monitor.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstring>
#include <filesystem>
#include <string>

using namespace omega;

namespace {

const char* kPolicy = R"(policy c version 1 by principal "tenant:c";
label Public < Secret;
agent bot {}
tool kv.get(key: string) returns Secret;
tool net.post(body: string, size: int) sink;
permit tool kv.get by agent bot when args.key like "user/*";
permit tool net.post by agent bot when args.size <= 1000;
forbid tool net.post when session.taint >= Secret;
permit tool kv.get by agent bot when args.key == "admin/root" obligation approve("owner");
)";

struct Decision : omega_decision {
    Decision() : omega_decision{} {}
    ~Decision() { omega_decision_free(this); }
    std::string text() const { return json ? json : ""; }
};

TEST(MonitorCApi, DecidesFromJsonAndThroughTheBuilder) {
    const auto key = fixture::newKey();
    const auto bytes = fixture::compileBundle({kPolicy}, &key);
    const char* pems[] = {key.publicPem.c_str()};
    char* error = nullptr;
    omega_monitor* m = omega_monitor_new(pems, 1, 0, &error);
    ASSERT_NE(m, nullptr) << error;

    Decision none;
    EXPECT_EQ(omega_decide_json(m, "{}", 2, &none), OMEGA_DENY);
    EXPECT_NE(none.text().find("no bundle is loaded"), std::string::npos) << none.text();
    EXPECT_EQ(omega_builder_new(m), nullptr);

    auto bad = bytes;
    bad[10] ^= 1;
    EXPECT_EQ(omega_monitor_load(m, bad.data(), bad.size(), &error), -1);
    ASSERT_NE(error, nullptr);
    EXPECT_NE(std::string(error).find("bundle"), std::string::npos) << error;
    omega_free(error);
    error = nullptr;
    ASSERT_EQ(omega_monitor_load(m, bytes.data(), bytes.size(), &error), 0) << error;
    std::uint8_t measurement[48];
    EXPECT_EQ(omega_monitor_measurement(m, measurement), 1u);

    const std::string get = R"({"action":"tool","target":"kv.get","agent":"bot","args":{"key":"user/7"},)"
                            R"("session":{"id":"c1"}})";
    Decision d1;
    EXPECT_EQ(omega_decide_json(m, get.data(), get.size(), &d1), OMEGA_ALLOW) << d1.text();
    EXPECT_EQ(std::memcmp(d1.measurement, measurement, 48), 0);
    EXPECT_NE(d1.text().find("\"decision\":\"allow\""), std::string::npos);

    // The builder sees the taint the JSON call left in session c1.
    omega_builder* b = omega_builder_new(m);
    ASSERT_NE(b, nullptr);
    const uint32_t bot = omega_builder_agent(b, "bot"), post = omega_builder_tool(b, "net.post");
    ASSERT_NE(bot, OMEGA_NONE);
    ASSERT_NE(post, OMEGA_NONE);
    EXPECT_EQ(omega_builder_tool(b, "net.nope"), OMEGA_NONE);
    const uint32_t body = omega_builder_param(b, post, "body"), size = omega_builder_param(b, post, "size");
    auto decidePost = [&](const char* session, int64_t n) {
        EXPECT_EQ(omega_builder_reset(b, OMEGA_ACTION_TOOL, post, bot, OMEGA_NONE), 0);
        omega_builder_set_string(b, body, "hello", 5);
        omega_builder_set_int(b, size, n);
        omega_builder_set_session(b, session);
        Decision d;
        omega_decide_builder(m, b, &d);
        EXPECT_EQ(d.json, nullptr);
        return d.verdict;
    };
    EXPECT_EQ(decidePost("c2", 10), OMEGA_ALLOW);
    EXPECT_EQ(decidePost("c2", 5000), OMEGA_DENY);
    EXPECT_EQ(decidePost("c1", 10), OMEGA_DENY);  // tainted by kv.get
    // Bad arguments poison the request: deny.
    EXPECT_EQ(omega_builder_reset(b, 99, post, bot, OMEGA_NONE), -1);
    Decision d2;
    EXPECT_EQ(omega_decide_builder(m, b, &d2), OMEGA_DENY);
    EXPECT_EQ(omega_builder_reset(b, OMEGA_ACTION_TOOL, post, bot, OMEGA_NONE), 0);
    omega_builder_set_string(b, body, nullptr, 4);
    Decision d3;
    EXPECT_EQ(omega_decide_builder(m, b, &d3), OMEGA_DENY);

    // Approvals through the C calls.
    const std::string root = R"({"action":"tool","target":"kv.get","agent":"bot","args":{"key":"admin/root"}})";
    Decision p;
    ASSERT_EQ(omega_decide_json(m, root.data(), root.size(), &p), OMEGA_PENDING) << p.text();
    EXPECT_NE(p.pending_id, 0u);
    EXPECT_EQ(omega_approval_wait(m, p.pending_id, 1), OMEGA_APPROVAL_PENDING);
    EXPECT_EQ(omega_approval_grant(m, p.pending_id, "intruder", &error), -1);
    omega_free(error);
    error = nullptr;
    EXPECT_EQ(omega_approval_grant(m, p.pending_id, "owner", &error), OMEGA_APPROVAL_APPROVED);
    EXPECT_EQ(omega_approval_wait(m, p.pending_id, 1), OMEGA_APPROVAL_APPROVED);

    // After a reload the builder is stale until rebound.
    ASSERT_EQ(omega_monitor_load(m, bytes.data(), bytes.size(), nullptr), 0);
    EXPECT_EQ(decidePost("c3", 10), OMEGA_DENY);
    ASSERT_EQ(omega_builder_rebind(b), 0);
    EXPECT_EQ(decidePost("c3", 10), OMEGA_ALLOW);

    // Null arguments never crash.
    Decision n1, n2;
    EXPECT_EQ(omega_decide_json(nullptr, "{}", 2, &n1), OMEGA_DENY);
    EXPECT_EQ(omega_decide_json(m, nullptr, 5, &n2), OMEGA_DENY);
    EXPECT_EQ(omega_decide_json(m, "{}", 2, nullptr), OMEGA_DENY);
    EXPECT_EQ(omega_monitor_load(m, nullptr, 5, nullptr), -1);
    EXPECT_EQ(omega_approval_grant(m, 1, nullptr, nullptr), -1);
    omega_builder_free(b);
    omega_monitor_free(m);
    omega_monitor_free(nullptr);

    const char* garbage[] = {"not a key"};
    EXPECT_EQ(omega_monitor_new(garbage, 1, 0, &error), nullptr);
    ASSERT_NE(error, nullptr);
    omega_free(error);
}

TEST(MonitorCApi, DurableLogVerifies) {
    const auto key = fixture::newKey();
    const auto logKey = fixture::newKey();
    const auto bytes = fixture::compileBundle({kPolicy}, &key);
    const auto dir = std::filesystem::temp_directory_path() / ("omega-capi-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "decisions.log").string();

    const char* pems[] = {key.publicPem.c_str()};
    char* error = nullptr;
    omega_monitor* m = omega_monitor_new(pems, 1, 0, nullptr);
    ASSERT_EQ(omega_monitor_open_log(m, path.c_str(), logKey.privatePem.c_str(), 1, &error), 0) << error;
    ASSERT_EQ(omega_monitor_load(m, bytes.data(), bytes.size(), nullptr), 0);
    EXPECT_EQ(omega_monitor_open_log(m, path.c_str(), logKey.privatePem.c_str(), 1, &error), -1);
    omega_free(error);
    std::uint64_t last = 0;
    for (int i = 0; i < 20; ++i) {
        const std::string get =
            R"({"action":"tool","target":"kv.get","agent":"bot","args":{"key":"user/)" + std::to_string(i) + R"("}})";
        Decision d;
        omega_decide_json(m, get.data(), get.size(), &d);
        EXPECT_GT(d.log_seq, last);
        last = d.log_seq;
    }
    omega_monitor_free(m);

    auto report = log::verify(path, logKey.pub());
    ASSERT_TRUE(report) << report.error();
    EXPECT_TRUE(report->ok());
    EXPECT_EQ(report->decisions, 20u);
    EXPECT_EQ(report->events, 1u);  // the load
    EXPECT_TRUE(report->closed);
    std::filesystem::remove_all(dir);
}

}  // namespace
