// libFuzzer target for omegad's wire protocol: any bytes, cut into chunks the way reads arrive, must decode to the
// same frames as the whole buffer at once (the decoder keeps no state), stop at the first protocol error, and every
// request body must be read or refused with a message; what parses must survive re-encoding.
#include "omega/omegad/Wire.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace omega::omegad;

struct Seen {
    std::vector<std::pair<std::uint8_t, std::string>> frames;
    FrameStatus end = FrameStatus::Partial;
    bool operator==(const Seen&) const = default;
};

void check(bool ok) {
    if (!ok) std::abort();
}

// Decodes every complete frame at the front of `buffer`, as a connection does after each read; drops what it used.
bool drain(std::string& buffer, std::uint32_t maxPayload, Seen& seen) {
    for (;;) {
        const FrameView f = decodeFrame(buffer, maxPayload);
        if (f.status == FrameStatus::Partial) return true;
        if (f.status != FrameStatus::Complete) {
            seen.end = f.status;
            return false;
        }
        check(f.size == kHeaderSize + f.length && f.size <= buffer.size() && f.body.size() + 1 == f.length);
        seen.frames.emplace_back(f.type, std::string(f.body));
        buffer.erase(0, f.size);
    }
}

void checkRequest(std::uint8_t type, const std::string& body) {
    auto r = parseRequest(type, body);
    if (!r) {
        check(!r.error().empty());
        // Whatever the message says, it travels as a well-formed error frame.
        const std::string e = errorFrame(r.error());
        const FrameView f = decodeFrame(e, 1u << 30);
        check(f.status == FrameStatus::Complete && f.type == kError);
        return;
    }
    switch (r->type) {
        case Type::Grant:
        case Type::Refuse: {
            check(r->id != 0 && !r->role.empty());
            auto again = parseRequest(type, approvalBody(r->id, r->role));
            check(again && again->id == r->id && again->role == r->role);
            break;
        }
        case Type::Wait: {
            auto again = parseRequest(type, waitBody(r->id, r->timeoutMs));
            check(again && again->id == r->id && again->timeoutMs == r->timeoutMs);
            break;
        }
        case Type::Reload: {
            auto again = parseRequest(type, reloadBody(r->path));
            check(again && again->path == r->path);
            break;
        }
        case Type::Attest: {
            auto again = parseRequest(type, attestBody(r->nonce, r->gpuEvidence));
            check(again && again->nonce == r->nonce && again->gpuEvidence == r->gpuEvidence);
            break;
        }
        case Type::Decide: check(!r->body.empty() && r->body.size() == body.size()); break;
        case Type::Status:
        case Type::Ping: break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    // The first byte picks the maximum payload (small ones reach TooLarge often) and the chunk sizes.
    const std::uint32_t maxPayload = data[0] & 0x80 ? kDefaultMaxFrame : 1u + (data[0] & 0x7F) * 16u;
    const std::size_t step = 1 + data[1] % 23;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);

    Seen whole;
    std::string buffer(bytes);
    const bool wholeOk = drain(buffer, maxPayload, whole);

    Seen pieces;
    std::string pending;
    bool ok = true;
    for (std::size_t at = 0; at < bytes.size() && ok; at += step) {
        pending.append(bytes.substr(at, step));
        ok = drain(pending, maxPayload, pieces);
    }
    check(ok == wholeOk);
    check(whole == pieces);
    if (wholeOk) check(buffer == pending);

    for (const auto& [type, body] : whole.frames) checkRequest(type, body);
    return 0;
}
