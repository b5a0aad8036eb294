// The exported driver entry points of libomega_cuda_gate.so (docs/gpu.md, "What is gated"): each checks with the
// gate, then forwards to the real driver, or answers CUDA_ERROR_NOT_PERMITTED without reaching it. Also
// cuGetProcAddress, which hands out these wrappers for the names it gates (the path libcudart takes), and
// omega_cuda_gate_reload().
#include "Interpose.h"
#include "Gate.h"
#include "Image.h"
#include "Real.h"

#include <cstdlib>
#include <cstring>
#include <limits>

using namespace omega::cudagate;

namespace {

// Configuration and the real driver, read once. The gate itself is created on first use and never destroyed
// (threads may still be in it while the process exits); stop() at exit closes the log and prints counters.
struct Boot {
    Config config;
    std::string configError;
    Real real;
};

Boot& boot() {
    static Boot* b = [] {
        auto* boot = new Boot;
        if (!loadConfig([](const char* name) { return static_cast<const char*>(std::getenv(name)); }, boot->config,
                        boot->configError) &&
            boot->configError.empty())
            boot->configError = "configuration error";
        openDriver(boot->config.driver, boot->real);
        if (!boot->real.loaded) {
            const std::string line = "omega-cuda-gate: " + boot->real.error + "\n";
            (void)!::write(2, line.data(), line.size());
        }
        return boot;
    }();
    return *b;
}

Gate& gate() {
    static Gate* g = [] {
        Boot& b = boot();
        auto* gate = new Gate(b.config, b.configError, b.real);
        gate->start();
        std::atexit([] { ::gate().stop(); });
        return gate;
    }();
    return *g;
}

CUresult missing() {
    return boot().real.loaded ? CUDA_ERROR_NOT_FOUND : CUDA_ERROR_NOT_INITIALIZED;
}

// A call that only needs forwarding, or recording once the driver answered (`after` runs under the guard).
template <auto Member, typename After, typename... A>
CUresult forward(After after, A... a) {
    const auto fn = boot().real.*Member;
    if (fn == nullptr) return missing();
    if (reentered()) return fn(a...);
    Guard guard;
    const CUresult r = fn(a...);
    if (r == CUDA_SUCCESS) after();
    return r;
}

template <auto Member, typename... A>
CUresult launch(const char* call, CUfunction f, const Shape& shape, A... a) {
    const auto fn = boot().real.*Member;
    if (fn == nullptr) return missing();
    if (reentered()) return fn(a...);
    Guard guard;
    if (const CUresult d = gate().checkLaunch(call, f, shape); d != CUDA_SUCCESS) return d;
    return fn(a...);
}

template <auto Member, typename... A>
CUresult graphLaunch(const char* call, CUgraphExec exec, A... a) {
    const auto fn = boot().real.*Member;
    if (fn == nullptr) return missing();
    if (reentered()) return fn(a...);
    Guard guard;
    if (const CUresult d = gate().checkGraphLaunch(call, exec); d != CUDA_SUCCESS) return d;
    return fn(a...);
}

// An allocation of `bytes` whose pointer the driver writes to `*dptr`.
template <auto Member, typename... A>
CUresult allocate(const char* call, CUdeviceptr* dptr, std::uint64_t bytes, A... a) {
    const auto fn = boot().real.*Member;
    if (fn == nullptr) return missing();
    if (reentered()) return fn(a...);
    Guard guard;
    Gate& g = gate();
    Gate::Reservation r;
    if (const CUresult d = g.reserveAlloc(call, bytes, r); d != CUDA_SUCCESS) return d;
    const CUresult result = fn(a...);
    if (result == CUDA_SUCCESS && dptr != nullptr)
        g.commitAlloc(r, Quota::Kind::Pointer, *dptr);
    else
        g.rollbackAlloc(r);
    return result;
}

template <auto Member, typename... A>
CUresult release(Quota::Kind kind, std::uint64_t id, A... a) {
    return forward<Member>([&] { gate().freed(kind, id); }, a...);
}

// Images: the digest is taken before the driver sees the image.
template <auto Member, typename... A>
CUresult loadModule(const char* call, CUmodule* module, const void* image, A... a) {
    const auto fn = boot().real.*Member;
    if (fn == nullptr) return missing();
    if (reentered()) return fn(a...);
    Guard guard;
    Gate& g = gate();
    ImageSpan span;
    std::string error;
    if (!findImage(image, span, error))
        return g.refuse(call, "module image", "cannot identify the module image: " + error);
    std::string digest = moduleDigest({span.data, span.size});
    const CUresult r = fn(a...);
    if (r == CUDA_SUCCESS && module != nullptr) g.moduleLoaded(*module, std::move(digest));
    return r;
}

// cuGraphInstantiate* with `flags`: a graph instantiated for device launch is launched by kernels, where the gate
// cannot check it.
template <auto Member, typename... A>
CUresult instantiate(const char* call, CUgraphExec* exec, CUgraph graph, unsigned long long flags, A... a) {
    const auto fn = boot().real.*Member;
    if (fn == nullptr) return missing();
    if (reentered()) return fn(a...);
    Guard guard;
    Gate& g = gate();
    if (flags & CUDA_GRAPH_INSTANTIATE_FLAG_DEVICE_LAUNCH)
        return g.refuse(call, "graph",
                        "a graph instantiated for device launch is launched where the gate cannot "
                        "check it");
    const CUresult r = fn(a...);
    if (r == CUDA_SUCCESS && exec != nullptr) g.graphInstantiated(*exec, graph);
    return r;
}

std::uint64_t roundUp(std::uint64_t v, std::uint64_t to) {
    return v > std::numeric_limits<std::uint64_t>::max() - to ? std::numeric_limits<std::uint64_t>::max()
                                                              : (v + to - 1) / to * to;
}
std::uint64_t product(std::uint64_t a, std::uint64_t b) {
    return b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b ? std::numeric_limits<std::uint64_t>::max()
                                                                       : a * b;
}

const std::string kDeprecated =
    "a deprecated launch entry point, whose block shape and arguments come from calls the gate does not follow";

}  // namespace

