// Request decoding (typed by the program's declarations, every failure a message) and decision encoding.
#include "omega/eval/Json.h"

#include "omega/sema/Schema.h"
#include "omega/source/Diagnostic.h"

#include <nlohmann/json.hpp>

namespace omega::eval {

using json = nlohmann::json;
using ast::TypeKind;

namespace {

struct Decoder {
    const sema::Model& model;
    const RequestLimits& limits;
    std::string error;

    bool fail(const std::string& where, const std::string& what) {
        if (error.empty()) error = where + ": " + what;
        return false;
    }

    std::optional<std::int64_t> quantity(const json& j, TypeKind type, const std::string& where) {
        if (j.is_number_integer()) return j.get<std::int64_t>();
        if (!j.is_string()) {
            fail(where, std::string("expected ") + (type == TypeKind::Size ? "bytes" : "nanoseconds") +
                            " as an integer, or a string with a unit");
            return std::nullopt;
        }
        std::string s = j.get<std::string>();
        std::size_t i = 0;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
        std::size_t unitStart = i;
        while (unitStart < s.size() && s[unitStart] == ' ') ++unitStart;
        if (i == 0 || i > 18) {
            fail(where, "`" + s + "` is not a quantity such as `40 GiB` or `30s`");
            return std::nullopt;
        }
        std::int64_t n = std::stoll(s.substr(0, i));
        std::string unit = s.substr(unitStart);
        auto f = type == TypeKind::Size ? sema::sizeUnit(unit) : sema::durationUnit(unit);
        if (!f) {
            fail(where, "unknown unit `" + unit + "`");
            return std::nullopt;
        }
        if (n > INT64_MAX / *f) {
            fail(where, "quantity too large");
            return std::nullopt;
        }
        return n * *f;
    }

    std::optional<std::string> str(const json& j, const std::string& where) {
        if (!j.is_string()) {
            fail(where, "expected a string");
            return std::nullopt;
        }
        std::string s = j.get<std::string>();
        if (s.size() > limits.maxString) {
            fail(where,
                 "string of " + std::to_string(s.size()) + " bytes; the limit is " + std::to_string(limits.maxString));
            return std::nullopt;
        }
        return s;
    }

    std::optional<std::string> label(const json& j, const std::string& where) {
        auto s = str(j, where);
        if (!s) return std::nullopt;
        if (!model.lattice.find(*s)) {
            fail(where, "unknown label `" + *s + "`");
            return std::nullopt;
        }
        return s;
    }

    std::optional<Value> typed(const json& j, TypeKind type, const std::string& where) {
        switch (type) {
            case TypeKind::Bool:
                if (!j.is_boolean()) return fail(where, "expected true or false"), std::nullopt;
                return Value::boolean(j.get<bool>());
            case TypeKind::Int:
                if (!j.is_number_integer()) return fail(where, "expected an integer"), std::nullopt;
                return Value::integer(j.get<std::int64_t>());
            case TypeKind::Size:
            case TypeKind::Duration: {
                auto q = quantity(j, type, where);
                if (!q) return std::nullopt;
                return Value::integer(*q);
            }
            case TypeKind::String: {
                auto s = str(j, where);
                if (!s) return std::nullopt;
                return Value::string(*s);
            }
            case TypeKind::Label: {
                auto s = label(j, where);
                if (!s) return std::nullopt;
                return Value::label(*s);
            }
            case TypeKind::Hash: {
                auto s = str(j, where);
                if (!s) return std::nullopt;
                auto colon = s->find(':');
                std::string alg = s->substr(0, colon);
                std::size_t want = alg == "sha256" ? 64 : alg == "sha384" ? 96 : 0;
                std::string hex = colon == std::string::npos ? "" : s->substr(colon + 1);
                if (!want || hex.size() != want || hex.find_first_not_of("0123456789abcdef") != std::string::npos)
                    return fail(where, "expected `sha256:<64 hex>` or `sha384:<96 hex>` in lowercase"), std::nullopt;
                return Value{Value::Kind::Hash, 0, *s, {}};
            }
            case TypeKind::StringSet:
            case TypeKind::LabelSet: {
                bool labels = type == TypeKind::LabelSet;
                // A single label is accepted for a set of labels, as in tests (`session.taint = PHI`).
                if (labels && j.is_string()) {
                    auto l = label(j, where);
                    if (!l) return std::nullopt;
                    return Value{Value::Kind::LabelSet, 0, {}, {*l}};
                }
                if (!j.is_array()) return fail(where, "expected an array"), std::nullopt;
                if (j.size() > limits.maxSetItems)
                    return fail(where, "set of " + std::to_string(j.size()) + " items; the limit is " +
                                           std::to_string(limits.maxSetItems)),
                           std::nullopt;
                Value v{labels ? Value::Kind::LabelSet : Value::Kind::StringSet, 0, {}, {}};
                for (std::size_t i = 0; i < j.size(); ++i) {
                    std::string at = where + "[" + std::to_string(i) + "]";
                    auto item = labels ? label(j[i], at) : str(j[i], at);
                    if (!item) return std::nullopt;
                    v.items.insert(*item);
                }
                return v;
            }
            default: return fail(where, "cannot be given in a request"), std::nullopt;
        }
    }

