/* A policy change while the process runs: omega_other is allowed (and its approval cached), then the bundle is
 * replaced by one that denies it, and the gate reloads: at once through omega_cuda_gate_reload (mode `call`) or by
 * noticing the new file (mode `poll`, within 5 s). Usage: cuda_reload MODULE NEW_BUNDLE BUNDLE call|poll */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "Common.h"

static int* g_out;
static void* g_args[] = {&g_out};

static CUresult launch(CUfunction f) {
    return cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, NULL, g_args, NULL);
}

int main(int argc, char** argv) {
    if (argc != 5 || (strcmp(argv[4], "call") != 0 && strcmp(argv[4], "poll") != 0)) {
        fprintf(stderr, "usage: %s MODULE NEW_BUNDLE BUNDLE call|poll\n", argv[0]);
        return 2;
    }
    setup();
    CUmodule m;
    need("cuModuleLoad", cuModuleLoad(&m, argv[1]));
    CUfunction allowed, other;
    need("get omega_allowed", cuModuleGetFunction(&allowed, m, "omega_allowed"));
    need("get omega_other", cuModuleGetFunction(&other, m, "omega_other"));
    report("before omega_allowed", launch(allowed));
    for (int i = 0; i < 100; i++) launch(other);
    report("before omega_other", launch(other));

    /* rename(2) replaces the bundle in one step: the gate never reads half a file. */
    if (rename(argv[2], argv[3]) != 0) {
        perror("rename");
        return 2;
    }
    if (strcmp(argv[4], "call") == 0) {
        /* Looked up at run time: without the gate preloaded there is nothing to call. */
        int (*reload)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "omega_cuda_gate_reload");
        if (reload) {
            printf("omega_cuda_gate_reload: %d\n", reload());
        } else {
            printf("omega_cuda_gate_reload: absent\n");
        }
    } else {
        struct timespec pause = {0, 50 * 1000 * 1000};
        int waited = 0;
        for (; waited < 100 && launch(other) == CUDA_SUCCESS; waited++) nanosleep(&pause, NULL);
        printf("poll noticed: %s\n", waited < 100 ? "yes" : "no");
    }
    report("after omega_other", launch(other));
    report("after omega_allowed", launch(allowed));
    need("cuModuleUnload", cuModuleUnload(m));
    return 0;
}
