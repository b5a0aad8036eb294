// The CUDA gate's cost per launch (docs/performance.md, "CUDA gate"): cuLaunchKernel of the stand-in driver
// (tests/cuda/standin) called directly, and through libomega_cuda_gate.so with a cached decision and with a
// decision every time (a permit with an audit obligation, which the gate never caches). Both libraries are dlopen'ed
// RTLD_LOCAL, so the benchmark picks each entry point itself; the gate forwards to the same stand-in.
#include "omega/bundle/Bundle.h"
#include "omega/codegen/CodeGen.h"
#include "omega/cudagate/Driver.h"
#include "omega/gen/Generate.h"
#include "omega/policy/Serialize.h"

#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

using LaunchFn = decltype(&cuLaunchKernel);

// The stand-in's module format: two kernels, passed by pointer with their NUL.
const char kModule[] = "OMEGA-STANDIN-MODULE v1\nkernel bench_cached\nkernel bench_audited\n";

std::string digest() {
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(kModule), sizeof kModule, d);
    std::string hex;
    char b[3];
    for (unsigned char c : d) {
        std::snprintf(b, sizeof b, "%02x", c);
        hex += b;
    }
    return hex;
}

struct Setup {
    LaunchFn standin = nullptr, gated = nullptr;
    decltype(&cuCtxGetDevice) ctxGetDevice = nullptr;  // what the gate asks the driver on every launch
    decltype(&cuCtxSetCurrent) setCurrent = nullptr;
    CUcontext ctx = nullptr;
    CUfunction cached = nullptr, audited = nullptr;
    std::string error;
};

const Setup& setup() {
    static const Setup s = [] {
        Setup s;
        const std::string policy =
            "policy cuda_bench version 1 by principal \"tenant:bench\";\n"
            "agent bench { owner \"bench\"; }\n"
            "kernels cached { module sha256:\"" +
            digest() + "\"; names {\"bench_cached\"}; }\n" + "kernels audited { module sha256:\"" + digest() +
            "\"; names {\"bench_audited\"}; }\n" +
            "permit gpu.launch by agent bench when kernel in cached;\n"
            "permit gpu.launch by agent bench when kernel in audited obligation audit;\n"
            "forbid gpu.launch when kernel.block > 1024;\n";
        auto checked = omega::gen::check({policy});
        omega::policy::Image image;
        if (!checked->ok() ||
            !omega::codegen::generate(checked->modules, checked->model, checked->sm, {"bench"}, image, s.error)) {
            s.error = "policy: " + checked->report() + s.error;
            return s;
        }
        auto bytes = omega::bundle::encode(omega::policy::toSections(image));
        const std::string bundle = "/tmp/omega-cuda-gate-bench-" + std::to_string(::getpid()) + ".omb";
        std::ofstream(bundle, std::ios::binary).write(reinterpret_cast<const char*>(bytes->data()), bytes->size());
        ::setenv("OMEGA_CUDA_AGENT", "bench", 1);
        ::setenv("OMEGA_CUDA_BUNDLE", bundle.c_str(), 1);
        ::setenv("OMEGA_CUDA_ALLOW_UNSIGNED", "1", 1);
        ::setenv("OMEGA_CUDA_RELOAD_MS", "0", 1);
        ::setenv("OMEGA_CUDA_DRIVER", OMEGA_CUDA_STANDIN, 1);
        void* standin = dlopen(OMEGA_CUDA_STANDIN, RTLD_NOW | RTLD_LOCAL);
        void* gate = dlopen(OMEGA_CUDA_GATE, RTLD_NOW | RTLD_LOCAL);
        if (!standin || !gate) {
            s.error = dlerror();
            return s;
        }
        auto sym = [](void* h, const char* name) { return dlsym(h, name); };
        s.standin = reinterpret_cast<LaunchFn>(sym(standin, "cuLaunchKernel"));
        s.gated = reinterpret_cast<LaunchFn>(sym(gate, "cuLaunchKernel"));
        // Context set-up goes to the stand-in; module loads through the gate, which records what they hold.
        auto init = reinterpret_cast<decltype(&cuInit)>(sym(standin, "cuInit"));
        auto deviceGet = reinterpret_cast<decltype(&cuDeviceGet)>(sym(standin, "cuDeviceGet"));
        auto retain = reinterpret_cast<decltype(&cuDevicePrimaryCtxRetain)>(sym(standin, "cuDevicePrimaryCtxRetain"));
        s.ctxGetDevice = reinterpret_cast<decltype(&cuCtxGetDevice)>(sym(standin, "cuCtxGetDevice"));
        s.setCurrent = reinterpret_cast<decltype(&cuCtxSetCurrent)>(sym(standin, "cuCtxSetCurrent"));
        auto load = reinterpret_cast<decltype(&cuModuleLoadData)>(sym(gate, "cuModuleLoadData"));
        auto get = reinterpret_cast<decltype(&cuModuleGetFunction)>(sym(gate, "cuModuleGetFunction"));
        CUdevice dev = 0;
        CUmodule module = nullptr;
        if (init(0) || deviceGet(&dev, 0) || retain(&s.ctx, dev) || s.setCurrent(s.ctx) || load(&module, kModule) ||
            get(&s.cached, module, "bench_cached") || get(&s.audited, module, "bench_audited"))
            s.error = "stand-in set-up failed";
        std::remove(bundle.c_str());
        return s;
    }();
    return s;
}

void run(benchmark::State& state, LaunchFn launch, CUfunction f) {
    const Setup& s = setup();
    if (!s.error.empty()) {
        state.SkipWithError(s.error.c_str());
        return;
    }
    s.setCurrent(s.ctx);  // the context is current per thread
    for (auto _ : state) {
        const CUresult r = launch(f, 4, 1, 1, 256, 1, 1, 0, nullptr, nullptr, nullptr);
        if (r != CUDA_SUCCESS) {
            state.SkipWithError(("launch failed: " + std::to_string(r)).c_str());
            return;
        }
    }
    state.SetItemsProcessed(state.iterations());
}

// The driver call the gate makes on every launch, cached or not (the device of the current context).
void BM_StandinCtxGetDevice(benchmark::State& state) {
    const Setup& s = setup();
    if (!s.error.empty()) {
        state.SkipWithError(s.error.c_str());
        return;
    }
    s.setCurrent(s.ctx);
    CUdevice dev = 0;
    for (auto _ : state) benchmark::DoNotOptimize(s.ctxGetDevice(&dev));
    state.SetItemsProcessed(state.iterations());
}

void BM_StandinAlone(benchmark::State& state) {
    run(state, setup().standin, setup().cached);
}
void BM_GateCached(benchmark::State& state) {
    run(state, setup().gated, setup().cached);
}
void BM_GateUncached(benchmark::State& state) {
    run(state, setup().gated, setup().audited);
}

BENCHMARK(BM_StandinCtxGetDevice);
BENCHMARK(BM_StandinAlone);
BENCHMARK(BM_StandinAlone)->Threads(2);
BENCHMARK(BM_GateCached);
BENCHMARK(BM_GateCached)->Threads(2);
BENCHMARK(BM_GateUncached);
BENCHMARK(BM_GateUncached)->Threads(2);

}  // namespace

BENCHMARK_MAIN();
