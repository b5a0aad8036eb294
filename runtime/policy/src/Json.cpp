// Request decoding against the policy image and decision encoding. Mirrors compiler/eval/src/Json.cpp member for
// member and message for message, so the reference evaluator and the runtime refuse the same requests the same way.
#include "omega/policy/Json.h"

#include "omega/policy/JsonReader.h"
#include "omega/schema/Units.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <limits>
#include <optional>

namespace omega::policy {

namespace {

using schema::Action;
using schema::Type;

// Every valid request nests at most four levels; this only bounds what an attacker can make us hold.
constexpr std::size_t kMaxDepth = 64;

std::string_view textOf(const Image& image, std::uint32_t id) {
    return id < image.strings.size() ? std::string_view(image.strings[id]) : std::string_view();
}

std::optional<std::uint32_t> stringId(const Image& image, std::string_view s) {
    auto it = std::lower_bound(image.strings.begin(), image.strings.end(), s,
                               [](const std::string& a, std::string_view b) { return std::string_view(a) < b; });
    if (it == image.strings.end() || *it != s) return std::nullopt;
    return static_cast<std::uint32_t>(it - image.strings.begin());
}

// Agents, tools and data resources are sorted by name id, and ids are in text order.
template <typename T>
const T* byName(const Image& image, const std::vector<T>& table, std::string_view name) {
    auto id = stringId(image, name);
    if (!id) return nullptr;
    auto it = std::lower_bound(table.begin(), table.end(), *id, [](const T& e, std::uint32_t n) { return e.name < n; });
    return it != table.end() && it->name == *id ? &*it : nullptr;
}

// The members of an object in name order: the compiler's decoder visits them in that order (a std::map), so the
// first error found is the same one.
std::vector<json::Value> sortedMembers(json::Value object) {
    std::vector<json::Value> out;
    out.reserve(object.size());
    for (json::Value v : object.items()) out.push_back(v);
    std::sort(out.begin(), out.end(), [](const json::Value& a, const json::Value& b) { return a.key() < b.key(); });
    return out;
}

template <typename T>
void sortByName(std::vector<std::pair<std::string, T>>& v) {
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}

struct Decoder {
    const Image& image;
    const RequestLimits& limits;
    std::string error;

    bool fail(const std::string& where, const std::string& what) {
        if (error.empty()) error = where + ": " + what;
        return false;
    }

    bool str(json::Value j, const std::string& where, std::string& out) {
        if (!j.isString()) return fail(where, "expected a string");
        std::string_view s = j.string();
        if (s.size() > limits.maxString)
            return fail(where, "string of " + std::to_string(s.size()) + " bytes; the limit is " +
                                   std::to_string(limits.maxString));
        out.assign(s);
        return true;
    }

    bool label(json::Value j, const std::string& where, std::string& out) {
        if (!str(j, where, out)) return false;
        auto id = stringId(image, out);
        const auto& names = image.lattice.names;
        if (!id || std::find(names.begin(), names.end(), *id) == names.end())
            return fail(where, "unknown label `" + out + "`");
        return true;
    }

    bool quantity(json::Value j, Type type, const std::string& where, std::int64_t& out) {
        if (j.isIntegral()) {
            auto n = j.integer();
            if (!n) return fail(where, "integer out of range");
            out = *n;
            return true;
        }
        if (!j.isString())
            return fail(where, std::string("expected ") + (type == Type::Size ? "bytes" : "nanoseconds") +
                                   " as an integer, or a string with a unit");
        std::string_view s = j.string();
        std::size_t i = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        std::size_t unitStart = i;
        while (unitStart < s.size() && s[unitStart] == ' ') ++unitStart;
        if (i == 0 || i > 18)
            return fail(where, "`" + std::string(s) + "` is not a quantity such as `40 GiB` or `30s`");
        std::int64_t n = 0;
        for (std::size_t k = 0; k < i; ++k) n = n * 10 + (s[k] - '0');  // at most 18 digits: no overflow
        std::string_view unit = s.substr(unitStart);
        auto factor = type == Type::Size ? schema::sizeUnit(unit) : schema::durationUnit(unit);
        if (!factor) return fail(where, "unknown unit `" + std::string(unit) + "`");
        if (n > std::numeric_limits<std::int64_t>::max() / *factor) return fail(where, "quantity too large");
        out = n * *factor;
        return true;
    }

