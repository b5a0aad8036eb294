// omega/cudagate/Driver.h is ABI-identical to NVIDIA's cuda.h: sizes, offsets, enum values and function shapes.
// Built only when cuda.h was found at configure time; every check is a static_assert, the test binary just runs.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <cuda.h>
#include <cudaTypedefs.h>

// cuda.h renames these with macros (cuMemAlloc is cuMemAlloc_v2, ...); Driver.h declares the exported names as they
// are, so the macros must not touch it, and `::name` below means the symbol of that name.
#undef cuDeviceTotalMem
#undef cuCtxCreate
#undef cuCtxDestroy
#undef cuMemGetInfo
#undef cuMemAlloc
#undef cuMemAllocPitch
#undef cuMemFree
#undef cuMemcpyHtoD
#undef cuMemcpyDtoH
#undef cuStreamDestroy
#undef cuDevicePrimaryCtxRelease
#undef cuGraphInstantiate
#undef cuGraphExecUpdate
#undef cuGetProcAddress
#undef cuGraphAddKernelNode
#undef cuGraphKernelNodeGetParams
#undef cuGraphExecKernelNodeSetParams

namespace ours {
#define OMEGA_CUDAGATE_DRIVER_CXX_LINKAGE
#include "omega/cudagate/Driver.h"
}  // namespace ours

