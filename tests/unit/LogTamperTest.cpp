// Tampering with decision logs: each edit, deletion, insertion, reordering, truncation, forged or foreign
// signature and rewritten chain is caught by verify() and reported at the right file, offset and seq; what
// cannot be caught (records cut after the last checkpoint) is reported as such, and caught with expectations.
#include "LogTestUtil.h"

#include <algorithm>
#include <cstring>

namespace omega::log::test {
namespace {

// A closed log of 42 entries with a checkpoint every 8 records (seqs 2, 11, 20, 29, 38, 47 and the closing 50),
// and its records as written.
class Tamper : public ::testing::Test {
protected:
    void SetUp() override {
        path = dir.file("log");
        auto writer = Writer::open(options(path, key));
        ASSERT_TRUE(writer);
        for (std::uint64_t i = 1; i <= 42; ++i) ASSERT_TRUE((*writer)->append(makeEntry(i)));
        ASSERT_TRUE((*writer)->close());
        head = (*writer)->head();
        records = readAll(path);
        bytes = readBytes(path);
    }

    const Record& at(std::uint64_t seq) const { return recordAt(records, seq); }
    std::vector<std::uint8_t> recordBytes(std::uint64_t seq) const {
        const Record& r = at(seq);
        return {bytes.begin() + static_cast<std::ptrdiff_t>(r.offset),
                bytes.begin() + static_cast<std::ptrdiff_t>(r.offset + r.size)};
    }
    // Seqs of the checkpoints after `seq`.
    std::vector<std::uint64_t> checkpointsAfter(std::uint64_t seq) const {
        std::vector<std::uint64_t> out;
        for (const auto& r : records)
            if (r.kind == Kind::Checkpoint && r.seq > seq) out.push_back(r.seq);
        return out;
    }
    // Recomputes every stored hash from the header on, as someone who edits the log and knows the format would.
    void rechain(std::vector<std::uint8_t>& b) const {
        Hash running{};
        std::copy(b.begin() + kHeaderPrevHashAt, b.begin() + kHeaderPrevHashAt + 32, running.begin());
        for (const auto& r : records) {
            std::vector<std::uint8_t> hashed(running.begin(), running.end());
            hashed.insert(hashed.end(), b.begin() + static_cast<std::ptrdiff_t>(r.offset),
                          b.begin() + static_cast<std::ptrdiff_t>(r.offset + r.size - 32));
            running = sha256Of(hashed);
            std::copy(running.begin(), running.end(), b.begin() + static_cast<std::ptrdiff_t>(r.offset + r.size - 32));
        }
    }
    VerifyReport check(const std::vector<std::uint8_t>& b, const VerifyOptions& o = {}) const {
        writeBytes(path, b);
        auto report = verify(path, key.pub, o);
        if (!report) ADD_FAILURE() << report.error();
        return report ? *report : VerifyReport{};
    }