// ---- launches ----

extern "C" {

CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, CUstream stream, void** params, void** extra) {
    return launch<&Real::cuLaunchKernel>("cuLaunchKernel", f, shapeOf(gx, gy, gz, bx, by, bz, shared), f, gx, gy, gz,
                                         bx, by, bz, shared, stream, params, extra);
}

CUresult cuLaunchKernel_ptsz(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                             unsigned shared, CUstream stream, void** params, void** extra) {
    return launch<&Real::cuLaunchKernel_ptsz>("cuLaunchKernel_ptsz", f, shapeOf(gx, gy, gz, bx, by, bz, shared), f, gx,
                                              gy, gz, bx, by, bz, shared, stream, params, extra);
}

CUresult cuLaunchKernelEx(const CUlaunchConfig* c, CUfunction f, void** params, void** extra) {
    if (c == nullptr) return CUDA_ERROR_INVALID_VALUE;
    return launch<&Real::cuLaunchKernelEx>(
        "cuLaunchKernelEx", f,
        shapeOf(c->gridDimX, c->gridDimY, c->gridDimZ, c->blockDimX, c->blockDimY, c->blockDimZ, c->sharedMemBytes), c,
        f, params, extra);
}

CUresult cuLaunchKernelEx_ptsz(const CUlaunchConfig* c, CUfunction f, void** params, void** extra) {
    if (c == nullptr) return CUDA_ERROR_INVALID_VALUE;
    return launch<&Real::cuLaunchKernelEx_ptsz>(
        "cuLaunchKernelEx_ptsz", f,
        shapeOf(c->gridDimX, c->gridDimY, c->gridDimZ, c->blockDimX, c->blockDimY, c->blockDimZ, c->sharedMemBytes), c,
        f, params, extra);
}

CUresult cuLaunchCooperativeKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                                   unsigned bz, unsigned shared, CUstream stream, void** params) {
    return launch<&Real::cuLaunchCooperativeKernel>("cuLaunchCooperativeKernel", f,
                                                    shapeOf(gx, gy, gz, bx, by, bz, shared), f, gx, gy, gz, bx, by, bz,
                                                    shared, stream, params);
}

