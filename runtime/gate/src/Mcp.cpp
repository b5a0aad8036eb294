// An MCP session through the gate (Mcp.h): the method allow list, tools/call checks, held calls, and what the
// client receives of the server's messages.
#include "omega/gate/Mcp.h"

#include <algorithm>
#include <cstdio>

namespace omega::gate {
namespace {

// Methods a client may use without a policy check: session set-up, listing and housekeeping. Everything that acts
// (tools/call) is checked; everything else (resources/read, prompts/get, methods the gate does not know) is denied
// unless the configuration lets it pass.
constexpr std::string_view kUnchecked[] = {
    "initialize",      "ping", "resources/list", "resources/templates/list", "prompts/list", "completion/complete",
    "logging/setLevel"};

Step reply(std::string text) {
    Step s;
    s.kind = Step::Kind::Reply;
    s.text = std::move(text);
    return s;
}

Step forward(std::string text) {
    Step s;
    s.kind = Step::Kind::Forward;
    s.text = std::move(text);
    return s;
}

std::string response(std::string_view id, std::string_view result) {
    std::string out = "{\"jsonrpc\":\"2.0\",\"id\":";
    out += id;
    out += ",\"result\":";
    out += result;
    return out + "}";
}

}  // namespace

McpSession::McpSession(Guard& guard, std::string server, Caller caller)
    : guard_(guard), server_(std::move(server)), caller_(std::move(caller)) {}

bool McpSession::methodAllowed(std::string_view method) const {
    if (std::find(std::begin(kUnchecked), std::end(kUnchecked), method) != std::end(kUnchecked)) return true;
    const auto& extra = guard_.config().passthrough;
    return std::find(extra.begin(), extra.end(), method) != extra.end();
}

Step McpSession::checked(const std::string& id, std::string text, Check check) {
    if (check.kind != Check::Kind::Allow) {
        std::lock_guard lock(mutex_);
        expected_.erase(id);  // a held call's reservation
        return reply(Guard::denyReply(id, check));
    }
    {
        std::lock_guard lock(mutex_);
        expected_[id] = Expect{Expect::Kind::ToolCall, std::move(check.redact)};
    }
    return forward(std::move(text));
}

Step McpSession::fromClient(std::string text) {
    const std::uint32_t limit = guard_.config().maxMessageBytes;
    if (text.size() > limit)
        return reply(json::errorReply("null", json::kTooLarge,
                                      "message of " + std::to_string(text.size()) +
                                          " bytes exceeds the gate's limit of " + std::to_string(limit) + " bytes"));
    json::Parsed p;
    std::string error;
    if (!json::parse(std::move(text), p, error, limit))
        return reply(json::errorReply("null", json::kParseError, "parse error: " + error));
    json::Rpc rpc = json::classify(p);
    switch (rpc.kind) {
        case json::Rpc::Kind::Invalid: return reply(json::errorReply(rpc.id, json::kInvalidRequest, rpc.problem));
        case json::Rpc::Kind::Notification:
        case json::Rpc::Kind::Response: return forward(std::move(p.text));
        case json::Rpc::Kind::Request: break;
    }
    {
        // An id in flight is refused: the server's answer to the second request would be taken for the first's,
        // and a redaction or a tool-list filter meant for one would be applied to the other, or to neither.
        std::lock_guard lock(mutex_);
        if (expected_.count(rpc.id))
            return reply(json::errorReply(rpc.id, json::kInvalidRequest,
                                          "request id " + rpc.id + " is already in use by a request in flight"));
    }
    if (rpc.method == "tools/call") {
        auto name = rpc.params && rpc.params->isObject() ? rpc.params->find("name") : std::nullopt;
        if (!name || !name->isString() || name->string().empty())
            return reply(json::errorReply(rpc.id, -32602, "tools/call needs `params.name`, a tool name"));
        auto arguments = rpc.params->find("arguments");
        Check check = guard_.checkCall(server_, caller_, name->string(), p, arguments);
        if (check.kind == Check::Kind::NeedToolList || check.kind == Check::Kind::Pending) {
            {
                std::lock_guard lock(mutex_);
                expected_[rpc.id] = Expect{Expect::Kind::ToolCall, {}};  // reserved while held
            }
            Step s;
            s.kind = Step::Kind::Hold;
            s.held = std::make_shared<HeldCall>(
                HeldCall{rpc.id, std::move(p.text), std::string(name->string()), std::move(check)});
            return s;
        }
        return checked(rpc.id, std::move(p.text), std::move(check));
    }
    if (rpc.method == "tools/list") {
        std::lock_guard lock(mutex_);
        expected_[rpc.id] = Expect{Expect::Kind::ToolList, {}};
        return forward(std::move(p.text));
    }
    if (methodAllowed(rpc.method)) return forward(std::move(p.text));
    return reply(json::errorReply(rpc.id, json::kDenied,
                                  "method `" + rpc.method +
                                      "` is not allowed through the gate (list it in `gate.passthrough` to forward it "
                                      "unchecked)"));
}

Step McpSession::finish(HeldCall& held, const ListTools& listTools) {
    Step step = finishHeld(held, listTools);
    if (step.kind == Step::Kind::Reply) {
        std::lock_guard lock(mutex_);
        expected_.erase(held.id);
    }
    return step;
}

Step McpSession::finishHeld(HeldCall& held, const ListTools& listTools) {
    if (held.check.kind == Check::Kind::NeedToolList) {
        std::string cursor;
        for (int page = 0;; ++page) {
            if (page == 1000)
                return reply(json::errorReply(held.id, json::kDenied, "the server's tool list does not end"));
            auto r = listTools(cursor);
            json::Parsed p;
            std::string error;
            if (!r || !json::parse(std::move(*r), p, error, guard_.config().maxMessageBytes) || !p.root().isObject())
                return reply(json::errorReply(
                    held.id, json::kDenied,
                    "denied by the gate: it could not list the server's tools (" + (r ? error : r.error()) + ")"));
            auto result = p.root().find("result");
            if (!result || !result->isObject())
                return reply(json::errorReply(held.id, json::kDenied,
                                              "denied by the gate: the server answered tools/list with an error"));
            auto next = guard_.observeToolList(server_, p, *result);
            if (!next) break;
            cursor = *next;
        }
        json::Parsed p;
        std::string error;
        if (!json::parse(held.text, p, error, guard_.config().maxMessageBytes))
            return reply(json::errorReply(held.id, json::kInternalError, "internal error"));
        auto params = p.root().find("params");
        held.check = guard_.checkCall(server_, caller_, held.tool, p, params->find("arguments"), true);
    }
    if (held.check.kind == Check::Kind::Pending) {
        if (diagnostics) {
            std::string roles;
            for (const auto& r : held.check.decision.approve) roles += (roles.empty() ? "" : ", ") + r;
            char id[17];
            std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(held.check.decision.pendingId));
            diagnostics("agent `" + caller_.agent + "` calling `" + held.check.target + "` waits for approval " + id +
                        " by " + roles);
        }
        held.check = guard_.awaitApproval(std::move(held.check));
    }
    return checked(held.id, std::move(held.text), std::move(held.check));
}

