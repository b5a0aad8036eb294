// The CUDA gate's core (runtime/cudagate/src/Gate.h) against a fake driver and bundles compiled here: which
// launches, graph launches and allocations it allows, the caching rule (what is cached, what never is), reload and
// unload invalidation, quotas, a closed gate, and the decision log.
#include "Gate.h"
#include "Image.h"
#include "MonitorFixture.h"
#include "omega/log/Log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace omega::cudagate {
namespace {

// ---- the fake driver: the current device, and graphs as plain structures ----

int gDevice = 0;  // < 0: no current context

CUresult fakeCtxGetDevice(CUdevice* d) {
    if (gDevice < 0) return CUDA_ERROR_INVALID_CONTEXT;
    *d = gDevice;
    return CUDA_SUCCESS;
}

struct FakeNode {
    std::uint32_t type = CU_GRAPH_NODE_TYPE_EMPTY;  // any value, as a driver might answer
    CUDA_KERNEL_NODE_PARAMS kernel{};
    CUgraph child = nullptr;
};
struct FakeGraph {
    std::vector<std::unique_ptr<FakeNode>> nodes;
};
FakeGraph* graphOf(CUgraph g) {
    return reinterpret_cast<FakeGraph*>(g);
}
FakeNode* nodeOf(CUgraphNode n) {
    return reinterpret_cast<FakeNode*>(n);
}

CUresult fakeGraphGetNodes(CUgraph g, CUgraphNode* nodes, size_t* n) {
    const auto& all = graphOf(g)->nodes;
    if (nodes == nullptr) {
        *n = all.size();
        return CUDA_SUCCESS;
    }
    const std::size_t count = std::min(*n, all.size());
    for (std::size_t i = 0; i < count; ++i) nodes[i] = reinterpret_cast<CUgraphNode>(all[i].get());
    *n = count;
    return CUDA_SUCCESS;
}
CUresult fakeNodeGetType(CUgraphNode n, CUgraphNodeType* type) {
    std::memcpy(type, &nodeOf(n)->type, sizeof nodeOf(n)->type);
    return CUDA_SUCCESS;
}
CUresult fakeKernelNodeGetParams(CUgraphNode n, CUDA_KERNEL_NODE_PARAMS* p) {
    if (nodeOf(n)->type != CU_GRAPH_NODE_TYPE_KERNEL) return CUDA_ERROR_INVALID_VALUE;
    *p = nodeOf(n)->kernel;
    return CUDA_SUCCESS;
}
CUresult fakeChildGraph(CUgraphNode n, CUgraph* g) {
    *g = nodeOf(n)->child;
    return CUDA_SUCCESS;
}
CUresult fakeFuncGetName(const char** name, CUfunction f) {
    if (reinterpret_cast<std::uintptr_t>(f) == 0xF300) {
        *name = "scale_rows";
        return CUDA_SUCCESS;
    }
    return CUDA_ERROR_NOT_FOUND;
}

Real fakeDriver() {
    Real r;
    r.loaded = true;
    r.cuCtxGetDevice = fakeCtxGetDevice;
    r.cuGraphGetNodes = fakeGraphGetNodes;
    r.cuGraphNodeGetType = fakeNodeGetType;
    r.cuGraphKernelNodeGetParams_v2 = fakeKernelNodeGetParams;
    r.cuGraphChildGraphNodeGetGraph = fakeChildGraph;
    r.cuFuncGetName = fakeFuncGetName;
    return r;
}

template <typename T>
T handle(std::uintptr_t v) {
    return reinterpret_cast<T>(v);
}

// ---- policies ----

const std::vector<std::uint8_t> kModuleA = {'m', 'o', 'd', 'u', 'l', 'e', ' ', 'a'};
const std::vector<std::uint8_t> kModuleB = {'m', 'o', 'd', 'u', 'l', 'e', ' ', 'b'};

std::string policy(const std::string& launchRule, const std::string& extra = "") {
    return "policy gpu_unit version 1 by principal \"tenant:unit\";\n"
           "agent trainer { owner \"unit\"; }\n"
           "agent intern { owner \"unit\"; }\n"
           "kernels reviewed { module " +
           moduleDigest(kModuleA).replace(0, 7, "sha256:\"") + "\"; names {\"vecadd\", \"scale_*\"}; }\n" + launchRule +
           "\n"
           "forbid gpu.launch when kernel.block > 512;\n"
           "forbid gpu.launch when gpu.device == 3;\n"
           "permit gpu.alloc by agent trainer when gpu.bytes_total <= 1000 B;\n" +
           extra;
}
const std::string kPermit = "permit gpu.launch by agent trainer when kernel in reviewed;";

class CudaGateDecision : public ::testing::Test {
protected:
    void SetUp() override {
        gDevice = 0;
        path_ = ::testing::TempDir() + "cudagate-decision-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".omb";
    }
    void TearDown() override {
        gate_.reset();
        std::remove(path_.c_str());
    }

