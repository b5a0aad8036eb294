// The reference monitor (Monitor.h): loading and hot reload, the decision path with its state, approvals, logging.
#include "omega/monitor/Monitor.h"

#include "Snapshot.h"
#include "omega/policy/Json.h"
#include "omega/policy/Load.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <iterator>
#include <limits>
#include <unordered_map>

namespace omega::monitor {

namespace {

using policy::kNone;
using schema::Action;

std::int64_t steadyNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::int64_t systemNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// A rate counter: the times of the events inside its window, oldest first, at most `limit` of them (a count that
// has reached the limit needs no more to decide, language.md 12.3).
struct Counter {
    std::int64_t window = 0;
    std::deque<std::int64_t> events;
};

struct Session {
    std::vector<std::string> taint;      // label names, sorted
    std::vector<std::string> approvals;  // role names, sorted
    std::int64_t lastUsed = 0;
    // The names as ids of the bundle of `generation` (kNone for a name it does not have), so that a decision
    // does not look names up: recomputed when the names change or another bundle decides.
    std::uint64_t generation = 0;
    std::vector<std::uint32_t> taintIds, approvalIds;
};

struct PendingApproval {
    std::string sessionKey;
    std::vector<std::string> roles;  // sorted
    std::vector<std::string> granted;
    std::int64_t expires = 0;
    Approval state = Approval::Pending;
    bundle::Measurement measurement;
};

constexpr std::size_t kStripes = 64;

std::size_t stripeOf(char kind, std::string_view text) {
    return (std::hash<std::string_view>{}(text)*31 + static_cast<unsigned char>(kind)) % kStripes;
}

bool insertSorted(std::vector<std::string>& v, std::string_view x) {
    auto it = std::lower_bound(v.begin(), v.end(), x);
    if (it != v.end() && *it == x) return false;
    v.insert(it, std::string(x));
    return true;
}

std::string hex16(std::uint64_t x) {
    static const char* digits = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, x >>= 4) out[static_cast<std::size_t>(i)] = digits[x & 15];
    return out;
}

}  // namespace

const char* approvalName(Approval a) {
    switch (a) {
        case Approval::Unknown: return "unknown";
        case Approval::Pending: return "pending";
        case Approval::Approved: return "approved";
        case Approval::Refused: return "refused";
        case Approval::Expired: return "expired";
    }
    return "unknown";
}

// INVARIANT: lock order is one session stripe, then counter stripes in increasing index, then `approvalsMutex`.
// grant() and refuse() release `approvalsMutex` before they take a session stripe.
struct Monitor::State {
    struct SessionStripe {
        std::mutex mutex;
        std::unordered_map<std::string, Session> sessions;
    };
    struct CounterStripe {
        std::mutex mutex;
        std::unordered_map<std::string, Counter> counters;
        std::uint32_t insertsSinceSweep = 0;
    };
    std::array<SessionStripe, kStripes> sessionStripes;
    std::array<CounterStripe, kStripes> counterStripes;
    std::atomic<std::int64_t> rateEvents{0};
    std::atomic<std::int64_t> sessions{0};
    std::atomic<std::int64_t> lastFullSweep{std::numeric_limits<std::int64_t>::min() / 2};

    std::mutex approvalsMutex;
    std::condition_variable approvalsChanged;
    std::unordered_map<std::uint64_t, PendingApproval> approvals;
    std::size_t approvalsWaiting = 0;

    std::atomic<std::uint64_t> decisions{0}, allowed{0}, denied{0}, errors{0}, pending{0}, reloads{0}, refused{0};

    // Drops the events of `c` that have left its window.
    void prune(Counter& c, std::int64_t now) {
        std::int64_t dropped = 0;
        while (!c.events.empty() && now - c.events.front() >= c.window) {
            c.events.pop_front();
            ++dropped;
        }
        rateEvents.fetch_sub(dropped, std::memory_order_relaxed);
    }
    void sweepCounters(CounterStripe& stripe, std::int64_t now) {
        for (auto it = stripe.counters.begin(); it != stripe.counters.end();) {
            prune(it->second, now);
            it = it->second.events.empty() ? stripe.counters.erase(it) : std::next(it);
        }
        stripe.insertsSinceSweep = 0;
    }
    void sweepSessions(SessionStripe& stripe, std::int64_t now, std::int64_t idle) {
        for (auto it = stripe.sessions.begin(); it != stripe.sessions.end();) {
            if (now - it->second.lastUsed >= idle) {
                it = stripe.sessions.erase(it);
                sessions.fetch_sub(1, std::memory_order_relaxed);
            } else {
                ++it;
            }
        }
    }
    // Approvals past their expiry become Expired; answered ones older than a minute past expiry are forgotten.
    void sweepApprovals(std::int64_t now) {
        for (auto it = approvals.begin(); it != approvals.end();) {
            PendingApproval& p = it->second;
            if (p.state == Approval::Pending && now >= p.expires) {
                p.state = Approval::Expired;
                --approvalsWaiting;
            }
            if (p.state != Approval::Pending && now >= p.expires + std::int64_t{60} * 1000000000)
                it = approvals.erase(it);
            else
                ++it;
        }
    }
};

// ---- decisions as JSON ----

