// The reference monitor (docs/monitor.md): a loaded, verified bundle that decides requests, the state that rules
// read (rate counters, session taint, approvals), atomic hot reload, and the decision log. Thread-safe; every
// failure is a deny with a reason. The C ABI (omega/monitor.h) is a thin layer over this class.
#pragma once

#include "omega/attest/Binding.h"
#include "omega/bundle/Bundle.h"
#include "omega/bundle/Keys.h"
#include "omega/policy/Engine.h"
#include "omega/policy/Request.h"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace omega::attest {
class Provider;
struct Evidence;
}  // namespace omega::attest

namespace omega::monitor {

template <typename T>
using Result = bundle::Result<T>;

// Bounds on the state the monitor keeps. At a bound the monitor refuses what would need more (a deny with reason
// "state full: ..."); it never forgets state that could change a decision (docs/monitor.md, "State").
struct Limits {
    std::size_t maxRateEvents = 4u << 20;  // timestamps held by all rate counters together (8 bytes each)
    std::size_t maxSessions = 1u << 18;    // sessions with taint or approvals
    std::int64_t sessionIdleNs = std::int64_t{24} * 3600 * 1000000000;  // a session unused this long is forgotten
    std::size_t maxPending = 1u << 16;                                  // approvals waiting for an answer
    std::int64_t approvalTtlNs = std::int64_t{15} * 60 * 1000000000;    // a pending approval expires after this
    std::uint64_t maxBundleBytes = 64u << 20;
};

// What the monitor hands to the decision log (omega_log's Writer, through logTo() in omega/monitor/Log.h).
struct LogEntry {
    enum class Kind : std::uint8_t { Decision = 1, Approval = 2, Event = 3 };
    Kind kind = Kind::Decision;
    std::int64_t timeNs = 0;  // wall clock
    std::string request;      // one line of JSON, redacted per the decision's obligations ("" for events)
    std::array<std::uint8_t, 32> requestDigest{};  // SHA-256 of the request before redaction
    std::string decision;                          // one line of JSON
    bundle::Measurement measurement{};
};
// Appends an entry and returns its sequence number once it is as durable as the log promises. Called from many
// threads at once. An error makes the decision a deny: nothing is allowed that the log did not take.
using LogSink = std::function<Result<std::uint64_t>(const LogEntry&)>;
// The log's head (its last record's seq and chain hash; seq 0: empty), which attestation binds (headOf() in Log.h).
struct LogHead {
    std::uint64_t seq = 0;
    std::array<std::uint8_t, 32> hash{};
};
using LogHeadSource = std::function<LogHead()>;

struct Options {
    std::vector<bundle::PublicKey> trusted;  // a bundle must carry a valid signature by one of these
    bool allowUnsigned = false;              // only when `trusted` is empty: accept unsigned bundles (tests, tools)
    Limits limits;
    LogSink log;            // when set, every decision, approval answer and reload is logged before the call returns
    LogHeadSource logHead;  // the head attest() binds; unset: seq 0 and zeros (no log)
    // Clocks, replaceable for tests: monotonic nanoseconds for windows and expiry, wall-clock for log records.
    std::function<std::int64_t()> monotonicNs;
    std::function<std::int64_t()> wallNs;
};

enum class Verdict : std::uint8_t { Deny = 0, Allow = 1, Pending = 2 };  // Pending: allowed once approved

// A rule that decided, by name.
struct RuleRef {
    std::string id;  // "module:line"
    std::string principal;
    std::string module;
    std::uint32_t line = 0;
    bool forbid = false;
};

struct Decision {
    Verdict verdict = Verdict::Deny;
    std::string reason;  // one line for people
    std::string error;   // set when the request could not be decided (the verdict is then Deny)
    std::vector<RuleRef> rules;
    std::vector<std::string> principals;
    bool audit = false;
    std::vector<std::string> redact;
    std::vector<std::string> approve;  // roles that must approve (Pending)
    // A rate-limited rule's body matched: its counters took part, so the same request may be decided differently
    // later. A caller that caches decisions (the CUDA gate, docs/gpu.md) must not cache this one.
    bool limited = false;
    std::uint64_t pendingId = 0;        // Pending: the id to approve, refuse or wait for
    bundle::Measurement measurement{};  // the bundle that decided (all zeros when none was loaded)
    std::uint64_t generation = 0;       // how many bundles had been loaded when it decided (0: none)
    std::uint64_t logSeq = 0;           // the decision's record in the log (0: no log)
    // One line, the form of docs/requests.md plus "pending", "bundle", "generation" and "log_seq".
    std::string json() const;
};

// One loaded bundle and what the monitor derives from it. Shared by every decision made with it; immutable.
class Snapshot;

// A request built from ids resolved once against one snapshot, for callers that decide the same kinds of request
// many times (the CUDA gate, a gateway): no JSON, no string lookups and, once its buffers have grown, no
// allocation per request. A builder belongs to one thread at a time. After a reload its ids are stale: decide()
// then denies with Decision::error "stale builder" and the caller calls rebind() and resolves its ids again.
class Builder {
public:
    Builder() = default;
    bool bound() const { return snapshot_ != nullptr; }
    std::uint64_t generation() const;
    // The policy image of the bundle it is bound to (null when unbound): its declarations type the values.
    const policy::Image* image() const;