    void writeBundle(const std::string& text) {
        const auto bytes = fixture::compileBundle({text}, nullptr);
        ASSERT_FALSE(bytes.empty());
        std::ofstream(path_, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }

    // A started gate for `agent` over a bundle of `text`, with a module (A or B digest) and functions loaded.
    Gate& start(const std::string& text, const std::string& agent = "trainer", Config extra = {}) {
        writeBundle(text);
        Config c = std::move(extra);
        c.agent = agent;
        c.bundle = path_;
        c.allowUnsigned = true;
        c.reloadMs = 0;
        c.stats = true;
        gate_ = std::make_unique<Gate>(c, "", real_);
        gate_->start();
        gate_->moduleLoaded(handle<CUmodule>(0xA0), moduleDigest(kModuleA));
        gate_->moduleLoaded(handle<CUmodule>(0xB0), moduleDigest(kModuleB));
        gate_->functionFound(handle<CUmodule>(0xA0), vecadd, "vecadd");
        gate_->functionFound(handle<CUmodule>(0xA0), other, "other");
        gate_->functionFound(handle<CUmodule>(0xB0), foreign, "vecadd");  // the right name in another module
        return *gate_;
    }

    std::uint64_t decisions() const { return gate_->counters().decisions; }

    const Real real_ = fakeDriver();
    std::unique_ptr<Gate> gate_;
    std::string path_;
    const CUfunction vecadd = handle<CUfunction>(0xF100);
    const CUfunction other = handle<CUfunction>(0xF200);
    const CUfunction foreign = handle<CUfunction>(0xF400);
    const Shape small = shapeOf(4, 1, 1, 256, 1, 1, 0);
};

TEST_F(CudaGateDecision, ReviewedKernelsAreAllowedAndCached) {
    Gate& g = start(policy(kPermit));
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_SUCCESS);
    EXPECT_EQ(decisions(), 1u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_SUCCESS);
    EXPECT_EQ(decisions(), 1u);  // the cache answered
    EXPECT_EQ(g.counters().cacheHits, 5u);
    // Another shape is another request: decided once, then cached too.
    const Shape wide = shapeOf(8, 2, 1, 128, 2, 1, 4096);
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, wide), CUDA_SUCCESS);
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, wide), CUDA_SUCCESS);
    EXPECT_EQ(decisions(), 2u);
    EXPECT_EQ(g.counters().calls, 8u);
}

TEST_F(CudaGateDecision, OthersAreDeniedEveryTime) {
    Gate& g = start(policy(kPermit));
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", other, small), CUDA_ERROR_NOT_PERMITTED);    // name not reviewed
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", foreign, small), CUDA_ERROR_NOT_PERMITTED);  // module not reviewed
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, shapeOf(1, 1, 1, 1024, 1, 1, 0)),    // block too large
              CUDA_ERROR_NOT_PERMITTED);
    EXPECT_EQ(decisions(), 3u);
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", other, small), CUDA_ERROR_NOT_PERMITTED);
    EXPECT_EQ(decisions(), 4u);  // denials are never cached
    // A handle the gate never saw come out of a module: denied without asking the monitor.
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", handle<CUfunction>(0xDEAD0), small), CUDA_ERROR_NOT_PERMITTED);
    EXPECT_EQ(decisions(), 4u);
    EXPECT_EQ(g.counters().denials, 5u);
}

TEST_F(CudaGateDecision, TheDeviceIsPartOfTheRequest) {
    Gate& g = start(policy(kPermit));
    gDevice = 3;
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_ERROR_NOT_PERMITTED);
    gDevice = 1;
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_SUCCESS);
    // No current context: gpu.device is absent, and a forbid whose condition is unknown matches (fail closed).
    gDevice = -1;
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_ERROR_NOT_PERMITTED);
}

