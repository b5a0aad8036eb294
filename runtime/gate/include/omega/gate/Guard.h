// The gate's policy side, shared by every transport: which tools the policy declares (with their pins and possible
// callers, from the loaded bundle), what each server has offered (tool hashes: rug pulls and shadowing), deciding
// `tools/call` and A2A messages through the monitor, filtering tool lists and redacting results.
#pragma once

#include "omega/gate/Config.h"
#include "omega/gate/Json.h"
#include "omega/monitor/Monitor.h"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace omega::gate {

// Who a message comes from, resolved by the transport.
struct Caller {
    std::string agent;
    std::string session;                         // the monitor's session.id
    const std::vector<Field>* fields = nullptr;  // supplied request fields from the configuration
};

// The result of checking a call or a message.
struct Check {
    enum class Kind : std::uint8_t { Allow, Deny, Pending, NeedToolList };
    Kind kind = Kind::Deny;
    std::string target;               // the policy's name for the tool (`fs.read_file`) or the recipient
    monitor::Decision decision;       // what the monitor decided (Deny with the gate's reason for gate denials)
    std::string message;              // Deny: one line for the JSON-RPC error
    std::vector<std::string> redact;  // Allow: fields to scrub from the result
};

// sha256 over the canonical JSON (Json.h) of a tool's `name`, `title`, `description`, `inputSchema`,
// `outputSchema` and `annotations` (whichever it has): "sha256:<64 hex>", the form of a policy's `pin`.
std::string toolHash(const json::Parsed& p, json::Value tool);

class Guard {
public:
    Guard(monitor::Monitor& monitor, const GateConfig& config);

    // A `tools/list` result from `server` on its way to `caller`: the result with only the tools the caller may see
    // (declared, not shadowing another server's tool, description unchanged, some permit for the caller). Findings
    // (a changed description, shadowing, an undeclared tool) are logged once each.
    std::string filterToolList(const std::string& server, const Caller& caller, const json::Parsed& p,
                               json::Value result);
    // A `tools/list` result the gate fetched itself: observed, not shown. Returns the `nextCursor` when there is one.
    std::optional<std::string> observeToolList(const std::string& server, const json::Parsed& p, json::Value result);
    // `notifications/tools/list_changed` from `server`: what it offers must be listed again before the next call.
    void invalidate(const std::string& server);

    // A `tools/call` of `tool` on `server`. NeedToolList: the gate has not seen the tool's description since the
    // server last changed its list; list the server's tools (observeToolList) and check again.
    // `afterList`: the gate has just listed the server's tools; a tool still unseen is one the server does not offer.
    Check checkCall(const std::string& server, const Caller& caller, std::string_view tool, const json::Parsed& p,
                    std::optional<json::Value> arguments, bool afterList = false);
    // An A2A message from `caller` to the agent `recipient`: a `send` request with the message's label, size and
    // kind (the kinds of its parts, `text`, `data`, `file`, joined with `+`).
    Check checkSend(const Caller& caller, const std::string& recipient, std::string_view label, std::uint64_t size,
                    std::string_view kind);
    // Waits for the approval of a Pending check, at most the configured approval timeout. Allow once approved;
    // Deny (with the reason) when refused, expired or out of time.
    Check awaitApproval(Check pending);

    // A `tools/call` result with `fields` removed from its structured content and from text content that is JSON;
    // text that is not JSON is withheld (a redaction that cannot be applied must not let the data through).
    static std::string redactResult(const json::Parsed& p, json::Value result, const std::vector<std::string>& fields);
    // Removes `fields` (at any depth) from a JSON value.
    static std::string redactValue(const json::Parsed& p, json::Value v, const std::vector<std::string>& fields);

    // The error reply for a denied check: code kDenied (kApprovalRefused for approvals), the reason, and the
    // monitor's decision (deciding rules, obligations, log record) as `data`.
    static std::string denyReply(std::string_view id, const Check& check);

    // How many calls were decided through the builder path (the rest went as request text): for tests and status.
    std::uint64_t builtDecisions() const { return built_.load(std::memory_order_relaxed); }

    monitor::Monitor& monitor() { return monitor_; }
    const GateConfig& config() const { return config_; }

private:
    struct Declared {
        std::string name, provider, pin;
        bool anyCaller = false;
        std::set<std::string> callers;
    };
    struct Tables {
        std::uint64_t generation = 0;
        std::map<std::string, Declared, std::less<>> tools;                    // by full name
        std::map<std::string, std::vector<std::string>, std::less<>> byShort;  // short name -> full names
        std::set<std::string, std::less<>> redactable;  // every field a `redact` obligation names
    };
    struct Seen {
        std::string hash;       // the latest description hash
        std::string firstHash;  // the first one this process saw
        bool current = false;   // seen since the server last changed its list
    };
    // What the policy calls `tool` on `server`: the declared tool, or (shadowing) another server's tool of the
    // same short name, or nothing (undeclared).
    struct Resolved {
        std::string target;
        const Declared* declared = nullptr;
        bool shadowing = false;
    };

    std::shared_ptr<const Tables> tables();
    Resolved resolve(const Tables& t, const std::string& server, std::string_view tool) const;
    std::string expectedHash(const Resolved& r) const;
    // Records what `server` offers; returns whether the tool's description differs from its pin or first sight.
    bool observe(const std::string& server, std::string_view tool, const std::string& hash, const Resolved& r);
    void finding(const std::string& key, const std::string& what);
    Check decide(std::string request, std::string target);
    static void settle(Check& c);  // kind, message and redactions from c.decision
    // The same decision for a `tools/call` through the monitor's Builder: typed slots, no request text written and
    // parsed again (the gateway's latency, docs/performance.md). It builds only requests the JSON decoder would
    // accept unchanged: false, with nothing decided or logged, for anything else (an argument or configured field
    // the decoder refuses, an unknown agent, a message over the decoder's size limit, a reload in between), and the
    // caller then decides the request's JSON text, whose error the monitor names and logs.
    bool decideBuilt(const std::string& server, const Caller& caller, const std::string& target,
                     std::optional<json::Value> arguments, std::size_t messageBytes, Check& out);
    // A caller's configured `request.*` fields (kept as JSON text in Config.h), typed once per bundle for the
    // builder path.
    struct TypedFields {
        std::uint64_t generation = 0;
        bool buildable = true;  // false: the decoder refuses one, so the request text decides (and names it)
        std::size_t bytes = 0;  // at most what they add to the request text
        std::vector<std::pair<std::uint32_t, policy::Value>> values;  // by slot
    };
    std::shared_ptr<const TypedFields> typedFields(const std::vector<Field>* fields, const monitor::Builder& b);
    void gateDeny(Check& c, const std::string& request, std::string message);
    std::string requestFields(const Caller& caller, std::string_view root) const;

    monitor::Monitor& monitor_;
    const GateConfig& config_;
    std::mutex mutex_;
    std::shared_ptr<const Tables> tables_;
    std::map<std::string, std::map<std::string, Seen, std::less<>>, std::less<>> seen_;  // server -> tool -> hashes
    std::set<std::string> findings_;                                                     // logged once each
    std::map<const std::vector<Field>*, std::shared_ptr<const TypedFields>> typed_;      // by caller.fields
    std::mutex buildersMutex_;
    std::vector<std::unique_ptr<monitor::Builder>> builders_;  // idle builders (each used by one call at a time)
    std::atomic<std::uint64_t> built_{0};
};

}  // namespace omega::gate