    // Lookups, done once: kNone (policy::kNone) when the policy has no such name.
    std::uint32_t agent(std::string_view name) const;
    std::uint32_t tool(std::string_view name) const;
    std::uint32_t data(std::string_view name) const;
    std::uint32_t field(std::string_view path) const;  // a supplied field such as "request.purpose": its slot
    std::uint32_t param(std::uint32_t tool, std::string_view name) const;  // the argument's slot
    std::uint32_t string(std::string_view text) const;  // a string the policy names (kNone: it names no such string)
    std::uint32_t label(std::string_view name) const;   // a declared label

    // Per request: reset(), then values, then Monitor::decide(builder). Strings may be any text; ones the policy
    // does not name get request-local ids. `session` and `user` are the state keys (session.id, request.user).
    bool reset(schema::Action action, std::uint32_t target, std::uint32_t agent,
               std::uint32_t recipient = policy::kNone);
    void setInt(std::uint32_t slot, std::int64_t value);  // int, size (bytes), duration (ns), bool (0/1)
    void setString(std::uint32_t slot, std::string_view text);
    void setLabel(std::uint32_t slot, std::string_view name);
    void setStringId(std::uint32_t slot, std::uint32_t id);  // an id from string(): no lookup per request
    void setLabelId(std::uint32_t slot, std::uint32_t id);   // an id from label()
    void setStringSet(std::uint32_t slot, std::span<const std::string_view> items);
    void setSession(std::string_view id);
    void setUser(std::string_view user);
    // Whether decide() fills the names (rules, principals, obligations, reason) of the decision; without them a
    // steady stream of decisions allocates nothing. On by default.
    void describe(bool on) { describe_ = on; }
    // Marks the request being built as bad (a null or unreadable argument from a caller): deciding it denies.
    void poison() {
        if (error_.empty()) error_ = "builder: a bad argument";
    }

private:
    friend class Monitor;
    std::shared_ptr<const Snapshot> snapshot_;
    policy::Interned interned_;
    policy::Scratch scratch_;
    policy::Decision raw_;
    std::string error_;  // the first error of this request's building
    std::vector<std::uint64_t> items_;
    bool describe_ = true;
    std::string keyBuffer_;  // counter keys, built per request in reused capacity
};

// What attest() returns: the platform's evidence and everything its REPORT_DATA binds (docs/attestation.md).
struct Attestation {
    std::vector<std::uint8_t> report;
    std::string certificates;  // PEM, from the provider ("" when it gave none)
    std::string provider;
    bool hardware = false;
    attest::Binding binding;  // measurement, modules root, log head, nonce, GPU evidence digest
    attest::ReportData reportData{};
    std::uint64_t generation = 0;  // of the bundle it attests
    // One line of JSON: the reply of omegad's attest call and the input of `omegac attest verify --evidence`.
    std::string json() const;
};

// State of an approval (Decision::pendingId).
enum class Approval : std::uint8_t { Unknown = 0, Pending = 1, Approved = 2, Refused = 3, Expired = 4 };
const char* approvalName(Approval a);

class Monitor {
public:
    explicit Monitor(Options options);
    ~Monitor();
    Monitor(const Monitor&) = delete;
    Monitor& operator=(const Monitor&) = delete;

