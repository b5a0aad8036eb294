// Frames and request bodies of the omegad protocol (Wire.h): encoding, the incremental frame decoder and the
// body reader, all over plain bytes.
#include "omega/omegad/Wire.h"

#include "omega/policy/Json.h"
#include "omega/policy/JsonReader.h"

#include <limits>

namespace omega::omegad {

const char* typeName(std::uint8_t type) {
    switch (type) {
        case 0x01: return "decide";
        case 0x02: return "grant";
        case 0x03: return "refuse";
        case 0x04: return "wait";
        case 0x05: return "reload";
        case 0x06: return "status";
        case 0x07: return "ping";
        case 0x08: return "attest";
        case 0x81: return "decide reply";
        case 0x82: return "grant reply";
        case 0x83: return "refuse reply";
        case 0x84: return "wait reply";
        case 0x85: return "reload reply";
        case 0x86: return "status reply";
        case 0x87: return "ping reply";
        case 0x88: return "attest reply";
        case kError: return "error";
    }
    return "unknown";
}

void appendFrame(std::string& out, std::uint8_t type, std::string_view body) {
    // The caller keeps bodies far below 4 GiB (replies are bounded by the monitor's own limits).
    const auto length = static_cast<std::uint32_t>(body.size() + 1);
    out += static_cast<char>(length >> 24);
    out += static_cast<char>((length >> 16) & 0xFF);
    out += static_cast<char>((length >> 8) & 0xFF);
    out += static_cast<char>(length & 0xFF);
    out += static_cast<char>(type);
    out.append(body);
}

std::string frame(std::uint8_t type, std::string_view body) {
    std::string out;
    out.reserve(kHeaderSize + 1 + body.size());
    appendFrame(out, type, body);
    return out;
}

std::string errorFrame(std::string_view message) {
    std::string body = "{\"error\":";
    policy::appendJsonString(body, message);
    body += '}';
    return frame(kError, body);
}

FrameView decodeFrame(std::string_view bytes, std::uint32_t maxPayload) {
    FrameView v;
    if (bytes.size() < kHeaderSize) return v;
    const auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])); };
    v.length = (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
    if (v.length == 0) {
        v.status = FrameStatus::Empty;
        return v;
    }
    if (v.length > maxPayload) {
        v.status = FrameStatus::TooLarge;
        return v;
    }
    // INVARIANT: length <= maxPayload < 2^32, so the sum cannot wrap a size_t.
    const std::size_t total = kHeaderSize + static_cast<std::size_t>(v.length);
    if (bytes.size() < total) return v;
    v.status = FrameStatus::Complete;
    v.size = total;
    v.type = static_cast<std::uint8_t>(bytes[kHeaderSize]);
    v.body = bytes.substr(kHeaderSize + 1, v.length - 1);
    return v;
}

std::string hex16(std::uint64_t id) {
    static const char digits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, id >>= 4) out[static_cast<std::size_t>(i)] = digits[id & 15];
    return out;
}

bool parseHex16(std::string_view text, std::uint64_t& id) {
    if (text.size() != 16) return false;
    std::uint64_t value = 0;
    for (char c : text) {
        int d;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            d = c - 'A' + 10;
        } else {
            return false;
        }
        value = (value << 4) | static_cast<std::uint64_t>(d);
    }
    id = value;
    return true;
}

namespace {

// Bodies other than a decide's are small objects; these limits keep their parse cheap whatever a client sends.
constexpr policy::json::ReaderLimits kBodyLimits{.maxBytes = 8192, .maxDepth = 4, .maxString = 4096, .maxItems = 8};

// Reads a control body: empty (when `emptyOk`) or one JSON object whose members are all in `allowed`.
Result<bool> readObject(const char* what, std::string_view body, policy::json::Document& doc,
                        std::initializer_list<std::string_view> allowed, bool emptyOk) {
    const std::string name(what);
    if (body.empty()) {
        if (emptyOk) return false;
        return Error{name + ": the body is empty; expected a JSON object"};
    }
    std::string error;
    if (!doc.parse(body, error, kBodyLimits)) return Error{name + ": the body is not JSON: " + error};
    if (!doc.root().isObject()) return Error{name + ": the body must be a JSON object"};
    for (policy::json::Value member : doc.root().items()) {
        bool known = false;
        for (std::string_view a : allowed) known = known || member.key() == a;
        if (!known) {
            std::string key;
            policy::appendJsonString(key, member.key());
            return Error{name + ": unknown member " + key};
        }
    }
    return true;
}

Result<bool> readId(const char* what, const policy::json::Document& doc, std::uint64_t& id) {
    auto v = doc.root().find("id");
    if (!v) return Error{std::string(what) + ": missing member `id`"};
    if (!v->isString() || !parseHex16(v->string(), id) || id == 0)
        return Error{std::string(what) + ": `id` must be 16 hex digits (the decision's \"pending\")"};
    return true;
}

}  // namespace

