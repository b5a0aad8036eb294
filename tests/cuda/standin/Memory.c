/* Device memory and streams of the stand-in driver. "Device" memory is host memory (so copies to and from it work),
 * counted against each device's capacity ($OMEGA_CUDA_STANDIN_MEM_BYTES, 80 GiB by default): an allocation beyond
 * what is free fails with CUDA_ERROR_OUT_OF_MEMORY as on a full GPU. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "Standin.h"

#define VMM_GRANULARITY ((size_t)2 << 20)

static CUresult allocate(Call* c, CUcontext ctx, int device, size_t size, const char* kind, int low32, Alloc** out) {
    call_note(c, "bytes=%zu", size);
    if (size == 0) return CUDA_ERROR_INVALID_VALUE;
    if (size > g_standin.mem_total - g_standin.mem_used[device]) return CUDA_ERROR_OUT_OF_MEMORY;
    Alloc* a = calloc(1, sizeof *a);
    if (!a) return CUDA_ERROR_OUT_OF_MEMORY;
    void* p = NULL;
    if (low32) {
        /* The 32-bit entry points return 32-bit device pointers: map below 2 GiB. */
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        if (p == MAP_FAILED) p = NULL;
    } else if (posix_memalign(&p, 512, size) != 0) {
        p = NULL; /* CUDA allocations are at least 256-byte aligned */
    }
    if (!p || !vec_push(&g_standin.allocs, a)) {
        if (p && low32) munmap(p, size);
        if (p && !low32) free(p);
        free(a);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    *a = (Alloc){(CUdeviceptr)(uintptr_t)p, size, device, ctx, kind, low32};
    g_standin.mem_used[device] += size;
    call_note(c, "ptr=0x%llx used=%zu", a->ptr, g_standin.mem_used[device]);
    *out = a;
    return CUDA_SUCCESS;
}

void standin_free_alloc(Alloc* a) {
    g_standin.mem_used[a->device] -= a->size;
    vec_remove(&g_standin.allocs, a);
    if (a->mapped) {
        munmap((void*)(uintptr_t)a->ptr, a->size);
    } else {
        free((void*)(uintptr_t)a->ptr);
    }
    free(a);
}

static Alloc* find_alloc(CUdeviceptr p, const char* kind) {
    for (size_t i = 0; i < g_standin.allocs.count; i++) {
        Alloc* a = g_standin.allocs.items[i];
        if (a->ptr == p && (strcmp(a->kind, "vmm") == 0) == (strcmp(kind, "vmm") == 0)) return a;
    }
    return NULL;
}

/* The allocation holding [p, p + n), for copies. */
static Alloc* find_range(CUdeviceptr p, size_t n) {
    for (size_t i = 0; i < g_standin.allocs.count; i++) {
        Alloc* a = g_standin.allocs.items[i];
        if (strcmp(a->kind, "vmm") != 0 && p >= a->ptr && p - a->ptr <= a->size && n <= a->size - (p - a->ptr))
            return a;
    }
    return NULL;
}

static CUresult alloc_in_ctx(Call* c, CUdeviceptr* dptr, size_t size, const char* kind) {
    if (!dptr) return CUDA_ERROR_INVALID_VALUE;
    CUcontext ctx;
    CUresult r = standin_need_ctx(&ctx);
    if (r != CUDA_SUCCESS) return r;
    Alloc* a;
    if ((r = allocate(c, ctx, ctx->device, size, kind, 0, &a)) != CUDA_SUCCESS) return r;
    *dptr = a->ptr;
    return CUDA_SUCCESS;
}

static CUresult free_in_ctx(Call* c, CUdeviceptr p) {
    call_note(c, "ptr=0x%llx", p);
    CUcontext ctx;
    CUresult r = standin_need_ctx(&ctx);
    if (r != CUDA_SUCCESS) return r;
    Alloc* a = find_alloc(p, "device");
    if (!a) return CUDA_ERROR_INVALID_VALUE;
    call_note(c, "bytes=%zu", a->size);
    standin_free_alloc(a);
    return CUDA_SUCCESS;
}

