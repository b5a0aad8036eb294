// The HTTP transport (HttpGate.h): routing by path, bearer-token identity, MCP Streamable HTTP (POST with a JSON or
// event-stream answer, GET streams, DELETE) and A2A JSON-RPC (message/send, message/stream, agent cards), every
// message from upstream passed through the session's filters before the client sees it.
#include "omega/gate/HttpGate.h"

#include "omega/gate/Mcp.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <condition_variable>
#include <list>
#include <map>
#include <mutex>
#include <set>

namespace omega::gate {
namespace {

using http::Header;
using http::Headers;

constexpr std::size_t kMaxSessions = 4096;
constexpr std::string_view kJson = "application/json";

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool isEventStream(const Headers& headers) {
    auto type = http::find(headers, "content-type");
    return type && lower(*type).find("text/event-stream") != std::string::npos;
}

// Headers of the MCP transport that travel between client and server through the gate (not Authorization: the
// gate's token is for the gate).
Headers pick(const Headers& from, std::initializer_list<std::string_view> names) {
    Headers out;
    for (std::string_view n : names)
        if (auto v = http::find(from, n)) out.push_back({std::string(n), std::string(*v)});
    return out;
}

std::string pathOf(std::string_view target) {
    const auto q = target.find('?');
    std::string path(target.substr(0, q));
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    return path;
}

bool sameSecret(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Collects JSON-RPC messages from an answer that is either one JSON document or an event stream.
class Messages {
public:
    explicit Messages(bool stream) : stream_(stream) {}
    bool feed(std::string_view data, const std::function<void(std::string&&)>& onMessage) {
        if (!stream_) {
            body_.append(data);
            return true;
        }
        auto r = parser_.feed(data, [&](http::Event&& e) {
            if (!e.data.empty()) onMessage(std::move(e.data));
        });
        return r.ok();
    }
    void finish(const std::function<void(std::string&&)>& onMessage) {
        if (!stream_ && !body_.empty()) onMessage(std::move(body_));
    }

private:
    bool stream_;
    std::string body_;
    http::SseParser parser_;
};

// A2A methods (v0.3 names and v1.0 names): messages are decided; task reads and cancels pass; everything else
// (push-notification configurations, which make the agent call out to a URL, extended cards, methods the gate does
// not know) is refused.
bool a2aChecked(std::string_view m) {
    return m == "message/send" || m == "message/stream" || m == "SendMessage" || m == "SendStreamingMessage";
}
bool a2aPassed(std::string_view m) {
    for (std::string_view p : {"tasks/get", "tasks/cancel", "tasks/resubscribe", "GetTask", "CancelTask", "ListTasks",
                               "SubscribeToTask", "TaskSubscription"})
        if (m == p) return true;
    return false;
}

// The kind of a message part: v0.3 says it (`kind`); v1.0 parts are one of `text`, `data`, `file`, `raw`, `url`.
std::string partKind(json::Value part) {
    if (auto k = part.find("kind"); k && k->isString()) return std::string(k->string());
    for (const char* k : {"text", "data", "file", "raw", "url"})
        if (part.find(k)) return std::string(k == std::string_view("raw") || k == std::string_view("url") ? "file" : k);
    return "unknown";
}

bool isJsonRpcInterface(json::Value i) {
    for (const char* key : {"transport", "protocolBinding"})
        if (auto t = i.find(key); t && t->isString()) return lower(t->string()) == "jsonrpc";
    return false;
}

}  // namespace

Result<std::string> mcpRequest(http::Client& client, const http::Url& url, const std::string& body,
                               const std::string& id, std::string& session, const Headers& extra) {
    Headers headers{{"Content-Type", std::string(kJson)}, {"Accept", "application/json, text/event-stream"}};
    if (!session.empty()) headers.push_back({"Mcp-Session-Id", session});
    for (const Header& h : extra) headers.push_back(h);
    std::optional<std::string> answer;
    std::unique_ptr<Messages> messages;
    auto onMessage = [&](std::string&& text) {
        if (answer) return;
        json::Parsed p;
        std::string error;
        if (!json::parse(std::move(text), p, error, 64u << 20)) return;
        const json::Rpc rpc = json::classify(p);
        if (rpc.kind == json::Rpc::Kind::Response && rpc.id == id) answer = std::move(p.text);
    };
    auto head = client.request(
        url, "POST", "", headers, body,
        [&](const http::ResponseHead& h) {
            messages = std::make_unique<Messages>(isEventStream(h.headers));
            if (auto s = http::find(h.headers, "mcp-session-id")) session = std::string(*s);
        },
        [&](std::string_view data) {
            if (!messages->feed(data, onMessage)) return false;
            return !answer.has_value();  // stop reading a stream once the answer came
        });
    if (!head) return bundle::Error{head.error()};
    if (messages) messages->finish(onMessage);
    if (head->status / 100 != 2) return bundle::Error{"the server answered HTTP " + std::to_string(head->status)};
    if (!answer) return bundle::Error{"the server's answer holds no response to the request"};
    return std::move(*answer);
}

struct HttpGate::Impl {
    Guard& guard;
    Diagnostics diagnostics;
    std::unique_ptr<http::Server> server;
    http::Client client;
    std::string host;
    std::mutex mutex;
    std::condition_variable stopped;
    bool done = false;

