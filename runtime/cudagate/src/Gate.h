// The CUDA gate's core (docs/gpu.md): one agent's in-process monitor, what the gate knows of loaded modules,
// kernels and graphs, the decisions for launches and allocations with the per-thread cache, decision logging,
// reload and counters. The exported driver entry points (Interpose.cpp) are thin wrappers around it; a unit test
// drives it with a fake driver.
#pragma once

#include "Cache.h"
#include "Config.h"
#include "Quota.h"
#include "Real.h"
#include "omega/cudagate/Driver.h"
#include "omega/log/Log.h"
#include "omega/monitor/Monitor.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace omega::cudagate {

// The values of a launch that go into its request: blocks in the grid, threads per block, dynamic shared bytes.
// Products saturate at INT64_MAX rather than wrap, so that an absurd launch cannot look small.
struct Shape {
    std::int64_t grid = 0, block = 0, shared = 0;
};
Shape shapeOf(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned shared);

// The re-entry guard: while a thread is inside the gate (deciding, or in a driver call the gate forwarded), driver
// entry points it reaches again are forwarded without a second decision (a driver or the monitor calling back).
bool reentered();
class Guard {
public:
    Guard();
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
};

class Gate {
public:
    // `configError` non-empty: the gate is closed (every gated call is denied with it). `real` must outlive the
    // gate.
    Gate(Config config, std::string configError, const Real& real);
    ~Gate();
    Gate(const Gate&) = delete;
    Gate& operator=(const Gate&) = delete;

    // Opens the decision log, loads the bundle and starts the reload poller; problems go to stderr, and the gate
    // then denies what it cannot decide. Call once.
    void start();
    // Stops the poller, closes the log with a checkpoint and prints the counters when asked to. Idempotent.
    void stop();

    monitor::Monitor& monitor() { return *monitor_; }

    // ---- launches: CUDA_SUCCESS to forward the launch, CUDA_ERROR_NOT_PERMITTED when denied ----
    // `f` is a CUfunction or a CUkernel (the driver accepts both).
    CUresult checkLaunch(const char* call, CUfunction f, const Shape& shape);
    CUresult checkGraphLaunch(const char* call, CUgraphExec exec);
    // A call the gate never allows (the deprecated launch paths, the 32-bit allocators).
    CUresult refuse(const char* call, const std::string& what, const std::string& reason);

    // ---- what was loaded (recorded after the driver succeeded) ----
    void moduleLoaded(CUmodule module, std::string digest);
    // Unloads are recorded before they are forwarded, so that the driver cannot hand the handle to a new module
    // while the gate still holds what it knew of the old one.
    void moduleUnloading(CUmodule module);
    // `keep`: bytes the driver may go on reading after the load (a library loaded from a file by the gate).
    void libraryLoaded(CUlibrary library, std::string digest, std::vector<std::uint8_t> keep);
    // Returns the library's kept bytes, which the caller frees once the driver has unloaded it.
    std::vector<std::uint8_t> libraryUnloading(CUlibrary library);
    void libraryModule(CUlibrary library, CUmodule module);
    void functionFound(CUmodule module, CUfunction function, const char* name);
    void kernelFound(CUlibrary library, CUkernel kernel, const char* name);
    void kernelFunction(CUkernel kernel, CUfunction function);
    // Functions and kernels the driver listed rather than found by name: named through cuFuncGetName and
    // cuKernelGetName (left unknown, so denied at launch, when the driver cannot name them).
    void functionsListed(CUmodule module, const CUfunction* functions, unsigned count);
    void kernelsListed(CUlibrary library, const CUkernel* kernels, unsigned count);

    // ---- graphs ----
    void graphInstantiated(CUgraphExec exec, CUgraph graph);
    void graphKernelSet(CUgraphExec exec, CUgraphNode node, CUfunction function, const Shape& shape);
    void graphChildSet(CUgraphExec exec, CUgraphNode node, CUgraph child);
    void graphUpdated(CUgraphExec exec, CUgraph graph);
    void graphDestroyed(CUgraphExec exec);  // before the destroy is forwarded