    bool typed(json::Value j, Type type, const std::string& where, Value& out) {
        out = Value{};
        switch (type) {
            case Type::Bool:
                if (!j.isBool()) return fail(where, "expected true or false");
                out.kind = Value::Kind::Bool;
                out.number = j.boolean() ? 1 : 0;
                return true;
            case Type::Int: {
                if (!j.isIntegral()) return fail(where, "expected an integer");
                auto n = j.integer();
                if (!n) return fail(where, "integer out of range");
                out.kind = Value::Kind::Int;
                out.number = *n;
                return true;
            }
            case Type::Size:
            case Type::Duration: out.kind = Value::Kind::Int; return quantity(j, type, where, out.number);
            case Type::String: out.kind = Value::Kind::String; return str(j, where, out.text);
            case Type::Label: out.kind = Value::Kind::Label; return label(j, where, out.text);
            case Type::Hash: {
                out.kind = Value::Kind::Hash;
                if (!str(j, where, out.text)) return false;
                const std::string& s = out.text;
                auto colon = s.find(':');
                std::string alg = s.substr(0, colon);
                std::size_t want = alg == "sha256" ? 64 : alg == "sha384" ? 96 : 0;
                std::string hex = colon == std::string::npos ? "" : s.substr(colon + 1);
                if (!want || hex.size() != want || hex.find_first_not_of("0123456789abcdef") != std::string::npos)
                    return fail(where, "expected `sha256:<64 hex>` or `sha384:<96 hex>` in lowercase");
                return true;
            }
            case Type::StringSet:
            case Type::LabelSet: {
                const bool labels = type == Type::LabelSet;
                out.kind = labels ? Value::Kind::LabelSet : Value::Kind::StringSet;
                // A single label is accepted for a set of labels, as in tests (`session.taint = PHI`).
                if (labels && j.isString()) {
                    std::string l;
                    if (!label(j, where, l)) return false;
                    out.items.push_back(std::move(l));
                    return true;
                }
                if (!j.isArray()) return fail(where, "expected an array");
                if (j.size() > limits.maxSetItems)
                    return fail(where, "set of " + std::to_string(j.size()) + " items; the limit is " +
                                           std::to_string(limits.maxSetItems));
                std::size_t i = 0;
                for (json::Value item : j.items()) {
                    std::string at = where + "[" + std::to_string(i++) + "]";
                    std::string s;
                    if (!(labels ? label(item, at, s) : str(item, at, s))) return false;
                    out.items.push_back(std::move(s));
                }
                std::sort(out.items.begin(), out.items.end());
                out.items.erase(std::unique(out.items.begin(), out.items.end()), out.items.end());
                return true;
            }
            case Type::Agent:
            case Type::Kernel: break;
        }
        return fail(where, "cannot be given in a request");
    }

    bool agent(json::Value doc, const char* key, std::string& out) {
        auto member = doc.find(key);
        if (!member) return fail(key, "missing");
        if (!str(*member, key, out)) return false;
        if (!byName(image, image.agents, out)) return fail(key, "unknown agent `" + out + "`");
        return true;
    }

    bool decode(json::Value doc, Request& r) {
        if (!doc.isObject()) return fail("request", "expected a JSON object");
        auto actionMember = doc.find("action");
        if (!actionMember) return fail("action", "missing");
        std::string action;
        if (!str(*actionMember, "action", action)) return false;
        bool known = false;
        for (std::size_t a = 0; a < schema::kActionCount; ++a)
            if (action == schema::actionName(static_cast<Action>(a))) {
                r.action = static_cast<Action>(a);
                known = true;
            }
        if (!known) return fail("action", "unknown action `" + action + "`");
        if (!agent(doc, "agent", r.agent)) return false;
        if (r.action == Action::Send && !agent(doc, "recipient", r.recipient)) return false;
        const Tool* tool = nullptr;
        if (r.action == Action::Tool || r.action == Action::Read || r.action == Action::Write) {
            auto target = doc.find("target");
            if (!target) return fail("target", "missing");
            if (!str(*target, "target", r.target)) return false;
            if (r.action == Action::Tool) {
                tool = byName(image, image.tools, r.target);
                if (!tool) return fail("target", "unknown tool `" + r.target + "`");
            } else if (!byName(image, image.data, r.target)) {
                return fail("target", "unknown data resource `" + r.target + "`");
            }
        }
        for (json::Value member : sortedMembers(doc)) {
            const std::string key(member.key());
            if (key == "action" || key == "agent" || key == "recipient" || key == "target") continue;
            if (key == "args") {
                if (!decodeArgs(member, tool, r)) return false;
            } else if (key == "state") {
                if (!decodeState(member, r)) return false;
            } else if (schema::isRoot(key)) {
                if (!decodeRoot(member, key, r)) return false;
            } else {
                return fail(key, "unknown member");
            }
        }
        if (tool && !allArgs(*tool, r)) return false;
        sortByName(r.args);
        sortByName(r.fields);
        sortByName(r.counts);
        return true;
    }