std::string Decision::json() const {
    std::string out = "{\"decision\":";
    out += verdict == Verdict::Allow ? "\"allow\"" : verdict == Verdict::Pending ? "\"pending\"" : "\"deny\"";
    out += ",\"reason\":";
    policy::appendJsonString(out, reason);
    if (!error.empty()) {
        out += ",\"error\":";
        policy::appendJsonString(out, error);
    }
    out += ",\"rules\":[";
    for (std::size_t i = 0; i < rules.size(); ++i) {
        if (i) out += ',';
        out += "{\"id\":";
        policy::appendJsonString(out, rules[i].id);
        out += rules[i].forbid ? ",\"effect\":\"forbid\",\"principal\":" : ",\"effect\":\"permit\",\"principal\":";
        policy::appendJsonString(out, rules[i].principal);
        out += ",\"module\":";
        policy::appendJsonString(out, rules[i].module);
        out += ",\"line\":" + std::to_string(rules[i].line) + "}";
    }
    auto strings = [&](const std::vector<std::string>& v) {
        out += '[';
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (i) out += ',';
            policy::appendJsonString(out, v[i]);
        }
        out += ']';
    };
    out += "],\"principals\":";
    strings(principals);
    out += ",\"obligations\":{";
    bool first = true;
    if (audit) {
        out += "\"audit\":true";
        first = false;
    }
    if (!redact.empty()) {
        out += first ? "\"redact\":" : ",\"redact\":";
        strings(redact);
        first = false;
    }
    if (!approve.empty()) {
        out += first ? "\"approve\":" : ",\"approve\":";
        strings(approve);
    }
    out += '}';
    if (verdict == Verdict::Pending) out += ",\"pending\":\"" + hex16(pendingId) + "\"";
    out += ",\"bundle\":\"" + measurement.hex() + "\",\"generation\":" + std::to_string(generation);
    if (logSeq) out += ",\"log_seq\":" + std::to_string(logSeq);
    out += '}';
    return out;
}

// ---- the request a decision was made on, back from its interned form (for the log) ----

namespace {

policy::Value valueOf(const policy::Engine& engine, const policy::Interned& in, schema::Type type, std::uint64_t word) {
    const policy::Image& image = engine.image();
    policy::Value v;
    auto label = [&](std::uint64_t id) -> std::string {
        if (id < image.lattice.size()) return image.text(image.lattice.names[id]);
        id -= image.lattice.size();
        return id < in.localLabels.size() ? in.localLabels[id] : std::string("?");
    };
    auto text = [&](std::uint64_t id) -> std::string {
        const std::string* s = engine.text(in, id);
        return s ? *s : std::string("?");
    };
    switch (type) {
        case schema::Type::Bool:
            v.kind = policy::Value::Kind::Bool;
            v.number = word != 0;
            break;
        case schema::Type::Int:
        case schema::Type::Size:
        case schema::Type::Duration:
            v.kind = policy::Value::Kind::Int;
            v.number = static_cast<std::int64_t>(word);
            break;
        case schema::Type::String:
        case schema::Type::Hash:
            v.kind = type == schema::Type::Hash ? policy::Value::Kind::Hash : policy::Value::Kind::String;
            v.text = text(word);
            break;
        case schema::Type::Label:
            v.kind = policy::Value::Kind::Label;
            v.text = label(word);
            break;
        case schema::Type::StringSet:
        case schema::Type::LabelSet: {
            v.kind = type == schema::Type::StringSet ? policy::Value::Kind::StringSet : policy::Value::Kind::LabelSet;
            const std::vector<std::uint64_t>* items = nullptr;
            if (word & policy::kConstSetTag) {
                const std::uint64_t k = word & ~policy::kConstSetTag;
                if (k < image.sets.size()) items = &image.sets[k];
            } else if (word < in.setsUsed) {
                items = &in.sets[word];
            }
            if (items)
                for (std::uint64_t x : *items) v.items.push_back(type == schema::Type::StringSet ? text(x) : label(x));
            std::sort(v.items.begin(), v.items.end());
            break;
        }
        case schema::Type::Agent:
        case schema::Type::Kernel: break;
    }
    return v;
}

policy::Request describeRequest(const policy::Engine& engine, const policy::Interned& in) {
    const policy::Image& image = engine.image();
    const policy::Layout layout = image.layout();
    auto present = [&](std::uint32_t slot) {
        auto [word, bit] = layout.presence(slot);
        return ((in.context[word] >> bit) & 1u) != 0;
    };
    policy::Request r;
    r.action = static_cast<Action>(in.context[0]);
    r.agent = image.text(image.agents[in.context[2]].name);
    if (r.action == Action::Send) r.recipient = image.text(image.agents[in.context[3]].name);
    if (r.action == Action::Tool) {
        const policy::Tool& t = image.tools[in.context[1]];
        r.target = image.text(t.name);
        for (std::uint32_t k = 0; k < t.params.size(); ++k)
            if (present(schema::argsSlot() + k))
                r.args.emplace_back(image.text(t.params[k].name),
                                    valueOf(engine, in, t.params[k].type, in.context[schema::argsSlot() + k]));
        std::sort(r.args.begin(), r.args.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    } else if (r.action == Action::Read || r.action == Action::Write) {
        r.target = image.text(image.data[in.context[1]].name);
    }
    for (const schema::Field& f : schema::fields()) {
        if (!f.supplied || f.slot == 0 || !(f.actions & schema::bit(r.action)) || !present(f.slot)) continue;
        policy::Value v = valueOf(engine, in, f.type, in.context[f.slot]);
        if ((v.kind == policy::Value::Kind::StringSet || v.kind == policy::Value::Kind::LabelSet) && v.items.empty())
            continue;  // an empty supplied set is the same as none
        r.fields.emplace_back(std::string(f.root) + "." + std::string(f.field), std::move(v));
    }
    std::sort(r.fields.begin(), r.fields.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [rule, count] : in.counts) r.counts.emplace_back(image.text(image.rules[rule].id), count);
    return r;
}

std::array<std::uint8_t, 32> sha256(std::string_view text) {
    // Fetched once: SHA256() and EVP_sha256() make OpenSSL 3 look the implementation up again on every call, which
    // cost more than hashing a request (seen in the gateway's profile).
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    std::array<std::uint8_t, 32> out{};
    unsigned int length = 0;
    if (md == nullptr || EVP_Digest(text.data(), text.size(), out.data(), &length, md, nullptr) != 1) std::abort();
    return out;
}

}  // namespace

// ---- loading ----

Monitor::Monitor(Options options) : options_(std::move(options)), state_(std::make_unique<State>()) {
    if (!options_.monotonicNs) options_.monotonicNs = steadyNs;
    if (!options_.wallNs) options_.wallNs = systemNs;
}

Monitor::~Monitor() = default;

std::shared_ptr<const Snapshot> Monitor::current() const {
    std::lock_guard lock(loadMutex_);
    return snapshot_;
}

bool Monitor::loaded() const {
    return current() != nullptr;
}

bundle::Measurement Monitor::measurement() const {
    auto snap = current();
    return snap ? snap->measurement : bundle::Measurement{};
}

std::shared_ptr<const policy::Image> Monitor::image() const {
    auto snap = current();
    if (!snap) return nullptr;
    const policy::Image* image = &snap->engine.image();
    return std::shared_ptr<const policy::Image>(std::move(snap), image);  // aliasing: owns the snapshot
}

Result<bundle::Measurement> Monitor::loadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return bundle::Error{"cannot open bundle `" + path + "`"};
    std::vector<std::uint8_t> bytes;
    char buffer[65536];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        bytes.insert(bytes.end(), buffer, buffer + in.gcount());
        if (bytes.size() > options_.limits.maxBundleBytes)
            return bundle::Error{"bundle `" + path + "` is larger than " +
                                 std::to_string(options_.limits.maxBundleBytes) + " bytes"};
    }
    if (in.bad()) return bundle::Error{"cannot read bundle `" + path + "`"};
    return load(bytes);
}

