// Unit tests of the decision log's Writer and Reader: records and their contents, concurrent appenders sharing
// syncs, checkpoints by count and by timer, rotation across files, resuming a log, cutting a torn tail into a
// recovery record, and what open() and append() refuse.
#include "LogTestUtil.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

namespace omega::log::test {
namespace {

TEST(LogWriter, AppendsRecordsThatVerifyAndReadBack) {
    TempDir dir;
    const KeyPair key = makeKey();
    const std::string path = dir.file("decisions.log");
    Head head;
    std::vector<std::uint64_t> seqs;
    {
        auto writer = Writer::open(options(path, key));
        ASSERT_TRUE(writer) << writer.error();
        for (std::uint64_t i = 1; i <= 50; ++i) {
            auto seq = (*writer)->append(makeEntry(i));
            ASSERT_TRUE(seq) << seq.error();
            seqs.push_back(*seq);
        }
        ASSERT_TRUE((*writer)->close());
        head = (*writer)->head();
        EXPECT_FALSE((*writer)->append(makeEntry(99)));  // closed
    }
    EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
    EXPECT_EQ(seqs.front(), 3u);  // after the open record and the first checkpoint

    auto report = verify(path, key.pub);
    ASSERT_TRUE(report) << report.error();
    EXPECT_TRUE(report->ok()) << describe(*report);
    EXPECT_EQ(report->head, head);
    EXPECT_TRUE(report->closed);
    EXPECT_EQ(report->unsignedRecords, 0u);
    EXPECT_EQ(report->decisions + report->approvals, 50u);
    EXPECT_EQ(report->sessions, 1u);
    EXPECT_EQ(report->checkpoints, 1u + 50 / 8 + 1);  // opening, every 8 records, closing
    EXPECT_TRUE(hasNote(*report, "clean shutdown"));

    const auto records = readAll(path);
    ASSERT_EQ(records.size(), report->records);
    const Record& r = recordAt(records, seqs[9]);
    const Entry want = makeEntry(10);
    const auto& body = std::get<EntryBody>(r.body);
    EXPECT_EQ(r.kind, want.kind);
    EXPECT_EQ(r.timeNs, want.timeNs);
    EXPECT_EQ(body.request, want.request);
    EXPECT_EQ(body.decision, want.decision);
    EXPECT_EQ(body.measurement, want.measurement);
    EXPECT_TRUE(body.digestOfLogged);
    EXPECT_EQ(formatHead(report->head).size(), std::to_string(head.seq).size() + 65);
    EXPECT_EQ(parseHead(formatHead(head)), head);
}

TEST(LogWriter, KeepsACallersDigestOfTheUnredactedRequest) {
    TempDir dir;
    const KeyPair key = makeKey();
    const std::string path = dir.file("log");
    Entry e = makeEntry(1);
    e.request = R"({"args":"[redacted]"})";
    Hash digest{};
    digest.fill(0x5a);
    e.requestDigest = digest;
    {
        auto writer = Writer::open(options(path, key));
        ASSERT_TRUE(writer);
        ASSERT_TRUE((*writer)->append(e));
    }
    const auto records = readAll(path);
    const auto& body = std::get<EntryBody>(recordAt(records, 3).body);
    EXPECT_FALSE(body.digestOfLogged);
    EXPECT_EQ(body.requestDigest, digest);
    auto report = verify(path, key.pub);
    EXPECT_TRUE(report && report->ok()) << describe(*report);
}

TEST(LogWriter, ConcurrentAppendersShareSyncs) {
    TempDir dir;
    const KeyPair key = makeKey();
    const std::string path = dir.file("log");
    constexpr int kThreads = 8, kEach = 100;
    std::vector<std::vector<std::uint64_t>> seqs(kThreads);
    WriterStats stats;
    {
        auto writer = Writer::open(options(path, key));
        ASSERT_TRUE(writer);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < kEach; ++i) {
                    auto seq = (*writer)->append(makeEntry(static_cast<std::uint64_t>(t * kEach + i)));
                    if (seq) seqs[static_cast<std::size_t>(t)].push_back(*seq);
                }
            });
        }
        for (auto& t : threads) t.join();
        stats = (*writer)->stats();
    }
    std::set<std::uint64_t> all;
    for (const auto& s : seqs) {
        EXPECT_EQ(s.size(), std::size_t{kEach});
        EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));  // each thread's records in its order
        all.insert(s.begin(), s.end());
    }
    EXPECT_EQ(all.size(), std::size_t{kThreads * kEach});
    EXPECT_EQ(stats.entries, std::uint64_t{kThreads * kEach});
    // Group commit: appenders that arrive while a sync runs are written and synced together by the next leader.
    EXPECT_LT(stats.syncs, stats.entries);
    auto report = verify(path, key.pub);
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->ok()) << describe(*report);
    EXPECT_EQ(report->decisions + report->approvals, std::uint64_t{kThreads * kEach});
}

