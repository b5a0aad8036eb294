// The omegad wire protocol as pure functions: frames (whole, split at every byte, empty, oversized, back to back)
// and request bodies, good and bad, with their error messages.
#include "omega/omegad/Wire.h"

#include <gtest/gtest.h>

#include <string>

using namespace omega::omegad;

namespace {

std::string header(std::uint32_t length) {
    return std::string{static_cast<char>(length >> 24), static_cast<char>((length >> 16) & 0xFF),
                       static_cast<char>((length >> 8) & 0xFF), static_cast<char>(length & 0xFF)};
}

std::string errorOf(std::uint8_t type, std::string_view body) {
    auto r = parseRequest(type, body);
    return r ? std::string("(accepted)") : r.error();
}

}  // namespace

TEST(OmegadWire, FramesAreLengthTypeBody) {
    const std::string f = frame(0x01, R"({"a":1})");
    ASSERT_EQ(f.size(), 4u + 1 + 7);
    EXPECT_EQ(f.substr(0, 4), header(8));
    EXPECT_EQ(static_cast<std::uint8_t>(f[4]), 0x01);
    const FrameView v = decodeFrame(f);
    ASSERT_EQ(v.status, FrameStatus::Complete);
    EXPECT_EQ(v.size, f.size());
    EXPECT_EQ(v.type, 0x01);
    EXPECT_EQ(v.body, R"({"a":1})");
    // A frame with an empty body is one byte of payload.
    EXPECT_EQ(frame(0x07, ""), header(1) + "\x07");
    EXPECT_EQ(replyType(Type::Decide), 0x81);
    EXPECT_STREQ(typeName(0x84), "wait reply");
    EXPECT_STREQ(typeName(0x42), "unknown");
    EXPECT_EQ(errorFrame("no \"way\""), frame(kError, R"({"error":"no \"way\""})"));
}

TEST(OmegadWire, EveryPrefixIsPartialAndNothingIsConsumed) {
    const std::string f = frame(0x01, R"({"action":"tool"})");
    for (std::size_t n = 0; n < f.size(); ++n) {
        const FrameView v = decodeFrame(std::string_view(f).substr(0, n));
        EXPECT_EQ(v.status, FrameStatus::Partial) << n;
        EXPECT_EQ(v.size, 0u) << n;
        if (n >= 4) {
            EXPECT_EQ(v.length, f.size() - 4) << n;
        }
    }
    EXPECT_EQ(decodeFrame(f).status, FrameStatus::Complete);
}

TEST(OmegadWire, BackToBackFramesComeOneAtATime) {
    std::string bytes = frame(0x07, "") + frame(0x06, "{}") + frame(0x01, "x");
    bytes += header(9);  // and the start of a fourth
    std::vector<std::uint8_t> types;
    std::string_view rest = bytes;
    for (;;) {
        const FrameView v = decodeFrame(rest);
        if (v.status != FrameStatus::Complete) {
            EXPECT_EQ(v.status, FrameStatus::Partial);
            break;
        }
        types.push_back(v.type);
        rest.remove_prefix(v.size);
    }
    EXPECT_EQ(types, (std::vector<std::uint8_t>{0x07, 0x06, 0x01}));
    EXPECT_EQ(rest.size(), 4u);
}

TEST(OmegadWire, EmptyAndOversizedLengthsAreProtocolErrors) {
    EXPECT_EQ(decodeFrame(header(0)).status, FrameStatus::Empty);
    const FrameView big = decodeFrame(header(0xFFFFFFFFu));
    EXPECT_EQ(big.status, FrameStatus::TooLarge);
    EXPECT_EQ(big.length, 0xFFFFFFFFu);
    // The limit is inclusive; known from the header alone, before any body arrives.
    EXPECT_EQ(decodeFrame(header(100), 100).status, FrameStatus::Partial);
    EXPECT_EQ(decodeFrame(header(101), 100).status, FrameStatus::TooLarge);
    EXPECT_EQ(decodeFrame(header(kDefaultMaxFrame + 1)).status, FrameStatus::TooLarge);
}

TEST(OmegadWire, RequestsAreReadStrictly) {
    auto decide = parseRequest(0x01, R"({"action":"tool"})");
    ASSERT_TRUE(decide);
    EXPECT_EQ(decide->type, Type::Decide);
    EXPECT_EQ(decide->body, R"({"action":"tool"})");  // the monitor reads it, not the protocol

    auto grant = parseRequest(0x02, approvalBody(0x00ab00cd00ef0012ull, "lead"));
    ASSERT_TRUE(grant) << grant.error();
    EXPECT_EQ(grant->id, 0x00ab00cd00ef0012ull);
    EXPECT_EQ(grant->role, "lead");
    auto refuse = parseRequest(0x03, R"({"role":"finance","id":"00000000000000FF"})");
    ASSERT_TRUE(refuse);
    EXPECT_EQ(refuse->type, Type::Refuse);
    EXPECT_EQ(refuse->id, 255u);

    auto wait = parseRequest(0x04, waitBody(7, 1500));
    ASSERT_TRUE(wait);
    EXPECT_EQ(wait->id, 7u);
    EXPECT_EQ(wait->timeoutMs, 1500u);

    for (std::string_view body : {std::string_view(""), std::string_view("{}")}) {
        auto reload = parseRequest(0x05, body);
        ASSERT_TRUE(reload);
        EXPECT_EQ(reload->path, "");
        EXPECT_TRUE(parseRequest(0x06, body));
        EXPECT_TRUE(parseRequest(0x07, body));
    }
    auto reload = parseRequest(0x05, reloadBody("/etc/omega/next.omb"));
    ASSERT_TRUE(reload);
    EXPECT_EQ(reload->path, "/etc/omega/next.omb");

    omega::attest::Nonce nonce{};
    nonce.fill(0xab);
    auto attest = parseRequest(0x08, attestBody(nonce));
    ASSERT_TRUE(attest) << attest.error();
    EXPECT_EQ(attest->type, Type::Attest);
    EXPECT_EQ(attest->nonce, nonce);
    EXPECT_FALSE(attest->gpuEvidence);
    omega::attest::Sha384 gpu{};
    gpu.fill(0x01);
    auto withGpu = parseRequest(0x08, attestBody(nonce, gpu));
    ASSERT_TRUE(withGpu) << withGpu.error();
    EXPECT_EQ(withGpu->gpuEvidence, gpu);
    EXPECT_STREQ(typeName(0x08), "attest");
    EXPECT_STREQ(typeName(0x88), "attest reply");
}

