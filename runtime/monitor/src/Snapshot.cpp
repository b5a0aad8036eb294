// What the monitor derives from a loaded bundle (Snapshot.h).
#include "Snapshot.h"

#include "omega/attest/Merkle.h"

namespace omega::monitor {

Snapshot::Snapshot(policy::Engine e, const bundle::Measurement& m, std::uint64_t g)
    : engine(std::move(e)), measurement(m), generation(g) {
    const policy::Image& image = engine.image();
    modulesRoot = attest::modulesRoot(attest::moduleLeaves(image));
    limited.resize(image.rules.size());
    for (std::uint32_t r = 0; r < image.rules.size(); ++r) {
        const policy::Rule& rule = image.rules[r];
        if (!rule.limited) continue;
        Limited& l = limited[r];
        l.rule = r;
        l.key = rule.key;
        l.forbid = rule.kind == policy::Rule::Kind::Forbid;
        l.limit = rule.limit;
        l.window = rule.window;
        l.identity = image.text(rule.id) + '\x1f' + (l.forbid ? "forbid" : "permit") + '\x1f' +
                     std::to_string(rule.limit) + '\x1f' + std::to_string(rule.window) + '\x1f' +
                     std::to_string(static_cast<int>(rule.key));
    }
    for (const schema::Field& f : schema::fields()) {
        if (!f.supplied || f.slot == 0) continue;
        if (suppliedField.size() <= f.slot) suppliedField.resize(f.slot + 1u, nullptr);
        suppliedField[f.slot] = &f;
    }
    slotSessionId = schema::find("session", "id")->slot;
    slotUser = schema::find("request", "user")->slot;
    slotTaint = schema::find("session", "taint")->slot;
    slotApprovals = schema::find("session", "approvals")->slot;
}

bool Snapshot::slotText(const policy::Interned& in, std::uint32_t slot, std::string_view& text) const {
    const auto [word, bit] = engine.image().layout().presence(slot);
    if (!((in.context[word] >> bit) & 1u)) return false;
    const std::string* s = engine.text(in, in.context[slot]);
    if (!s) return false;
    text = *s;
    return true;
}

}  // namespace omega::monitor