TEST(LogWriter, NonDurableWritesAndVerifies) {
    TempDir dir;
    const KeyPair key = makeKey();
    const std::string path = dir.file("log");
    {
        WriterOptions o = options(path, key);
        o.durable = false;
        auto writer = Writer::open(o);
        ASSERT_TRUE(writer);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < 50; ++i) ASSERT_TRUE((*writer)->append(makeEntry(static_cast<std::uint64_t>(i))));
            });
        for (auto& t : threads) t.join();
        EXPECT_EQ((*writer)->stats().syncs, 1u);  // the opening records only
    }
    auto report = verify(path, key.pub);
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->ok() && report->closed) << describe(*report);
}

TEST(LogWriter, CheckpointsOnATimerWhileRecordsWait) {
    TempDir dir;
    const KeyPair key = makeKey();
    const std::string path = dir.file("log");
    WriterOptions o = options(path, key);
    o.checkpointRecords = 0;
    o.checkpointMs = 20;
    auto writer = Writer::open(o);
    ASSERT_TRUE(writer);
    const std::uint64_t before = (*writer)->stats().checkpoints;
    ASSERT_TRUE((*writer)->append(makeEntry(1)));
    ASSERT_TRUE((*writer)->append(makeEntry(2)));
    for (int i = 0; i < 200 && (*writer)->stats().checkpoints == before; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ((*writer)->stats().checkpoints, before + 1);
    // Nothing new: no more checkpoints, and an explicit one has nothing to sign.
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    EXPECT_EQ((*writer)->stats().checkpoints, before + 1);
    auto explicitCheckpoint = (*writer)->checkpoint();
    ASSERT_TRUE(explicitCheckpoint);
    EXPECT_FALSE(*explicitCheckpoint);
    // While the writer runs, the log verifies and every record is signed.
    auto report = verify(path, key.pub);
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->ok()) << describe(*report);
    EXPECT_EQ(report->unsignedRecords, 0u);
    EXPECT_FALSE(report->closed);
}

TEST(LogWriter, RotatesIntoChainedFiles) {
    TempDir dir;
    const KeyPair key = makeKey();
    const std::string path = dir.file("decisions.log");
    WriterOptions o = options(path, key);
    o.rotateBytes = 4096;
    std::uint64_t rotations = 0;
    {
        auto writer = Writer::open(o);
        ASSERT_TRUE(writer);
        for (std::uint64_t i = 1; i <= 200; ++i) ASSERT_TRUE((*writer)->append(makeEntry(i)));
        rotations = (*writer)->stats().rotations;
    }
    auto files = logFiles(path);
    ASSERT_TRUE(files);
    EXPECT_GE(rotations, 5u);
    ASSERT_EQ(files->size(), rotations + 1);
    EXPECT_EQ(fs::path(files->front()).filename(), "decisions.log.000000000001");
    EXPECT_EQ(files->back(), path);
    for (const auto& f : *files) EXPECT_LE(fs::file_size(f), 4096u + 2 * 400);

    auto report = verify(path, key.pub);
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->ok()) << describe(*report);
    EXPECT_EQ(report->decisions + report->approvals, 200u);
    // The directory is the same log.
    auto byDirectory = verify(dir.path(), key.pub);
    ASSERT_TRUE(byDirectory) << byDirectory.error();
    EXPECT_TRUE(byDirectory->ok());
    EXPECT_EQ(byDirectory->head, report->head);
    // Each rotated file ends with a rotation checkpoint and the next one's header chains to it.
    const auto records = readAll(path);
    for (std::size_t i = 0; i + 1 < records.size(); ++i) {
        if (records[i].file == records[i + 1].file) continue;
        const auto* cp = std::get_if<CheckpointBody>(&records[i].body);
        ASSERT_NE(cp, nullptr);
        EXPECT_NE(cp->flags & kCheckpointRotation, 0u);
    }
}