CUresult cuLaunchCooperativeKernel_ptsz(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                                        unsigned bz, unsigned shared, CUstream stream, void** params) {
    return launch<&Real::cuLaunchCooperativeKernel_ptsz>("cuLaunchCooperativeKernel_ptsz", f,
                                                         shapeOf(gx, gy, gz, bx, by, bz, shared), f, gx, gy, gz, bx, by,
                                                         bz, shared, stream, params);
}

CUresult cuLaunch(CUfunction) {
    return gate().refuse("cuLaunch", "kernel", kDeprecated);
}
CUresult cuLaunchGrid(CUfunction, int, int) {
    return gate().refuse("cuLaunchGrid", "kernel", kDeprecated);
}
CUresult cuLaunchGridAsync(CUfunction, int, int, CUstream) {
    return gate().refuse("cuLaunchGridAsync", "kernel", kDeprecated);
}
CUresult cuLaunchCooperativeKernelMultiDevice(CUDA_LAUNCH_PARAMS*, unsigned, unsigned) {
    return gate().refuse("cuLaunchCooperativeKernelMultiDevice", "kernels", kDeprecated);
}

// ---- graphs ----

CUresult cuGraphInstantiate(CUgraphExec* exec, CUgraph graph, CUgraphNode* errorNode, char* logBuffer,
                            size_t bufferSize) {
    return instantiate<&Real::cuGraphInstantiate>("cuGraphInstantiate", exec, graph, 0, exec, graph, errorNode,
                                                  logBuffer, bufferSize);
}

CUresult cuGraphInstantiate_v2(CUgraphExec* exec, CUgraph graph, CUgraphNode* errorNode, char* logBuffer,
                               size_t bufferSize) {
    return instantiate<&Real::cuGraphInstantiate_v2>("cuGraphInstantiate_v2", exec, graph, 0, exec, graph, errorNode,
                                                     logBuffer, bufferSize);
}

CUresult cuGraphInstantiateWithFlags(CUgraphExec* exec, CUgraph graph, unsigned long long flags) {
    return instantiate<&Real::cuGraphInstantiateWithFlags>("cuGraphInstantiateWithFlags", exec, graph, flags, exec,
                                                           graph, flags);
}

CUresult cuGraphInstantiateWithParams(CUgraphExec* exec, CUgraph graph, CUDA_GRAPH_INSTANTIATE_PARAMS* p) {
    return instantiate<&Real::cuGraphInstantiateWithParams>("cuGraphInstantiateWithParams", exec, graph,
                                                            p ? p->flags : 0, exec, graph, p);
}

CUresult cuGraphInstantiateWithParams_ptsz(CUgraphExec* exec, CUgraph graph, CUDA_GRAPH_INSTANTIATE_PARAMS* p) {
    return instantiate<&Real::cuGraphInstantiateWithParams_ptsz>("cuGraphInstantiateWithParams_ptsz", exec, graph,
                                                                 p ? p->flags : 0, exec, graph, p);
}

CUresult cuGraphExecKernelNodeSetParams(CUgraphExec exec, CUgraphNode node, const CUDA_KERNEL_NODE_PARAMS_v1* p) {
    return forward<&Real::cuGraphExecKernelNodeSetParams>(
        [&] {
            if (p == nullptr) return;
            gate().graphKernelSet(exec, node, p->func,
                                  shapeOf(p->gridDimX, p->gridDimY, p->gridDimZ, p->blockDimX, p->blockDimY,
                                          p->blockDimZ, p->sharedMemBytes));
        },
        exec, node, p);
}

CUresult cuGraphExecKernelNodeSetParams_v2(CUgraphExec exec, CUgraphNode node, const CUDA_KERNEL_NODE_PARAMS* p) {
    return forward<&Real::cuGraphExecKernelNodeSetParams_v2>(
        [&] {
            if (p == nullptr) return;
            gate().graphKernelSet(exec, node, p->func ? p->func : reinterpret_cast<CUfunction>(p->kern),
                                  shapeOf(p->gridDimX, p->gridDimY, p->gridDimZ, p->blockDimX, p->blockDimY,
                                          p->blockDimZ, p->sharedMemBytes));
        },
        exec, node, p);
}

