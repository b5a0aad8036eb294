// The CUDA gate's core (Gate.h): decisions, the registry of what was loaded, graphs, quotas, reload.
#include "Gate.h"

#include "Image.h"
#include "omega/bundle/Keys.h"
#include "omega/monitor/Log.h"
#include "omega/policy/Json.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>

namespace omega::cudagate {

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

std::int64_t times(std::int64_t a, std::int64_t b) {
    return b != 0 && a > kMax / b ? kMax : a * b;
}

// One write(2) per line, so that lines of concurrent threads do not interleave.
void say(const std::string& line) {
    std::string text = "omega-cuda-gate: " + line + "\n";
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(STDERR_FILENO, text.data() + done, text.size() - done);
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

// What each thread keeps: its decision cache, and a builder with the ids it resolved against the bundle it is
// bound to. Reached through an initial-exec TLS pointer (a couple of instructions on the launch path; the object
// itself lives on the heap so that the static TLS the gate takes stays a few bytes, as a dlopen of it needs), and
// freed at thread exit through a pthread key.
struct PerThread {
    std::uint64_t gate = 0;  // the serial of the gate the contents belong to (tests make several gates)
    DecisionCache cache;
    monitor::Builder builder;
    monitor::Decision decision;
    std::uint32_t agent = 0, module = 0, name = 0, grid = 0, block = 0, shared = 0, device = 0, bytes = 0,
                  bytesTotal = 0;
};

__attribute__((tls_model("initial-exec"))) thread_local PerThread* tPerThread = nullptr;
__attribute__((tls_model("initial-exec"))) thread_local int tDepth = 0;

pthread_key_t gThreadKey;
std::once_flag gThreadKeyOnce;
std::atomic<std::uint64_t> gSerial{0};

PerThread& perThread(std::uint64_t serial) {
    PerThread* t = tPerThread;
    if (t != nullptr && t->gate == serial) [[likely]]
        return *t;
    if (t == nullptr) {
        std::call_once(gThreadKeyOnce, [] {
            pthread_key_create(&gThreadKey, [](void* p) {
                delete static_cast<PerThread*>(p);
                tPerThread = nullptr;
            });
        });
        t = new PerThread;
        pthread_setspecific(gThreadKey, t);
        tPerThread = t;
    } else {
        *t = PerThread{};
    }
    t->gate = serial;
    return *t;
}

std::string hexHandle(const void* p) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%p", p);
    return buffer;
}

}  // namespace

Shape shapeOf(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned shared) {
    return {times(times(gx, gy), gz), times(times(bx, by), bz), shared};
}

bool reentered() {
    return tDepth > 0;
}
Guard::Guard() {
    ++tDepth;
}
Guard::~Guard() {
    --tDepth;
}

Gate::Gate(Config config, std::string configError, const Real& real)
    : config_(std::move(config)), closed_(std::move(configError)), real_(real), serial_(++gSerial) {}

Gate::~Gate() {
    stop();
}

void Gate::start() {
    monitor::Options options;
    if (closed_.empty()) {
        for (const std::string& path : config_.trust) {
            std::vector<std::uint8_t> pem;
            std::string error;
            if (!readFile(path.c_str(), pem, error)) {
                closed_ = "trust key: " + error;
                break;
            }
            auto key = bundle::loadPublicKey(std::string_view(reinterpret_cast<const char*>(pem.data()), pem.size()));
            if (!key) {
                closed_ = "trust key " + path + ": " + key.error();
                break;
            }
            options.trusted.push_back(std::move(*key));
        }
    }
    if (closed_.empty() && options.trusted.empty()) {
        if (config_.allowUnsigned) {
            options.allowUnsigned = true;
            say("accepting unsigned bundles (OMEGA_CUDA_ALLOW_UNSIGNED=1): for tests only");
        } else {
            closed_ = "no trusted key configured (OMEGA_CUDA_TRUST)";
        }
    }
    if (closed_.empty() && config_.bundle.empty()) closed_ = "no bundle configured (OMEGA_CUDA_BUNDLE)";
    if (closed_.empty() && !config_.log.empty()) {
        std::vector<std::uint8_t> pem;
        std::string error;
        if (config_.logKey.empty()) {
            closed_ = "decision log " + config_.log + ": no signing key (OMEGA_CUDA_LOG_KEY)";
        } else if (!readFile(config_.logKey.c_str(), pem, error)) {
            closed_ = "decision log key: " + error;
        } else if (auto key =
                       bundle::loadPrivateKey(std::string_view(reinterpret_cast<const char*>(pem.data()), pem.size()));
                   !key) {
            closed_ = "decision log key " + config_.logKey + ": " + key.error();
        } else {
            log::WriterOptions w;
            w.path = config_.log;
            w.key = std::move(*key);
            auto writer = log::Writer::open(std::move(w));
            if (!writer) {
                closed_ = "decision log " + config_.log + ": " + writer.error();
            } else {
                writer_ = std::move(*writer);
                options.log = monitor::logTo(*writer_);
                options.logHead = monitor::headOf(*writer_);
            }
        }
    }
    monitor_ = std::make_unique<monitor::Monitor>(std::move(options));
    if (!closed_.empty()) {
        say("closed, every gated call is denied: " + closed_);
        return;
    }
    reload();
    if (config_.reloadMs > 0) poller_ = std::thread([this] { poll(); });
}