CUresult cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytesize) {
    ENTER;
    NEED_INIT;
    return LEAVE(alloc_in_ctx(&call_, dptr, bytesize, "device"));
}

static CUresult alloc_pitch(Call* c, CUdeviceptr* dptr, size_t* pitch, size_t width, size_t height, unsigned elem) {
    call_note(c, "width=%zu height=%zu element=%u", width, height, elem);
    if (!dptr || !pitch || !width || !height) return CUDA_ERROR_INVALID_VALUE;
    if (elem != 4 && elem != 8 && elem != 16) return CUDA_ERROR_INVALID_VALUE;
    size_t p = (width + 511) / 512 * 512; /* rows aligned to 512 bytes */
    if (height > SIZE_MAX / p) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = alloc_in_ctx(c, dptr, p * height, "pitch");
    if (r == CUDA_SUCCESS) *pitch = p;
    return r;
}

CUresult cuMemAllocPitch_v2(CUdeviceptr* dptr, size_t* pPitch, size_t WidthInBytes, size_t Height,
                            unsigned int ElementSizeBytes) {
    ENTER;
    NEED_INIT;
    return LEAVE(alloc_pitch(&call_, dptr, pPitch, WidthInBytes, Height, ElementSizeBytes));
}

CUresult cuMemAllocManaged(CUdeviceptr* dptr, size_t bytesize, unsigned int flags) {
    ENTER;
    NOTE("flags=%u", flags);
    NEED_INIT;
    if (flags != CU_MEM_ATTACH_GLOBAL && flags != CU_MEM_ATTACH_HOST) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    return LEAVE(alloc_in_ctx(&call_, dptr, bytesize, "managed"));
}

static CUresult alloc_async(Call* c, CUdeviceptr* dptr, size_t size, CUstream s, CUmemoryPool pool) {
    call_note(c, "stream=%p", (void*)s);
    if (!dptr) return CUDA_ERROR_INVALID_VALUE;
    CUcontext ctx;
    CUresult r = standin_need_ctx(&ctx);
    if (r != CUDA_SUCCESS) return r;
    if ((r = standin_check_stream(s, ctx)) != CUDA_SUCCESS) return r;
    int device = ctx->device;
    if (pool) {
        if (pool < &g_standin.pools[0] || pool >= &g_standin.pools[g_standin.device_count])
            return CUDA_ERROR_INVALID_VALUE;
        device = pool->device;
    }
    /* Stream order is immaterial when nothing runs: the memory exists at once. */
    Alloc* a;
    if ((r = allocate(c, ctx, device, size, pool ? "pool" : "async", 0, &a)) != CUDA_SUCCESS) return r;
    *dptr = a->ptr;
    return CUDA_SUCCESS;
}

CUresult cuMemAllocAsync(CUdeviceptr* dptr, size_t bytesize, CUstream hStream) {
    ENTER;
    NEED_INIT;
    return LEAVE(alloc_async(&call_, dptr, bytesize, hStream, NULL));
}

CUresult cuMemAllocAsync_ptsz(CUdeviceptr* dptr, size_t bytesize, CUstream hStream) {
    ENTER;
    NEED_INIT;
    return LEAVE(alloc_async(&call_, dptr, bytesize, hStream, NULL));
}

CUresult cuMemAllocFromPoolAsync(CUdeviceptr* dptr, size_t bytesize, CUmemoryPool pool, CUstream hStream) {
    ENTER;
    NOTE("pool=%p", (void*)pool);
    NEED_INIT;
    if (!pool) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    return LEAVE(alloc_async(&call_, dptr, bytesize, hStream, pool));
}

CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr* dptr, size_t bytesize, CUmemoryPool pool, CUstream hStream) {
    ENTER;
    NOTE("pool=%p", (void*)pool);
    NEED_INIT;
    if (!pool) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    return LEAVE(alloc_async(&call_, dptr, bytesize, hStream, pool));
}