TEST_F(CudaGateDecision, OtherAgentsAreDenied) {
    Gate& intern = start(policy(kPermit), "intern");
    EXPECT_EQ(intern.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_ERROR_NOT_PERMITTED);
    Gate& stranger = start(policy(kPermit), "nobody");  // not declared in the policy
    EXPECT_EQ(stranger.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_ERROR_NOT_PERMITTED);
}

TEST_F(CudaGateDecision, RateLimitedRulesAreNeverCached) {
    Gate& g = start(policy("permit gpu.launch by agent trainer when kernel in reviewed limit 3 per minute;"));
    for (int i = 0; i < 3; ++i) EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_SUCCESS);
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_ERROR_NOT_PERMITTED);  // the limit holds
    EXPECT_EQ(decisions(), 4u);
    EXPECT_EQ(g.counters().cacheHits, 0u);
    // What makes them uncacheable: the monitor says a limited rule took part.
    const monitor::Decision d =
        g.monitor().decide(R"({"action":"gpu.launch","agent":"trainer","kernel":{"module":")" + moduleDigest(kModuleA) +
                           R"(","name":"vecadd","grid":1,"block":1,"shared_bytes":0},"gpu":{"device":0}})");
    EXPECT_TRUE(d.limited);
}

TEST_F(CudaGateDecision, ALimitedForbidAlsoPreventsCaching) {
    Gate& g = start(policy(kPermit, "forbid gpu.launch limit 4 per minute;\n"));
    int allowed = 0;
    for (int i = 0; i < 10; ++i) allowed += g.checkLaunch("cuLaunchKernel", vecadd, small) == CUDA_SUCCESS;
    EXPECT_EQ(allowed, 4);
    EXPECT_EQ(decisions(), 10u);
}

TEST_F(CudaGateDecision, ObligationsAreNeverCached) {
    Gate& g = start(policy("permit gpu.launch by agent trainer when kernel in reviewed obligation audit;"));
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_SUCCESS);
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_SUCCESS);
    EXPECT_EQ(decisions(), 2u);
}

TEST_F(CudaGateDecision, ApprovalIsADenial) {
    Gate& g = start(policy("permit gpu.launch by agent trainer when kernel in reviewed obligation approve(\"lead\");"));
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_ERROR_NOT_PERMITTED);
}

TEST_F(CudaGateDecision, ReloadInvalidatesTheCache) {
    Gate& g = start(policy(kPermit));
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_SUCCESS);
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_SUCCESS);
    EXPECT_EQ(decisions(), 1u);
    writeBundle(policy(kPermit, "forbid gpu.launch when kernel.name == \"vecadd\";\n"));
    EXPECT_EQ(g.reload(), 0);
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_ERROR_NOT_PERMITTED);
    // A bundle that does not load is refused, and the one in force stays.
    std::ofstream(path_, std::ios::binary) << "not a bundle";
    std::string error;
    EXPECT_EQ(g.reload(&error), -1);
    EXPECT_FALSE(error.empty());
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_ERROR_NOT_PERMITTED);
    EXPECT_EQ(g.monitor().generation(), 2u);
}

TEST_F(CudaGateDecision, UnloadForgetsWhatTheModuleLaunched) {
    Gate& g = start(policy(kPermit));
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_SUCCESS);
    const std::uint64_t before = g.epoch();
    g.moduleUnloading(handle<CUmodule>(0xA0));
    EXPECT_GT(g.epoch(), before);
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_ERROR_NOT_PERMITTED);  // not from the cache
    // The driver may hand the same handle to the next module: it launches what that module holds.
    g.moduleLoaded(handle<CUmodule>(0xA0), moduleDigest(kModuleB));
    g.functionFound(handle<CUmodule>(0xA0), vecadd, "vecadd");
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_ERROR_NOT_PERMITTED);
    // A function looked up in a module the gate never saw load is unknown.
    g.functionFound(handle<CUmodule>(0xC0), handle<CUfunction>(0xF500), "vecadd");
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", handle<CUfunction>(0xF500), small), CUDA_ERROR_NOT_PERMITTED);
}