void Gate::stop() {
    {
        std::lock_guard lock(pollMutex_);
        if (stopped_) return;
        stopped_ = stopping_ = true;
    }
    pollWake_.notify_all();
    if (poller_.joinable()) poller_.join();
    if (writer_) (void)writer_->close();
    if (config_.stats) {
        const Counters c = counters();
        say("stats calls=" + std::to_string(c.calls) + " cache_hits=" + std::to_string(c.cacheHits) +
            " decisions=" + std::to_string(c.decisions) + " denials=" + std::to_string(c.denials));
    }
}

Gate::Counters Gate::counters() const {
    return {calls_.load(), hits_.load(), decisions_.load(), denials_.load()};
}

// ---- reload ----

bool Gate::loadBundle(std::string& error) {
    struct stat st {};
    if (::stat(config_.bundle.c_str(), &st) != 0) {
        error = "cannot stat " + config_.bundle;
        return false;
    }
    std::vector<std::uint8_t> bytes;
    if (!readFile(config_.bundle.c_str(), bytes, error)) return false;
    // The stamp is taken before reading: a file replaced while it was read is seen as changed at the next poll.
    stamp_ = {static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
              static_cast<std::int64_t>(st.st_size), static_cast<std::uint64_t>(st.st_ino),
              static_cast<std::uint64_t>(st.st_dev)};
    auto loaded = monitor_->load(bytes);
    if (!loaded) {
        error = loaded.error();
        return false;
    }
    return true;
}

int Gate::reload(std::string* error) {
    if (!closed_.empty()) {
        if (error) *error = closed_;
        return -1;
    }
    std::lock_guard lock(reloadMutex_);
    std::string why;
    if (!loadBundle(why)) {
        say("bundle " + config_.bundle + " refused, " +
            (monitor_->loaded() ? "keeping generation " + std::to_string(monitor_->generation())
                                : std::string("no bundle is loaded")) +
            ": " + why);
        if (error) *error = why;
        return -1;
    }
    say("loaded bundle " + config_.bundle + " (generation " + std::to_string(monitor_->generation()) +
        ", measurement " + monitor_->measurement().hex().substr(0, 16) + "...)");
    return 0;
}

void Gate::poll() {
    std::unique_lock lock(pollMutex_);
    while (!stopping_) {
        pollWake_.wait_for(lock, std::chrono::milliseconds(config_.reloadMs));
        if (stopping_) break;
        lock.unlock();
        struct stat st {};
        if (::stat(config_.bundle.c_str(), &st) == 0) {
            const FileStamp now{static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                                static_cast<std::int64_t>(st.st_size), static_cast<std::uint64_t>(st.st_ino),
                                static_cast<std::uint64_t>(st.st_dev)};
            bool changed;
            {
                std::lock_guard stampLock(reloadMutex_);
                changed = !(now == stamp_);
            }
            if (changed) reload();
        }
        lock.lock();
    }
}

// ---- decisions ----

int Gate::device() const {
    CUdevice d = -1;
    if (real_.cuCtxGetDevice == nullptr || real_.cuCtxGetDevice(&d) != CUDA_SUCCESS) return -1;
    return d;
}

