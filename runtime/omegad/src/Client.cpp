// The blocking omegad client (Client.h) over a Unix stream socket with send and receive timeouts.
#include "omega/omegad/Client.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace omega::omegad {

Client::~Client() {
    close();
}

Client::Client(Client&& other) noexcept : fd_(other.fd_), buffer_(std::move(other.buffer_)) {
    other.fd_ = -1;
}

Client& Client::operator=(Client&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = other.fd_;
        buffer_ = std::move(other.buffer_);
        other.fd_ = -1;
    }
    return *this;
}

void Client::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
}

Result<Client> Client::connect(const std::string& path, int timeoutMs) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return Error{"socket path `" + path + "` is too long"};
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error{std::string("socket: ") + std::strerror(errno)};
    timeval tv{timeoutMs / 1000, (timeoutMs % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const std::string e = std::strerror(errno);
        ::close(fd);
        return Error{"cannot connect to `" + path + "`: " + e};
    }
    return Client(fd);
}

Result<bool> Client::sendBytes(std::string_view bytes) {
    if (fd_ < 0) return Error{"not connected"};
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return Error{std::string("send: ") + (n < 0 ? std::strerror(errno) : "no progress")};
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

Result<Reply> Client::readReply(std::uint32_t maxPayload) {
    if (fd_ < 0) return Error{"not connected"};
    for (;;) {
        const FrameView f = decodeFrame(buffer_, maxPayload);
        if (f.status == FrameStatus::Complete) {
            Reply r{f.type, std::string(f.body)};
            buffer_.erase(0, f.size);
            return r;
        }
        if (f.status != FrameStatus::Partial) return Error{"the server sent a malformed frame"};
        char chunk[16384];
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) return Error{"the server closed the connection"};
        if (n < 0) {
            return Error{errno == EAGAIN || errno == EWOULDBLOCK ? std::string("timed out waiting for a reply")
                                                                 : std::string("recv: ") + std::strerror(errno)};
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
    }
}

Result<Reply> Client::call(Type type, std::string_view body) {
    auto sent = sendBytes(frame(static_cast<std::uint8_t>(type), body));
    if (!sent) return Error{sent.error()};
    return readReply();
}

}  // namespace omega::omegad