CUresult cuGraphExecChildGraphNodeSetParams(CUgraphExec exec, CUgraphNode node, CUgraph child) {
    return forward<&Real::cuGraphExecChildGraphNodeSetParams>([&] { gate().graphChildSet(exec, node, child); }, exec,
                                                              node, child);
}

CUresult cuGraphExecNodeSetParams(CUgraphExec exec, CUgraphNode node, CUgraphNodeParams* p) {
    return forward<&Real::cuGraphExecNodeSetParams>(
        [&] {
            if (p == nullptr) return;
            const CUDA_KERNEL_NODE_PARAMS_v3& k = p->u.kernel;
            if (p->type == CU_GRAPH_NODE_TYPE_KERNEL)
                gate().graphKernelSet(exec, node, k.func ? k.func : reinterpret_cast<CUfunction>(k.kern),
                                      shapeOf(k.gridDimX, k.gridDimY, k.gridDimZ, k.blockDimX, k.blockDimY, k.blockDimZ,
                                              k.sharedMemBytes));
            else if (p->type == CU_GRAPH_NODE_TYPE_GRAPH)
                gate().graphChildSet(exec, node, p->u.graph.graph);
        },
        exec, node, p);
}

// A failed update leaves the executable graph as it was (CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE: "not performed").
CUresult cuGraphExecUpdate(CUgraphExec exec, CUgraph graph, CUgraphNode* errorNode, CUgraphExecUpdateResult* result) {
    return forward<&Real::cuGraphExecUpdate>([&] { gate().graphUpdated(exec, graph); }, exec, graph, errorNode, result);
}

CUresult cuGraphExecUpdate_v2(CUgraphExec exec, CUgraph graph, CUgraphExecUpdateResultInfo* info) {
    return forward<&Real::cuGraphExecUpdate_v2>([&] { gate().graphUpdated(exec, graph); }, exec, graph, info);
}

CUresult cuGraphExecDestroy(CUgraphExec exec) {
    if (boot().real.cuGraphExecDestroy != nullptr && !reentered()) {
        Guard guard;
        gate().graphDestroyed(exec);
    }
    return forward<&Real::cuGraphExecDestroy>([] {}, exec);
}

CUresult cuGraphLaunch(CUgraphExec exec, CUstream stream) {
    return graphLaunch<&Real::cuGraphLaunch>("cuGraphLaunch", exec, exec, stream);
}

CUresult cuGraphLaunch_ptsz(CUgraphExec exec, CUstream stream) {
    return graphLaunch<&Real::cuGraphLaunch_ptsz>("cuGraphLaunch_ptsz", exec, exec, stream);
}

// ---- modules and libraries ----

// The file is read once and the driver loads those very bytes (from memory), so that what was hashed is what runs
// even if the file changes meanwhile. A NUL is appended for PTX text, which the driver reads up to one.
CUresult cuModuleLoad(CUmodule* module, const char* fname) {
    const Real& r = boot().real;
    if (r.cuModuleLoad == nullptr || r.cuModuleLoadData == nullptr) return missing();
    if (reentered()) return r.cuModuleLoad(module, fname);
    Guard guard;
    Gate& g = gate();
    std::vector<std::uint8_t> bytes;
    std::string error;
    if (!readFile(fname, bytes, error)) return fname == nullptr ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_FILE_NOT_FOUND;
    std::string digest = moduleDigest(bytes);
    bytes.push_back(0);
    const CUresult result = r.cuModuleLoadData(module, bytes.data());
    if (result == CUDA_SUCCESS && module != nullptr) g.moduleLoaded(*module, std::move(digest));
    return result;
}

CUresult cuModuleLoadData(CUmodule* module, const void* image) {
    return loadModule<&Real::cuModuleLoadData>("cuModuleLoadData", module, image, module, image);
}

CUresult cuModuleLoadDataEx(CUmodule* module, const void* image, unsigned n, CUjit_option* options, void** values) {
    return loadModule<&Real::cuModuleLoadDataEx>("cuModuleLoadDataEx", module, image, module, image, n, options,
                                                 values);
}

