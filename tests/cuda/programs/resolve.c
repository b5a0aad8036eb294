/* The paths libcudart takes to the driver, which a symbol override alone does not cover: dlopen("libcuda.so.1") plus
 * dlsym, and cuGetProcAddress (the CUDA 11.3 form, cuGetProcAddress_v2, per-thread-stream variants, and a
 * cuGetProcAddress obtained from cuGetProcAddress). This program does not link against the driver at all; every
 * entry point it calls was resolved at run time. Usage: cuda_resolve MODULE */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "Common.h"

typedef CUresult (*GetProc1)(const char*, void**, int, cuuint64_t);
typedef CUresult (*GetProc2)(const char*, void**, int, cuuint64_t, CUdriverProcAddressQueryResult*);
typedef CUresult (*Launch)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, CUstream,
                           void**, void**);
typedef CUresult (*LaunchEx)(const CUlaunchConfig*, CUfunction, void**, void**);
typedef CUresult (*LaunchCoop)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                               CUstream, void**);
typedef CUresult (*Alloc)(CUdeviceptr*, size_t);
typedef CUresult (*Free)(CUdeviceptr);
typedef CUresult (*LoadData)(CUmodule*, const void*);
typedef CUresult (*GetFunction)(CUfunction*, CUmodule, const char*);

static int* g_out;
static void* g_args[] = {&g_out};
static CUfunction g_allowed, g_denied;

static void* must(void* p, const char* what) {
    if (!p) {
        fprintf(stderr, "test setup failed: %s: %s\n", what, dlerror());
        exit(2);
    }
    return p;
}

static void launch_both(const char* how, Launch launch) {
    if (!launch) {
        printf("%s: absent\n", how);
        return;
    }
    reportf(launch(g_allowed, 1, 1, 1, 32, 1, 1, 0, NULL, g_args, NULL), "%s omega_allowed", how);
    reportf(launch(g_denied, 1, 1, 1, 32, 1, 1, 0, NULL, g_args, NULL), "%s omega_denied", how);
}