    bool decodeRoot(json::Value j, const std::string& root, Request& r) {
        if (!j.isObject()) return fail(root, "expected an object");
        for (json::Value v : sortedMembers(j)) {
            std::string where = root + "." + std::string(v.key());
            const schema::Field* def = schema::find(root, v.key());
            if (!def || !def->supplied || def->type == Type::Kernel)
                return fail(where, def ? "comes from the declarations and cannot be given" : "unknown field");
            if (!(def->actions & schema::bit(r.action)))
                return fail(where, std::string("not part of a `") + schema::actionName(r.action) + "` request");
            Value value;
            if (!typed(v, def->type, where, value)) return false;
            r.fields.emplace_back(std::move(where), std::move(value));
        }
        return true;
    }

    bool decodeArgs(json::Value j, const Tool* tool, Request& r) {
        if (r.action != Action::Tool || !tool) return fail("args", "only tool requests take arguments");
        if (!j.isObject()) return fail("args", "expected an object");
        for (json::Value v : sortedMembers(j)) {
            std::string where = "args." + std::string(v.key());
            auto p = std::find_if(tool->params.begin(), tool->params.end(),
                                  [&](const Param& p) { return textOf(image, p.name) == v.key(); });
            if (p == tool->params.end())
                return fail(where, "tool `" + std::string(textOf(image, tool->name)) + "` has no such parameter");
            Value value;
            if (!typed(v, p->type, where, value)) return false;
            r.args.emplace_back(std::string(v.key()), std::move(value));
        }
        return true;
    }

    bool allArgs(const Tool& tool, const Request& r) {
        for (const Param& p : tool.params) {
            std::string_view name = textOf(image, p.name);
            if (std::none_of(r.args.begin(), r.args.end(), [&](const auto& a) { return a.first == name; }))
                return fail("args." + std::string(name), "missing");
        }
        return true;
    }

    bool decodeState(json::Value j, Request& r) {
        if (!j.isObject()) return fail("state", "expected an object");
        for (json::Value v : sortedMembers(j)) {
            if (v.key() != "counts") return fail("state." + std::string(v.key()), "unknown member");
            if (!v.isObject()) return fail("state.counts", "expected an object of rule ids to counts");
            for (json::Value n : sortedMembers(v)) {
                auto count = n.integer();
                if (!count || *count < 0) return fail("state.counts." + std::string(n.key()), "expected a count");
                r.counts.emplace_back(std::string(n.key()), *count);
            }
        }
        return true;
    }
};

// Strings as nlohmann::json::dump() writes them (the compiler's output): short escapes for \b \f \n \r \t, `\u00xx`
// for other control characters, everything else as is. Bytes that are not UTF-8 (never in a checked image) become
// U+FFFD rather than invalid output.
void appendString(std::string& out, std::string_view s) {
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        // A run of printable ASCII needs no escape: one append for all of it (most of any request or decision).
        std::size_t plain = i;
        while (plain < s.size()) {
            const unsigned char b = static_cast<unsigned char>(s[plain]);
            if (b < 0x20 || b >= 0x80 || b == '"' || b == '\\') break;
            ++plain;
        }
        if (plain > i) {
            out.append(s.substr(i, plain - i));
            i = plain;
            continue;
        }
        unsigned char c = static_cast<unsigned char>(s[i]);
        std::size_t n = json::utf8Length(s, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
            continue;
        }
        if (n > 1) {
            out.append(s.substr(i, n));
            i += n;
            continue;
        }
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
        ++i;
    }
    out += '"';
}

void appendStrings(std::string& out, const Image& image, const std::vector<std::uint32_t>& ids) {
    out += '[';
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i) out += ',';
        appendString(out, textOf(image, ids[i]));
    }
    out += ']';
}

