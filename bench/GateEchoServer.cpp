// gate_echo_server: the smallest MCP server the gateway benchmark (GateBench.cpp) can stand behind omega-gate, with
// one tool, `echo`, over stdio (a JSON-RPC message per line) or Streamable HTTP (POST, application/json answers).
// String scanning and building only, so that a round trip to it costs as little as the transport allows.
// Also the two plain relays the benchmark compares the gate with: a proxy that only forwards (bytes both ways over
// stdio, one HTTP exchange per request over HTTP), built like the gate (a thread per direction; omega_gate_http's
// server and client) but without framing, JSON or policy, so that what the gate adds beyond them is its own work.
#include "omega/gate/Http.h"
#include "omega/gate/Stdio.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace std::string_literals;

constexpr std::string_view kUsage =
    "usage: gate_echo_server stdio | http PORT | relay -- COMMAND... | relay-http PORT UPSTREAM_URL\n";
constexpr std::size_t npos = std::string_view::npos;

std::size_t skipSpace(std::string_view s, std::size_t i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
    return i;
}

// Where the JSON value starting at `i` ends, or npos. Strings and brackets are matched, scalars taken up to the next
// delimiter; nothing else is validated: the server only needs to find its way through well-formed requests, and to
// fail cleanly (not crash, not loop) on anything else.
std::size_t skipValue(std::string_view s, std::size_t i) {
    if (i >= s.size()) return npos;
    if (s[i] == '"') {
        for (++i; i < s.size(); ++i) {
            if (s[i] == '\\')
                ++i;
            else if (s[i] == '"')
                return i + 1;
        }
        return npos;
    }
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        while (i < s.size()) {
            const char c = s[i];
            if (c == '"') {
                i = skipValue(s, i);
                if (i == npos) return npos;
                continue;
            }
            if (c == '{' || c == '[') ++depth;
            if ((c == '}' || c == ']') && --depth == 0) return i + 1;
            ++i;
        }
        return npos;
    }
    const std::size_t start = i;
    while (i < s.size() && std::string_view(",}] \t\r\n").find(s[i]) == npos) ++i;
    return i == start ? npos : i;
}

// Calls onMember(key, value) for each member of the object at `s` (keys raw, without quotes; values as JSON text).
// False when `s` is not an object.
bool members(std::string_view s, const std::function<void(std::string_view, std::string_view)>& onMember) {
    std::size_t i = skipSpace(s, 0);
    if (i >= s.size() || s[i] != '{') return false;
    i = skipSpace(s, i + 1);
    if (i < s.size() && s[i] == '}') return skipSpace(s, i + 1) == s.size();
    for (;;) {
        if (i >= s.size() || s[i] != '"') return false;
        const std::size_t keyEnd = skipValue(s, i);
        if (keyEnd == npos) return false;
        const std::string_view key = s.substr(i + 1, keyEnd - i - 2);
        i = skipSpace(s, keyEnd);
        if (i >= s.size() || s[i] != ':') return false;
        i = skipSpace(s, i + 1);
        const std::size_t valueEnd = skipValue(s, i);
        if (valueEnd == npos) return false;
        onMember(key, s.substr(i, valueEnd - i));
        i = skipSpace(s, valueEnd);
        if (i < s.size() && s[i] == ',') {
            i = skipSpace(s, i + 1);
            continue;
        }
        return i < s.size() && s[i] == '}' && skipSpace(s, i + 1) == s.size();
    }
}

std::string result(std::string_view id, std::string_view body) {
    std::string out;
    out.reserve(body.size() + id.size() + 40);
    out += R"({"jsonrpc":"2.0","id":)";
    out += id;
    out += R"(,"result":)";
    out += body;
    out += '}';
    return out;
}

std::string error(std::string_view id, int code, std::string_view message) {
    return R"({"jsonrpc":"2.0","id":)"s + std::string(id) + R"(,"error":{"code":)" + std::to_string(code) +
           R"(,"message":")" + std::string(message) + R"("}})";
}