    struct Route {
        const McpServer* mcp = nullptr;
        const A2aAgent* a2a = nullptr;
        http::Url upstream;
        bool card = false;  // the A2A agent card
    };
    std::map<std::string, Route> routes;  // by path

    // MCP sessions by identity, server and Mcp-Session-Id, oldest first for eviction.
    std::list<std::pair<std::string, std::shared_ptr<McpSession>>> sessions;
    std::map<std::string, std::list<std::pair<std::string, std::shared_ptr<McpSession>>>::iterator> sessionIndex;

    Impl(Guard& g, Diagnostics d) : guard(g), diagnostics(std::move(d)) {}

    void say(const std::string& line) {
        if (diagnostics) diagnostics(line);
    }

    const Identity* identify(const http::Request& req) {
        const GateConfig& c = guard.config();
        if (c.tokens.empty()) return &c.identity;
        auto auth = http::find(req.headers, "authorization");
        if (!auth || lower(auth->substr(0, 7)) != "bearer ") return nullptr;
        const std::string_view token = auth->substr(7);
        for (const Identity& id : c.tokens)
            if (sameSecret(id.token, token)) return &id;
        return nullptr;
    }

    Caller caller(const Identity& id) const {
        // Without a configured session, one per identity: what an agent read through one server taints its calls
        // to every other server behind the gate.
        return Caller{id.agent, id.session.empty() ? "agent:" + id.agent + ":" + std::to_string(index(id)) : id.session,
                      &id.fields};
    }
    std::size_t index(const Identity& id) const {
        const auto& tokens = guard.config().tokens;
        for (std::size_t i = 0; i < tokens.size(); ++i)
            if (&tokens[i] == &id) return i + 1;
        return 0;
    }

    std::shared_ptr<McpSession> session(const Identity& id, const McpServer& server, std::string_view mcpSession) {
        const std::string key = std::to_string(index(id)) + "\n" + server.name + "\n" + std::string(mcpSession);
        std::lock_guard lock(mutex);
        if (auto it = sessionIndex.find(key); it != sessionIndex.end()) {
            sessions.splice(sessions.end(), sessions, it->second);
            return it->second->second;
        }
        auto s = std::make_shared<McpSession>(guard, server.name, caller(id));
        s->diagnostics = [this, name = server.name](const std::string& line) { say("server `" + name + "`: " + line); };
        sessions.emplace_back(key, s);
        sessionIndex[key] = std::prev(sessions.end());
        if (sessions.size() > kMaxSessions) {
            sessionIndex.erase(sessions.front().first);
            sessions.pop_front();
        }
        return s;
    }
    void forget(const Identity& id, const McpServer& server, std::string_view mcpSession) {
        const std::string key = std::to_string(index(id)) + "\n" + server.name + "\n" + std::string(mcpSession);
        std::lock_guard lock(mutex);
        if (auto it = sessionIndex.find(key); it != sessionIndex.end()) {
            sessions.erase(it->second);
            sessionIndex.erase(it);
        }
    }

    static void answerJson(http::Responder& res, int status, const std::string& body, Headers headers = {}) {
        headers.push_back({"Content-Type", std::string(kJson)});
        res.send(status, headers, body);
    }