std::string McpSession::fromServer(std::string text) {
    json::Parsed p;
    std::string error;
    if (!json::parse(std::move(text), p, error, guard_.config().maxMessageBytes)) {
        if (diagnostics) diagnostics("the server sent a message that is not JSON (" + error + "); dropped");
        return "";
    }
    json::Rpc rpc = json::classify(p);
    if (rpc.kind == json::Rpc::Kind::Invalid) {
        if (diagnostics) diagnostics("the server sent an invalid JSON-RPC message (" + rpc.problem + "); dropped");
        return "";
    }
    if (rpc.kind == json::Rpc::Kind::Notification && rpc.method == "notifications/tools/list_changed")
        guard_.invalidate(server_);
    if (rpc.kind != json::Rpc::Kind::Response) return std::move(p.text);
    Expect expect;
    {
        std::lock_guard lock(mutex_);
        auto it = expected_.find(rpc.id);
        if (it == expected_.end()) return std::move(p.text);
        expect = std::move(it->second);
        expected_.erase(it);
    }
    if (!rpc.result) return std::move(p.text);  // an error answer: nothing to filter
    if (expect.kind == Expect::Kind::ToolList) {
        if (!rpc.result->isObject())
            return json::errorReply(rpc.id, json::kDenied, "the server's tool list is not an object");
        return response(rpc.id, guard_.filterToolList(server_, caller_, p, *rpc.result));
    }
    if (expect.redact.empty()) return std::move(p.text);
    return response(rpc.id, Guard::redactResult(p, *rpc.result, expect.redact));
}

}  // namespace omega::gate
