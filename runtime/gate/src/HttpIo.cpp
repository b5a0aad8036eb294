// Socket plumbing of omega_gate_http (HttpIo.h): deadline-bounded, stop-aware reads and writes on non-blocking
// sockets; SIGPIPE is avoided per call (MSG_NOSIGNAL), never through a process-wide handler.
#include "HttpIo.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace omega::gate::http::io {

char* Buffer::space(std::size_t want) {
    if (capacity_ - hi_ >= want) return data_.get() + hi_;
    const std::size_t used = hi_ - lo_;
    if (lo_ > 0 && capacity_ - used >= want) {
        std::memmove(data_.get(), data_.get() + lo_, used);
    } else {
        const std::size_t capacity = std::max(capacity_ * 2, used + want);
        std::unique_ptr<char[]> grown(new char[capacity]);
        if (used > 0) std::memcpy(grown.get(), data_.get() + lo_, used);
        data_ = std::move(grown);
        capacity_ = capacity;
    }
    lo_ = 0;
    hi_ = used;
    return data_.get() + hi_;
}

Status wait(int fd, short events, Deadline deadline, int stopFd) {
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return Status::Timeout;
        pollfd fds[2] = {{fd, events, 0}, {stopFd, POLLIN, 0}};
        // Rounded up, so that a wait never ends a millisecond before its deadline and spins.
        const int ready = ::poll(fds, stopFd >= 0 ? 2 : 1, static_cast<int>(std::min<long long>(left + 1, 1 << 30)));
        if (ready < 0) {
            if (errno == EINTR) continue;
            return Status::Failed;
        }
        if (stopFd >= 0 && fds[1].revents != 0) return Status::Stopped;
        // Errors and hang-ups are left to the recv or send that follows, which says which.
        if (ready > 0 && fds[0].revents != 0) return Status::Ok;
    }
}

Status readSome(int fd, Buffer& buf, std::size_t want, Deadline deadline, int stopFd, bool pollFirst) {
    char* at = buf.space(want);
    bool waited = false;
    for (;;) {
        if (pollFirst && !waited) {
            const Status s = wait(fd, POLLIN, deadline, stopFd);
            if (s != Status::Ok) return s;
            waited = true;
        }
        const ssize_t n = ::recv(fd, at, want, 0);
        if (n > 0) {
            buf.commit(static_cast<std::size_t>(n));
            return Status::Ok;
        }
        if (n == 0) return Status::Closed;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return Status::Failed;
        const Status s = wait(fd, POLLIN, deadline, stopFd);
        if (s != Status::Ok) return s;
        waited = true;
    }
}

Status writeAll(int fd, iovec* parts, int count, std::uint32_t timeoutMs, int stopFd) {
    while (count > 0 && parts->iov_len == 0) ++parts, --count;
    while (count > 0) {
        msghdr msg{};
        msg.msg_iov = parts;
        msg.msg_iovlen = static_cast<std::size_t>(count);
        const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) return Status::Failed;
            const Status s = wait(fd, POLLOUT, after(timeoutMs), stopFd);
            if (s != Status::Ok) return s;
            continue;
        }
        std::size_t sent = static_cast<std::size_t>(n);
        while (count > 0 && sent >= parts->iov_len) {
            sent -= parts->iov_len;
            ++parts;
            --count;
        }
        if (count > 0) {
            parts->iov_base = static_cast<char*>(parts->iov_base) + sent;
            parts->iov_len -= sent;
        }
    }
    return Status::Ok;
}

void setNoDelay(int fd) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

std::string errnoText(const char* what, int error) {
    char buf[256];
    // The GNU strerror_r returns its message (possibly a static string, not buf).
    const char* text = ::strerror_r(error, buf, sizeof buf);
    return std::string(what) + ": " + text;
}

void closeFd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

}  // namespace omega::gate::http::io
