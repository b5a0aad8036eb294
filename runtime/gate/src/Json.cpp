// Writing JSON back out and reading JSON-RPC envelopes (Json.h). Recursion is bounded by the reader's depth limit.
#include "omega/gate/Json.h"

#include "omega/policy/Json.h"

#include <algorithm>
#include <vector>

namespace omega::gate::json {

bool parse(std::string text, Parsed& out, std::string& error, std::size_t maxBytes) {
    out.text = std::move(text);
    policy::json::ReaderLimits limits;
    limits.maxBytes = maxBytes;
    limits.maxString = maxBytes;
    return out.doc.parse(out.text, error, limits);
}

void appendString(std::string& out, std::string_view s) {
    policy::appendJsonString(out, s);  // the monitor's writer: invalid UTF-8 becomes U+FFFD, never raw bytes
}

std::string quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    appendString(out, s);
    return out;
}

std::string_view numberText(const Parsed& p, Value v) {
    const std::string_view t = p.text;
    std::size_t begin = std::min(v.offset(), t.size()), end = begin;
    while (end < t.size() && std::string_view("+-.0123456789eE").find(t[end]) != std::string_view::npos) ++end;
    return t.substr(begin, end - begin);
}

void appendValue(std::string& out, const Parsed& p, Value v, const std::function<bool(std::string_view, Value)>& skip) {
    switch (v.kind()) {
        case Kind::Null: out += "null"; return;
        case Kind::Bool: out += v.boolean() ? "true" : "false"; return;
        case Kind::Number: out += numberText(p, v); return;
        case Kind::String: appendString(out, v.string()); return;
        case Kind::Array: {
            out += '[';
            bool first = true;
            for (Value item : v.items()) {
                if (!first) out += ',';
                first = false;
                appendValue(out, p, item, skip);
            }
            out += ']';
            return;
        }
        case Kind::Object: {
            out += '{';
            bool first = true;
            for (Value member : v.items()) {
                if (skip && skip(member.key(), member)) continue;
                if (!first) out += ',';
                first = false;
                appendString(out, member.key());
                out += ':';
                appendValue(out, p, member, skip);
            }
            out += '}';
            return;
        }
    }
}

void appendCanonical(std::string& out, const Parsed& p, Value v) {
    if (v.kind() == Kind::Array) {
        out += '[';
        bool first = true;
        for (Value item : v.items()) {
            if (!first) out += ',';
            first = false;
            appendCanonical(out, p, item);
        }
        out += ']';
        return;
    }
    if (v.kind() != Kind::Object) {
        appendValue(out, p, v);
        return;
    }
    std::vector<Value> members;
    members.reserve(v.size());
    for (Value m : v.items()) members.push_back(m);
    std::stable_sort(members.begin(), members.end(), [](Value a, Value b) { return a.key() < b.key(); });
    out += '{';
    for (std::size_t i = 0; i < members.size(); ++i) {
        if (i) out += ',';
        appendString(out, members[i].key());
        out += ':';
        appendCanonical(out, p, members[i]);
    }
    out += '}';
}

Rpc classify(const Parsed& p) {
    Rpc r;
    const Value root = p.root();
    if (root.isArray()) {
        r.problem = "batches are not supported: send one JSON-RPC message at a time";
        return r;
    }
    if (!root.isObject()) {
        r.problem = "a JSON-RPC message must be an object";
        return r;
    }
    auto version = root.find("jsonrpc");
    auto id = root.find("id");
    if (id) {
        if (id->isString()) {
            r.id = quote(id->string());
        } else if (id->isNumber() && id->isIntegral()) {
            r.id = std::string(numberText(p, *id));
        } else if (!id->isNull()) {
            r.id = "null";
            r.problem = "`id` must be a string or an integer";
            return r;
        } else {
            r.id = "null";
        }
    } else {
        r.id = "null";
    }
    if (!version || !version->isString() || version->string() != "2.0") {
        r.problem = "`jsonrpc` must be \"2.0\"";
        return r;
    }
    auto method = root.find("method");
    if (method) {
        if (!method->isString() || method->string().empty()) {
            r.problem = "`method` must be a non-empty string";
            return r;
        }
        r.method = std::string(method->string());
        r.params = root.find("params");
        if (r.params && !r.params->isObject() && !r.params->isArray()) {
            r.problem = "`params` must be an object or an array";
            return r;
        }
        r.kind = id ? Rpc::Kind::Request : Rpc::Kind::Notification;
        if (id && id->isNull()) {
            r.kind = Rpc::Kind::Invalid;
            r.problem = "a request's `id` must not be null";
        }
        return r;
    }
    r.result = root.find("result");
    r.error = root.find("error");
    if (!id || (!r.result && !r.error) || (r.result && r.error)) {
        r.problem = "not a request, a notification or a response";
        return r;
    }
    if (r.error && !r.error->isObject()) {
        r.problem = "`error` must be an object";
        return r;
    }
    r.kind = Rpc::Kind::Response;
    return r;
}

std::string errorReply(std::string_view id, int code, std::string_view message, std::string_view data) {
    std::string out = "{\"jsonrpc\":\"2.0\",\"id\":";
    out += id.empty() ? "null" : id;
    out += ",\"error\":{\"code\":";
    out += std::to_string(code);
    out += ",\"message\":";
    appendString(out, message);
    if (!data.empty()) {
        out += ",\"data\":";
        out += data;
    }
    out += "}}";
    return out;
}

}  // namespace omega::gate::json