namespace {

// Binds the thread's builder to the bundle in force and resolves its ids, once per generation.
bool bindBuilder(monitor::Monitor& m, PerThread& t, const std::string& agent) {
    if (t.builder.bound() && t.builder.generation() == m.generation()) return true;
    if (!m.rebind(t.builder)) return false;
    monitor::Builder& b = t.builder;
    t.agent = b.agent(agent);
    t.module = b.field("kernel.module");
    t.name = b.field("kernel.name");
    t.grid = b.field("kernel.grid");
    t.block = b.field("kernel.block");
    t.shared = b.field("kernel.shared_bytes");
    t.device = b.field("gpu.device");
    t.bytes = b.field("gpu.bytes");
    t.bytesTotal = b.field("gpu.bytes_total");
    return true;
}

}  // namespace

// Caching rule (docs/gpu.md): an allow may be cached when it carries no obligation (audit, redact, approve) and no
// rate-limited rule's body matched (Decision::limited), since then the same request decides the same way until the
// bundle changes: the gate's requests never change session taint or approvals, and every value of the request is
// in the cache key.
template <typename Fill>
Gate::Decided Gate::decideWith(schema::Action action, Fill fill) {
    Decided d;
    if (!closed_.empty()) {
        d.reason = closed_;
        d.gateLevel = true;
        return d;
    }
    PerThread& t = perThread(serial_);
    const monitor::Decision& out = t.decision;
    for (int attempt = 0; attempt < 3; ++attempt) {
        if (!bindBuilder(*monitor_, t, config_.agent)) {
            d.reason = "no bundle is loaded";
            d.gateLevel = true;
            return d;
        }
        monitor::Builder& b = t.builder;
        b.reset(action, policy::kNone, t.agent);
        fill(b, t);
        monitor_->decide(b, t.decision);
        decisions_.fetch_add(1, std::memory_order_relaxed);
        if (out.error.rfind("stale builder", 0) != 0) break;  // a reload raced the binding: bind again
    }
    d.generation = out.generation;
    if (out.verdict == monitor::Verdict::Allow) {
        d.allow = true;
        d.cacheable = !out.audit && out.redact.empty() && out.approve.empty() && !out.limited;
    } else if (out.verdict == monitor::Verdict::Pending) {
        const bool launch = action == schema::Action::GpuLaunch;
        std::string roles;
        for (const std::string& r : out.approve) roles += (roles.empty() ? "" : ", ") + r;
        d.reason = launch ? "needs approval by " + roles + ", and the CUDA gate cannot hold a launch for approval"
                          : "needs approval, and the CUDA gate cannot hold an allocation for approval";
        d.gateLevel = true;
    } else {
        d.reason = out.reason;
    }
    return d;
}

Gate::Decided Gate::decideLaunch(const Identity& id, const Shape& shape, int dev) {
    return decideWith(schema::Action::GpuLaunch, [&](monitor::Builder& b, const PerThread& t) {
        b.setString(t.module, id.module);
        b.setString(t.name, id.name);
        b.setInt(t.grid, shape.grid);
        b.setInt(t.block, shape.block);
        b.setInt(t.shared, shape.shared);
        if (dev >= 0) b.setInt(t.device, dev);
    });
}

Gate::Decided Gate::decideAlloc(std::uint64_t bytes, std::int64_t total, int dev) {
    return decideWith(schema::Action::GpuAlloc, [&](monitor::Builder& b, const PerThread& t) {
        b.setInt(t.bytes, static_cast<std::int64_t>(bytes));
        b.setInt(t.bytesTotal, total);
        if (dev >= 0) b.setInt(t.device, dev);
    });
}

CUresult Gate::deny(const char* call, const std::string& what, const std::string& reason, bool logEvent) {
    denials_.fetch_add(1, std::memory_order_relaxed);
    say("deny " + std::string(call) + " " + what + " (agent " + config_.agent + "): " + reason);
    // Denials the monitor decided are in the log already; the gate's own (nothing to decide with, a kernel of
    // unknown origin, a graph it cannot inspect) are recorded as events, so that every refused call leaves a record.
    if (logEvent && writer_) {
        std::string json = "{\"event\":\"cuda-gate deny\",\"call\":";
        policy::appendJsonString(json, call);
        json += ",\"what\":";
        policy::appendJsonString(json, what);
        json += ",\"agent\":";
        policy::appendJsonString(json, config_.agent);
        json += ",\"reason\":";
        policy::appendJsonString(json, reason);
        json += "}";
        log::Entry e;
        e.kind = log::Kind::Event;
        e.decision = std::move(json);
        e.measurement = monitor_->measurement().bytes;
        (void)writer_->append(e);  // a failed append changes nothing: the call is denied either way
    }
    return CUDA_ERROR_NOT_PERMITTED;
}

