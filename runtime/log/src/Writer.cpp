// The Writer: resumes or creates a log, appends hash-chained records with leader/follower group commit (one write
// and one fdatasync for every record that arrived while the previous sync ran), signs checkpoints by count, by
// timer, on rotation and on close, and rotates files by size with a crash-safe rename protocol.
#include "Files.h"
#include "Scanner.h"
#include "omega/bundle/Signing.h"
#include "omega/log/Log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

namespace omega::log {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMinRotateBytes = 4096;

std::int64_t nowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string errnoText(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

Result<bool> writeAll(int fd, std::span<const std::uint8_t> bytes, const std::string& path) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return Error{errnoText("cannot write `" + path + "`")};
        done += static_cast<std::size_t>(n);
    }
    return true;
}

Result<bool> syncFd(int fd, const std::string& path) {
    // INVARIANT: after a failed fdatasync the page cache may have dropped the data; the caller never retries.
    if (::fdatasync(fd) != 0) return Error{errnoText("cannot sync `" + path + "`")};
    return true;
}

Result<bool> syncDirectory(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Error{errnoText("cannot open directory `" + dir + "`")};
    const bool ok = ::fsync(fd) == 0;
    const std::string why = ok ? "" : errnoText("cannot sync directory `" + dir + "`");
    ::close(fd);
    if (!ok) return Error{why};
    return true;
}

// What the active file holds, found by scanning its chain before appending to it.
struct Tail {
    std::uint64_t firstSeq = 1;
    std::uint64_t lastSeq = 0;
    Hash lastHash{};
    std::uint64_t validEnd = kFileHeaderSize;
    bool closing = false;   // the last record is a closing checkpoint
    bool rotation = false;  // the last record is a rotation checkpoint: the rotation did not finish
    std::optional<RecoveryBody> torn;
};

Result<Hash> digestRange(detail::Source& source, std::uint64_t from) {
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) std::abort();
    std::vector<std::uint8_t> chunk(1u << 20);
    for (std::uint64_t at = from; at < source.size();) {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), source.size() - at));
        if (source.read(at, chunk.data(), want) != want) return Error{source.error()};
        if (EVP_DigestUpdate(ctx.get(), chunk.data(), want) != 1) std::abort();
        at += want;
    }
    Hash out{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx.get(), out.data(), &length) != 1) std::abort();
    return out;
}

// Follows the active file's chain to its end. A torn tail (an incomplete record, zeros, or a damaged last record)
// is returned for the caller to cut; damage anywhere else is an error: the writer does not append to it.
Result<Tail> scanTail(const std::string& path) {
    auto source = detail::FileSource::open(path);
    if (!source) return Error{source.error()};
    detail::Scanner scanner(**source);
    const std::string refuse = "cannot resume the log `" + path + "`: ";
    const std::string advice = " (run `omegac audit verify`; the writer does not append to a damaged log)";
    auto header = scanner.header();
    if (scanner.ioError()) return Error{refuse + scanner.error()};
    if (!header) return Error{refuse + "offset 0: " + header.error() + advice};
    Tail tail;
    tail.firstSeq = header->firstSeq;
    tail.lastSeq = header->firstSeq - 1;
    tail.lastHash = header->prevHash;
    auto cut = [&](std::uint64_t from, TornReason reason) -> Result<Tail> {
        auto digest = digestRange(**source, from);
        if (!digest) return Error{refuse + digest.error()};
        tail.torn = RecoveryBody{from, scanner.size() - from, *digest, static_cast<std::uint32_t>(reason)};
        return tail;
    };
    while (true) {
        detail::RawRecord raw;
        const std::uint64_t at = scanner.position();
        switch (scanner.next(raw)) {
            case detail::Step::Record: {
                auto record = detail::headProblem(raw).empty() ? detail::decodeRecord(raw, path)
                                                               : Result<Record>(Error{detail::headProblem(raw)});
                const bool good = record && raw.seq == tail.lastSeq + 1 &&
                                  detail::chainHash(tail.lastHash, raw.hashed()) == raw.stored();
                if (good) {
                    tail.lastSeq = raw.seq;
                    tail.lastHash = raw.stored();
                    tail.validEnd = scanner.position();
                    const auto* cp = std::get_if<CheckpointBody>(&record->body);
                    tail.closing = cp && (cp->flags & kCheckpointClosing) != 0;
                    tail.rotation = cp && (cp->flags & kCheckpointRotation) != 0;
                    continue;
                }
                // A damaged record is a crash's doing only when nothing but a torn tail follows it.
                detail::RawRecord after;
                const detail::Step step = scanner.next(after);
                if (step == detail::Step::End || step == detail::Step::Torn) return cut(at, TornReason::Damaged);
                if (step == detail::Step::IoError) return Error{refuse + scanner.error()};
                return Error{refuse + "offset " + std::to_string(at) + ": the record (seq " + std::to_string(raw.seq) +
                             ") does not continue the chain and is not the last one" + advice};
            }
            case detail::Step::End: return tail;
            case detail::Step::Torn: return cut(at, scanner.tornReason());
            case detail::Step::Malformed:
                return Error{refuse + "offset " + std::to_string(at) + ": " + scanner.why() + advice};
            case detail::Step::IoError: return Error{refuse + scanner.error()};
        }
    }
}

