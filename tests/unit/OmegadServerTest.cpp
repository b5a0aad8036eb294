// The real omegad binary under hostile and changing conditions: malformed, oversized, slow and non-reading clients,
// too many connections, peers not on the allow list or speaking for another agent — each answered or closed while
// another client keeps getting decisions; reloads by SIGHUP and by the control call under load; a clean SIGTERM.
#include "OmegadTestUtil.h"

#include "omega/log/Log.h"
#include "omega/omegad/Client.h"
#include "omega/policy/JsonReader.h"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

using namespace omega;
using namespace omega::omegad;
using namespace omega::omegad::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

std::string header(std::uint32_t length) {
    return std::string{static_cast<char>(length >> 24), static_cast<char>((length >> 16) & 0xFF),
                       static_cast<char>((length >> 8) & 0xFF), static_cast<char>(length & 0xFF)};
}

// A client on its own thread that decides without pause and counts what it got; any failure is recorded.
class SteadyClient {
public:
    explicit SteadyClient(const std::string& socket) {
        thread_ = std::thread([this, socket] {
            auto c = Client::connect(socket);
            if (!c) return fail("connect: " + c.error());
            while (!stop_.load()) {
                const auto t0 = Clock::now();
                auto r = c->call(Type::Decide, searchRequest("helper"));
                const auto took = Clock::now() - t0;
                if (!r) return fail("call: " + r.error());
                if (r->type != replyType(Type::Decide) || jsonString(r->body, "decision") != "allow")
                    return fail("unexpected reply: " + r->body);
                decided_.fetch_add(1);
                std::lock_guard lock(mu_);
                slowest_ = std::max(slowest_, took);
            }
        });
    }
    ~SteadyClient() { finish(); }
    void finish() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    std::uint64_t decided() const { return decided_.load(); }
    // Waits until it has decided `more` further requests: the server is serving it now.
    bool progresses(std::uint64_t more = 20, std::chrono::milliseconds within = 5s) const {
        const std::uint64_t from = decided();
        const auto deadline = Clock::now() + within;
        while (Clock::now() < deadline) {
            if (decided() >= from + more) return true;
            std::this_thread::sleep_for(2ms);
        }
        return false;
    }
    std::string failure() {
        std::lock_guard lock(mu_);
        return failure_;
    }
    Clock::duration slowest() {
        std::lock_guard lock(mu_);
        return slowest_;
    }

private:
    void fail(const std::string& what) {
        std::lock_guard lock(mu_);
        failure_ = what;
    }
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> decided_{0};
    std::mutex mu_;
    std::string failure_;
    Clock::duration slowest_{};
};

// Reads until the server closes the connection (draining replies); false if it stays open `within`.
bool closesWithin(Client& c, std::chrono::milliseconds within) {
    const auto deadline = Clock::now() + within;
    ::fcntl(c.fd(), F_SETFL, ::fcntl(c.fd(), F_GETFL) | O_NONBLOCK);
    char buffer[65536];
    while (Clock::now() < deadline) {
        const ssize_t n = ::recv(c.fd(), buffer, sizeof buffer, 0);
        if (n == 0) return true;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return true;  // reset: closed too
        if (n < 0) std::this_thread::sleep_for(5ms);
    }
    return false;
}

