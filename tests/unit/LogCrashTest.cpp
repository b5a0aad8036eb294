// kill -9 in the middle of a stream of durable appends: every record the writer acknowledged is in the log
// afterwards, the log verifies (a half-written last record is reported as a torn tail), and the next open cuts the
// torn tail into a recovery record and continues.
#include "LogTestUtil.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <random>
#include <set>
#include <thread>

namespace omega::log::test {
namespace {

// The child: appenders that report each acknowledged seq on the pipe (8 bytes, atomic under PIPE_BUF), forever.
[[noreturn]] void runChild(const std::string& path, const KeyPair& key, int out, std::size_t padding) {
    WriterOptions o = options(path, key);
    o.checkpointMs = 5;
    o.checkpointRecords = 16;
    o.rotateBytes = 8 << 20;
    auto writer = Writer::open(o);
    if (!writer) std::_Exit(3);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (std::uint64_t i = 0;; ++i) {
                auto seq = (*writer)->append(makeEntry(i * 4 + static_cast<std::uint64_t>(t), padding));
                if (!seq) std::_Exit(4);
                const std::uint64_t value = *seq;
                if (::write(out, &value, sizeof value) != sizeof value) std::_Exit(5);
            }
        });
    }
    for (;;) ::pause();
}

TEST(LogCrash, EveryAcknowledgedRecordSurvivesKill9) {
    std::random_device device;
    const unsigned seed = device();
    std::mt19937 random(seed);
    std::cout << "seed " << seed << '\n';
    int torn = 0;
    for (int round = 0; round < 6; ++round) {
        TempDir dir;
        const KeyPair key = makeKey();
        const std::string path = dir.file("log");
        // Small records make large groups; large ones make long writes that a kill can cut in half.
        const std::size_t padding = round % 2 == 0 ? 100 : 1000 * 1000;
        int fds[2];
        ASSERT_EQ(::pipe(fds), 0);
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(fds[0]);
            runChild(path, key, fds[1], padding);
        }
        ::close(fds[1]);
        ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
        std::set<std::uint64_t> acknowledged;
        const auto drain = [&] {
            std::uint64_t value = 0;
            while (::read(fds[0], &value, sizeof value) == sizeof value) acknowledged.insert(value);
        };
        // The kill comes a random time after the first acknowledgement, not after the fork: a loaded machine or a
        // sanitizer build can take longer than the whole window to open the log.
        const auto patience = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (acknowledged.empty() && std::chrono::steady_clock::now() < patience) {
            drain();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(50 + random() % 400);
        while (std::chrono::steady_clock::now() < deadline) {
            drain();
            std::this_thread::sleep_for(std::chrono::microseconds(200 + random() % 800));
        }
        ASSERT_EQ(::kill(pid, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status)) << "the child failed on its own: exit " << WEXITSTATUS(status);
        ::fcntl(fds[0], F_SETFL, 0);
        drain();
        ::close(fds[0]);
        ASSERT_FALSE(acknowledged.empty()) << "round " << round;

        auto report = verify(path, key.pub);
        ASSERT_TRUE(report) << report.error();
        EXPECT_TRUE(report->ok()) << "round " << round << "\n" << describe(*report);
        torn += report->tornTail.has_value();
        std::set<std::uint64_t> logged;
        for (const auto& r : readAll(path))
            if (r.kind == Kind::Decision || r.kind == Kind::Approval) logged.insert(r.seq);
        for (std::uint64_t seq : acknowledged) {
            ASSERT_TRUE(logged.count(seq))
                << "round " << round << ": acknowledged record " << seq << " is not in the log";
        }
        EXPECT_LE(*acknowledged.rbegin(), report->head.seq);

        // The next writer resumes: a torn tail becomes a recovery record, and the log verifies again.
        {
            auto writer = Writer::open(options(path, key));
            ASSERT_TRUE(writer) << writer.error();
            ASSERT_TRUE((*writer)->append(makeEntry(1)));
        }
        auto after = verify(path, key.pub);
        ASSERT_TRUE(after);
        EXPECT_TRUE(after->ok()) << describe(*after);
        EXPECT_TRUE(after->closed);
        EXPECT_EQ(after->recoveries, report->tornTail ? 1u : 0u);
        std::cout << "round " << round << ": " << acknowledged.size() << " acknowledged, head " << report->head.seq
                  << (report->tornTail ? ", torn tail of " + std::to_string(report->tornTail->length) + " bytes" : "")
                  << ", " << report->files.size() << " files\n";
    }
    std::cout << torn << " of 6 kills left a torn tail\n";
}

}  // namespace
}  // namespace omega::log::test