TEST(OmegadWire, BadRequestsSayWhatIsWrong) {
    EXPECT_EQ(errorOf(0x00, ""), "unknown message type 0x00");
    EXPECT_EQ(errorOf(0x81, "{}"), "unknown message type 0x81");
    EXPECT_EQ(errorOf(0x01, ""), "decide: the body is empty; expected a request (docs/requests.md)");
    EXPECT_EQ(errorOf(0x02, ""), "grant: the body is empty; expected a JSON object");
    EXPECT_EQ(errorOf(0x02, "{"),
              "grant: the body is not JSON: byte 1: expected a string key or `}`, found the end of the input");
    EXPECT_EQ(errorOf(0x02, "[1]"), "grant: the body must be a JSON object");
    EXPECT_EQ(errorOf(0x02, R"({"role":"lead"})"), "grant: missing member `id`");
    EXPECT_EQ(errorOf(0x02, R"({"id":"12","role":"lead"})"),
              "grant: `id` must be 16 hex digits (the decision's \"pending\")");
    EXPECT_EQ(errorOf(0x02, R"({"id":"000000000000000g","role":"lead"})"),
              "grant: `id` must be 16 hex digits (the decision's \"pending\")");
    EXPECT_EQ(errorOf(0x02, R"({"id":"0000000000000000","role":"lead"})"),
              "grant: `id` must be 16 hex digits (the decision's \"pending\")");
    EXPECT_EQ(errorOf(0x03, R"({"id":"0000000000000001"})"), "refuse: missing member `role`");
    EXPECT_EQ(errorOf(0x03, R"({"id":"0000000000000001","role":""})"), "refuse: `role` must be a non-empty string");
    EXPECT_EQ(errorOf(0x03, R"({"id":"0000000000000001","role":"x","extra":1})"), R"(refuse: unknown member "extra")");
    EXPECT_EQ(errorOf(0x03, R"({"id":"0000000000000001","role":"x","role":"y"})").substr(0, 28),
              "refuse: the body is not JSON");
    EXPECT_EQ(errorOf(0x04, R"({"id":"0000000000000001"})"), "wait: missing member `timeout_ms`");
    EXPECT_EQ(errorOf(0x04, R"({"id":"0000000000000001","timeout_ms":-1})"),
              "wait: `timeout_ms` must be an integer from 0 to 4294967295");
    EXPECT_EQ(errorOf(0x04, R"({"id":"0000000000000001","timeout_ms":1.5})"),
              "wait: `timeout_ms` must be an integer from 0 to 4294967295");
    EXPECT_EQ(errorOf(0x05, R"({"path":""})"), "reload: `path` must be a non-empty string");
    EXPECT_EQ(errorOf(0x05, R"({"path":"a\u0000b"})"), "reload: `path` must not contain NUL");
    EXPECT_EQ(errorOf(0x05, R"({"path":"next.omb"})"), "reload: `path` must be absolute");
    EXPECT_EQ(errorOf(0x06, R"({"verbose":true})"), R"(status: unknown member "verbose")");
    EXPECT_EQ(errorOf(0x07, "pong"), "ping: the body is not JSON: byte 0: expected a value, found `p`");
    EXPECT_EQ(errorOf(0x08, ""), "attest: the body is empty; expected a JSON object");
    EXPECT_EQ(errorOf(0x08, "{}"), "attest: missing member `nonce`");
    EXPECT_EQ(errorOf(0x08, R"({"nonce":7})"), "attest: `nonce` must be a string of 64 hex digits");
    EXPECT_EQ(errorOf(0x08, R"({"nonce":"abcd"})"), "attest: nonce: 4 hex digits, expected 64 (32 bytes)");
    const std::string nonce(64, '0');
    EXPECT_EQ(errorOf(0x08, R"({"nonce":")" + nonce + R"(","gpu_evidence":"00"})"),
              "attest: `gpu_evidence` must be 96 hex digits (SHA-384 of the GPU's evidence)");
    EXPECT_EQ(errorOf(0x08, R"({"nonce":")" + nonce + R"(","extra":1})"), R"(attest: unknown member "extra")");
    // Bodies of control requests are small: a large one is refused before it is parsed deeply.
    EXPECT_NE(errorOf(0x02, std::string(9000, ' ')).find("grant: the body is not JSON"), std::string::npos);
}

TEST(OmegadWire, PendingIdsRoundTrip) {
    for (std::uint64_t id : {1ull, 0xffffffffffffffffull, 0x0123456789abcdefull}) {
        std::uint64_t back = 0;
        ASSERT_TRUE(parseHex16(hex16(id), back));
        EXPECT_EQ(back, id);
    }
    std::uint64_t x = 0;
    EXPECT_FALSE(parseHex16("123", x));
    EXPECT_FALSE(parseHex16("0123456789abcdefg", x));
    EXPECT_FALSE(parseHex16("01234567-9abcdef", x));
}
