// The gate's policy side (Guard.h): declared tools from the bundle, observed tool surfaces, requests to the monitor,
// tool-list filtering and result redaction.
#include "omega/gate/Guard.h"

#include "omega/bundle/Bundle.h"
#include "omega/policy/Image.h"
#include "omega/policy/Json.h"

#include <openssl/sha.h>

#include <algorithm>

namespace omega::gate {
namespace {

constexpr std::string_view kHashedMembers[] = {"name",        "title",        "description",
                                               "inputSchema", "outputSchema", "annotations"};

bool contains(const std::vector<std::string>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// A tool's output schema, relaxed so that a redacted result still conforms: fields a `redact` obligation may remove
// are taken out of every `required` list (clients such as the MCP TypeScript SDK validate structuredContent against
// the schema they listed, and would reject a result the gate has redacted).
void appendRelaxed(std::string& out, const json::Parsed& p, json::Value v,
                   const std::set<std::string, std::less<>>& redactable) {
    if (v.isArray()) {
        out += '[';
        bool first = true;
        for (json::Value item : v.items()) {
            if (!first) out += ',';
            first = false;
            appendRelaxed(out, p, item, redactable);
        }
        out += ']';
        return;
    }
    if (!v.isObject()) {
        json::appendValue(out, p, v);
        return;
    }
    out += '{';
    bool first = true;
    for (json::Value m : v.items()) {
        if (!first) out += ',';
        first = false;
        json::appendString(out, m.key());
        out += ':';
        bool names = m.key() == "required" && m.isArray();
        for (json::Value x : m.items()) names = names && x.isString();
        if (!names) {
            appendRelaxed(out, p, m, redactable);
            continue;
        }
        out += '[';
        bool firstName = true;
        for (json::Value name : m.items()) {
            if (redactable.count(name.string())) continue;
            if (!firstName) out += ',';
            firstName = false;
            json::appendString(out, name.string());
        }
        out += ']';
    }
    out += '}';
}

void appendTool(std::string& out, const json::Parsed& p, json::Value tool,
                const std::set<std::string, std::less<>>& redactable) {
    if (redactable.empty()) {
        json::appendValue(out, p, tool);
        return;
    }
    out += '{';
    bool first = true;
    for (json::Value m : tool.items()) {
        if (!first) out += ',';
        first = false;
        json::appendString(out, m.key());
        out += ':';
        if (m.key() == "outputSchema")
            appendRelaxed(out, p, m, redactable);
        else
            json::appendValue(out, p, m);
    }
    out += '}';
}

}  // namespace

std::string toolHash(const json::Parsed& p, json::Value tool) {
    std::vector<json::Value> members;
    for (json::Value m : tool.items())
        if (std::find(std::begin(kHashedMembers), std::end(kHashedMembers), m.key()) != std::end(kHashedMembers))
            members.push_back(m);
    std::sort(members.begin(), members.end(), [](json::Value a, json::Value b) { return a.key() < b.key(); });
    std::string text = "{";
    for (std::size_t i = 0; i < members.size(); ++i) {
        if (i) text += ',';
        json::appendString(text, members[i].key());
        text += ':';
        json::appendCanonical(text, p, members[i]);
    }
    text += '}';
    std::uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
    return "sha256:" + bundle::toHex(digest);
}

Guard::Guard(monitor::Monitor& monitor, const GateConfig& config) : monitor_(monitor), config_(config) {}

std::shared_ptr<const Guard::Tables> Guard::tables() {
    const std::uint64_t generation = monitor_.generation();
    {
        std::lock_guard lock(mutex_);
        if (tables_ && tables_->generation == generation) return tables_;
    }
    auto t = std::make_shared<Tables>();
    t->generation = generation;
    if (auto image = monitor_.image()) {
        for (const policy::Tool& tool : image->tools) {
            Declared d;
            d.name = image->text(tool.name);
            d.provider = image->text(tool.provider);
            if (tool.pin != policy::kNone) d.pin = image->text(tool.pin);
            if (tool.callers == policy::kNone) {
                d.anyCaller = true;
            } else {
                for (std::uint64_t id : image->sets[tool.callers])
                    d.callers.insert(image->text(static_cast<std::uint32_t>(id)));
            }
            const std::string shortName = d.name.substr(d.provider.size() + 1);
            t->byShort[shortName].push_back(d.name);
            t->tools.emplace(d.name, std::move(d));
        }
        for (const policy::Rule& rule : image->rules)
            for (std::uint32_t field : rule.redact) t->redactable.insert(image->text(field));
    }
    std::lock_guard lock(mutex_);
    tables_ = t;
    return t;
}

Guard::Resolved Guard::resolve(const Tables& t, const std::string& server, std::string_view mcpName) const {
    Resolved r;
    const std::string tool = policyToolName(mcpName);
    r.target = server + "." + tool;
    if (auto it = t.tools.find(r.target); it != t.tools.end()) {
        r.declared = &it->second;
        return r;
    }
    if (auto it = t.byShort.find(tool); it != t.byShort.end() && !it->second.empty()) {
        // Another server's tool of this name: offering it here is shadowing (MCPSecBench's tool shadowing).
        r.target = it->second.front();
        r.declared = &t.tools.find(r.target)->second;
        r.shadowing = true;
    }
    return r;
}

std::string Guard::expectedHash(const Resolved& r) const {
    if (r.declared && !r.declared->pin.empty()) return r.declared->pin;
    if (auto it = config_.pins.find(r.target); it != config_.pins.end()) return it->second;
    return "";
}

bool Guard::observe(const std::string& server, std::string_view tool, const std::string& hash, const Resolved& r) {
    std::string first;
    {
        std::lock_guard lock(mutex_);
        Seen& s = seen_[server][std::string(tool)];
        if (s.firstHash.empty()) s.firstHash = hash;
        s.hash = hash;
        s.current = true;
        first = s.firstHash;
    }
    const std::string expected = expectedHash(r);
    if (!expected.empty()) return hash != expected;
    return config_.trustFirstSeen && hash != first;
}

void Guard::finding(const std::string& key, const std::string& what) {
    {
        std::lock_guard lock(mutex_);
        if (!findings_.insert(key).second) return;
    }
    std::string event = "{\"event\":\"gate\",\"finding\":";
    json::appendString(event, what);
    event += '}';
    (void)monitor_.record(monitor::LogEntry::Kind::Event, "", event);
}

std::optional<std::string> Guard::observeToolList(const std::string& server, const json::Parsed& p,
                                                  json::Value result) {
    auto t = tables();
    if (auto tools = result.find("tools"); tools && tools->isArray()) {
        for (json::Value tool : tools->items()) {
            auto name = tool.find("name");
            if (!tool.isObject() || !name || !name->isString()) continue;
            const Resolved r = resolve(*t, server, name->string());
            observe(server, name->string(), toolHash(p, tool), r);
        }
    }
    if (auto next = result.find("nextCursor"); next && next->isString()) return std::string(next->string());
    return std::nullopt;
}

std::string Guard::filterToolList(const std::string& server, const Caller& caller, const json::Parsed& p,
                                  json::Value result) {
    auto t = tables();
    std::string out = "{";
    bool firstMember = true;
    for (json::Value member : result.items()) {
        if (!firstMember) out += ',';
        firstMember = false;
        json::appendString(out, member.key());
        out += ':';
        if (member.key() != "tools" || !member.isArray()) {
            json::appendValue(out, p, member);
            continue;
        }
        out += '[';
        bool firstTool = true;
        for (json::Value tool : member.items()) {
            auto name = tool.find("name");
            if (!tool.isObject() || !name || !name->isString()) continue;  // not a tool: nobody may call it
            const std::string toolName(name->string());
            const std::string hash = toolHash(p, tool);
            const Resolved r = resolve(*t, server, toolName);
            const bool changed = observe(server, toolName, hash, r);
            const std::string where = "server `" + server + "` tool `" + toolName + "`";
            if (!r.declared) {
                finding("undeclared " + server + "." + toolName,
                        where + " is not declared in the policy: hidden, and calls are denied");
                continue;
            }
            if (r.shadowing) {
                finding("shadow " + server + "." + toolName + " " + hash, where + " shadows `" + r.target +
                                                                              "` of server `" + r.declared->provider +
                                                                              "`: hidden, and calls are denied");
                continue;
            }
            if (changed) {
                const std::string expected = expectedHash(r);
                finding("changed " + r.target + " " + hash, where + " changed its description or schema (" + hash +
                                                                ", expected " +
                                                                (expected.empty() ? "the first one seen" : expected) +
                                                                "): a rug pull; hidden, and calls are denied");
                continue;
            }
            if (!r.declared->anyCaller && !r.declared->callers.count(caller.agent)) continue;
            if (!firstTool) out += ',';
            firstTool = false;
            appendTool(out, p, tool, t->redactable);
        }
        out += ']';
    }
    return out + "}";
}

void Guard::invalidate(const std::string& server) {
    std::lock_guard lock(mutex_);
    for (auto& [tool, s] : seen_[server]) s.current = false;
}

std::string Guard::requestFields(const Caller& caller, std::string_view root) const {
    std::string out;
    if (!caller.fields) return out;
    for (const Field& f : *caller.fields) {
        if (f.path.compare(0, root.size() + 1, std::string(root) + ".") != 0) continue;
        if (!out.empty()) out += ',';
        json::appendString(out, f.path.substr(root.size() + 1));
        out += ':';
        out += f.json;
    }
    return out;
}

Check Guard::decide(std::string request, std::string target) {
    Check c;
    c.target = std::move(target);
    c.decision = monitor_.decide(request);
    settle(c);
    return c;
}

void Guard::settle(Check& c) {
    switch (c.decision.verdict) {
        case monitor::Verdict::Allow:
            c.kind = Check::Kind::Allow;
            c.redact = c.decision.redact;
            break;
        case monitor::Verdict::Pending: c.kind = Check::Kind::Pending; break;
        case monitor::Verdict::Deny:
            c.kind = Check::Kind::Deny;
            c.message = "denied by policy: " + (c.decision.error.empty() ? c.decision.reason : c.decision.error);
            break;
    }
}

void Guard::gateDeny(Check& c, const std::string& request, std::string message) {
    // The monitor's own verdict stays in the log; the gate's denial is recorded after it with the same request.
    c.kind = Check::Kind::Deny;
    c.message = std::move(message);
    std::string decision = "{\"decision\":\"deny\",\"reason\":";
    json::appendString(decision, c.message);
    decision += ",\"by\":\"omega-gate\",\"monitor_log_seq\":" + std::to_string(c.decision.logSeq) + "}";
    auto seq = monitor_.record(monitor::LogEntry::Kind::Decision, request, decision);
    c.decision.verdict = monitor::Verdict::Deny;
    c.decision.reason = c.message;
    c.decision.logSeq = seq ? *seq : 0;
    c.redact.clear();
}

namespace {

void setValue(monitor::Builder& b, std::uint32_t slot, const policy::Value& v) {
    using Kind = policy::Value::Kind;
    switch (v.kind) {
        case Kind::Bool:
        case Kind::Int: b.setInt(slot, v.number); break;
        case Kind::String:
        case Kind::Hash: b.setString(slot, v.text); break;
        case Kind::Label: b.setLabel(slot, v.text); break;
        case Kind::StringSet:
        case Kind::LabelSet: {
            std::vector<std::string_view> items(v.items.begin(), v.items.end());
            b.setStringSet(slot, items);
            break;
        }
    }
}

}  // namespace

std::shared_ptr<const Guard::TypedFields> Guard::typedFields(const std::vector<Field>* fields,
                                                             const monitor::Builder& b) {
    {
        std::lock_guard lock(mutex_);
        if (auto it = typed_.find(fields); it != typed_.end() && it->second->generation == b.generation())
            return it->second;
    }
    auto t = std::make_shared<TypedFields>();
    t->generation = b.generation();
    static const std::vector<Field> kNoFields;
    for (const Field& f : fields ? *fields : kNoFields) {
        t->bytes += f.path.size() + f.json.size() + 8;
        if (f.path.compare(0, 8, "request.") != 0 || !t->buildable) continue;
        const schema::Field* def = schema::find("request", std::string_view(f.path).substr(8));
        const std::uint32_t slot = b.field(f.path);
        json::Parsed p;
        policy::Value value;
        std::string error;
        t->buildable = def && slot != policy::kNone && (def->actions & schema::bit(schema::Action::Tool)) &&
                       json::parse(f.json, p, error, f.json.size() + 1) &&
                       policy::decodeValue(p.root(), def->type, *b.image(), f.path, value, error);
        if (t->buildable) t->values.emplace_back(slot, std::move(value));
    }
    std::lock_guard lock(mutex_);
    typed_[fields] = t;
    return t;
}

bool Guard::decideBuilt(const std::string& server, const Caller& caller, const std::string& target,
                        std::optional<json::Value> arguments, std::size_t messageBytes, Check& out) {
    if (arguments && !arguments->isObject() && !arguments->isNull()) return false;
    static const std::uint32_t kServerSlot = monitor::Builder().field("tool.server");
    static const std::uint32_t kChangedSlot = monitor::Builder().field("tool.description_changed");
    std::unique_ptr<monitor::Builder> b;
    {
        std::lock_guard lock(buildersMutex_);
        if (!builders_.empty()) {
            b = std::move(builders_.back());
            builders_.pop_back();
        }
    }
    if (!b) b = std::make_unique<monitor::Builder>();
    const bool decided = [&] {
        if ((!b->bound() || b->generation() != monitor_.generation()) && !monitor_.rebind(*b)) return false;
        const auto fields = typedFields(caller.fields, *b);
        // The JSON path refuses a request text over the decoder's document limit. That text holds the arguments
        // (never longer than the client wrote them) and the fields; when the sum could reach the limit, the text
        // decides.
        if (!fields->buildable || messageBytes + caller.session.size() + server.size() + fields->bytes + 256 >
                                      policy::RequestLimits{}.maxBytes)
            return false;
        const policy::Image& image = *b->image();
        const std::uint32_t tool = b->tool(target), agent = b->agent(caller.agent);
        if (tool == policy::kNone || agent == policy::kNone) return false;
        std::vector<std::pair<std::string, policy::Value>> args;
        std::string error;
        const json::Value* given = arguments && arguments->isObject() ? &*arguments : nullptr;
        if (!policy::decodeArgs(given, image.tools[tool], image, args, error)) return false;
        if (!b->reset(schema::Action::Tool, tool, agent)) return false;
        for (const auto& [name, value] : args) setValue(*b, b->param(tool, name), value);
        b->setSession(caller.session);
        b->setString(kServerSlot, server);
        b->setInt(kChangedSlot, 0);
        for (const auto& [slot, value] : fields->values) setValue(*b, slot, value);
        if (b->generation() != monitor_.generation()) return false;  // reloaded meanwhile: decide the text instead
        monitor_.decide(*b, out.decision);
        built_.fetch_add(1, std::memory_order_relaxed);
        return true;
    }();
    std::lock_guard lock(buildersMutex_);
    builders_.push_back(std::move(b));
    return decided;
}

Check Guard::checkCall(const std::string& server, const Caller& caller, std::string_view tool, const json::Parsed& p,
                       std::optional<json::Value> arguments, bool afterList) {
    auto t = tables();
    const Resolved r = resolve(*t, server, tool);
    bool changed = false, unlisted = false;
    if (r.declared && !r.shadowing) {
        const std::string expected = expectedHash(r);
        std::lock_guard lock(mutex_);
        auto s = seen_.find(server);
        const Seen* seen = nullptr;
        if (s != seen_.end())
            if (auto it = s->second.find(tool); it != s->second.end() && it->second.current) seen = &it->second;
        if (!seen && !afterList) {
            Check c;
            c.kind = Check::Kind::NeedToolList;
            c.target = r.target;
            return c;
        }
        unlisted = !seen;
        if (seen)
            changed =
                expected.empty() ? (config_.trustFirstSeen && seen->hash != seen->firstHash) : seen->hash != expected;
    }

    if (r.declared && !r.shadowing && !unlisted && !changed) {
        Check c;
        c.target = r.target;
        if (decideBuilt(server, caller, r.target, arguments, p.text.size(), c)) {
            settle(c);
            return c;
        }
    }

    std::string request = "{\"action\":\"tool\",\"target\":";
    json::appendString(request, r.target);
    request += ",\"agent\":";
    json::appendString(request, caller.agent);
    request += ",\"args\":";
    if (arguments && arguments->isObject())
        json::appendValue(request, p, *arguments);
    else if (arguments && !arguments->isNull())
        request += "null";  // not an object: the decoder denies it with a clear error
    else
        request += "{}";
    request += ",\"session\":{\"id\":";
    json::appendString(request, caller.session);
    request += "},\"tool\":{\"server\":";
    json::appendString(request, server);
    request += ",\"description_changed\":";
    request += changed ? "true" : "false";
    request += '}';
    if (std::string fields = requestFields(caller, "request"); !fields.empty())
        request += ",\"request\":{" + fields + "}";
    request += '}';

    Check c = decide(request, r.target);
    if (r.shadowing)
        gateDeny(c, request,
                 "denied by the gate: server `" + server + "` offers `" + std::string(tool) +
                     "`, which the policy gives to `" + r.target + "` (tool shadowing)");
    else if (unlisted)
        gateDeny(c, request, "denied by the gate: server `" + server + "` does not list `" + std::string(tool) + "`");
    else if (changed)
        gateDeny(c, request,
                 "denied by the gate: the description or schema of `" + r.target +
                     "` changed since it was pinned or first seen (rug pull)");
    return c;
}

Check Guard::checkSend(const Caller& caller, const std::string& recipient, std::string_view label, std::uint64_t size,
                       std::string_view kind) {
    std::string request = "{\"action\":\"send\",\"agent\":";
    json::appendString(request, caller.agent);
    request += ",\"recipient\":";
    json::appendString(request, recipient);
    request += ",\"session\":{\"id\":";
    json::appendString(request, caller.session);
    request += "},\"message\":{\"size\":" + std::to_string(size) + ",\"kind\":";
    json::appendString(request, kind);
    if (!label.empty()) {
        request += ",\"label\":";
        json::appendString(request, label);
    }
    if (std::string fields = requestFields(caller, "message"); !fields.empty()) request += "," + fields;
    request += '}';
    if (std::string fields = requestFields(caller, "request"); !fields.empty())
        request += ",\"request\":{" + fields + "}";
    request += '}';
    return decide(request, recipient);
}

Check Guard::awaitApproval(Check pending) {
    const monitor::Approval state =
        monitor_.wait(pending.decision.pendingId, std::chrono::milliseconds(config_.approvalTimeoutMs));
    if (state == monitor::Approval::Approved) {
        pending.kind = Check::Kind::Allow;
        pending.redact = pending.decision.redact;
        return pending;
    }
    pending.kind = Check::Kind::Deny;
    pending.message = state == monitor::Approval::Pending
                          ? "approval timed out after " + std::to_string(config_.approvalTimeoutMs) + " ms"
                          : std::string("approval ") + monitor::approvalName(state);
    return pending;
}

std::string Guard::redactValue(const json::Parsed& p, json::Value v, const std::vector<std::string>& fields) {
    std::string out;
    json::appendValue(out, p, v, [&](std::string_view key, json::Value) { return contains(fields, key); });
    return out;
}

namespace {

// A text that may hold JSON: redacted when it parses, withheld when it does not.
void redactText(std::string& out, std::string_view text, const std::vector<std::string>& fields) {
    json::Parsed inner;
    std::string error;
    if (json::parse(std::string(text), inner, error, text.size() + 1) &&
        (inner.root().isObject() || inner.root().isArray())) {
        json::appendString(out, Guard::redactValue(inner, inner.root(), fields));
        return;
    }
    std::string list;
    for (const auto& f : fields) list += (list.empty() ? "" : ", ") + f;
    json::appendString(out, "[withheld by omega-gate: the policy requires the fields " + list +
                                " removed, and this text is not JSON]");
}

void redactContentItem(std::string& out, const json::Parsed& p, json::Value item,
                       const std::vector<std::string>& fields) {
    auto type = item.find("type");
    const std::string_view kind = type && type->isString() ? type->string() : "";
    out += '{';
    bool first = true;
    for (json::Value m : item.items()) {
        if (!first) out += ',';
        first = false;
        json::appendString(out, m.key());
        out += ':';
        if (kind == "text" && m.key() == "text" && m.isString()) {
            redactText(out, m.string(), fields);
        } else if (kind == "resource" && m.key() == "resource" && m.isObject()) {
            out += '{';
            bool f2 = true;
            for (json::Value r : m.items()) {
                if (r.key() == "blob") continue;  // bytes cannot be searched for fields: left out
                if (!f2) out += ',';
                f2 = false;
                json::appendString(out, r.key());
                out += ':';
                if (r.key() == "text" && r.isString())
                    redactText(out, r.string(), fields);
                else
                    json::appendValue(out, p, r);
            }
            out += '}';
        } else {
            out += Guard::redactValue(p, m, fields);
        }
    }
    out += '}';
}

}  // namespace

std::string Guard::redactResult(const json::Parsed& p, json::Value result, const std::vector<std::string>& fields) {
    if (fields.empty() || !result.isObject()) return redactValue(p, result, {});
    std::string out = "{";
    bool first = true;
    for (json::Value m : result.items()) {
        if (!first) out += ',';
        first = false;
        json::appendString(out, m.key());
        out += ':';
        if (m.key() == "content" && m.isArray()) {
            out += '[';
            bool f2 = true;
            for (json::Value item : m.items()) {
                if (!f2) out += ',';
                f2 = false;
                if (item.isObject())
                    redactContentItem(out, p, item, fields);
                else
                    out += redactValue(p, item, fields);
            }
            out += ']';
        } else {
            out += redactValue(p, m, fields);
        }
    }
    return out + "}";
}

std::string Guard::denyReply(std::string_view id, const Check& check) {
    const bool approval = check.decision.verdict == monitor::Verdict::Pending;
    return json::errorReply(id, approval ? json::kApprovalRefused : json::kDenied, check.message,
                            check.decision.json());
}

}  // namespace omega::gate
