/* The smallest useful program: load a module, launch its allowed kernel, allocate and free 1 MiB. The end-to-end
 * test runs it under broken gate configurations (no bundle, unknown agent, untrusted signature) to show that the
 * gate then refuses everything. Usage: cuda_smoke MODULE */
#include <stdio.h>

#include "Common.h"

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODULE\n", argv[0]);
        return 2;
    }
    setup();
    int* out = NULL; /* the kernel's parameter; it writes nothing through NULL */
    void* args[] = {&out};
    CUmodule m = NULL;
    CUfunction f = NULL;
    if (report("load", cuModuleLoad(&m, argv[1])) == CUDA_SUCCESS &&
        report("get omega_allowed", cuModuleGetFunction(&f, m, "omega_allowed")) == CUDA_SUCCESS)
        report("launch omega_allowed", cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, NULL, args, NULL));
    CUdeviceptr p = 0;
    if (report("alloc 1 MiB", cuMemAlloc_v2(&p, (size_t)1 << 20)) == CUDA_SUCCESS) report("free", cuMemFree_v2(p));
    if (m) report("unload", cuModuleUnload(m));
    return 0;
}