// A decision whose ids the image does not have (a bug in whoever made it) is printed as a deny, never half-read.
bool consistent(const Decision& d, const Image& image) {
    auto isString = [&](std::uint32_t id) { return id < image.strings.size(); };
    for (std::uint32_t r : d.rules) {
        if (r >= image.rules.size()) return false;
        const Rule& rule = image.rules[r];
        if (!isString(rule.id) || !isString(rule.principal) || rule.module >= image.modules.size() ||
            !isString(image.modules[rule.module].name))
            return false;
    }
    return std::all_of(d.consentMissing.begin(), d.consentMissing.end(), isString) &&
           std::all_of(d.redact.begin(), d.redact.end(), isString) &&
           std::all_of(d.approve.begin(), d.approve.end(), isString) && (!d.allow || !d.rules.empty());
}

std::string reasonOf(const Decision& d, const Image& image) {
    if (!d.rules.empty()) {
        const Rule& first = image.rules[d.rules.front()];
        std::string out = std::string(d.allow ? "permitted by " : "forbidden by ") + image.text(first.id) + " (" +
                          image.text(first.principal) + ")";
        if (!d.allow && d.forbidOnUnknown) out += ", matched on an absent value";
        return out;
    }
    if (!d.consentMissing.empty()) return "consent missing from principal " + image.text(d.consentMissing.front());
    return "no rule permits it (default deny)";
}

std::string encode(const Decision& d, const Image& image) {
    std::string out = "{\"decision\":";
    out += d.allow ? "\"allow\"" : "\"deny\"";
    out += ",\"reason\":";
    appendString(out, reasonOf(d, image));
    out += ",\"rules\":[";
    std::vector<std::uint32_t> principals;
    for (std::size_t i = 0; i < d.rules.size(); ++i) {
        const Rule& r = image.rules[d.rules[i]];
        const char* effect = r.kind == Rule::Kind::Permit   ? "permit"
                             : r.kind == Rule::Kind::Forbid ? "forbid"
                                                            : "require";
        if (i) out += ',';
        out += "{\"id\":";
        appendString(out, image.text(r.id));
        out += ",\"effect\":\"";
        out += effect;
        out += "\",\"principal\":";
        appendString(out, image.text(r.principal));
        out += ",\"module\":";
        appendString(out, image.text(image.modules[r.module].name));
        out += ",\"line\":" + std::to_string(r.line) + "}";
        if (std::find(principals.begin(), principals.end(), r.principal) == principals.end())
            principals.push_back(r.principal);
    }
    out += "],\"principals\":";
    appendStrings(out, image, principals);
    if (!d.consentMissing.empty()) {
        out += ",\"consent_missing\":";
        appendStrings(out, image, d.consentMissing);
    }
    out += ",\"obligations\":{";
    bool first = true;
    if (d.audit) {
        out += "\"audit\":true";
        first = false;
    }
    if (!d.redact.empty()) {
        out += first ? "\"redact\":" : ",\"redact\":";
        appendStrings(out, image, d.redact);
        first = false;
    }
    if (!d.approve.empty()) {
        out += first ? "\"approve\":" : ",\"approve\":";
        appendStrings(out, image, d.approve);
    }
    out += "}}";
    return out;
}

}  // namespace

bool decodeRequest(std::string_view text, const Image& image, Request& out, std::string& error,
                   const RequestLimits& limits) {
    try {
        out = Request{};
        if (text.size() > limits.maxBytes) {
            error =
                "request: " + std::to_string(text.size()) + " bytes; the limit is " + std::to_string(limits.maxBytes);
            return false;
        }
        json::Document doc;
        json::ReaderLimits readerLimits;
        // Strings and sets over the request limits are refused by the decoder, which names the member; the reader
        // only has to bound nesting (the document size bounds the rest).
        readerLimits.maxBytes = limits.maxBytes;
        readerLimits.maxDepth = kMaxDepth;
        readerLimits.maxString = limits.maxBytes;
        readerLimits.maxItems = limits.maxBytes;
        std::string why;
        if (!doc.parse(text, why, readerLimits)) {
            error = "request: not valid JSON: " + why;
            return false;
        }
        Decoder d{image, limits, {}};
        if (!d.decode(doc.root(), out)) {
            error = d.error;
            return false;
        }
        return true;
    } catch (const std::exception& e) {  // allocation failure: refuse the request rather than let it escape
        error = std::string("request: cannot be decoded: ") + e.what();
        return false;
    }
}

bool decodeValue(json::Value value, schema::Type type, const Image& image, const std::string& where, Value& out,
                 std::string& error, const RequestLimits& limits) {
    try {
        Decoder d{image, limits, {}};
        if (d.typed(value, type, where, out)) return true;
        error = d.error;
        return false;
    } catch (const std::exception& e) {
        error = where + ": cannot be decoded: " + e.what();
        return false;
    }
}