// Bytes to write in order; a rotation follows the chunk when rotateAfter is set.
struct Chunk {
    std::vector<std::uint8_t> bytes;
    std::uint64_t lastSeq = 0;
    Hash lastHash{};
    bool rotateAfter = false;
};

}  // namespace

class Writer::Impl {
public:
    explicit Impl(WriterOptions o) : options(std::move(o)) {}
    ~Impl() {
        if (ticker_.joinable()) (void)close();
        closeFds();
    }

    Result<bool> start();
    Result<std::uint64_t> append(const Entry& entry);
    Result<bool> checkpoint();
    Result<bool> close();
    Head head() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return written_;
    }
    WriterStats stats() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return stats_;
    }

    WriterOptions options;

private:
    using Lock = std::unique_lock<std::mutex>;

    // Under mutex_: serialise a record into the pending chunks, continuing the chain.
    std::uint64_t addLocked(Kind kind, std::uint8_t flags, std::int64_t timeNs, std::span<const std::uint8_t> payload);
    Result<std::uint64_t> addCheckpointLocked(std::uint32_t flags);
    Result<bool> afterEntryLocked();
    // Makes every record up to `seq` written (and durable when durable or `sync`).
    Result<std::uint64_t> commitLocked(Lock& lock, std::uint64_t seq, bool sync);
    // Only by the one thread that may write (the leader, or the lock holder when not durable).
    Result<bool> writeChunks(std::vector<Chunk>& chunks, bool sync, WriterStats& counts);
    Result<bool> rotateFile(std::uint64_t nextFirstSeq, const Hash& prevHash);
    Result<int> createFile(std::uint64_t firstSeq, const Hash& prevHash);
    void tick();
    void closeFds();
    Result<bool> fail(const std::string& why) {
        if (failure_.empty()) failure_ = why;
        return Error{"the decision log failed: " + failure_};
    }

    bundle::KeyId keyId_{};
    std::string dir_;
    int fd_ = -1;
    int lockFd_ = -1;
    std::uint64_t fileFirstSeq_ = 1;  // of the active file; the writing thread's

    std::mutex closeMutex_;
    mutable std::mutex mutex_;
    std::condition_variable writtenCv_;
    std::condition_variable tickCv_;
    std::thread ticker_;
    bool stopping_ = false;
    std::uint64_t nextSeq_ = 1;
    Hash lastHash_{};
    std::uint64_t fileBytes_ = 0;  // the active file's size once pending chunks are written
    std::uint32_t sinceCheckpoint_ = 0;
    std::chrono::steady_clock::time_point firstUnsigned_{};
    std::vector<Chunk> pending_;
    bool leader_ = false;
    Head written_;
    std::string failure_;
    bool closed_ = false;
    WriterStats stats_;
};

