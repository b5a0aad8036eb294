// Opening the real driver (Real.h).
#include "Real.h"

#include <dlfcn.h>

#include <atomic>

namespace omega::cudagate {

DlsymFn realDlsym() {
    // The next dlsym after this object in the search order: the C library's (or the next interposer's). glibc
    // 2.34 moved dlsym into libc with a new version; older ones have only the original version.
    static std::atomic<DlsymFn> cached{nullptr};
    DlsymFn f = cached.load(std::memory_order_acquire);
    if (f != nullptr) return f;
    void* p = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
#if defined(__x86_64__)
    if (p == nullptr) p = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
#elif defined(__aarch64__)
    if (p == nullptr) p = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.17");
#endif
    f = reinterpret_cast<DlsymFn>(p);
    cached.store(f, std::memory_order_release);
    return f;
}

void openDriver(const std::string& path, Real& out) {
    const char* file = path.empty() ? "libcuda.so.1" : path.c_str();
    void* handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = dlerror();
        out.error = std::string("cannot open the CUDA driver ") + file + ": " + (why ? why : "unknown error");
        return;
    }
    const DlsymFn lookup = realDlsym();
    if (lookup == nullptr) {
        out.error = "cannot find the C library's dlsym";
        return;
    }
#define OMEGA_CUDAGATE_RESOLVE(name) out.name = reinterpret_cast<decltype(out.name)>(lookup(handle, #name));
    OMEGA_CUDAGATE_WRAPPED(OMEGA_CUDAGATE_RESOLVE)
    OMEGA_CUDAGATE_CALLED(OMEGA_CUDAGATE_RESOLVE)
#undef OMEGA_CUDAGATE_RESOLVE
    out.loaded = true;
}

}  // namespace omega::cudagate
