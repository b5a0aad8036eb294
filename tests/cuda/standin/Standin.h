/* Internal state of the stand-in driver: the objects behind the CUDA handles, the registries that say which handles
 * are live, the call log, and the helpers every entry point uses. One lock guards everything (tests, not speed). */
#ifndef OMEGA_STANDIN_H
#define OMEGA_STANDIN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "Image.h"
#include "StandinExtra.h"
#include "omega/cudagate/Driver.h"

#define STANDIN_MAX_DEVICES 8
#define STANDIN_VERSION 13000
/* H100-like limits, the ones a launch is checked against. */
#define STANDIN_SMS 132
#define STANDIN_MAX_THREADS_PER_SM 2048
#define STANDIN_MAX_BLOCK_THREADS 1024
#define STANDIN_MAX_SHARED 49152 /* without cuFuncSetAttribute's opt-in, which the stand-in does not offer */

typedef struct Vec {
    void** items;
    size_t count, cap;
} Vec;

int vec_push(Vec* v, void* item);
int vec_has(const Vec* v, const void* item);
void vec_remove(Vec* v, const void* item);

enum {
    TAG_CTX = 0x5c7c0001,
    TAG_MODULE,
    TAG_FUNCTION,
    TAG_LIBRARY,
    TAG_KERNEL,
    TAG_STREAM,
    TAG_GRAPH,
    TAG_NODE,
    TAG_EXEC,
    TAG_POOL
};

struct CUctx_st {
    uint32_t tag;
    int device;
    unsigned flags;
    int primary;
    int refs; /* primary contexts: cuDevicePrimaryCtxRetain count */
};

struct CUfunc_st {
    uint32_t tag;
    CUmodule module;
    const char* name;
    CUkernel kernel; /* the library kernel this function belongs to, or NULL */
};

struct CUmod_st {
    uint32_t tag;
    CUcontext ctx; /* NULL for a library's module (context-independent) */
    CUlibrary library;
    StandinImage image;
    struct CUfunc_st* functions; /* image.count of them */
};

struct CUkern_st {
    uint32_t tag;
    CUlibrary library;
    struct CUfunc_st* function;
};

struct CUlib_st {
    uint32_t tag;
    CUmodule module;
    struct CUkern_st* kernels; /* module->image.count of them */
};

struct CUstream_st {
    uint32_t tag;
    CUcontext ctx;
    unsigned flags;
};

struct CUgraph_st {
    uint32_t tag;
    Vec nodes;
};

struct CUgraphNode_st {
    uint32_t tag;
    CUgraph graph;
    CUgraphNodeType type;
    CUDA_KERNEL_NODE_PARAMS_v2 kernel; /* kernel nodes */
    CUgraph child;                     /* child-graph nodes: the node's own clone of the graph added */
};

/* An instantiated graph: its kernels, flattened out of child graphs, keyed by the node they came from. */
typedef struct ExecKernel {
    CUgraphNode node; /* the kernel node (in the graph or in a child graph's clone) */
    CUgraphNode top;  /* the node of the instantiated graph it belongs to (itself, or a child-graph node) */
    CUDA_KERNEL_NODE_PARAMS_v2 params;
} ExecKernel;

struct CUgraphExec_st {
    uint32_t tag;
    CUgraph graph; /* the graph it was instantiated from; its top-level node types are the topology */
    ExecKernel* kernels;
    size_t count;
    CUgraphNodeType* top_types;
    size_t top_count;
};

struct CUmemPoolHandle_st {
    uint32_t tag;
    int device;
};

typedef struct Alloc {
    CUdeviceptr ptr;
    size_t size;
    int device;
    CUcontext ctx;    /* freed with its context; NULL for VMM handles (process-wide) */
    const char* kind; /* "device", "pitch", "managed", "async", "pool", "legacy32", "vmm" */
    int mapped;       /* 1: mmap'ed (legacy32), 0: malloc'ed */
} Alloc;

typedef struct Standin {
    pthread_mutex_t mu;
    int initialized;
    int device_count;
    size_t mem_total;
    size_t mem_used[STANDIN_MAX_DEVICES];
    struct CUctx_st primary[STANDIN_MAX_DEVICES];
    struct CUmemPoolHandle_st pools[STANDIN_MAX_DEVICES];
    Vec contexts, modules, functions, libraries, kernels, streams, graphs, nodes, execs, allocs;
    int log_fd; /* -1: not opened yet, -2: no log */
} Standin;

extern Standin g_standin;

/* One call in progress: its name and the details its log line will carry. */
typedef struct Call {
    const char* fn;
    char detail[1024];
    size_t len;
    int logging; /* 0: no log file, notes are not even formatted */
} Call;

void call_begin(Call* c, const char* fn);
void call_note(Call* c, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
/* Unlocks, writes `<fn> <details> -> <result name>` to the log, returns r. */
CUresult call_end(Call* c, CUresult r);

#define ENTER   \
    Call call_; \
    call_begin(&call_, __func__)
#define NOTE(...) call_note(&call_, __VA_ARGS__)
#define LEAVE(r) call_end(&call_, (r))
#define NEED_INIT \
    if (!g_standin.initialized) return LEAVE(CUDA_ERROR_NOT_INITIALIZED)

const char* standin_error_name(CUresult r);

/* The calling thread's current context (NULL if none); CUDA_ERROR_INVALID_CONTEXT unless it is live. */
CUcontext standin_current(void);
CUresult standin_need_ctx(CUcontext* out);
int standin_valid_device(CUdevice dev);
/* Frees everything a context owns (modules, streams, allocations). */
void standin_release_ctx_resources(CUcontext ctx);

CUresult standin_check_stream(CUstream s, CUcontext ctx);
/* A CUfunction, or a CUkernel passed in its place, as the function it launches. */
CUresult standin_resolve_function(CUfunction f, struct CUfunc_st** out);
CUresult standin_check_dims(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                            unsigned shared);
void standin_unload_module(CUmodule m);
void standin_free_alloc(Alloc* a);

#endif