// Connects as another user from a child process and returns the first reply frame's body (or "closed"/"connect").
// Only system calls between fork and _exit: the parent has threads.
std::string replyAsUser(const std::string& socket, uid_t uid, gid_t gid, const std::string& request) {
    int pipefd[2];
    if (::pipe(pipefd) != 0) return "pipe";
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, socket.c_str(), socket.size() + 1);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(pipefd[0]);
        if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(2);
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            [[maybe_unused]] ssize_t w = ::write(pipefd[1], "connect", 7);
            ::_exit(0);
        }
        // The server may refuse and close before this is sent: no SIGPIPE for that.
        [[maybe_unused]] ssize_t w = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
        char buffer[4096];
        std::size_t got = 0;
        for (;;) {
            const ssize_t n = ::read(fd, buffer + got, sizeof buffer - got);
            if (n <= 0) break;
            got += static_cast<std::size_t>(n);
            if (got >= 5 && got >= 4 + ((static_cast<std::size_t>(static_cast<unsigned char>(buffer[2])) << 8) |
                                        static_cast<unsigned char>(buffer[3])))
                break;
        }
        if (got == 0) {
            w = ::write(pipefd[1], "closed", 6);
        } else if (got > 5) {
            w = ::write(pipefd[1], buffer + 5, got - 5);
        }
        ::_exit(0);
    }
    ::close(pipefd[1]);
    std::string out;
    char buffer[4096];
    for (ssize_t n; (n = ::read(pipefd[0], buffer, sizeof buffer)) > 0;)
        out.append(buffer, static_cast<std::size_t>(n));
    ::close(pipefd[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return out;
}

std::uint64_t statusNumber(Client& c, std::string_view section, std::string_view key) {
    auto r = c.call(Type::Status);
    if (!r || r->type != replyType(Type::Status)) return ~0ull;
    policy::json::Document doc;
    std::string error;
    if (!doc.parse(r->body, error)) return ~0ull;
    std::optional<policy::json::Value> v = doc.root();
    if (!section.empty()) v = v->find(section);
    if (!v) return ~0ull;
    v = v->find(key);
    return v && v->integer() ? static_cast<std::uint64_t>(*v->integer()) : ~0ull;
}

}  // namespace

