// kill -9 of the real omegad in the middle of a stream of decisions: every decision a client saw acknowledged is in
// the log afterwards and the log verifies; a half-written last record is reported as a torn tail, cut on restart and
// recorded; the chain continues across restarts and ends verified and closed.
#include "OmegadTestUtil.h"

#include "omega/log/Log.h"
#include "omega/omegad/Client.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <thread>

using namespace omega;
using namespace omega::omegad;
using namespace omega::omegad::test;
using namespace std::chrono_literals;

namespace {

// The seqs of the decision records in the log, read as they are (verify() checks the chain separately).
std::set<std::uint64_t> decisionSeqs(const std::string& path, std::optional<log::Record>* last = nullptr) {
    std::set<std::uint64_t> seqs;
    auto reader = log::Reader::open(path);
    if (!reader) {
        ADD_FAILURE() << reader.error();
        return seqs;
    }
    for (;;) {
        auto next = (*reader)->next();
        if (!next) {
            ADD_FAILURE() << next.error();
            break;
        }
        if (!*next) break;
        if ((*next)->kind == log::Kind::Decision) seqs.insert((*next)->seq);
        if (last) *last = **next;
    }
    return seqs;
}

std::string firstProblem(const log::VerifyReport& r) {
    return r.problems.empty() ? "" : r.problems[0].file + ": " + r.problems[0].what;
}

}  // namespace

TEST(OmegadCrash, AcknowledgedDecisionsSurviveKill9AndTheChainContinues) {
    DaemonFiles s(/*durable=*/true);
    std::random_device seedSource;
    const unsigned seed = seedSource();
    std::mt19937 rng(seed);
    SCOPED_TRACE("seed " + std::to_string(seed));

    std::set<std::uint64_t> acknowledged;
    std::uint64_t highest = 0;
    constexpr int kRounds = 3;
    for (int round = 0; round < kRounds; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        auto d = Daemon::start(s.configPath, s.socketPath, s.dir.file("omegad.err"));
        ASSERT_TRUE(d);
        std::mutex mu;
        std::set<std::uint64_t> seen;
        std::atomic<std::uint64_t> count{0};
        std::atomic<bool> wrong{false};
        std::vector<std::thread> clients;
        for (int t = 0; t < 4; ++t) {
            clients.emplace_back([&, t] {
                auto c = Client::connect(s.socketPath);
                if (!c) return;
                const std::string session = "r" + std::to_string(round) + "t" + std::to_string(t);
                for (int i = 0;; ++i) {
                    // Searches and lookups, so the log holds requests of more than one shape.
                    const std::string request =
                        i % 2 ? searchRequest("helper", session)
                              : R"({"action":"tool","target":"crm.lookup","agent":"helper","args":{"customer":"c)" +
                                    std::to_string(i) + R"("},"session":{"id":")" + session + "\"}}";
                    auto r = c->call(Type::Decide, request);
                    if (!r) return;  // the daemon is gone: this request was never acknowledged
                    const auto seq = jsonInt(r->body, "log_seq");
                    if (r->type != replyType(Type::Decide) || jsonString(r->body, "decision") != "allow" || !seq) {
                        wrong = true;
                        return;
                    }
                    std::lock_guard lock(mu);
                    seen.insert(static_cast<std::uint64_t>(*seq));
                    count.fetch_add(1);
                }
            });
        }
        // At a random moment once decisions flow.
        while (count.load() < 20) std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 400)(rng)));
        d->signal(SIGKILL);
        EXPECT_EQ(d->wait(10'000), 128 + SIGKILL);
        for (auto& t : clients) t.join();
        EXPECT_FALSE(wrong.load());
        ASSERT_GT(seen.size(), 20u);
        EXPECT_GT(*seen.begin(), highest);  // the chain continued after the previous round's records
        highest = *seen.rbegin();
        acknowledged.insert(seen.begin(), seen.end());

        // Every acknowledged decision is in the log, and the log verifies (a torn tail is a note, not a problem).
        std::optional<log::Record> last;
        const std::set<std::uint64_t> logged = decisionSeqs(s.logPath, &last);
        std::size_t missing = 0;
        for (std::uint64_t seq : acknowledged) missing += logged.count(seq) == 0;
        EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged decisions";
        auto report = log::verify(s.logPath, s.logKey.pub());
        ASSERT_TRUE(report) << report.error();
        EXPECT_TRUE(report->ok()) << firstProblem(*report);
        EXPECT_FALSE(report->closed);

        if (round == 1) {
            // A crash halfway through writing a record: the first half of a copy of the last one at the end.
            ASSERT_TRUE(last);
            const std::string bytes = readFile(s.logPath);
            ASSERT_GE(bytes.size(), last->offset + last->size);
            const std::string half = bytes.substr(last->offset, last->size / 2);
            FILE* f = std::fopen(s.logPath.c_str(), "ab");
            ASSERT_NE(f, nullptr);
            std::fwrite(half.data(), 1, half.size(), f);
            std::fclose(f);
            auto torn = log::verify(s.logPath, s.logKey.pub());
            ASSERT_TRUE(torn) << torn.error();
            EXPECT_TRUE(torn->ok()) << firstProblem(*torn);
            ASSERT_TRUE(torn->tornTail);
            EXPECT_EQ(torn->tornTail->offset, bytes.size());
            EXPECT_EQ(torn->tornTail->length, half.size());
        }
    }

    // A last start on the same log: the chain continues, then a clean stop closes it.
    auto d = Daemon::start(s.configPath, s.socketPath, s.dir.file("omegad.err"));
    ASSERT_TRUE(d);
    {
        auto c = Client::connect(s.socketPath);
        ASSERT_TRUE(c);
        for (int i = 0; i < 5; ++i) {
            auto r = c->call(Type::Decide, searchRequest("helper"));
            ASSERT_TRUE(r);
            const auto seq = jsonInt(r->body, "log_seq");
            ASSERT_TRUE(seq) << r->body;
            EXPECT_GT(static_cast<std::uint64_t>(*seq), highest);
            highest = static_cast<std::uint64_t>(*seq);
            acknowledged.insert(highest);
        }
    }
    d->signal(SIGTERM);
    ASSERT_EQ(d->wait(10'000), 0) << d->stderrText();

    log::VerifyOptions options;
    options.expectClosed = true;
    auto report = log::verify(s.logPath, s.logKey.pub(), options);
    ASSERT_TRUE(report) << report.error();
    EXPECT_TRUE(report->ok()) << firstProblem(*report);
    EXPECT_TRUE(report->closed);
    EXPECT_EQ(report->sessions, static_cast<std::uint64_t>(kRounds + 1));  // one open record per start
    EXPECT_GE(report->recoveries, 1u);                                     // the half record was cut and recorded
    EXPECT_FALSE(report->tornTail);
    const std::set<std::uint64_t> logged = decisionSeqs(s.logPath);
    for (std::uint64_t seq : acknowledged) ASSERT_EQ(logged.count(seq), 1u) << "seq " << seq;
}