Result<bundle::Measurement> Monitor::load(std::span<const std::uint8_t> bytes) {
    auto refuse = [&](std::string error) -> Result<bundle::Measurement> {
        state_->refused.fetch_add(1, std::memory_order_relaxed);
        std::string ignored;
        std::string event = "{\"event\":\"load refused\",\"error\":";
        policy::appendJsonString(event, error);
        event += ",\"kept\":\"" + measurement().hex() + "\"}";
        log(LogEntry::Kind::Event, "", event, measurement(), ignored);
        return bundle::Error{std::move(error)};
    };
    if (options_.trusted.empty() && !options_.allowUnsigned)
        return refuse("no trusted keys are configured, and unsigned bundles are not allowed");
    policy::LoadOptions load;
    load.trusted = options_.trusted;
    load.limits.maxTotalSize = options_.limits.maxBundleBytes;
    auto loadedBundle = policy::load(bytes, load);
    if (!loadedBundle) return refuse(loadedBundle.error());
    bundle::Measurement m = loadedBundle->measurement;
    std::uint64_t generation = 0;
    try {
        std::lock_guard lock(loadMutex_);
        generation = generation_.load(std::memory_order_relaxed) + 1;
        snapshot_ = std::make_shared<const Snapshot>(std::move(loadedBundle->engine), m, generation);
        generation_.store(generation, std::memory_order_release);
    } catch (const std::exception& e) {
        return refuse(std::string("cannot load: ") + e.what());
    }
    state_->reloads.fetch_add(1, std::memory_order_relaxed);
    std::string ignored;
    log(LogEntry::Kind::Event, "",
        "{\"event\":\"load\",\"bundle\":\"" + m.hex() + "\",\"generation\":" + std::to_string(generation) + "}", m,
        ignored);
    return m;
}

// ---- builders ----

std::uint64_t Builder::generation() const {
    return snapshot_ ? snapshot_->generation : 0;
}
const policy::Image* Builder::image() const {
    return snapshot_ ? &snapshot_->engine.image() : nullptr;
}
std::uint32_t Builder::agent(std::string_view name) const {
    return snapshot_ ? snapshot_->engine.agentIndex(name) : kNone;
}
std::uint32_t Builder::tool(std::string_view name) const {
    return snapshot_ ? snapshot_->engine.toolIndex(name) : kNone;
}
std::uint32_t Builder::data(std::string_view name) const {
    return snapshot_ ? snapshot_->engine.dataIndex(name) : kNone;
}
std::uint32_t Builder::string(std::string_view text) const {
    return snapshot_ ? snapshot_->engine.stringId(text) : kNone;
}
std::uint32_t Builder::label(std::string_view name) const {
    return snapshot_ ? snapshot_->engine.labelIndex(name) : kNone;
}
std::uint32_t Builder::field(std::string_view path) const {
    const std::size_t dot = path.find('.');
    if (dot == std::string_view::npos) return kNone;
    const schema::Field* f = schema::find(path.substr(0, dot), path.substr(dot + 1));
    if (!f || !f->supplied || f->slot == 0) return kNone;
    if (f->slot == schema::find("session", "taint")->slot || f->slot == schema::find("session", "approvals")->slot)
        return kNone;  // kept by the monitor
    return f->slot;
}
std::uint32_t Builder::param(std::uint32_t tool, std::string_view name) const {
    if (!snapshot_ || tool >= snapshot_->engine.image().tools.size()) return kNone;
    const policy::Image& image = snapshot_->engine.image();
    const auto& params = image.tools[tool].params;
    for (std::uint32_t k = 0; k < params.size(); ++k)
        if (image.text(params[k].name) == name) return schema::argsSlot() + k;
    return kNone;
}

bool Builder::reset(Action action, std::uint32_t target, std::uint32_t agent, std::uint32_t recipient) {
    error_.clear();
    if (!snapshot_) {
        error_ = "no bundle is loaded";
        return false;
    }
    if (!snapshot_->engine.begin(action, target, agent, recipient, interned_, error_)) {
        if (interned_.context.empty()) interned_.context.assign(snapshot_->engine.image().layout().words(), 0);
        return false;
    }
    return true;
}

namespace {

// The type a builder may put in `slot` for the request in `in`; false when the slot takes no value from callers.
bool slotType(const Snapshot& snap, const policy::Interned& in, std::uint32_t slot, schema::Type& type) {
    if (in.context.empty()) return false;
    const auto action = static_cast<Action>(in.context[0]);
    if (slot >= schema::argsSlot() && slot < schema::argsSlot() + schema::kMaxToolParams) {
        if (action != Action::Tool) return false;
        const auto& params = snap.engine.image().tools[in.context[1]].params;
        const std::uint32_t k = slot - schema::argsSlot();
        if (k >= params.size()) return false;
        type = params[k].type;
        return true;
    }
    if (slot == snap.slotTaint || slot == snap.slotApprovals || slot >= snap.suppliedField.size()) return false;
    const schema::Field* f = snap.suppliedField[slot];
    if (!f || !(f->actions & schema::bit(action))) return false;
    type = f->type;
    return true;
}

}  // namespace

