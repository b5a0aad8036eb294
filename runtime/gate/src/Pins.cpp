// `omega-gate pins` (Pins.h): a minimal MCP client over stdio or Streamable HTTP that lists a server's tools.
#include "omega/gate/Pins.h"

#include "omega/gate/Guard.h"
#include "omega/gate/HttpGate.h"
#include "omega/gate/Stdio.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>

namespace omega::gate {
namespace {

constexpr std::string_view kInitialize =
    R"({"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-06-18",)"
    R"("capabilities":{},"clientInfo":{"name":"omega-gate-pins","version":"1"}}})";
constexpr std::string_view kInitialized = R"({"jsonrpc":"2.0","method":"notifications/initialized"})";

std::string listRequest(int page, const std::string& cursor) {
    std::string body = "{\"jsonrpc\":\"2.0\",\"id\":\"list-" + std::to_string(page) + "\",\"method\":\"tools/list\"";
    body += ",\"params\":" + (cursor.empty() ? std::string("{}") : "{\"cursor\":" + json::quote(cursor) + "}") + "}";
    return body;
}

// Adds one page's tools to `out`; the next cursor, or "" at the end.
Result<std::string> addPage(const std::string& response, Pins& out) {
    json::Parsed p;
    std::string error;
    if (!json::parse(response, p, error, 64u << 20)) return bundle::Error{"tools/list: " + error};
    auto result = p.root().find("result");
    if (!result || !result->isObject()) return bundle::Error{"tools/list failed: " + response.substr(0, 300)};
    if (auto tools = result->find("tools"); tools && tools->isArray())
        for (json::Value tool : tools->items())
            if (auto name = tool.find("name"); name && name->isString())
                out.emplace_back(std::string(name->string()), toolHash(p, tool));
    auto next = result->find("nextCursor");
    return next && next->isString() ? std::string(next->string()) : std::string();
}

// Every page of the tool list; `fetch` sends the request for a page and returns the server's answer.
Result<Pins> listPages(const std::function<Result<std::string>(int page, const std::string& cursor)>& fetch) {
    Pins pins;
    std::string cursor;
    for (int page = 1; page <= 1000; ++page) {
        auto answer = fetch(page, cursor);
        if (!answer) return bundle::Error{"tools/list: " + answer.error()};
        auto next = addPage(*answer, pins);
        if (!next) return bundle::Error{next.error()};
        if (next->empty()) return pins;
        cursor = *next;
    }
    return bundle::Error{"the server's tool list does not end"};
}

class Child {
public:
    Child(int pid, int in, int out) : pid_(pid), in_(in), out_(out) {}
    ~Child() {
        if (in_ >= 0) ::close(in_);
        for (int i = 0; i < 50; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) != 0) break;
            if (i == 49) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, nullptr, 0);
            }
            ::usleep(100000);
        }
        ::close(out_);
    }
    bool send(std::string_view line) {
        std::string text(line);
        text += '\n';
        std::size_t done = 0;
        while (done < text.size()) {
            const ssize_t n = ::write(in_, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            done += static_cast<std::size_t>(n);
        }
        return true;
    }
    // The response with `id` (JSON text), skipping everything else, within 30 seconds.
    Result<std::string> await(const std::string& id) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        for (;;) {
            for (auto nl = buffer_.find('\n'); nl != std::string::npos; nl = buffer_.find('\n')) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                json::Parsed p;
                std::string error;
                if (!json::parse(line, p, error, 64u << 20)) continue;
                const json::Rpc rpc = json::classify(p);
                if (rpc.kind == json::Rpc::Kind::Response && rpc.id == id) return std::move(p.text);
            }
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return bundle::Error{"the server did not answer within 30 seconds"};
            pollfd fd{out_, POLLIN, 0};
            if (::poll(&fd, 1, static_cast<int>(left.count())) < 0 && errno != EINTR)
                return bundle::Error{"poll failed"};
            char chunk[65536];
            const ssize_t n = ::read(out_, chunk, sizeof chunk);
            if (n == 0) return bundle::Error{"the server exited"};
            if (n > 0) buffer_.append(chunk, static_cast<std::size_t>(n));
            if (buffer_.size() > (64u << 20)) return bundle::Error{"the server sent a line over 64 MiB"};
        }
    }

private:
    int pid_, in_, out_;
    std::string buffer_;
};

}  // namespace

Result<Pins> listPinsStdio(const std::vector<std::string>& command) {
    ::signal(SIGPIPE, SIG_IGN);
    int in = -1, out = -1;
    std::string error;
    const int pid = spawnServer(command, in, out, error);
    if (pid < 0) return bundle::Error{"cannot start the server: " + error};
    Child child(pid, in, out);
    if (!child.send(kInitialize)) return bundle::Error{"the server closed its input"};
    auto init = child.await("\"init\"");
    if (!init) return bundle::Error{"initialize: " + init.error()};
    child.send(kInitialized);
    return listPages([&](int page, const std::string& cursor) -> Result<std::string> {
        if (!child.send(listRequest(page, cursor))) return bundle::Error{"the server closed its input"};
        return child.await("\"list-" + std::to_string(page) + "\"");
    });
}

Result<Pins> listPinsHttp(const std::string& url) {
    auto u = http::Url::parse(url);
    if (!u) return bundle::Error{u.error()};
    http::Client client;
    std::string session;
    auto init = mcpRequest(client, *u, std::string(kInitialize), "\"init\"", session);
    if (!init) return bundle::Error{"initialize: " + init.error()};
    http::Headers headers{{"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"}};
    if (!session.empty()) headers.push_back({"Mcp-Session-Id", session});
    (void)client.fetch(*u, "POST", headers, kInitialized);
    return listPages([&](int page, const std::string& cursor) {
        return mcpRequest(client, *u, listRequest(page, cursor), "\"list-" + std::to_string(page) + "\"", session);
    });
}

}  // namespace omega::gate