std::uint64_t Writer::Impl::addLocked(Kind kind, std::uint8_t flags, std::int64_t timeNs,
                                      std::span<const std::uint8_t> payload) {
    if (pending_.empty() || pending_.back().rotateAfter) pending_.emplace_back();
    Chunk& chunk = pending_.back();
    const std::uint64_t seq = nextSeq_++;
    lastHash_ = detail::appendRecord(chunk.bytes, kind, flags, seq, timeNs, payload, lastHash_);
    chunk.lastSeq = seq;
    chunk.lastHash = lastHash_;
    fileBytes_ += kRecordOverhead + payload.size();
    ++stats_.records;
    if (kind != Kind::Checkpoint && sinceCheckpoint_++ == 0) firstUnsigned_ = std::chrono::steady_clock::now();
    return seq;
}

Result<std::uint64_t> Writer::Impl::addCheckpointLocked(std::uint32_t flags) {
    const std::int64_t time = nowNs();
    const auto message = detail::checkpointMessage(nextSeq_ - 1, lastHash_, time, flags);
    auto signature = bundle::signMessage(*options.key, message);
    if (!signature) return Error{fail("cannot sign a checkpoint: " + signature.error()).error()};
    const auto payload = detail::encodeCheckpoint(flags, keyId_, *signature);
    const std::uint64_t seq = addLocked(Kind::Checkpoint, 0, time, payload);
    sinceCheckpoint_ = 0;
    ++stats_.checkpoints;
    return seq;
}

Result<bool> Writer::Impl::afterEntryLocked() {
    if (options.checkpointRecords != 0 && sinceCheckpoint_ >= options.checkpointRecords) {
        if (auto cp = addCheckpointLocked(0); !cp) return Error{cp.error()};
    }
    if (fileBytes_ >= options.rotateBytes) {
        auto cp = addCheckpointLocked(kCheckpointRotation);
        if (!cp) return Error{cp.error()};
        pending_.back().rotateAfter = true;
        fileBytes_ = kFileHeaderSize;
    }
    return true;
}

Result<std::uint64_t> Writer::Impl::commitLocked(Lock& lock, std::uint64_t seq, bool sync) {
    if (!options.durable) {
        // Written under the lock, in order; nobody else writes in this mode.
        std::vector<Chunk> chunks = std::move(pending_);
        pending_.clear();
        auto ok = writeChunks(chunks, sync, stats_);
        if (!ok) return Error{fail(ok.error()).error()};
        if (!chunks.empty()) written_ = Head{chunks.back().lastSeq, chunks.back().lastHash};
        return seq;
    }
    while (written_.seq < seq) {
        if (!failure_.empty()) return Error{"the decision log failed: " + failure_};
        if (leader_) {
            writtenCv_.wait(lock);
            continue;
        }
        // INVARIANT: with no leader, every record not yet written is in pending_.
        if (pending_.empty()) std::abort();
        leader_ = true;
        std::vector<Chunk> chunks = std::move(pending_);
        pending_.clear();
        lock.unlock();
        WriterStats counts;
        auto ok = writeChunks(chunks, true, counts);
        lock.lock();
        leader_ = false;
        stats_.writes += counts.writes;
        stats_.syncs += counts.syncs;
        stats_.rotations += counts.rotations;
        if (!ok) {
            (void)fail(ok.error());
        } else {
            written_ = Head{chunks.back().lastSeq, chunks.back().lastHash};
        }
        writtenCv_.notify_all();
    }
    return seq;
}