TEST_F(CudaGateDecision, LibrariesKernelsAndListedFunctions) {
    Gate& g = start(policy(kPermit));
    const auto lib = handle<CUlibrary>(0x1B0);
    const auto kernel = handle<CUkernel>(0xE100);
    const auto fromKernel = handle<CUfunction>(0xE200);
    g.libraryLoaded(lib, moduleDigest(kModuleA), {});
    g.kernelFound(lib, kernel, "scale_cols");
    g.kernelFunction(kernel, fromKernel);
    g.libraryModule(lib, handle<CUmodule>(0x1C0));
    g.functionFound(handle<CUmodule>(0x1C0), handle<CUfunction>(0xE300), "vecadd");
    const CUfunction listed[] = {handle<CUfunction>(0xF300), handle<CUfunction>(0xF301)};  // the second has no name
    g.functionsListed(handle<CUmodule>(0x1C0), listed, 2);
    // A CUkernel may be launched directly (cast to CUfunction), or through its per-context function.
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", reinterpret_cast<CUfunction>(kernel), small), CUDA_SUCCESS);
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", fromKernel, small), CUDA_SUCCESS);
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", handle<CUfunction>(0xE300), small), CUDA_SUCCESS);
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", listed[0], small), CUDA_SUCCESS);
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", listed[1], small), CUDA_ERROR_NOT_PERMITTED);
    g.libraryUnloading(lib);
    for (CUfunction f : {reinterpret_cast<CUfunction>(kernel), fromKernel, handle<CUfunction>(0xE300), listed[0]})
        EXPECT_EQ(g.checkLaunch("cuLaunchKernel", f, small), CUDA_ERROR_NOT_PERMITTED);
}

TEST_F(CudaGateDecision, QuotaCountsRunningTotals) {
    Gate& g = start(policy(kPermit));
    Gate::Reservation a, b, c;
    ASSERT_EQ(g.reserveAlloc("cuMemAlloc_v2", 600, a), CUDA_SUCCESS);
    g.commitAlloc(a, Quota::Kind::Pointer, 0x7000);
    EXPECT_EQ(g.reserveAlloc("cuMemAlloc_v2", 600, b), CUDA_ERROR_NOT_PERMITTED);  // 1200 > 1000
    EXPECT_EQ(g.quota().total(0), 600);
    ASSERT_EQ(g.reserveAlloc("cuMemAlloc_v2", 400, b), CUDA_SUCCESS);  // exactly 1000
    g.rollbackAlloc(b);                                                // the driver failed
    EXPECT_EQ(g.quota().total(0), 600);
    g.freed(Quota::Kind::Pointer, 0x7000);
    EXPECT_EQ(g.quota().total(0), 0);
    ASSERT_EQ(g.reserveAlloc("cuMemAlloc_v2", 1000, c), CUDA_SUCCESS);
    g.commitAlloc(c, Quota::Kind::Pointer, 0x8000);
    // Totals are per device.
    gDevice = 1;
    Gate::Reservation d;
    EXPECT_EQ(g.reserveAlloc("cuMemAlloc_v2", 1000, d), CUDA_SUCCESS);
    g.rollbackAlloc(d);
    // Another agent has no gpu.alloc permit at all.
    Gate& intern = start(policy(kPermit), "intern");
    Gate::Reservation e;
    EXPECT_EQ(intern.reserveAlloc("cuMemAlloc_v2", 1, e), CUDA_ERROR_NOT_PERMITTED);
    EXPECT_EQ(intern.quota().total(1), 0);
}

// A graph: kernel nodes, a memcpy node and a child graph with one more kernel.
struct Graphs {
    FakeGraph top, child;
    FakeNode* first;
    FakeNode* nested;
    Graphs(CUfunction a, CUfunction b) {
        auto kernel = [](CUfunction f) {
            auto n = std::make_unique<FakeNode>();
            n->type = CU_GRAPH_NODE_TYPE_KERNEL;
            n->kernel.func = f;
            n->kernel.gridDimX = n->kernel.gridDimY = n->kernel.gridDimZ = 1;
            n->kernel.blockDimX = 128;
            n->kernel.blockDimY = n->kernel.blockDimZ = 1;
            return n;
        };
        top.nodes.push_back(kernel(a));
        first = top.nodes.back().get();
        top.nodes.push_back(std::make_unique<FakeNode>());
        top.nodes.back()->type = CU_GRAPH_NODE_TYPE_MEMCPY;
        child.nodes.push_back(kernel(b));
        nested = child.nodes.back().get();
        top.nodes.push_back(std::make_unique<FakeNode>());
        top.nodes.back()->type = CU_GRAPH_NODE_TYPE_GRAPH;
        top.nodes.back()->child = reinterpret_cast<CUgraph>(&child);
    }
    CUgraph graph() { return reinterpret_cast<CUgraph>(&top); }
};

