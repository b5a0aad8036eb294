/* Driver entry points the stand-in implements beyond Driver.h (the gate's subset): real libcuda.so.1 exports them
 * too, with these signatures (cuda.h's CUuuid is 16 bytes, passed by pointer). The test programs use a few of
 * them; the gate does not interpose them. */
#ifndef OMEGA_STANDIN_EXTRA_H
#define OMEGA_STANDIN_EXTRA_H

#include "omega/cudagate/Driver.h"

#ifdef __cplusplus
extern "C" {
#endif

CUresult cuGetExportTable(const void** ppExportTable, const void* pExportTableId);
CUresult cuDeviceGetDefaultMemPool(CUmemoryPool* pool, CUdevice dev);
CUresult cuCtxPushCurrent_v2(CUcontext ctx);
CUresult cuCtxPopCurrent_v2(CUcontext* pctx);
CUresult cuModuleGetFunctionCount(unsigned int* count, CUmodule mod);
CUresult cuLibraryGetKernelCount(unsigned int* count, CUlibrary lib);
/* The CUDA 10.0 graph entry point: CUDA_KERNEL_NODE_PARAMS without `kern` and `ctx`. */
CUresult cuGraphAddKernelNode(CUgraphNode* phGraphNode, CUgraph hGraph, const CUgraphNode* dependencies,
                              size_t numDependencies, const CUDA_KERNEL_NODE_PARAMS_v1* nodeParams);

/* Changes a kernel node of a graph (not of the graphs already instantiated from it). */
CUresult cuGraphKernelNodeSetParams(CUgraphNode hNode, const CUDA_KERNEL_NODE_PARAMS_v1* nodeParams);
CUresult cuGraphKernelNodeSetParams_v2(CUgraphNode hNode, const CUDA_KERNEL_NODE_PARAMS* nodeParams);

/* cuda.h's layouts of structures Driver.h leaves opaque (the stand-in reads them). */
struct CUmemAllocationProp_st {
    int type; /* CU_MEM_ALLOCATION_TYPE_PINNED = 1 */
    int requestedHandleTypes;
    struct {
        int type; /* CU_MEM_LOCATION_TYPE_DEVICE = 1 */
        int id;
    } location;
    void* win32HandleMetaData;
    struct {
        unsigned char compressionType;
        unsigned char gpuDirectRDMACapable;
        unsigned short usage;
        unsigned char reserved[4];
    } allocFlags;
};

struct CUDA_LAUNCH_PARAMS_st {
    CUfunction function;
    unsigned int gridDimX;
    unsigned int gridDimY;
    unsigned int gridDimZ;
    unsigned int blockDimX;
    unsigned int blockDimY;
    unsigned int blockDimZ;
    unsigned int sharedMemBytes;
    CUstream hStream;
    void** kernelParams;
};

struct CUgraphExecUpdateResultInfo_st {
    CUgraphExecUpdateResult result;
    CUgraphNode errorNode;
    CUgraphNode errorFromNode;
};

#define STANDIN_STREAM_LEGACY ((CUstream)0x1)
#define STANDIN_STREAM_PER_THREAD ((CUstream)0x2)
#define STANDIN_LAUNCH_PARAM_END ((void*)0x00)
#define STANDIN_LAUNCH_PARAM_BUFFER_POINTER ((void*)0x01)
#define STANDIN_LAUNCH_PARAM_BUFFER_SIZE ((void*)0x02)

#ifdef __cplusplus
}
#endif

#endif