namespace {

#define SAME_SIZE(T) static_assert(sizeof(ours::T) == sizeof(::T) && alignof(ours::T) == alignof(::T), #T)
#define SAME_OFFSET(T, m) static_assert(offsetof(ours::T, m) == offsetof(::T, m), #T "." #m)
#define SAME_VALUE(e) static_assert(static_cast<long long>(ours::e) == static_cast<long long>(::e), #e)

// Scalars and handles.
SAME_SIZE(CUdeviceptr);
SAME_SIZE(CUdevice);
SAME_SIZE(CUmemGenericAllocationHandle);
SAME_SIZE(CUresult);
SAME_SIZE(CUjit_option);
SAME_SIZE(CUgraphNodeType);
SAME_SIZE(CUlaunchAttributeID);
SAME_SIZE(CUdriverProcAddressQueryResult);
static_assert(std::is_unsigned_v<ours::CUdeviceptr> && std::is_unsigned_v<ours::CUdeviceptr_v1>);
static_assert(sizeof(ours::CUdeviceptr_v1) == 4);  // cuda.h declares it only in its internal build mode

// Structures.
SAME_SIZE(CUlaunchAttributeValue);
SAME_SIZE(CUlaunchAttribute);
SAME_OFFSET(CUlaunchAttribute, id);
SAME_OFFSET(CUlaunchAttribute, value);
static_assert(offsetof(ours::CUlaunchAttributeValue, cooperative) == offsetof(::CUlaunchAttributeValue, cooperative));
static_assert(offsetof(ours::CUlaunchAttributeValue, clusterDim.z) == offsetof(::CUlaunchAttributeValue, clusterDim.z));
static_assert(offsetof(ours::CUlaunchAttributeValue, programmaticEvent.triggerAtBlockStart) ==
              offsetof(::CUlaunchAttributeValue, programmaticEvent.triggerAtBlockStart));
static_assert(offsetof(ours::CUlaunchAttributeValue, priority) == offsetof(::CUlaunchAttributeValue, priority));

SAME_SIZE(CUlaunchConfig);
SAME_OFFSET(CUlaunchConfig, gridDimX);
SAME_OFFSET(CUlaunchConfig, gridDimY);
SAME_OFFSET(CUlaunchConfig, gridDimZ);
SAME_OFFSET(CUlaunchConfig, blockDimX);
SAME_OFFSET(CUlaunchConfig, blockDimY);
SAME_OFFSET(CUlaunchConfig, blockDimZ);
SAME_OFFSET(CUlaunchConfig, sharedMemBytes);
SAME_OFFSET(CUlaunchConfig, hStream);
SAME_OFFSET(CUlaunchConfig, attrs);
SAME_OFFSET(CUlaunchConfig, numAttrs);

#define KERNEL_PARAMS(T)            \
    SAME_SIZE(T);                   \
    SAME_OFFSET(T, func);           \
    SAME_OFFSET(T, gridDimX);       \
    SAME_OFFSET(T, gridDimY);       \
    SAME_OFFSET(T, gridDimZ);       \
    SAME_OFFSET(T, blockDimX);      \
    SAME_OFFSET(T, blockDimY);      \
    SAME_OFFSET(T, blockDimZ);      \
    SAME_OFFSET(T, sharedMemBytes); \
    SAME_OFFSET(T, kernelParams);   \
    SAME_OFFSET(T, extra)
KERNEL_PARAMS(CUDA_KERNEL_NODE_PARAMS_v1);
KERNEL_PARAMS(CUDA_KERNEL_NODE_PARAMS_v2);
KERNEL_PARAMS(CUDA_KERNEL_NODE_PARAMS_v3);
KERNEL_PARAMS(CUDA_KERNEL_NODE_PARAMS);
SAME_OFFSET(CUDA_KERNEL_NODE_PARAMS_v2, kern);
SAME_OFFSET(CUDA_KERNEL_NODE_PARAMS_v2, ctx);
SAME_OFFSET(CUDA_KERNEL_NODE_PARAMS_v3, kern);
SAME_OFFSET(CUDA_KERNEL_NODE_PARAMS_v3, ctx);

SAME_SIZE(CUDA_CHILD_GRAPH_NODE_PARAMS);
SAME_OFFSET(CUDA_CHILD_GRAPH_NODE_PARAMS, graph);
SAME_OFFSET(CUDA_CHILD_GRAPH_NODE_PARAMS, ownership);

SAME_SIZE(CUgraphNodeParams);
SAME_OFFSET(CUgraphNodeParams, type);
SAME_OFFSET(CUgraphNodeParams, reserved2);
// cuda.h's union is anonymous, ours is named `u`.
static_assert(offsetof(ours::CUgraphNodeParams, u.kernel) == offsetof(::CUgraphNodeParams, kernel));
static_assert(offsetof(ours::CUgraphNodeParams, u.graph) == offsetof(::CUgraphNodeParams, graph));

SAME_SIZE(CUDA_GRAPH_INSTANTIATE_PARAMS);
SAME_OFFSET(CUDA_GRAPH_INSTANTIATE_PARAMS, flags);
SAME_OFFSET(CUDA_GRAPH_INSTANTIATE_PARAMS, hUploadStream);
SAME_OFFSET(CUDA_GRAPH_INSTANTIATE_PARAMS, hErrNode_out);
SAME_OFFSET(CUDA_GRAPH_INSTANTIATE_PARAMS, result_out);

// Enum values.
SAME_VALUE(CUDA_SUCCESS);
SAME_VALUE(CUDA_ERROR_INVALID_VALUE);
SAME_VALUE(CUDA_ERROR_OUT_OF_MEMORY);
SAME_VALUE(CUDA_ERROR_NOT_INITIALIZED);
SAME_VALUE(CUDA_ERROR_DEINITIALIZED);
SAME_VALUE(CUDA_ERROR_STUB_LIBRARY);
SAME_VALUE(CUDA_ERROR_NO_DEVICE);
SAME_VALUE(CUDA_ERROR_INVALID_DEVICE);
SAME_VALUE(CUDA_ERROR_INVALID_IMAGE);
SAME_VALUE(CUDA_ERROR_INVALID_CONTEXT);
SAME_VALUE(CUDA_ERROR_NO_BINARY_FOR_GPU);
SAME_VALUE(CUDA_ERROR_INVALID_PTX);
SAME_VALUE(CUDA_ERROR_INVALID_SOURCE);
SAME_VALUE(CUDA_ERROR_FILE_NOT_FOUND);
SAME_VALUE(CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND);
SAME_VALUE(CUDA_ERROR_SHARED_OBJECT_INIT_FAILED);
SAME_VALUE(CUDA_ERROR_OPERATING_SYSTEM);
SAME_VALUE(CUDA_ERROR_INVALID_HANDLE);
SAME_VALUE(CUDA_ERROR_ILLEGAL_STATE);
SAME_VALUE(CUDA_ERROR_NOT_FOUND);
SAME_VALUE(CUDA_ERROR_NOT_READY);
SAME_VALUE(CUDA_ERROR_ILLEGAL_ADDRESS);
SAME_VALUE(CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES);
SAME_VALUE(CUDA_ERROR_LAUNCH_FAILED);
SAME_VALUE(CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE);
SAME_VALUE(CUDA_ERROR_NOT_PERMITTED);
SAME_VALUE(CUDA_ERROR_NOT_SUPPORTED);
SAME_VALUE(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
SAME_VALUE(CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE);
SAME_VALUE(CUDA_ERROR_UNKNOWN);
static_assert(ours::CUDA_ERROR_NOT_PERMITTED == 800);

SAME_VALUE(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
SAME_VALUE(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK);
SAME_VALUE(CU_DEVICE_ATTRIBUTE_WARP_SIZE);
SAME_VALUE(CU_DEVICE_ATTRIBUTE_CLOCK_RATE);
SAME_VALUE(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
SAME_VALUE(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
SAME_VALUE(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
SAME_VALUE(CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY);
SAME_VALUE(CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS);
SAME_VALUE(CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH);
SAME_VALUE(CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED);

SAME_VALUE(CU_JIT_MAX_REGISTERS);
SAME_VALUE(CU_JIT_THREADS_PER_BLOCK);
SAME_VALUE(CU_JIT_WALL_TIME);
SAME_VALUE(CU_JIT_INFO_LOG_BUFFER);
SAME_VALUE(CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES);
SAME_VALUE(CU_JIT_ERROR_LOG_BUFFER);
SAME_VALUE(CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
SAME_VALUE(CU_JIT_OPTIMIZATION_LEVEL);
SAME_VALUE(CU_JIT_TARGET_FROM_CUCONTEXT);
SAME_VALUE(CU_JIT_TARGET);
SAME_VALUE(CU_JIT_FALLBACK_STRATEGY);
SAME_VALUE(CU_JIT_GENERATE_DEBUG_INFO);
SAME_VALUE(CU_JIT_LOG_VERBOSE);
SAME_VALUE(CU_JIT_GENERATE_LINE_INFO);
SAME_VALUE(CU_JIT_CACHE_MODE);

SAME_VALUE(CU_LIBRARY_HOST_UNIVERSAL_FUNCTION_AND_DATA_TABLE);
SAME_VALUE(CU_LIBRARY_BINARY_IS_PRESERVED);

SAME_VALUE(CU_GRAPH_NODE_TYPE_KERNEL);
SAME_VALUE(CU_GRAPH_NODE_TYPE_MEMCPY);
SAME_VALUE(CU_GRAPH_NODE_TYPE_MEMSET);
SAME_VALUE(CU_GRAPH_NODE_TYPE_HOST);
SAME_VALUE(CU_GRAPH_NODE_TYPE_GRAPH);
SAME_VALUE(CU_GRAPH_NODE_TYPE_EMPTY);
SAME_VALUE(CU_GRAPH_NODE_TYPE_WAIT_EVENT);
SAME_VALUE(CU_GRAPH_NODE_TYPE_EVENT_RECORD);
SAME_VALUE(CU_GRAPH_NODE_TYPE_EXT_SEMAS_SIGNAL);
SAME_VALUE(CU_GRAPH_NODE_TYPE_EXT_SEMAS_WAIT);
SAME_VALUE(CU_GRAPH_NODE_TYPE_MEM_ALLOC);
SAME_VALUE(CU_GRAPH_NODE_TYPE_MEM_FREE);
SAME_VALUE(CU_GRAPH_NODE_TYPE_BATCH_MEM_OP);
SAME_VALUE(CU_GRAPH_NODE_TYPE_CONDITIONAL);

SAME_VALUE(CUDA_GRAPH_INSTANTIATE_SUCCESS);
SAME_VALUE(CUDA_GRAPH_INSTANTIATE_ERROR);
SAME_VALUE(CUDA_GRAPH_INSTANTIATE_INVALID_STRUCTURE);
SAME_VALUE(CUDA_GRAPH_INSTANTIATE_NODE_OPERATION_NOT_SUPPORTED);
SAME_VALUE(CUDA_GRAPH_INSTANTIATE_MULTIPLE_CTXS_NOT_SUPPORTED);
SAME_VALUE(CUDA_GRAPH_INSTANTIATE_CONDITIONAL_HANDLE_UNUSED);
SAME_VALUE(CUDA_GRAPH_INSTANTIATE_FLAG_AUTO_FREE_ON_LAUNCH);
SAME_VALUE(CUDA_GRAPH_INSTANTIATE_FLAG_UPLOAD);
SAME_VALUE(CUDA_GRAPH_INSTANTIATE_FLAG_DEVICE_LAUNCH);
SAME_VALUE(CUDA_GRAPH_INSTANTIATE_FLAG_USE_NODE_PRIORITY);
SAME_VALUE(CU_GRAPH_EXEC_UPDATE_SUCCESS);
SAME_VALUE(CU_GRAPH_EXEC_UPDATE_ERROR);
SAME_VALUE(CU_GRAPH_CHILD_GRAPH_OWNERSHIP_CLONE);
SAME_VALUE(CU_GRAPH_CHILD_GRAPH_OWNERSHIP_MOVE);

SAME_VALUE(CU_LAUNCH_ATTRIBUTE_IGNORE);
SAME_VALUE(CU_LAUNCH_ATTRIBUTE_ACCESS_POLICY_WINDOW);
SAME_VALUE(CU_LAUNCH_ATTRIBUTE_COOPERATIVE);
SAME_VALUE(CU_LAUNCH_ATTRIBUTE_SYNCHRONIZATION_POLICY);
SAME_VALUE(CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION);
SAME_VALUE(CU_LAUNCH_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE);
SAME_VALUE(CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION);
SAME_VALUE(CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_EVENT);
SAME_VALUE(CU_LAUNCH_ATTRIBUTE_PRIORITY);

SAME_VALUE(CU_GET_PROC_ADDRESS_DEFAULT);
SAME_VALUE(CU_GET_PROC_ADDRESS_LEGACY_STREAM);
SAME_VALUE(CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM);
SAME_VALUE(CU_GET_PROC_ADDRESS_SUCCESS);
SAME_VALUE(CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
SAME_VALUE(CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT);

SAME_VALUE(CU_STREAM_DEFAULT);
SAME_VALUE(CU_STREAM_NON_BLOCKING);
SAME_VALUE(CU_MEM_ATTACH_GLOBAL);
SAME_VALUE(CU_MEM_ATTACH_HOST);
SAME_VALUE(CU_MEM_ATTACH_SINGLE);

// Function shapes: the same number of parameters, each of the same size, pointer-ness and constness, pointing at
// objects of the same size where both are complete. The two sets of types are distinct C++ types, so this is the
// closest a compiler can compare them.
template <typename T>
concept Complete = requires {
    sizeof(T);
};

template <typename A, typename B>
constexpr bool sameParam() {
    if constexpr (std::is_pointer_v<A> != std::is_pointer_v<B>) {
        return false;
    } else if constexpr (std::is_pointer_v<A>) {
        using PA = std::remove_pointer_t<A>;
        using PB = std::remove_pointer_t<B>;
        if constexpr (std::is_const_v<PA> != std::is_const_v<PB>) return false;
        if constexpr (Complete<PA> && Complete<PB> && !std::is_void_v<PA> && !std::is_void_v<PB>)
            return sizeof(PA) == sizeof(PB);
        return std::is_void_v<PA> == std::is_void_v<PB>;
    } else {
        return sizeof(A) == sizeof(B) && std::is_integral_v<A> == std::is_integral_v<B>;
    }
}

template <typename F, typename G>
struct SameShape : std::false_type {};
template <typename RF, typename... F, typename RG, typename... G>
struct SameShape<RF(F...), RG(G...)>
    : std::bool_constant<sizeof...(F) == sizeof...(G) && sizeof(RF) == sizeof(RG) && (sameParam<F, G>() && ...)> {};

// `name` is the exported symbol; cuda.h's macros must not rename the side that reads ours.
#define SAME_FUNCTION(name) static_assert(SameShape<decltype(ours::name), decltype(::name)>::value, #name)

SAME_FUNCTION(cuInit);
SAME_FUNCTION(cuDriverGetVersion);
SAME_FUNCTION(cuGetErrorName);
SAME_FUNCTION(cuGetErrorString);
SAME_FUNCTION(cuDeviceGet);
SAME_FUNCTION(cuDeviceGetCount);
SAME_FUNCTION(cuDeviceGetName);
SAME_FUNCTION(cuDeviceGetAttribute);
SAME_FUNCTION(cuDeviceTotalMem_v2);
SAME_FUNCTION(cuCtxCreate_v4);
SAME_FUNCTION(cuCtxDestroy_v2);
SAME_FUNCTION(cuCtxGetCurrent);
SAME_FUNCTION(cuCtxSetCurrent);
SAME_FUNCTION(cuCtxGetDevice);
SAME_FUNCTION(cuCtxSynchronize);
SAME_FUNCTION(cuDevicePrimaryCtxRetain);
SAME_FUNCTION(cuDevicePrimaryCtxRelease_v2);
SAME_FUNCTION(cuGetProcAddress_v2);
SAME_FUNCTION(cuModuleLoad);
SAME_FUNCTION(cuModuleLoadData);
SAME_FUNCTION(cuModuleLoadDataEx);
SAME_FUNCTION(cuModuleLoadFatBinary);
SAME_FUNCTION(cuModuleUnload);
SAME_FUNCTION(cuModuleGetFunction);
SAME_FUNCTION(cuModuleEnumerateFunctions);
SAME_FUNCTION(cuFuncGetName);
SAME_FUNCTION(cuLibraryLoadData);
SAME_FUNCTION(cuLibraryLoadFromFile);
SAME_FUNCTION(cuLibraryUnload);
SAME_FUNCTION(cuLibraryGetKernel);
SAME_FUNCTION(cuLibraryGetModule);
SAME_FUNCTION(cuLibraryEnumerateKernels);
SAME_FUNCTION(cuKernelGetFunction);
SAME_FUNCTION(cuKernelGetName);
SAME_FUNCTION(cuLaunchKernel);
SAME_FUNCTION(cuLaunchKernelEx);
SAME_FUNCTION(cuLaunchCooperativeKernel);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
SAME_FUNCTION(cuLaunch);
SAME_FUNCTION(cuLaunchGrid);
SAME_FUNCTION(cuLaunchGridAsync);
SAME_FUNCTION(cuLaunchCooperativeKernelMultiDevice);
#pragma GCC diagnostic pop
SAME_FUNCTION(cuGraphCreate);
SAME_FUNCTION(cuGraphDestroy);
SAME_FUNCTION(cuGraphAddKernelNode_v2);
SAME_FUNCTION(cuGraphAddChildGraphNode);
SAME_FUNCTION(cuGraphGetNodes);
SAME_FUNCTION(cuGraphNodeGetType);
SAME_FUNCTION(cuGraphKernelNodeGetParams_v2);
SAME_FUNCTION(cuGraphChildGraphNodeGetGraph);
SAME_FUNCTION(cuGraphInstantiateWithFlags);
SAME_FUNCTION(cuGraphInstantiateWithParams);
SAME_FUNCTION(cuGraphExecKernelNodeSetParams_v2);
SAME_FUNCTION(cuGraphExecChildGraphNodeSetParams);
SAME_FUNCTION(cuGraphExecNodeSetParams);
SAME_FUNCTION(cuGraphExecUpdate_v2);
SAME_FUNCTION(cuGraphExecDestroy);
SAME_FUNCTION(cuGraphLaunch);
SAME_FUNCTION(cuStreamCreate);
SAME_FUNCTION(cuStreamSynchronize);
SAME_FUNCTION(cuStreamDestroy_v2);
SAME_FUNCTION(cuMemAlloc_v2);
SAME_FUNCTION(cuMemAllocPitch_v2);
SAME_FUNCTION(cuMemAllocManaged);
SAME_FUNCTION(cuMemAllocAsync);
SAME_FUNCTION(cuMemAllocFromPoolAsync);
SAME_FUNCTION(cuMemFree_v2);
SAME_FUNCTION(cuMemFreeAsync);
SAME_FUNCTION(cuMemCreate);
SAME_FUNCTION(cuMemRelease);
SAME_FUNCTION(cuMemGetInfo_v2);
SAME_FUNCTION(cuMemcpyHtoD_v2);
SAME_FUNCTION(cuMemcpyDtoH_v2);

// The _ptsz, pre-12.0 and 11.3 entry points have no prototype in cuda.h outside its internal build mode;
// cudaTypedefs.h gives their pointer types, named by the CUDA version that introduced them. (The pre-3.2 cuMemAlloc,
// cuMemAllocPitch, cuMemFree and the pre-11.4 cuGraphInstantiate(_v2) have typedefs only in that mode too.)
#define SAME_AS_PFN(name, pfn) \
    static_assert(SameShape<decltype(ours::name), std::remove_pointer_t<::pfn>>::value, #name)
SAME_AS_PFN(cuGetProcAddress, PFN_cuGetProcAddress_v11030);
SAME_AS_PFN(cuCtxCreate_v2, PFN_cuCtxCreate_v3020);
SAME_AS_PFN(cuLaunchKernel_ptsz, PFN_cuLaunchKernel_v7000_ptsz);
SAME_AS_PFN(cuLaunchKernelEx_ptsz, PFN_cuLaunchKernelEx_v11060_ptsz);
SAME_AS_PFN(cuLaunchCooperativeKernel_ptsz, PFN_cuLaunchCooperativeKernel_v9000_ptsz);
SAME_AS_PFN(cuGraphInstantiateWithParams_ptsz, PFN_cuGraphInstantiateWithParams_v12000_ptsz);
SAME_AS_PFN(cuGraphKernelNodeGetParams, PFN_cuGraphKernelNodeGetParams_v10000);
SAME_AS_PFN(cuGraphExecKernelNodeSetParams, PFN_cuGraphExecKernelNodeSetParams_v10010);
SAME_AS_PFN(cuGraphExecUpdate, PFN_cuGraphExecUpdate_v10020);
SAME_AS_PFN(cuGraphLaunch_ptsz, PFN_cuGraphLaunch_v10000_ptsz);
SAME_AS_PFN(cuMemAllocAsync_ptsz, PFN_cuMemAllocAsync_v11020_ptsz);
SAME_AS_PFN(cuMemAllocFromPoolAsync_ptsz, PFN_cuMemAllocFromPoolAsync_v11020_ptsz);
SAME_AS_PFN(cuMemFreeAsync_ptsz, PFN_cuMemFreeAsync_v11020_ptsz);

}  // namespace

int main() {
    return 0;
}