Result<bool> Writer::Impl::writeChunks(std::vector<Chunk>& chunks, bool sync, WriterStats& counts) {
    for (const Chunk& chunk : chunks) {
        if (auto ok = writeAll(fd_, chunk.bytes, options.path); !ok) return ok;
        ++counts.writes;
        if (chunk.rotateAfter) {
            // The rotated file is complete on disk before its name changes.
            if (auto ok = syncFd(fd_, options.path); !ok) return ok;
            ++counts.syncs;
            if (auto ok = rotateFile(chunk.lastSeq + 1, chunk.lastHash); !ok) return ok;
            ++counts.rotations;
        }
    }
    if (sync && !chunks.empty() && !chunks.back().rotateAfter) {
        if (auto ok = syncFd(fd_, options.path); !ok) return ok;
        ++counts.syncs;
    }
    return true;
}

// Writes PATH.new with its header, durably; the caller renames it into place.
Result<int> Writer::Impl::createFile(std::uint64_t firstSeq, const Hash& prevHash) {
    const std::string next = detail::newPath(options.path);
    const int fd = ::open(next.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) return Error{errnoText("cannot create `" + next + "`")};
    auto ok = writeAll(fd, detail::encodeFileHeader(firstSeq, prevHash), next);
    if (ok && ::fsync(fd) != 0) ok = Error{errnoText("cannot sync `" + next + "`")};
    if (!ok) {
        ::close(fd);
        return Error{ok.error()};
    }
    return fd;
}

// PATH.new is made complete first, then PATH becomes PATH.<first seq> and PATH.new becomes PATH. A crash leaves
// either PATH (ending with its rotation checkpoint, so open() rotates again) or PATH.new alone (open() renames it).
Result<bool> Writer::Impl::rotateFile(std::uint64_t nextFirstSeq, const Hash& prevHash) {
    auto fd = createFile(nextFirstSeq, prevHash);
    if (!fd) return Error{fd.error()};
    const std::string rotated = detail::rotatedPath(options.path, fileFirstSeq_);
    if (::renameat2(AT_FDCWD, options.path.c_str(), AT_FDCWD, rotated.c_str(), RENAME_NOREPLACE) != 0 ||
        ::rename(detail::newPath(options.path).c_str(), options.path.c_str()) != 0) {
        const std::string why = errnoText("cannot rotate `" + options.path + "` to `" + rotated + "`");
        ::close(*fd);
        return Error{why};
    }
    if (auto ok = syncDirectory(dir_); !ok) {
        ::close(*fd);
        return ok;
    }
    ::close(fd_);
    fd_ = *fd;
    fileFirstSeq_ = nextFirstSeq;
    return true;
}