#define OMEGA_BUILDER_CHECK(want)                                                                        \
    schema::Type type;                                                                                   \
    if (!error_.empty()) return;                                                                         \
    if (!snapshot_ || !slotType(*snapshot_, interned_, slot, type) || !(want)) {                         \
        error_ = "builder: slot " + std::to_string(slot) + " does not take this value for this request"; \
        return;                                                                                          \
    }

void Builder::setInt(std::uint32_t slot, std::int64_t value) {
    OMEGA_BUILDER_CHECK(type == schema::Type::Int || type == schema::Type::Size || type == schema::Type::Duration ||
                        type == schema::Type::Bool)
    if (type == schema::Type::Bool && value != 0 && value != 1) {
        error_ = "builder: a bool is 0 or 1";
        return;
    }
    snapshot_->engine.setSlot(interned_, slot, static_cast<std::uint64_t>(value));
}
void Builder::setString(std::uint32_t slot, std::string_view text) {
    OMEGA_BUILDER_CHECK(type == schema::Type::String || type == schema::Type::Hash)
    snapshot_->engine.setSlot(interned_, slot, snapshot_->engine.internString(interned_, text));
}
void Builder::setLabel(std::uint32_t slot, std::string_view name) {
    OMEGA_BUILDER_CHECK(type == schema::Type::Label)
    snapshot_->engine.setSlot(interned_, slot, snapshot_->engine.internLabel(interned_, name));
}
void Builder::setStringId(std::uint32_t slot, std::uint32_t id) {
    OMEGA_BUILDER_CHECK((type == schema::Type::String || type == schema::Type::Hash) &&
                        id < snapshot_->engine.image().strings.size())
    snapshot_->engine.setSlot(interned_, slot, id);
}
void Builder::setLabelId(std::uint32_t slot, std::uint32_t id) {
    OMEGA_BUILDER_CHECK(type == schema::Type::Label && id < snapshot_->engine.image().lattice.size())
    snapshot_->engine.setSlot(interned_, slot, id);
}
void Builder::setStringSet(std::uint32_t slot, std::span<const std::string_view> items) {
    OMEGA_BUILDER_CHECK(type == schema::Type::StringSet || type == schema::Type::LabelSet)
    items_.clear();
    for (std::string_view item : items)
        items_.push_back(type == schema::Type::StringSet ? snapshot_->engine.internString(interned_, item)
                                                         : snapshot_->engine.internLabel(interned_, item));
    snapshot_->engine.setSlot(interned_, slot, snapshot_->engine.internSet(interned_, items_));
}
void Builder::setSession(std::string_view id) {
    if (snapshot_) setString(snapshot_->slotSessionId, id);
}
void Builder::setUser(std::string_view user) {
    if (snapshot_) setString(snapshot_->slotUser, user);
}

#undef OMEGA_BUILDER_CHECK

bool Monitor::rebind(Builder& builder) const {
    builder.snapshot_ = current();
    builder.interned_.context.clear();
    return builder.snapshot_ != nullptr;
}

// ---- deciding ----

void Monitor::deny(Decision& out, std::string error) const {
    out.verdict = Verdict::Deny;
    out.error = std::move(error);
    out.reason = "not decided: " + out.error;
    out.rules.clear();
    out.principals.clear();
    out.audit = false;
    out.redact.clear();
    out.approve.clear();
    out.limited = false;
    out.pendingId = 0;
    state_->errors.fetch_add(1, std::memory_order_relaxed);
    state_->denied.fetch_add(1, std::memory_order_relaxed);
    state_->decisions.fetch_add(1, std::memory_order_relaxed);
}

// A request denied before or instead of a decision is logged too (every request leaves a record), with what is
// known of it.
void Monitor::logDenied(Decision& out, const std::string& request) {
    if (!options_.log) return;
    std::string error;
    out.logSeq = log(LogEntry::Kind::Decision, request, out.json(), out.measurement, error);
}

Decision Monitor::decide(std::string_view requestJson) {
    Decision out;
    auto snap = current();
    if (!snap) {
        deny(out, "no bundle is loaded");
        std::string quoted;
        policy::appendJsonString(quoted, requestJson.substr(0, std::min<std::size_t>(requestJson.size(), 4096)));
        logDenied(out, "{\"undecided\":" + quoted + "}");
        return out;
    }
    out.measurement = snap->measurement;
    out.generation = snap->generation;
    policy::Request request;
    std::string error;
    if (!policy::decodeRequest(requestJson, snap->engine.image(), request, error)) {
        deny(out, error);
        const std::string text(requestJson.substr(0, std::min<std::size_t>(requestJson.size(), 4096)));
        std::string quoted;
        policy::appendJsonString(quoted, text);
        logDenied(out, "{\"undecodable\":" + quoted + "}");
        return out;
    }
    return decide(request);
}

Decision Monitor::decide(const policy::Request& request) {
    Decision out;
    auto snap = current();
    if (!snap) {
        deny(out, "no bundle is loaded");
        return out;
    }
    out.measurement = snap->measurement;
    out.generation = snap->generation;
    for (const auto& [name, value] : request.fields) {
        if (name == "session.taint" || name == "session.approvals") {
            deny(out, name + ": kept by the monitor; a request cannot supply it");
            logDenied(out, policy::requestToJson(request));
            return out;
        }
    }
    if (!request.counts.empty()) {
        deny(out, "state.counts: kept by the monitor; a request cannot supply it");
        logDenied(out, policy::requestToJson(request));
        return out;
    }
    policy::Interned in;
    policy::Scratch scratch;
    policy::Decision raw;
    std::string error, keys;
    if (!snap->engine.intern(request, in, error, false)) {
        deny(out, error);
        logDenied(out, policy::requestToJson(request));
        return out;
    }
    std::vector<std::uint64_t> items;
    run(*snap, in, scratch, raw, keys, items, true, out);
    return out;
}

