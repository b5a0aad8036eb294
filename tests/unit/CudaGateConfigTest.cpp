// The gate's configuration (runtime/cudagate/src/Config.h): `key = value` files, the environment over the file,
// and every error.
#include "Config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>

namespace omega::cudagate {
namespace {

Env envOf(const std::map<std::string, std::string>& vars) {
    return [vars](const char* name) -> const char* {
        auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
}

TEST(CudaGateConfig, FileKeys) {
    Config c;
    std::string error;
    ASSERT_TRUE(
        parseConfigText("# a comment\n"
                        "agent = trainer\n"
                        "\n"
                        "bundle=/etc/omega/policy.omb\r\n"
                        "  trust = /k/a.pem : /k/b.pem:\n"
                        "allow_unsigned = yes\n"
                        "log = /var/log/omega.log\n"
                        "log_key = /k/log.pem\n"
                        "reload_ms = 250\n"
                        "driver = /opt/driver/libcuda.so.1\n"
                        "stats = 1",
                        c, error))
        << error;
    EXPECT_EQ(c.agent, "trainer");
    EXPECT_EQ(c.bundle, "/etc/omega/policy.omb");
    EXPECT_EQ(c.trust, (std::vector<std::string>{"/k/a.pem", "/k/b.pem"}));
    EXPECT_TRUE(c.allowUnsigned);
    EXPECT_EQ(c.log, "/var/log/omega.log");
    EXPECT_EQ(c.logKey, "/k/log.pem");
    EXPECT_EQ(c.reloadMs, 250);
    EXPECT_EQ(c.driver, "/opt/driver/libcuda.so.1");
    EXPECT_TRUE(c.stats);
}

TEST(CudaGateConfig, Defaults) {
    Config c;
    EXPECT_EQ(c.reloadMs, 1000);
    EXPECT_FALSE(c.allowUnsigned);
    EXPECT_TRUE(c.driver.empty());
}

TEST(CudaGateConfig, FileErrors) {
    Config c;
    std::string error;
    EXPECT_FALSE(parseConfigText("agent = a\nagnet = b\n", c, error));
    EXPECT_EQ(error, "line 2: unknown key `agnet`");
    EXPECT_FALSE(parseConfigText("agent\n", c, error));
    EXPECT_EQ(error, "line 1: expected `key = value`");
    EXPECT_FALSE(parseConfigText("reload_ms = -1\n", c, error));
    EXPECT_EQ(error, "line 1: reload_ms: expected milliseconds from 0 to 86400000, found `-1`");
    EXPECT_FALSE(parseConfigText("reload_ms = 10s\n", c, error));
    EXPECT_FALSE(parseConfigText("allow_unsigned = maybe\n", c, error));
    EXPECT_EQ(error, "line 1: allow_unsigned: expected 0 or 1, found `maybe`");
}

TEST(CudaGateConfig, EnvironmentOnly) {
    Config c;
    std::string error;
    ASSERT_TRUE(loadConfig(envOf({{"OMEGA_CUDA_AGENT", "trainer"},
                                  {"OMEGA_CUDA_BUNDLE", "b.omb"},
                                  {"OMEGA_CUDA_TRUST", "k1.pem:k2.pem"},
                                  {"OMEGA_CUDA_RELOAD_MS", "0"},
                                  {"OMEGA_CUDA_ALLOW_UNSIGNED", "1"}}),
                           c, error))
        << error;
    EXPECT_EQ(c.agent, "trainer");
    EXPECT_EQ(c.bundle, "b.omb");
    EXPECT_EQ(c.trust.size(), 2u);
    EXPECT_EQ(c.reloadMs, 0);
    EXPECT_TRUE(c.allowUnsigned);
}

TEST(CudaGateConfig, EnvironmentWinsOverFile) {
    const std::string path = ::testing::TempDir() + "cudagate-config-test.conf";
    std::ofstream(path) << "agent = from-file\nbundle = file.omb\nreload_ms = 5\n";
    Config c;
    std::string error;
    ASSERT_TRUE(loadConfig(envOf({{"OMEGA_CUDA_CONFIG", path}, {"OMEGA_CUDA_AGENT", "from-env"}}), c, error)) << error;
    EXPECT_EQ(c.agent, "from-env");
    EXPECT_EQ(c.bundle, "file.omb");
    EXPECT_EQ(c.reloadMs, 5);

    std::ofstream(path) << "agent = a\nbogus = 1\n";
    EXPECT_FALSE(loadConfig(envOf({{"OMEGA_CUDA_CONFIG", path}}), c, error));
    EXPECT_EQ(error, path + ": line 2: unknown key `bogus`");
    std::remove(path.c_str());
    EXPECT_FALSE(loadConfig(envOf({{"OMEGA_CUDA_CONFIG", path}}), c, error));
    EXPECT_EQ(error, "OMEGA_CUDA_CONFIG: cannot read " + path);
}

TEST(CudaGateConfig, AgentIsRequired) {
    Config c;
    std::string error;
    EXPECT_FALSE(loadConfig(envOf({{"OMEGA_CUDA_BUNDLE", "b.omb"}}), c, error));
    EXPECT_EQ(error, "no agent configured (set OMEGA_CUDA_AGENT, or `agent` in OMEGA_CUDA_CONFIG)");
    EXPECT_EQ(c.bundle, "b.omb");  // what was read stays, for the driver path and messages
    EXPECT_FALSE(loadConfig(envOf({{"OMEGA_CUDA_AGENT", "a"}, {"OMEGA_CUDA_STATS", "2"}}), c, error));
    EXPECT_EQ(error, "OMEGA_CUDA_STATS: stats: expected 0 or 1, found `2`");
}

}  // namespace
}  // namespace omega::cudagate