Result<Request> parseRequest(std::uint8_t type, std::string_view body) {
    Request r;
    policy::json::Document doc;
    switch (type) {
        case static_cast<std::uint8_t>(Type::Decide):
            // The monitor reads the request; an empty one is malformed here already.
            if (body.empty()) return Error{"decide: the body is empty; expected a request (docs/requests.md)"};
            r.type = Type::Decide;
            r.body = body;
            return r;
        case static_cast<std::uint8_t>(Type::Grant):
        case static_cast<std::uint8_t>(Type::Refuse): {
            r.type = static_cast<Type>(type);
            const char* what = typeName(type);
            auto read = readObject(what, body, doc, {"id", "role"}, false);
            if (!read) return Error{read.error()};
            if (auto id = readId(what, doc, r.id); !id) return Error{id.error()};
            auto role = doc.root().find("role");
            if (!role) return Error{std::string(what) + ": missing member `role`"};
            if (!role->isString() || role->string().empty())
                return Error{std::string(what) + ": `role` must be a non-empty string"};
            r.role = std::string(role->string());
            return r;
        }
        case static_cast<std::uint8_t>(Type::Wait): {
            r.type = Type::Wait;
            auto read = readObject("wait", body, doc, {"id", "timeout_ms"}, false);
            if (!read) return Error{read.error()};
            if (auto id = readId("wait", doc, r.id); !id) return Error{id.error()};
            auto timeout = doc.root().find("timeout_ms");
            if (!timeout) return Error{"wait: missing member `timeout_ms`"};
            auto ms = timeout->integer();
            if (!ms || *ms < 0 || *ms > std::numeric_limits<std::uint32_t>::max())
                return Error{"wait: `timeout_ms` must be an integer from 0 to 4294967295"};
            r.timeoutMs = static_cast<std::uint32_t>(*ms);
            return r;
        }
        case static_cast<std::uint8_t>(Type::Reload): {
            r.type = Type::Reload;
            auto read = readObject("reload", body, doc, {"path"}, true);
            if (!read) return Error{read.error()};
            if (*read) {
                if (auto path = doc.root().find("path")) {
                    if (!path->isString() || path->string().empty())
                        return Error{"reload: `path` must be a non-empty string"};
                    if (path->string().find('\0') != std::string_view::npos)
                        return Error{"reload: `path` must not contain NUL"};
                    // The daemon's working directory is nobody's business: a path means one file.
                    if (path->string()[0] != '/') return Error{"reload: `path` must be absolute"};
                    r.path = std::string(path->string());
                }
            }
            return r;
        }
        case static_cast<std::uint8_t>(Type::Attest): {
            r.type = Type::Attest;
            auto read = readObject("attest", body, doc, {"nonce", "gpu_evidence"}, false);
            if (!read) return Error{read.error()};
            auto nonce = doc.root().find("nonce");
            if (!nonce) return Error{"attest: missing member `nonce`"};
            if (!nonce->isString()) return Error{"attest: `nonce` must be a string of 64 hex digits"};
            auto n = attest::parseNonce(nonce->string());
            if (!n) return Error{"attest: " + n.error()};
            r.nonce = *n;
            if (auto gpu = doc.root().find("gpu_evidence")) {
                auto digest = gpu->isString() ? attest::fromHex<48>(gpu->string()) : std::nullopt;
                if (!digest)
                    return Error{"attest: `gpu_evidence` must be 96 hex digits (SHA-384 of the GPU's evidence)"};
                r.gpuEvidence = *digest;
            }
            return r;
        }
        case static_cast<std::uint8_t>(Type::Status):
        case static_cast<std::uint8_t>(Type::Ping): {
            r.type = static_cast<Type>(type);
            auto read = readObject(typeName(type), body, doc, {}, true);
            if (!read) return Error{read.error()};
            return r;
        }
    }
    static const char digits[] = "0123456789abcdef";
    return Error{std::string("unknown message type 0x") + digits[type >> 4] + digits[type & 15]};
}

std::string approvalBody(std::uint64_t id, std::string_view role) {
    std::string out = "{\"id\":\"" + hex16(id) + "\",\"role\":";
    policy::appendJsonString(out, role);
    out += '}';
    return out;
}

std::string attestBody(const attest::Nonce& nonce, const std::optional<attest::Sha384>& gpuEvidence) {
    std::string out = "{\"nonce\":\"" + attest::toHex(nonce) + "\"";
    if (gpuEvidence) out += ",\"gpu_evidence\":\"" + attest::toHex(*gpuEvidence) + "\"";
    return out + "}";
}

std::string waitBody(std::uint64_t id, std::uint32_t timeoutMs) {
    return "{\"id\":\"" + hex16(id) + "\",\"timeout_ms\":" + std::to_string(timeoutMs) + "}";
}

std::string reloadBody(std::string_view path) {
    if (path.empty()) return "{}";
    std::string out = "{\"path\":";
    policy::appendJsonString(out, path);
    out += '}';
    return out;
}

}  // namespace omega::omegad