TEST(LogWriter, ResumesAfterReopen) {
    TempDir dir;
    const KeyPair key = makeKey();
    const std::string path = dir.file("log");
    WriterOptions o = options(path, key);
    o.rotateBytes = 8192;
    std::uint64_t last = 0;
    for (int session = 0; session < 3; ++session) {
        auto writer = Writer::open(o);
        ASSERT_TRUE(writer) << writer.error();
        for (std::uint64_t i = 1; i <= 30; ++i) {
            auto seq = (*writer)->append(makeEntry(i));
            ASSERT_TRUE(seq);
            EXPECT_GT(*seq, last);
            last = *seq;
        }
    }
    auto report = verify(path, key.pub);
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->ok()) << describe(*report);
    EXPECT_EQ(report->sessions, 3u);
    EXPECT_TRUE(report->closed);
    const auto records = readAll(path);
    std::size_t afterClose = 0;
    for (const auto& r : records)
        if (const auto* open = std::get_if<OpenBody>(&r.body)) afterClose += (open->flags & kOpenAfterClose) != 0;
    EXPECT_EQ(afterClose, 2u);
}

// A crash while writing leaves part of a record; the next open cuts it and says so in a recovery record.
TEST(LogWriter, CutsATornTailIntoARecoveryRecord) {
    TempDir dir;
    const KeyPair key = makeKey();
    const std::string path = dir.file("log");
    {
        auto writer = Writer::open(options(path, key));
        ASSERT_TRUE(writer);
        for (std::uint64_t i = 1; i <= 10; ++i) ASSERT_TRUE((*writer)->append(makeEntry(i)));
    }
    auto bytes = readBytes(path);
    const auto records = readAll(path);
    const Record& third = recordAt(records, 5);
    const std::uint64_t tornAt = bytes.size();
    const std::vector<std::uint8_t> torn(bytes.begin() + static_cast<std::ptrdiff_t>(third.offset),
                                         bytes.begin() + static_cast<std::ptrdiff_t>(third.offset + third.size / 2));
    bytes.insert(bytes.end(), torn.begin(), torn.end());
    writeBytes(path, bytes);

    auto before = verify(path, key.pub);
    ASSERT_TRUE(before);
    EXPECT_TRUE(before->ok()) << describe(*before);  // a torn tail is a note
    ASSERT_TRUE(before->tornTail);
    EXPECT_EQ(before->tornTail->offset, tornAt);
    EXPECT_EQ(before->tornTail->length, torn.size());
    EXPECT_TRUE(hasNote(*before, "torn tail"));

    {
        auto writer = Writer::open(options(path, key));
        ASSERT_TRUE(writer) << writer.error();
        ASSERT_TRUE((*writer)->append(makeEntry(11)));
    }
    auto after = verify(path, key.pub);
    ASSERT_TRUE(after);
    EXPECT_TRUE(after->ok()) << describe(*after);
    EXPECT_FALSE(after->tornTail);
    EXPECT_EQ(after->recoveries, 1u);
    EXPECT_TRUE(hasNote(*after, "the writer cut " + std::to_string(torn.size()) + " bytes of an incomplete record"));
    for (const auto& r : readAll(path)) {
        if (const auto* rec = std::get_if<RecoveryBody>(&r.body)) {
            EXPECT_EQ(rec->offset, tornAt);
            EXPECT_EQ(r.offset, tornAt);
            EXPECT_EQ(rec->length, torn.size());
            EXPECT_EQ(rec->digest, sha256Of(torn));
        }
    }
}

