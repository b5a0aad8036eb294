/* Shared by the driver-API test programs (tests/cuda/check-cuda-gate.sh runs them): every result is printed as
 * one line `<label>: <code> <NAME>`, so the script can check it with grep -x. */
#ifndef OMEGA_CUDA_TEST_COMMON_H
#define OMEGA_CUDA_TEST_COMMON_H

#include <stddef.h>

#include "StandinExtra.h"
#include "omega/cudagate/Driver.h"

/* The name of a CUresult, from our own table: the program must not depend on the driver (or the gate in front of
 * it) to say what a result means. */
const char* result_name(CUresult r);

/* Prints `<label>: <code> <NAME>` and returns r. */
CUresult report(const char* label, CUresult r);

/* Prints a formatted label with the result. */
CUresult reportf(CUresult r, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

/* A whole file, with a NUL after its last byte; exits with status 2 if it cannot be read. */
unsigned char* read_file(const char* path, size_t* size);

/* cuInit, the primary context of device 0, made current; exits with status 2 on failure (Setup.c). */
CUcontext setup(void);

/* Exits with status 2 and a message when a call the test depends on (not the one under test) fails. */
void need(const char* what, CUresult r);

#endif
