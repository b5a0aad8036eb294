// verify(): checks a log against the monitor's public key and says where each problem is. Frames, sequence
// numbers and the hash chain find edits, deletions, insertions and reordering; checkpoint signatures find a chain
// rewritten from an edit onwards; the links between files find deleted or truncated files.
#include "Scanner.h"
#include "omega/bundle/Signing.h"
#include "omega/log/Log.h"

#include <algorithm>
#include <map>
#include <set>

namespace omega::log {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr std::size_t kMaxTracked = 4096;  // missing ranges and displaced records remembered at once

std::string hex(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (std::uint8_t b : bytes) {
        out += kHexDigits[b >> 4];
        out += kHexDigits[b & 15];
    }
    return out;
}

std::string shortHex(std::span<const std::uint8_t> bytes) {
    return hex(bytes.first(std::min<std::size_t>(8, bytes.size())));
}

std::string seqRange(std::uint64_t first, std::uint64_t last) {
    if (first == last) return "record " + std::to_string(first) + " is";
    return "records " + std::to_string(first) + ".." + std::to_string(last) + " are";
}

const char* tornWhy(std::uint32_t reason) {
    switch (static_cast<TornReason>(reason)) {
        case TornReason::Incomplete: return "an incomplete record";
        case TornReason::Zeros: return "zero bytes (the file grew but the data never reached the disk)";
        case TornReason::Damaged: return "a complete last record that did not match its hash";
    }
    return "bytes of an unknown kind";
}

// One record as the verifier sees it: the frame and whether it follows bytes that were skipped.
struct Item {
    detail::RawRecord raw;
    bool afterSkip = false;
};

class Verifier {
public:
    Verifier(const bundle::PublicKey& key, const VerifyOptions& options, VerifyReport& report)
        : key_(key), options_(options), report_(report) {}

    // Verifies one file; an error only for I/O failures.
    Result<bool> file(detail::Source& source, const std::string& name, std::size_t index, bool last);
    void finish();

private:
    struct Missing {
        std::uint64_t last = 0;
        std::size_t fileIndex = 0;
        std::string file;
        std::uint64_t offset = 0;
    };

    void problem(std::size_t fileIndex, const std::string& file, std::uint64_t offset, std::uint64_t seq,
                 std::string what);
    void note(const std::string& file, std::uint64_t offset, std::uint64_t seq, std::string what) {
        report_.notes.push_back(Problem{file, offset, seq, std::move(what)});
    }
    // Reads the next frame of the current file, reporting and skipping bytes that are not one.
    Result<std::optional<Item>> fetch(detail::Scanner& scanner, const std::string& name, bool last);
    void process(const Item& item, const Item* next);
    void accept(const detail::RawRecord& raw, std::optional<Hash> previous, std::vector<std::string>& issues);
    bool chainsFrom(const Hash& previous, const detail::RawRecord& raw) const {
        return detail::chainHash(previous, raw.hashed()) == raw.stored();
    }
    void addMissing(std::uint64_t first, std::uint64_t last, const detail::RawRecord& at);
    bool takeMissing(std::uint64_t seq);

    const bundle::PublicKey& key_;
    const VerifyOptions& options_;
    VerifyReport& report_;

