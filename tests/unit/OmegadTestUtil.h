// Test support for omegad: a temporary directory with keys, a signed bundle and a configuration, the real omegad
// binary run as a child process, and small readers for the JSON replies.
#pragma once

#include "MonitorFixture.h"
#include "omega/bundle/Bundle.h"

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace omega::omegad::test {

// Two agents (helper, auditor), a search anyone may run, a lookup only helper may, a refund that needs a lead.
extern const char* const kPolicy;
// kPolicy with one more rule: another measurement, the same decisions for the requests the tests send.
std::string variantPolicy();
// One search request of docs.search by `agent` (in `session` when given).
std::string searchRequest(const std::string& agent = "helper", const std::string& session = "");

std::string readFile(const std::string& path);
void writeFile(const std::string& path, std::string_view bytes);

// A fresh directory under /tmp (short, so socket paths fit), removed with its contents.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

// Keys, the bundle of kPolicy and a configuration in a TempDir.
struct DaemonFiles {
    TempDir dir;
    fixture::KeyPair publisher, logKey;
    std::string bundlePath, configPath, socketPath, logPath, logPublicPath;
    bundle::Measurement measurement;  // of the bundle at bundlePath

    explicit DaemonFiles(bool durable = true);
    // Writes the configuration: `limits` and `peers` are YAML blocks (indented two spaces) for those keys; an empty
    // `peers` allows the test's own uid everything.
    void writeConfig(const std::string& limits = "", const std::string& peers = "");
    // A bundle of `policy` signed by the publisher, written to `path`; returns its measurement.
    bundle::Measurement writeBundle(const std::string& path, const std::string& policy);

    bool durable;
};

// The real omegad binary, run as a child with its stderr in a file.
class Daemon {
public:
    // Starts omegad and waits (up to 10 s) until its socket answers a ping. Null when it did not come up (the
    // test fails with its stderr).
    static std::unique_ptr<Daemon> start(const std::string& configPath, const std::string& socketPath,
                                         const std::string& stderrPath);
    ~Daemon();  // SIGKILL when still running
    pid_t pid() const { return pid_; }
    void signal(int sig) const;
    // The exit status (or 128 + signal), or nothing when it did not exit within `timeoutMs`.
    std::optional<int> wait(int timeoutMs);
    std::string stderrText() const;

private:
    pid_t pid_ = -1;
    std::string stderrPath_;
};

// Members of a one-level JSON reply, read with the runtime's JSON reader.
std::optional<std::string> jsonString(std::string_view json, std::string_view key);
std::optional<std::int64_t> jsonInt(std::string_view json, std::string_view key);

}  // namespace omega::omegad::test
