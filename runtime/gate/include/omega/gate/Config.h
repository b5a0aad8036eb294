// omega-gate's configuration: omegad's file (bundle, keys, decision log, approval socket, peers; docs/omegad.md)
// plus a `gate:` section read here with the same strictness (docs/gateway.md, "Configuration").
#pragma once

#include "omega/omegad/Config.h"

#include <cctype>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace omega::gate {

template <typename T>
using Result = bundle::Result<T>;

// The policy's name for an MCP tool: every character but letters, digits and `_` becomes `_` (`get-sum` is
// `get_sum`), since policy names are identifiers.
inline std::string policyToolName(std::string_view mcpName) {
    std::string out(mcpName);
    for (char& c : out)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
    return out;
}

// A value the gate adds to every request of an identity, at a supplied field (`request.purpose: treatment`).
struct Field {
    std::string path;  // "request.purpose"
    std::string json;  // its value as JSON text
};

// Who is calling. Over stdio the gate has one identity (`agent`); over HTTP a bearer token picks one.
struct Identity {
    std::string token;    // HTTP: the bearer token (empty: the default identity, used when no token is configured)
    std::string agent;    // the policy's agent
    std::string session;  // a fixed session id for the monitor's state; empty: one per MCP session / A2A context
    std::vector<Field> fields;
};

// An MCP server behind the gate, by the name the policy's tools carry (`tool fs.read_file(...)` is server `fs`).
struct McpServer {
    std::string name;
    std::string path;      // HTTP: where the gate serves it (`/mcp/fs`)
    std::string upstream;  // HTTP: the server's Streamable HTTP URL
};

// An A2A agent behind the gate: messages to it are `send` requests with it as the recipient.
struct A2aAgent {
    std::string name;      // the policy's agent that receives
    std::string path;      // where the gate serves it (`/a2a/billing`); its agent card at PATH/.well-known/...
    std::string upstream;  // the agent's JSON-RPC URL
    std::string label;     // the label of a message that names none (empty: absent)
};

struct GateConfig {
    Identity identity;               // the default identity (stdio, and HTTP without tokens)
    std::vector<Identity> tokens;    // HTTP identities by bearer token
    std::vector<McpServer> servers;  // stdio: exactly one (its name); HTTP: one or more
    std::vector<A2aAgent> agents;
    std::string listen;                        // HTTP: "host:port"
    std::map<std::string, std::string> pins;   // "server.tool" -> "sha256:<hex>" (besides the policy's)
    std::vector<std::string> passthrough;      // methods forwarded unchecked besides the defaults
    std::uint32_t approvalTimeoutMs = 60'000;  // how long a call waits for an `approve` obligation
    std::uint32_t maxMessageBytes = 4u << 20;  // one JSON-RPC message
    std::uint32_t maxHeldCalls = 64;           // calls waiting (approval, tool list) at once
    bool trustFirstSeen = true;  // an unpinned tool whose description changes after it was first seen is a rug pull
};

struct Config {
    omegad::Config omegad;
    GateConfig gate;
};

// Reads the file; `stdio` says how the gate runs (it needs exactly one server then, and no listen address).
Result<Config> loadConfig(const std::string& path, bool stdio);
Result<Config> parseConfig(std::string_view text, const std::string& name, const std::string& baseDir, bool stdio);

}  // namespace omega::gate