    std::string file_;
    std::size_t fileIndex_ = 0;
    bool anchored_ = false;  // expected_ and running_ hold: the next record can be checked against them
    std::uint64_t expected_ = 0;
    Hash running_{};
    std::optional<Hash> alternative_;  // the computed hash of a record whose stored hash did not match
    bool firstRecord_ = true;
    std::optional<Kind> lastKind_;
    std::uint32_t lastCheckpointFlags_ = 0;
    std::size_t lastRecordFile_ = 0;
    std::uint64_t lastEnd_ = 0;  // offset after the last record read, for problems at the end of the log
    bool expectSeen_ = false;
    std::map<std::uint64_t, Missing> missing_;  // first seq of a missing range -> the range
    std::set<std::uint64_t> displaced_;         // seqs found out of place before their turn
    std::uint64_t foreignKeys_ = 0;             // checkpoints signed by another key than the given one
    bundle::KeyId foreignKey_{};
    std::vector<std::pair<std::pair<std::size_t, std::uint64_t>, Problem>> problems_;
};

void Verifier::problem(std::size_t fileIndex, const std::string& file, std::uint64_t offset, std::uint64_t seq,
                       std::string what) {
    ++report_.problemCount;
    if (problems_.size() < options_.maxProblems) {
        problems_.push_back({{fileIndex, offset}, Problem{file, offset, seq, std::move(what)}});
    }
}

Result<bool> Verifier::file(detail::Source& source, const std::string& name, std::size_t index, bool last) {
    file_ = name;
    fileIndex_ = index;
    detail::Scanner scanner(source);
    auto header = scanner.header();
    if (scanner.ioError()) return Error{"cannot read `" + name + "`: " + scanner.error()};
    if (!header) {
        problem(index, name, 0, 0, header.error() + "; the file is not checked");
        anchored_ = false;  // the next file starts a new stretch of chain
        return true;
    }
    const std::uint64_t first = header->firstSeq;
    if (!anchored_ && index == 0) {
        if (first != 1) {
            if (options_.allowPruned) {
                note(name, 0, first,
                     "the log starts at seq " + std::to_string(first) +
                         ": older files were pruned; the first record is trusted as the start");
            } else {
                problem(index, name, 0, first,
                        seqRange(1, first - 1) + " missing: the log starts at seq " + std::to_string(first) +
                            " (--allow-pruned accepts a log whose older files were removed on purpose)");
            }
        } else if (header->prevHash != Hash{}) {
            problem(index, name, 0, first, "the first file's previous hash is not zero (edited header)");
        }
    } else if (anchored_) {
        if (first > expected_) {
            problem(index, name, 0, first,
                    seqRange(expected_, first - 1) + " missing between `" + file_ + "` and the previous file " +
                        "(a file or the records at its end deleted)");
        } else if (first < expected_) {
            problem(index, name, 0, first,
                    "the file starts at seq " + std::to_string(first) + " but the previous file ended at seq " +
                        std::to_string(expected_ - 1) + " (files overlap, or the header was edited)");
        } else if (header->prevHash != running_) {
            problem(index, name, 0, first,
                    "the header's previous hash does not match the last record of the previous file (edited "
                    "header, or a file replaced)");
        }
    }
    anchored_ = true;
    expected_ = first;
    running_ = header->prevHash;
    alternative_.reset();

    auto current = fetch(scanner, name, last);
    if (!current) return Error{current.error()};
    while (*current) {
        auto ahead = fetch(scanner, name, last);
        if (!ahead) return Error{ahead.error()};
        process(**current, *ahead ? &**ahead : nullptr);
        current = std::move(ahead);
    }
    // A rotated file ends with its rotation checkpoint: anything else means records were cut from its end.
    if (!last && !(lastKind_ == Kind::Checkpoint && (lastCheckpointFlags_ & kCheckpointRotation) != 0 &&
                   lastRecordFile_ == index)) {
        problem(index, name, scanner.size(), 0,
                "the file does not end with a rotation checkpoint (records cut from its end)");
    }
    lastEnd_ = scanner.size();
    return true;
}

Result<std::optional<Item>> Verifier::fetch(detail::Scanner& scanner, const std::string& name, bool last) {
    bool skipped = false;
    while (true) {
        Item item;
        const std::uint64_t at = scanner.position();
        switch (scanner.next(item.raw)) {
            case detail::Step::Record: item.afterSkip = skipped; return std::optional<Item>(std::move(item));
            case detail::Step::End: return std::optional<Item>();
            case detail::Step::Torn: {
                const TornTail torn{name, at, scanner.tornLength(), static_cast<std::uint32_t>(scanner.tornReason())};
                if (last) {
                    report_.tornTail = torn;
                    note(name, at, 0,
                         "torn tail: " + std::to_string(torn.length) + " bytes of " + tornWhy(torn.reason) +
                             " at the end (a crash while writing; never acknowledged)");
                } else {
                    problem(fileIndex_, name, at, 0,
                            std::to_string(torn.length) + " bytes of " + tornWhy(torn.reason) +
                                " at the end of a rotated file (truncated or damaged)");
                }
                return std::optional<Item>();
            }
            case detail::Step::Malformed: {
                const std::string why = scanner.why();
                const std::uint64_t count = scanner.skipToNextFrame();
                const bool atEnd = scanner.position() >= scanner.size();
                problem(fileIndex_, name, at, 0,
                        why + "; " + std::to_string(count) + " bytes skipped" +
                            (atEnd ? " to the end of the file" : " to the next record"));
                skipped = true;
                continue;
            }
            case detail::Step::IoError: return Error{"cannot read `" + name + "`: " + scanner.error()};
        }
    }
}

void Verifier::addMissing(std::uint64_t first, std::uint64_t last, const detail::RawRecord& at) {
    // Seqs that turned up early (displaced) are not missing: they were reported where they were found.
    std::uint64_t runStart = first;
    for (std::uint64_t s = first;; ++s) {
        const bool end = s > last;
        if (end || displaced_.count(s)) {
            if (s > runStart) {
                if (missing_.size() < kMaxTracked) {
                    missing_[runStart] = Missing{s - 1, fileIndex_, file_, at.offset};
                } else {
                    problem(fileIndex_, file_, at.offset, runStart, seqRange(runStart, s - 1) + " missing (deleted)");
                }
            }
            if (end) break;
            displaced_.erase(s);
            runStart = s + 1;
        }
        // Huge gaps (an edited seq far ahead) are not walked seq by seq.
        if (s - first > kMaxTracked && !end) {
            if (missing_.size() < kMaxTracked) missing_[runStart] = Missing{last, fileIndex_, file_, at.offset};
            break;
        }
    }
}

bool Verifier::takeMissing(std::uint64_t seq) {
    auto it = missing_.upper_bound(seq);
    if (it == missing_.begin()) return false;
    --it;
    if (seq > it->second.last) return false;
    const std::uint64_t first = it->first;
    Missing range = it->second;
    missing_.erase(it);
    if (seq > first) missing_[first] = Missing{seq - 1, range.fileIndex, range.file, range.offset};
    if (seq < range.last) missing_[seq + 1] = range;
    return true;
}

void Verifier::process(const Item& item, const Item* next) {
    const detail::RawRecord& raw = item.raw;
    const std::uint64_t seq = raw.seq;
    std::vector<std::string> issues;
    ++report_.records;
    if (report_.firstSeq == 0) report_.firstSeq = seq;
    if (seq == expected_) {
        const Hash computed = detail::chainHash(running_, raw.hashed());
        std::optional<Hash> previous = running_;
        bool matches = computed == raw.stored();
        if (!matches && alternative_ && !item.afterSkip && chainsFrom(*alternative_, raw)) {
            // The record before had its stored hash edited; this one chains to what that hash should be.
            matches = true;
            previous = alternative_;
        }
        if (!matches) {
            issues.push_back(item.afterSkip ? "the record does not chain to the record before the skipped bytes"
                                            : "the record does not match its hash (edited)");
        }
        alternative_ = matches ? std::nullopt : std::optional<Hash>(computed);
        accept(raw, previous, issues);
    } else if (item.afterSkip && seq > expected_) {
        // The skipped bytes held these records: already reported with the skip.
        alternative_.reset();
        accept(raw, std::nullopt, issues);
    } else if (next && next->raw.seq == expected_ + 1 && chainsFrom(raw.stored(), next->raw)) {
        // In its place, and the next record chains to it: its sequence number was changed.
        issues.push_back("sequence number " + std::to_string(seq) + " where " + std::to_string(expected_) +
                         " was expected (edited)");
        const std::uint64_t slot = expected_;
        alternative_.reset();
        accept(raw, running_, issues);
        report_.head.seq = slot;
        expected_ = slot + 1;
    } else if ((next && next->raw.seq == expected_ && chainsFrom(running_, next->raw)) || seq < expected_) {
        // Not its place: the chain continues after it without it.
        --report_.records;
        std::string what;
        if (seq < expected_ && takeMissing(seq)) {
            what = "record " + std::to_string(seq) + " is out of order: it belongs before record " +
                   std::to_string(seq + 1) + " but was found after record " + std::to_string(expected_ - 1) +
                   " (records reordered)";
        } else if (seq < expected_) {
            what = "record " + std::to_string(seq) + " appears again after record " + std::to_string(expected_ - 1) +
                   " (a copied record inserted)";
        } else {
            what = "record " + std::to_string(seq) + " is out of order: found before record " +
                   std::to_string(expected_) + " (records reordered, or a copied record inserted)";
            if (displaced_.size() < kMaxTracked) displaced_.insert(seq);
        }
        problem(fileIndex_, file_, raw.offset, seq, what);
        return;
    } else {
        // Records expected_..seq-1 are not here; whether they were deleted or moved is known at the end.
        addMissing(expected_, seq - 1, raw);
        alternative_.reset();
        accept(raw, std::nullopt, issues);
    }
    if (!issues.empty()) {
        std::string what;
        for (const auto& i : issues) what += (what.empty() ? "" : "; ") + i;
        problem(fileIndex_, file_, raw.offset, seq, what);
    }
}

// Takes the record as the chain's next one. `previous`: the hash it must chain to, when known (checkpoint
// signatures need it).
void Verifier::accept(const detail::RawRecord& raw, std::optional<Hash> previous, std::vector<std::string>& issues) {
    const std::uint64_t seq = raw.seq;
    const std::optional<Kind> prevKind = lastKind_;
    const std::uint32_t prevFlags = lastCheckpointFlags_;
    const bool prevSameFile = lastRecordFile_ == fileIndex_ && prevKind.has_value();
    expected_ = seq + 1;
    running_ = raw.stored();
    report_.head = Head{seq, raw.stored()};
    lastKind_.reset();
    lastCheckpointFlags_ = 0;
    lastRecordFile_ = fileIndex_;
    lastEnd_ = raw.offset + raw.bytes.size();

    if (options_.expectHead && options_.expectHead->seq == seq) {
        expectSeen_ = true;
        if (options_.expectHead->hash != raw.stored()) {
            issues.push_back("the hash " + shortHex(raw.stored()) + "... is not the expected head's " +
                             shortHex(options_.expectHead->hash) + "...");
        }
    }

    if (auto problem = detail::headProblem(raw); !problem.empty()) {
        issues.push_back(problem);
        firstRecord_ = false;
        return;
    }
    auto decoded = detail::decodeRecord(raw, file_);
    if (!decoded) {
        issues.push_back(decoded.error());
        firstRecord_ = false;
        return;
    }
    const Record& record = *decoded;
    lastKind_ = record.kind;

    // Structure: what the writer always does, so that its absence shows.
    const bool first = firstRecord_;
    firstRecord_ = false;
    if (first && seq == 1 &&
        !(record.kind == Kind::Open && (std::get<OpenBody>(record.body).flags & kOpenNewLog) != 0)) {
        issues.push_back("the log's first record is not the open record of a new log");
    }
    if (prevKind == Kind::Checkpoint && (prevFlags & kCheckpointClosing) != 0 && record.kind != Kind::Open &&
        record.kind != Kind::Recovery) {
        issues.push_back("a " + std::string(kindName(record.kind)) +
                         " record follows a closing checkpoint without a new session");
    }
    if (prevKind == Kind::Checkpoint && (prevFlags & kCheckpointRotation) != 0 && prevSameFile) {
        issues.push_back("a record follows a rotation checkpoint in the same file");
    }

    switch (record.kind) {
        case Kind::Decision:
        case Kind::Approval:
        case Kind::Event: {
            const auto& body = std::get<EntryBody>(record.body);
            if (record.kind == Kind::Decision) ++report_.decisions;
            if (record.kind == Kind::Approval) ++report_.approvals;
            if (record.kind == Kind::Event) ++report_.events;
            const auto* text = reinterpret_cast<const std::uint8_t*>(body.request.data());
            if (body.digestOfLogged && detail::sha256({text, body.request.size()}) != body.requestDigest) {
                issues.push_back("the request digest does not match the request (edited)");
            }
            break;
        }
        case Kind::Checkpoint: {
            const auto& body = std::get<CheckpointBody>(record.body);
            lastCheckpointFlags_ = body.flags;
            if (body.keyId != key_.id()) {
                if (foreignKeys_++ == 0) foreignKey_ = body.keyId;
                issues.push_back("the checkpoint is signed by key " + shortHex(body.keyId) +
                                 "..., not by the given key " + shortHex(key_.id()) + "...");
            } else if (!previous) {
                issues.push_back("the checkpoint cannot be checked: the record before it is not here");
            } else {
                const auto message = detail::checkpointMessage(seq - 1, *previous, record.timeNs, body.flags);
                if (!bundle::verifySignature(key_, message, body.signature)) {
                    issues.push_back(
                        "the checkpoint signature does not verify (forged, or the records it covers "
                        "were changed)");
                } else if (issues.empty()) {
                    ++report_.checkpoints;
                    report_.lastCheckpointSeq = seq;
                }
            }
            break;
        }
        case Kind::Open: {
            const auto& body = std::get<OpenBody>(record.body);
            ++report_.sessions;
            if ((body.flags & kOpenNewLog) != 0 && seq != 1) {
                issues.push_back("an open record of a new log at seq " + std::to_string(seq) +
                                 " (another log spliced in)");
            }
            if (prevKind && seq != 1) {
                const bool afterClose = prevKind == Kind::Checkpoint && (prevFlags & kCheckpointClosing) != 0;
                if (((body.flags & kOpenAfterClose) != 0) != afterClose) {
                    issues.push_back(afterClose ? "the open record says the previous session crashed, but a closing "
                                                  "checkpoint precedes it"
                                                : "the open record says the previous session closed, but the record "
                                                  "before it is not a closing checkpoint");
                }
                if (((body.flags & kOpenAfterRecovery) != 0) != (prevKind == Kind::Recovery)) {
                    issues.push_back("the open record and the record before it disagree about a recovery");
                }
                if (!afterClose && prevKind != Kind::Recovery) {
                    note(file_, raw.offset, seq, "a session starts after a crash (the previous one did not close)");
                }
            }
            break;
        }
        case Kind::Recovery: {
            const auto& body = std::get<RecoveryBody>(record.body);
            ++report_.recoveries;
            // The writer puts it where the cut began, or right after the open record of a log whose first write
            // was torn.
            if (body.offset > raw.offset) {
                issues.push_back("the recovery record names offset " + std::to_string(body.offset) +
                                 ", after its own offset " + std::to_string(raw.offset));
            }
            note(file_, raw.offset, seq,
                 "the writer cut " + std::to_string(body.length) + " bytes of " + tornWhy(body.reason) + " at offset " +
                     std::to_string(body.offset) + " after a crash (SHA-256 " + hex(body.digest) + ")");
            break;
        }
    }
}

void Verifier::finish() {
    for (const auto& [first, range] : missing_) {
        problem(
            range.fileIndex, range.file, range.offset, first,
            seqRange(first, range.last) + " missing before record " + std::to_string(range.last + 1) + " (deleted)");
    }
    const std::string lastFile = report_.files.empty() ? std::string() : report_.files.back();
    const std::size_t lastIndex = report_.files.empty() ? 0 : report_.files.size() - 1;
    const Head head = report_.head;
    if (head.seq == 0) {
        note(lastFile, lastEnd_, 0, "the log holds no records");
    } else {
        const bool endsClosing = lastKind_ == Kind::Checkpoint && (lastCheckpointFlags_ & kCheckpointClosing) != 0;
        report_.closed = endsClosing && report_.lastCheckpointSeq == head.seq;
        if (report_.lastCheckpointSeq == 0) {
            report_.unsignedRecords = report_.records;
            note(lastFile, lastEnd_, 0,
                 "no valid checkpoint: none of the " + std::to_string(report_.records) +
                     " records is covered by a signature");
        } else {
            report_.unsignedRecords = head.seq - report_.lastCheckpointSeq;
            if (report_.unsignedRecords > 0) {
                const bool one = report_.unsignedRecords == 1;
                note(lastFile, lastEnd_, head.seq,
                     std::to_string(report_.unsignedRecords) + (one ? " record" : " records") +
                         " after the last checkpoint (seq " + std::to_string(report_.lastCheckpointSeq) +
                         (one ? ") is" : ") are") + " not covered by a signature: " + (one ? "it" : "they") +
                         " could be cut off or rewritten without a trace");
            }
        }
        if (lastKind_ == Kind::Checkpoint && (lastCheckpointFlags_ & kCheckpointRotation) != 0) {
            note(lastFile, lastEnd_, head.seq,
                 "the last file ends with a rotation checkpoint: the log continues in a file that is not here");
        } else if (report_.closed) {
            note(lastFile, lastEnd_, head.seq, "the log ends with a closing checkpoint (clean shutdown)");
        } else if (endsClosing) {
            note(lastFile, lastEnd_, head.seq, "the log ends with a closing checkpoint whose signature is not valid");
        } else {
            note(lastFile, lastEnd_, head.seq,
                 "the log does not end with a closing checkpoint: the writer is running or crashed, or records "
                 "were cut off at the end");
        }
    }
    if (foreignKeys_ > 0 && report_.checkpoints == 0) {
        note(lastFile, lastEnd_, 0,
             "no checkpoint is signed by the given key; the first foreign one is signed by key " + hex(foreignKey_) +
                 ": is the key the monitor's?");
    }
    if (options_.expectClosed && !report_.closed) {
        problem(lastIndex, lastFile, lastEnd_, head.seq,
                "the log does not end with a closing checkpoint, as --expect-closed requires (truncated, or the "
                "writer did not shut down cleanly)");
    }
    if (options_.expectHead && !expectSeen_) {
        const std::uint64_t want = options_.expectHead->seq;
        problem(lastIndex, lastFile, lastEnd_, want,
                "the log ends at seq " + std::to_string(head.seq) + ", before the expected head seq " +
                    std::to_string(want) + ": " +
                    (want > head.seq ? seqRange(head.seq + 1, want) + " missing (truncated)"
                                     : std::string("the expected record is missing")));
    }
    std::stable_sort(problems_.begin(), problems_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [key, p] : problems_) report_.problems.push_back(std::move(p));
}

Result<bool> checkKey(const bundle::PublicKey& key) {
    if (key.algorithm() != bundle::Algorithm::Ed25519) {
        return Error{"the decision log is signed with Ed25519: the given key is " +
                     std::string(bundle::algorithmName(key.algorithm()))};
    }
    return true;
}

}  // namespace

