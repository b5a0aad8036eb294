// The real driver: the entry points the gate forwards to or calls itself, found with the real dlsym in the library
// OMEGA_CUDA_DRIVER names (default libcuda.so.1), opened RTLD_LOCAL so that its symbols never interpose anything.
#pragma once

#include "omega/cudagate/Driver.h"

#include <string>

// Every entry point the gate exports a wrapper for (Interpose.cpp), with the real symbol's name.
#define OMEGA_CUDAGATE_WRAPPED(X)           \
    X(cuLaunchKernel)                       \
    X(cuLaunchKernel_ptsz)                  \
    X(cuLaunchKernelEx)                     \
    X(cuLaunchKernelEx_ptsz)                \
    X(cuLaunchCooperativeKernel)            \
    X(cuLaunchCooperativeKernel_ptsz)       \
    X(cuLaunch)                             \
    X(cuLaunchGrid)                         \
    X(cuLaunchGridAsync)                    \
    X(cuLaunchCooperativeKernelMultiDevice) \
    X(cuGraphInstantiate)                   \
    X(cuGraphInstantiate_v2)                \
    X(cuGraphInstantiateWithFlags)          \
    X(cuGraphInstantiateWithParams)         \
    X(cuGraphInstantiateWithParams_ptsz)    \
    X(cuGraphExecKernelNodeSetParams)       \
    X(cuGraphExecKernelNodeSetParams_v2)    \
    X(cuGraphExecChildGraphNodeSetParams)   \
    X(cuGraphExecNodeSetParams)             \
    X(cuGraphExecUpdate)                    \
    X(cuGraphExecUpdate_v2)                 \
    X(cuGraphExecDestroy)                   \
    X(cuGraphLaunch)                        \
    X(cuGraphLaunch_ptsz)                   \
    X(cuModuleLoad)                         \
    X(cuModuleLoadData)                     \
    X(cuModuleLoadDataEx)                   \
    X(cuModuleLoadFatBinary)                \
    X(cuModuleUnload)                       \
    X(cuModuleGetFunction)                  \
    X(cuModuleEnumerateFunctions)           \
    X(cuLibraryLoadData)                    \
    X(cuLibraryLoadFromFile)                \
    X(cuLibraryUnload)                      \
    X(cuLibraryGetKernel)                   \
    X(cuLibraryGetModule)                   \
    X(cuLibraryEnumerateKernels)            \
    X(cuKernelGetFunction)                  \
    X(cuMemAlloc_v2)                        \
    X(cuMemAllocPitch_v2)                   \
    X(cuMemAllocManaged)                    \
    X(cuMemAllocAsync)                      \
    X(cuMemAllocAsync_ptsz)                 \
    X(cuMemAllocFromPoolAsync)              \
    X(cuMemAllocFromPoolAsync_ptsz)         \
    X(cuMemFree_v2)                         \
    X(cuMemFreeAsync)                       \
    X(cuMemFreeAsync_ptsz)                  \
    X(cuMemAlloc)                           \
    X(cuMemAllocPitch)                      \
    X(cuMemFree)                            \
    X(cuMemCreate)                          \
    X(cuMemRelease)                         \
    X(cuGetProcAddress)                     \
    X(cuGetProcAddress_v2)

// Entry points the gate only calls: the device of the current context, graph walking, kernel names.
#define OMEGA_CUDAGATE_CALLED(X)     \
    X(cuCtxGetDevice)                \
    X(cuGraphGetNodes)               \
    X(cuGraphNodeGetType)            \
    X(cuGraphKernelNodeGetParams_v2) \
    X(cuGraphChildGraphNodeGetGraph) \
    X(cuFuncGetName)                 \
    X(cuKernelGetName)

namespace omega::cudagate {

// Null members are entry points the driver does not have; calling through them is the caller's bug, so every use
// checks first (a wrapper answers CUDA_ERROR_NOT_FOUND, or CUDA_ERROR_NOT_INITIALIZED without a driver).
struct Real {
#define OMEGA_CUDAGATE_MEMBER(name) decltype(&::name) name = nullptr;
    OMEGA_CUDAGATE_WRAPPED(OMEGA_CUDAGATE_MEMBER)
    OMEGA_CUDAGATE_CALLED(OMEGA_CUDAGATE_MEMBER)
#undef OMEGA_CUDAGATE_MEMBER
    bool loaded = false;  // the driver library was opened
    std::string error;    // why not
};

// The real dlsym of the C library (the gate defines its own, Dlsym.cpp).
using DlsymFn = void* (*)(void*, const char*) noexcept;
DlsymFn realDlsym();

// Opens `path` ("" = libcuda.so.1) and resolves every entry point. Never fails hard: a missing library leaves
// `loaded` false with `error` set, a missing symbol leaves its member null.
void openDriver(const std::string& path, Real& out);

}  // namespace omega::cudagate