    TempDir dir;
    KeyPair key = makeKey();
    std::string path;
    Head head;
    std::vector<Record> records;
    std::vector<std::uint8_t> bytes;
};

TEST_F(Tamper, TheUntouchedLogVerifies) {
    const VerifyReport r = check(bytes);
    EXPECT_TRUE(r.ok()) << describe(r);
    EXPECT_TRUE(r.closed);
    EXPECT_EQ(r.head, head);
}

TEST_F(Tamper, AnEditedByteIsFoundInItsRecord) {
    for (std::uint64_t seq : {3u, 15u, 27u}) {
        auto b = bytes;
        b[at(seq).offset + at(seq).size / 2] ^= 0x04;
        const VerifyReport r = check(b);
        EXPECT_EQ(r.problemCount, 1u) << describe(r);
        EXPECT_TRUE(hasProblem(r, at(seq).offset, seq, "does not match its hash (edited)")) << describe(r);
    }
    // The time and the kind are covered too.
    auto b = bytes;
    b[at(15).offset + kRecordTimeAt] ^= 0x01;
    EXPECT_TRUE(hasProblem(check(b), at(15).offset, 15, "does not match its hash"));
    b = bytes;
    b[at(15).offset + kRecordKindAt] = static_cast<std::uint8_t>(Kind::Event);
    EXPECT_TRUE(hasProblem(check(b), at(15).offset, 15, "does not match its hash"));
}

TEST_F(Tamper, AnEditedRequestAlsoFailsItsDigest) {
    auto b = bytes;
    const Record& r = at(15);
    const auto& body = std::get<EntryBody>(r.body);
    const std::size_t textAt = r.offset + kRecordHeadSize + kEntryFixedSize;
    ASSERT_EQ(std::string(b.begin() + static_cast<std::ptrdiff_t>(textAt),
                          b.begin() + static_cast<std::ptrdiff_t>(textAt + body.request.size())),
              body.request);
    b[textAt + 2] = 'X';
    const VerifyReport report = check(b);
    EXPECT_TRUE(hasProblem(report, r.offset, 15, "the request digest does not match the request")) << describe(report);
}

TEST_F(Tamper, AnEditedSequenceNumberOrStoredHashIsOneProblem) {
    auto b = bytes;
    b[at(15).offset + kRecordSeqAt] = 115;
    VerifyReport r = check(b);
    EXPECT_EQ(r.problemCount, 1u) << describe(r);
    EXPECT_TRUE(hasProblem(r, at(15).offset, 115, "sequence number 115 where 15 was expected (edited)")) << describe(r);

    b = bytes;
    b[at(15).offset + at(15).size - 5] ^= 0xff;  // the stored hash: the next record still chains to the true one
    r = check(b);
    EXPECT_EQ(r.problemCount, 1u) << describe(r);
    EXPECT_TRUE(hasProblem(r, at(15).offset, 15, "does not match its hash")) << describe(r);
}

TEST_F(Tamper, AnEditedLengthIsFoundWithoutReadingPastTheRecord) {
    for (std::uint8_t value : {0x00, 0x01, 0xff}) {
        auto b = bytes;
        b[at(15).offset + kRecordLengthAt] = value;
        b[at(15).offset + kRecordLengthAt + 1] = value;
        const VerifyReport r = check(b);
        EXPECT_FALSE(r.ok());
        ASSERT_FALSE(r.problems.empty());
        EXPECT_EQ(r.problems.front().offset, at(15).offset) << describe(r);
    }
}

TEST_F(Tamper, ADeletedRecordIsMissingWhereItWas) {
    for (std::uint64_t seq : {3u, 11u, 25u}) {  // an entry, a checkpoint, an entry
        auto b = bytes;
        const Record& r = at(seq);
        b.erase(b.begin() + static_cast<std::ptrdiff_t>(r.offset),
                b.begin() + static_cast<std::ptrdiff_t>(r.offset + r.size));
        const VerifyReport report = check(b);
        EXPECT_EQ(report.problemCount, 1u) << describe(report);
        EXPECT_TRUE(hasProblem(
            report, r.offset, seq,
            "record " + std::to_string(seq) + " is missing before record " + std::to_string(seq + 1) + " (deleted)"))
            << describe(report);
    }
    // Several in a row.
    auto b = bytes;
    b.erase(b.begin() + static_cast<std::ptrdiff_t>(at(14).offset),
            b.begin() + static_cast<std::ptrdiff_t>(at(17).offset));
    EXPECT_TRUE(hasProblem(check(b), at(14).offset, 14, "records 14..16 are missing before record 17 (deleted)"));
}

TEST_F(Tamper, AnInsertedCopyIsFoundWhereItWasPut) {
    // A copy of record 15 after record 16.
    auto b = bytes;
    const auto copy = recordBytes(15);
    b.insert(b.begin() + static_cast<std::ptrdiff_t>(at(17).offset), copy.begin(), copy.end());
    VerifyReport r = check(b);
    EXPECT_EQ(r.problemCount, 1u) << describe(r);
    EXPECT_TRUE(hasProblem(r, at(17).offset, 15, "record 15 appears again after record 16 (a copied record inserted)"))
        << describe(r);
    // A copy of a later record put early.
    b = bytes;
    const auto later = recordBytes(30);
    b.insert(b.begin() + static_cast<std::ptrdiff_t>(at(14).offset), later.begin(), later.end());
    r = check(b);
    EXPECT_EQ(r.problemCount, 1u) << describe(r);
    EXPECT_TRUE(hasProblem(r, at(14).offset, 30, "record 30 is out of order: found before record 14")) << describe(r);
}

TEST_F(Tamper, ReorderedRecordsAreFound) {
    // Two neighbours swapped.
    auto b = bytes;
    const auto r15 = recordBytes(15), r16 = recordBytes(16);
    std::copy(r16.begin(), r16.end(), b.begin() + static_cast<std::ptrdiff_t>(at(15).offset));
    std::copy(r15.begin(), r15.end(), b.begin() + static_cast<std::ptrdiff_t>(at(15).offset + r16.size()));
    VerifyReport r = check(b);
    EXPECT_EQ(r.problemCount, 1u) << describe(r);
    EXPECT_TRUE(hasProblem(r, at(15).offset, 16, "record 16 is out of order: found before record 15")) << describe(r);
    // One record moved ten places later.
    b = bytes;
    b.erase(b.begin() + static_cast<std::ptrdiff_t>(at(15).offset),
            b.begin() + static_cast<std::ptrdiff_t>(at(15).offset + r15.size()));
    const std::uint64_t to = at(26).offset - r15.size();
    b.insert(b.begin() + static_cast<std::ptrdiff_t>(to), r15.begin(), r15.end());
    r = check(b);
    EXPECT_EQ(r.problemCount, 1u) << describe(r);
    EXPECT_TRUE(hasProblem(r, to, 15,
                           "record 15 is out of order: it belongs before record 16 but was found after "
                           "record 25 (records reordered)"))
        << describe(r);
}

TEST_F(Tamper, ATruncationAtARecordBoundaryIsReportedAndCaughtWithExpectations) {
    const std::vector<std::uint64_t> checkpoints = checkpointsAfter(0);
    ASSERT_GE(checkpoints.size(), 4u);
    const std::uint64_t closing = checkpoints.back(), lastPeriodic = checkpoints[checkpoints.size() - 2];
    ASSERT_EQ(closing, head.seq);

    // After the last checkpoint: only the closing checkpoint is cut. Undetectable by itself; said as much.
    auto b = bytes;
    b.resize(at(closing).offset);
    VerifyReport r = check(b);
    EXPECT_TRUE(r.ok()) << describe(r);
    EXPECT_FALSE(r.closed);
    EXPECT_EQ(r.lastCheckpointSeq, lastPeriodic);
    EXPECT_EQ(r.unsignedRecords, closing - 1 - lastPeriodic);
    EXPECT_TRUE(hasNote(r, std::to_string(r.unsignedRecords) + " records after the last checkpoint (seq " +
                               std::to_string(lastPeriodic) + ") are not covered by a signature"))
        << describe(r);
    EXPECT_TRUE(hasNote(r, "does not end with a closing checkpoint"));
    VerifyOptions closed;
    closed.expectClosed = true;
    r = check(b, closed);
    EXPECT_TRUE(hasProblem(r, b.size(), closing - 1, "does not end with a closing checkpoint")) << describe(r);
    VerifyOptions expectHead;
    expectHead.expectHead = head;
    r = check(b, expectHead);
    EXPECT_TRUE(hasProblem(r, b.size(), head.seq,
                           "the log ends at seq " + std::to_string(closing - 1) + ", before the expected head seq " +
                               std::to_string(head.seq) + ": record " + std::to_string(head.seq) +
                               " is missing (truncated)"))
        << describe(r);

    // Before the last checkpoint: a signed checkpoint and the records before it are cut.
    b = bytes;
    b.resize(at(lastPeriodic - 3).offset);
    r = check(b);
    EXPECT_TRUE(r.ok()) << describe(r);
    EXPECT_EQ(r.lastCheckpointSeq, checkpoints[checkpoints.size() - 3]);
    r = check(b, expectHead);
    EXPECT_FALSE(r.ok());
    // A head the monitor attested earlier is found, and must match.
    VerifyOptions earlier;
    earlier.expectHead = Head{lastPeriodic - 4, at(lastPeriodic - 4).hash};
    EXPECT_TRUE(check(b, earlier).ok());
    earlier.expectHead->hash[0] ^= 1;
    r = check(b, earlier);
    EXPECT_TRUE(hasProblem(r, at(lastPeriodic - 4).offset, lastPeriodic - 4, "is not the expected head's"))
        << describe(r);
}

TEST_F(Tamper, ATruncationInsideARecordIsATornTail) {
    auto b = bytes;
    const Record& last = at(head.seq - 1);
    b.resize(last.offset + last.size / 2);
    const VerifyReport r = check(b);
    EXPECT_TRUE(r.ok()) << describe(r);
    ASSERT_TRUE(r.tornTail);
    EXPECT_EQ(r.tornTail->offset, last.offset);
    EXPECT_EQ(r.tornTail->length, last.size / 2);
    EXPECT_EQ(r.head.seq, head.seq - 2);
    EXPECT_TRUE(hasNote(r, "torn tail: " + std::to_string(last.size / 2) + " bytes of an incomplete record"));
}

TEST_F(Tamper, AReplacedCheckpointSignatureIsFound) {
    // The message a checkpoint at `cp` signs, built here from the format's description.
    const auto message = [&](std::uint64_t cp) {
        std::vector<std::uint8_t> m(kCheckpointTag.begin(), kCheckpointTag.end());
        const auto le = [&](std::uint64_t v, int n) {
            for (int i = 0; i < n; ++i) m.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
        };
        le(cp - 1, 8);
        const Hash& prev = at(cp - 1).hash;
        m.insert(m.end(), prev.begin(), prev.end());
        le(static_cast<std::uint64_t>(at(cp).timeNs), 8);
        le(std::get<CheckpointBody>(at(cp).body).flags, 4);
        return m;
    };
    // A valid signature of the same message by another key, with the chain recomputed so that only the signature
    // is wrong. Every later checkpoint signs a head that the replaced bytes feed into: those fail too.
    const KeyPair other = makeKey();
    for (std::uint64_t cp : {std::uint64_t{11}, head.seq}) {
        auto own = bundle::signMessage(key.priv, message(cp));
        ASSERT_TRUE(own);
        EXPECT_EQ(*own, std::get<CheckpointBody>(at(cp).body).signature);  // what the writer signed
        auto forged = bundle::signMessage(other.priv, message(cp));
        ASSERT_TRUE(forged);
        auto b = bytes;
        std::copy(forged->begin(), forged->end(),
                  b.begin() + static_cast<std::ptrdiff_t>(at(cp).offset + kRecordHeadSize + kCheckpointSignatureAt));
        rechain(b);
        const VerifyReport report = check(b);
        EXPECT_EQ(report.problemCount, 1 + checkpointsAfter(cp).size()) << describe(report);
        EXPECT_TRUE(hasProblem(report, at(cp).offset, cp, "the checkpoint signature does not verify"))
            << describe(report);
    }
    // Without rechaining, the edit shows in the record's hash as well, in the same problem; the later checkpoints
    // chain to the stored hash and stay valid.
    auto b = bytes;
    b[at(11).offset + kRecordHeadSize + kCheckpointSignatureAt + 3] ^= 0x20;
    const VerifyReport report = check(b);
    EXPECT_EQ(report.problemCount, 1u) << describe(report);
    EXPECT_TRUE(hasProblem(report, at(11).offset, 11,
                           "does not match its hash (edited); the checkpoint signature does not verify"))
        << describe(report);
}

TEST_F(Tamper, ARewrittenChainIsCaughtByTheNextCheckpoint) {
    // Edit a decision (not covered by the request digest) and recompute every hash: the chain is consistent, the
    // checkpoint signatures after the edit are not.
    auto b = bytes;
    const Record& r = at(15);
    const std::size_t decisionAt =
        r.offset + kRecordHeadSize + kEntryFixedSize + std::get<EntryBody>(r.body).request.size();
    const std::string deny = R"({"decision":"deny"})";
    ASSERT_EQ(std::get<EntryBody>(r.body).decision, deny);
    // Same length: "deny" -> "okay" keeps every offset.
    std::memcpy(b.data() + decisionAt + 13, "okay", 4);
    rechain(b);
    const VerifyReport report = check(b);
    const auto after = checkpointsAfter(15);
    EXPECT_EQ(report.problemCount, after.size()) << describe(report);
    for (std::uint64_t cp : after) {
        EXPECT_TRUE(hasProblem(report, at(cp).offset, cp, "the checkpoint signature does not verify"))
            << describe(report);
    }
    EXPECT_EQ(report.lastCheckpointSeq, 11u);  // the last one before the edit
    EXPECT_FALSE(report.closed);
}

TEST_F(Tamper, TheWrongKeyFailsEveryCheckpoint) {
    const KeyPair other = makeKey();
    writeBytes(path, bytes);
    auto report = verify(path, other.pub);
    ASSERT_TRUE(report);
    const auto checkpoints = checkpointsAfter(0);
    EXPECT_EQ(report->problemCount, checkpoints.size()) << describe(*report);
    for (std::uint64_t cp : checkpoints) EXPECT_TRUE(hasProblem(*report, at(cp).offset, cp, "not by the given key"));
    EXPECT_TRUE(hasNote(*report, "is the key the monitor's?"));
    EXPECT_EQ(report->checkpoints, 0u);
    // A P-384 key is not a log key at all: a usage error.
    auto p384 = verify(path, makeKey("P-384").pub);
    ASSERT_FALSE(p384);
    EXPECT_NE(p384.error().find("Ed25519"), std::string::npos);
}

TEST_F(Tamper, AnEditedFileHeaderIsFound) {
    auto b = bytes;
    b[kHeaderPrevHashAt + 4] ^= 1;
    VerifyReport r = check(b);
    EXPECT_TRUE(hasProblem(r, 0, 1, "previous hash is not zero")) << describe(r);
    b = bytes;
    b[kHeaderFirstSeqAt] = 2;
    r = check(b);
    EXPECT_FALSE(r.ok());
    b = bytes;
    b[1] = 'X';
    r = check(b);
    EXPECT_TRUE(hasProblem(r, 0, 0, "not a decision log file")) << describe(r);
}

// Every single-byte change anywhere in a closed log is found, or leaves a log that no longer ends cleanly (a
// length that now runs past the end makes the closing checkpoint a torn tail: the same as cutting it off).
TEST_F(Tamper, EveryFlippedByteIsFound) {
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        auto b = bytes;
        b[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
        auto r = verifyBytes(b, "log", key.pub);
        ASSERT_TRUE(r);
        const bool caught = !r->ok() || !r->closed || r->tornTail || !(r->head == head);
        ASSERT_TRUE(caught) << "byte " << i << " changed and the log still verifies:\n" << describe(*r);
    }
}

class TamperRotated : public ::testing::Test {
protected:
    void SetUp() override {
        path = dir.file("decisions.log");
        WriterOptions o = options(path, key);
        o.rotateBytes = 4096;
        auto writer = Writer::open(o);
        ASSERT_TRUE(writer);
        for (std::uint64_t i = 1; i <= 120; ++i) ASSERT_TRUE((*writer)->append(makeEntry(i)));
        ASSERT_TRUE((*writer)->close());
        auto f = logFiles(path);
        ASSERT_TRUE(f);
        files = *f;
        ASSERT_GE(files.size(), 4u);
    }
    TempDir dir;
    KeyPair key = makeKey();
    std::string path;
    std::vector<std::string> files;
};

TEST_F(TamperRotated, ADeletedFileIsFound) {
    const auto before = readAll(path);
    fs::remove(files[1]);
    auto r = verify(path, key.pub);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->problemCount, 1u) << describe(*r);
    ASSERT_FALSE(r->problems.empty());
    EXPECT_EQ(r->problems[0].file, files[2]);
    EXPECT_EQ(r->problems[0].offset, 0u);
    EXPECT_NE(r->problems[0].what.find("missing between"), std::string::npos) << describe(*r);
}

TEST_F(TamperRotated, ARotatedFileCutAtARecordBoundaryIsFound) {
    const auto records = readAll(files[1]);
    std::vector<Record> inFile;
    for (const auto& r : records)
        if (r.file == files[1]) inFile.push_back(r);
    ASSERT_GE(inFile.size(), 3u);
    auto b = readBytes(files[1]);
    b.resize(inFile.back().offset);  // without its rotation checkpoint
    writeBytes(files[1], b);
    auto r = verify(path, key.pub);
    ASSERT_TRUE(r);
    EXPECT_TRUE(hasProblem(*r, b.size(), 0, "does not end with a rotation checkpoint")) << describe(*r);
    EXPECT_TRUE(hasProblem(*r, 0, inFile.back().seq + 1, "missing between")) << describe(*r);
}

TEST_F(TamperRotated, PrunedOldFilesAreAProblemUnlessAllowed) {
    fs::remove(files[0]);
    auto r = verify(path, key.pub);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->problemCount, 1u) << describe(*r);
    EXPECT_NE(r->problems[0].what.find("missing: the log starts at seq"), std::string::npos);
    VerifyOptions pruned;
    pruned.allowPruned = true;
    r = verify(path, key.pub, pruned);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->ok()) << describe(*r);
    EXPECT_TRUE(hasNote(*r, "older files were pruned"));
}

}  // namespace
}  // namespace omega::log::test