CUresult cuDeviceGetDefaultMemPool(CUmemoryPool* pool, CUdevice dev) {
    ENTER;
    NOTE("device=%d", dev);
    NEED_INIT;
    if (!pool) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (!standin_valid_device(dev)) return LEAVE(CUDA_ERROR_INVALID_DEVICE);
    *pool = &g_standin.pools[dev];
    NOTE("pool=%p", (void*)*pool);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuMemFree_v2(CUdeviceptr dptr) {
    ENTER;
    NEED_INIT;
    return LEAVE(free_in_ctx(&call_, dptr));
}

static CUresult free_async(Call* c, CUdeviceptr p, CUstream s) {
    call_note(c, "stream=%p", (void*)s);
    CUcontext ctx;
    CUresult r = standin_need_ctx(&ctx);
    if (r != CUDA_SUCCESS) return r;
    if ((r = standin_check_stream(s, ctx)) != CUDA_SUCCESS) return r;
    return free_in_ctx(c, p);
}

CUresult cuMemFreeAsync(CUdeviceptr dptr, CUstream hStream) {
    ENTER;
    NEED_INIT;
    return LEAVE(free_async(&call_, dptr, hStream));
}

CUresult cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream hStream) {
    ENTER;
    NEED_INIT;
    return LEAVE(free_async(&call_, dptr, hStream));
}

/* ---- the 32-bit entry points of CUDA before 3.2 ---- */