    void handle(const http::Request& req, http::Responder& res) {
        const std::string path = pathOf(req.target);
        auto it = routes.find(path);
        if (it == routes.end()) {
            answerJson(res, 404,
                       json::errorReply("null", json::kInvalidRequest, "no MCP server or A2A agent at " + path));
            return;
        }
        const Route& route = it->second;
        if (route.card) {
            agentCard(req, res, route);
            return;
        }
        const Identity* id = identify(req);
        if (!id) {
            answerJson(res, 401, json::errorReply("null", json::kInvalidRequest, "a valid bearer token is required"),
                       {{"WWW-Authenticate", "Bearer"}});
            return;
        }
        if (route.mcp)
            mcp(req, res, route, *id);
        else
            a2a(req, res, route, *id);
    }

    // Streams an upstream answer to the client, each JSON-RPC message through `filter` ("" drops it).
    void relay(http::Responder& res, const Route& route, std::string_view method, const Headers& headers,
               std::string_view body, const std::function<std::string(std::string)>& filter,
               std::initializer_list<std::string_view> passBack) {
        bool stream = false, started = false;
        std::string collected;
        http::SseParser parser(guard.config().maxMessageBytes + 4096);
        int status = 0;
        Headers back;
        auto head = client.request(
            route.upstream, method, "", headers, body,
            [&](const http::ResponseHead& h) {
                status = h.status;
                stream = isEventStream(h.headers);
                back = pick(h.headers, passBack);
                if (auto type = http::find(h.headers, "content-type"))
                    back.push_back({"Content-Type", std::string(*type)});
                if (stream) {
                    back.push_back({"Cache-Control", "no-cache"});
                    started = res.begin(status, back);
                }
            },
            [&](std::string_view data) {
                if (!stream) {
                    if (collected.size() + data.size() > guard.config().maxMessageBytes + std::size_t{4096})
                        return false;
                    collected.append(data);
                    return true;
                }
                bool ok = true;
                auto r = parser.feed(data, [&](http::Event&& e) {
                    if (!e.data.empty()) {
                        e.data = filter(std::move(e.data));
                        if (e.data.empty()) return;
                    }
                    ok = ok && res.chunk(http::formatEvent(e));
                });
                return r.ok() && ok && res.open();
            });
        if (!head) {
            if (started) {
                res.end();
                return;
            }
            say("upstream " + route.upstream.origin() + ": " + head.error());
            answerJson(res, 502,
                       json::errorReply("null", json::kInternalError, "the upstream server failed: " + head.error()));
            return;
        }
        if (stream) {
            if (started) res.end();
            return;
        }
        if (status / 100 == 2 && !collected.empty()) {
            std::string out = filter(std::move(collected));
            if (out.empty()) {
                answerJson(res, 502, json::errorReply("null", json::kInternalError, "the upstream answer was dropped"));
                return;
            }
            res.send(status, back, out);
            return;
        }
        res.send(status, back, collected);
    }

    void mcp(const http::Request& req, http::Responder& res, const Route& route, const Identity& id) {
        const std::string mcpSession(http::find(req.headers, "mcp-session-id").value_or(""));
        auto s = session(id, *route.mcp, mcpSession);
        Headers headers =
            pick(req.headers, {"content-type", "accept", "mcp-session-id", "mcp-protocol-version", "last-event-id"});
        auto filter = [&](std::string text) { return s->fromServer(std::move(text)); };
        const auto passBack = {std::string_view("mcp-session-id"), std::string_view("mcp-protocol-version")};
        if (req.method == "GET") {
            relay(res, route, "GET", headers, "", filter, passBack);
            return;
        }
        if (req.method == "DELETE") {
            relay(
                res, route, "DELETE", headers, "", [](std::string t) { return t; }, passBack);
            forget(id, *route.mcp, mcpSession);
            return;
        }
        if (req.method != "POST") {
            res.send(405, {{"Allow", "GET, POST, DELETE"}}, "");
            return;
        }
        Step step = s->fromClient(req.body);
        if (step.kind == Step::Kind::Hold) {
            std::string upstreamSession = mcpSession;
            const Headers extra = pick(req.headers, {"mcp-protocol-version"});
            std::uint64_t n = 0;
            step = s->finish(*step.held, [&](const std::string& cursor) -> Result<std::string> {
                const std::string rid = json::quote("omega-gate-list-" + std::to_string(++n));
                std::string body = "{\"jsonrpc\":\"2.0\",\"id\":" + rid + ",\"method\":\"tools/list\",\"params\":";
                body += cursor.empty() ? "{}" : "{\"cursor\":" + json::quote(cursor) + "}";
                body += '}';
                return mcpRequest(client, route.upstream, body, rid, upstreamSession, extra);
            });
        }
        if (step.kind == Step::Kind::Reply) {
            answerJson(res, 200, step.text);
            return;
        }
        relay(res, route, "POST", headers, step.text, filter, passBack);
    }