void Monitor::decide(Builder& builder, Decision& out) {
    out.logSeq = 0;
    if (!builder.snapshot_) {
        out.measurement = {};
        out.generation = 0;
        deny(out, "builder: not bound to a bundle (rebind it)");
        logDenied(out, "{\"builder\":\"unbound\"}");
        return;
    }
    const Snapshot& snap = *builder.snapshot_;
    out.measurement = snap.measurement;
    out.generation = snap.generation;
    if (snap.generation != generation_.load(std::memory_order_acquire)) {
        deny(out, "stale builder: the bundle was reloaded (rebind it)");
        logDenied(out, "{\"builder\":\"stale\"}");
        return;
    }
    if (!builder.error_.empty() || builder.interned_.context.empty()) {
        deny(out, builder.error_.empty() ? "builder: reset() was not called" : builder.error_);
        logDenied(out, "{\"builder\":\"incomplete\"}");
        return;
    }
    run(snap, builder.interned_, builder.scratch_, builder.raw_, builder.keyBuffer_, builder.items_, builder.describe_,
        out);
    builder.error_ = "builder: reset() was not called";  // a built request is decided once
}

void Monitor::run(const Snapshot& snap, policy::Interned& in, policy::Scratch& scratch, policy::Decision& raw,
                  std::string& key, std::vector<std::uint64_t>& items, bool describe, Decision& out) {
    State& st = *state_;
    const Limits& limits = options_.limits;
    const policy::Engine& engine = snap.engine;
    const policy::Image& image = engine.image();
    const std::int64_t now = options_.monotonicNs();
    const auto action = static_cast<Action>(in.context[0]);

    // The keys of this request's state: its session (session.id, else one implicit session per agent, so that
    // leaving out the id cannot shed taint) and the values rate limits are counted per (language.md 5.6).
    std::string_view agentName = image.text(image.agents[in.context[2]].name);
    std::string_view sessionId, user;
    const bool hasSession = snap.slotText(in, snap.slotSessionId, sessionId);
    const bool hasUser = snap.slotText(in, snap.slotUser, user);
    const char sessionKind = hasSession ? 's' : 'a';
    const std::string_view sessionText = hasSession ? sessionId : agentName;
    auto keyText = [&](policy::Rule::LimitKey k, char& kind) -> std::string_view {
        switch (k) {
            case policy::Rule::LimitKey::Agent: kind = 'a'; return agentName;
            case policy::Rule::LimitKey::Session: kind = 's'; return hasSession ? sessionId : std::string_view();
            case policy::Rule::LimitKey::User: kind = 'u'; return hasUser ? user : std::string_view();
            case policy::Rule::LimitKey::Tool:
                kind = 't';
                return action == Action::Tool ? std::string_view(image.text(image.tools[in.context[1]].name))
                                              : std::string_view();
        }
        kind = '?';
        return {};
    };
    auto counterKey = [&](const Snapshot::Limited& l) -> std::size_t {
        char kind = '?';
        const std::string_view text = keyText(l.key, kind);
        key.assign(l.identity);
        key += '\x1e';
        key += kind;
        key.append(text);
        return stripeOf(kind, text);
    };

    // At a bound, what has expired everywhere is dropped first (at most every 100 ms, one stripe at a time, before
    // this request takes any lock), so that the checks below see only live state.
    const bool sessionsFull =
        st.sessions.load(std::memory_order_relaxed) >= static_cast<std::int64_t>(limits.maxSessions);
    const bool eventsFull =
        st.rateEvents.load(std::memory_order_relaxed) >= static_cast<std::int64_t>(limits.maxRateEvents);
    if (sessionsFull || eventsFull) {
        std::int64_t last = st.lastFullSweep.load(std::memory_order_relaxed);
        if (now - last >= 100'000'000 && st.lastFullSweep.compare_exchange_strong(last, now)) {
            if (sessionsFull)
                for (auto& stripe : st.sessionStripes) {
                    std::lock_guard lock(stripe.mutex);
                    st.sweepSessions(stripe, now, limits.sessionIdleNs);
                }
            if (eventsFull)
                for (auto& stripe : st.counterStripes) {
                    std::lock_guard lock(stripe.mutex);
                    st.sweepCounters(stripe, now);
                }
        }
    }

    // The session's state goes into the request before the program runs.
    State::SessionStripe& sessionStripe = st.sessionStripes[stripeOf(sessionKind, sessionText)];
    std::unique_lock sessionLock(sessionStripe.mutex);
    key.assign(1, sessionKind);
    key.append(sessionText);
    auto session = sessionStripe.sessions.find(key);
    if (session != sessionStripe.sessions.end() && now - session->second.lastUsed >= limits.sessionIdleNs) {
        sessionStripe.sessions.erase(session);
        st.sessions.fetch_sub(1, std::memory_order_relaxed);
        session = sessionStripe.sessions.end();
    }
    if (session != sessionStripe.sessions.end()) {
        session->second.lastUsed = now;
        Session& ses = session->second;
        if (ses.generation != snap.generation) {
            ses.taintIds.clear();
            for (const std::string& label : ses.taint) ses.taintIds.push_back(engine.labelIndex(label));
            ses.approvalIds.clear();
            for (const std::string& role : ses.approvals) ses.approvalIds.push_back(engine.stringId(role));
            ses.generation = snap.generation;
        }
        items.clear();
        for (std::size_t i = 0; i < ses.taint.size(); ++i)
            items.push_back(ses.taintIds[i] != kNone ? ses.taintIds[i] : engine.internLabel(in, ses.taint[i]));
        engine.setSlot(in, snap.slotTaint, engine.internSet(in, items));
        items.clear();
        for (std::size_t i = 0; i < ses.approvals.size(); ++i)
            items.push_back(ses.approvalIds[i] != kNone ? ses.approvalIds[i]
                                                        : engine.internString(in, ses.approvals[i]));
        engine.setSlot(in, snap.slotApprovals, engine.internSet(in, items));
    }
    engine.finish(in);
    if (!engine.evaluate(in, scratch, raw)) {
        sessionLock.unlock();
        deny(out, raw.error);
        if (options_.log) logDenied(out, policy::requestToJson(describeRequest(engine, in)));
        return;
    }

    // Counters of the limited rules whose bodies matched: only the combiner reads them.
    std::array<std::size_t, 8> stripes{};
    std::size_t nStripes = 0;
    bool manyStripes = false;
    for (const auto& [rule, value] : scratch.matches) {
        if (rule >= image.rules.size() || !image.rules[rule].limited) continue;
        const std::size_t s = counterKey(snap.limited[rule]);
        if (std::find(stripes.begin(), stripes.begin() + nStripes, s) != stripes.begin() + nStripes) continue;
        if (nStripes == stripes.size()) {
            manyStripes = true;
            break;
        }
        stripes[nStripes++] = s;
    }
    for (std::size_t i = 1; i < nStripes; ++i)  // a handful: insertion sort, in the order locks are taken
        for (std::size_t j = i; j > 0 && stripes[j - 1] > stripes[j]; --j) std::swap(stripes[j - 1], stripes[j]);
    // More than 8 distinct stripes cannot happen (four keys), but if it did every stripe is taken, in order.
    struct CounterLocks {
        State& st;
        const std::array<std::size_t, 8>& stripes;
        std::size_t n;
        bool all;
        bool held = false;
        void lock() {
            if (all)
                for (auto& s : st.counterStripes) s.mutex.lock();
            else
                for (std::size_t i = 0; i < n; ++i) st.counterStripes[stripes[i]].mutex.lock();
            held = true;
        }
        void clear() {
            if (!held) return;
            if (all)
                for (auto& s : st.counterStripes) s.mutex.unlock();
            else
                for (std::size_t i = 0; i < n; ++i) st.counterStripes[stripes[i]].mutex.unlock();
            held = false;
        }
        ~CounterLocks() { clear(); }
    } counterLocks{st, stripes, nStripes, manyStripes};
    counterLocks.lock();
    in.counts.clear();
    for (const auto& [rule, value] : scratch.matches) {
        if (rule >= image.rules.size() || !image.rules[rule].limited) continue;
        if (!in.counts.empty() && in.counts.back().first == rule) continue;  // matches are not sorted yet: harmless
        const std::size_t s = counterKey(snap.limited[rule]);
        auto& counters = st.counterStripes[s].counters;
        auto it = counters.find(key);
        std::int64_t count = 0;
        if (it != counters.end()) {
            st.prune(it->second, now);
            count = static_cast<std::int64_t>(it->second.events.size());
        }
        engine.setCount(in, rule, count);
    }
    std::sort(in.counts.begin(), in.counts.end());
    in.counts.erase(std::unique(in.counts.begin(), in.counts.end()), in.counts.end());
    engine.combine(in, scratch, raw);
    if (!raw.error.empty()) {
        counterLocks.clear();
        sessionLock.unlock();
        deny(out, raw.error);
        if (options_.log) logDenied(out, policy::requestToJson(describeRequest(engine, in)));
        return;
    }

    // State after the decision (language.md 10): events for limited forbids whose body matched and for the
    // limited permits of an allow; the taint of an allowed read or call; an approval to wait for. Every bound is
    // checked before anything changes, and a request that would pass one is denied.
    const bool pending = raw.allow && !raw.approve.empty();
    std::size_t events = 0;
    auto eventFor = [&](std::uint32_t rule, std::uint8_t value) {
        const policy::Rule& r = image.rules[rule];
        if (!r.limited) return false;
        if (r.kind == policy::Rule::Kind::Forbid) return (value & 0x7F) >= 1;
        return r.kind == policy::Rule::Kind::Permit && raw.allow && (value & 0x80) && (value & 0x7F) == 2;
    };
    const auto& m = scratch.matches;  // sorted by the combiner; a rule's last entry is the one it used
    for (std::size_t i = 0; i < m.size(); ++i)
        if ((i + 1 == m.size() || m[i + 1].first != m[i].first) && eventFor(m[i].first, m[i].second)) ++events;
    std::uint32_t newLabel = kNone;
    if (raw.allow && action == Action::Tool) newLabel = image.tools[in.context[1]].label;
    if (raw.allow && action == Action::Read) newLabel = image.data[in.context[1]].label;
    const bool needSession = newLabel != kNone && session == sessionStripe.sessions.end();
    std::string full;
    if (events > 0 && st.rateEvents.load(std::memory_order_relaxed) + static_cast<std::int64_t>(events) >
                          static_cast<std::int64_t>(limits.maxRateEvents)) {
        for (std::size_t i = 0; i < nStripes && !manyStripes; ++i) st.sweepCounters(st.counterStripes[stripes[i]], now);
        if (st.rateEvents.load(std::memory_order_relaxed) + static_cast<std::int64_t>(events) >
            static_cast<std::int64_t>(limits.maxRateEvents))
            full = "state full: " + std::to_string(limits.maxRateEvents) + " rate-limit events are held";
    }
    if (full.empty() && needSession &&
        st.sessions.load(std::memory_order_relaxed) >= static_cast<std::int64_t>(limits.maxSessions)) {
        st.sweepSessions(sessionStripe, now, limits.sessionIdleNs);
        if (st.sessions.load(std::memory_order_relaxed) >= static_cast<std::int64_t>(limits.maxSessions))
            full = "state full: " + std::to_string(limits.maxSessions) + " sessions are held";
    }
    std::unique_lock approvalsLock(st.approvalsMutex, std::defer_lock);
    if (full.empty() && pending) {
        approvalsLock.lock();
        if (st.approvals.size() >= limits.maxPending) st.sweepApprovals(now);
        if (st.approvals.size() >= limits.maxPending)
            full = "state full: " + std::to_string(limits.maxPending) + " approvals are held";
    }
    if (!full.empty()) {
        if (approvalsLock.owns_lock()) approvalsLock.unlock();
        counterLocks.clear();
        sessionLock.unlock();
        deny(out, full);
        if (options_.log) logDenied(out, policy::requestToJson(describeRequest(engine, in)));
        return;
    }
    for (std::size_t i = 0; i < m.size(); ++i) {
        if (!(i + 1 == m.size() || m[i + 1].first != m[i].first) || !eventFor(m[i].first, m[i].second)) continue;
        const Snapshot::Limited& l = snap.limited[m[i].first];
        const std::size_t s = counterKey(l);
        auto& stripe = st.counterStripes[s];
        auto [it, inserted] = stripe.counters.try_emplace(key);
        Counter& c = it->second;
        c.window = l.window;
        c.events.push_back(now);
        st.rateEvents.fetch_add(1, std::memory_order_relaxed);
        if (static_cast<std::int64_t>(c.events.size()) > l.limit) {
            c.events.pop_front();
            st.rateEvents.fetch_sub(1, std::memory_order_relaxed);
        }
        if (inserted && ++stripe.insertsSinceSweep >= 4096) st.sweepCounters(stripe, now);
    }
    if (newLabel != kNone) {
        if (needSession) {
            key.assign(1, sessionKind);
            key.append(sessionText);
            session = sessionStripe.sessions.try_emplace(key).first;
            session->second.lastUsed = now;
            st.sessions.fetch_add(1, std::memory_order_relaxed);
        }
        if (insertSorted(session->second.taint, image.text(image.lattice.names[newLabel])))
            session->second.generation = 0;
    }
    std::uint64_t pendingId = 0;
    if (pending) {
        PendingApproval p;
        p.sessionKey.assign(1, sessionKind);
        p.sessionKey.append(sessionText);
        for (std::uint32_t role : raw.approve) p.roles.push_back(image.text(role));
        std::sort(p.roles.begin(), p.roles.end());
        p.expires = now + limits.approvalTtlNs;
        p.measurement = snap.measurement;
        do {
            if (RAND_bytes(reinterpret_cast<unsigned char*>(&pendingId), sizeof pendingId) != 1) pendingId = 0;
        } while (pendingId == 0 || st.approvals.count(pendingId));
        st.approvals.emplace(pendingId, std::move(p));
        ++st.approvalsWaiting;
        approvalsLock.unlock();
    }
    counterLocks.clear();
    sessionLock.unlock();

    out.verdict = !raw.allow ? Verdict::Deny : pending ? Verdict::Pending : Verdict::Allow;
    out.error.clear();
    out.limited = std::any_of(m.begin(), m.end(), [&](const auto& match) {
        return match.first < image.rules.size() && image.rules[match.first].limited;
    });
    out.pendingId = pendingId;
    out.audit = raw.audit;
    if (describe || options_.log) {
        out.reason = policy::decisionReason(raw, image);
        out.rules.resize(raw.rules.size());
        out.principals.clear();
        for (std::size_t i = 0; i < raw.rules.size(); ++i) {
            const policy::Rule& r = image.rules[raw.rules[i]];
            RuleRef& ref = out.rules[i];
            ref.id = image.text(r.id);
            ref.principal = image.text(r.principal);
            ref.module = image.text(image.modules[r.module].name);
            ref.line = r.line;
            ref.forbid = r.kind == policy::Rule::Kind::Forbid;
            if (std::find(out.principals.begin(), out.principals.end(), ref.principal) == out.principals.end())
                out.principals.push_back(ref.principal);
        }
        out.redact.resize(raw.redact.size());
        for (std::size_t i = 0; i < raw.redact.size(); ++i) out.redact[i] = image.text(raw.redact[i]);
        out.approve.resize(raw.approve.size());
        for (std::size_t i = 0; i < raw.approve.size(); ++i) out.approve[i] = image.text(raw.approve[i]);
    }
    if (options_.log) {
        std::string error;
        const policy::Request request = describeRequest(engine, in);
        const std::string whole = policy::requestToJson(request);
        const std::string redacted = out.redact.empty() ? whole : policy::requestToJson(request, out.redact);
        LogEntry entry;
        entry.kind = LogEntry::Kind::Decision;
        entry.timeNs = options_.wallNs();
        entry.request = redacted;
        entry.requestDigest = sha256(whole);
        entry.decision = out.json();
        entry.measurement = snap.measurement;
        auto seq = options_.log(entry);
        if (!seq) {
            // Nothing the log did not take is allowed. The state already counts the request, which errs on the
            // side of denying later ones.
            if (pendingId) {
                std::lock_guard lock(st.approvalsMutex);
                auto it = st.approvals.find(pendingId);
                if (it != st.approvals.end() && it->second.state == Approval::Pending) {
                    it->second.state = Approval::Refused;
                    --st.approvalsWaiting;
                }
            }
            deny(out, "decision log: " + seq.error());
            return;
        }
        out.logSeq = *seq;
    }
    st.decisions.fetch_add(1, std::memory_order_relaxed);
    (out.verdict == Verdict::Deny    ? st.denied
     : out.verdict == Verdict::Allow ? st.allowed
                                     : st.pending)
        .fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t Monitor::log(LogEntry::Kind kind, std::string request, std::string decision,
                           const bundle::Measurement& measurement, std::string& error) {
    if (!options_.log) return 0;
    LogEntry entry;
    entry.kind = kind;
    entry.timeNs = options_.wallNs();
    entry.requestDigest = sha256(request);
    entry.request = std::move(request);
    entry.decision = std::move(decision);
    entry.measurement = measurement;
    auto seq = options_.log(entry);
    if (!seq) {
        error = seq.error();
        return 0;
    }
    return *seq;
}

Result<std::uint64_t> Monitor::record(LogEntry::Kind kind, std::string_view request, std::string_view decision) {
    if (!options_.log) return std::uint64_t{0};
    auto snap = current();
    std::string error;
    const std::uint64_t seq =
        log(kind, std::string(request), std::string(decision), snap ? snap->measurement : bundle::Measurement{}, error);
    if (!error.empty()) return bundle::Error{"decision log: " + error};
    return seq;
}

// ---- approvals ----

namespace {

Result<Approval> failApproval(std::uint64_t id, std::string what) {
    return bundle::Error{"approval " + hex16(id) + ": " + std::move(what)};
}

}  // namespace

Result<Approval> Monitor::grant(std::uint64_t id, std::string_view role) {
    return answer(id, role, true);
}

Result<Approval> Monitor::refuse(std::uint64_t id, std::string_view role) {
    return answer(id, role, false);
}

Result<Approval> Monitor::answer(std::uint64_t id, std::string_view role, bool grant) {
    State& st = *state_;
    const std::int64_t now = options_.monotonicNs();
    std::string sessionKey;
    Approval result = Approval::Unknown;
    bundle::Measurement measurement;
    {
        std::lock_guard lock(st.approvalsMutex);
        auto it = st.approvals.find(id);
        if (it == st.approvals.end()) return failApproval(id, "no such approval (unknown, or answered long ago)");
        PendingApproval& p = it->second;
        if (p.state == Approval::Pending && now >= p.expires) {
            p.state = Approval::Expired;
            --st.approvalsWaiting;
            st.approvalsChanged.notify_all();
        }
        if (p.state != Approval::Pending) return failApproval(id, std::string("already ") + approvalName(p.state));
        if (!std::binary_search(p.roles.begin(), p.roles.end(), role))
            return failApproval(id, "role `" + std::string(role) + "` was not asked to approve it");
        if (grant) {
            insertSorted(p.granted, role);
            if (p.granted.size() == p.roles.size()) {
                p.state = Approval::Approved;
                --st.approvalsWaiting;
            }
        } else {
            p.state = Approval::Refused;
            --st.approvalsWaiting;
        }
        result = p.state;
        sessionKey = p.sessionKey;
        measurement = p.measurement;
        st.approvalsChanged.notify_all();
    }
    if (grant && !sessionKey.empty()) {
        // The role is now among the session's approvals (session.approvals), for rules that ask for it. At the
        // session bound a new session is not made: rules that require the approval then deny (fail closed).
        auto& stripe = st.sessionStripes[stripeOf(sessionKey[0], std::string_view(sessionKey).substr(1))];
        std::lock_guard lock(stripe.mutex);
        auto session = stripe.sessions.find(sessionKey);
        if (session == stripe.sessions.end() &&
            st.sessions.load(std::memory_order_relaxed) < static_cast<std::int64_t>(options_.limits.maxSessions)) {
            session = stripe.sessions.try_emplace(sessionKey).first;
            st.sessions.fetch_add(1, std::memory_order_relaxed);
        }
        if (session != stripe.sessions.end()) {
            session->second.lastUsed = now;
            if (insertSorted(session->second.approvals, role)) session->second.generation = 0;
        }
    }
    std::string event = "{\"approval\":\"" + hex16(id) + "\",\"role\":";
    policy::appendJsonString(event, role);
    event +=
        std::string(",\"answer\":\"") + (grant ? "grant" : "refuse") + "\",\"state\":\"" + approvalName(result) + "\"}";
    std::string error;
    log(LogEntry::Kind::Approval, "", event, measurement, error);
    if (!error.empty()) return failApproval(id, "answer recorded, but the decision log failed: " + error);
    return result;
}

Approval Monitor::approval(std::uint64_t id) {
    State& st = *state_;
    std::lock_guard lock(st.approvalsMutex);
    auto it = st.approvals.find(id);
    if (it == st.approvals.end()) return Approval::Unknown;
    if (it->second.state == Approval::Pending && options_.monotonicNs() >= it->second.expires) {
        it->second.state = Approval::Expired;
        --st.approvalsWaiting;
    }
    return it->second.state;
}

Approval Monitor::wait(std::uint64_t id, std::chrono::milliseconds timeout) {
    State& st = *state_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(st.approvalsMutex);
    for (;;) {
        auto it = st.approvals.find(id);
        if (it == st.approvals.end()) return Approval::Unknown;
        PendingApproval& p = it->second;
        const std::int64_t now = options_.monotonicNs();
        if (p.state == Approval::Pending && now >= p.expires) {
            p.state = Approval::Expired;
            --st.approvalsWaiting;
        }
        if (p.state != Approval::Pending) return p.state;
        // Wake at the deadline or the approval's expiry, whichever is first (expiry on the monitor's clock).
        const auto untilExpiry = std::chrono::nanoseconds(p.expires - now);
        const auto wake = std::min(deadline, std::chrono::steady_clock::now() + untilExpiry);
        if (st.approvalsChanged.wait_until(lock, wake) == std::cv_status::timeout &&
            std::chrono::steady_clock::now() >= deadline) {
            it = st.approvals.find(id);
            return it == st.approvals.end() ? Approval::Unknown : it->second.state;
        }
    }
}

Monitor::Stats Monitor::stats() const {
    const State& st = *state_;
    Stats s;
    s.decisions = st.decisions.load();
    s.allowed = st.allowed.load();
    s.denied = st.denied.load();
    s.errors = st.errors.load();
    s.pending = st.pending.load();
    s.reloads = st.reloads.load();
    s.refused = st.refused.load();
    s.rateEvents = static_cast<std::size_t>(std::max<std::int64_t>(0, st.rateEvents.load()));
    s.sessions = static_cast<std::size_t>(std::max<std::int64_t>(0, st.sessions.load()));
    {
        std::lock_guard lock(const_cast<State&>(st).approvalsMutex);
        s.approvalsWaiting = st.approvalsWaiting;
    }
    return s;
}

}  // namespace omega::monitor