CUresult Gate::refuse(const char* call, const std::string& what, const std::string& reason) {
    return deny(call, what, reason, true);
}

std::string Gate::describe(const Identity& id, const Shape& shape) {
    return "kernel " + id.name + " module " + id.module + " grid " + std::to_string(shape.grid) + " block " +
           std::to_string(shape.block) + " shared " + std::to_string(shape.shared);
}

CUresult Gate::checkLaunch(const char* call, CUfunction f, const Shape& shape) {
    const bool counting = config_.stats;
    if (counting) calls_.fetch_add(1, std::memory_order_relaxed);
    const int dev = device();
    const LaunchKey key{reinterpret_cast<std::uintptr_t>(f), shape.grid, shape.block, shape.shared, dev};
    PerThread& t = perThread(serial_);
    // The epoch is read before the handle is looked up: an unload after this point makes the entry inserted below
    // stale rather than letting it outlive the handle.
    const std::uint64_t ep = epoch();
    if (t.cache.find(key, monitor_->generation(), ep)) {
        if (counting) hits_.fetch_add(1, std::memory_order_relaxed);
        return CUDA_SUCCESS;
    }
    Identity id;
    {
        std::shared_lock lock(registryMutex_);
        auto it = handles_.find(key.function);
        if (it != handles_.end()) id = it->second;
    }
    if (id.module.empty())
        return deny(call, "kernel handle " + hexHandle(f),
                    "unknown kernel: not obtained from a module or library loaded through the gate", true);
    const Decided d = decideLaunch(id, shape, dev);
    if (!d.allow) return deny(call, describe(id, shape), d.reason, d.gateLevel);
    if (d.cacheable) t.cache.insert(key, d.generation, ep);
    return CUDA_SUCCESS;
}

CUresult Gate::checkGraphLaunch(const char* call, CUgraphExec exec) {
    const bool counting = config_.stats;
    if (counting) calls_.fetch_add(1, std::memory_order_relaxed);
    const int dev = device();
    PerThread& t = perThread(serial_);
    const std::uint64_t ep = epoch();
    const std::uint64_t generation = monitor_->generation();
    struct Pending {
        LaunchKey key;
        Identity id;
        Shape shape;
    };
    std::vector<Pending> pending;  // only kernels the cache does not answer: no allocation in the steady state
    std::string refusal;  // the graph's description is built only for a denial: a cached launch allocates nothing
    {
        std::shared_lock lock(registryMutex_);
        auto it = execs_.find(reinterpret_cast<std::uintptr_t>(exec));
        if (it == execs_.end()) {
            refusal = "unknown executable graph: not instantiated through the gate";
        } else if (!it->second.unknown.empty()) {
            refusal = "cannot check its kernels: " + it->second.unknown;
        } else {
            for (const GraphNode& node : it->second.nodes) {
                for (const GraphKernel& k : node.kernels) {
                    const LaunchKey key{k.function, k.shape.grid, k.shape.block, k.shape.shared, dev};
                    if (t.cache.find(key, generation, ep)) continue;
                    auto h = handles_.find(k.function);
                    if (h == handles_.end()) {
                        refusal = "kernel handle " + hexHandle(reinterpret_cast<const void*>(k.function)) +
                                  " in the graph is unknown: not obtained from a module or library loaded through "
                                  "the gate";
                        break;
                    }
                    pending.push_back({key, h->second, k.shape});
                }
                if (!refusal.empty()) break;
            }
        }
    }
    if (!refusal.empty()) return deny(call, "graph " + hexHandle(exec), refusal, true);
    if (pending.empty()) {
        if (counting) hits_.fetch_add(1, std::memory_order_relaxed);
        return CUDA_SUCCESS;
    }
    // Every kernel must be allowed; the first denial refuses the whole launch.
    for (const Pending& p : pending) {
        if (t.cache.find(p.key, monitor_->generation(), ep))
            continue;  // the same kernel and shape earlier in the graph
        const Decided d = decideLaunch(p.id, p.shape, dev);
        if (!d.allow)
            return deny(call, "graph " + hexHandle(exec) + " " + describe(p.id, p.shape), d.reason, d.gateLevel);
        if (d.cacheable) t.cache.insert(p.key, d.generation, ep);
    }
    return CUDA_SUCCESS;
}

// ---- the registry ----