TEST(OmegadServer, HostileClientsDoNotStopServiceForOthers) {
    DaemonFiles s(/*durable=*/false);
    const bool root = ::geteuid() == 0;
    std::string peers = "  - uid: " + std::to_string(::getuid()) +
                        "\n    allow: [decide, approve, reload, status]\n    agents: [helper]\n";
    if (root) peers += "  - uid: 65534\n    allow: [status]\n";
    s.writeConfig(
        "  max_connections: 6\n  max_frame: 65536\n  frame_timeout_ms: 300\n  write_timeout_ms: 300\n"
        "  idle_timeout_ms: 20000\n",
        peers);
    if (root) {
        // Other users must reach the socket to be refused by the allow list rather than by file permissions.
        ::chmod(s.dir.path().c_str(), 0711);
        std::string yaml = readFile(s.configPath);
        yaml.replace(yaml.find("mode: 0600"), 10, "mode: 0666");
        writeFile(s.configPath, yaml);
    }
    auto d = Daemon::start(s.configPath, s.socketPath, s.dir.file("omegad.err"));
    ASSERT_TRUE(d);
    SteadyClient steady(s.socketPath);
    ASSERT_TRUE(steady.progresses()) << steady.failure();

    {  // A frame of length 0: an error, then the connection is closed.
        auto c = Client::connect(s.socketPath);
        ASSERT_TRUE(c);
        ASSERT_TRUE(c->sendBytes(header(0)));
        auto r = c->readReply();
        ASSERT_TRUE(r) << r.error();
        EXPECT_TRUE(r->isError());
        EXPECT_NE(r->body.find("a frame of length 0"), std::string::npos) << r->body;
        EXPECT_FALSE(c->readReply());
    }
    {  // An oversized length: an error naming the limit, then closed, before any body is read.
        auto c = Client::connect(s.socketPath);
        ASSERT_TRUE(c);
        ASSERT_TRUE(c->sendBytes(header(0x7FFFFFFF) + "\x01{"));
        auto r = c->readReply();
        ASSERT_TRUE(r) << r.error();
        EXPECT_EQ(r->body, R"({"error":"a frame of 2147483647 bytes is over the limit of 65536"})");
        EXPECT_TRUE(closesWithin(*c, 2s));
    }
    {  // Garbage JSON, an unknown type, a bad control body: answered, and the connection stays usable.
        auto c = Client::connect(s.socketPath);
        ASSERT_TRUE(c);
        auto garbage = c->call(Type::Decide, "{\"agent\":\"helper\", oops");
        ASSERT_TRUE(garbage);
        EXPECT_EQ(garbage->type, replyType(Type::Decide));
        EXPECT_EQ(jsonString(garbage->body, "decision"), "deny");
        EXPECT_NE(jsonString(garbage->body, "error").value_or("").find("not a JSON object"), std::string::npos)
            << garbage->body;
        auto binary = c->call(Type::Decide, std::string("\xff\xfe\x00\x01", 4));
        ASSERT_TRUE(binary);
        EXPECT_EQ(jsonString(binary->body, "decision"), "deny");
        ASSERT_TRUE(c->sendBytes(frame(0x42, "")));
        auto unknown = c->readReply();
        ASSERT_TRUE(unknown);
        EXPECT_EQ(unknown->body, R"({"error":"unknown message type 0x42"})");
        auto badGrant = c->call(Type::Grant, R"({"id":"xyz","role":"lead"})");
        ASSERT_TRUE(badGrant);
        EXPECT_TRUE(badGrant->isError());
        auto unknownId = c->call(Type::Grant, approvalBody(0x1234, "lead"));
        ASSERT_TRUE(unknownId);
        EXPECT_EQ(unknownId->body,
                  R"x({"error":"approval 0000000000001234: no such approval (unknown, or answered long ago)"})x");
        auto ping = c->call(Type::Ping);
        ASSERT_TRUE(ping);
        EXPECT_EQ(ping->type, replyType(Type::Ping));
    }
    {  // An agent the peer may not speak for: denied with the reason, also when hidden behind a duplicate key.
        auto c = Client::connect(s.socketPath);
        ASSERT_TRUE(c);
        auto other = c->call(Type::Decide, searchRequest("auditor"));
        ASSERT_TRUE(other);
        EXPECT_EQ(jsonString(other->body, "decision"), "deny");
        EXPECT_EQ(jsonString(other->body, "error"),
                  "peer uid " + std::to_string(::getuid()) + " may not speak for agent `auditor`");
        EXPECT_GT(jsonInt(other->body, "log_seq").value_or(0), 0);  // the refusal is in the decision log
        auto twice = c->call(Type::Decide, R"({"agent":"helper","action":"tool","target":"docs.search",)"
                                           R"("agent":"auditor","args":{"query":"q"}})");
        ASSERT_TRUE(twice);
        EXPECT_EQ(jsonString(twice->body, "decision"), "deny");
        auto none = c->call(Type::Decide, R"({"action":"tool","target":"docs.search","args":{"query":"q"}})");
        ASSERT_TRUE(none);
        EXPECT_EQ(jsonString(none->body, "error"), "the request names no agent (`agent` must be a string)");
        auto own = c->call(Type::Decide, searchRequest("helper"));
        ASSERT_TRUE(own);
        EXPECT_EQ(jsonString(own->body, "decision"), "allow");
    }
    {  // A client that sends half a header and stalls is cut off after the frame timeout.
        auto c = Client::connect(s.socketPath);
        ASSERT_TRUE(c);
        ASSERT_TRUE(c->sendBytes(std::string("\0\0", 2)));
        const auto t0 = Clock::now();
        auto r = c->readReply();
        ASSERT_TRUE(r) << r.error();
        EXPECT_EQ(r->body, R"({"error":"timed out waiting for the rest of a frame"})");
        EXPECT_TRUE(closesWithin(*c, 2s));
        EXPECT_LT(Clock::now() - t0, 3s);
        ASSERT_TRUE(steady.progresses()) << steady.failure();
    }
    {  // A client that sends requests but never reads the replies is closed after the write timeout.
        auto c = Client::connect(s.socketPath);
        ASSERT_TRUE(c);
        ::fcntl(c->fd(), F_SETFL, ::fcntl(c->fd(), F_GETFL) | O_NONBLOCK);
        const std::string one = frame(0x01, searchRequest("helper"));
        std::string burst;
        for (int i = 0; i < 64; ++i) burst += one;
        // Send until both directions are full (the server is stuck writing replies nobody reads) or it closes.
        std::size_t sent = 0;
        auto lastProgress = Clock::now();
        const auto deadline = Clock::now() + 5s;
        while (Clock::now() - lastProgress < 300ms && Clock::now() < deadline) {
            const ssize_t n = ::send(c->fd(), burst.data(), burst.size(), MSG_NOSIGNAL);
            if (n > 0) {
                sent += static_cast<std::size_t>(n);
                lastProgress = Clock::now();
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                std::this_thread::sleep_for(10ms);
            } else {
                break;
            }
        }
        EXPECT_GT(sent, 100'000u);
        ASSERT_TRUE(steady.progresses()) << steady.failure();
        // Well past the write timeout before reading anything: reading earlier would unblock the server.
        std::this_thread::sleep_for(1500ms);
        EXPECT_TRUE(closesWithin(*c, 5s));
    }
    {  // Too many connections: the one over the cap gets an error and is closed; once a slot frees up, it works.
        std::vector<Client> held;
        for (int i = 0; i < 5; ++i) {  // the steady client holds the sixth slot
            auto c = Client::connect(s.socketPath);
            ASSERT_TRUE(c);
            ASSERT_TRUE(c->call(Type::Ping));
            held.push_back(std::move(*c));
        }
        auto over = Client::connect(s.socketPath);
        ASSERT_TRUE(over);
        auto r = over->readReply();
        ASSERT_TRUE(r) << r.error();
        EXPECT_EQ(r->body, R"({"error":"too many connections (the limit is 6); try again later"})");
        EXPECT_TRUE(closesWithin(*over, 2s));
        ASSERT_TRUE(steady.progresses()) << steady.failure();
        held.pop_back();
        bool served = false;
        for (int attempt = 0; attempt < 100 && !served; ++attempt) {
            auto again = Client::connect(s.socketPath);
            ASSERT_TRUE(again);
            auto pong = again->call(Type::Ping);
            served = pong && pong->type == replyType(Type::Ping);
            if (!served) std::this_thread::sleep_for(10ms);
        }
        EXPECT_TRUE(served);
    }
    if (root) {
        // Another uid not on the list: refused at connect. nobody (65534) may read the status but not decide.
        const std::string stranger = replyAsUser(s.socketPath, 12345, 12345, frame(0x07, ""));
        EXPECT_EQ(stranger.rfind(R"({"error":"peer uid 12345 gid 12345 pid )", 0), 0u) << stranger;
        EXPECT_NE(stranger.find(R"( is not on the allow list"})"), std::string::npos) << stranger;
        const std::string status = replyAsUser(s.socketPath, 65534, 65534, frame(0x06, ""));
        EXPECT_NE(status.find("\"generation\":1"), std::string::npos) << status;
        const std::string decide = replyAsUser(s.socketPath, 65534, 65534, frame(0x01, searchRequest("helper")));
        EXPECT_NE(decide.find("may not decide (not in its `allow` list)"), std::string::npos) << decide;
    } else {
        GTEST_LOG_(INFO) << "not root: the checks of other uids are skipped";
    }
    ASSERT_TRUE(steady.progresses()) << steady.failure();
    steady.finish();
    EXPECT_EQ(steady.failure(), "");
    EXPECT_LT(steady.slowest(), 2s);

    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(10'000), 0) << d->stderrText();
    if (root) {
        EXPECT_NE(d->stderrText().find("not on the allow list"), std::string::npos);
    }
}

TEST(OmegadServer, ReloadsUnderLoadBySignalAndControlCall) {
    DaemonFiles s;
    const std::string variantPath = s.dir.file("variant.omb");
    const bundle::Measurement a = s.measurement;
    const bundle::Measurement b = s.writeBundle(variantPath, variantPolicy());
    ASSERT_NE(a, b);
    const std::string unsignedPath = s.dir.file("unsigned.omb");
    auto unsignedBytes = fixture::compileBundle({kPolicy}, nullptr);
    writeFile(unsignedPath, std::string(unsignedBytes.begin(), unsignedBytes.end()));
    const std::string goodA = readFile(s.bundlePath), goodB = readFile(variantPath);

    auto d = Daemon::start(s.configPath, s.socketPath, s.dir.file("omegad.err"));
    ASSERT_TRUE(d);

    // Clients decide throughout; each decision must be whole and made by exactly one of the two bundles.
    std::atomic<bool> stop{false};
    std::atomic<int> bad{0};
    std::atomic<std::uint64_t> byA{0}, byB{0};
    std::mutex mu;
    std::string firstBad;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            auto c = Client::connect(s.socketPath);
            auto report = [&](const std::string& what) {
                std::lock_guard lock(mu);
                if (bad.fetch_add(1) == 0) firstBad = what;
            };
            if (!c) return report("connect: " + c.error());
            std::int64_t lastGeneration = 0;
            while (!stop.load()) {
                auto r = c->call(Type::Decide, searchRequest("helper", "s" + std::to_string(t)));
                if (!r) return report("call: " + r.error());
                const auto decision = jsonString(r->body, "decision");
                const auto bundleHex = jsonString(r->body, "bundle");
                const auto generation = jsonInt(r->body, "generation").value_or(-1);
                if (r->type != replyType(Type::Decide) || decision != "allow" || jsonString(r->body, "error"))
                    return report("reply: " + r->body);
                if (bundleHex == a.hex()) {
                    byA.fetch_add(1);
                } else if (bundleHex == b.hex()) {
                    byB.fetch_add(1);
                } else {
                    return report("no known bundle: " + r->body);
                }
                if (generation < lastGeneration) return report("the generation went back: " + r->body);
                lastGeneration = generation;
            }
        });
    }

    auto control = Client::connect(s.socketPath);
    ASSERT_TRUE(control);
    auto generation = [&] { return statusNumber(*control, "", "generation"); };
    auto waitForGeneration = [&](std::uint64_t want) {
        const auto deadline = Clock::now() + 10s;
        while (Clock::now() < deadline && generation() < want) std::this_thread::sleep_for(5ms);
        return generation() == want;
    };
    auto waitForRefused = [&](std::uint64_t want) {
        const auto deadline = Clock::now() + 10s;
        while (Clock::now() < deadline && statusNumber(*control, "stats", "refused") < want)
            std::this_thread::sleep_for(5ms);
        return statusNumber(*control, "stats", "refused") == want;
    };
    std::uint64_t gen = generation();
    ASSERT_EQ(gen, 1u);
    std::uint64_t refused = 0;
    for (int round = 0; round < 6; ++round) {
        // SIGHUP after replacing the configured file.
        writeFile(s.bundlePath, round % 2 == 0 ? goodB : goodA);
        d->signal(SIGHUP);
        ASSERT_TRUE(waitForGeneration(++gen)) << d->stderrText();
        // The control call, with an explicit path and with none.
        auto r = control->call(Type::Reload, reloadBody(round % 2 == 0 ? s.bundlePath : variantPath));
        ASSERT_TRUE(r);
        ASSERT_EQ(r->type, replyType(Type::Reload)) << r->body;
        EXPECT_EQ(jsonInt(r->body, "generation"), static_cast<std::int64_t>(++gen));
        r = control->call(Type::Reload);
        ASSERT_TRUE(r);
        EXPECT_EQ(jsonInt(r->body, "generation"), static_cast<std::int64_t>(++gen));
        // Bad bundles are refused and the loaded one stays: unsigned by control call, then garbage by SIGHUP.
        r = control->call(Type::Reload, reloadBody(unsignedPath));
        ASSERT_TRUE(r);
        EXPECT_TRUE(r->isError());
        EXPECT_NE(r->body.find("reload refused: "), std::string::npos) << r->body;
        EXPECT_TRUE(waitForRefused(++refused));
        const std::string before = readFile(s.bundlePath);
        writeFile(s.bundlePath, "not a bundle");
        d->signal(SIGHUP);
        EXPECT_TRUE(waitForRefused(++refused));
        EXPECT_EQ(generation(), gen);
        writeFile(s.bundlePath, before);
        r = control->call(Type::Reload, reloadBody(s.dir.file("missing.omb")));
        ASSERT_TRUE(r);
        EXPECT_EQ(r->body, R"({"error":"reload refused: cannot open bundle `)" + s.dir.file("missing.omb") + "`\"}");
    }
    // A path that is not a regular file (here a FIFO nobody writes to) is refused rather than read forever.
    const std::string fifo = s.dir.file("fifo.omb");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto r = control->call(Type::Reload, reloadBody(fifo));
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->body, R"({"error":"reload refused: bundle `)" + fifo + "` is not a regular file\"}");
    std::this_thread::sleep_for(50ms);
    stop = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(bad.load(), 0) << firstBad;
    EXPECT_GT(byA.load() + byB.load(), 0u);
    EXPECT_NE(d->stderrText().find("refused, keeping bundle"), std::string::npos);

    control->close();
    d->signal(SIGTERM);
    ASSERT_EQ(d->wait(10'000), 0) << d->stderrText();
    log::VerifyOptions options;
    options.expectClosed = true;
    auto report = log::verify(s.logPath, s.logKey.pub(), options);
    ASSERT_TRUE(report) << report.error();
    EXPECT_TRUE(report->ok()) << (report->problems.empty() ? "" : report->problems[0].what);
    EXPECT_EQ(report->decisions, byA.load() + byB.load());
}

TEST(OmegadServer, StopsCleanlyAnsweringWhatIsInFlight) {
    DaemonFiles s;
    auto d = Daemon::start(s.configPath, s.socketPath, s.dir.file("omegad.err"));
    ASSERT_TRUE(d);
    auto agent = Client::connect(s.socketPath);
    ASSERT_TRUE(agent);
    auto pending = agent->call(Type::Decide, R"({"action":"tool","target":"pay.refund","agent":"helper",)"
                                             R"("args":{"amount":5}})");
    ASSERT_TRUE(pending);
    ASSERT_EQ(jsonString(pending->body, "decision"), "pending") << pending->body;
    std::uint64_t id = 0;
    ASSERT_TRUE(parseHex16(jsonString(pending->body, "pending").value_or(""), id));
    // A long wait is in flight when SIGTERM comes: it is answered (still pending) and the daemon exits 0.
    ASSERT_TRUE(agent->sendBytes(frame(0x04, waitBody(id, 60'000))));
    std::this_thread::sleep_for(100ms);
    auto idle = Client::connect(s.socketPath);
    ASSERT_TRUE(idle);
    const auto t0 = Clock::now();
    d->signal(SIGTERM);
    auto answer = agent->readReply();
    ASSERT_TRUE(answer) << answer.error();
    EXPECT_EQ(answer->body, "{\"id\":\"" + hex16(id) + R"(","state":"pending"})");
    EXPECT_EQ(d->wait(10'000), 0) << d->stderrText();
    EXPECT_LT(Clock::now() - t0, 5s);
    EXPECT_FALSE(idle->readReply());  // closed without a reply: it had nothing in flight
    struct stat st {};
    EXPECT_NE(::lstat(s.socketPath.c_str(), &st), 0);  // the socket is gone
    EXPECT_FALSE(Client::connect(s.socketPath));
    log::VerifyOptions options;
    options.expectClosed = true;
    auto report = log::verify(s.logPath, s.logKey.pub(), options);
    ASSERT_TRUE(report) << report.error();
    EXPECT_TRUE(report->ok()) << (report->problems.empty() ? "" : report->problems[0].what);
    EXPECT_TRUE(report->closed);
    EXPECT_NE(d->stderrText().find("omegad: stopped"), std::string::npos);
}

TEST(OmegadServer, CommandLineAndStartUpFailures) {
    DaemonFiles s;
    auto run = [&](const std::string& args) {
        const std::string cmd = std::string(OMEGAD_BINARY) + " " + args + " >" + s.dir.file("out") + " 2>&1";
        const int status = std::system(cmd.c_str());
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    };
    EXPECT_EQ(run("--version"), 0);
    EXPECT_EQ(readFile(s.dir.file("out")).rfind("omegad ", 0), 0u);
    EXPECT_EQ(run("--help"), 0);
    EXPECT_EQ(run(""), 2);
    EXPECT_EQ(run("--frobnicate"), 2);
    EXPECT_EQ(run("--config " + s.configPath + " --check-config"), 0);
    EXPECT_NE(readFile(s.dir.file("out")).find(": ok: bundle"), std::string::npos);
    writeFile(s.dir.file("bad.yaml"), "bundle: [\n");
    EXPECT_EQ(run("--config " + s.dir.file("bad.yaml")), 2);
    EXPECT_EQ(readFile(s.dir.file("out")),
              s.dir.file("bad.yaml") + ":1:9: unterminated flow sequence (a flow sequence must end on its line)\n");
    // A bundle that fails its checks: the daemon does not start (fail closed) and leaves no socket.
    const std::string good = readFile(s.bundlePath);
    writeFile(s.bundlePath, good.substr(0, good.size() / 2));
    EXPECT_EQ(run("--config " + s.configPath), 1);
    EXPECT_NE(readFile(s.dir.file("out")).find("omegad: error: bundle `"), std::string::npos);
    struct stat st {};
    EXPECT_NE(::lstat(s.socketPath.c_str(), &st), 0);
    writeFile(s.bundlePath, good);
    // A second daemon on the same socket is refused; the first keeps serving.
    auto first = Daemon::start(s.configPath, s.socketPath, s.dir.file("first.err"));
    ASSERT_TRUE(first);
    EXPECT_EQ(run("--config " + s.configPath), 1);
    const std::string out = readFile(s.dir.file("out"));
    EXPECT_TRUE(out.find("another server is listening") != std::string::npos ||
                out.find("decision log") != std::string::npos)
        << out;
    auto c = Client::connect(s.socketPath);
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->call(Type::Ping));
    first->signal(SIGINT);
    EXPECT_EQ(first->wait(10'000), 0);
}