CUresult cuModuleLoadFatBinary(CUmodule* module, const void* fatCubin) {
    return loadModule<&Real::cuModuleLoadFatBinary>("cuModuleLoadFatBinary", module, fatCubin, module, fatCubin);
}

CUresult cuModuleUnload(CUmodule module) {
    if (boot().real.cuModuleUnload != nullptr && !reentered()) {
        Guard guard;
        gate().moduleUnloading(module);
    }
    return forward<&Real::cuModuleUnload>([] {}, module);
}

CUresult cuModuleGetFunction(CUfunction* f, CUmodule module, const char* name) {
    return forward<&Real::cuModuleGetFunction>(
        [&] {
            if (f != nullptr) gate().functionFound(module, *f, name);
        },
        f, module, name);
}

CUresult cuModuleEnumerateFunctions(CUfunction* functions, unsigned n, CUmodule module) {
    return forward<&Real::cuModuleEnumerateFunctions>([&] { gate().functionsListed(module, functions, n); }, functions,
                                                      n, module);
}

CUresult cuLibraryLoadData(CUlibrary* library, const void* code, CUjit_option* jitOptions, void** jitValues,
                           unsigned nJit, CUlibraryOption* libOptions, void** libValues, unsigned nLib) {
    const Real& r = boot().real;
    if (r.cuLibraryLoadData == nullptr) return missing();
    if (reentered())
        return r.cuLibraryLoadData(library, code, jitOptions, jitValues, nJit, libOptions, libValues, nLib);
    Guard guard;
    Gate& g = gate();
    ImageSpan span;
    std::string error;
    if (!findImage(code, span, error))
        return g.refuse("cuLibraryLoadData", "library image", "cannot identify the library image: " + error);
    std::string digest = moduleDigest({span.data, span.size});
    const CUresult result =
        r.cuLibraryLoadData(library, code, jitOptions, jitValues, nJit, libOptions, libValues, nLib);
    if (result == CUDA_SUCCESS && library != nullptr) g.libraryLoaded(*library, std::move(digest), {});
    return result;
}

// As cuModuleLoad: the bytes are read once and loaded from memory. The gate keeps them until the library is
// unloaded, since with CU_LIBRARY_BINARY_IS_PRESERVED the driver goes on reading them.
CUresult cuLibraryLoadFromFile(CUlibrary* library, const char* file, CUjit_option* jitOptions, void** jitValues,
                               unsigned nJit, CUlibraryOption* libOptions, void** libValues, unsigned nLib) {
    const Real& r = boot().real;
    if (r.cuLibraryLoadFromFile == nullptr || r.cuLibraryLoadData == nullptr) return missing();
    if (reentered())
        return r.cuLibraryLoadFromFile(library, file, jitOptions, jitValues, nJit, libOptions, libValues, nLib);
    Guard guard;
    Gate& g = gate();
    std::vector<std::uint8_t> bytes;
    std::string error;
    if (!readFile(file, bytes, error)) return file == nullptr ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_FILE_NOT_FOUND;
    std::string digest = moduleDigest(bytes);
    bytes.push_back(0);
    const CUresult result =
        r.cuLibraryLoadData(library, bytes.data(), jitOptions, jitValues, nJit, libOptions, libValues, nLib);
    if (result == CUDA_SUCCESS && library != nullptr) g.libraryLoaded(*library, std::move(digest), std::move(bytes));
    return result;
}

CUresult cuLibraryUnload(CUlibrary library) {
    std::vector<std::uint8_t> keep;  // freed after the driver let go of it
    if (boot().real.cuLibraryUnload != nullptr && !reentered()) {
        Guard guard;
        keep = gate().libraryUnloading(library);
    }
    return forward<&Real::cuLibraryUnload>([] {}, library);
}

CUresult cuLibraryGetKernel(CUkernel* kernel, CUlibrary library, const char* name) {
    return forward<&Real::cuLibraryGetKernel>(
        [&] {
            if (kernel != nullptr) gate().kernelFound(library, *kernel, name);
        },
        kernel, library, name);
}

