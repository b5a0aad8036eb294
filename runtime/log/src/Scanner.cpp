// Reading log files: buffered positional reads, the header, frames, torn tails and resynchronisation after bytes
// that are not a record. Every length is checked against the file's size and the format's limits before use.
#include "Scanner.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace omega::log::detail {

namespace {

constexpr std::size_t kWindowSize = 1u << 20;

}  // namespace

std::size_t MemorySource::read(std::uint64_t offset, std::uint8_t* dst, std::size_t n) {
    if (offset >= bytes_.size()) return 0;
    const std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(n, bytes_.size() - offset));
    std::memcpy(dst, bytes_.data() + offset, count);
    return count;
}

Result<std::unique_ptr<FileSource>> FileSource::open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error{"cannot open `" + path + "`: " + std::strerror(errno)};
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const std::string why = S_ISREG(st.st_mode) ? std::strerror(errno) : "not a regular file";
        ::close(fd);
        return Error{"cannot read `" + path + "`: " + why};
    }
    return std::unique_ptr<FileSource>(new FileSource(fd, static_cast<std::uint64_t>(st.st_size)));
}

FileSource::~FileSource() {
    ::close(fd_);
}

std::size_t FileSource::read(std::uint64_t offset, std::uint8_t* dst, std::size_t n) {
    if (offset >= size_) return 0;
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, size_ - offset));
    const auto fill = [&](std::uint8_t* to, std::size_t count, std::uint64_t at) -> std::size_t {
        std::size_t done = 0;
        while (done < count) {
            const ssize_t got = ::pread(fd_, to + done, count - done, static_cast<off_t>(at + done));
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) {
                error_ = std::string("read error: ") + std::strerror(errno);
                break;
            }
            if (got == 0) {
                error_ = "the file shrank while it was read";
                break;
            }
            done += static_cast<std::size_t>(got);
        }
        return done;
    };
    if (n > kWindowSize) return fill(dst, n, offset);
    if (offset < windowAt_ || offset + n > windowAt_ + window_.size()) {
        window_.resize(static_cast<std::size_t>(std::min<std::uint64_t>(kWindowSize, size_ - offset)));
        windowAt_ = offset;
        const std::size_t got = fill(window_.data(), window_.size(), offset);
        window_.resize(got);
        if (got < n) {
            std::memcpy(dst, window_.data(), got);
            return got;
        }
    }
    std::memcpy(dst, window_.data() + (offset - windowAt_), n);
    return n;
}

Result<FileHeader> Scanner::header() {
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(std::min<std::uint64_t>(kFileHeaderSize, size())));
    if (source_.read(0, bytes.data(), bytes.size()) != bytes.size()) return Error{source_.error()};
    position_ = std::min<std::uint64_t>(kFileHeaderSize, size());
    return decodeFileHeader(bytes);
}

bool Scanner::zerosFrom(std::uint64_t from) {
    std::vector<std::uint8_t> chunk(64 * 1024);
    for (std::uint64_t at = from; at < size();) {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), size() - at));
        const std::size_t got = source_.read(at, chunk.data(), want);
        if (got != want) return false;
        if (std::any_of(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(got), [](auto b) { return b; })) {
            return false;
        }
        at += got;
    }
    return true;
}

bool Scanner::plausibleHead(const std::uint8_t* head) const {
    const std::span<const std::uint8_t> h(head, kRecordHeadSize);
    return std::equal(kRecordMagic.begin(), kRecordMagic.end(), h.begin()) &&
           readLe<std::uint32_t>(h, kRecordLengthAt) <= kMaxPayloadSize;
}

bool Scanner::likelyHead(const std::uint8_t* head) const {
    const std::span<const std::uint8_t> h(head, kRecordHeadSize);
    return plausibleHead(head) && isKnownKind(h[kRecordKindAt]) && readLe<std::uint16_t>(h, kRecordReservedAt) == 0 &&
           readLe<std::uint32_t>(h, kRecordReserved2At) == 0;
}

std::uint64_t Scanner::findHead(std::uint64_t from) {
    std::vector<std::uint8_t> chunk(64 * 1024);
    std::uint64_t at = from;
    while (at < size()) {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), size() - at));
        const std::size_t got = source_.read(at, chunk.data(), want);
        if (got == 0) break;
        auto next = chunk.begin();
        const auto end = chunk.begin() + static_cast<std::ptrdiff_t>(got);
        while (true) {
            const auto hit = std::search(next, end, kRecordMagic.begin(), kRecordMagic.end());
            if (hit == end) break;
            const std::uint64_t candidate = at + static_cast<std::uint64_t>(hit - chunk.begin());
            std::array<std::uint8_t, kRecordHeadSize> head{};
            // A marker too close to the end to hold a head is where a torn tail would begin.
            if (source_.read(candidate, head.data(), head.size()) < head.size() || likelyHead(head.data())) {
                return candidate;
            }
            next = hit + 1;
        }
        // The marker may straddle two chunks: step back three bytes.
        at += got > kRecordMagic.size() ? got - (kRecordMagic.size() - 1) : got;
    }
    return size();
}

Step Scanner::next(RawRecord& out) {
    const std::uint64_t remaining = size() - position_;
    if (remaining == 0) return Step::End;
    if (remaining < kRecordHeadSize) {
        tornReason_ = zerosFrom(position_) ? TornReason::Zeros : TornReason::Incomplete;
        return ioError() ? Step::IoError : Step::Torn;
    }
    std::array<std::uint8_t, kRecordHeadSize> head{};
    if (source_.read(position_, head.data(), head.size()) != head.size()) return Step::IoError;
    if (!plausibleHead(head.data())) {
        if (zerosFrom(position_)) {
            tornReason_ = TornReason::Zeros;
            return Step::Torn;
        }
        if (ioError()) return Step::IoError;
        if (!std::equal(kRecordMagic.begin(), kRecordMagic.end(), head.begin())) {
            why_ = "no record starts here (bad record marker)";
        } else {
            why_ = "record length " + std::to_string(readLe<std::uint32_t>(head, kRecordLengthAt)) +
                   " is over the limit of " + std::to_string(kMaxPayloadSize);
        }
        return Step::Malformed;
    }
    const std::uint64_t total = kRecordOverhead + readLe<std::uint32_t>(head, kRecordLengthAt);
    if (remaining < total) {
        // A crash leaves the last record incomplete, with nothing after it. Records after it mean its length
        // was changed.
        if (findHead(position_ + 1) < size()) {
            why_ = "record length " + std::to_string(total - kRecordOverhead) +
                   " runs past the end of the file, but records follow (edited length)";
            return ioError() ? Step::IoError : Step::Malformed;
        }
        tornReason_ = TornReason::Incomplete;
        return ioError() ? Step::IoError : Step::Torn;
    }
    out.offset = position_;
    out.bytes.resize(static_cast<std::size_t>(total));
    if (source_.read(position_, out.bytes.data(), out.bytes.size()) != out.bytes.size()) return Step::IoError;
    decodeHead(out);
    position_ += total;
    return Step::Record;
}

std::uint64_t Scanner::skipToNextFrame() {
    const std::uint64_t start = position_;
    position_ = findHead(position_ + 1);
    return position_ - start;
}

}  // namespace omega::log::detail