/* A pointer from cuGetProcAddress_v2, with its status printed. */
static void* proc(GetProc2 gp, const char* how, const char* symbol, int version, cuuint64_t flags) {
    void* fn = NULL;
    CUdriverProcAddressQueryResult status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    CUresult r = gp(symbol, &fn, version, flags, &status);
    reportf(r, "%s resolve %s@%d flags %llu (status %d)", how, *symbol ? symbol : "\"\"", version,
            (unsigned long long)flags, (int)status);
    return r == CUDA_SUCCESS ? fn : NULL;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODULE\n", argv[0]);
        return 2;
    }
    void* lib = must(dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL), "dlopen libcuda.so.1");
    CUresult (*init)(unsigned) = must(dlsym(lib, "cuInit"), "cuInit");
    CUresult (*retain)(CUcontext*, CUdevice) = must(dlsym(lib, "cuDevicePrimaryCtxRetain"), "retain");
    CUresult (*set_current)(CUcontext) = must(dlsym(lib, "cuCtxSetCurrent"), "cuCtxSetCurrent");
    need("cuInit", init(0));
    CUcontext ctx;
    need("cuDevicePrimaryCtxRetain", retain(&ctx, 0));
    need("cuCtxSetCurrent", set_current(ctx));

    size_t size;
    unsigned char* image = read_file(argv[1], &size);
    LoadData load = must(dlsym(lib, "cuModuleLoadData"), "cuModuleLoadData");
    GetFunction get = must(dlsym(lib, "cuModuleGetFunction"), "cuModuleGetFunction");
    CUmodule m;
    report("dlsym cuModuleLoadData", load(&m, image));
    report("dlsym cuModuleGetFunction omega_allowed", get(&g_allowed, m, "omega_allowed"));
    report("dlsym cuModuleGetFunction omega_denied", get(&g_denied, m, "omega_denied"));

    /* dlsym on the driver's handle. */
    launch_both("dlsym cuLaunchKernel", (Launch)dlsym(lib, "cuLaunchKernel"));
    launch_both("dlsym cuLaunchKernel_ptsz", (Launch)dlsym(lib, "cuLaunchKernel_ptsz"));
    /* The global scope: the driver was opened RTLD_LOCAL, so only a preloaded gate answers here. */
    launch_both("RTLD_DEFAULT cuLaunchKernel", (Launch)dlsym(RTLD_DEFAULT, "cuLaunchKernel"));

    /* cuGetProcAddress_v2, as libcudart 12 and 13 use it. */
    GetProc2 gp2 = must(dlsym(lib, "cuGetProcAddress_v2"), "cuGetProcAddress_v2");
    launch_both("proc_v2 cuLaunchKernel", (Launch)proc(gp2, "proc_v2", "cuLaunchKernel", 12000, 0));
    launch_both("proc_v2 ptsz cuLaunchKernel", (Launch)proc(gp2, "proc_v2", "cuLaunchKernel", 12000, 2));
    launch_both("proc_v2 legacy cuLaunchKernel", (Launch)proc(gp2, "proc_v2", "cuLaunchKernel", 4000, 1));
    LaunchEx ex = (LaunchEx)proc(gp2, "proc_v2", "cuLaunchKernelEx", 12000, 0);
    if (ex) {
        CUlaunchConfig cfg = {1, 1, 1, 32, 1, 1, 0, NULL, NULL, 0};
        report("proc_v2 cuLaunchKernelEx omega_allowed", ex(&cfg, g_allowed, g_args, NULL));
        report("proc_v2 cuLaunchKernelEx omega_denied", ex(&cfg, g_denied, g_args, NULL));
    }
    LaunchCoop coop = (LaunchCoop)proc(gp2, "proc_v2", "cuLaunchCooperativeKernel", 12000, 2);
    if (coop) {
        report("proc_v2 cuLaunchCooperativeKernel_ptsz omega_allowed",
               coop(g_allowed, 1, 1, 1, 32, 1, 1, 0, NULL, g_args));
        report("proc_v2 cuLaunchCooperativeKernel_ptsz omega_denied",
               coop(g_denied, 1, 1, 1, 32, 1, 1, 0, NULL, g_args));
    }
    /* The CUDA 11.3 form. */
    GetProc1 gp1 = must(dlsym(lib, "cuGetProcAddress"), "cuGetProcAddress");
    void* fn = NULL;
    report("proc_v1 resolve cuLaunchKernel", gp1("cuLaunchKernel", &fn, 11030, 0));
    launch_both("proc_v1 cuLaunchKernel", (Launch)fn);
    /* cuGetProcAddress itself through cuGetProcAddress, as libcudart starts. */
    GetProc2 inner = (GetProc2)proc(gp2, "proc_v2", "cuGetProcAddress", 12000, 0);
    if (inner) launch_both("proc_inner cuLaunchKernel", (Launch)proc(inner, "proc_inner", "cuLaunchKernel", 12000, 0));
    GetProc1 inner1 = (GetProc1)proc(gp2, "proc_v2", "cuGetProcAddress", 11030, 0);
    if (inner1) {
        fn = NULL;
        report("proc_inner_v1 resolve cuLaunchKernel", inner1("cuLaunchKernel", &fn, 12000, 0));
        launch_both("proc_inner_v1 cuLaunchKernel", (Launch)fn);
    }

    /* A module loaded through a resolved pointer is known to the gate: its allowed kernel runs. */
    LoadData pload = (LoadData)proc(gp2, "proc_v2", "cuModuleLoadData", 12000, 0);
    GetFunction pget = (GetFunction)proc(gp2, "proc_v2", "cuModuleGetFunction", 12000, 0);
    Launch plaunch = (Launch)proc(gp2, "proc_v2", "cuLaunchKernel", 12000, 0);
    CUmodule pm;
    CUfunction pf;
    if (pload && pget && plaunch && report("proc_v2 cuModuleLoadData", pload(&pm, image)) == CUDA_SUCCESS &&
        report("proc_v2 cuModuleGetFunction omega_allowed", pget(&pf, pm, "omega_allowed")) == CUDA_SUCCESS)
        report("proc_v2 loaded omega_allowed", plaunch(pf, 1, 1, 1, 32, 1, 1, 0, NULL, g_args, NULL));

    /* Allocation through resolved pointers still counts against the quota (64 MiB). */
    Alloc alloc = (Alloc)proc(gp2, "proc_v2", "cuMemAlloc", 3020, 0);
    Free release = (Free)proc(gp2, "proc_v2", "cuMemFree", 3020, 0);
    Alloc dalloc = must(dlsym(lib, "cuMemAlloc_v2"), "cuMemAlloc_v2");
    CUdeviceptr p = 0;
    if (alloc && release) {
        report("proc_v2 cuMemAlloc 80 MiB", alloc(&p, (size_t)80 << 20));
        if (report("proc_v2 cuMemAlloc 1 MiB", alloc(&p, (size_t)1 << 20)) == CUDA_SUCCESS)
            report("proc_v2 cuMemFree 1 MiB", release(p));
    }
    report("dlsym cuMemAlloc_v2 80 MiB", dalloc(&p, (size_t)80 << 20));

    /* Answers the gate must pass through unchanged. */
    proc(gp2, "proc_v2", "cuNoSuchEntryPoint", 12000, 0);
    proc(gp2, "proc_v2", "cuLaunchKernel", 2000, 0);
    proc(gp2, "proc_v2", "", 0, 0);
    free(image);
    return 0;
}
