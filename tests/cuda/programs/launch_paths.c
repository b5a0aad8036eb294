/* Loads a module by every load path and launches an allowed and a denied kernel through every launch entry point;
 * then a module with the same kernel names but other bytes (a different hash). One result line each (Common.h).
 * Usage: cuda_launch_paths MODULE [IMPOSTOR]
 * MODULE holds omega_allowed, omega_other and omega_denied; IMPOSTOR holds an omega_allowed with another image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "Common.h"

static int* g_out; /* the kernels' one parameter: a pointer nobody dereferences (nothing runs on the stand-in) */
static void* g_args[] = {&g_out};

static CUresult launch_grid(CUfunction f, unsigned grid, unsigned block) {
    return cuLaunchKernel(f, grid, 1, 1, block, 1, 1, 0, NULL, g_args, NULL);
}

static CUresult launch(CUfunction f, unsigned block) {
    return launch_grid(f, 2, block);
}

/* Loads MODULE one way, gets both kernels, launches each once, unloads. */
static void by_module(const char* path, const char* how, const unsigned char* image) {
    CUmodule m = NULL;
    CUresult r;
    if (strcmp(how, "file") == 0) {
        r = cuModuleLoad(&m, path);
    } else if (strcmp(how, "data") == 0) {
        r = cuModuleLoadData(&m, image);
    } else if (strcmp(how, "dataex") == 0) {
        char log[256];
        CUjit_option opts[] = {CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES};
        void* vals[] = {log, (void*)(size_t)sizeof log};
        r = cuModuleLoadDataEx(&m, image, 2, opts, vals);
    } else {
        r = cuModuleLoadFatBinary(&m, image);
    }
    reportf(r, "%s load", how);
    if (r != CUDA_SUCCESS) return;
    const char* names[] = {"omega_allowed", "omega_denied"};
    for (int i = 0; i < 2; i++) {
        CUfunction f = NULL;
        if (reportf(cuModuleGetFunction(&f, m, names[i]), "%s get %s", how, names[i]) == CUDA_SUCCESS)
            reportf(launch(f, 32), "%s launch %s", how, names[i]);
    }
    CUfunction missing;
    reportf(cuModuleGetFunction(&missing, m, "omega_missing"), "%s get omega_missing", how);
    reportf(cuModuleUnload(m), "%s unload", how);
}

static void by_library(const char* path, const char* how, const unsigned char* image) {
    CUlibrary lib = NULL;
    CUresult r = strcmp(how, "libfile") == 0 ? cuLibraryLoadFromFile(&lib, path, NULL, NULL, 0, NULL, NULL, 0)
                                             : cuLibraryLoadData(&lib, image, NULL, NULL, 0, NULL, NULL, 0);
    reportf(r, "%s load", how);
    if (r != CUDA_SUCCESS) return;
    const char* names[] = {"omega_allowed", "omega_denied"};
    for (int i = 0; i < 2; i++) {
        CUkernel k = NULL;
        if (reportf(cuLibraryGetKernel(&k, lib, names[i]), "%s get %s", how, names[i]) != CUDA_SUCCESS) continue;
        /* A CUkernel launches directly (CUDA 12), or through the function it has in this context. */
        reportf(launch((CUfunction)(void*)k, 32), "%s launch kernel %s", how, names[i]);
        CUfunction f = NULL;
        if (reportf(cuKernelGetFunction(&f, k), "%s function %s", how, names[i]) == CUDA_SUCCESS)
            reportf(launch(f, 32), "%s launch function %s", how, names[i]);
    }
    /* The library's module, and functions found by enumeration rather than by name. */
    CUmodule lm = NULL;
    if (reportf(cuLibraryGetModule(&lm, lib), "%s module", how) == CUDA_SUCCESS) {
        for (int i = 0; i < 2; i++) {
            CUfunction f = NULL;
            if (reportf(cuModuleGetFunction(&f, lm, names[i]), "%s module get %s", how, names[i]) == CUDA_SUCCESS)
                reportf(launch(f, 32), "%s module launch %s", how, names[i]);
        }
    }
    CUkernel all[8] = {0};
    unsigned count = 0;
    if (cuLibraryGetKernelCount(&count, lib) == CUDA_SUCCESS && count <= 8 &&
        reportf(cuLibraryEnumerateKernels(all, count, lib), "%s enumerate", how) == CUDA_SUCCESS) {
        for (unsigned i = 0; i < count; i++) {
            const char* name = "?";
            cuKernelGetName(&name, all[i]);
            reportf(launch((CUfunction)(void*)all[i], 32), "%s enumerated launch %s", how, name);
        }
    }
    reportf(cuLibraryUnload(lib), "%s unload", how);
}

