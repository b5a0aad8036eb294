// Evaluator <-> runtime bridges (Runtime.h).
#include "omega/eval/Runtime.h"

namespace omega::eval {

namespace {

policy::Value convert(const Value& v) {
    policy::Value out;
    out.number = v.number;
    out.text = v.text;
    out.items.assign(v.items.begin(), v.items.end());
    switch (v.kind) {
        case Value::Kind::Bool: out.kind = policy::Value::Kind::Bool; break;
        case Value::Kind::Int: out.kind = policy::Value::Kind::Int; break;
        case Value::Kind::String:
        case Value::Kind::Agent: out.kind = policy::Value::Kind::String; break;
        case Value::Kind::Label: out.kind = policy::Value::Kind::Label; break;
        case Value::Kind::Hash: out.kind = policy::Value::Kind::Hash; break;
        case Value::Kind::StringSet: out.kind = policy::Value::Kind::StringSet; break;
        case Value::Kind::LabelSet: out.kind = policy::Value::Kind::LabelSet; break;
    }
    return out;
}

std::string list(const std::vector<std::string>& items) {
    std::string s = "[";
    for (const auto& i : items) s += (s.size() > 1 ? " " : "") + i;
    return s + "]";
}

}  // namespace

policy::Request toPolicy(const Request& request, const State& state) {
    policy::Request out;
    out.action = static_cast<schema::Action>(request.action);
    out.target = request.target;
    out.agent = request.agent;
    out.recipient = request.recipient;
    for (const auto& [name, value] : request.args) out.args.emplace_back(name, convert(value));
    for (const auto& [key, value] : request.fields) out.fields.emplace_back(key, convert(value));
    for (const auto& [id, count] : state.counts) out.counts.emplace_back(id, count);
    return out;
}

std::string compareDecisions(const Decision& reference, const policy::Decision& bytecode, const policy::Image& image) {
    auto text = [&](const std::vector<std::uint32_t>& ids) {
        std::vector<std::string> out;
        for (std::uint32_t id : ids) out.push_back(id < image.strings.size() ? image.strings[id] : "?");
        return out;
    };
    std::vector<std::string> wantRules, haveRules;
    for (const RuleInfo* r : reference.rules) wantRules.push_back(r->id);
    for (std::uint32_t r : bytecode.rules)
        haveRules.push_back(r < image.rules.size() ? image.strings[image.rules[r].id] : "?");
    std::string out;
    auto differ = [&](const std::string& what, const std::string& want, const std::string& have) {
        if (want != have) out += what + ": evaluator " + want + ", bytecode " + have + "\n";
    };
    if (!bytecode.error.empty()) out += "bytecode error: " + bytecode.error + "\n";
    differ("decision", reference.allow ? "allow" : "deny", bytecode.allow ? "allow" : "deny");
    differ("rules", list(wantRules), list(haveRules));
    differ("consent missing", list(reference.consentMissing), list(text(bytecode.consentMissing)));
    differ("audit", std::to_string(reference.obligations.audit), std::to_string(bytecode.audit));
    differ("redact", list({reference.obligations.redact.begin(), reference.obligations.redact.end()}),
           list(text(bytecode.redact)));
    differ("approve", list({reference.obligations.approve.begin(), reference.obligations.approve.end()}),
           list(text(bytecode.approve)));
    if (!reference.absent.empty() && !bytecode.forbidOnUnknown)
        out += "the evaluator's forbid matched on an absent value; the bytecode's did not say so\n";
    return out;
}

}  // namespace omega::eval