void Gate::dropOwner(std::uintptr_t owner) {
    std::erase_if(handles_, [owner](const auto& entry) { return entry.second.owner == owner; });
}

void Gate::moduleLoaded(CUmodule module, std::string digest) {
    const auto m = reinterpret_cast<std::uintptr_t>(module);
    std::unique_lock lock(registryMutex_);
    // A handle the gate still knows was unloaded behind its back: what it knew of it no longer holds.
    if (modules_.count(m)) {
        dropOwner(m);
        epoch_.fetch_add(1, std::memory_order_acq_rel);
    }
    modules_[m] = std::move(digest);
    moduleLibrary_.erase(m);
}

void Gate::moduleUnloading(CUmodule module) {
    const auto m = reinterpret_cast<std::uintptr_t>(module);
    std::unique_lock lock(registryMutex_);
    modules_.erase(m);
    moduleLibrary_.erase(m);
    dropOwner(m);
    epoch_.fetch_add(1, std::memory_order_acq_rel);
}

void Gate::libraryLoaded(CUlibrary library, std::string digest, std::vector<std::uint8_t> keep) {
    const auto l = reinterpret_cast<std::uintptr_t>(library);
    std::unique_lock lock(registryMutex_);
    if (libraries_.count(l)) {
        dropOwner(l);
        epoch_.fetch_add(1, std::memory_order_acq_rel);
    }
    libraries_[l] = {std::move(digest), std::move(keep)};
}

std::vector<std::uint8_t> Gate::libraryUnloading(CUlibrary library) {
    const auto l = reinterpret_cast<std::uintptr_t>(library);
    std::vector<std::uint8_t> keep;
    std::unique_lock lock(registryMutex_);
    if (auto it = libraries_.find(l); it != libraries_.end()) {
        keep = std::move(it->second.keep);
        libraries_.erase(it);
    }
    for (auto it = moduleLibrary_.begin(); it != moduleLibrary_.end();) {
        if (it->second == l) {
            modules_.erase(it->first);
            dropOwner(it->first);
            it = moduleLibrary_.erase(it);
        } else {
            ++it;
        }
    }
    dropOwner(l);
    epoch_.fetch_add(1, std::memory_order_acq_rel);
    return keep;
}

void Gate::libraryModule(CUlibrary library, CUmodule module) {
    const auto l = reinterpret_cast<std::uintptr_t>(library);
    const auto m = reinterpret_cast<std::uintptr_t>(module);
    std::unique_lock lock(registryMutex_);
    auto it = libraries_.find(l);
    if (it == libraries_.end()) return;
    modules_[m] = it->second.digest;
    moduleLibrary_[m] = l;
}

void Gate::functionFound(CUmodule module, CUfunction function, const char* name) {
    const auto m = reinterpret_cast<std::uintptr_t>(module);
    std::unique_lock lock(registryMutex_);
    auto it = modules_.find(m);
    const auto f = reinterpret_cast<std::uintptr_t>(function);
    if (it == modules_.end() || name == nullptr) {
        handles_.erase(f);  // whatever the handle meant before, the gate cannot say what it launches now
        return;
    }
    handles_[f] = {it->second, name, m};
}

void Gate::kernelFound(CUlibrary library, CUkernel kernel, const char* name) {
    const auto l = reinterpret_cast<std::uintptr_t>(library);
    std::unique_lock lock(registryMutex_);
    auto it = libraries_.find(l);
    const auto k = reinterpret_cast<std::uintptr_t>(kernel);
    if (it == libraries_.end() || name == nullptr) {
        handles_.erase(k);
        return;
    }
    handles_[k] = {it->second.digest, name, l};
}

void Gate::kernelFunction(CUkernel kernel, CUfunction function) {
    std::unique_lock lock(registryMutex_);
    const auto f = reinterpret_cast<std::uintptr_t>(function);
    auto it = handles_.find(reinterpret_cast<std::uintptr_t>(kernel));
    if (it == handles_.end()) {
        handles_.erase(f);
        return;
    }
    handles_[f] = it->second;
}

void Gate::functionsListed(CUmodule module, const CUfunction* functions, unsigned count) {
    for (unsigned i = 0; functions != nullptr && i < count; ++i) {
        const char* name = nullptr;
        if (real_.cuFuncGetName == nullptr || real_.cuFuncGetName(&name, functions[i]) != CUDA_SUCCESS) name = nullptr;
        functionFound(module, functions[i], name);
    }
}

