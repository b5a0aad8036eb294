// Reads omegad's configuration (Config.h) from a YAML tree: every key known, every value typed and in range, every
// problem reported with its place (all of them, not only the first).
#include "omega/omegad/Config.h"

#include "omega/omegad/ConfigReader.h"
#include "omega/omegad/Yaml.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

namespace omega::omegad {

bool Peer::mayDecideFor(std::string_view agent) const {
    if (!agents) return true;
    return std::find(agents->begin(), agents->end(), agent) != agents->end();
}

bool Peer::mayAnswerAs(std::string_view role) const {
    if (!roles) return true;
    return std::find(roles->begin(), roles->end(), role) != roles->end();
}

const Peer* Config::match(std::uint32_t uid, std::uint32_t gid) const {
    for (const Peer& p : peers) {
        if (p.uid && *p.uid != uid) continue;
        if (p.gid && *p.gid != gid) continue;
        return &p;
    }
    return nullptr;
}

namespace {

using yaml::Node;
using Reader = ConfigReader;

constexpr std::int64_t kMsMax = std::int64_t{1000} * 86400 * 365;  // a year
constexpr std::int64_t kU32 = std::numeric_limits<std::uint32_t>::max();

void readPeer(Reader& r, const Node& n, std::vector<Peer>& peers) {
    Peer p;
    bool sawAllow = false;
    r.members(n, "a peer",
              {
                  {"uid",
                   [&](const Node& v) {
                       p.uid.emplace(0);
                       r.integer(v, "uid", *p.uid, 0, kU32 - 1);
                   }},
                  {"gid",
                   [&](const Node& v) {
                       p.gid.emplace(0);
                       r.integer(v, "gid", *p.gid, 0, kU32 - 1);
                   }},
                  {"allow",
                   [&](const Node& v) {
                       sawAllow = true;
                       for (const Node* op : r.list(v, "allow")) {
                           const std::string t = op->isScalar() ? op->text : "";
                           if (t == "decide")
                               p.operations |= kDecide;
                           else if (t == "approve")
                               p.operations |= kApprove;
                           else if (t == "reload")
                               p.operations |= kReload;
                           else if (t == "status")
                               p.operations |= kStatus;
                           else if (t == "attest")
                               p.operations |= kAttest;
                           else
                               r.error(op->mark, "unknown operation `" + t +
                                                     "` (known: `decide`, `approve`, `reload`, `status`, `attest`)");
                       }
                   }},
                  {"agents",
                   [&](const Node& v) {
                       p.agents.emplace();
                       for (const Node* a : r.list(v, "agents"))
                           if (auto s = r.string(*a, "agents")) p.agents->push_back(*s);
                       if (v.isSequence() && v.items.empty())
                           r.error(v.mark,
                                   "`agents` is empty: the peer could decide for no agent (leave "
                                   "`decide` out of `allow` instead)");
                   }},
                  {"roles",
                   [&](const Node& v) {
                       p.roles.emplace();
                       for (const Node* a : r.list(v, "roles"))
                           if (auto s = r.string(*a, "roles")) p.roles->push_back(*s);
                       if (v.isSequence() && v.items.empty())
                           r.error(v.mark,
                                   "`roles` is empty: the peer could answer as no role (leave `approve` out "
                                   "of `allow` instead)");
                   }},
              },
              {"allow"});
    if (n.isMapping() && !p.uid && !p.gid) r.error(n.mark, "a peer needs `uid`, `gid` or both");
    if (sawAllow && p.operations == 0 && n.find("allow")->isSequence())
        r.error(n.find("allow")->mark, "`allow` is empty");
    peers.push_back(std::move(p));
}

}  // namespace

Result<Config> parseConfig(std::string_view text, const std::string& name, const std::string& baseDir,
                           std::span<const ConfigExtension> extensions) {
    auto doc = yaml::parse(text);
    if (!doc) return Error{name + ":" + doc.error()};
    Reader r(name, baseDir);
    Config c;
    const Node& root = *doc;
    if (!root.isMapping()) return Error{name + ":" + yaml::where(root.mark) + ": the configuration must be a mapping"};

    std::map<std::string, Reader::Handler> handlers{
        {"bundle", [&](const Node& v) { c.bundle = r.path(v, "bundle").value_or(""); }},
        {"trusted_keys",
         [&](const Node& v) {
             for (const Node* k : r.list(v, "trusted_keys"))
                 if (auto p = r.path(*k, "trusted_keys")) c.trustedKeys.push_back(*p);
             if (v.isSequence() && v.items.empty())
                 r.error(v.mark, "`trusted_keys` is empty: omegad loads only signed bundles");
         }},
        {"socket",
         [&](const Node& v) {
             r.members(v, "`socket`",
                       {{"path", [&](const Node& p) { c.socketPath = r.path(p, "path").value_or(""); }},
                        {"mode",
                         [&](const Node& m) {
                             // Octal, as chmod writes it; read from the text so that 0660 is not decimal 660.
                             const std::string t = m.isScalar() ? m.text : "";
                             const bool digits =
                                 !t.empty() && t.size() <= 4 && t.find_first_not_of("01234567") == std::string::npos;
                             if (!digits || std::stoul(t, nullptr, 8) > 0777) {
                                 r.error(m.mark, "`mode` must be octal permission bits such as 0660");
                                 return;
                             }
                             c.socketMode = static_cast<std::uint32_t>(std::stoul(t, nullptr, 8));
                         }}},
                       {"path"});
             if (c.socketPath.size() >= 108)  // sun_path, with its terminating NUL
                 r.error(v.mark, "`socket.path` is longer than 107 bytes (the limit of a Unix socket address)");
         }},
        {"log",
         [&](const Node& v) {
             LogConfig& l = c.log.emplace();
             r.members(
                 v, "`log`",
                 {{"path", [&](const Node& p) { l.path = r.path(p, "path").value_or(""); }},
                  {"key", [&](const Node& p) { l.key = r.path(p, "key").value_or(""); }},
                  {"durable", [&](const Node& p) { r.boolean(p, "durable", l.durable); }},
                  {"rotate_bytes",
                   [&](const Node& p) {
                       r.integer(p, "rotate_bytes", l.rotateBytes, 4096, std::numeric_limits<std::int64_t>::max());
                   }},
                  {"checkpoint_records",
                   [&](const Node& p) { r.integer(p, "checkpoint_records", l.checkpointRecords, 0, kU32); }},
                  {"checkpoint_ms", [&](const Node& p) { r.integer(p, "checkpoint_ms", l.checkpointMs, 0, kU32); }}},
                 {"path", "key"});
         }},
        {"attestation",
         [&](const Node& v) {
             AttestConfig& a = c.attestation.emplace();
             const Node* providerNode = nullptr;
             r.members(v, "`attestation`",
                       {{"provider",
                         [&](const Node& p) {
                             providerNode = &p;
                             a.provider = r.string(p, "provider").value_or("");
                             if (a.provider != "software" && a.provider != "configfs-tsm" &&
                                 a.provider != "sev-guest" && a.provider != "auto" && !a.provider.empty())
                                 r.error(p.mark, "unknown provider `" + a.provider +
                                                     "` (known: `auto`, `configfs-tsm`, `sev-guest`, `software`)");
                         }},
                        {"authority", [&](const Node& p) { a.authority = r.path(p, "authority").value_or(""); }},
                        {"vmpl", [&](const Node& p) { r.integer(p, "vmpl", a.vmpl, 0, 3); }}},
                       {"provider"});
             if (providerNode && a.provider == "software" && a.authority.empty())
                 r.error(providerNode->mark,
                         "the software provider needs `authority`: the directory of its certificate chain");
             if (providerNode && a.provider != "software" && !a.authority.empty())
                 r.error(providerNode->mark, "`authority` is for the software provider only");
         }},
        {"limits",
         [&](const Node& v) {
             monitor::Limits& m = c.limits;
             ServeLimits& s = c.serve;
             auto ns = [&](const char* key, std::int64_t& out) {
                 return [&, key](const Node& p) {
                     std::int64_t ms = 0;
                     r.integer(p, key, ms, 1, kMsMax);
                     if (ms) out = ms * 1'000'000;
                 };
             };
             auto count = [&](const char* key, auto& out, std::int64_t lo, std::int64_t hi) {
                 return [&, key, lo, hi](const Node& p) { r.integer(p, key, out, lo, hi); };
             };
             r.members(v, "`limits`",
                       {
                           {"max_rate_events", count("max_rate_events", m.maxRateEvents, 1, 1ll << 40)},
                           {"max_sessions", count("max_sessions", m.maxSessions, 1, 1ll << 40)},
                           {"session_idle_ms", ns("session_idle_ms", m.sessionIdleNs)},
                           {"max_pending", count("max_pending", m.maxPending, 1, 1ll << 40)},
                           {"approval_ttl_ms", ns("approval_ttl_ms", m.approvalTtlNs)},
                           {"max_bundle_bytes", count("max_bundle_bytes", m.maxBundleBytes, 1024, 1ll << 34)},
                           {"max_connections", count("max_connections", s.maxConnections, 1, 4096)},
                           {"max_frame", count("max_frame", s.maxFrame, 1024, 64ll << 20)},
                           {"idle_timeout_ms", count("idle_timeout_ms", s.idleTimeoutMs, 1, kU32)},
                           {"frame_timeout_ms", count("frame_timeout_ms", s.frameTimeoutMs, 1, kU32)},
                           {"write_timeout_ms", count("write_timeout_ms", s.writeTimeoutMs, 1, kU32)},
                           {"max_wait_ms", count("max_wait_ms", s.maxWaitMs, 0, kU32)},
                       },
                       {});
         }},
        {"peers",
         [&](const Node& v) {
             for (const Node* p : r.list(v, "peers")) readPeer(r, *p, c.peers);
             if (v.isSequence() && v.items.empty()) r.error(v.mark, "`peers` is empty: no process could connect");
         }},
    };
    std::vector<const char*> required{"bundle", "trusted_keys", "socket", "log", "peers"};
    for (const ConfigExtension& e : extensions) {
        handlers[e.key] = [&r, &e](const Node& v) { e.read(r, v); };
        if (e.required) required.push_back(e.key.c_str());
    }
    r.members(root, "the configuration", handlers, required);
    if (r.failed()) return Error{r.errors()};
    return c;
}

Result<Config> loadConfig(const std::string& path, std::span<const ConfigExtension> extensions) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{"cannot open the configuration `" + path + "`"};
    std::string text(yaml::kMaxBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) return Error{"cannot read the configuration `" + path + "`"};
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > yaml::kMaxBytes)
        return Error{"the configuration `" + path + "` is larger than " + std::to_string(yaml::kMaxBytes) + " bytes"};
    // Relative paths in the file are taken from its directory, made absolute so a later chdir changes nothing.
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
    const std::string dir = ec ? "." : absolute.parent_path().string();
    return parseConfig(text, path, dir, extensions);
}

}  // namespace omega::omegad