TEST_F(CudaGateDecision, GraphLaunchesCheckEveryKernel) {
    Gate& g = start(policy(kPermit));
    const auto exec = handle<CUgraphExec>(0x6000);
    Graphs allowed(vecadd, vecadd);
    g.graphInstantiated(exec, allowed.graph());
    EXPECT_EQ(g.checkGraphLaunch("cuGraphLaunch", exec), CUDA_SUCCESS);
    EXPECT_EQ(decisions(), 1u);  // one kernel, one shape: one decision
    EXPECT_EQ(g.checkGraphLaunch("cuGraphLaunch", exec), CUDA_SUCCESS);
    EXPECT_EQ(decisions(), 1u);

    // A denied kernel anywhere, nested ones included, refuses the whole launch.
    Graphs mixed(vecadd, other);
    g.graphInstantiated(exec, mixed.graph());
    EXPECT_EQ(g.checkGraphLaunch("cuGraphLaunch", exec), CUDA_ERROR_NOT_PERMITTED);
    // A node given new parameters after instantiation launches what it was given.
    g.graphInstantiated(exec, allowed.graph());
    g.graphKernelSet(exec, reinterpret_cast<CUgraphNode>(allowed.first), other, small);
    EXPECT_EQ(g.checkGraphLaunch("cuGraphLaunch", exec), CUDA_ERROR_NOT_PERMITTED);
    g.graphKernelSet(exec, reinterpret_cast<CUgraphNode>(allowed.first), vecadd, small);
    EXPECT_EQ(g.checkGraphLaunch("cuGraphLaunch", exec), CUDA_SUCCESS);
    // A node the gate did not record: it can no longer tell what the graph launches.
    g.graphKernelSet(exec, reinterpret_cast<CUgraphNode>(allowed.nested), vecadd, small);
    EXPECT_EQ(g.checkGraphLaunch("cuGraphLaunch", exec), CUDA_ERROR_NOT_PERMITTED);
    // An update re-reads the graph.
    g.graphUpdated(exec, allowed.graph());
    EXPECT_EQ(g.checkGraphLaunch("cuGraphLaunch", exec), CUDA_SUCCESS);
    g.graphChildSet(exec, reinterpret_cast<CUgraphNode>(allowed.top.nodes[2].get()), mixed.graph());
    EXPECT_EQ(g.checkGraphLaunch("cuGraphLaunch", exec), CUDA_ERROR_NOT_PERMITTED);

    g.graphDestroyed(exec);
    EXPECT_EQ(g.checkGraphLaunch("cuGraphLaunch", exec), CUDA_ERROR_NOT_PERMITTED);
    EXPECT_EQ(g.checkGraphLaunch("cuGraphLaunch", handle<CUgraphExec>(0x6100)), CUDA_ERROR_NOT_PERMITTED);
}

TEST_F(CudaGateDecision, GraphsTheGateCannotReadAreDenied) {
    Gate& g = start(policy(kPermit));
    const auto exec = handle<CUgraphExec>(0x6000);
    for (std::uint32_t type : {std::uint32_t{CU_GRAPH_NODE_TYPE_MEM_ALLOC},
                               std::uint32_t{CU_GRAPH_NODE_TYPE_CONDITIONAL}, std::uint32_t{99}}) {
        Graphs graphs(vecadd, vecadd);
        graphs.child.nodes.push_back(std::make_unique<FakeNode>());
        graphs.child.nodes.back()->type = type;
        g.graphInstantiated(exec, graphs.graph());
        EXPECT_EQ(g.checkGraphLaunch("cuGraphLaunch", exec), CUDA_ERROR_NOT_PERMITTED) << type;
    }
}

