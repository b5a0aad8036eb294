/* Graph launches under the gate: an allowed graph runs; a graph holding a denied kernel (directly, in a child graph,
 * added through the CUDA 10 entry point, or put there after instantiation) does not. A gate may refuse such a graph
 * at instantiation or at launch; each case prints both results, and `<case> ran: yes|no` says whether the launch
 * happened. Usage: cuda_graphs MODULE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "Common.h"

static int* g_out;
static void* g_args[] = {&g_out};

static CUDA_KERNEL_NODE_PARAMS_v2 node_params(CUfunction f, CUkernel k) {
    CUDA_KERNEL_NODE_PARAMS_v2 p;
    memset(&p, 0, sizeof p);
    p.func = f;
    p.kern = k;
    p.gridDimX = p.gridDimY = p.gridDimZ = 1;
    p.blockDimX = 64;
    p.blockDimY = p.blockDimZ = 1;
    p.kernelParams = g_args;
    return p;
}

static CUgraphNode add(CUgraph g, CUfunction f, CUkernel k, const char* label) {
    CUDA_KERNEL_NODE_PARAMS_v2 p = node_params(f, k);
    CUgraphNode n = NULL;
    report(label, cuGraphAddKernelNode_v2(&n, g, NULL, 0, &p));
    return n;
}

/* Instantiates (one of the four entry points), launches on the legacy stream and on a per-thread one. */
static void run(CUgraph g, const char* name, int how) {
    CUgraphExec e = NULL;
    CUresult r;
    switch (how) {
        case 0: r = cuGraphInstantiateWithFlags(&e, g, 0); break;
        case 1: r = cuGraphInstantiate(&e, g, NULL, NULL, 0); break;
        case 2: r = cuGraphInstantiate_v2(&e, g, NULL, NULL, 0); break;
        default: {
            CUDA_GRAPH_INSTANTIATE_PARAMS p;
            memset(&p, 0, sizeof p);
            r = cuGraphInstantiateWithParams(&e, g, &p);
        }
    }
    reportf(r, "%s instantiate", name);
    if (r != CUDA_SUCCESS) {
        printf("%s ran: no\n", name);
        return;
    }
    CUresult l1 = reportf(cuGraphLaunch(e, NULL), "%s launch", name);
    CUresult l2 = reportf(cuGraphLaunch_ptsz(e, NULL), "%s launch_ptsz", name);
    printf("%s ran: %s\n", name, l1 == CUDA_SUCCESS || l2 == CUDA_SUCCESS ? "yes" : "no");
    need("cuGraphExecDestroy", cuGraphExecDestroy(e));
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODULE\n", argv[0]);
        return 2;
    }
    setup();
    size_t size;
    unsigned char* image = read_file(argv[1], &size);
    CUmodule m;
    need("cuModuleLoadData", cuModuleLoadData(&m, image));
    CUfunction allowed, other, denied;
    need("get omega_allowed", cuModuleGetFunction(&allowed, m, "omega_allowed"));
    need("get omega_other", cuModuleGetFunction(&other, m, "omega_other"));
    need("get omega_denied", cuModuleGetFunction(&denied, m, "omega_denied"));
    CUlibrary lib;
    need("cuLibraryLoadData", cuLibraryLoadData(&lib, image, NULL, NULL, 0, NULL, NULL, 0));
    CUkernel kother, kdenied;
    need("get kernel omega_other", cuLibraryGetKernel(&kother, lib, "omega_other"));
    need("get kernel omega_denied", cuLibraryGetKernel(&kdenied, lib, "omega_denied"));

    /* Allowed: a function node and a kernel node (CUkernel, no function). */
    CUgraph good;
    need("cuGraphCreate", cuGraphCreate(&good, 0));
    add(good, allowed, NULL, "good add omega_allowed");
    add(good, NULL, kother, "good add kernel omega_other");
    for (int how = 0; how < 4; how++) {
        char name[32];
        snprintf(name, sizeof name, "good%d", how);
        run(good, name, how);
    }

    /* A denied kernel among allowed ones, by function and by CUkernel. */
    CUgraph bad;
    need("cuGraphCreate", cuGraphCreate(&bad, 0));
    add(bad, allowed, NULL, "bad add omega_allowed");
    add(bad, denied, NULL, "bad add omega_denied");
    for (int how = 0; how < 4; how++) {
        char name[32];
        snprintf(name, sizeof name, "bad%d", how);
        run(bad, name, how);
    }
    CUgraph badk;
    need("cuGraphCreate", cuGraphCreate(&badk, 0));
    add(badk, NULL, kdenied, "badkernel add kernel omega_denied");
    run(badk, "badkernel", 0);

    /* The denied kernel one level down, in a child graph. */
    CUgraph child, parent;
    need("cuGraphCreate", cuGraphCreate(&child, 0));
    add(child, denied, NULL, "child add omega_denied");
    need("cuGraphCreate", cuGraphCreate(&parent, 0));
    add(parent, allowed, NULL, "parent add omega_allowed");
    CUgraphNode cn;
    report("parent add child", cuGraphAddChildGraphNode(&cn, parent, NULL, 0, child));
    run(parent, "nested", 0);

    /* The CUDA 10.0 entry point, with the v1 parameter layout. */
    CUgraph old;
    need("cuGraphCreate", cuGraphCreate(&old, 0));
    CUDA_KERNEL_NODE_PARAMS_v1 p1 = {denied, 1, 1, 1, 64, 1, 1, 0, g_args, NULL};
    CUgraphNode on;
    report("v1 add omega_denied", cuGraphAddKernelNode(&on, old, NULL, 0, &p1));
    run(old, "v1", 0);

    /* After instantiation: swap the allowed kernel of an executable graph for the denied one. */
    CUgraph one;
    need("cuGraphCreate", cuGraphCreate(&one, 0));
    CUgraphNode n1 = add(one, allowed, NULL, "swap add omega_allowed");
    CUgraphExec e;
    need("instantiate", cuGraphInstantiateWithFlags(&e, one, 0));
    report("swap launch before", cuGraphLaunch(e, NULL));
    CUDA_KERNEL_NODE_PARAMS_v2 dp = node_params(denied, NULL);
    CUresult set = report("swap set omega_denied", cuGraphExecKernelNodeSetParams_v2(e, n1, &dp));
    CUresult after = report("swap launch after", cuGraphLaunch(e, NULL));
    printf("swap ran: %s\n", set == CUDA_SUCCESS && after == CUDA_SUCCESS ? "yes" : "no");
    need("cuGraphExecDestroy", cuGraphExecDestroy(e));

    /* After instantiation: update the whole executable graph from a graph of the same shape with the denied
     * kernel. */
    CUgraph same;
    need("cuGraphCreate", cuGraphCreate(&same, 0));
    add(same, denied, NULL, "update add omega_denied");
    need("instantiate", cuGraphInstantiateWithFlags(&e, one, 0));
    CUgraphExecUpdateResultInfo info;
    CUresult upd = report("update", cuGraphExecUpdate_v2(e, same, &info));
    after = report("update launch after", cuGraphLaunch(e, NULL));
    printf("update ran: %s\n", upd == CUDA_SUCCESS && after == CUDA_SUCCESS ? "yes" : "no");
    need("cuGraphExecDestroy", cuGraphExecDestroy(e));

    /* After instantiation: edit the graph back to the allowed kernel. The executable graph still holds the denied
     * one, and that is what a launch would run. */
    CUgraph edited;
    need("cuGraphCreate", cuGraphCreate(&edited, 0));
    CUgraphNode en = add(edited, denied, NULL, "edit add omega_denied");
    CUresult inst = report("edit instantiate", cuGraphInstantiateWithFlags(&e, edited, 0));
    CUDA_KERNEL_NODE_PARAMS_v2 ap = node_params(allowed, NULL);
    report("edit set omega_allowed in the graph", cuGraphKernelNodeSetParams_v2(en, &ap));
    after = inst == CUDA_SUCCESS ? report("edit launch after", cuGraphLaunch(e, NULL)) : inst;
    printf("edit ran: %s\n", inst == CUDA_SUCCESS && after == CUDA_SUCCESS ? "yes" : "no");
    if (inst == CUDA_SUCCESS) need("cuGraphExecDestroy", cuGraphExecDestroy(e));

    /* An executable graph outlives its graph: an allowed one still launches after cuGraphDestroy. */
    CUgraph gone;
    need("cuGraphCreate", cuGraphCreate(&gone, 0));
    add(gone, allowed, NULL, "gone add omega_allowed");
    need("instantiate", cuGraphInstantiateWithFlags(&e, gone, 0));
    need("cuGraphDestroy", cuGraphDestroy(gone));
    report("gone launch after cuGraphDestroy", cuGraphLaunch(e, NULL));
    need("cuGraphExecDestroy", cuGraphExecDestroy(e));

    CUgraph graphs[] = {good, bad, badk, child, parent, old, one, same, edited};
    for (size_t i = 0; i < sizeof graphs / sizeof graphs[0]; i++) need("cuGraphDestroy", cuGraphDestroy(graphs[i]));
    need("cuLibraryUnload", cuLibraryUnload(lib));
    need("cuModuleUnload", cuModuleUnload(m));
    free(image);
    return 0;
}
