/* The stand-in driver's core: initialisation, the call log, error names, devices and contexts. Every entry point
 * logs one line, `<function> <details> -> <result>`, to $OMEGA_CUDA_STANDIN_LOG, so a test can prove which calls
 * reached the driver. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "Standin.h"

Standin g_standin = {.mu = PTHREAD_MUTEX_INITIALIZER, .log_fd = -1};

/* ---- registries ---- */

int vec_push(Vec* v, void* item) {
    if (v->count == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void** items = realloc(v->items, cap * sizeof *items);
        if (!items) return 0;
        v->items = items;
        v->cap = cap;
    }
    v->items[v->count++] = item;
    return 1;
}

int vec_has(const Vec* v, const void* item) {
    if (!item) return 0;
    for (size_t i = 0; i < v->count; i++) {
        if (v->items[i] == item) return 1;
    }
    return 0;
}

void vec_remove(Vec* v, const void* item) {
    for (size_t i = 0; i < v->count; i++) {
        if (v->items[i] == item) {
            memmove(v->items + i, v->items + i + 1, (v->count - i - 1) * sizeof *v->items);
            v->count--;
            return;
        }
    }
}

/* ---- the call log ---- */

/* Opened at the first call; without $OMEGA_CUDA_STANDIN_LOG calls format nothing (benchmarks measure the gate, not
 * the stand-in's printf). */
static int log_enabled(void) {
    if (g_standin.log_fd == -1) {
        const char* path = getenv("OMEGA_CUDA_STANDIN_LOG");
        g_standin.log_fd = -2;
        if (path && *path) {
            int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (fd >= 0) g_standin.log_fd = fd;
        }
    }
    return g_standin.log_fd >= 0;
}

static void log_line(const char* line, size_t len) {
    /* One write per line with O_APPEND: lines from several processes or threads never interleave. */
    ssize_t n;
    do {
        n = write(g_standin.log_fd, line, len);
    } while (n < 0 && errno == EINTR);
}

void call_begin(Call* c, const char* fn) {
    c->fn = fn;
    c->len = 0;
    c->detail[0] = '\0';
    pthread_mutex_lock(&g_standin.mu);
    c->logging = log_enabled();
}