TEST_F(CudaGateDecision, AClosedGateDeniesEverything) {
    writeBundle(policy(kPermit));
    Config c;
    c.agent = "trainer";
    c.bundle = path_;
    c.allowUnsigned = true;
    c.reloadMs = 0;
    gate_ = std::make_unique<Gate>(c, "no agent configured", real_);
    gate_->start();
    gate_->moduleLoaded(handle<CUmodule>(0xA0), moduleDigest(kModuleA));
    gate_->functionFound(handle<CUmodule>(0xA0), vecadd, "vecadd");
    EXPECT_EQ(gate_->checkLaunch("cuLaunchKernel", vecadd, small), CUDA_ERROR_NOT_PERMITTED);
    Gate::Reservation r;
    EXPECT_EQ(gate_->reserveAlloc("cuMemAlloc_v2", 1, r), CUDA_ERROR_NOT_PERMITTED);
    EXPECT_EQ(gate_->reload(), -1);

    // Signed bundles only unless told otherwise: without trusted keys the gate is closed too.
    c.allowUnsigned = false;
    gate_ = std::make_unique<Gate>(c, "", real_);
    gate_->start();
    gate_->moduleLoaded(handle<CUmodule>(0xA0), moduleDigest(kModuleA));
    gate_->functionFound(handle<CUmodule>(0xA0), vecadd, "vecadd");
    EXPECT_EQ(gate_->checkLaunch("cuLaunchKernel", vecadd, small), CUDA_ERROR_NOT_PERMITTED);
}

TEST_F(CudaGateDecision, SignedBundlesAndTheDecisionLog) {
    const fixture::KeyPair publisher = fixture::newKey(), logKey = fixture::newKey();
    const std::string dir = ::testing::TempDir();
    const std::string pub = dir + "cudagate-publisher.pem", priv = dir + "cudagate-log-key.pem",
                      logPath = dir + "cudagate-decisions.log";
    std::ofstream(pub) << publisher.publicPem;
    std::ofstream(priv) << logKey.privatePem;
    std::remove(logPath.c_str());
    const auto bytes = fixture::compileBundle({policy(kPermit)}, &publisher);
    std::ofstream(path_, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    Config c;
    c.agent = "trainer";
    c.bundle = path_;
    c.trust = {pub};
    c.log = logPath;
    c.logKey = priv;
    c.reloadMs = 0;
    gate_ = std::make_unique<Gate>(c, "", real_);
    gate_->start();
    Gate& g = *gate_;
    g.moduleLoaded(handle<CUmodule>(0xA0), moduleDigest(kModuleA));
    g.functionFound(handle<CUmodule>(0xA0), vecadd, "vecadd");
    g.functionFound(handle<CUmodule>(0xA0), other, "other");
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_SUCCESS);
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", vecadd, small), CUDA_SUCCESS);  // cached: not logged again
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", other, small), CUDA_ERROR_NOT_PERMITTED);
    EXPECT_EQ(g.checkLaunch("cuLaunchKernel", handle<CUfunction>(0xDEAD0), small), CUDA_ERROR_NOT_PERMITTED);
    g.stop();

    auto reader = log::Reader::open(logPath);
    ASSERT_TRUE(reader) << reader.error();
    std::vector<std::string> decisions, events;
    while (true) {
        auto record = (*reader)->next();
        ASSERT_TRUE(record) << record.error();
        if (!*record) break;
        if (const auto* body = std::get_if<log::EntryBody>(&(*record)->body)) {
            if ((*record)->kind == log::Kind::Decision) decisions.push_back(body->decision);
            if ((*record)->kind == log::Kind::Event) events.push_back(body->decision);
        }
    }
    ASSERT_EQ(decisions.size(), 2u);
    EXPECT_NE(decisions[0].find("\"decision\":\"allow\""), std::string::npos) << decisions[0];
    EXPECT_NE(decisions[1].find("\"decision\":\"deny\""), std::string::npos) << decisions[1];
    bool gateEvent = false;
    for (const std::string& e : events) gateEvent |= e.find("\"event\":\"cuda-gate deny\"") != std::string::npos;
    EXPECT_TRUE(gateEvent);

    // A bundle by another publisher is refused; the signed one stays in force.
    const fixture::KeyPair stranger = fixture::newKey();
    const auto foreignBytes = fixture::compileBundle({policy("")}, &stranger);
    gate_ = std::make_unique<Gate>(c, "", real_);
    std::remove(logPath.c_str());
    gate_->start();
    std::ofstream(path_, std::ios::binary)
        .write(reinterpret_cast<const char*>(foreignBytes.data()), foreignBytes.size());
    EXPECT_EQ(gate_->reload(), -1);
    EXPECT_EQ(gate_->monitor().generation(), 1u);
    std::remove(pub.c_str());
    std::remove(priv.c_str());
}

}  // namespace
}  // namespace omega::cudagate