TEST(LogWriter, CutsZerosAndADamagedLastRecord) {
    TempDir dir;
    const KeyPair key = makeKey();
    const std::string path = dir.file("log");
    {
        auto writer = Writer::open(options(path, key));
        ASSERT_TRUE(writer);
        for (std::uint64_t i = 1; i <= 5; ++i) ASSERT_TRUE((*writer)->append(makeEntry(i)));
    }
    // The file grew but its last blocks never reached the disk: zeros.
    auto bytes = readBytes(path);
    const std::uint64_t end = bytes.size();
    bytes.resize(bytes.size() + 4096, 0);
    writeBytes(path, bytes);
    auto zeros = verify(path, key.pub);
    ASSERT_TRUE(zeros);
    EXPECT_TRUE(zeros->ok()) << describe(*zeros);
    ASSERT_TRUE(zeros->tornTail);
    EXPECT_EQ(zeros->tornTail->reason, static_cast<std::uint32_t>(TornReason::Zeros));
    EXPECT_EQ(zeros->tornTail->offset, end);
    {
        auto writer = Writer::open(options(path, key));
        ASSERT_TRUE(writer) << writer.error();
    }
    // A complete last record that does not match its hash: verify calls it a problem (an edit looks the same);
    // the writer cuts it, says so, and the log verifies again.
    bytes = readBytes(path);
    const auto records = readAll(path);
    const Record& last = records.back();
    bytes[last.offset + 40] ^= 0x10;
    writeBytes(path, bytes);
    auto damaged = verify(path, key.pub);
    ASSERT_TRUE(damaged);
    EXPECT_FALSE(damaged->ok());
    EXPECT_TRUE(hasProblem(*damaged, last.offset, last.seq, "does not match its hash")) << describe(*damaged);
    {
        auto writer = Writer::open(options(path, key));
        ASSERT_TRUE(writer) << writer.error();
    }
    auto after = verify(path, key.pub);
    ASSERT_TRUE(after);
    EXPECT_TRUE(after->ok()) << describe(*after);
    EXPECT_EQ(after->recoveries, 2u);
    EXPECT_TRUE(hasNote(*after, "a complete last record that did not match its hash"));
}

// The crash came during the first write of a new log: seq 1 is still the open record of a new log.
TEST(LogWriter, RecoversATornFirstWrite) {
    TempDir dir;
    const KeyPair key = makeKey();
    const std::string path = dir.file("log");
    {
        auto writer = Writer::open(options(path, key));
        ASSERT_TRUE(writer);
    }
    auto bytes = readBytes(path);
    bytes.resize(kFileHeaderSize + 50);
    writeBytes(path, bytes);
    {
        auto writer = Writer::open(options(path, key));
        ASSERT_TRUE(writer) << writer.error();
        ASSERT_TRUE((*writer)->append(makeEntry(1)));
    }
    auto report = verify(path, key.pub);
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->ok()) << describe(*report);
    EXPECT_EQ(report->recoveries, 1u);
    const auto records = readAll(path);
    ASSERT_GE(records.size(), 2u);
    EXPECT_EQ(records[0].kind, Kind::Open);
    EXPECT_EQ(records[1].kind, Kind::Recovery);
    EXPECT_EQ(std::get<RecoveryBody>(records[1].body).offset, kFileHeaderSize);
}

TEST(LogWriter, RefusesToAppendToADamagedLog) {
    TempDir dir;
    const KeyPair key = makeKey();
    const std::string path = dir.file("log");
    {
        auto writer = Writer::open(options(path, key));
        ASSERT_TRUE(writer);
        for (std::uint64_t i = 1; i <= 10; ++i) ASSERT_TRUE((*writer)->append(makeEntry(i)));
    }
    auto bytes = readBytes(path);
    const Record r = recordAt(readAll(path), 6);
    bytes[r.offset + r.size / 2] ^= 1;
    writeBytes(path, bytes);
    auto writer = Writer::open(options(path, key));
    ASSERT_FALSE(writer);
    EXPECT_NE(writer.error().find("offset " + std::to_string(r.offset)), std::string::npos) << writer.error();
    EXPECT_NE(writer.error().find("omegac audit verify"), std::string::npos);
    EXPECT_EQ(readBytes(path), bytes);  // untouched
}