/* Functions found by enumeration: the gate never saw their names asked for. */
static void enumerated(const unsigned char* image) {
    CUmodule m;
    need("cuModuleLoadData", cuModuleLoadData(&m, image));
    unsigned count = 0;
    need("cuModuleGetFunctionCount", cuModuleGetFunctionCount(&count, m));
    CUfunction all[8] = {0};
    if (count > 8) count = 8;
    report("enumerate functions", cuModuleEnumerateFunctions(all, count, m));
    for (unsigned i = 0; i < count; i++) {
        const char* name = "?";
        cuFuncGetName(&name, all[i]);
        reportf(launch(all[i], 32), "enumerated launch %s", name);
    }
    need("cuModuleUnload", cuModuleUnload(m));
}

/* A function handle of an unloaded module may come back, at the same address, from another module: a decision
 * remembered for the old one must not carry over. */
static void reuse(const unsigned char* image, const unsigned char* impostor) {
    CUmodule m;
    CUfunction first, second;
    need("cuModuleLoadData", cuModuleLoadData(&m, image));
    need("cuModuleGetFunction", cuModuleGetFunction(&first, m, "omega_allowed"));
    report("reuse first launch", launch(first, 32));
    need("cuModuleUnload", cuModuleUnload(m));
    need("cuModuleLoadData", cuModuleLoadData(&m, impostor));
    need("cuModuleGetFunction", cuModuleGetFunction(&second, m, "omega_allowed"));
    printf("reuse same handle: %s\n", first == second ? "yes" : "no");
    report("reuse second launch", launch_grid(second, 3, 32));
    need("cuModuleUnload", cuModuleUnload(m));
}