void Gate::kernelsListed(CUlibrary library, const CUkernel* kernels, unsigned count) {
    for (unsigned i = 0; kernels != nullptr && i < count; ++i) {
        const char* name = nullptr;
        if (real_.cuKernelGetName == nullptr || real_.cuKernelGetName(&name, kernels[i]) != CUDA_SUCCESS)
            name = nullptr;
        kernelFound(library, kernels[i], name);
    }
}

// ---- graphs ----

bool Gate::graphNodes(CUgraph graph, std::vector<CUgraphNode>& nodes, std::string& unknown) const {
    if (!real_.cuGraphGetNodes || !real_.cuGraphNodeGetType || !real_.cuGraphKernelNodeGetParams_v2 ||
        !real_.cuGraphChildGraphNodeGetGraph) {
        unknown = "the driver lacks the entry points that list a graph's nodes";
        return false;
    }
    std::size_t n = 0;
    CUresult r = real_.cuGraphGetNodes(graph, nullptr, &n);
    if (r == CUDA_SUCCESS && n > (1u << 24)) r = CUDA_ERROR_INVALID_VALUE;
    if (r == CUDA_SUCCESS) {
        nodes.assign(n, nullptr);
        if (n > 0) r = real_.cuGraphGetNodes(graph, nodes.data(), &n);
        nodes.resize(std::min(n, nodes.size()));
    }
    if (r != CUDA_SUCCESS) {
        unknown = "cuGraphGetNodes failed with error " + std::to_string(r);
        return false;
    }
    return true;
}

void Gate::inspect(CUgraphNode node, int depth, std::vector<GraphKernel>& out, std::string& unknown) const {
    // Read as its 32 bits: a newer driver may answer a type this enum does not list, which C++ may not load as one.
    static_assert(sizeof(CUgraphNodeType) == sizeof(std::uint32_t));
    std::uint32_t type = CU_GRAPH_NODE_TYPE_EMPTY;
    if (real_.cuGraphNodeGetType(node, reinterpret_cast<CUgraphNodeType*>(&type)) != CUDA_SUCCESS) {
        unknown = "cuGraphNodeGetType failed";
        return;
    }
    switch (type) {
        case CU_GRAPH_NODE_TYPE_KERNEL: {
            CUDA_KERNEL_NODE_PARAMS p{};
            if (real_.cuGraphKernelNodeGetParams_v2(node, &p) != CUDA_SUCCESS) {
                unknown = "cuGraphKernelNodeGetParams failed";
                return;
            }
            const auto f =
                p.func != nullptr ? reinterpret_cast<std::uintptr_t>(p.func) : reinterpret_cast<std::uintptr_t>(p.kern);
            out.push_back({f, shapeOf(p.gridDimX, p.gridDimY, p.gridDimZ, p.blockDimX, p.blockDimY, p.blockDimZ,
                                      p.sharedMemBytes)});
            return;
        }
        case CU_GRAPH_NODE_TYPE_GRAPH: {
            CUgraph child = nullptr;
            std::vector<CUgraphNode> nodes;
            if (depth >= 16) {
                unknown = "child graphs nested deeper than 16";
            } else if (real_.cuGraphChildGraphNodeGetGraph(node, &child) != CUDA_SUCCESS) {
                unknown = "cuGraphChildGraphNodeGetGraph failed";
            } else if (graphNodes(child, nodes, unknown)) {
                for (CUgraphNode n : nodes) {
                    inspect(n, depth + 1, out, unknown);
                    if (!unknown.empty()) return;
                }
            }
            return;
        }
        case CU_GRAPH_NODE_TYPE_MEM_ALLOC:
            unknown = "it allocates device memory in a graph node, which the gate's quota cannot count";
            return;
        case CU_GRAPH_NODE_TYPE_CONDITIONAL:
            unknown = "it has a conditional node, whose body graphs the gate cannot list";
            return;
        case CU_GRAPH_NODE_TYPE_MEMCPY:
        case CU_GRAPH_NODE_TYPE_MEMSET:
        case CU_GRAPH_NODE_TYPE_HOST:
        case CU_GRAPH_NODE_TYPE_EMPTY:
        case CU_GRAPH_NODE_TYPE_WAIT_EVENT:
        case CU_GRAPH_NODE_TYPE_EVENT_RECORD:
        case CU_GRAPH_NODE_TYPE_EXT_SEMAS_SIGNAL:
        case CU_GRAPH_NODE_TYPE_EXT_SEMAS_WAIT:
        case CU_GRAPH_NODE_TYPE_MEM_FREE:
        case CU_GRAPH_NODE_TYPE_BATCH_MEM_OP: return;  // no kernel, no allocation
    }
    unknown = "it has a node of type " + std::to_string(type) + ", which the gate does not know";
}

