// Reads the `gate:` section of omega-gate's configuration (Config.h) through omegad's configuration reader, so
// that both parts report every problem as FILE:LINE:COLUMN in one pass.
#include "omega/gate/Config.h"

#include "omega/gate/Json.h"
#include "omega/omegad/ConfigReader.h"

#include <fstream>
#include <set>

namespace omega::gate {
namespace {

using omegad::ConfigReader;
using omegad::yaml::Node;

constexpr std::int64_t kU32 = 0xFFFFFFFFll;

bool validName(std::string_view s) {
    if (s.empty() || s.size() > 256) return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
    return true;
}

bool validHash(std::string_view s) {
    std::size_t hex = 0;
    if (s.rfind("sha256:", 0) == 0)
        hex = 64;
    else if (s.rfind("sha384:", 0) == 0)
        hex = 96;
    else
        return false;
    const std::string_view digits = s.substr(7);
    return digits.size() == hex && digits.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// A scalar as the JSON value a request field gets: plain integers and booleans as such, everything else a string; a
// sequence as an array of strings.
std::optional<std::string> fieldValue(ConfigReader& r, const Node& v, const std::string& key) {
    if (v.isSequence()) {
        std::string out = "[";
        for (const Node* item : r.list(v, key)) {
            auto s = r.string(*item, key);
            if (!s) return std::nullopt;
            if (out.size() > 1) out += ',';
            json::appendString(out, *s);
        }
        return out + "]";
    }
    if (!v.isScalar()) {
        r.error(v.mark, "`" + key + "` must be a scalar or a sequence");
        return std::nullopt;
    }
    if (!v.quoted) {
        if (auto i = omegad::yaml::integerOf(v)) return std::to_string(*i);
        if (auto b = omegad::yaml::booleanOf(v)) return std::string(*b ? "true" : "false");
    }
    return json::quote(v.text);
}

void readFields(ConfigReader& r, const Node& v, std::vector<Field>& out) {
    if (!v.isMapping()) {
        r.error(v.mark, "`fields` must be a mapping of request fields to values (`request.purpose: treatment`)");
        return;
    }
    for (const auto& [key, value] : v.members) {
        const std::string& path = key.text;
        const auto dot = path.find('.');
        const std::string root = path.substr(0, dot);
        if (dot == std::string::npos || !validName(path.substr(dot + 1)) || (root != "request" && root != "message")) {
            r.error(key.mark, "`" + path +
                                  "` is not a field the gate can supply: use `request.NAME` or `message.NAME` (the "
                                  "gate sets `session.*` and `tool.*` itself)");
            continue;
        }
        if (auto json = fieldValue(r, value, path)) out.push_back({path, *json});
    }
}

std::string readSecret(ConfigReader& r, const Node& v, const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string text;
    if (in) std::getline(in, text);
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.pop_back();
    if (!in && text.empty()) r.error(v.mark, "cannot read the token file `" + path + "`");
    return text;
}

void readIdentity(ConfigReader& r, const Node& n, Identity& id, bool token) {
    std::map<std::string, ConfigReader::Handler> handlers{
        {"agent", [&](const Node& v) { id.agent = r.string(v, "agent").value_or(""); }},
        {"session", [&](const Node& v) { id.session = r.string(v, "session").value_or(""); }},
        {"fields", [&](const Node& v) { readFields(r, v, id.fields); }},
    };
    if (token) {
        handlers["token"] = [&](const Node& v) { id.token = r.string(v, "token").value_or(""); };
        handlers["token_file"] = [&](const Node& v) {
            if (auto p = r.path(v, "token_file")) id.token = readSecret(r, v, *p);
        };
    }
    r.members(n, token ? "a token" : "`gate`", handlers, {"agent"});
    if (token && n.isMapping() && !n.find("token") == !n.find("token_file"))
        r.error(n.mark, "a token needs exactly one of `token` and `token_file`");
    if (!id.agent.empty() && !validName(id.agent)) r.error(n.mark, "`agent` must be an agent name");
}

void readPath(ConfigReader& r, const Node& v, std::string& out) {
    out = r.string(v, "path").value_or("");
    if (!out.empty() && (out[0] != '/' || out.find_first_of(" ?#") != std::string::npos))
        r.error(v.mark, "`path` must start with `/` and hold no spaces, `?` or `#`");
}

void readUrl(ConfigReader& r, const Node& v, std::string& out) {
    out = r.string(v, "upstream").value_or("");
    if (!out.empty() && out.rfind("http://", 0) != 0)
        r.error(v.mark, "`upstream` must be an http:// URL (the gate speaks plain HTTP to servers beside it)");
}

void readGate(ConfigReader& r, const Node& n, GateConfig& g, bool stdio) {
    const Node* serverNode = nullptr;
    std::map<std::string, ConfigReader::Handler> handlers{
        {"agent", [&](const Node& v) { g.identity.agent = r.string(v, "agent").value_or(""); }},
        {"session", [&](const Node& v) { g.identity.session = r.string(v, "session").value_or(""); }},
        {"fields", [&](const Node& v) { readFields(r, v, g.identity.fields); }},
        {"server",
         [&](const Node& v) {
             serverNode = &v;
             g.servers.push_back({r.string(v, "server").value_or(""), "", ""});
         }},
        {"tokens",
         [&](const Node& v) {
             for (const Node* t : r.list(v, "tokens")) readIdentity(r, *t, g.tokens.emplace_back(), true);
         }},
        {"servers",
         [&](const Node& v) {
             for (const Node* s : r.list(v, "servers")) {
                 McpServer& m = g.servers.emplace_back();
                 r.members(*s, "a server",
                           {{"name", [&](const Node& x) { m.name = r.string(x, "name").value_or(""); }},
                            {"path", [&](const Node& x) { readPath(r, x, m.path); }},
                            {"upstream", [&](const Node& x) { readUrl(r, x, m.upstream); }}},
                           {"name", "upstream"});
                 if (m.path.empty() && !m.name.empty()) m.path = "/mcp/" + m.name;
             }
         }},
        {"agents",
         [&](const Node& v) {
             for (const Node* s : r.list(v, "agents")) {
                 A2aAgent& a = g.agents.emplace_back();
                 r.members(*s, "an agent",
                           {{"name", [&](const Node& x) { a.name = r.string(x, "name").value_or(""); }},
                            {"path", [&](const Node& x) { readPath(r, x, a.path); }},
                            {"upstream", [&](const Node& x) { readUrl(r, x, a.upstream); }},
                            {"label", [&](const Node& x) { a.label = r.string(x, "label").value_or(""); }}},
                           {"name", "upstream"});
                 if (a.path.empty() && !a.name.empty()) a.path = "/a2a/" + a.name;
             }
         }},
        {"listen", [&](const Node& v) { g.listen = r.string(v, "listen").value_or(""); }},
        {"pins",
         [&](const Node& v) {
             if (!v.isMapping()) {
                 r.error(v.mark, "`pins` must be a mapping of `server.tool` to `sha256:<hex>`");
                 return;
             }
             for (const auto& [key, value] : v.members) {
                 auto hash = r.string(value, key.text);
                 if (key.text.find('.') == std::string::npos)
                     r.error(key.mark, "a pin's key must be a tool as the policy names it: `server.tool`");
                 else if (hash && !validHash(*hash))
                     r.error(value.mark,
                             "a pin must be `sha256:` and 64 lowercase hex digits (`omega-gate pins` "
                             "prints them)");
                 else if (hash)  // by the policy's name: `ev.get-sum` and `ev.get_sum` are one tool
                     g.pins[key.text.substr(0, key.text.find('.') + 1) +
                            policyToolName(key.text.substr(key.text.find('.') + 1))] = *hash;
             }
         }},
        {"passthrough",
         [&](const Node& v) {
             for (const Node* m : r.list(v, "passthrough"))
                 if (auto s = r.string(*m, "passthrough")) {
                     if (*s == "tools/call" || *s == "tools/list")
                         r.error(m->mark, "`" + *s + "` is always checked; it cannot pass through");
                     else
                         g.passthrough.push_back(*s);
                 }
         }},
        {"approval_timeout_ms",
         [&](const Node& v) { r.integer(v, "approval_timeout_ms", g.approvalTimeoutMs, 1, 24 * 3600 * 1000); }},
        {"max_message_bytes",
         [&](const Node& v) { r.integer(v, "max_message_bytes", g.maxMessageBytes, 1024, 64 << 20); }},
        {"max_held_calls", [&](const Node& v) { r.integer(v, "max_held_calls", g.maxHeldCalls, 1, 4096); }},
        {"trust_first_seen", [&](const Node& v) { r.boolean(v, "trust_first_seen", g.trustFirstSeen); }},
    };
    r.members(n, "`gate`", handlers, {});
    if (!n.isMapping()) return;
    (void)kU32;

    std::set<std::string> names, paths;
    for (const McpServer& s : g.servers) {
        if (!s.name.empty() && !validName(s.name))
            r.error(n.mark, "server `" + s.name + "`: a server name is letters, digits, `_` and `-`");
        if (!names.insert(s.name).second) r.error(n.mark, "server `" + s.name + "` is listed twice");
        if (!s.path.empty() && !paths.insert(s.path).second) r.error(n.mark, "path `" + s.path + "` is used twice");
    }
    for (const A2aAgent& a : g.agents) {
        if (!a.name.empty() && !validName(a.name)) r.error(n.mark, "agent `" + a.name + "`: not an agent name");
        if (!a.path.empty() && !paths.insert(a.path).second) r.error(n.mark, "path `" + a.path + "` is used twice");
    }
    std::set<std::string> tokens;
    for (const Identity& t : g.tokens)
        if (!t.token.empty() && !tokens.insert(t.token).second) r.error(n.mark, "a token is listed twice");

    if (stdio) {
        if (!serverNode || g.servers.size() != 1)
            r.error(n.mark, "over stdio the gate needs `server`: the name the policy gives the wrapped server's tools");
        if (!g.listen.empty() || !g.tokens.empty() || !g.agents.empty())
            r.error(n.mark, "`listen`, `tokens` and `agents` are for HTTP; over stdio the gate wraps one server");
        if (g.identity.agent.empty()) r.error(n.mark, "over stdio the gate needs `agent`: who the client is");
    } else {
        if (serverNode) r.error(serverNode->mark, "`server` is for stdio; over HTTP list `servers` with upstreams");
        if (g.listen.empty()) r.error(n.mark, "over HTTP the gate needs `listen` (`127.0.0.1:8931`)");
        if (g.servers.empty() && g.agents.empty()) r.error(n.mark, "over HTTP the gate needs `servers` or `agents`");
        if (g.tokens.empty() && g.identity.agent.empty())
            r.error(n.mark, "the gate needs `agent` (one identity) or `tokens` (an identity per bearer token)");
    }
}

}  // namespace

Result<Config> parseConfig(std::string_view text, const std::string& name, const std::string& baseDir, bool stdio) {
    GateConfig gate;
    bool seen = false;
    const omegad::ConfigExtension ext{"gate", true, [&](ConfigReader& r, const Node& n) {
                                          seen = true;
                                          readGate(r, n, gate, stdio);
                                      }};
    auto c = omegad::parseConfig(text, name, baseDir, std::span(&ext, 1));
    if (!c) return bundle::Error{c.error()};
    if (!seen) return bundle::Error{name + ": the configuration needs `gate`"};
    return Config{std::move(*c), std::move(gate)};
}

Result<Config> loadConfig(const std::string& path, bool stdio) {
    GateConfig gate;
    bool seen = false;
    const omegad::ConfigExtension ext{"gate", true, [&](ConfigReader& r, const Node& n) {
                                          seen = true;
                                          readGate(r, n, gate, stdio);
                                      }};
    auto c = omegad::loadConfig(path, std::span(&ext, 1));
    if (!c) return bundle::Error{c.error()};
    if (!seen) return bundle::Error{path + ": the configuration needs `gate`"};
    return Config{std::move(*c), std::move(gate)};
}

}  // namespace omega::gate
