// A libcudart program for the end-to-end test: an empty kernel launched with <<<...>>> and with cudaLaunchKernel,
// and cudaMalloc. Against the stand-in driver libcudart 13 stops at its first call (it needs private driver tables,
// see tests/cuda/README.md); the test checks that it fails that way and that its cuGetProcAddress lookups went
// through the gate. On a GPU the same calls succeed (scripts/gpu-check.sh runs tests/cuda/device/runtime_check.cu).
#include <cuda_runtime.h>

#include <cstdio>

__global__ void omega_allowed() {}

static cudaError_t report(const char* label, cudaError_t e) {
    std::printf("%s: %d %s\n", label, static_cast<int>(e), cudaGetErrorName(e));
    std::fflush(stdout);
    return e;
}

int main() {
    int version = 0;
    report("cudaDriverGetVersion", cudaDriverGetVersion(&version));
    std::printf("driver version: %d\n", version);
    omega_allowed<<<1, 1>>>();
    report("<<<>>> omega_allowed", cudaGetLastError());
    report("cudaLaunchKernel omega_allowed",
           cudaLaunchKernel(reinterpret_cast<const void*>(omega_allowed), dim3(1), dim3(1), nullptr, 0, nullptr));
    void* p = nullptr;
    report("cudaMalloc 1 MiB", cudaMalloc(&p, size_t(1) << 20));
    if (p) report("cudaFree", cudaFree(p));
    return 0;
}