CUresult cuMemAlloc(CUdeviceptr_v1* dptr, unsigned int bytesize) {
    ENTER;
    NEED_INIT;
    if (!dptr) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    CUcontext ctx;
    CUresult r = standin_need_ctx(&ctx);
    if (r != CUDA_SUCCESS) return LEAVE(r);
    Alloc* a;
    if ((r = allocate(&call_, ctx, ctx->device, bytesize, "legacy32", 1, &a)) != CUDA_SUCCESS) return LEAVE(r);
    *dptr = (CUdeviceptr_v1)a->ptr;
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuMemAllocPitch(CUdeviceptr_v1* dptr, unsigned int* pPitch, unsigned int WidthInBytes, unsigned int Height,
                         unsigned int ElementSizeBytes) {
    ENTER;
    NOTE("width=%u height=%u element=%u", WidthInBytes, Height, ElementSizeBytes);
    NEED_INIT;
    if (!dptr || !pPitch || !WidthInBytes || !Height) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (ElementSizeBytes != 4 && ElementSizeBytes != 8 && ElementSizeBytes != 16)
        return LEAVE(CUDA_ERROR_INVALID_VALUE);
    CUcontext ctx;
    CUresult r = standin_need_ctx(&ctx);
    if (r != CUDA_SUCCESS) return LEAVE(r);
    unsigned long long pitch = (WidthInBytes + 511ull) / 512 * 512, total = pitch * Height;
    if (total > 0xffffffffull) return LEAVE(CUDA_ERROR_OUT_OF_MEMORY);
    Alloc* a;
    if ((r = allocate(&call_, ctx, ctx->device, (size_t)total, "legacy32", 1, &a)) != CUDA_SUCCESS) return LEAVE(r);
    *dptr = (CUdeviceptr_v1)a->ptr;
    *pPitch = (unsigned)pitch;
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuMemFree(CUdeviceptr_v1 dptr) {
    ENTER;
    NEED_INIT;
    return LEAVE(free_in_ctx(&call_, dptr));
}

/* ---- virtual memory management: physical allocations by handle ---- */

CUresult cuMemCreate(CUmemGenericAllocationHandle* handle, size_t size, const CUmemAllocationProp* prop,
                     unsigned long long flags) {
    ENTER;
    NOTE("flags=%llu", flags);
    NEED_INIT;
    if (!handle || !prop || flags != 0) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (prop->type != 1 /* pinned */ || prop->location.type != 1 /* device */) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (!standin_valid_device(prop->location.id)) return LEAVE(CUDA_ERROR_INVALID_DEVICE);
    if (size % VMM_GRANULARITY) {
        NOTE("bytes=%zu", size);
        return LEAVE(CUDA_ERROR_INVALID_VALUE);
    }
    Alloc* a;
    CUresult r = allocate(&call_, NULL, prop->location.id, size, "vmm", 0, &a);
    if (r != CUDA_SUCCESS) return LEAVE(r);
    *handle = a->ptr;
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuMemRelease(CUmemGenericAllocationHandle handle) {
    ENTER;
    NOTE("handle=0x%llx", handle);
    NEED_INIT;
    Alloc* a = find_alloc(handle, "vmm");
    if (!a) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    NOTE("bytes=%zu", a->size);
    standin_free_alloc(a);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuMemGetInfo_v2(size_t* freeBytes, size_t* total) {
    ENTER;
    NEED_INIT;
    if (!freeBytes || !total) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    CUcontext ctx;
    CUresult r = standin_need_ctx(&ctx);
    if (r != CUDA_SUCCESS) return LEAVE(r);
    *total = g_standin.mem_total;
    *freeBytes = g_standin.mem_total - g_standin.mem_used[ctx->device];
    NOTE("free=%zu total=%zu", *freeBytes, *total);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr dstDevice, const void* srcHost, size_t ByteCount) {
    ENTER;
    NOTE("dst=0x%llx bytes=%zu", dstDevice, ByteCount);
    NEED_INIT;
    CUcontext ctx;
    CUresult r = standin_need_ctx(&ctx);
    if (r != CUDA_SUCCESS) return LEAVE(r);
    if (!srcHost || !find_range(dstDevice, ByteCount)) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    memcpy((void*)(uintptr_t)dstDevice, srcHost, ByteCount);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuMemcpyDtoH_v2(void* dstHost, CUdeviceptr srcDevice, size_t ByteCount) {
    ENTER;
    NOTE("src=0x%llx bytes=%zu", srcDevice, ByteCount);
    NEED_INIT;
    CUcontext ctx;
    CUresult r = standin_need_ctx(&ctx);
    if (r != CUDA_SUCCESS) return LEAVE(r);
    if (!dstHost || !find_range(srcDevice, ByteCount)) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    memcpy(dstHost, (const void*)(uintptr_t)srcDevice, ByteCount);
    return LEAVE(CUDA_SUCCESS);
}

/* ---- streams ---- */

CUresult cuStreamCreate(CUstream* phStream, unsigned int Flags) {
    ENTER;
    NOTE("flags=%u", Flags);
    NEED_INIT;
    if (!phStream || (Flags != CU_STREAM_DEFAULT && Flags != CU_STREAM_NON_BLOCKING))
        return LEAVE(CUDA_ERROR_INVALID_VALUE);
    CUcontext ctx;
    CUresult r = standin_need_ctx(&ctx);
    if (r != CUDA_SUCCESS) return LEAVE(r);
    CUstream s = calloc(1, sizeof *s);
    if (!s || !vec_push(&g_standin.streams, s)) {
        free(s);
        return LEAVE(CUDA_ERROR_OUT_OF_MEMORY);
    }
    *s = (struct CUstream_st){TAG_STREAM, ctx, Flags};
    *phStream = s;
    NOTE("stream=%p", (void*)s);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuStreamSynchronize(CUstream hStream) {
    ENTER;
    NOTE("stream=%p", (void*)hStream);
    NEED_INIT;
    CUcontext ctx;
    CUresult r = standin_need_ctx(&ctx);
    if (r != CUDA_SUCCESS) return LEAVE(r);
    return LEAVE(standin_check_stream(hStream, ctx));
}

CUresult cuStreamDestroy_v2(CUstream hStream) {
    ENTER;
    NOTE("stream=%p", (void*)hStream);
    NEED_INIT;
    if (!vec_has(&g_standin.streams, hStream)) return LEAVE(CUDA_ERROR_INVALID_HANDLE);
    vec_remove(&g_standin.streams, hStream);
    free(hStream);
    return LEAVE(CUDA_SUCCESS);
}