bool decodeArgs(const json::Value* args, const Tool& tool, const Image& image,
                std::vector<std::pair<std::string, Value>>& out, std::string& error, const RequestLimits& limits) {
    try {
        Decoder d{image, limits, {}};
        Request r;
        r.action = Action::Tool;
        if ((args && !d.decodeArgs(*args, &tool, r)) || !d.allArgs(tool, r)) {
            error = d.error;
            return false;
        }
        sortByName(r.args);
        out = std::move(r.args);
        return true;
    } catch (const std::exception& e) {
        error = std::string("args: cannot be decoded: ") + e.what();
        return false;
    }
}

std::string decisionToJson(const Decision& d, const Image& image) {
    if (!d.error.empty()) return errorDecisionJson(d.error);
    if (!consistent(d, image)) return errorDecisionJson("decision: refers to rules or strings the image does not have");
    return encode(d, image);
}

std::string decisionReason(const Decision& d, const Image& image) {
    if (!d.error.empty()) return "not decided: " + d.error;
    if (!consistent(d, image)) return "not decided: the decision refers to rules the image does not have";
    return reasonOf(d, image);
}

std::string errorDecisionJson(const std::string& error) {
    std::string out = "{\"decision\":\"deny\",\"error\":";
    appendString(out, error);
    out += ",\"rules\":[],\"obligations\":{}}";
    return out;
}

void appendJsonString(std::string& out, std::string_view s) {
    appendString(out, s);
}

std::string requestToJson(const Request& r, std::span<const std::string> redact) {
    auto hidden = [&](std::string_view name) { return std::find(redact.begin(), redact.end(), name) != redact.end(); };
    auto value = [](std::string& out, const Value& v) {
        switch (v.kind) {
            case Value::Kind::Bool: out += v.number ? "true" : "false"; break;
            case Value::Kind::Int: out += std::to_string(v.number); break;
            case Value::Kind::String:
            case Value::Kind::Label:
            case Value::Kind::Hash: appendString(out, v.text); break;
            case Value::Kind::StringSet:
            case Value::Kind::LabelSet:
                out += '[';
                for (std::size_t i = 0; i < v.items.size(); ++i) {
                    if (i) out += ',';
                    appendString(out, v.items[i]);
                }
                out += ']';
                break;
        }
    };
    std::string out = "{\"action\":";
    appendString(out, schema::actionName(r.action));
    if (!r.target.empty()) {
        out += ",\"target\":";
        appendString(out, r.target);
    }
    out += ",\"agent\":";
    appendString(out, r.agent);
    if (r.action == schema::Action::Send) {
        out += ",\"recipient\":";
        appendString(out, r.recipient);
    }
    if (r.action == schema::Action::Tool) {
        out += ",\"args\":{";
        for (std::size_t i = 0; i < r.args.size(); ++i) {
            if (i) out += ',';
            appendString(out, r.args[i].first);
            out += ':';
            if (hidden(r.args[i].first))
                out += "\"[redacted]\"";
            else
                value(out, r.args[i].second);
        }
        out += '}';
    }
    // Fields grouped by root; `fields` is sorted by "root.field", so each root's members are consecutive.
    std::string_view root;
    for (const auto& [key, v] : r.fields) {
        const std::size_t dot = key.find('.');
        const std::string_view thisRoot = std::string_view(key).substr(0, dot);
        const std::string_view field =
            dot == std::string::npos ? std::string_view() : std::string_view(key).substr(dot + 1);
        if (thisRoot != root) {
            if (!root.empty()) out += '}';
            out += ',';
            appendString(out, thisRoot);
            out += ":{";
            root = thisRoot;
        } else {
            out += ',';
        }
        appendString(out, field);
        out += ':';
        if (hidden(field) || hidden(key))
            out += "\"[redacted]\"";
        else
            value(out, v);
    }
    if (!root.empty()) out += '}';
    if (!r.counts.empty()) {
        out += ",\"state\":{\"counts\":{";
        for (std::size_t i = 0; i < r.counts.size(); ++i) {
            if (i) out += ',';
            appendString(out, r.counts[i].first);
            out += ':' + std::to_string(r.counts[i].second);
        }
        out += "}}";
    }
    out += '}';
    return out;
}

}  // namespace omega::policy
