// A minimal blocking client of the omegad protocol, for tests, benchmarks and C++ agents: connect, send a frame, read
// one reply frame. Every read and write has a timeout, so a stalled server fails a call instead of hanging it.
#pragma once

#include "omega/omegad/Wire.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace omega::omegad {

struct Reply {
    std::uint8_t type = 0;
    std::string body;
    bool isError() const { return type == kError; }
};

class Client {
public:
    Client() = default;
    ~Client();
    Client(Client&& other) noexcept;
    Client& operator=(Client&& other) noexcept;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    static Result<Client> connect(const std::string& path, int timeoutMs = 10'000);

    // One request and its reply.
    Result<Reply> call(Type type, std::string_view body = {});
    // The parts of call(), for tests that send odd bytes.
    Result<bool> sendBytes(std::string_view bytes);
    Result<Reply> readReply(std::uint32_t maxPayload = 64u << 20);

    bool connected() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    void close();

private:
    explicit Client(int fd) : fd_(fd) {}
    int fd_ = -1;
    std::string buffer_;  // bytes read past the last reply
};

}  // namespace omega::omegad
