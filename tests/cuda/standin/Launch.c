/* Launches and graphs of the stand-in driver. A launch is checked as the driver checks it (handle, context, stream,
 * dimensions, shared memory, parameters) and logged with the kernel's name; no kernel runs. Graphs hold copies of
 * their kernel nodes' parameters (not of the parameter values, whose sizes the stand-in does not know). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "Standin.h"

CUresult standin_check_dims(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                            unsigned shared) {
    if (!gx || !gy || !gz || !bx || !by || !bz) return CUDA_ERROR_INVALID_VALUE;
    if (gx > 2147483647u || gy > 65535 || gz > 65535) return CUDA_ERROR_INVALID_VALUE;
    if (bx > 1024 || by > 1024 || bz > 64) return CUDA_ERROR_INVALID_VALUE;
    if ((unsigned long long)bx * by * bz > STANDIN_MAX_BLOCK_THREADS) return CUDA_ERROR_INVALID_VALUE;
    if (shared > STANDIN_MAX_SHARED) return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;
}

/* `extra`: key/value pairs ended by CU_LAUNCH_PARAM_END; only the packed-buffer keys exist. */
static CUresult check_params(void** params, void** extra) {
    if (params && extra) return CUDA_ERROR_INVALID_VALUE;
    if (!extra) return CUDA_SUCCESS;
    for (int i = 0; i < 64; i += 2) {
        if (extra[i] == STANDIN_LAUNCH_PARAM_END) return CUDA_SUCCESS;
        if (extra[i] != STANDIN_LAUNCH_PARAM_BUFFER_POINTER && extra[i] != STANDIN_LAUNCH_PARAM_BUFFER_SIZE)
            return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_ERROR_INVALID_VALUE;
}

CUresult standin_check_stream(CUstream s, CUcontext ctx) {
    if (!s || s == STANDIN_STREAM_LEGACY || s == STANDIN_STREAM_PER_THREAD) return CUDA_SUCCESS;
    if (!vec_has(&g_standin.streams, s)) return CUDA_ERROR_INVALID_HANDLE;
    return s->ctx == ctx ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

/* A module's functions run in the module's context; a library's kernels in any. */
static CUresult check_function_ctx(const struct CUfunc_st* fn, CUcontext ctx) {
    return !fn->module->ctx || fn->module->ctx == ctx ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

typedef struct Launch {
    CUfunction f;
    unsigned gx, gy, gz, bx, by, bz, shared;
    CUstream stream;
    void** params;
    void** extra;
    int cooperative;
    unsigned cluster[3]; /* 0: no cluster attribute */
} Launch;

static CUresult launch(Call* c, const Launch* l) {
    struct CUfunc_st* fn;
    CUresult r = standin_resolve_function(l->f, &fn);
    if (r != CUDA_SUCCESS) {
        call_note(c, "function=%p", (void*)l->f);
        return r;
    }
    unsigned long long grid = (unsigned long long)l->gx * l->gy * l->gz;
    unsigned long long block = (unsigned long long)l->bx * l->by * l->bz;
    call_note(c, "name=%s grid=%llu block=%llu dims=%ux%ux%u/%ux%ux%u shared=%u", fn->name, grid, block, l->gx, l->gy,
              l->gz, l->bx, l->by, l->bz, l->shared);
    if (l->cooperative) call_note(c, "cooperative=1");
    CUcontext ctx;
    if ((r = standin_need_ctx(&ctx)) != CUDA_SUCCESS) return r;
    if ((r = check_function_ctx(fn, ctx)) != CUDA_SUCCESS) return r;
    if ((r = standin_check_stream(l->stream, ctx)) != CUDA_SUCCESS) return r;
    if ((r = standin_check_dims(l->gx, l->gy, l->gz, l->bx, l->by, l->bz, l->shared)) != CUDA_SUCCESS) return r;
    if ((r = check_params(l->params, l->extra)) != CUDA_SUCCESS) return r;
    if (l->cluster[0]) {
        if (l->gx % l->cluster[0] || l->gy % l->cluster[1] || l->gz % l->cluster[2]) return CUDA_ERROR_INVALID_VALUE;
        if ((unsigned long long)l->cluster[0] * l->cluster[1] * l->cluster[2] > 8) return CUDA_ERROR_INVALID_VALUE;
    }
    /* Every block of a cooperative grid must be resident at once. */
    if (l->cooperative && grid > (unsigned long long)STANDIN_SMS * (STANDIN_MAX_THREADS_PER_SM / block))
        return CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE;
    return CUDA_SUCCESS;
}

#define LAUNCH_KERNEL_BODY(coop, extraArg)                                                                  \
    ENTER;                                                                                                  \
    NEED_INIT;                                                                                              \
    Launch l = {f,       gridDimX,     gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes, \
                hStream, kernelParams, extraArg, coop,     {0, 0, 0}};                                      \
    return LEAVE(launch(&call_, &l))

CUresult cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
                        unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
                        unsigned int sharedMemBytes, CUstream hStream, void** kernelParams, void** extra) {
    LAUNCH_KERNEL_BODY(0, extra);
}

CUresult cuLaunchKernel_ptsz(CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
                             unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
                             unsigned int sharedMemBytes, CUstream hStream, void** kernelParams, void** extra) {
    LAUNCH_KERNEL_BODY(0, extra);
}

CUresult cuLaunchCooperativeKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
                                   unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
                                   unsigned int sharedMemBytes, CUstream hStream, void** kernelParams) {
    LAUNCH_KERNEL_BODY(1, NULL);
}

CUresult cuLaunchCooperativeKernel_ptsz(CUfunction f, unsigned int gridDimX, unsigned int gridDimY,
                                        unsigned int gridDimZ, unsigned int blockDimX, unsigned int blockDimY,
                                        unsigned int blockDimZ, unsigned int sharedMemBytes, CUstream hStream,
                                        void** kernelParams) {
    LAUNCH_KERNEL_BODY(1, NULL);
}

static CUresult launch_ex(Call* c, const CUlaunchConfig* config, CUfunction f, void** params, void** extra) {
    if (!config) return CUDA_ERROR_INVALID_VALUE;
    if (config->numAttrs && !config->attrs) return CUDA_ERROR_INVALID_VALUE;
    Launch l = {f,
                config->gridDimX,
                config->gridDimY,
                config->gridDimZ,
                config->blockDimX,
                config->blockDimY,
                config->blockDimZ,
                config->sharedMemBytes,
                config->hStream,
                params,
                extra,
                0,
                {0, 0, 0}};
    for (unsigned i = 0; i < config->numAttrs; i++) {
        const CUlaunchAttribute* a = &config->attrs[i];
        switch (a->id) {
            case CU_LAUNCH_ATTRIBUTE_IGNORE: break;
            case CU_LAUNCH_ATTRIBUTE_COOPERATIVE: l.cooperative = a->value.cooperative != 0; break;
            case CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION:
                if (!a->value.clusterDim.x || !a->value.clusterDim.y || !a->value.clusterDim.z)
                    return CUDA_ERROR_INVALID_VALUE;
                l.cluster[0] = a->value.clusterDim.x;
                l.cluster[1] = a->value.clusterDim.y;
                l.cluster[2] = a->value.clusterDim.z;
                break;
            default:
                if ((unsigned)a->id > 32u) return CUDA_ERROR_INVALID_VALUE;
                break; /* scheduling hints: nothing to model */
        }
    }
    CUresult r = launch(c, &l); /* the name first, as for every launch */
    call_note(c, "attrs=%u", config->numAttrs);
    return r;
}

CUresult cuLaunchKernelEx(const CUlaunchConfig* config, CUfunction f, void** kernelParams, void** extra) {
    ENTER;
    NEED_INIT;
    return LEAVE(launch_ex(&call_, config, f, kernelParams, extra));
}

CUresult cuLaunchKernelEx_ptsz(const CUlaunchConfig* config, CUfunction f, void** kernelParams, void** extra) {
    ENTER;
    NEED_INIT;
    return LEAVE(launch_ex(&call_, config, f, kernelParams, extra));
}

/* The pre-4.0 launch entry points: the block shape came from cuFuncSetBlockShape, which the stand-in does not
 * offer, so blocks are one thread. */
CUresult cuLaunch(CUfunction f) {
    ENTER;
    NEED_INIT;
    Launch l = {f, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL, 0, {0, 0, 0}};
    return LEAVE(launch(&call_, &l));
}

CUresult cuLaunchGrid(CUfunction f, int grid_width, int grid_height) {
    ENTER;
    NEED_INIT;
    if (grid_width <= 0 || grid_height <= 0) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    Launch l = {f, (unsigned)grid_width, (unsigned)grid_height, 1, 1, 1, 1, 0, NULL, NULL, NULL, 0, {0, 0, 0}};
    return LEAVE(launch(&call_, &l));
}

CUresult cuLaunchGridAsync(CUfunction f, int grid_width, int grid_height, CUstream hStream) {
    ENTER;
    NEED_INIT;
    if (grid_width <= 0 || grid_height <= 0) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    Launch l = {f, (unsigned)grid_width, (unsigned)grid_height, 1, 1, 1, 1, 0, hStream, NULL, NULL, 0, {0, 0, 0}};
    return LEAVE(launch(&call_, &l));
}

/* One device only in a process's contexts here, so a multi-device launch is a list of one. */
CUresult cuLaunchCooperativeKernelMultiDevice(CUDA_LAUNCH_PARAMS* launchParamsList, unsigned int numDevices,
                                              unsigned int flags) {
    ENTER;
    NOTE("devices=%u flags=%u", numDevices, flags);
    NEED_INIT;
    if (!launchParamsList || numDevices == 0 || flags > 3) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (numDevices > 1) return LEAVE(CUDA_ERROR_INVALID_DEVICE);
    const CUDA_LAUNCH_PARAMS* p = &launchParamsList[0];
    Launch l = {p->function,  p->gridDimX,       p->gridDimY, p->gridDimZ,     p->blockDimX, p->blockDimY,
                p->blockDimZ, p->sharedMemBytes, p->hStream,  p->kernelParams, NULL,         1,
                {0, 0, 0}};
    return LEAVE(launch(&call_, &l));
}

/* ---- graphs ---- */

static CUresult new_graph(CUgraph* out) {
    CUgraph gr = calloc(1, sizeof *gr);
    if (!gr || !vec_push(&g_standin.graphs, gr)) {
        free(gr);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    gr->tag = TAG_GRAPH;
    *out = gr;
    return CUDA_SUCCESS;
}

static void destroy_graph(CUgraph gr) {
    for (size_t i = 0; i < gr->nodes.count; i++) {
        CUgraphNode n = gr->nodes.items[i];
        if (n->child) destroy_graph(n->child);
        vec_remove(&g_standin.nodes, n);
        free(n);
    }
    free(gr->nodes.items);
    vec_remove(&g_standin.graphs, gr);
    free(gr);
}

CUresult cuGraphCreate(CUgraph* phGraph, unsigned int flags) {
    ENTER;
    NOTE("flags=%u", flags);
    NEED_INIT;
    if (!phGraph || flags != 0) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    CUresult r = new_graph(phGraph);
    if (r == CUDA_SUCCESS) NOTE("graph=%p", (void*)*phGraph);
    return LEAVE(r);
}

CUresult cuGraphDestroy(CUgraph hGraph) {
    ENTER;
    NOTE("graph=%p", (void*)hGraph);
    NEED_INIT;
    if (!vec_has(&g_standin.graphs, hGraph)) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    destroy_graph(hGraph);
    return LEAVE(CUDA_SUCCESS);
}

static CUresult add_node(CUgraph gr, const CUgraphNode* deps, size_t ndeps, CUgraphNodeType type, CUgraphNode* out) {
    if (!out || !vec_has(&g_standin.graphs, gr)) return CUDA_ERROR_INVALID_VALUE;
    if (ndeps && !deps) return CUDA_ERROR_INVALID_VALUE;
    for (size_t i = 0; i < ndeps; i++) {
        if (!vec_has(&gr->nodes, deps[i])) return CUDA_ERROR_INVALID_VALUE;
    }
    CUgraphNode n = calloc(1, sizeof *n);
    if (!n || !vec_push(&g_standin.nodes, n)) {
        free(n);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    if (!vec_push(&gr->nodes, n)) {
        vec_remove(&g_standin.nodes, n);
        free(n);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    n->tag = TAG_NODE;
    n->graph = gr;
    n->type = type;
    *out = n;
    return CUDA_SUCCESS;
}

/* A kernel node's parameters, checked as at launch time except for the stream; `name` for the log. */
static CUresult check_kernel_params(const CUDA_KERNEL_NODE_PARAMS_v2* p, const char** name) {
    if (!p) return CUDA_ERROR_INVALID_VALUE;
    struct CUfunc_st* fn;
    CUresult r = standin_resolve_function(p->func ? p->func : (CUfunction)(void*)p->kern, &fn);
    if (r != CUDA_SUCCESS) return CUDA_ERROR_INVALID_VALUE;
    if (!p->func && !vec_has(&g_standin.kernels, p->kern)) return CUDA_ERROR_INVALID_VALUE;
    *name = fn->name;
    if ((r = standin_check_dims(p->gridDimX, p->gridDimY, p->gridDimZ, p->blockDimX, p->blockDimY, p->blockDimZ,
                                p->sharedMemBytes)) != CUDA_SUCCESS)
        return r;
    return check_params(p->kernelParams, p->extra);
}

static void note_kernel(Call* c, const char* name, const CUDA_KERNEL_NODE_PARAMS_v2* p) {
    call_note(c, "name=%s grid=%llu block=%llu", name, (unsigned long long)p->gridDimX * p->gridDimY * p->gridDimZ,
              (unsigned long long)p->blockDimX * p->blockDimY * p->blockDimZ);
}

static CUresult add_kernel_node(Call* c, CUgraphNode* out, CUgraph gr, const CUgraphNode* deps, size_t ndeps,
                                const CUDA_KERNEL_NODE_PARAMS_v2* p) {
    const char* name = NULL;
    CUresult r = check_kernel_params(p, &name);
    if (name) note_kernel(c, name, p);
    if (r != CUDA_SUCCESS) return r;
    if ((r = add_node(gr, deps, ndeps, CU_GRAPH_NODE_TYPE_KERNEL, out)) != CUDA_SUCCESS) return r;
    (*out)->kernel = *p;
    call_note(c, "node=%p", (void*)*out);
    return CUDA_SUCCESS;
}

static CUDA_KERNEL_NODE_PARAMS_v2 from_v1(const CUDA_KERNEL_NODE_PARAMS_v1* p) {
    CUDA_KERNEL_NODE_PARAMS_v2 v2 = {p->func,         p->gridDimX,  p->gridDimY,  p->gridDimZ,
                                     p->blockDimX,    p->blockDimY, p->blockDimZ, p->sharedMemBytes,
                                     p->kernelParams, p->extra,     NULL,         NULL};
    return v2;
}

CUresult cuGraphAddKernelNode(CUgraphNode* phGraphNode, CUgraph hGraph, const CUgraphNode* dependencies,
                              size_t numDependencies, const CUDA_KERNEL_NODE_PARAMS_v1* nodeParams) {
    ENTER;
    NOTE("graph=%p", (void*)hGraph);
    NEED_INIT;
    if (!nodeParams) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    CUDA_KERNEL_NODE_PARAMS_v2 p = from_v1(nodeParams);
    return LEAVE(add_kernel_node(&call_, phGraphNode, hGraph, dependencies, numDependencies, &p));
}

CUresult cuGraphAddKernelNode_v2(CUgraphNode* phGraphNode, CUgraph hGraph, const CUgraphNode* dependencies,
                                 size_t numDependencies, const CUDA_KERNEL_NODE_PARAMS* nodeParams) {
    ENTER;
    NOTE("graph=%p", (void*)hGraph);
    NEED_INIT;
    return LEAVE(add_kernel_node(&call_, phGraphNode, hGraph, dependencies, numDependencies, nodeParams));
}

/* A deep copy of a graph's nodes (dependencies are not modelled: execution order never matters here). */
static CUresult clone_graph(CUgraph src, CUgraph* out) {
    CUresult r = new_graph(out);
    if (r != CUDA_SUCCESS) return r;
    for (size_t i = 0; i < src->nodes.count; i++) {
        CUgraphNode from = src->nodes.items[i], to;
        if ((r = add_node(*out, NULL, 0, from->type, &to)) != CUDA_SUCCESS) break;
        to->kernel = from->kernel;
        if (from->child && (r = clone_graph(from->child, &to->child)) != CUDA_SUCCESS) break;
    }
    if (r != CUDA_SUCCESS) destroy_graph(*out);
    return r;
}

/* Child graphs owned by nodes are internal clones: only top-level graphs are handed out. */
static int graph_contains(CUgraph outer, CUgraph inner) {
    if (outer == inner) return 1;
    for (size_t i = 0; i < outer->nodes.count; i++) {
        CUgraphNode n = outer->nodes.items[i];
        if (n->child && graph_contains(n->child, inner)) return 1;
    }
    return 0;
}

CUresult cuGraphAddChildGraphNode(CUgraphNode* phGraphNode, CUgraph hGraph, const CUgraphNode* dependencies,
                                  size_t numDependencies, CUgraph childGraph) {
    ENTER;
    NOTE("graph=%p child=%p", (void*)hGraph, (void*)childGraph);
    NEED_INIT;
    if (!vec_has(&g_standin.graphs, childGraph) || !vec_has(&g_standin.graphs, hGraph) ||
        graph_contains(childGraph, hGraph))
        return LEAVE(CUDA_ERROR_INVALID_VALUE);
    CUgraph clone;
    CUresult r = clone_graph(childGraph, &clone);
    if (r != CUDA_SUCCESS) return LEAVE(r);
    r = add_node(hGraph, dependencies, numDependencies, CU_GRAPH_NODE_TYPE_GRAPH, phGraphNode);
    if (r != CUDA_SUCCESS) {
        destroy_graph(clone);
        return LEAVE(r);
    }
    (*phGraphNode)->child = clone;
    NOTE("node=%p", (void*)*phGraphNode);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuGraphGetNodes(CUgraph hGraph, CUgraphNode* nodes, size_t* numNodes) {
    ENTER;
    NOTE("graph=%p", (void*)hGraph);
    NEED_INIT;
    if (!numNodes || !vec_has(&g_standin.graphs, hGraph)) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    size_t have = hGraph->nodes.count;
    if (nodes) {
        for (size_t i = 0; i < *numNodes; i++) nodes[i] = i < have ? hGraph->nodes.items[i] : NULL;
        if (*numNodes > have) *numNodes = have;
    } else {
        *numNodes = have;
    }
    NOTE("nodes=%zu", have);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuGraphNodeGetType(CUgraphNode hNode, CUgraphNodeType* type) {
    ENTER;
    NOTE("node=%p", (void*)hNode);
    NEED_INIT;
    if (!type || !vec_has(&g_standin.nodes, hNode)) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    *type = hNode->type;
    NOTE("type=%d", (int)hNode->type);
    return LEAVE(CUDA_SUCCESS);
}

static CUresult get_kernel_node(CUgraphNode n) {
    if (!vec_has(&g_standin.nodes, n) || n->type != CU_GRAPH_NODE_TYPE_KERNEL) return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;
}

CUresult cuGraphKernelNodeGetParams(CUgraphNode hNode, CUDA_KERNEL_NODE_PARAMS_v1* nodeParams) {
    ENTER;
    NOTE("node=%p", (void*)hNode);
    NEED_INIT;
    if (!nodeParams || get_kernel_node(hNode) != CUDA_SUCCESS) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    const CUDA_KERNEL_NODE_PARAMS_v2* p = &hNode->kernel;
    /* The v1 layout has no `kern`: a node made from a CUkernel reports the kernel's function. */
    CUfunction f = p->func ? p->func : (CUfunction)p->kern->function;
    *nodeParams = (CUDA_KERNEL_NODE_PARAMS_v1){f,
                                               p->gridDimX,
                                               p->gridDimY,
                                               p->gridDimZ,
                                               p->blockDimX,
                                               p->blockDimY,
                                               p->blockDimZ,
                                               p->sharedMemBytes,
                                               p->kernelParams,
                                               p->extra};
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuGraphKernelNodeGetParams_v2(CUgraphNode hNode, CUDA_KERNEL_NODE_PARAMS* nodeParams) {
    ENTER;
    NOTE("node=%p", (void*)hNode);
    NEED_INIT;
    if (!nodeParams || get_kernel_node(hNode) != CUDA_SUCCESS) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    *nodeParams = hNode->kernel;
    return LEAVE(CUDA_SUCCESS);
}

static CUresult set_kernel_node(Call* c, CUgraphNode n, const CUDA_KERNEL_NODE_PARAMS_v2* p) {
    call_note(c, "node=%p", (void*)n);
    if (get_kernel_node(n) != CUDA_SUCCESS) return CUDA_ERROR_INVALID_VALUE;
    const char* name = NULL;
    CUresult r = check_kernel_params(p, &name);
    if (name) note_kernel(c, name, p);
    if (r == CUDA_SUCCESS) n->kernel = *p;
    return r;
}

CUresult cuGraphKernelNodeSetParams(CUgraphNode hNode, const CUDA_KERNEL_NODE_PARAMS_v1* nodeParams) {
    ENTER;
    NEED_INIT;
    if (!nodeParams) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    CUDA_KERNEL_NODE_PARAMS_v2 p = from_v1(nodeParams);
    return LEAVE(set_kernel_node(&call_, hNode, &p));
}

CUresult cuGraphKernelNodeSetParams_v2(CUgraphNode hNode, const CUDA_KERNEL_NODE_PARAMS* nodeParams) {
    ENTER;
    NEED_INIT;
    return LEAVE(set_kernel_node(&call_, hNode, nodeParams));
}

CUresult cuGraphChildGraphNodeGetGraph(CUgraphNode hNode, CUgraph* phGraph) {
    ENTER;
    NOTE("node=%p", (void*)hNode);
    NEED_INIT;
    if (!phGraph || !vec_has(&g_standin.nodes, hNode) || hNode->type != CU_GRAPH_NODE_TYPE_GRAPH)
        return LEAVE(CUDA_ERROR_INVALID_VALUE);
    *phGraph = hNode->child;
    NOTE("graph=%p", (void*)hNode->child);
    return LEAVE(CUDA_SUCCESS);
}

/* ---- instantiated graphs ---- */

static int flatten(CUgraph gr, CUgraphNode top, ExecKernel** out, size_t* count) {
    for (size_t i = 0; i < gr->nodes.count; i++) {
        CUgraphNode n = gr->nodes.items[i];
        CUgraphNode t = top ? top : n;
        if (n->type == CU_GRAPH_NODE_TYPE_KERNEL) {
            ExecKernel* grown = realloc(*out, (*count + 1) * sizeof *grown);
            if (!grown) return 0;
            *out = grown;
            grown[(*count)++] = (ExecKernel){n, t, n->kernel};
        } else if (n->child && !flatten(n->child, t, out, count)) {
            return 0;
        }
    }
    return 1;
}

static void destroy_exec(CUgraphExec e) {
    vec_remove(&g_standin.execs, e);
    free(e->kernels);
    free(e->top_types);
    free(e);
}

static CUresult instantiate(Call* c, CUgraphExec* out, CUgraph gr, unsigned long long flags) {
    call_note(c, "graph=%p flags=%llu", (void*)gr, flags);
    if (!out || !vec_has(&g_standin.graphs, gr)) return CUDA_ERROR_INVALID_VALUE;
    if (flags & ~0xfull) return CUDA_ERROR_INVALID_VALUE; /* auto-free, upload, device launch, node priority */
    CUgraphExec e = calloc(1, sizeof *e);
    if (!e) return CUDA_ERROR_OUT_OF_MEMORY;
    e->tag = TAG_EXEC;
    e->graph = gr;
    e->top_count = gr->nodes.count;
    e->top_types = calloc(e->top_count ? e->top_count : 1, sizeof *e->top_types);
    int ok = e->top_types && flatten(gr, NULL, &e->kernels, &e->count) && vec_push(&g_standin.execs, e);
    if (!ok) {
        free(e->kernels);
        free(e->top_types);
        free(e);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    for (size_t i = 0; i < e->top_count; i++) e->top_types[i] = ((CUgraphNode)gr->nodes.items[i])->type;
    *out = e;
    call_note(c, "exec=%p kernels=%zu", (void*)e, e->count);
    return CUDA_SUCCESS;
}

/* The pre-12.0 form: an error node and a log buffer instead of flags. */
static CUresult instantiate_logged(Call* c, CUgraphExec* out, CUgraph gr, CUgraphNode* errNode, char* logBuffer,
                                   size_t bufferSize) {
    CUresult r = instantiate(c, out, gr, 0);
    if (errNode) *errNode = NULL;
    if (logBuffer && bufferSize) logBuffer[0] = '\0';
    return r;
}

CUresult cuGraphInstantiate(CUgraphExec* phGraphExec, CUgraph hGraph, CUgraphNode* phErrorNode, char* logBuffer,
                            size_t bufferSize) {
    ENTER;
    NEED_INIT;
    return LEAVE(instantiate_logged(&call_, phGraphExec, hGraph, phErrorNode, logBuffer, bufferSize));
}

CUresult cuGraphInstantiate_v2(CUgraphExec* phGraphExec, CUgraph hGraph, CUgraphNode* phErrorNode, char* logBuffer,
                               size_t bufferSize) {
    ENTER;
    NEED_INIT;
    return LEAVE(instantiate_logged(&call_, phGraphExec, hGraph, phErrorNode, logBuffer, bufferSize));
}

CUresult cuGraphInstantiateWithFlags(CUgraphExec* phGraphExec, CUgraph hGraph, unsigned long long flags) {
    ENTER;
    NEED_INIT;
    return LEAVE(instantiate(&call_, phGraphExec, hGraph, flags));
}

static CUresult instantiate_params(Call* c, CUgraphExec* out, CUgraph gr, CUDA_GRAPH_INSTANTIATE_PARAMS* p) {
    if (!p) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = instantiate(c, out, gr, p->flags);
    p->hErrNode_out = NULL;
    p->result_out = r == CUDA_SUCCESS ? CUDA_GRAPH_INSTANTIATE_SUCCESS : CUDA_GRAPH_INSTANTIATE_ERROR;
    return r;
}

CUresult cuGraphInstantiateWithParams(CUgraphExec* phGraphExec, CUgraph hGraph,
                                      CUDA_GRAPH_INSTANTIATE_PARAMS* instantiateParams) {
    ENTER;
    NEED_INIT;
    return LEAVE(instantiate_params(&call_, phGraphExec, hGraph, instantiateParams));
}

CUresult cuGraphInstantiateWithParams_ptsz(CUgraphExec* phGraphExec, CUgraph hGraph,
                                           CUDA_GRAPH_INSTANTIATE_PARAMS* instantiateParams) {
    ENTER;
    NEED_INIT;
    return LEAVE(instantiate_params(&call_, phGraphExec, hGraph, instantiateParams));
}

static CUresult exec_set_kernel(Call* c, CUgraphExec e, CUgraphNode n, const CUDA_KERNEL_NODE_PARAMS_v2* p) {
    call_note(c, "exec=%p node=%p", (void*)e, (void*)n);
    if (!vec_has(&g_standin.execs, e)) return CUDA_ERROR_INVALID_VALUE;
    const char* name = NULL;
    CUresult r = check_kernel_params(p, &name);
    if (name) note_kernel(c, name, p);
    if (r != CUDA_SUCCESS) return r;
    for (size_t i = 0; i < e->count; i++) {
        if (e->kernels[i].node == n) {
            e->kernels[i].params = *p;
            return CUDA_SUCCESS;
        }
    }
    return CUDA_ERROR_INVALID_VALUE;
}

CUresult cuGraphExecKernelNodeSetParams(CUgraphExec hGraphExec, CUgraphNode hNode,
                                        const CUDA_KERNEL_NODE_PARAMS_v1* nodeParams) {
    ENTER;
    NEED_INIT;
    if (!nodeParams) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    CUDA_KERNEL_NODE_PARAMS_v2 p = from_v1(nodeParams);
    return LEAVE(exec_set_kernel(&call_, hGraphExec, hNode, &p));
}

CUresult cuGraphExecKernelNodeSetParams_v2(CUgraphExec hGraphExec, CUgraphNode hNode,
                                           const CUDA_KERNEL_NODE_PARAMS* nodeParams) {
    ENTER;
    NEED_INIT;
    return LEAVE(exec_set_kernel(&call_, hGraphExec, hNode, nodeParams));
}

/* Replaces the kernels a child-graph node contributed with those of `child`, which must have as many. */
static CUresult exec_set_child(Call* c, CUgraphExec e, CUgraphNode n, CUgraph child) {
    call_note(c, "exec=%p node=%p child=%p", (void*)e, (void*)n, (void*)child);
    if (!vec_has(&g_standin.execs, e) || !vec_has(&g_standin.graphs, child)) return CUDA_ERROR_INVALID_VALUE;
    ExecKernel* fresh = NULL;
    size_t count = 0, have = 0;
    if (!flatten(child, n, &fresh, &count)) {
        free(fresh);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    for (size_t i = 0; i < e->count; i++) have += e->kernels[i].top == n;
    if (have != count || !vec_has(&g_standin.nodes, n) || n->type != CU_GRAPH_NODE_TYPE_GRAPH) {
        free(fresh);
        return CUDA_ERROR_INVALID_VALUE;
    }
    for (size_t i = 0, j = 0; i < e->count; i++) {
        if (e->kernels[i].top == n) e->kernels[i].params = fresh[j++].params;
    }
    free(fresh);
    return CUDA_SUCCESS;
}

CUresult cuGraphExecChildGraphNodeSetParams(CUgraphExec hGraphExec, CUgraphNode hNode, CUgraph childGraph) {
    ENTER;
    NEED_INIT;
    return LEAVE(exec_set_child(&call_, hGraphExec, hNode, childGraph));
}

CUresult cuGraphExecNodeSetParams(CUgraphExec hGraphExec, CUgraphNode hNode, CUgraphNodeParams* nodeParams) {
    ENTER;
    NEED_INIT;
    if (!nodeParams) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    switch (nodeParams->type) {
        case CU_GRAPH_NODE_TYPE_KERNEL: return LEAVE(exec_set_kernel(&call_, hGraphExec, hNode, &nodeParams->u.kernel));
        case CU_GRAPH_NODE_TYPE_GRAPH:
            return LEAVE(exec_set_child(&call_, hGraphExec, hNode, nodeParams->u.graph.graph));
        default: NOTE("type=%d", (int)nodeParams->type); return LEAVE(CUDA_ERROR_NOT_SUPPORTED);
    }
}

/* Whole-graph update: allowed when the new graph has the same shape (node types, kernel count). */
static CUresult exec_update(Call* c, CUgraphExec e, CUgraph gr, CUgraphNode* errNode, CUgraphExecUpdateResult* res) {
    call_note(c, "exec=%p graph=%p", (void*)e, (void*)gr);
    if (errNode) *errNode = NULL;
    if (res) *res = CU_GRAPH_EXEC_UPDATE_ERROR;
    if (!vec_has(&g_standin.execs, e) || !vec_has(&g_standin.graphs, gr)) return CUDA_ERROR_INVALID_VALUE;
    ExecKernel* fresh = NULL;
    size_t count = 0;
    if (!flatten(gr, NULL, &fresh, &count)) {
        free(fresh);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    int same = count == e->count && gr->nodes.count == e->top_count;
    for (size_t i = 0; same && i < e->top_count; i++) same = ((CUgraphNode)gr->nodes.items[i])->type == e->top_types[i];
    if (!same) {
        free(fresh);
        return CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE;
    }
    free(e->kernels);
    e->kernels = fresh;
    e->graph = gr;
    if (res) *res = CU_GRAPH_EXEC_UPDATE_SUCCESS;
    call_note(c, "kernels=%zu", count);
    return CUDA_SUCCESS;
}

CUresult cuGraphExecUpdate(CUgraphExec hGraphExec, CUgraph hGraph, CUgraphNode* hErrorNode_out,
                           CUgraphExecUpdateResult* updateResult_out) {
    ENTER;
    NEED_INIT;
    return LEAVE(exec_update(&call_, hGraphExec, hGraph, hErrorNode_out, updateResult_out));
}

CUresult cuGraphExecUpdate_v2(CUgraphExec hGraphExec, CUgraph hGraph, CUgraphExecUpdateResultInfo* resultInfo) {
    ENTER;
    NEED_INIT;
    if (!resultInfo) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    resultInfo->errorFromNode = NULL;
    return LEAVE(exec_update(&call_, hGraphExec, hGraph, &resultInfo->errorNode, &resultInfo->result));
}

CUresult cuGraphExecDestroy(CUgraphExec hGraphExec) {
    ENTER;
    NOTE("exec=%p", (void*)hGraphExec);
    NEED_INIT;
    if (!vec_has(&g_standin.execs, hGraphExec)) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    destroy_exec(hGraphExec);
    return LEAVE(CUDA_SUCCESS);
}

static CUresult graph_launch(Call* c, CUgraphExec e, CUstream s) {
    call_note(c, "exec=%p", (void*)e);
    if (!vec_has(&g_standin.execs, e)) return CUDA_ERROR_INVALID_VALUE;
    char names[640];
    size_t n = 0;
    names[0] = '\0';
    for (size_t i = 0; i < e->count && n < sizeof names; i++) {
        const CUDA_KERNEL_NODE_PARAMS_v2* p = &e->kernels[i].params;
        struct CUfunc_st* fn;
        if (standin_resolve_function(p->func ? p->func : (CUfunction)(void*)p->kern, &fn) != CUDA_SUCCESS) {
            call_note(c, "kernels=%s", names);
            return CUDA_ERROR_INVALID_HANDLE; /* its module was unloaded since */
        }
        int w = snprintf(names + n, sizeof names - n, "%s%s", i ? "," : "", fn->name);
        if (w > 0) n += (size_t)w;
    }
    call_note(c, "kernels=%s", names);
    CUcontext ctx;
    CUresult r = standin_need_ctx(&ctx);
    if (r != CUDA_SUCCESS) return r;
    return standin_check_stream(s, ctx);
}

CUresult cuGraphLaunch(CUgraphExec hGraphExec, CUstream hStream) {
    ENTER;
    NEED_INIT;
    return LEAVE(graph_launch(&call_, hGraphExec, hStream));
}

CUresult cuGraphLaunch_ptsz(CUgraphExec hGraphExec, CUstream hStream) {
    ENTER;
    NEED_INIT;
    return LEAVE(graph_launch(&call_, hGraphExec, hStream));
}
