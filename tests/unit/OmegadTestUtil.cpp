// Test support for omegad (OmegadTestUtil.h).
#include "OmegadTestUtil.h"

#include "omega/monitor/Monitor.h"
#include "omega/omegad/Client.h"
#include "omega/policy/JsonReader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#ifndef OMEGAD_BINARY
#error "OMEGAD_BINARY must name the omegad executable"
#endif

namespace omega::omegad::test {

const char* const kPolicy = R"(policy svc version 1 by principal "tenant:test";
label Public < Secret;
agent helper { role "assistant"; }
agent auditor { role "audit"; }
tool docs.search(query: string) returns Public;
tool crm.lookup(customer: string) returns Secret;
tool pay.refund(amount: int) returns Public;
permit tool docs.search by agent *;
permit tool crm.lookup by agent helper;
permit tool pay.refund by agent helper obligation approve("lead");
)";

std::string variantPolicy() {
    return std::string(kPolicy) + "permit tool crm.lookup by agent auditor;\n";
}

std::string searchRequest(const std::string& agent, const std::string& session) {
    std::string r = R"({"action":"tool","target":"docs.search","agent":")" + agent + R"(","args":{"query":"q"})";
    if (!session.empty()) r += R"(,"session":{"id":")" + session + "\"}";
    return r + "}";
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void writeFile(const std::string& path, std::string_view bytes) {
    // Through a rename, so that a daemon reading the file never sees half of it.
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    std::filesystem::rename(tmp, path);
}

TempDir::TempDir() {
    char pattern[] = "/tmp/omegad-test.XXXXXX";
    const char* made = ::mkdtemp(pattern);
    if (made == nullptr) std::abort();
    path_ = made;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

DaemonFiles::DaemonFiles(bool durable_) : durable(durable_) {
    publisher = fixture::newKey();
    logKey = fixture::newKey();
    bundlePath = dir.file("policy.omb");
    configPath = dir.file("omegad.yaml");
    socketPath = dir.file("s.sock");
    logPath = dir.file("decisions.log");
    logPublicPath = dir.file("log.pub.pem");
    writeFile(dir.file("publisher.pub.pem"), publisher.publicPem);
    writeFile(dir.file("log.pem"), logKey.privatePem);
    writeFile(logPublicPath, logKey.publicPem);
    measurement = writeBundle(bundlePath, kPolicy);
    writeConfig();
}

bundle::Measurement DaemonFiles::writeBundle(const std::string& path, const std::string& policy) {
    auto bytes = fixture::compileBundle({policy}, &publisher);
    writeFile(path, std::string(bytes.begin(), bytes.end()));
    monitor::Options o;
    o.trusted.push_back(publisher.pub());
    monitor::Monitor m(o);
    auto loaded = m.load(bytes);
    if (!loaded) {
        ADD_FAILURE() << loaded.error();
        return {};
    }
    return *loaded;
}

void DaemonFiles::writeConfig(const std::string& limits, const std::string& peers) {
    std::string yaml = "# written by OmegadTestUtil\n";
    yaml += "bundle: policy.omb\n";
    yaml += "trusted_keys: [publisher.pub.pem]\n";
    yaml += "socket:\n  path: s.sock\n  mode: 0600\n";
    yaml += "log:\n  path: decisions.log\n  key: log.pem\n  durable: " + std::string(durable ? "true" : "false") + "\n";
    if (!limits.empty()) yaml += "limits:\n" + limits;
    yaml += "peers:\n";
    yaml += peers.empty()
                ? "  - uid: " + std::to_string(::getuid()) + "\n    allow: [decide, approve, reload, status]\n"
                : peers;
    writeFile(configPath, yaml);
}

std::unique_ptr<Daemon> Daemon::start(const std::string& configPath, const std::string& socketPath,
                                      const std::string& stderrPath) {
    auto d = std::unique_ptr<Daemon>(new Daemon);
    d->stderrPath_ = stderrPath;
    const int err = ::open(stderrPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (err < 0) return nullptr;
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(err);
        return nullptr;
    }
    if (pid == 0) {
        // The child: only async-signal-safe calls between fork and exec (the parent has threads).
        if (::dup2(err, STDERR_FILENO) < 0) ::_exit(120);
        ::execl(OMEGAD_BINARY, OMEGAD_BINARY, "--config", configPath.c_str(), static_cast<char*>(nullptr));
        ::_exit(121);
    }
    ::close(err);
    d->pid_ = pid;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            d->pid_ = -1;
            ADD_FAILURE() << "omegad exited at start-up (status " << status << "): " << d->stderrText();
            return nullptr;
        }
        auto c = Client::connect(socketPath, 2000);
        if (c) {
            auto pong = c->call(Type::Ping);
            if (pong && pong->type == replyType(Type::Ping)) return d;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "omegad did not answer within 10 s: " << d->stderrText();
    return nullptr;
}

Daemon::~Daemon() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
}

void Daemon::signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> Daemon::wait(int timeoutMs) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (pid_ > 0) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::nullopt;
}

std::string Daemon::stderrText() const {
    return readFile(stderrPath_);
}

namespace {

std::optional<policy::json::Value> member(policy::json::Document& doc, std::string_view json, std::string_view key) {
    std::string error;
    if (!doc.parse(json, error) || !doc.root().isObject()) return std::nullopt;
    return doc.root().find(key);
}

}  // namespace

std::optional<std::string> jsonString(std::string_view json, std::string_view key) {
    policy::json::Document doc;
    auto v = member(doc, json, key);
    if (!v || !v->isString()) return std::nullopt;
    return std::string(v->string());
}

std::optional<std::int64_t> jsonInt(std::string_view json, std::string_view key) {
    policy::json::Document doc;
    auto v = member(doc, json, key);
    if (!v) return std::nullopt;
    return v->integer();
}

}  // namespace omega::omegad::test
