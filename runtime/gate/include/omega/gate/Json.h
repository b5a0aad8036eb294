// JSON for the gateway: writing values back out (compact, or canonical for tool hashes), JSON-RPC 2.0 message
// classification, and the error replies the gate sends. Reading is policy::json's strict reader (JsonReader.h).
#pragma once

#include "omega/policy/JsonReader.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace omega::gate::json {

using policy::json::Document;
using policy::json::Kind;
using policy::json::Value;

// A parsed document with its text: Value::offset() points into `text`, which numbers are copied from as written.
struct Parsed {
    std::string text;
    Document doc;
    Value root() const { return doc.root(); }
};
// Parses `text` (moved in) with the gate's limits; false and `error` ("byte N: ...") on failure.
bool parse(std::string text, Parsed& out, std::string& error, std::size_t maxBytes);

// A JSON string literal (RFC 8259 escapes; invalid UTF-8 replaced by U+FFFD), as the monitor writes them.
void appendString(std::string& out, std::string_view s);
std::string quote(std::string_view s);
// The number at `v` as the document wrote it (`-0`, `1e3` stay as they are).
std::string_view numberText(const Parsed& p, Value v);
// `v` written compactly. `skip`, when given, is asked for each object member (its object's path of keys from the
// root is not tracked: the member's key and value) and leaves out those it returns true for.
void appendValue(std::string& out, const Parsed& p, Value v,
                 const std::function<bool(std::string_view key, Value value)>& skip = {});
// `v` in canonical form: compact, object members sorted by key (bytewise, UTF-8), strings escaped as appendString
// does, numbers as written. Two documents with the same members in another order or other spacing give one text.
void appendCanonical(std::string& out, const Parsed& p, Value v);

// A JSON-RPC 2.0 message (https://www.jsonrpc.org/specification) as the gate sees it.
struct Rpc {
    enum class Kind : std::uint8_t { Request, Notification, Response, Invalid };
    Kind kind = Kind::Invalid;
    std::string method;  // Request, Notification
    std::string id;      // Request, Response: the id as JSON text (`7`, `"a"`); "null" when unknown
    std::optional<Value> params, result, error;
    std::string problem;  // Invalid: what is wrong, for the error reply
};
// Classifies one parsed message. A batch (an array) is Invalid: MCP (2025-06-18) and A2A send single messages.
Rpc classify(const Parsed& p);

// JSON-RPC error codes the gate answers with.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInternalError = -32603;
inline constexpr int kDenied = -32090;           // the policy denied the call (data: the decision)
inline constexpr int kApprovalRefused = -32091;  // an approval was refused, expired or timed out
inline constexpr int kTooLarge = -32092;         // the message exceeds the gate's size limit

// `{"jsonrpc":"2.0","id":ID,"error":{"code":CODE,"message":MESSAGE[,"data":DATA]}}`: `id` is JSON text, `data`
// JSON text or empty.
std::string errorReply(std::string_view id, int code, std::string_view message, std::string_view data = {});

}  // namespace omega::gate::json