/* Every launch entry point, for one function. */
static void entry_points(CUfunction f, const char* name) {
    CUstream s;
    need("cuStreamCreate", cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    reportf(cuLaunchKernel(f, 4, 1, 1, 64, 1, 1, 0, s, g_args, NULL), "cuLaunchKernel %s", name);
    reportf(cuLaunchKernel_ptsz(f, 4, 1, 1, 64, 1, 1, 0, NULL, g_args, NULL), "cuLaunchKernel_ptsz %s", name);
    CUlaunchConfig cfg = {4, 1, 1, 64, 1, 1, 0, s, NULL, 0};
    reportf(cuLaunchKernelEx(&cfg, f, g_args, NULL), "cuLaunchKernelEx %s", name);
    reportf(cuLaunchKernelEx_ptsz(&cfg, f, g_args, NULL), "cuLaunchKernelEx_ptsz %s", name);
    CUlaunchAttribute coop;
    memset(&coop, 0, sizeof coop);
    coop.id = CU_LAUNCH_ATTRIBUTE_COOPERATIVE;
    coop.value.cooperative = 1;
    CUlaunchConfig coop_cfg = {4, 1, 1, 64, 1, 1, 0, s, &coop, 1};
    reportf(cuLaunchKernelEx(&coop_cfg, f, g_args, NULL), "cuLaunchKernelEx cooperative %s", name);
    reportf(cuLaunchCooperativeKernel(f, 4, 1, 1, 64, 1, 1, 0, s, g_args), "cuLaunchCooperativeKernel %s", name);
    reportf(cuLaunchCooperativeKernel_ptsz(f, 4, 1, 1, 64, 1, 1, 0, NULL, g_args), "cuLaunchCooperativeKernel_ptsz %s",
            name);
    /* Packed parameters through `extra` instead of kernelParams. */
    size_t size = sizeof g_out;
    void* extra[] = {(void*)0x01, &g_out, (void*)0x02, &size, (void*)0x00};
    reportf(cuLaunchKernel(f, 4, 1, 1, 64, 1, 1, 0, s, NULL, extra), "cuLaunchKernel extra %s", name);
    /* The deprecated entry points (no block shape, no parameters). */
    reportf(cuLaunch(f), "cuLaunch %s", name);
    reportf(cuLaunchGrid(f, 2, 1), "cuLaunchGrid %s", name);
    reportf(cuLaunchGridAsync(f, 2, 1, s), "cuLaunchGridAsync %s", name);
    CUDA_LAUNCH_PARAMS multi = {f, 4, 1, 1, 64, 1, 1, 0, s, g_args};
    reportf(cuLaunchCooperativeKernelMultiDevice(&multi, 1, 0), "cuLaunchCooperativeKernelMultiDevice %s", name);
    need("cuStreamSynchronize", cuStreamSynchronize(s));
    need("cuStreamDestroy", cuStreamDestroy_v2(s));
}

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s MODULE [IMPOSTOR]\n", argv[0]);
        return 2;
    }
    setup();
    size_t size;
    unsigned char* image = read_file(argv[1], &size);

    by_module(argv[1], "file", image);
    by_module(argv[1], "data", image);
    by_module(argv[1], "dataex", image);
    by_module(argv[1], "fatbinary", image);
    by_library(argv[1], "libfile", image);
    by_library(argv[1], "libdata", image);

    CUmodule m;
    need("cuModuleLoadData", cuModuleLoadData(&m, image));
    CUfunction allowed, other, denied;
    need("cuModuleGetFunction", cuModuleGetFunction(&allowed, m, "omega_allowed"));
    need("cuModuleGetFunction", cuModuleGetFunction(&other, m, "omega_other"));
    need("cuModuleGetFunction", cuModuleGetFunction(&denied, m, "omega_denied"));
    entry_points(allowed, "omega_allowed");
    entry_points(denied, "omega_denied");

    /* The policy bounds the block size: an allowed kernel with too big a block is denied. */
    report("launch omega_allowed block 1024", launch(allowed, 1024));
    /* Steady state: the same approved launch many times (the gate's cache), then a denied one still denied. */
    int ok = 0;
    for (int i = 0; i < 1000; i++) ok += launch(other, 32) == CUDA_SUCCESS;
    printf("repeat omega_other: %d of 1000\n", ok);
    report("repeat then omega_denied", launch(denied, 32));
    need("cuModuleUnload", cuModuleUnload(m));

    if (argc == 3) {
        /* Same kernel name, another image: the policy pins the module hash, so this one must not run. Its launches
         * use a grid of 3 blocks, which no other launch here does, so the driver's log tells them apart. */
        size_t isize;
        unsigned char* impostor = read_file(argv[2], &isize);
        CUmodule im;
        CUfunction f;
        if (report("impostor load", cuModuleLoadData(&im, impostor)) == CUDA_SUCCESS &&
            report("impostor get omega_allowed", cuModuleGetFunction(&f, im, "omega_allowed")) == CUDA_SUCCESS) {
            report("impostor launch omega_allowed", launch_grid(f, 3, 32));
            cuModuleUnload(im);
        }
        CUmodule imf;
        if (report("impostor file load", cuModuleLoad(&imf, argv[2])) == CUDA_SUCCESS &&
            report("impostor file get omega_allowed", cuModuleGetFunction(&f, imf, "omega_allowed")) == CUDA_SUCCESS) {
            report("impostor file launch omega_allowed", launch_grid(f, 3, 32));
            cuModuleUnload(imf);
        }
        reuse(image, impostor);
        free(impostor);
    }
    enumerated(image);
    free(image);
    return 0;
}
