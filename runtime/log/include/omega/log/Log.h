// The tamper-evident decision log: a Writer that appends hash-chained records with group commit, signed
// checkpoints and rotation, and the reading side (files of a log, a record reader, the verifier) for `omegac audit`.
// The format is in Format.h and docs/decision-log.md.
#pragma once

#include "omega/bundle/Keys.h"
#include "omega/bundle/Result.h"
#include "omega/log/Format.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace omega::log {

template <typename T>
using Result = bundle::Result<T>;
using bundle::Error;

using Hash = std::array<std::uint8_t, 32>;         // SHA-256
using Measurement = std::array<std::uint8_t, 48>;  // SHA-384 of a bundle

// Decision, Approval and Event are what the monitor appends; the others are written by the Writer itself.
enum class Kind : std::uint8_t {
    Decision = 1,
    Approval = 2,
    Event = 3,
    Checkpoint = 16,  // signed by the writer's key over the chain's head
    Open = 17,        // a writer started a session (a new log, or resumed after a close or a crash)
    Recovery = 18,    // a torn tail was cut before resuming: where, how long, its SHA-256
};
// "decision", "approval", "event", "checkpoint", "open", "recovery"; "unknown" for anything else.
const char* kindName(Kind kind);
bool isKnownKind(std::uint8_t kind);

struct Entry {
    Kind kind = Kind::Decision;
    std::int64_t timeNs = 0;  // wall clock, ns since the Unix epoch; 0: the writer takes the time
    std::string request;      // one line of JSON, already redacted ("" for events)
    std::string decision;     // the decision (or approval / event) as one line of JSON
    Measurement measurement{};
    // SHA-256 of the request as received, before redaction. Absent: the writer uses SHA-256 of `request`, and
    // the record says so, so that verify can check it.
    std::optional<Hash> requestDigest;
};

struct Head {
    std::uint64_t seq = 0;  // the last record; 0: an empty log
    Hash hash{};
    friend bool operator==(const Head&, const Head&) = default;
};
// "SEQ:HEX" (64 lowercase hex digits), the form `omegac audit verify --expect-head` reads.
std::string formatHead(const Head& head);
std::optional<Head> parseHead(std::string_view text);

struct WriterOptions {
    std::string path;     // the active file; rotated files are PATH.<first seq, 12+ digits>, beside it
    bool durable = true;  // append() returns once the record is on disk (fdatasync), else once written to the OS
    std::uint64_t rotateBytes = 64ull << 20;  // at least 4096
    std::uint32_t checkpointRecords = 1024;   // a checkpoint after at most this many records (0: no count limit)
    std::uint32_t checkpointMs = 1000;        // and within this many ms of an unsigned record (0: no timer)
    std::optional<bundle::PrivateKey> key;    // Ed25519; required
};

struct WriterStats {
    std::uint64_t records = 0;  // every record written, checkpoints and the writer's own included
    std::uint64_t entries = 0;  // records appended through append()
    std::uint64_t checkpoints = 0;
    std::uint64_t writes = 0;  // write batches (one or more write calls each)
    std::uint64_t syncs = 0;   // fdatasync calls
    std::uint64_t rotations = 0;
};

