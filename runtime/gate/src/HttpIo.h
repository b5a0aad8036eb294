// Socket plumbing shared by the HTTP server and client (private to omega_gate_http): non-blocking descriptors whose
// reads and writes wait in poll() until a deadline or a stop descriptor, and the read buffer both sides parse from.
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace omega::gate::http::io {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

inline Deadline after(std::uint32_t ms) {
    return Clock::now() + std::chrono::milliseconds(ms);
}

enum class Status { Ok, Closed, Timeout, Stopped, Failed };

// Unconsumed bytes are [lo_, hi_) of one heap block that grows on demand and compacts when drained, so a connection
// reads into the same memory request after request.
class Buffer {
public:
    std::string_view view() const { return {data_.get() + lo_, hi_ - lo_}; }
    std::size_t size() const { return hi_ - lo_; }
    bool empty() const { return hi_ == lo_; }
    void consume(std::size_t n) {
        lo_ += n;
        if (lo_ == hi_) lo_ = hi_ = 0;
    }
    // Room for at least `want` more bytes after the unconsumed ones.
    char* space(std::size_t want);
    std::size_t room() const { return capacity_ - hi_; }
    void commit(std::size_t n) { hi_ += n; }

private:
    std::unique_ptr<char[]> data_;
    std::size_t capacity_ = 0;
    std::size_t lo_ = 0;
    std::size_t hi_ = 0;
};

// One recv() of up to `want` bytes appended to `buf`, waiting until `deadline` (stopFd, when not -1, readable means
// Stopped). `pollFirst` skips the optimistic recv when data is unlikely to be there yet (saves a syscall).
Status readSome(int fd, Buffer& buf, std::size_t want, Deadline deadline, int stopFd, bool pollFirst);

// Sends all of `parts` (advanced in place), waiting at most timeoutMs each time the peer takes nothing.
Status writeAll(int fd, iovec* parts, int count, std::uint32_t timeoutMs, int stopFd);
inline Status writeAll(int fd, std::string_view bytes, std::uint32_t timeoutMs, int stopFd) {
    iovec v{const_cast<char*>(bytes.data()), bytes.size()};
    return writeAll(fd, &v, 1, timeoutMs, stopFd);
}

// Waits for fd to be readable or writable (events), the deadline or stopFd.
Status wait(int fd, short events, Deadline deadline, int stopFd);

void setNoDelay(int fd);
std::string errnoText(const char* what, int error);
void closeFd(int& fd);

}  // namespace omega::gate::http::io
