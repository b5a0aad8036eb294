/* The programs' common start (Common.h): kept apart from Common.c so that a program that reaches the driver only
 * through dlsym and cuGetProcAddress (resolve.c) does not link against libcuda.so.1. */
#include "Common.h"

CUcontext setup(void) {
    need("cuInit", cuInit(0));
    CUdevice dev;
    need("cuDeviceGet", cuDeviceGet(&dev, 0));
    CUcontext ctx;
    need("cuDevicePrimaryCtxRetain", cuDevicePrimaryCtxRetain(&ctx, dev));
    need("cuCtxSetCurrent", cuCtxSetCurrent(ctx));
    return ctx;
}