Result<bool> Writer::Impl::start() {
    const std::string& path = options.path;
    keyId_ = options.key->id();
    const fs::path p(path);
    dir_ = p.has_parent_path() ? p.parent_path().string() : ".";

    lockFd_ = ::open(detail::lockPath(path).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lockFd_ < 0) return Error{errnoText("cannot open `" + detail::lockPath(path) + "`")};
    if (::flock(lockFd_, LOCK_EX | LOCK_NB) != 0) {
        return Error{"the log `" + path + "` is in use by another writer (`" + detail::lockPath(path) + "` is locked)"};
    }

    std::error_code ec;
    const std::string next = detail::newPath(path);
    const bool hasActive = fs::exists(path, ec), hasNext = fs::exists(next, ec);
    if (hasNext && !hasActive) {
        // A rotation stopped after the active file was renamed: the new file is complete, put it in place.
        if (::rename(next.c_str(), path.c_str()) != 0) return Error{errnoText("cannot rename `" + next + "`")};
        if (auto ok = syncDirectory(dir_); !ok) return ok;
    } else if (hasNext) {
        ::unlink(next.c_str());
    }

    std::uint32_t openFlags = 0;
    std::optional<RecoveryBody> torn;
    if (fs::exists(path, ec)) {
        auto tail = scanTail(path);
        if (!tail) return Error{tail.error()};
        fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
        if (fd_ < 0) return Error{errnoText("cannot open `" + path + "`")};
        fileFirstSeq_ = tail->firstSeq;
        nextSeq_ = tail->lastSeq + 1;
        lastHash_ = tail->lastHash;
        fileBytes_ = tail->validEnd;
        written_ = Head{tail->lastSeq, tail->lastHash};
        if (tail->torn) {
            // INVARIANT: the cut bytes were never acknowledged: a durable append returns after its sync, and
            // nothing after a synced record can be cut except by this (the recovery record says what was cut).
            torn = tail->torn;
            if (::ftruncate(fd_, static_cast<off_t>(torn->offset)) != 0) {
                return Error{errnoText("cannot cut the torn tail of `" + path + "`")};
            }
            if (auto ok = syncFd(fd_, path); !ok) return ok;
            openFlags |= kOpenAfterRecovery;
        } else if (tail->closing) {
            openFlags |= kOpenAfterClose;
        }
        if (tail->rotation) {
            // The rotation checkpoint was synced before the rotation began, so nothing can follow it.
            if (torn) return Error{"cannot resume the log `" + path + "`: bytes follow its rotation checkpoint"};
            if (auto ok = rotateFile(nextSeq_, lastHash_); !ok) return ok;
            fileBytes_ = kFileHeaderSize;
        }
    } else {
        auto existing = logFiles(path);
        if (existing) {
            return Error{"the active file `" + path + "` is missing but " + std::to_string(existing->size()) +
                         " rotated files of the log are beside it: it was deleted or moved; the writer does not "
                         "start a log over a gap"};
        }
        auto fd = createFile(1, Hash{});
        if (!fd) return Error{fd.error()};
        if (::rename(next.c_str(), path.c_str()) != 0) {
            ::close(*fd);
            return Error{errnoText("cannot rename `" + next + "`")};
        }
        fd_ = *fd;
        if (auto ok = syncDirectory(dir_); !ok) return ok;
        fileBytes_ = kFileHeaderSize;
    }
    Lock lock(mutex_);
    if (nextSeq_ == 1) {
        // A new log, or one whose first write was torn: seq 1 is always the open record of a new log.
        addLocked(Kind::Open, 0, nowNs(), detail::encodeOpen(kOpenNewLog, keyId_));
        if (torn) addLocked(Kind::Recovery, 0, nowNs(), detail::encodeRecovery(*torn));
    } else {
        if (torn) addLocked(Kind::Recovery, 0, nowNs(), detail::encodeRecovery(*torn));
        addLocked(Kind::Open, 0, nowNs(), detail::encodeOpen(openFlags, keyId_));
    }
    auto cp = addCheckpointLocked(0);
    if (!cp) return Error{cp.error()};
    auto done = commitLocked(lock, *cp, /*sync=*/true);
    if (!done) return Error{done.error()};
    lock.unlock();
    if (options.checkpointMs != 0) ticker_ = std::thread([this] { tick(); });
    return true;
}

Result<std::uint64_t> Writer::Impl::append(const Entry& entry) {
    if (entry.kind != Kind::Decision && entry.kind != Kind::Approval && entry.kind != Kind::Event) {
        return Error{"only decisions, approvals and events can be appended, not " + std::string(kindName(entry.kind)) +
                     " records"};
    }
    if (entry.request.size() > kMaxTextSize || entry.decision.size() > kMaxTextSize) {
        return Error{"the record's request or decision is over the limit of " + std::to_string(kMaxTextSize) +
                     " bytes"};
    }
    // Encoding and the request digest are done before taking the lock, so concurrent appenders do them in parallel.
    std::uint8_t flags = 0;
    const auto payload = detail::encodeEntry(entry, flags);
    const std::int64_t time = entry.timeNs != 0 ? entry.timeNs : nowNs();
    Lock lock(mutex_);
    if (!failure_.empty()) return Error{"the decision log failed: " + failure_};
    if (closed_) return Error{"the decision log is closed"};
    const std::uint64_t seq = addLocked(entry.kind, flags, time, payload);
    ++stats_.entries;
    if (auto ok = afterEntryLocked(); !ok) return Error{ok.error()};
    return commitLocked(lock, seq, false);
}

