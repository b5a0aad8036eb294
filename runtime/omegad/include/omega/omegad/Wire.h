// The omegad wire protocol (docs/omegad.md, "Protocol"): length-prefixed frames over a Unix stream socket and the
// requests they carry. Pure functions over bytes, so tests and the fuzzer drive them without a socket.
#pragma once

#include "omega/attest/Binding.h"
#include "omega/bundle/Result.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace omega::omegad {

template <typename T>
using Result = bundle::Result<T>;
using bundle::Error;

// A frame: a 4-byte big-endian payload length N (1 <= N <= the maximum), then N bytes of payload: one byte of
// message type, then the body (UTF-8 JSON, or empty where the type allows).
inline constexpr std::size_t kHeaderSize = 4;
inline constexpr std::uint32_t kDefaultMaxFrame = (1u << 20) + 4096;  // a 1 MiB request plus room for the type

// Request types (client to server). The reply to a request of type T has type T | kReplyBit, or kError.
enum class Type : std::uint8_t {
    Decide = 0x01,  // body: a request (docs/requests.md); reply: the decision
    Grant = 0x02,   // body: {"id":"<16 hex>","role":"..."}; reply: {"id":...,"state":...}
    Refuse = 0x03,  // as Grant
    Wait = 0x04,    // body: {"id":"<16 hex>","timeout_ms":N}; reply: {"id":...,"state":...}
    Reload = 0x05,  // body: empty, {} or {"path":"..."}; reply: {"bundle":...,"generation":N}
    Status = 0x06,  // body: empty or {}; reply: stats, bundle, generation, log head
    Ping = 0x07,    // body: empty or {}; reply: {"pong":true,"version":...}
    Attest = 0x08,  // body: {"nonce":"<64 hex>"[,"gpu_evidence":"<96 hex>"]}; reply: evidence (docs/attestation.md)
};
inline constexpr std::uint8_t kReplyBit = 0x80;
inline constexpr std::uint8_t kError = 0xFF;  // body: {"error":"..."}

constexpr std::uint8_t replyType(Type type) {
    return static_cast<std::uint8_t>(static_cast<std::uint8_t>(type) | kReplyBit);
}
// "decide", "grant", ..., "error", "decide reply", ...; "unknown" for anything else.
const char* typeName(std::uint8_t type);

// Appends one frame (header, type, body) to `out`.
void appendFrame(std::string& out, std::uint8_t type, std::string_view body);
std::string frame(std::uint8_t type, std::string_view body);
// An error frame: {"error":message}.
std::string errorFrame(std::string_view message);

enum class FrameStatus : std::uint8_t {
    Complete,  // a whole frame is at the start of the bytes
    Partial,   // more bytes are needed
    Empty,     // the length is 0: no type byte (a protocol error)
    TooLarge,  // the length is over the maximum (a protocol error)
};

struct FrameView {
    FrameStatus status = FrameStatus::Partial;
    std::uint32_t length = 0;  // the declared payload length, once the header is complete
    std::size_t size = 0;      // Complete: bytes the frame takes, header included
    std::uint8_t type = 0;     // Complete only
    std::string_view body;     // Complete only: a view into the bytes given
};

// Reads the frame at the start of `bytes`; nothing else is consumed or kept, so a reader calls it again on its
// buffer after every read (partial frames are fine) and drops `size` bytes after each complete frame.
FrameView decodeFrame(std::string_view bytes, std::uint32_t maxPayload = kDefaultMaxFrame);

// A request with its body checked and read. Decide keeps its body as sent: the monitor decodes it (and denies and
// logs what it cannot read).
struct Request {
    Type type = Type::Ping;
    std::string_view body;                      // Decide: the request JSON (a view into the frame)
    std::uint64_t id = 0;                       // Grant, Refuse, Wait: the approval
    std::string role;                           // Grant, Refuse
    std::uint32_t timeoutMs = 0;                // Wait
    std::string path;                           // Reload: "" for the configured bundle
    attest::Nonce nonce{};                      // Attest
    std::optional<attest::Sha384> gpuEvidence;  // Attest: SHA-384 of the GPU's evidence, when given
};

// Checks a frame's type and body. Errors name the request and the member: "grant: `id` must be 16 hex digits".
Result<Request> parseRequest(std::uint8_t type, std::string_view body);

// Bodies for clients (and tests): the exact forms parseRequest() reads.
std::string approvalBody(std::uint64_t id, std::string_view role);
std::string waitBody(std::uint64_t id, std::uint32_t timeoutMs);
std::string reloadBody(std::string_view path);
std::string attestBody(const attest::Nonce& nonce, const std::optional<attest::Sha384>& gpuEvidence = std::nullopt);

// 16 lowercase hex digits, the form of Decision::json()'s "pending".
std::string hex16(std::uint64_t id);
bool parseHex16(std::string_view text, std::uint64_t& id);

}  // namespace omega::omegad