    bool agent(const json& doc, const char* key, std::string& out, bool required) {
        if (!doc.contains(key)) return required ? fail(key, "missing") : true;
        auto s = str(doc[key], key);
        if (!s) return false;
        if (!model.agents.count(*s)) return fail(key, "unknown agent `" + *s + "`");
        out = *s;
        return true;
    }

    std::optional<Request> decode(const json& doc, State& state) {
        if (!doc.is_object()) return fail("request", "expected a JSON object"), std::nullopt;
        Request r;
        auto action = doc.contains("action") ? str(doc["action"], "action") : std::nullopt;
        if (!action) return fail("action", "missing"), std::nullopt;
        bool known = false;
        for (ast::Action a : ast::kAllActions)
            if (*action == ast::actionName(a)) {
                r.action = a;
                known = true;
            }
        if (!known) return fail("action", "unknown action `" + *action + "`"), std::nullopt;
        if (!agent(doc, "agent", r.agent, true)) return std::nullopt;
        if (r.action == ast::Action::Send && !agent(doc, "recipient", r.recipient, true)) return std::nullopt;
        bool targeted =
            r.action == ast::Action::Tool || r.action == ast::Action::Read || r.action == ast::Action::Write;
        if (targeted) {
            auto t = doc.contains("target") ? str(doc["target"], "target") : std::nullopt;
            if (!t) return fail("target", "missing"), std::nullopt;
            r.target = *t;
            if (r.action == ast::Action::Tool ? !model.tools.count(r.target) : !model.data.count(r.target))
                return fail("target", std::string("unknown ") +
                                          (r.action == ast::Action::Tool ? "tool" : "data resource") + " `" + r.target +
                                          "`"),
                       std::nullopt;
        }
        for (const auto& [key, member] : doc.items()) {
            if (key == "action" || key == "agent" || key == "recipient" || key == "target") continue;
            if (key == "args") {
                if (!decodeArgs(member, r)) return std::nullopt;
            } else if (key == "state") {
                if (!decodeState(member, state)) return std::nullopt;
            } else if (sema::isRoot(key)) {
                if (!member.is_object()) return fail(key, "expected an object"), std::nullopt;
                for (const auto& [field, v] : member.items()) {
                    std::string where = key + "." + field;
                    const sema::FieldDef* def = sema::findField(key, field);
                    if (!def || !def->supplied || def->type == TypeKind::Kernel)
                        return fail(where, def ? "comes from the declarations and cannot be given" : "unknown field"),
                               std::nullopt;
                    if (!(def->actions & sema::bit(r.action)))
                        return fail(where, std::string("not part of a `") + ast::actionName(r.action) + "` request"),
                               std::nullopt;
                    auto value = typed(v, def->type, where);
                    if (!value) return std::nullopt;
                    r.fields[where] = *value;
                }
            } else {
                return fail(key, "unknown member"), std::nullopt;
            }
        }
        if (r.action == ast::Action::Tool) {
            for (const sema::ParamInfo& p : model.tools.at(r.target).params)
                if (!r.args.count(p.name)) return fail("args." + p.name, "missing"), std::nullopt;
        }
        return r;
    }