TEST(LogWriter, OpenRefusesBadOptionsASecondWriterAndAMissingActiveFile) {
    TempDir dir;
    const KeyPair key = makeKey();
    const std::string path = dir.file("log");
    WriterOptions noKey = options(path, key);
    noKey.key.reset();
    EXPECT_FALSE(Writer::open(noKey));
    WriterOptions p384 = options(path, key);
    p384.key = makeKey("P-384").priv;
    auto ec = Writer::open(p384);
    ASSERT_FALSE(ec);
    EXPECT_NE(ec.error().find("Ed25519"), std::string::npos);
    WriterOptions tiny = options(path, key);
    tiny.rotateBytes = 100;
    EXPECT_FALSE(Writer::open(tiny));

    auto first = Writer::open(options(path, key));
    ASSERT_TRUE(first);
    auto second = Writer::open(options(path, key));
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().find("in use by another writer"), std::string::npos);
    first->reset();  // closes and releases the lock

    WriterOptions rotating = options(path, key);
    rotating.rotateBytes = 4096;
    {
        auto writer = Writer::open(rotating);
        ASSERT_TRUE(writer);
        for (std::uint64_t i = 1; i <= 60; ++i) ASSERT_TRUE((*writer)->append(makeEntry(i)));
    }
    fs::remove(path);
    auto missing = Writer::open(rotating);
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().find("is missing but"), std::string::npos) << missing.error();
}

TEST(LogWriter, FinishesARotationThatACrashInterrupted) {
    TempDir dir;
    const KeyPair key = makeKey();
    const std::string path = dir.file("log");
    WriterOptions o = options(path, key);
    o.rotateBytes = 4096;
    {
        auto writer = Writer::open(o);
        ASSERT_TRUE(writer);
        for (std::uint64_t i = 1; i <= 40; ++i) ASSERT_TRUE((*writer)->append(makeEntry(i)));
    }
    // The crash came after PATH was renamed and before PATH.new took its place.
    auto files = logFiles(path);
    ASSERT_TRUE(files);
    ASSERT_GE(files->size(), 2u);
    fs::rename(path, path + ".new");
    {
        auto writer = Writer::open(o);
        ASSERT_TRUE(writer) << writer.error();
        ASSERT_TRUE((*writer)->append(makeEntry(41)));
    }
    EXPECT_FALSE(fs::exists(path + ".new"));
    auto report = verify(path, key.pub);
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->ok()) << describe(*report);
}

TEST(LogWriter, AppendRefusesWritersKindsAndOversizedText) {
    TempDir dir;
    const KeyPair key = makeKey();
    auto writer = Writer::open(options(dir.file("log"), key));
    ASSERT_TRUE(writer);
    Entry checkpoint = makeEntry(1);
    checkpoint.kind = Kind::Checkpoint;
    EXPECT_FALSE((*writer)->append(checkpoint));
    Entry huge = makeEntry(2);
    huge.request.assign(kMaxTextSize + 1, 'x');
    auto refused = (*writer)->append(huge);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().find("over the limit"), std::string::npos);
    EXPECT_TRUE((*writer)->append(makeEntry(3)));  // still working
}

TEST(LogReader, ReportsMissingLogsAndDirectoriesWithTwoLogs) {
    TempDir dir;
    EXPECT_FALSE(Reader::open(dir.file("nothing")));
    EXPECT_FALSE(logFiles(dir.path()));
    const KeyPair key = makeKey();
    for (const char* name : {"a.log", "b.log"}) {
        auto writer = Writer::open(options(dir.file(name), key));
        ASSERT_TRUE(writer);
    }
    auto two = logFiles(dir.path());
    ASSERT_FALSE(two);
    EXPECT_NE(two.error().find("more than one log"), std::string::npos);
}

}  // namespace
}  // namespace omega::log::test