void call_note(Call* c, const char* fmt, ...) {
    if (!c->logging || c->len + 2 >= sizeof c->detail) return;
    c->detail[c->len++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->detail + c->len, sizeof c->detail - c->len, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    c->len += (size_t)n;
    if (c->len >= sizeof c->detail) c->len = sizeof c->detail - 1;
}

CUresult call_end(Call* c, CUresult r) {
    if (!c->logging) {
        pthread_mutex_unlock(&g_standin.mu);
        return r;
    }
    char line[sizeof c->detail + 160];
    int n = snprintf(line, sizeof line, "%s%s -> %s\n", c->fn, c->detail, standin_error_name(r));
    if (n > 0) log_line(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    pthread_mutex_unlock(&g_standin.mu);
    return r;
}

/* ---- errors ---- */

static const struct {
    CUresult code;
    const char* name;
    const char* text;
} kErrors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {CUDA_ERROR_DEINITIALIZED, "CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
    {CUDA_ERROR_STUB_LIBRARY, "CUDA_ERROR_STUB_LIBRARY", "CUDA driver is a stub library"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {CUDA_ERROR_NO_BINARY_FOR_GPU, "CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for execution"},
    {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {CUDA_ERROR_INVALID_SOURCE, "CUDA_ERROR_INVALID_SOURCE", "device kernel image is invalid"},
    {CUDA_ERROR_FILE_NOT_FOUND, "CUDA_ERROR_FILE_NOT_FOUND", "file not found"},
    {CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND, "CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND",
     "shared object symbol not found"},
    {CUDA_ERROR_SHARED_OBJECT_INIT_FAILED, "CUDA_ERROR_SHARED_OBJECT_INIT_FAILED",
     "shared object initialization failed"},
    {CUDA_ERROR_OPERATING_SYSTEM, "CUDA_ERROR_OPERATING_SYSTEM",
     "OS call failed or operation not supported on this OS"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {CUDA_ERROR_ILLEGAL_STATE, "CUDA_ERROR_ILLEGAL_STATE", "the operation cannot be performed in the present state"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_NOT_READY, "CUDA_ERROR_NOT_READY", "device not ready"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
     "too many resources requested for launch"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE, "CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE",
     "too many blocks in cooperative launch"},
    {CUDA_ERROR_NOT_PERMITTED, "CUDA_ERROR_NOT_PERMITTED", "operation not permitted"},
    {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED",
     "operation not permitted when stream is capturing"},
    {CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE, "CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE",
     "the graph update was not performed because it included changes which violated constraints specific to "
     "instantiated graph update"},
    {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

const char* standin_error_name(CUresult r) {
    for (size_t i = 0; i < sizeof kErrors / sizeof kErrors[0]; i++) {
        if (kErrors[i].code == r) return kErrors[i].name;
    }
    return "CUDA_ERROR_UNKNOWN";
}

CUresult cuGetErrorName(CUresult error, const char** pStr) {
    ENTER;
    NOTE("error=%d", (int)error);
    if (!pStr) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    for (size_t i = 0; i < sizeof kErrors / sizeof kErrors[0]; i++) {
        if (kErrors[i].code == error) {
            *pStr = kErrors[i].name;
            return LEAVE(CUDA_SUCCESS);
        }
    }
    *pStr = NULL;
    return LEAVE(CUDA_ERROR_INVALID_VALUE);
}

CUresult cuGetErrorString(CUresult error, const char** pStr) {
    ENTER;
    NOTE("error=%d", (int)error);
    if (!pStr) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    for (size_t i = 0; i < sizeof kErrors / sizeof kErrors[0]; i++) {
        if (kErrors[i].code == error) {
            *pStr = kErrors[i].text;
            return LEAVE(CUDA_SUCCESS);
        }
    }
    *pStr = NULL;
    return LEAVE(CUDA_ERROR_INVALID_VALUE);
}

/* ---- initialisation and devices ---- */

static size_t env_size(const char* name, size_t fallback) {
    const char* v = getenv(name);
    if (!v || !*v) return fallback;
    char* end;
    unsigned long long n = strtoull(v, &end, 10);
    return *end == '\0' ? (size_t)n : fallback;
}

CUresult cuInit(unsigned int flags) {
    ENTER;
    NOTE("flags=%u", flags);
    if (flags != 0) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (!g_standin.initialized) {
        /* OMEGA_CUDA_STANDIN_DEVICES and _MEM_BYTES shape the pretend machine: 1 device of 80 GiB by default. */
        size_t devices = env_size("OMEGA_CUDA_STANDIN_DEVICES", 1);
        if (devices > STANDIN_MAX_DEVICES) devices = STANDIN_MAX_DEVICES;
        g_standin.device_count = (int)devices;
        g_standin.mem_total = env_size("OMEGA_CUDA_STANDIN_MEM_BYTES", (size_t)80 << 30);
        for (int d = 0; d < STANDIN_MAX_DEVICES; d++) {
            g_standin.primary[d] = (struct CUctx_st){.tag = TAG_CTX, .device = d, .primary = 1};
            g_standin.pools[d] = (struct CUmemPoolHandle_st){.tag = TAG_POOL, .device = d};
        }
        g_standin.initialized = 1;
    }
    if (g_standin.device_count == 0) return LEAVE(CUDA_ERROR_NO_DEVICE);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuDriverGetVersion(int* driverVersion) {
    ENTER;
    if (!driverVersion) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    *driverVersion = STANDIN_VERSION;
    NOTE("version=%d", STANDIN_VERSION);
    return LEAVE(CUDA_SUCCESS);
}

int standin_valid_device(CUdevice dev) {
    return dev >= 0 && dev < g_standin.device_count;
}

CUresult cuDeviceGetCount(int* count) {
    ENTER;
    NEED_INIT;
    if (!count) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    *count = g_standin.device_count;
    NOTE("count=%d", *count);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuDeviceGet(CUdevice* device, int ordinal) {
    ENTER;
    NOTE("ordinal=%d", ordinal);
    NEED_INIT;
    if (!device) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (!standin_valid_device(ordinal)) return LEAVE(CUDA_ERROR_INVALID_DEVICE);
    *device = ordinal;
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuDeviceGetName(char* name, int len, CUdevice dev) {
    ENTER;
    NOTE("device=%d", dev);
    NEED_INIT;
    if (!name || len <= 0) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (!standin_valid_device(dev)) return LEAVE(CUDA_ERROR_INVALID_DEVICE);
    snprintf(name, (size_t)len, "Omega stand-in sm_%d (not a GPU)", STANDIN_SM);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuDeviceGetAttribute(int* pi, CUdevice_attribute attrib, CUdevice dev) {
    ENTER;
    NOTE("attribute=%d device=%d", (int)attrib, dev);
    NEED_INIT;
    if (!pi) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (!standin_valid_device(dev)) return LEAVE(CUDA_ERROR_INVALID_DEVICE);
    int v;
    switch ((int)attrib) {
        case 1: v = STANDIN_MAX_BLOCK_THREADS; break; /* max threads per block */
        case 2: v = 1024; break;                      /* max block dim x */
        case 3: v = 1024; break;
        case 4: v = 64; break;
        case 5: v = 2147483647; break; /* max grid dim x */
        case 6: v = 65535; break;
        case 7: v = 65535; break;
        case 8: v = STANDIN_MAX_SHARED; break;
        case 9: v = 65536; break; /* constant memory */
        case 10: v = 32; break;   /* warp size */
        case 13: v = 1980000; break;
        case 16: v = STANDIN_SMS; break;
        case 18: v = 0; break; /* integrated */
        case 39: v = STANDIN_MAX_THREADS_PER_SM; break;
        case 41: v = 1; break; /* unified addressing */
        case 75: v = STANDIN_SM / 10; break;
        case 76: v = STANDIN_SM % 10; break;
        case 83: v = 1; break;
        case 89: v = 1; break;
        case 95: v = 1; break;
        case 97: v = 232448; break; /* opt-in shared memory per block */
        case 115: v = 1; break;
        default: return LEAVE(CUDA_ERROR_INVALID_VALUE);
    }
    *pi = v;
    NOTE("value=%d", v);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice dev) {
    ENTER;
    NOTE("device=%d", dev);
    NEED_INIT;
    if (!bytes) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (!standin_valid_device(dev)) return LEAVE(CUDA_ERROR_INVALID_DEVICE);
    *bytes = g_standin.mem_total;
    return LEAVE(CUDA_SUCCESS);
}

/* ---- contexts ---- */

/* Each thread has its own stack of current contexts (cuCtxPushCurrent/PopCurrent), as in CUDA. This is driver
 * state per thread by definition, not configuration. */
#define CTX_STACK 16
static _Thread_local CUcontext t_stack[CTX_STACK];
static _Thread_local int t_depth;

CUcontext standin_current(void) {
    return t_depth ? t_stack[t_depth - 1] : NULL;
}

CUresult standin_need_ctx(CUcontext* out) {
    CUcontext c = standin_current();
    if (!c || !vec_has(&g_standin.contexts, c)) return CUDA_ERROR_INVALID_CONTEXT;
    *out = c;
    return CUDA_SUCCESS;
}

static void set_current(CUcontext c) {
    if (t_depth == 0) t_depth = 1;
    t_stack[t_depth - 1] = c;
}

/* Threads whose stacks still name a destroyed context fail later with CUDA_ERROR_INVALID_CONTEXT: the
 * registry no longer holds it. */
static void forget_current(CUcontext c) {
    for (int i = 0; i < t_depth; i++) {
        if (t_stack[i] == c) t_stack[i] = NULL;
    }
}

void standin_release_ctx_resources(CUcontext ctx) {
    for (size_t i = g_standin.modules.count; i-- > 0;) {
        CUmodule m = g_standin.modules.items[i];
        if (m->ctx == ctx) standin_unload_module(m);
    }
    for (size_t i = g_standin.streams.count; i-- > 0;) {
        CUstream s = g_standin.streams.items[i];
        if (s->ctx == ctx) {
            vec_remove(&g_standin.streams, s);
            free(s);
        }
    }
    for (size_t i = g_standin.allocs.count; i-- > 0;) {
        Alloc* a = g_standin.allocs.items[i];
        if (a->ctx == ctx) standin_free_alloc(a);
    }
}

static CUresult create_ctx(CUcontext* pctx, unsigned flags, CUdevice dev) {
    if (!pctx) return CUDA_ERROR_INVALID_VALUE;
    if (flags & ~0x1fu) return CUDA_ERROR_INVALID_VALUE; /* scheduling, map-host, lmem-resize, coredump bits */
    if (!standin_valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
    struct CUctx_st* c = calloc(1, sizeof *c);
    if (!c || !vec_push(&g_standin.contexts, c)) {
        free(c);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    *c = (struct CUctx_st){.tag = TAG_CTX, .device = dev, .flags = flags};
    /* cuCtxCreate pushes the new context onto the calling thread's stack. */
    if (t_depth < CTX_STACK) {
        t_stack[t_depth++] = c;
    } else {
        set_current(c);
    }
    *pctx = c;
    return CUDA_SUCCESS;
}

CUresult cuCtxCreate_v2(CUcontext* pctx, unsigned int flags, CUdevice dev) {
    ENTER;
    NOTE("flags=%u device=%d", flags, dev);
    NEED_INIT;
    CUresult r = create_ctx(pctx, flags, dev);
    if (r == CUDA_SUCCESS) NOTE("ctx=%p", (void*)*pctx);
    return LEAVE(r);
}

CUresult cuCtxCreate_v4(CUcontext* pctx, CUctxCreateParams* ctxCreateParams, unsigned int flags, CUdevice dev) {
    ENTER;
    NOTE("flags=%u device=%d params=%p", flags, dev, (void*)ctxCreateParams);
    NEED_INIT;
    /* Execution affinity and CIG parameters need hardware partitioning the stand-in does not model. */
    if (ctxCreateParams) return LEAVE(CUDA_ERROR_NOT_SUPPORTED);
    CUresult r = create_ctx(pctx, flags, dev);
    if (r == CUDA_SUCCESS) NOTE("ctx=%p", (void*)*pctx);
    return LEAVE(r);
}

CUresult cuCtxDestroy_v2(CUcontext ctx) {
    ENTER;
    NOTE("ctx=%p", (void*)ctx);
    NEED_INIT;
    if (!ctx || !vec_has(&g_standin.contexts, ctx) || ctx->primary) return LEAVE(CUDA_ERROR_INVALID_CONTEXT);
    standin_release_ctx_resources(ctx);
    vec_remove(&g_standin.contexts, ctx);
    forget_current(ctx);
    free(ctx);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuCtxGetCurrent(CUcontext* pctx) {
    ENTER;
    NEED_INIT;
    if (!pctx) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    *pctx = standin_current();
    NOTE("ctx=%p", (void*)*pctx);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuCtxSetCurrent(CUcontext ctx) {
    ENTER;
    NOTE("ctx=%p", (void*)ctx);
    NEED_INIT;
    if (ctx && !vec_has(&g_standin.contexts, ctx)) return LEAVE(CUDA_ERROR_INVALID_CONTEXT);
    if (!ctx && t_depth) {
        t_depth--; /* NULL pops the current context, as documented */
    } else if (ctx) {
        set_current(ctx);
    }
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuCtxPushCurrent_v2(CUcontext ctx) {
    ENTER;
    NOTE("ctx=%p", (void*)ctx);
    NEED_INIT;
    if (!ctx || !vec_has(&g_standin.contexts, ctx)) return LEAVE(CUDA_ERROR_INVALID_CONTEXT);
    if (t_depth == CTX_STACK) return LEAVE(CUDA_ERROR_OUT_OF_MEMORY);
    t_stack[t_depth++] = ctx;
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuCtxPopCurrent_v2(CUcontext* pctx) {
    ENTER;
    NEED_INIT;
    if (t_depth == 0) return LEAVE(CUDA_ERROR_INVALID_CONTEXT);
    CUcontext c = t_stack[--t_depth];
    if (pctx) *pctx = c;
    NOTE("ctx=%p", (void*)c);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuCtxGetDevice(CUdevice* device) {
    ENTER;
    NEED_INIT;
    if (!device) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    CUcontext c;
    CUresult r = standin_need_ctx(&c);
    if (r != CUDA_SUCCESS) return LEAVE(r);
    *device = c->device;
    NOTE("device=%d", c->device);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuCtxSynchronize(void) {
    ENTER;
    NEED_INIT;
    CUcontext c;
    return LEAVE(standin_need_ctx(&c));
}

CUresult cuDevicePrimaryCtxRetain(CUcontext* pctx, CUdevice dev) {
    ENTER;
    NOTE("device=%d", dev);
    NEED_INIT;
    if (!pctx) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (!standin_valid_device(dev)) return LEAVE(CUDA_ERROR_INVALID_DEVICE);
    struct CUctx_st* c = &g_standin.primary[dev];
    if (c->refs == 0 && !vec_push(&g_standin.contexts, c)) return LEAVE(CUDA_ERROR_OUT_OF_MEMORY);
    c->refs++;
    *pctx = c;
    NOTE("ctx=%p refs=%d", (void*)c, c->refs);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev) {
    ENTER;
    NOTE("device=%d", dev);
    NEED_INIT;
    if (!standin_valid_device(dev)) return LEAVE(CUDA_ERROR_INVALID_DEVICE);
    struct CUctx_st* c = &g_standin.primary[dev];
    if (c->refs == 0) return LEAVE(CUDA_ERROR_INVALID_CONTEXT);
    /* The last release destroys the primary context and everything in it. */
    if (--c->refs == 0) {
        standin_release_ctx_resources(c);
        vec_remove(&g_standin.contexts, c);
        forget_current(c);
    }
    NOTE("refs=%d", c->refs);
    return LEAVE(CUDA_SUCCESS);
}

/* ---- private interfaces ---- */

/* libcudart asks for undocumented driver tables by UUID before anything else works; the stand-in has none (see
 * tests/cuda/README.md), and says so in the log with the UUID asked for. */
CUresult cuGetExportTable(const void** ppExportTable, const void* pExportTableId) {
    ENTER;
    if (!ppExportTable || !pExportTableId) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    const unsigned char* id = pExportTableId;
    char hex[33];
    for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", id[i]);
    NOTE("uuid=%s", hex);
    *ppExportTable = NULL;
    return LEAVE(CUDA_ERROR_NOT_SUPPORTED);
}
