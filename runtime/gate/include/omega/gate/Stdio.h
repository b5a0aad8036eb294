// MCP over stdio through the gate: the server runs as a child process on pipes; the client talks to the gate's
// stdin and stdout as it would to the server (one JSON-RPC message per line).
#pragma once

#include "omega/gate/Mcp.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace omega::gate {

struct StdioOptions {
    std::vector<std::string> command;                     // the server: program and arguments (found on PATH)
    int in = 0, out = 1;                                  // the client's side
    std::function<void(const std::string&)> diagnostics;  // one line each, for the operator (stderr)
    std::function<void(int pid)> started;                 // told the server's process id once it runs
};

// Runs until the client closes its side (then the server's stdin is closed and the gate waits for it) or the
// server exits. Returns the server's exit status (128 + signal when killed), or 127 when it could not start.
// Starts `command` with pipes for its stdin (`toChild`) and stdout (`fromChild`); stderr is shared. -1 and `error`
// when it cannot (a command that is not found exits 127 with a message on stderr).
int spawnServer(const std::vector<std::string>& command, int& toChild, int& fromChild, std::string& error);

int runStdio(Guard& guard, const std::string& server, const Caller& caller, const StdioOptions& options);

}  // namespace omega::gate
