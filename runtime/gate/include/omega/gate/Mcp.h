// One MCP session through the gate, whatever carries it (stdio or Streamable HTTP): what to do with each message
// from the client (forward, answer with an error, or hold a call that must wait), and what the client receives of
// each message from the server (tool lists filtered, results redacted).
#pragma once

#include "omega/gate/Guard.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace omega::gate {

// A tools/call that has to wait (an approval, or a tool list the gate must fetch first). finish() completes it.
struct HeldCall {
    std::string id;  // the request's id (JSON text)
    std::string text;
    std::string tool;
    Check check;
};

struct Step {
    enum class Kind : std::uint8_t { Forward, Reply, Hold };
    Kind kind = Kind::Reply;
    std::string text;                // Forward: to the server; Reply: to the client
    std::shared_ptr<HeldCall> held;  // Hold
};

class McpSession {
public:
    // Fetches one page of the server's tool list for the gate itself: the `result` of a `tools/list` with `cursor`
    // (empty: the first page), as the server's whole response message.
    using ListTools = std::function<Result<std::string>(const std::string& cursor)>;

    McpSession(Guard& guard, std::string server, Caller caller);

    // A message from the client (one JSON-RPC message; the transport enforces nothing but framing).
    Step fromClient(std::string text);
    // Completes a held call on a thread that may block: the tool list, then the approval. Forward or Reply.
    Step finish(HeldCall& held, const ListTools& listTools);
    // A message from the server: what the client receives ("" when nothing should reach it).
    std::string fromServer(std::string text);

    // Told about messages from the server that were dropped (not JSON, not JSON-RPC); one line each.
    std::function<void(const std::string&)> diagnostics;

    const std::string& server() const { return server_; }
    const Caller& caller() const { return caller_; }

private:
    struct Expect {
        enum class Kind : std::uint8_t { ToolList, ToolCall } kind = Kind::ToolList;
        std::vector<std::string> redact;
    };
    bool methodAllowed(std::string_view method) const;
    Step finishHeld(HeldCall& held, const ListTools& listTools);
    Step checked(const std::string& id, std::string text, Check check);

    Guard& guard_;
    std::string server_;
    Caller caller_;
    std::mutex mutex_;
    std::map<std::string, Expect> expected_;  // by request id (JSON text)
};

}  // namespace omega::gate