constexpr std::string_view kInitialize = R"({"protocolVersion":"2025-06-18","capabilities":{"tools":{}},)"
                                         R"("serverInfo":{"name":"gate-echo-server","version":"1.0.0"}})";
constexpr std::string_view kToolList =
    R"({"tools":[{"name":"echo","description":"Returns its message unchanged.",)"
    R"("inputSchema":{"type":"object","properties":{"message":{"type":"string","description":"what to echo"}},)"
    R"("required":["message"]}}]})";

// The answer to one JSON-RPC message: "" for notifications and responses (nothing is sent back), a JSON-RPC error
// for anything this server does not serve. `initialize` is set when the message was an initialize request.
std::string answer(std::string_view text, bool& initialize) {
    initialize = false;
    std::string_view id, method, params;
    if (!members(text, [&](std::string_view k, std::string_view v) {
            if (k == "id")
                id = v;
            else if (k == "method")
                method = v;
            else if (k == "params")
                params = v;
        }))
        return error("null", -32700, "parse error: expected one JSON object");
    if (method.empty()) return "";  // a response to nothing we asked, or not JSON-RPC: nothing to answer
    if (id.empty()) return "";      // a notification
    if (id[0] != '"' && id[0] != '-' && (id[0] < '0' || id[0] > '9'))
        return error("null", -32600, "the id must be a string or a number");
    if (method == R"("initialize")") {
        initialize = true;
        return result(id, kInitialize);
    }
    if (method == R"("ping")") return result(id, "{}");
    if (method == R"("tools/list")") return result(id, kToolList);
    if (method != R"("tools/call")") return error(id, -32601, "method not found");
    std::string_view name, arguments, message;
    members(params, [&](std::string_view k, std::string_view v) {
        if (k == "name")
            name = v;
        else if (k == "arguments")
            arguments = v;
    });
    if (name != R"("echo")") return error(id, -32602, "unknown tool");
    members(arguments, [&](std::string_view k, std::string_view v) {
        if (k == "message") message = v;
    });
    if (message.empty() || message[0] != '"') return error(id, -32602, "`message` must be a string");
    // The argument's JSON string literal is copied as it came: it is already valid JSON, escapes included.
    std::string body = R"({"content":[{"type":"text","text":)";
    body += message;
    body += "}]}";
    return result(id, body);
}