    // Loads a bundle, or replaces the loaded one atomically. A bundle that fails any check (container, signature,
    // image, bytecode) is refused with the failed check and the old one stays. State carries over: counters of rules
    // whose identity (id, kind, limit, window, key) is unchanged, all taint and approvals.
    Result<bundle::Measurement> load(std::span<const std::uint8_t> bytes);
    Result<bundle::Measurement> loadFile(const std::string& path);
    bool loaded() const;
    bundle::Measurement measurement() const;  // of the loaded bundle (zeros when none)
    // The loaded bundle's policy image (null when none), for callers that read its tables (a gateway: tools, pins,
    // callers). It shares ownership of the bundle, so it stays valid and unchanged across a reload.
    std::shared_ptr<const policy::Image> image() const;
    std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

    // Decides, then updates the state (section 10 of docs/language.md) and logs. Never throws; every error denies.
    Decision decide(std::string_view requestJson);
    Decision decide(const policy::Request& request);
    // The builder path: fills `out` (reusing its buffers).
    void decide(Builder& builder, Decision& out);
    // Binds a builder to the loaded bundle (again, after a reload). False when no bundle is loaded.
    bool rebind(Builder& builder) const;

    // Approvals. grant() records `role`'s approval (and adds the role to the session's approvals); once every
    // role has approved, the approval is Approved. refuse() makes it Refused. Both fail for an unknown, expired or
    // answered id or a role that was not asked. wait() blocks until the approval is answered, expires or the
    // timeout passes, and returns its state.
    Result<Approval> grant(std::uint64_t id, std::string_view role);
    Result<Approval> refuse(std::uint64_t id, std::string_view role);
    Approval approval(std::uint64_t id);
    Approval wait(std::uint64_t id, std::chrono::milliseconds timeout);

    // Attestation: binds the loaded bundle's measurement and module root, the log head and `nonce` (and the GPU
    // evidence digest when given) into REPORT_DATA and asks `provider` for a report. The attestation is logged as
    // an event after the head was taken. Fails when no bundle is loaded or the provider fails.
    Result<Attestation> attest(const attest::Nonce& nonce, attest::Provider& provider,
                               const std::optional<attest::Sha384>& gpuEvidence = std::nullopt);

    // Logs what an enforcement point decided or saw itself (omega-gate's built-in denials of shadowing tools and
    // changed tool descriptions, and its findings), with the loaded bundle's measurement: a Decision record with a
    // one-line request and decision, or an Event with `decision` only. The record's seq; 0 when no log is kept.
    // An error when the log refused it (the caller then denies what it was about to allow).
    Result<std::uint64_t> record(LogEntry::Kind kind, std::string_view request, std::string_view decision);

    // What the state holds now, for status calls and tests.
    struct Stats {
        std::uint64_t decisions = 0, allowed = 0, denied = 0, errors = 0, pending = 0, reloads = 0, refused = 0;
        std::size_t rateEvents = 0, sessions = 0, approvalsWaiting = 0;
    };
    Stats stats() const;

private:
    struct State;
    // The common path of every decide(): state in, run, state out, log. `in` is interned but not finished.
    void run(const Snapshot& snap, policy::Interned& in, policy::Scratch& scratch, policy::Decision& raw,
             std::string& keyBuffer, std::vector<std::uint64_t>& items, bool describe, Decision& out);
    void deny(Decision& out, std::string error) const;
    void logDenied(Decision& out, const std::string& request);
    Result<Approval> answer(std::uint64_t id, std::string_view role, bool grant);
    std::uint64_t log(LogEntry::Kind kind, std::string request, std::string decision,
                      const bundle::Measurement& measurement, std::string& error);
    std::shared_ptr<const Snapshot> current() const;

    Options options_;
    mutable std::mutex loadMutex_;  // serialises loads; guards snapshot_ writes
    std::shared_ptr<const Snapshot> snapshot_;
    std::atomic<std::uint64_t> generation_{0};
    std::unique_ptr<State> state_;
};

}  // namespace omega::monitor
