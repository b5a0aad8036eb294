// The gate over HTTP: MCP Streamable HTTP in front of each `gate.servers` upstream and A2A (JSON-RPC over HTTP)
// in front of each `gate.agents` upstream, on one listening address. Identity from a bearer token.
#pragma once

#include "omega/gate/Guard.h"
#include "omega/gate/Http.h"

#include <functional>
#include <memory>
#include <string>

namespace omega::gate {

class HttpGate {
public:
    using Diagnostics = std::function<void(const std::string&)>;
    // Listens on `gate.listen` and serves until stop(). Fails when the address cannot be bound.
    static Result<std::unique_ptr<HttpGate>> start(Guard& guard, Diagnostics diagnostics);
    ~HttpGate();

    std::string address() const;  // "host:port", with the port bound (for `:0`)
    void stop();                  // idempotent; wakes wait()
    void wait();                  // until stop()

    struct Impl;

private:
    explicit HttpGate(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// One MCP request over Streamable HTTP, for the gate's own use (its tools/list, `omega-gate pins`): POSTs `body` to
// `url` and returns the JSON-RPC response with id `id` (JSON text), whether the server answered with JSON or with an
// event stream. `session` is sent as Mcp-Session-Id when not empty and set from the server's answer.
Result<std::string> mcpRequest(http::Client& client, const http::Url& url, const std::string& body,
                               const std::string& id, std::string& session, const http::Headers& extra = {});

}  // namespace omega::gate