Result<bool> Writer::Impl::checkpoint() {
    Lock lock(mutex_);
    if (!failure_.empty()) return Error{"the decision log failed: " + failure_};
    if (closed_) return Error{"the decision log is closed"};
    if (sinceCheckpoint_ == 0) return false;
    auto seq = addCheckpointLocked(0);
    if (!seq) return Error{seq.error()};
    auto done = commitLocked(lock, *seq, false);
    if (!done) return Error{done.error()};
    return true;
}

// Signs records that would otherwise stay unsigned while no more arrive: at most checkpointMs after the first
// unsigned one.
void Writer::Impl::tick() {
    const auto period = std::chrono::milliseconds(options.checkpointMs);
    Lock lock(mutex_);
    while (!stopping_) {
        if (closed_ || !failure_.empty() || sinceCheckpoint_ == 0) {
            tickCv_.wait_for(lock, period);
            continue;
        }
        const auto deadline = firstUnsigned_ + period;
        if (std::chrono::steady_clock::now() < deadline) {
            tickCv_.wait_until(lock, deadline);
            continue;
        }
        auto seq = addCheckpointLocked(0);
        if (seq) (void)commitLocked(lock, *seq, false);
    }
}

Result<bool> Writer::Impl::close() {
    std::lock_guard<std::mutex> once(closeMutex_);  // a second caller waits for the first, then sees it closed
    {
        Lock lock(mutex_);
        if (closed_ && fd_ < 0) {
            if (!failure_.empty()) return Error{"the decision log failed: " + failure_};
            return true;
        }
        stopping_ = true;
        tickCv_.notify_all();
    }
    if (ticker_.joinable()) ticker_.join();
    Lock lock(mutex_);
    Result<bool> result = true;
    if (!closed_ && failure_.empty()) {
        auto seq = addCheckpointLocked(kCheckpointClosing);
        closed_ = true;
        if (!seq) {
            result = Error{seq.error()};
        } else if (auto done = commitLocked(lock, *seq, /*sync=*/true); !done) {
            result = Error{done.error()};
        }
    } else if (!failure_.empty()) {
        result = Error{"the decision log failed: " + failure_};
    }
    closed_ = true;
    writtenCv_.wait(lock, [this] { return !leader_; });
    closeFds();
    return result;
}

void Writer::Impl::closeFds() {
    if (fd_ >= 0) ::close(fd_);
    if (lockFd_ >= 0) ::close(lockFd_);  // releases the flock
    fd_ = lockFd_ = -1;
}

Writer::Writer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Writer::~Writer() {
    if (impl_) (void)impl_->close();
}

Result<std::unique_ptr<Writer>> Writer::open(WriterOptions options) {
    if (options.path.empty()) return Error{"the log path is empty"};
    if (!options.key) return Error{"the log needs a signing key (Ed25519)"};
    if (options.key->algorithm() != bundle::Algorithm::Ed25519) {
        return Error{"the log's signing key must be Ed25519, not " +
                     std::string(bundle::algorithmName(options.key->algorithm()))};
    }
    if (options.rotateBytes < kMinRotateBytes) {
        return Error{"rotateBytes must be at least " + std::to_string(kMinRotateBytes)};
    }
    auto impl = std::make_unique<Impl>(std::move(options));
    if (auto ok = impl->start(); !ok) return Error{ok.error()};
    return std::unique_ptr<Writer>(new Writer(std::move(impl)));
}

Result<std::uint64_t> Writer::append(const Entry& entry) {
    return impl_->append(entry);
}

Head Writer::head() const {
    return impl_->head();
}

Result<bool> Writer::checkpoint() {
    return impl_->checkpoint();
}

Result<bool> Writer::close() {
    return impl_->close();
}

WriterStats Writer::stats() const {
    return impl_->stats();
}

const std::string& Writer::path() const {
    return impl_->options.path;
}

}  // namespace omega::log