    void a2a(const http::Request& req, http::Responder& res, const Route& route, const Identity& id) {
        if (req.method != "POST") {
            res.send(405, {{"Allow", "POST"}}, "");
            return;
        }
        const std::uint32_t limit = guard.config().maxMessageBytes;
        json::Parsed p;
        std::string error;
        if (req.body.size() > limit) {
            answerJson(res, 200, json::errorReply("null", json::kTooLarge, "message exceeds the gate's limit"));
            return;
        }
        if (!json::parse(req.body, p, error, limit)) {
            answerJson(res, 200, json::errorReply("null", json::kParseError, "parse error: " + error));
            return;
        }
        const json::Rpc rpc = json::classify(p);
        if (rpc.kind != json::Rpc::Kind::Request) {
            answerJson(res, 200,
                       json::errorReply(rpc.id, json::kInvalidRequest,
                                        rpc.problem.empty() ? "expected a request" : rpc.problem));
            return;
        }
        const Headers headers =
            pick(req.headers, {"content-type", "accept", "a2a-version", "a2a-extensions", "x-a2a-extensions"});
        if (!a2aChecked(rpc.method)) {
            if (!a2aPassed(rpc.method)) {
                answerJson(res, 200,
                           json::errorReply(rpc.id, json::kDenied,
                                            "method `" + rpc.method + "` is not allowed through the gate"));
                return;
            }
            // Reading or cancelling tasks concerns messages that were checked when they were sent.
            relay(res, route, "POST", headers, p.text, [](std::string t) { return t; }, {});
            return;
        }
        auto message = rpc.params && rpc.params->isObject() ? rpc.params->find("message") : std::nullopt;
        if (!message || !message->isObject()) {
            answerJson(res, 200, json::errorReply(rpc.id, -32602, "`params.message` is required"));
            return;
        }
        std::set<std::string> kinds;
        if (auto parts = message->find("parts"); parts && parts->isArray())
            for (json::Value part : parts->items()) kinds.insert(partKind(part));
        std::string kind;
        for (const auto& k : kinds) kind += (kind.empty() ? "" : "+") + k;
        std::string label = route.a2a->label;
        if (auto meta = message->find("metadata"); meta && meta->isObject())
            if (auto l = meta->find("omega.label"); l && l->isString()) label = std::string(l->string());
        std::string messageText;
        json::appendValue(messageText, p, *message);
        Check check = guard.checkSend(caller(id), route.a2a->name, label, messageText.size(), kind);
        if (check.kind == Check::Kind::Pending) check = guard.awaitApproval(std::move(check));
        if (check.kind != Check::Kind::Allow) {
            answerJson(res, 200, Guard::denyReply(rpc.id, check));
            return;
        }
        const std::vector<std::string> redact = check.redact;
        auto filter = [&](std::string text) -> std::string {
            if (redact.empty()) return text;
            json::Parsed r;
            std::string err;
            if (!json::parse(std::move(text), r, err, limit)) return "";
            return Guard::redactValue(r, r.root(), redact);
        };
        relay(res, route, "POST", headers, p.text, filter, {});
    }

