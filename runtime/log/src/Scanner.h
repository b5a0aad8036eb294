// Sequential reading of one log file from an untrusted byte source: the header, then record frames, telling a
// complete frame from a torn tail (a crash while writing) and from bytes that are not a record; private to omega_log.
#pragma once

#include "Codec.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace omega::log::detail {

// Random-access bytes of one file. read() returns fewer than `n` bytes only at the end or on an I/O error, which
// error() then describes.
class Source {
public:
    virtual ~Source() = default;
    virtual std::uint64_t size() const = 0;
    virtual std::size_t read(std::uint64_t offset, std::uint8_t* dst, std::size_t n) = 0;
    const std::string& error() const { return error_; }

protected:
    std::string error_;
};

class MemorySource : public Source {
public:
    explicit MemorySource(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
    std::uint64_t size() const override { return bytes_.size(); }
    std::size_t read(std::uint64_t offset, std::uint8_t* dst, std::size_t n) override;

private:
    std::span<const std::uint8_t> bytes_;
};

// A file read through a 1 MiB window. Its size is taken at open: bytes a live writer appends later are not read.
class FileSource : public Source {
public:
    static Result<std::unique_ptr<FileSource>> open(const std::string& path);
    ~FileSource() override;
    std::uint64_t size() const override { return size_; }
    std::size_t read(std::uint64_t offset, std::uint8_t* dst, std::size_t n) override;

private:
    FileSource(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
    int fd_;
    std::uint64_t size_;
    std::vector<std::uint8_t> window_;
    std::uint64_t windowAt_ = 0;
};

enum class Step {
    Record,     // a complete frame (its head fields may still be wrong: see headProblem)
    End,        // the end of the file, at a frame boundary
    Torn,       // the rest of the file is a torn tail: tornReason(), tornLength()
    Malformed,  // no frame starts here (bad marker or impossible length): why()
    IoError,    // error()
};

class Scanner {
public:
    explicit Scanner(Source& source) : source_(source) {}

    // Reads the header; sets position() after it. An error is what is wrong with it (or an I/O error: ioError()).
    Result<FileHeader> header();
    // Reads the frame at position() into `out` and moves past it (only for Step::Record).
    Step next(RawRecord& out);
    // After Step::Malformed: moves to the next offset after position() where a plausible frame starts, or to the
    // end; returns how many bytes it skipped.
    std::uint64_t skipToNextFrame();

    std::uint64_t position() const { return position_; }
    std::uint64_t size() const { return source_.size(); }
    const std::string& why() const { return why_; }
    TornReason tornReason() const { return tornReason_; }
    std::uint64_t tornLength() const { return source_.size() - position_; }
    bool ioError() const { return !source_.error().empty(); }
    const std::string& error() const { return source_.error(); }
    // True when every byte in [from, end of file) is zero. Reads at most the rest of the file.
    bool zerosFrom(std::uint64_t from);

private:
    // Enough to frame a record: the marker and a length within the limit.
    bool plausibleHead(const std::uint8_t* head) const;
    // What a search for the next record accepts: also a known kind and zero reserved fields.
    bool likelyHead(const std::uint8_t* head) const;
    // The offset of the first likely record head in [from, end of file), or the file's size.
    std::uint64_t findHead(std::uint64_t from);

    Source& source_;
    std::uint64_t position_ = 0;
    std::string why_;
    TornReason tornReason_ = TornReason::Incomplete;
};

}  // namespace omega::log::detail
