// The JSON forms of requests and decisions (docs/requests.md) on the runtime side, typed by the policy image rather
// than the sources: the same members, rejections and messages as the compiler's `omegac eval` (compiler/eval Json.h),
// with the standard library only.
#pragma once

#include "omega/policy/Image.h"
#include "omega/policy/JsonReader.h"
#include "omega/policy/Request.h"

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace omega::policy {

struct RequestLimits {
    std::size_t maxBytes = 1u << 20;  // one request document
    std::size_t maxString = 65536;    // bytes in one string value
    std::size_t maxSetItems = 4096;   // elements of one set value
};

// Parses and types one request document against the image's declarations into `out` (replacing what it held).
// Args, fields ("root.field") and counts come out sorted by name; set items sorted and unique. On failure returns
// false and sets `error` to a message naming the offending member ("args.amount: expected an integer"); `out` is
// then unspecified. Never throws.
bool decodeRequest(std::string_view json, const Image& image, Request& out, std::string& error,
                   const RequestLimits& limits = {});

// The pieces of decodeRequest() for callers that assemble a request themselves (a gateway building it through the
// monitor's Builder): the same checks, limits and messages. decodeValue() reads one argument or supplied field of
// `type`, named `where` ("args.path", "request.purpose") in the error. decodeArgs() reads a call's `args` object
// (null: none given): parameters `tool` does not declare and declared ones left out are refused; `out` comes out
// sorted by name. Never throw.
bool decodeValue(json::Value value, schema::Type type, const Image& image, const std::string& where, Value& out,
                 std::string& error, const RequestLimits& limits = {});
bool decodeArgs(const json::Value* args, const Tool& tool, const Image& image,
                std::vector<std::pair<std::string, Value>>& out, std::string& error, const RequestLimits& limits = {});

// One line of JSON: {"decision":"allow","reason":...,"rules":[...],"principals":[...],"obligations":{...}}, or
// errorDecisionJson(d.error) when the decision carries an error.
std::string decisionToJson(const Decision& d, const Image& image);
// A request as one line of JSON in the form decodeRequest() reads (docs/requests.md), with the values of arguments
// and fields named in `redact` (by name, or "root.field") replaced by "[redacted]"; `counts` go to "state". For logs.
std::string requestToJson(const Request& request, std::span<const std::string> redact = {});
// A JSON string literal for `text` (quotes and escapes as the decision output writes them).
void appendJsonString(std::string& out, std::string_view text);

// The one-line `reason` of decisionToJson().
std::string decisionReason(const Decision& d, const Image& image);
// A deny for a request that could not be decided: {"decision":"deny","error":...,"rules":[],"obligations":{}}.
std::string errorDecisionJson(const std::string& error);

}  // namespace omega::policy
