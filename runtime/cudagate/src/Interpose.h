// What the exported entry points share with the dlsym and cuGetProcAddress paths (ProcAddress.cpp): the gate's
// wrapper for a driver symbol name, and the wrapper to hand out in place of a real entry point.
#pragma once

#include "Real.h"

namespace omega::cudagate {

// The gate's wrapper for the exported driver symbol `name` ("cuMemAlloc_v2", ...), or null when it wraps none.
void* wrapperFor(const char* name);

// What cuGetProcAddress hands out for `symbol` when the real driver answered `p`: the gate's wrapper of the real
// entry point `p` is (found by address, so the driver's own choice of version and stream semantics stands); else,
// for a symbol the gate wraps, the wrapper its version and flags select (cudaTypedefs.h's versions); else, for a
// gated symbol it cannot place, refusedEntryPoint; else `p` unchanged.
void* substituteEntryPoint(const Real& real, const char* symbol, void* p, int cudaVersion, cuuint64_t flags);

// Refuses, whatever it is called with (Interpose.cpp).
CUresult refusedEntryPoint();

}  // namespace omega::cudagate