CUresult cuLibraryGetModule(CUmodule* module, CUlibrary library) {
    return forward<&Real::cuLibraryGetModule>(
        [&] {
            if (module != nullptr) gate().libraryModule(library, *module);
        },
        module, library);
}

CUresult cuLibraryEnumerateKernels(CUkernel* kernels, unsigned n, CUlibrary library) {
    return forward<&Real::cuLibraryEnumerateKernels>([&] { gate().kernelsListed(library, kernels, n); }, kernels, n,
                                                     library);
}

CUresult cuKernelGetFunction(CUfunction* f, CUkernel kernel) {
    return forward<&Real::cuKernelGetFunction>(
        [&] {
            if (f != nullptr) gate().kernelFunction(kernel, *f);
        },
        f, kernel);
}

// ---- device memory ----

CUresult cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytes) {
    return allocate<&Real::cuMemAlloc_v2>("cuMemAlloc_v2", dptr, bytes, dptr, bytes);
}

CUresult cuMemAllocManaged(CUdeviceptr* dptr, size_t bytes, unsigned flags) {
    return allocate<&Real::cuMemAllocManaged>("cuMemAllocManaged", dptr, bytes, dptr, bytes, flags);
}

CUresult cuMemAllocAsync(CUdeviceptr* dptr, size_t bytes, CUstream stream) {
    return allocate<&Real::cuMemAllocAsync>("cuMemAllocAsync", dptr, bytes, dptr, bytes, stream);
}

CUresult cuMemAllocAsync_ptsz(CUdeviceptr* dptr, size_t bytes, CUstream stream) {
    return allocate<&Real::cuMemAllocAsync_ptsz>("cuMemAllocAsync_ptsz", dptr, bytes, dptr, bytes, stream);
}

CUresult cuMemAllocFromPoolAsync(CUdeviceptr* dptr, size_t bytes, CUmemoryPool pool, CUstream stream) {
    return allocate<&Real::cuMemAllocFromPoolAsync>("cuMemAllocFromPoolAsync", dptr, bytes, dptr, bytes, pool, stream);
}

CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr* dptr, size_t bytes, CUmemoryPool pool, CUstream stream) {
    return allocate<&Real::cuMemAllocFromPoolAsync_ptsz>("cuMemAllocFromPoolAsync_ptsz", dptr, bytes, dptr, bytes, pool,
                                                         stream);
}

// The driver picks the pitch. The decision is taken for the width rounded up to 512 bytes (the largest pitch
// alignment of current GPUs); should the driver choose a larger pitch, the difference is decided again before the
// pointer is handed out, and a denial frees it.
CUresult cuMemAllocPitch_v2(CUdeviceptr* dptr, size_t* pitch, size_t width, size_t height, unsigned elementBytes) {
    const Real& r = boot().real;
    if (r.cuMemAllocPitch_v2 == nullptr || r.cuMemFree_v2 == nullptr) return missing();
    if (reentered()) return r.cuMemAllocPitch_v2(dptr, pitch, width, height, elementBytes);
    Guard guard;
    Gate& g = gate();
    const std::uint64_t estimate = product(roundUp(width, 512), height);
    Gate::Reservation reserved;
    if (const CUresult d = g.reserveAlloc("cuMemAllocPitch_v2", estimate, reserved); d != CUDA_SUCCESS) return d;
    const CUresult result = r.cuMemAllocPitch_v2(dptr, pitch, width, height, elementBytes);
    if (result != CUDA_SUCCESS || dptr == nullptr || pitch == nullptr) {
        g.rollbackAlloc(reserved);
        return result;
    }
    const std::uint64_t actual = product(*pitch, height);
    if (actual > estimate) {
        Gate::Reservation extra;
        if (const CUresult d = g.reserveAlloc("cuMemAllocPitch_v2", actual - estimate, extra); d != CUDA_SUCCESS) {
            r.cuMemFree_v2(*dptr);
            g.rollbackAlloc(reserved);
            return d;
        }
        reserved.bytes += extra.bytes;  // one record, so that the free subtracts both
        extra.held = false;
    }
    g.commitAlloc(reserved, Quota::Kind::Pointer, *dptr);
    return CUDA_SUCCESS;
}

