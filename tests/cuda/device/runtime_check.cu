// The runtime-API side of the CUDA gate's checks: kernels launched with <<<...>>> and cudaLaunchKernel, memory from
// cudaMalloc, all reaching the driver through libcudart (which finds it with dlopen and cuGetProcAddress).
//   runtime_check check        one line per result, `<label>: <code> <name>` (cudaError_t)
//   runtime_check bench N      N launches of an empty kernel, then one synchronisation; prints `launches=N ns=T`
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

__global__ void omega_allowed(int* out) {
    if (out) out[0] = 1;
}
__global__ void omega_denied(int* out) {
    if (out) out[0] = 3;
}
__global__ void omega_empty() {}

static cudaError_t report(const char* label, cudaError_t e) {
    std::printf("%s: %d %s\n", label, static_cast<int>(e), cudaGetErrorName(e));
    std::fflush(stdout);
    return e;
}

static long long now_ns() {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int check() {
    int* out = nullptr;
    report("cudaMalloc 4 bytes", cudaMalloc(&out, sizeof(int)));
    omega_allowed<<<1, 32>>>(out);
    report("<<<>>> omega_allowed", cudaGetLastError());
    report("sync after omega_allowed", cudaDeviceSynchronize());
    int value = 0;
    if (out) {
        report("read back", cudaMemcpy(&value, out, sizeof value, cudaMemcpyDeviceToHost));
        std::printf("omega_allowed wrote: %d\n", value);
    }
    omega_denied<<<1, 32>>>(out);
    report("<<<>>> omega_denied", cudaGetLastError());
    report("sync after omega_denied", cudaDeviceSynchronize());
    if (out) {
        report("read back", cudaMemcpy(&value, out, sizeof value, cudaMemcpyDeviceToHost));
        std::printf("after omega_denied: %d\n", value);  // still 1: the denied kernel never ran
    }
    void* args[] = {&out};
    report("cudaLaunchKernel omega_allowed",
           cudaLaunchKernel(reinterpret_cast<const void*>(omega_allowed), dim3(1), dim3(32), args, 0, nullptr));
    report("cudaLaunchKernel omega_denied",
           cudaLaunchKernel(reinterpret_cast<const void*>(omega_denied), dim3(1), dim3(32), args, 0, nullptr));
    // The policy's quota for this agent is 64 MiB (4 bytes are held already).
    void* big = nullptr;
    report("cudaMalloc 32 MiB", cudaMalloc(&big, size_t(32) << 20));
    void* more = nullptr;
    report("cudaMalloc 48 MiB more", cudaMalloc(&more, size_t(48) << 20));
    if (big) report("cudaFree 32 MiB", cudaFree(big));
    report("cudaMalloc 48 MiB after free", cudaMalloc(&more, size_t(48) << 20));
    if (more) cudaFree(more);
    if (out) cudaFree(out);
    return 0;
}

static int bench(long n) {
    // The first launch pays for context creation and module loading; it is not part of the loop.
    omega_empty<<<1, 1>>>();
    cudaError_t e = cudaDeviceSynchronize();
    if (e != cudaSuccess) {
        std::printf("warm-up: %d %s\n", static_cast<int>(e), cudaGetErrorName(e));
        return 1;
    }
    long long start = now_ns();
    for (long i = 0; i < n; i++) omega_empty<<<1, 1>>>();
    e = cudaDeviceSynchronize();
    long long elapsed = now_ns() - start;
    cudaError_t last = cudaGetLastError();
    if (e != cudaSuccess || last != cudaSuccess) {
        std::printf("bench: %d %s\n", static_cast<int>(e != cudaSuccess ? e : last),
                    cudaGetErrorName(e != cudaSuccess ? e : last));
        return 1;
    }
    std::printf("launches=%ld ns=%lld\n", n, elapsed);
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 2 && std::strcmp(argv[1], "check") == 0) return check();
    if (argc == 3 && std::strcmp(argv[1], "bench") == 0) return bench(std::atol(argv[2]));
    std::fprintf(stderr, "usage: %s check | bench N\n", argv[0]);
    return 2;
}