    // The agent card with its endpoint rewritten to the gate's, so that clients that read it keep talking through
    // the gate.
    void agentCard(const http::Request& req, http::Responder& res, const Route& route) {
        if (req.method != "GET") {
            res.send(405, {{"Allow", "GET"}}, "");
            return;
        }
        http::Url cardUrl = route.upstream;
        cardUrl.path = "/.well-known/agent-card.json";
        auto r = client.fetch(cardUrl, "GET", {{"Accept", std::string(kJson)}}, "");
        if (!r || r->head.status != 200) {
            answerJson(res, 502,
                       json::errorReply("null", json::kInternalError, "the agent's card could not be fetched"));
            return;
        }
        json::Parsed p;
        std::string error;
        if (!json::parse(std::move(r->body), p, error, guard.config().maxMessageBytes) || !p.root().isObject()) {
            answerJson(res, 502, json::errorReply("null", json::kInternalError, "the agent's card is not JSON"));
            return;
        }
        const std::string self = "http://" + host + route.a2a->path;
        // Every way the card offers to reach the agent leads through the gate: `url` and the JSON-RPC entries of
        // `additionalInterfaces` (v0.3) and `supportedInterfaces` (v1.0) point at the gate, other transports (gRPC,
        // HTTP+JSON), which the gate does not carry, are left out, and the authenticated extended card (which could
        // list them again) is not offered.
        const auto interfaces = [&](json::Value list) {
            std::string o = "[";
            for (json::Value i : list.items()) {
                if (!i.isObject() || !isJsonRpcInterface(i)) continue;
                if (o.size() > 1) o += ',';
                o += '{';
                bool f = true;
                for (json::Value m : i.items()) {
                    if (!f) o += ',';
                    f = false;
                    json::appendString(o, m.key());
                    o += ':';
                    if (m.key() == "url")
                        json::appendString(o, self);
                    else
                        json::appendValue(o, p, m);
                }
                o += '}';
            }
            return o + "]";
        };
        std::string out = "{";
        bool first = true;
        for (json::Value m : p.root().items()) {
            if (m.key() == "supportsAuthenticatedExtendedCard") continue;
            if (!first) out += ',';
            first = false;
            json::appendString(out, m.key());
            out += ':';
            if (m.key() == "url")
                json::appendString(out, self);
            else if (m.key() == "preferredTransport")
                out += "\"JSONRPC\"";
            else if ((m.key() == "additionalInterfaces" || m.key() == "supportedInterfaces") && m.isArray())
                out += interfaces(m);
            else if (m.key() == "capabilities" && m.isObject())
                json::appendValue(out, p, m,
                                  [](std::string_view key, json::Value) { return key == "extendedAgentCard"; });
            else
                json::appendValue(out, p, m);
        }
        out += '}';
        answerJson(res, 200, out);
    }
};

HttpGate::HttpGate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpGate::~HttpGate() {
    stop();
}

Result<std::unique_ptr<HttpGate>> HttpGate::start(Guard& guard, Diagnostics diagnostics) {
    auto impl = std::make_unique<Impl>(guard, std::move(diagnostics));
    const GateConfig& c = guard.config();
    for (const McpServer& s : c.servers) {
        auto url = http::Url::parse(s.upstream);
        if (!url) return bundle::Error{"server `" + s.name + "`: " + url.error()};
        impl->routes[s.path] = Impl::Route{&s, nullptr, *url, false};
    }
    for (const A2aAgent& a : c.agents) {
        auto url = http::Url::parse(a.upstream);
        if (!url) return bundle::Error{"agent `" + a.name + "`: " + url.error()};
        impl->routes[a.path] = Impl::Route{nullptr, &a, *url, false};
        impl->routes[a.path + "/.well-known/agent-card.json"] = Impl::Route{nullptr, &a, *url, true};
        impl->routes[a.path + "/.well-known/agent.json"] = Impl::Route{nullptr, &a, *url, true};
    }
    const auto colon = c.listen.rfind(':');
    if (colon == std::string::npos) return bundle::Error{"`gate.listen` must be HOST:PORT"};
    std::string host = c.listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    int port = -1;
    try {
        port = std::stoi(c.listen.substr(colon + 1));
    } catch (...) {
    }
    if (port < 0 || port > 65535) return bundle::Error{"`gate.listen` has no valid port: " + c.listen};
    http::Limits limits;
    limits.maxBodyBytes = c.maxMessageBytes + std::size_t{4096};
    Impl* raw = impl.get();
    auto server = http::Server::start(host, static_cast<std::uint16_t>(port), limits,
                                      [raw](const http::Request& req, http::Responder& res) { raw->handle(req, res); });
    if (!server) return bundle::Error{"cannot listen on " + c.listen + ": " + server.error()};
    impl->server = std::move(*server);
    impl->host =
        (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(impl->server->port());
    return std::unique_ptr<HttpGate>(new HttpGate(std::move(impl)));
}

std::string HttpGate::address() const {
    return impl_->host;
}

void HttpGate::stop() {
    if (!impl_) return;
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->done) return;
        impl_->done = true;
    }
    impl_->client.stop();  // ends relays of long-lived upstream streams, so that their handlers return
    if (impl_->server) impl_->server->stop();
    impl_->stopped.notify_all();
}

void HttpGate::wait() {
    std::unique_lock lock(impl_->mutex);
    impl_->stopped.wait(lock, [&] { return impl_->done; });
}

}  // namespace omega::gate