CUresult cuMemCreate(CUmemGenericAllocationHandle* handle, size_t size, const CUmemAllocationProp* prop,
                     unsigned long long flags) {
    const auto fn = boot().real.cuMemCreate;
    if (fn == nullptr) return missing();
    if (reentered()) return fn(handle, size, prop, flags);
    Guard guard;
    Gate& g = gate();
    Gate::Reservation r;
    if (const CUresult d = g.reserveAlloc("cuMemCreate", size, r); d != CUDA_SUCCESS) return d;
    const CUresult result = fn(handle, size, prop, flags);
    if (result == CUDA_SUCCESS && handle != nullptr)
        g.commitAlloc(r, Quota::Kind::Handle, *handle);
    else
        g.rollbackAlloc(r);
    return result;
}

CUresult cuMemFree_v2(CUdeviceptr dptr) {
    return release<&Real::cuMemFree_v2>(Quota::Kind::Pointer, dptr, dptr);
}
CUresult cuMemFreeAsync(CUdeviceptr dptr, CUstream stream) {
    return release<&Real::cuMemFreeAsync>(Quota::Kind::Pointer, dptr, dptr, stream);
}
CUresult cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream stream) {
    return release<&Real::cuMemFreeAsync_ptsz>(Quota::Kind::Pointer, dptr, dptr, stream);
}
CUresult cuMemRelease(CUmemGenericAllocationHandle handle) {
    return release<&Real::cuMemRelease>(Quota::Kind::Handle, handle, handle);
}

// The 32-bit entry points of CUDA before 3.2 cannot address a 64-bit device and take sizes the gate would have to
// widen: refused.
CUresult cuMemAlloc(CUdeviceptr_v1*, unsigned) {
    return gate().refuse("cuMemAlloc", "memory", "the 32-bit pre-CUDA-3.2 allocator is not supported by the gate");
}
CUresult cuMemAllocPitch(CUdeviceptr_v1*, unsigned*, unsigned, unsigned, unsigned) {
    return gate().refuse("cuMemAllocPitch", "memory", "the 32-bit pre-CUDA-3.2 allocator is not supported by the gate");
}
CUresult cuMemFree(CUdeviceptr_v1) {
    return gate().refuse("cuMemFree", "memory", "the 32-bit pre-CUDA-3.2 allocator is not supported by the gate");
}

// ---- entry points by name ----

CUresult cuGetProcAddress(const char* symbol, void** pfn, int cudaVersion, cuuint64_t flags) {
    const auto fn = boot().real.cuGetProcAddress;
    if (fn == nullptr) return missing();
    const CUresult r = fn(symbol, pfn, cudaVersion, flags);
    if (r == CUDA_SUCCESS && pfn != nullptr && *pfn != nullptr && !reentered())
        *pfn = substituteEntryPoint(boot().real, symbol, *pfn, cudaVersion, flags);
    return r;
}

CUresult cuGetProcAddress_v2(const char* symbol, void** pfn, int cudaVersion, cuuint64_t flags,
                             CUdriverProcAddressQueryResult* status) {
    const auto fn = boot().real.cuGetProcAddress_v2;
    if (fn == nullptr) return missing();
    const CUresult r = fn(symbol, pfn, cudaVersion, flags, status);
    if (r == CUDA_SUCCESS && pfn != nullptr && *pfn != nullptr && !reentered())
        *pfn = substituteEntryPoint(boot().real, symbol, *pfn, cudaVersion, flags);
    return r;
}

// ---- the gate's own ----

__attribute__((visibility("default"))) int omega_cuda_gate_reload(void) {
    Guard guard;
    return gate().reload();
}

}  // extern "C"

namespace omega::cudagate {

// A gated entry point whose real signature the gate cannot tell (see substituteEntryPoint) gets this: it takes any
// arguments (the caller cleans up after a C call) and refuses.
CUresult refusedEntryPoint() {
    return gate().refuse("cuGetProcAddress", "entry point",
                         "an entry point of a version the gate does not know was called");
}

}  // namespace omega::cudagate