    bool decodeArgs(const json& j, Request& r) {
        if (r.action != ast::Action::Tool) return fail("args", "only tool requests take arguments");
        if (!j.is_object()) return fail("args", "expected an object");
        const sema::ToolInfo& tool = model.tools.at(r.target);
        for (const auto& [name, v] : j.items()) {
            const sema::ParamInfo* p = tool.param(name);
            if (!p) return fail("args." + name, "tool `" + tool.name + "` has no such parameter");
            auto value = typed(v, p->type, "args." + name);
            if (!value) return false;
            r.args[name] = *value;
        }
        return true;
    }

    bool decodeState(const json& j, State& state) {
        if (!j.is_object()) return fail("state", "expected an object");
        for (const auto& [key, v] : j.items()) {
            if (key != "counts") return fail("state." + key, "unknown member");
            if (!v.is_object()) return fail("state.counts", "expected an object of rule ids to counts");
            for (const auto& [rule, n] : v.items()) {
                if (!n.is_number_integer() || n.get<std::int64_t>() < 0)
                    return fail("state.counts." + rule, "expected a count");
                state.counts[rule] = n.get<std::int64_t>();
            }
        }
        return true;
    }
};

// Output keeps the documented member order.
using ordered = nlohmann::ordered_json;

ordered obligationsJson(const Obligations& o) {
    ordered j = ordered::object();
    if (o.audit) j["audit"] = true;
    if (!o.redact.empty()) j["redact"] = o.redact;
    if (!o.approve.empty()) j["approve"] = o.approve;
    return j;
}

}  // namespace

std::optional<Request> requestFromJson(const std::string& text, const sema::Model& model, State& state,
                                       std::string& error, const RequestLimits& limits) {
    if (text.size() > limits.maxBytes) {
        error = "request: " + std::to_string(text.size()) + " bytes; the limit is " + std::to_string(limits.maxBytes);
        return std::nullopt;
    }
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded()) {
        error = "request: not valid JSON";
        return std::nullopt;
    }
    Decoder d{model, limits, {}};
    auto r = d.decode(doc, state);
    if (!r) error = d.error;
    return r;
}

std::string decisionToJson(const Decision& d) {
    ordered j;
    j["decision"] = d.allow ? "allow" : "deny";
    j["reason"] = d.reason;
    ordered rules = ordered::array();
    std::vector<std::string> principals;
    for (const RuleInfo* r : d.rules) {
        const char* effect = r->kind == RuleInfo::Kind::Permit   ? "permit"
                             : r->kind == RuleInfo::Kind::Forbid ? "forbid"
                                                                 : "require";
        rules.push_back(ordered{{"id", r->id},
                                {"effect", effect},
                                {"principal", r->principal},
                                {"module", r->module},
                                {"line", r->span.begin.line}});
        if (std::find(principals.begin(), principals.end(), r->principal) == principals.end())
            principals.push_back(r->principal);
    }
    j["rules"] = rules;
    j["principals"] = principals;
    if (!d.consentMissing.empty()) j["consent_missing"] = d.consentMissing;
    if (!d.absent.empty()) j["absent"] = d.absent;
    j["obligations"] = obligationsJson(d.obligations);
    return j.dump();
}

std::string errorDecisionJson(const std::string& error) {
    ordered j;
    j["decision"] = "deny";
    j["error"] = error;
    j["rules"] = ordered::array();
    j["obligations"] = ordered::object();
    return j.dump();
}

}  // namespace omega::eval