bool writeAll(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

int serveStdio() {
    constexpr std::size_t kMaxLine = 16 << 20;
    std::string buffer, out;
    std::size_t scanned = 0;
    char chunk[65536];
    for (;;) {
        const std::size_t nl = buffer.find('\n', scanned);
        if (nl == npos) {
            scanned = buffer.size();
            if (buffer.size() > kMaxLine) {  // a line longer than any request: refuse it and drop what we have
                if (!writeAll(1, error("null", -32600, "message too large") + "\n")) return 1;
                buffer.clear();
                scanned = 0;
            }
            const ssize_t n = ::read(0, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return 0;  // stdin closed: how an MCP stdio server is told to exit
            buffer.append(chunk, static_cast<std::size_t>(n));
            continue;
        }
        std::string_view line(buffer.data(), nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        bool initialize = false;
        if (skipSpace(line, 0) < line.size()) {
            out = answer(line, initialize);
            if (!out.empty()) {
                out += '\n';
                if (!writeAll(1, out)) return 1;
            }
        }
        buffer.erase(0, nl + 1);
        scanned = 0;
    }
}

// Serves HTTP on 127.0.0.1:PORT (0: any free port, printed as `port N` on stdout) until SIGTERM or SIGINT.
int serveHttp(const char* portText, const omega::gate::http::Handler& handler) {
    char* end = nullptr;
    const long port = std::strtol(portText, &end, 10);
    if (*portText == '\0' || *end != '\0' || port < 0 || port > 65535) {
        std::fputs(kUsage.data(), stderr);
        return 2;
    }
    // Blocked before the server's threads start, so that only sigwait below sees them.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    auto server = omega::gate::http::Server::start("127.0.0.1", static_cast<std::uint16_t>(port), {}, handler);
    if (!server) {
        std::fprintf(stderr, "gate_echo_server: %s\n", server.error().c_str());
        return 1;
    }
    std::printf("port %u\n", static_cast<unsigned>((*server)->port()));
    std::fflush(stdout);
    int signo = 0;
    while (sigwait(&stop, &signo) != 0) {
    }
    (*server)->stop();
    return 0;
}

int echoHttp(const char* portText) {
    using namespace omega::gate::http;
    return serveHttp(portText, [](const Request& req, Responder& res) {
        if (req.method == "DELETE") {
            res.send(200, {}, "");
            return;
        }
        if (req.method != "POST") {
            res.send(405, {{"Allow", "POST, DELETE"}}, "");
            return;
        }
        bool initialize = false;
        const std::string out = answer(req.body, initialize);
        if (out.empty()) {
            res.send(202, {}, "");
            return;
        }
        Headers headers{{"Content-Type", "application/json"}};
        if (initialize) headers.push_back({"Mcp-Session-Id", "gate-echo-session"});
        res.send(200, headers, out);
    });
}

// Each request forwarded to UPSTREAM_URL on a kept-alive connection and its answer sent back, with the MCP headers
// both ways: what any HTTP proxy does, and no more.
int relayHttp(const char* portText, const char* upstreamText) {
    using namespace omega::gate::http;
    auto upstream = Url::parse(upstreamText);
    if (!upstream) {
        std::fprintf(stderr, "gate_echo_server: %s\n", upstream.error().c_str());
        return 2;
    }
    Client client;
    auto pick = [](const Headers& from, std::initializer_list<std::string_view> names) {
        Headers out;
        for (std::string_view name : names)
            if (auto v = find(from, name)) out.push_back({std::string(name), std::string(*v)});
        return out;
    };
    return serveHttp(portText, [&](const Request& req, Responder& res) {
        auto r = client.fetch(*upstream, req.method,
                              pick(req.headers, {"content-type", "accept", "mcp-session-id", "mcp-protocol-version"}),
                              req.body);
        if (!r) {
            res.send(502, {}, r.error());
            return;
        }
        res.send(r->head.status, pick(r->head.headers, {"content-type", "mcp-session-id"}), r->body);
    });
}

// COMMAND started as the gate starts a server (spawnServer, Stdio.h); the relay's stdin copied to the command's
// and the command's stdout to the relay's, a thread per direction, until either side closes.
int relayStdio(int argc, char** argv) {
    int toChild = -1, fromChild = -1;
    std::string error;
    const pid_t pid = omega::gate::spawnServer({argv, argv + argc}, toChild, fromChild, error);
    if (pid < 0) {
        std::fprintf(stderr, "gate_echo_server: %s\n", error.c_str());
        return 1;
    }
    auto copy = [](int from, int to) {
        char chunk[65536];
        for (;;) {
            const ssize_t n = ::read(from, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0 || !writeAll(to, std::string_view(chunk, static_cast<std::size_t>(n)))) return;
        }
    };
    std::thread back([&] { copy(fromChild, 1); });
    copy(0, toChild);
    ::close(toChild);  // the command's stdin closed: how an MCP stdio server is told to exit
    back.join();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string_view mode = argc > 1 ? argv[1] : "";
    if (mode == "stdio" && argc == 2) return serveStdio();
    if (mode == "http" && argc == 3) return echoHttp(argv[2]);
    if (mode == "relay" && argc > 3 && std::string_view(argv[2]) == "--") return relayStdio(argc - 3, argv + 3);
    if (mode == "relay-http" && argc == 4) return relayHttp(argv[2], argv[3]);
    std::fputs(kUsage.data(), stderr);
    return 2;
}