    // ---- device memory ----
    struct Reservation {
        int device = -1;
        std::uint64_t bytes = 0;
        bool held = false;
    };
    // Decides gpu.alloc for `bytes` more on the current device; on CUDA_SUCCESS the bytes are reserved, and the
    // caller commits or rolls back once the driver answered.
    CUresult reserveAlloc(const char* call, std::uint64_t bytes, Reservation& r);
    void commitAlloc(Reservation& r, Quota::Kind kind, std::uint64_t id);
    void rollbackAlloc(Reservation& r);
    void freed(Quota::Kind kind, std::uint64_t id);
    const Quota& quota() const { return quota_; }

    // Reloads the bundle file now; 0 when the new bundle is in force, -1 when it was refused (the old one stays).
    int reload(std::string* error = nullptr);

    struct Counters {
        std::uint64_t calls = 0, cacheHits = 0, decisions = 0, denials = 0;
    };
    Counters counters() const;
    // The mark of cached decisions: bumped when the driver may reuse handles (an unload).
    std::uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }

private:
    struct Identity {
        std::string module;  // "sha256:<hex>"
        std::string name;
        std::uintptr_t owner = 0;  // the module or library it came from
    };
    struct GraphKernel {
        std::uintptr_t function = 0;
        Shape shape;
    };
    struct GraphNode {
        std::uintptr_t node = 0;  // a node of the instantiated graph
        std::vector<GraphKernel> kernels;
    };
    struct Exec {
        std::vector<GraphNode> nodes;
        std::string unknown;  // non-empty: why its launches are denied
    };
    struct Decided {
        bool allow = false;
        bool cacheable = false;
        bool gateLevel = false;  // decided by the gate, not the monitor (so not in the log yet)
        std::uint64_t generation = 0;
        std::string reason;
    };

    int device() const;  // of the current context; -1 when there is none
    Decided decideLaunch(const Identity& id, const Shape& shape, int device);
    Decided decideAlloc(std::uint64_t bytes, std::int64_t total, int device);
    // The common path of both: `fill` sets the action's fields on the thread's bound builder.
    template <typename Fill>
    Decided decideWith(schema::Action action, Fill fill);
    CUresult deny(const char* call, const std::string& what, const std::string& reason, bool logEvent);
    static std::string describe(const Identity& id, const Shape& shape);
    // Graph inspection: the nodes of a graph, and the kernels a node launches (child graphs included); `unknown`
    // says why the gate cannot tell.
    bool graphNodes(CUgraph graph, std::vector<CUgraphNode>& nodes, std::string& unknown) const;
    void inspect(CUgraphNode node, int depth, std::vector<GraphKernel>& out, std::string& unknown) const;
    void dropOwner(std::uintptr_t owner);  // under registryMutex_ (exclusive)
    void poll();
    bool loadBundle(std::string& error);

    Config config_;
    std::string closed_;  // why every gated call is denied ("" when open)
    const Real& real_;
    const std::uint64_t serial_;  // tells this gate's per-thread state from that of an earlier gate
    std::unique_ptr<log::Writer> writer_;
    std::unique_ptr<monitor::Monitor> monitor_;

    mutable std::shared_mutex registryMutex_;
    std::unordered_map<std::uintptr_t, std::string> modules_;           // module -> digest
    std::unordered_map<std::uintptr_t, std::uintptr_t> moduleLibrary_;  // module -> the library it belongs to
    struct Library {
        std::string digest;
        std::vector<std::uint8_t> keep;
    };
    std::unordered_map<std::uintptr_t, Library> libraries_;
    std::unordered_map<std::uintptr_t, Identity> handles_;  // CUfunction or CUkernel -> what it launches
    std::unordered_map<std::uintptr_t, Exec> execs_;
    std::atomic<std::uint64_t> epoch_{1};

    Quota quota_;

    std::mutex reloadMutex_;
    struct FileStamp {
        std::int64_t mtimeNs = 0, size = -1;
        std::uint64_t inode = 0, dev = 0;
        friend bool operator==(const FileStamp&, const FileStamp&) = default;
    };
    FileStamp stamp_;  // of the bundle file last read (under reloadMutex_)
    std::mutex pollMutex_;
    std::condition_variable pollWake_;
    bool stopping_ = false;
    bool stopped_ = false;
    std::thread poller_;

    std::atomic<std::uint64_t> calls_{0}, hits_{0}, decisions_{0}, denials_{0};
};

}  // namespace omega::cudagate
