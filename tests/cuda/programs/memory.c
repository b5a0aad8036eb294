/* Device memory under the gate, against a policy that lets the agent hold at most 64 MiB: allocations within the
 * quota succeed, one beyond the running total is denied, a free makes room again, a failed free does not, and every
 * allocation entry point counts. Usage: cuda_memory [oom] */
#include <stdio.h>
#include <string.h>

#include "Common.h"

#define MiB ((size_t)1 << 20)

/* With a driver that has less memory than the quota (OMEGA_CUDA_STANDIN_MEM_BYTES=40 MiB): an allocation the driver
 * refuses must not count against the quota. */
static int oom(void) {
    CUdeviceptr a = 0, b = 0;
    report("oom alloc 48 MiB", cuMemAlloc_v2(&a, 48 * MiB));
    if (report("oom alloc 32 MiB", cuMemAlloc_v2(&b, 32 * MiB)) == CUDA_SUCCESS) report("oom free", cuMemFree_v2(b));
    return 0;
}

int main(int argc, char** argv) {
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "oom") != 0)) {
        fprintf(stderr, "usage: cuda_memory [oom]\n");
        return 2;
    }
    setup();
    if (argc == 2) return oom();
    CUdeviceptr a = 0, b = 0, c = 0, d = 0;
    report("alloc 16 MiB", cuMemAlloc_v2(&a, 16 * MiB));
    report("alloc 32 MiB", cuMemAlloc_v2(&b, 32 * MiB));
    report("alloc 32 MiB more", cuMemAlloc_v2(&c, 32 * MiB));
    report("free 16 MiB", cuMemFree_v2(a));
    report("alloc 32 MiB after free", cuMemAlloc_v2(&c, 32 * MiB));
    report("alloc 1 byte at the quota", cuMemAlloc_v2(&d, 1));
    /* A free the driver refuses (already freed) must not give the quota back. */
    report("free 16 MiB again", cuMemFree_v2(a));
    report("alloc 1 byte after a refused free", cuMemAlloc_v2(&d, 1));
    /* Real memory: a round trip through the allocation. */
    char in[] = "omega", out[sizeof in] = {0};
    need("cuMemcpyHtoD", cuMemcpyHtoD_v2(b, in, sizeof in));
    need("cuMemcpyDtoH", cuMemcpyDtoH_v2(out, b, sizeof in));
    printf("round trip: %s\n", strcmp(in, out) == 0 ? "ok" : "corrupt");
    report("free b", cuMemFree_v2(b));
    report("free c", cuMemFree_v2(c));

    /* Every allocation entry point, 44 MiB together (the gate refuses the 32-bit allocator of CUDA before 3.2
     * outright), then 24 MiB more by each, which would pass the quota. */
    CUstream s;
    need("cuStreamCreate", cuStreamCreate(&s, 0));
    CUmemoryPool pool;
    need("cuDeviceGetDefaultMemPool", cuDeviceGetDefaultMemPool(&pool, 0));
    CUmemAllocationProp prop;
    memset(&prop, 0, sizeof prop);
    prop.type = 1;          /* CU_MEM_ALLOCATION_TYPE_PINNED */
    prop.location.type = 1; /* CU_MEM_LOCATION_TYPE_DEVICE */
    prop.location.id = 0;
    CUdeviceptr pitched = 0, managed = 0, async = 0, async_ptsz = 0, pooled = 0, extra = 0;
    CUdeviceptr_v1 legacy = 0, legacy_extra = 0;
    CUmemGenericAllocationHandle handle = 0, handle_extra = 0;
    size_t pitch = 0;
    CUresult rp = report("within pitch", cuMemAllocPitch_v2(&pitched, &pitch, 4096, 4 * MiB / 4096, 4));
    CUresult rm = report("within managed", cuMemAllocManaged(&managed, 8 * MiB, CU_MEM_ATTACH_GLOBAL));
    CUresult ra = report("within async", cuMemAllocAsync(&async, 8 * MiB, s));
    CUresult rt = report("within async_ptsz", cuMemAllocAsync_ptsz(&async_ptsz, 8 * MiB, s));
    CUresult rf = report("within pool", cuMemAllocFromPoolAsync(&pooled, 8 * MiB, pool, s));
    CUresult rl = report("within legacy32", cuMemAlloc(&legacy, (unsigned)(8 * MiB)));
    CUresult rc = report("within vmm", cuMemCreate(&handle, 8 * MiB, &prop, 0));
    size_t freeb = 0, total = 0;
    need("cuMemGetInfo", cuMemGetInfo_v2(&freeb, &total));
    printf("held by the process: %zu MiB\n", (total - freeb) / MiB);
    report("beyond pitch", cuMemAllocPitch_v2(&extra, &pitch, 4096, 24 * MiB / 4096, 4));
    report("beyond managed", cuMemAllocManaged(&extra, 24 * MiB, CU_MEM_ATTACH_GLOBAL));
    report("beyond async", cuMemAllocAsync(&extra, 24 * MiB, s));
    report("beyond async_ptsz", cuMemAllocAsync_ptsz(&extra, 24 * MiB, s));
    report("beyond pool", cuMemAllocFromPoolAsync(&extra, 24 * MiB, pool, s));
    report("beyond legacy32", cuMemAlloc(&legacy_extra, (unsigned)(24 * MiB)));
    report("beyond vmm", cuMemCreate(&handle_extra, 24 * MiB, &prop, 0));
    if (rp == CUDA_SUCCESS) report("free pitch", cuMemFree_v2(pitched));
    if (rm == CUDA_SUCCESS) report("free managed", cuMemFree_v2(managed));
    if (ra == CUDA_SUCCESS) report("free async", cuMemFreeAsync(async, s));
    if (rt == CUDA_SUCCESS) report("free async_ptsz", cuMemFreeAsync_ptsz(async_ptsz, s));
    if (rf == CUDA_SUCCESS) report("free pool", cuMemFreeAsync(pooled, s));
    if (rl == CUDA_SUCCESS) report("free legacy32", cuMemFree(legacy));
    if (rc == CUDA_SUCCESS) report("free vmm", cuMemRelease(handle));
    need("cuStreamSynchronize", cuStreamSynchronize(s));
    /* Everything was given back: the whole quota is available in one piece. */
    CUdeviceptr all = 0;
    if (report("alloc the whole 64 MiB", cuMemAlloc_v2(&all, 64 * MiB)) == CUDA_SUCCESS)
        report("free the whole 64 MiB", cuMemFree_v2(all));
    need("cuStreamDestroy", cuStreamDestroy_v2(s));
    return 0;
}
