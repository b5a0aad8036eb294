// In-process decisions through the monitor library (docs/performance.md, "Monitor"): the whole path a caller pays
// for, the session and rate-limit state included, on 1 and 2 threads. (a) the builder: ids resolved once, values set
// per request, Monitor::decide(Builder&); (b) JSON: Monitor::decide(text). Policies and requests as in
// decision_bench (bench::scaledPolicy, 1,024 generator requests each); sessions cycle over 64 ids per thread.
#include "GeneratePolicy.h"
#include "Tsc.h"
#include "omega/bundle/Bundle.h"
#include "omega/codegen/CodeGen.h"
#include "omega/gen/Generate.h"
#include "omega/monitor/Monitor.h"
#include "omega/policy/Json.h"
#include "omega/policy/Serialize.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>

using namespace omega;

namespace {

// A request as builder calls: what to reset to, then the values to set.
struct Script {
    schema::Action action = schema::Action::Tool;
    std::uint32_t target = policy::kNone, agent = policy::kNone, recipient = policy::kNone;
    struct Set {
        std::uint32_t slot = 0;
        policy::Value value;
        std::uint32_t id = policy::kNone;  // a string or label the policy names, resolved once
    };
    std::vector<Set> sets;
    std::string session;
};

struct Fixture {
    std::unique_ptr<monitor::Monitor> monitor;
    std::vector<std::string> json;
    std::vector<Script> scripts;
    std::string error;
};

Fixture& fixture(int rules) {
    static std::mutex mutex;
    static std::map<int, std::unique_ptr<Fixture>> cache;
    std::lock_guard lock(mutex);
    auto& f = cache[rules];
    if (f) return *f;
    f = std::make_unique<Fixture>();
    auto checked = gen::check({bench::scaledPolicy(rules)});
    if (!checked->ok()) {
        f->error = "the generated policy does not check";
        return *f;
    }
    policy::Image image;
    if (!codegen::generate(checked->modules, checked->model, checked->sm, {"bench"}, image, f->error)) return *f;
    auto bytes = bundle::encode(policy::toSections(image));
    monitor::Options options;
    options.allowUnsigned = true;  // signature checks happen at load only; not what is measured
    // Millions of decisions inside the policies' windows (up to an hour) fill rate counters to their limits; the
    // default bound (4 Mi events) would then deny, by design, and this measures the decision path, not the bound.
    options.limits.maxRateEvents = std::size_t{1} << 27;
    f->monitor = std::make_unique<monitor::Monitor>(options);
    if (auto loaded = f->monitor->load(*bytes); !loaded) {
        f->error = loaded.error();
        return *f;
    }
    monitor::Builder b;
    f->monitor->rebind(b);
    gen::RequestShape shape;
    shape.counts = 0;      // the monitor keeps counters; a request may not bring them
    shape.setPresent = 0;  // nor session.taint or session.approvals
    gen::RequestGenerator requests(checked->model, checked->modules, shape);
    for (std::uint64_t i = 0; f->json.size() < 1024 && i < 100000; ++i) {
        std::string text = requests(gen::mix(static_cast<std::uint64_t>(rules), i));
        // Every request gets a session id: one of 64, so that session state is looked up as it would be.
        const std::string session = "s" + std::to_string(i % 64);
        if (text.back() != '}') continue;
        policy::Request request;
        std::string why;
        const std::string withSession =
            text.find("\"session\"") == std::string::npos
                ? text.substr(0, text.size() - 1) + ",\"session\":{\"id\":\"" + session + "\"}}"
                : text;
        if (!f->monitor->decide(withSession).error.empty()) continue;
        // The same request as builder calls, through the decoder's typed form.
        monitor::Builder probe;
        f->monitor->rebind(probe);
        if (!policy::decodeRequest(withSession, image, request, why)) continue;
        Script s;
        s.action = request.action;
        s.agent = probe.agent(request.agent);
        s.recipient = request.action == schema::Action::Send ? probe.agent(request.recipient) : policy::kNone;
        s.target = request.action == schema::Action::Tool ? probe.tool(request.target)
                   : (request.action == schema::Action::Read || request.action == schema::Action::Write)
                       ? probe.data(request.target)
                       : policy::kNone;
        auto resolve = [&](const policy::Value& v) {
            if (v.kind == policy::Value::Kind::String || v.kind == policy::Value::Kind::Hash)
                return probe.string(v.text);
            if (v.kind == policy::Value::Kind::Label) return probe.label(v.text);
            return policy::kNone;
        };
        for (const auto& [name, value] : request.args)
            s.sets.push_back({probe.param(s.target, name), value, resolve(value)});
        bool ok = true;
        for (const auto& [name, value] : request.fields) {
            if (name == "session.id") {
                s.session = value.text;
                continue;
            }
            const std::uint32_t slot = probe.field(name);
            if (slot == policy::kNone) ok = false;
            s.sets.push_back({slot, value, resolve(value)});
        }
        if (!ok) continue;
        f->json.push_back(withSession);
        f->scripts.push_back(std::move(s));
    }
    if (f->json.empty()) f->error = "no request decodes";
    return *f;
}

void build(monitor::Builder& b, const Script& s) {
    b.reset(s.action, s.target, s.agent, s.recipient);
    std::string_view items[64];
    for (const Script::Set& set : s.sets) {
        switch (set.value.kind) {
            case policy::Value::Kind::Bool:
            case policy::Value::Kind::Int: b.setInt(set.slot, set.value.number); break;
            case policy::Value::Kind::String:
            case policy::Value::Kind::Hash:
                if (set.id != policy::kNone)
                    b.setStringId(set.slot, set.id);
                else
                    b.setString(set.slot, set.value.text);
                break;
            case policy::Value::Kind::Label:
                if (set.id != policy::kNone)
                    b.setLabelId(set.slot, set.id);
                else
                    b.setLabel(set.slot, set.value.text);
                break;
            case policy::Value::Kind::StringSet:
            case policy::Value::Kind::LabelSet: {
                const std::size_t n = std::min<std::size_t>(set.value.items.size(), 64);
                for (std::size_t i = 0; i < n; ++i) items[i] = set.value.items[i];
                b.setStringSet(set.slot, {items, n});
                break;
            }
        }
    }
    if (!s.session.empty()) b.setSession(s.session);
}

// Builder path: `state.range(0)` rules. Thread 0 also samples single decisions for the median and p99.
void BM_MonitorBuilder(benchmark::State& state) {
    Fixture& f = fixture(static_cast<int>(state.range(0)));
    if (!f.error.empty()) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    monitor::Builder b;
    f.monitor->rebind(b);
    b.describe(false);
    monitor::Decision d;
    std::size_t i = static_cast<std::size_t>(state.thread_index()) * 97, errors = 0;
    for (auto _ : state) {
        build(b, f.scripts[i++ % f.scripts.size()]);
        f.monitor->decide(b, d);
        if (!d.error.empty() && errors++ == 0 && state.thread_index() == 0) state.SetLabel(d.error);
        benchmark::DoNotOptimize(d.verdict);
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["errors"] = static_cast<double>(errors);
    if (state.thread_index() == 0 && state.threads() == 1) {
        const std::size_t samples = 100000;
        std::vector<std::uint64_t> ticks(samples);
        for (std::size_t k = 0; k < samples; ++k) {
            build(b, f.scripts[k % f.scripts.size()]);
            const std::uint64_t a = bench::fencedTsc();
            f.monitor->decide(b, d);
            ticks[k] = bench::fencedTsc() - a;
        }
        std::sort(ticks.begin(), ticks.end());
        state.counters["decide_median_ns"] = static_cast<double>(ticks[samples / 2]) * bench::nsPerTick();
        state.counters["decide_p99_ns"] = static_cast<double>(ticks[samples * 99 / 100]) * bench::nsPerTick();
    }
}

void BM_MonitorJson(benchmark::State& state) {
    Fixture& f = fixture(static_cast<int>(state.range(0)));
    if (!f.error.empty()) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    std::size_t i = static_cast<std::size_t>(state.thread_index()) * 97;
    for (auto _ : state) {
        auto d = f.monitor->decide(f.json[i++ % f.json.size()]);
        benchmark::DoNotOptimize(d.verdict);
    }
    state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_MonitorBuilder)->ArgName("rules")->Arg(10)->Arg(1000)->Arg(10000)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_MonitorJson)->ArgName("rules")->Arg(10)->Arg(10000)->Threads(1)->Threads(2)->UseRealTime();

BENCHMARK_MAIN();
