// The kernels of the CUDA gate's tests, for the driver API (built to a cubin and a fatbin with nvcc): the end-to-end
// test loads them into the stand-in driver, scripts/gpu-check.sh onto a real GPU. extern "C" keeps the names the
// policies list. With -DOMEGA_IMPOSTOR the same names get other code: a module with another hash.
extern "C" __global__ void omega_allowed(int* out) {
#ifdef OMEGA_IMPOSTOR
    if (out) out[threadIdx.x] = -1;
#else
    if (out) out[0] = 1;
#endif
}

extern "C" __global__ void omega_other(int* out) {
    if (out) out[0] = 2;
}

extern "C" __global__ void omega_denied(int* out) {
    if (out) out[0] = 3;
}

// The launch-throughput benchmark's kernel: launching it costs what any launch costs, running it nothing.
extern "C" __global__ void omega_empty() {}
