// The wrappers the gate hands out through dlsym and cuGetProcAddress (Interpose.h).
#include "Interpose.h"

#include <array>
#include <cstring>
#include <string_view>

namespace omega::cudagate {

namespace {

template <typename F>
void* address(F f) {
    return reinterpret_cast<void*>(f);
}

#define OMEGA_CUDAGATE_COUNT(name) +1
constexpr std::size_t kWrapped = 0 OMEGA_CUDAGATE_WRAPPED(OMEGA_CUDAGATE_COUNT);
#undef OMEGA_CUDAGATE_COUNT

struct Wrapped {
    const char* name;
    void* wrapper;
};

// With -Bsymbolic-functions, &::name is the gate's own definition even where another object exports the name.
const std::array<Wrapped, kWrapped>& wrappedTable() {
    static const std::array<Wrapped, kWrapped> table{{
#define OMEGA_CUDAGATE_ENTRY(name) {#name, address(&::name)},
        OMEGA_CUDAGATE_WRAPPED(OMEGA_CUDAGATE_ENTRY)
#undef OMEGA_CUDAGATE_ENTRY
    }};
    return table;
}

// The real addresses, in the order of wrappedTable().
std::array<void*, kWrapped> realAddresses(const Real& r) {
    return {{
#define OMEGA_CUDAGATE_REAL_ADDRESS(name) address(r.name),
        OMEGA_CUDAGATE_WRAPPED(OMEGA_CUDAGATE_REAL_ADDRESS)
#undef OMEGA_CUDAGATE_REAL_ADDRESS
    }};
}

// The symbol a base name (what cuGetProcAddress is asked for) means at a CUDA version, per-thread default stream or
// not: the versions of cudaTypedefs.h (PFN_<name>_v<version>[_ptsz]). Names whose entry points share one signature
// across versions, and the versioned ones whose history is documented; anything else gated is refused.
struct Variant {
    const char* base;
    int version;
    bool perThread;
    const char* symbol;
};
constexpr Variant kVariants[] = {
    {"cuLaunchKernel", 4000, false, "cuLaunchKernel"},
    {"cuLaunchKernel", 7000, true, "cuLaunchKernel_ptsz"},
    {"cuLaunchKernelEx", 11060, false, "cuLaunchKernelEx"},
    {"cuLaunchKernelEx", 11060, true, "cuLaunchKernelEx_ptsz"},
    {"cuLaunchCooperativeKernel", 9000, false, "cuLaunchCooperativeKernel"},
    {"cuLaunchCooperativeKernel", 9000, true, "cuLaunchCooperativeKernel_ptsz"},
    {"cuLaunch", 2000, false, "cuLaunch"},
    {"cuLaunchGrid", 2000, false, "cuLaunchGrid"},
    {"cuLaunchGridAsync", 2000, false, "cuLaunchGridAsync"},
    {"cuLaunchCooperativeKernelMultiDevice", 9000, false, "cuLaunchCooperativeKernelMultiDevice"},
    {"cuGraphInstantiate", 10000, false, "cuGraphInstantiate"},
    {"cuGraphInstantiate", 11000, false, "cuGraphInstantiate_v2"},
    {"cuGraphInstantiateWithFlags", 11040, false, "cuGraphInstantiateWithFlags"},
    {"cuGraphInstantiateWithParams", 12000, false, "cuGraphInstantiateWithParams"},
    {"cuGraphInstantiateWithParams", 12000, true, "cuGraphInstantiateWithParams_ptsz"},
    {"cuGraphExecKernelNodeSetParams", 10010, false, "cuGraphExecKernelNodeSetParams"},
    {"cuGraphExecKernelNodeSetParams", 12000, false, "cuGraphExecKernelNodeSetParams_v2"},
    {"cuGraphExecUpdate", 10020, false, "cuGraphExecUpdate"},
    {"cuGraphExecUpdate", 12000, false, "cuGraphExecUpdate_v2"},
    {"cuGraphExecDestroy", 10000, false, "cuGraphExecDestroy"},
    {"cuGraphLaunch", 10000, false, "cuGraphLaunch"},
    {"cuGraphLaunch", 10000, true, "cuGraphLaunch_ptsz"},
    {"cuModuleLoad", 2000, false, "cuModuleLoad"},
    {"cuModuleLoadData", 2000, false, "cuModuleLoadData"},
    {"cuModuleLoadDataEx", 2010, false, "cuModuleLoadDataEx"},
    {"cuModuleLoadFatBinary", 2000, false, "cuModuleLoadFatBinary"},
    {"cuModuleUnload", 2000, false, "cuModuleUnload"},
    {"cuModuleGetFunction", 2000, false, "cuModuleGetFunction"},
    {"cuModuleEnumerateFunctions", 12040, false, "cuModuleEnumerateFunctions"},
    {"cuLibraryLoadData", 12000, false, "cuLibraryLoadData"},
    {"cuLibraryLoadFromFile", 12000, false, "cuLibraryLoadFromFile"},
    {"cuLibraryUnload", 12000, false, "cuLibraryUnload"},
    {"cuLibraryGetKernel", 12000, false, "cuLibraryGetKernel"},
    {"cuLibraryGetModule", 12000, false, "cuLibraryGetModule"},
    {"cuLibraryEnumerateKernels", 12040, false, "cuLibraryEnumerateKernels"},
    {"cuKernelGetFunction", 12000, false, "cuKernelGetFunction"},
    {"cuMemAlloc", 2000, false, "cuMemAlloc"},
    {"cuMemAlloc", 3020, false, "cuMemAlloc_v2"},
    {"cuMemAllocPitch", 2000, false, "cuMemAllocPitch"},
    {"cuMemAllocPitch", 3020, false, "cuMemAllocPitch_v2"},
    {"cuMemFree", 2000, false, "cuMemFree"},
    {"cuMemFree", 3020, false, "cuMemFree_v2"},
    {"cuMemAllocManaged", 6000, false, "cuMemAllocManaged"},
    {"cuMemAllocAsync", 11020, false, "cuMemAllocAsync"},
    {"cuMemAllocAsync", 11020, true, "cuMemAllocAsync_ptsz"},
    {"cuMemAllocFromPoolAsync", 11020, false, "cuMemAllocFromPoolAsync"},
    {"cuMemAllocFromPoolAsync", 11020, true, "cuMemAllocFromPoolAsync_ptsz"},
    {"cuMemFreeAsync", 11020, false, "cuMemFreeAsync"},
    {"cuMemFreeAsync", 11020, true, "cuMemFreeAsync_ptsz"},
    {"cuMemCreate", 10020, false, "cuMemCreate"},
    {"cuMemRelease", 10020, false, "cuMemRelease"},
    {"cuGetProcAddress", 11030, false, "cuGetProcAddress"},
    {"cuGetProcAddress", 12000, false, "cuGetProcAddress_v2"},
};

// "cuMemAlloc_v2" -> "cuMemAlloc", "cuLaunchKernel_ptsz" -> "cuLaunchKernel".
std::string_view baseOf(std::string_view name) {
    for (std::string_view suffix : {"_ptsz", "_ptds"})
        if (name.ends_with(suffix)) name.remove_suffix(suffix.size());
    const auto v = name.rfind("_v");
    if (v != std::string_view::npos && v + 2 < name.size() &&
        name.find_first_not_of("0123456789", v + 2) == std::string_view::npos)
        name = name.substr(0, v);
    return name;
}

void* byVersion(std::string_view symbol, int cudaVersion, cuuint64_t flags) {
    const bool perThread = (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) != 0;
    const Variant* best = nullptr;
    for (int pass = 0; pass < 2 && best == nullptr; ++pass) {
        const bool want = pass == 0 && perThread;  // per-thread variants first when asked, legacy ones otherwise
        for (const Variant& v : kVariants)
            if (symbol == v.base && v.perThread == want && v.version <= cudaVersion &&
                (best == nullptr || v.version > best->version))
                best = &v;
        if (!perThread) break;
    }
    return best == nullptr ? nullptr : wrapperFor(best->symbol);
}

}  // namespace

void* wrapperFor(const char* name) {
    for (const Wrapped& w : wrappedTable())
        if (std::strcmp(w.name, name) == 0) return w.wrapper;
    return nullptr;
}

void* substituteEntryPoint(const Real& real, const char* symbol, void* p, int cudaVersion, cuuint64_t flags) {
    const auto& table = wrappedTable();
    const auto reals = realAddresses(real);
    for (std::size_t i = 0; i < kWrapped; ++i)
        if (p == reals[i] || p == table[i].wrapper) return table[i].wrapper;
    if (symbol == nullptr) return p;
    if (void* w = byVersion(symbol, cudaVersion, flags)) return w;
    for (const Wrapped& w : table)
        if (baseOf(w.name) == symbol) return address(&refusedEntryPoint);
    return p;
}

}  // namespace omega::cudagate
