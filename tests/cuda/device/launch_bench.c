/* The driver-API launch-throughput benchmark: loads a module, launches its empty kernel N times with cuLaunchKernel,
 * synchronises once, prints `launches=N ns=T`. scripts/gpu-check.sh runs it with and without the gate.
 * Usage: cuda_launch_bench MODULE N */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "Common.h"

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODULE N\n", argv[0]);
        return 2;
    }
    long n = atol(argv[2]);
    setup();
    CUmodule m;
    need("cuModuleLoad", cuModuleLoad(&m, argv[1]));
    CUfunction f;
    need("cuModuleGetFunction omega_empty", cuModuleGetFunction(&f, m, "omega_empty"));
    /* The first launch (and the gate's first decision) is not part of the loop. */
    need("warm-up launch", cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL));
    need("warm-up sync", cuCtxSynchronize());
    long long start = now_ns();
    for (long i = 0; i < n; i++) {
        CUresult r = cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL);
        if (r != CUDA_SUCCESS) {
            printf("launch %ld: %d %s\n", i, (int)r, result_name(r));
            return 1;
        }
    }
    need("cuCtxSynchronize", cuCtxSynchronize());
    printf("launches=%ld ns=%lld\n", n, now_ns() - start);
    need("cuModuleUnload", cuModuleUnload(m));
    return 0;
}