std::string formatHead(const Head& head) {
    return std::to_string(head.seq) + ":" + hex(head.hash);
}

std::optional<Head> parseHead(std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 20 || text.size() - colon - 1 != 64) {
        return std::nullopt;
    }
    Head head;
    for (char c : text.substr(0, colon)) {
        if (c < '0' || c > '9') return std::nullopt;
        const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
        if (head.seq > (UINT64_MAX - digit) / 10) return std::nullopt;
        head.seq = head.seq * 10 + digit;
    }
    const auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < 32; ++i) {
        const int hi = nibble(text[colon + 1 + 2 * i]), lo = nibble(text[colon + 2 + 2 * i]);
        if (hi < 0 || lo < 0) return std::nullopt;
        head.hash[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    if (head.seq == 0) return std::nullopt;
    return head;
}

Result<VerifyReport> verify(const std::string& path, const bundle::PublicKey& key, const VerifyOptions& options) {
    if (auto ok = checkKey(key); !ok) return Error{ok.error()};
    auto files = logFiles(path);
    if (!files) return Error{files.error()};
    VerifyReport report;
    report.files = *files;
    Verifier verifier(key, options, report);
    for (std::size_t i = 0; i < files->size(); ++i) {
        auto source = detail::FileSource::open((*files)[i]);
        if (!source) return Error{source.error()};
        auto done = verifier.file(**source, (*files)[i], i, i + 1 == files->size());
        if (!done) return Error{done.error()};
    }
    verifier.finish();
    return report;
}

Result<VerifyReport> verifyBytes(std::span<const std::uint8_t> bytes, const std::string& name,
                                 const bundle::PublicKey& key, const VerifyOptions& options) {
    if (auto ok = checkKey(key); !ok) return Error{ok.error()};
    VerifyReport report;
    report.files = {name};
    Verifier verifier(key, options, report);
    detail::MemorySource source(bytes);
    auto done = verifier.file(source, name, 0, true);
    if (!done) return Error{done.error()};
    verifier.finish();
    return report;
}

}  // namespace omega::log