void Gate::graphInstantiated(CUgraphExec exec, CUgraph graph) {
    Exec e;
    std::vector<CUgraphNode> nodes;
    if (graphNodes(graph, nodes, e.unknown)) {
        for (CUgraphNode n : nodes) {
            GraphNode g{reinterpret_cast<std::uintptr_t>(n), {}};
            inspect(n, 0, g.kernels, e.unknown);
            if (!e.unknown.empty()) break;
            e.nodes.push_back(std::move(g));
        }
    }
    if (!e.unknown.empty()) e.nodes.clear();
    std::unique_lock lock(registryMutex_);
    execs_[reinterpret_cast<std::uintptr_t>(exec)] = std::move(e);
}

void Gate::graphKernelSet(CUgraphExec exec, CUgraphNode node, CUfunction function, const Shape& shape) {
    std::unique_lock lock(registryMutex_);
    auto it = execs_.find(reinterpret_cast<std::uintptr_t>(exec));
    if (it == execs_.end() || !it->second.unknown.empty()) return;
    for (GraphNode& g : it->second.nodes) {
        if (g.node != reinterpret_cast<std::uintptr_t>(node)) continue;
        g.kernels = {{reinterpret_cast<std::uintptr_t>(function), shape}};
        return;
    }
    it->second.nodes.clear();
    it->second.unknown = "a node the gate did not record was given new parameters";
}

void Gate::graphChildSet(CUgraphExec exec, CUgraphNode node, CUgraph child) {
    std::vector<GraphKernel> kernels;
    std::string unknown;
    std::vector<CUgraphNode> nodes;
    if (graphNodes(child, nodes, unknown))
        for (CUgraphNode n : nodes) {
            inspect(n, 1, kernels, unknown);
            if (!unknown.empty()) break;
        }
    std::unique_lock lock(registryMutex_);
    auto it = execs_.find(reinterpret_cast<std::uintptr_t>(exec));
    if (it == execs_.end() || !it->second.unknown.empty()) return;
    if (unknown.empty()) {
        for (GraphNode& g : it->second.nodes) {
            if (g.node != reinterpret_cast<std::uintptr_t>(node)) continue;
            g.kernels = std::move(kernels);
            return;
        }
        unknown = "a node the gate did not record was given a new child graph";
    }
    it->second.nodes.clear();
    it->second.unknown = std::move(unknown);
}

void Gate::graphUpdated(CUgraphExec exec, CUgraph graph) {
    graphInstantiated(exec, graph);
}

void Gate::graphDestroyed(CUgraphExec exec) {
    std::unique_lock lock(registryMutex_);
    execs_.erase(reinterpret_cast<std::uintptr_t>(exec));
}

// ---- device memory ----

CUresult Gate::reserveAlloc(const char* call, std::uint64_t bytes, Reservation& r) {
    r = {};
    r.device = device();
    const std::string what = std::to_string(bytes) + " bytes on device " + std::to_string(r.device);
    std::int64_t total = 0;
    if (!quota_.reserve(r.device, bytes, total))
        return deny(call, what, "the agent's total on the device would pass 2^63 bytes", true);
    const Decided d = decideAlloc(bytes, total, r.device);
    if (!d.allow) {
        quota_.rollback(r.device, bytes);
        return deny(call, what + " (total " + std::to_string(total) + ")", d.reason, d.gateLevel);
    }
    r.bytes = bytes;
    r.held = true;
    return CUDA_SUCCESS;
}

void Gate::commitAlloc(Reservation& r, Quota::Kind kind, std::uint64_t id) {
    if (!r.held) return;
    quota_.commit(kind, id, r.device, r.bytes);
    r.held = false;
}

void Gate::rollbackAlloc(Reservation& r) {
    if (!r.held) return;
    quota_.rollback(r.device, r.bytes);
    r.held = false;
}

void Gate::freed(Quota::Kind kind, std::uint64_t id) {
    (void)quota_.release(kind, id);  // an allocation the gate did not record held nothing of the total
}

}  // namespace omega::cudagate