// INVARIANT: one Writer per log. open() takes an exclusive lock (flock on PATH.lock) for the writer's lifetime.
class Writer {
public:
    // Creates the log, or resumes it: scans the active file's chain to its tail and continues its sequence and
    // hash chain. A torn tail left by a crash (incomplete record, zeros, or a damaged last record) is cut and
    // recorded in a recovery record (offset, length, SHA-256); any other damage makes open fail (fail closed).
    // Writes an open record and a checkpoint, durably, before returning.
    static Result<std::unique_ptr<Writer>> open(WriterOptions options);
    ~Writer();  // calls close(); every append() must have returned before
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    // Thread-safe. Returns the record's seq once durable (or, when !durable, once written to the OS). Concurrent
    // callers share one write and one fdatasync (leader/follower group commit). After a write or sync error
    // every call fails: the monitor must deny (fail closed).
    Result<std::uint64_t> append(const Entry& entry);
    // The last record written (durable when options.durable).
    Head head() const;
    // A signed checkpoint now, durable when options.durable. False when there was nothing new to sign.
    Result<bool> checkpoint();
    // A closing checkpoint, fdatasync, close. Idempotent; later appends fail.
    Result<bool> close();
    WriterStats stats() const;
    const std::string& path() const;

private:
    class Impl;
    explicit Writer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// ---- Reading: log files are untrusted input (bounds checked, sizes limited, errors never crash) ----

// The files of a log, oldest first. PATH is the active file (its rotated files PATH.<digits> are taken from its
// directory; the active file may be absent) or a directory holding exactly one log (files that begin with the
// log magic, grouped by name). Errors: no such log, several logs in a directory, unreadable directory.
Result<std::vector<std::string>> logFiles(const std::string& path);

struct EntryBody {
    Hash requestDigest{};
    bool digestOfLogged = true;  // the digest is SHA-256 of `request` (else of the unredacted request)
    Measurement measurement{};
    std::string request;
    std::string decision;
};
struct CheckpointBody {
    std::uint32_t flags = 0;  // kCheckpointClosing, kCheckpointRotation
    std::uint16_t algorithm = 0;
    bundle::KeyId keyId{};
    std::vector<std::uint8_t> signature;
};
struct OpenBody {
    std::uint32_t flags = 0;  // kOpenNewLog, kOpenAfterClose, kOpenAfterRecovery
    bundle::KeyId keyId{};
};
struct RecoveryBody {
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    Hash digest{};
    std::uint32_t reason = 0;  // TornReason
};

struct Record {
    std::string file;
    std::uint64_t offset = 0;  // of the record's first byte in `file`
    std::uint64_t size = 0;    // of the whole frame
    Kind kind = Kind::Decision;
    std::uint8_t flags = 0;
    std::uint64_t seq = 0;
    std::int64_t timeNs = 0;
    Hash hash{};  // as stored (the reader does not check the chain; verify() does)
    std::variant<EntryBody, CheckpointBody, OpenBody, RecoveryBody> body;
};

// Where a file ends in bytes that are not a record (a crash while writing).
struct TornTail {
    std::string file;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    std::uint32_t reason = 0;  // TornReason
};

// Iterates the records of a log in file order without checking the chain (verify() does).
class Reader {
public:
    static Result<std::unique_ptr<Reader>> open(const std::string& path);  // as logFiles()
    ~Reader();
    // The next record; nothing at the end of the log. An error names the file and offset of a malformed file
    // or record, or an I/O error; reading stops there.
    Result<std::optional<Record>> next();
    const std::optional<TornTail>& tornTail() const;  // set once next() reached the end
    const std::vector<std::string>& files() const;

private:
    class Impl;
    explicit Reader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// ---- Verifying ----

struct VerifyOptions {
    std::optional<Head> expectHead;  // the record at expectHead.seq must exist and have this hash
    bool expectClosed = false;       // the log must end with a closing checkpoint
    bool allowPruned = false;        // the first file may start after seq 1 (older files deleted on purpose)
    std::size_t maxProblems = 100;   // problems listed; all are counted
};

// A location and what is wrong (problems) or worth knowing (notes). seq 0: not about one record.
struct Problem {
    std::string file;
    std::uint64_t offset = 0;
    std::uint64_t seq = 0;
    std::string what;
};

struct VerifyReport {
    std::vector<std::string> files;
    std::uint64_t records = 0;  // every record read, the writer's own included
    std::uint64_t decisions = 0, approvals = 0, events = 0;
    std::uint64_t checkpoints = 0;  // with a valid signature
    std::uint64_t sessions = 0;     // open records
    std::uint64_t recoveries = 0;
    std::uint64_t firstSeq = 0;           // of the first record read
    Head head;                            // the last record read (seq 0: none)
    std::uint64_t lastCheckpointSeq = 0;  // the last checkpoint with a valid signature (0: none)
    std::uint64_t unsignedRecords = 0;    // records after it, which no signature covers
    bool closed = false;                  // the last record is a closing checkpoint (clean shutdown)
    std::optional<TornTail> tornTail;
    std::vector<Problem> problems;  // at most options.maxProblems, in file order
    std::uint64_t problemCount = 0;
    std::vector<Problem> notes;
    bool ok() const { return problemCount == 0; }
};

// Verifies a log (as logFiles()) against the monitor's public key: every record's frame, sequence and chain hash,
// the request digests, every checkpoint signature, the links between files, and the options' expectations.
// An error only for usage and I/O failures (no such log, unreadable file, not an Ed25519 key); everything wrong
// with the log itself is a problem in the report.
Result<VerifyReport> verify(const std::string& path, const bundle::PublicKey& key, const VerifyOptions& options = {});
// The same over one file's bytes (named `name` in the report): for tests and the fuzzer.
Result<VerifyReport> verifyBytes(std::span<const std::uint8_t> bytes, const std::string& name,
                                 const bundle::PublicKey& key, const VerifyOptions& options = {});

}  // namespace omega::log
