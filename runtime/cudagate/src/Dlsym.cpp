// The gate's dlsym: a lookup of a driver symbol the gate wraps, in any library that has it (libcuda.so.1, opened
// by libcudart with dlopen), answers the gate's wrapper, so that dlopen + dlsym cannot step around LD_PRELOAD.
// Every other lookup is a tail call into the C library's dlsym: the caller's return address is then still the one
// dlsym sees, which RTLD_NEXT is relative to. This file is compiled with optimisation whatever the build type, so
// that the call stays a tail call.
#include "Interpose.h"

#include <dlfcn.h>

namespace {

// A lookup of a wrapped name: the wrapper, but only where the library looked in has the symbol (a wrapper is no
// answer for a library without it). Kept out of line so that dlsym's other path stays a plain tail call.
__attribute__((noinline)) void* gatedLookup(omega::cudagate::DlsymFn real, void* handle, const char* name,
                                            void* wrapper) noexcept {
    return real(handle, name) != nullptr ? wrapper : nullptr;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) void* dlsym(void* handle, const char* name) noexcept {
    const omega::cudagate::DlsymFn real = omega::cudagate::realDlsym();
    if (real == nullptr) return nullptr;
    // `name` is declared non-null (the C library's dlsym would fault on a null one as well).
    if (name[0] == 'c' && name[1] == 'u')
        if (void* wrapper = omega::cudagate::wrapperFor(name)) return gatedLookup(real, handle, name, wrapper);
    return real(handle, name);
}
