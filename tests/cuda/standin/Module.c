/* Modules, libraries, functions and kernels of the stand-in driver: images are parsed (Image.c) for their kernel
 * names; every name becomes a function handle (and, in a library, a kernel handle). Nothing is compiled. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "Standin.h"

#define MAX_FILE_BYTES ((size_t)1 << 30)

static void note_image(Call* c, const StandinImage* img) {
    char list[640];
    size_t n = 0;
    list[0] = '\0';
    for (size_t i = 0; i < img->count && n < sizeof list; i++) {
        int w = snprintf(list + n, sizeof list - n, "%s%s", i ? "," : "", img->names[i]);
        if (w < 0) break;
        n += (size_t)w;
    }
    call_note(c, "kind=%s bytes=%zu kernels=%s", img->kind, img->size, list);
}

/* A module over a parsed image: one function per kernel name. Takes ownership of `img`. */
static CUresult make_module(CUcontext ctx, StandinImage* img, CUmodule* out) {
    CUmodule m = calloc(1, sizeof *m);
    struct CUfunc_st* fns = calloc(img->count ? img->count : 1, sizeof *fns);
    if (!m || !fns || !vec_push(&g_standin.modules, m)) {
        free(m);
        free(fns);
        standin_image_free(img);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    m->tag = TAG_MODULE;
    m->ctx = ctx;
    m->image = *img;
    m->functions = fns;
    for (size_t i = 0; i < img->count; i++) {
        fns[i] = (struct CUfunc_st){.tag = TAG_FUNCTION, .module = m, .name = img->names[i]};
        if (!vec_push(&g_standin.functions, &fns[i])) {
            standin_unload_module(m);
            return CUDA_ERROR_OUT_OF_MEMORY;
        }
    }
    *out = m;
    return CUDA_SUCCESS;
}

void standin_unload_module(CUmodule m) {
    for (size_t i = 0; i < m->image.count; i++) vec_remove(&g_standin.functions, &m->functions[i]);
    vec_remove(&g_standin.modules, m);
    standin_image_free(&m->image);
    free(m->functions);
    free(m);
}

/* Reads a whole module file, as cuModuleLoad and cuLibraryLoadFromFile do. */
static CUresult read_file(const char* path, unsigned char** data, size_t* size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? CUDA_ERROR_FILE_NOT_FOUND : CUDA_ERROR_OPERATING_SYSTEM;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > MAX_FILE_BYTES) {
        close(fd);
        return CUDA_ERROR_INVALID_VALUE;
    }
    size_t n = (size_t)st.st_size;
    unsigned char* buf = malloc(n + 1);
    if (!buf) {
        close(fd);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        free(buf);
        return CUDA_ERROR_OPERATING_SYSTEM;
    }
    buf[n] = '\0'; /* text images (PTX, the test format) read as C strings */
    *data = buf;
    *size = n;
    return CUDA_SUCCESS;
}

static CUresult parse(Call* c, const unsigned char* data, size_t avail, StandinImage* img) {
    char why[256];
    CUresult r = standin_image_parse(data, avail, img, why, sizeof why);
    if (r != CUDA_SUCCESS) call_note(c, "error=\"%s\"", why);
    return r;
}

static CUresult load_module(Call* c, CUmodule* module, const unsigned char* data, size_t avail) {
    if (!module || !data) return CUDA_ERROR_INVALID_VALUE;
    CUcontext ctx;
    CUresult r = standin_need_ctx(&ctx);
    if (r != CUDA_SUCCESS) return r;
    StandinImage img;
    r = parse(c, data, avail, &img);
    if (r != CUDA_SUCCESS) return r;
    note_image(c, &img);
    r = make_module(ctx, &img, module);
    if (r == CUDA_SUCCESS) call_note(c, "module=%p", (void*)*module);
    return r;
}

CUresult cuModuleLoad(CUmodule* module, const char* fname) {
    ENTER;
    NOTE("file=%s", fname ? fname : "(null)");
    NEED_INIT;
    if (!fname) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    unsigned char* data;
    size_t size;
    CUresult r = read_file(fname, &data, &size);
    if (r != CUDA_SUCCESS) return LEAVE(r);
    r = size ? load_module(&call_, module, data, size) : CUDA_ERROR_INVALID_IMAGE;
    free(data);
    return LEAVE(r);
}

CUresult cuModuleLoadData(CUmodule* module, const void* image) {
    ENTER;
    NEED_INIT;
    return LEAVE(load_module(&call_, module, image, 0));
}

/* JIT options: validated and answered (empty logs, zero wall time); there is no JIT to configure. */
static CUresult jit_options(unsigned n, CUjit_option* options, void** values) {
    if (n && (!options || !values)) return CUDA_ERROR_INVALID_VALUE;
    size_t info_size = 0, error_size = 0;
    for (unsigned i = 0; i < n; i++) {
        if ((unsigned)options[i] > 40u) return CUDA_ERROR_INVALID_VALUE;
        if (options[i] == CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES) info_size = (uintptr_t)values[i];
        if (options[i] == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES) error_size = (uintptr_t)values[i];
    }
    for (unsigned i = 0; i < n; i++) {
        switch (options[i]) {
            case CU_JIT_WALL_TIME: {
                float zero = 0;
                memcpy(&values[i], &zero, sizeof zero);
                break;
            }
            case CU_JIT_INFO_LOG_BUFFER:
                if (values[i] && info_size) ((char*)values[i])[0] = '\0';
                break;
            case CU_JIT_ERROR_LOG_BUFFER:
                if (values[i] && error_size) ((char*)values[i])[0] = '\0';
                break;
            case CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES:
            case CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES:
                values[i] = NULL; /* out: the bytes written, none */
                break;
            default: break;
        }
    }
    return CUDA_SUCCESS;
}

CUresult cuModuleLoadDataEx(CUmodule* module, const void* image, unsigned int numOptions, CUjit_option* options,
                            void** optionValues) {
    ENTER;
    NOTE("options=%u", numOptions);
    NEED_INIT;
    CUresult r = jit_options(numOptions, options, optionValues);
    if (r != CUDA_SUCCESS) return LEAVE(r);
    return LEAVE(load_module(&call_, module, image, 0));
}

CUresult cuModuleLoadFatBinary(CUmodule* module, const void* fatCubin) {
    ENTER;
    NEED_INIT;
    return LEAVE(load_module(&call_, module, fatCubin, 0));
}

static int live_module(CUmodule m) {
    return vec_has(&g_standin.modules, m) && !m->library;
}

CUresult cuModuleUnload(CUmodule hmod) {
    ENTER;
    NOTE("module=%p", (void*)hmod);
    NEED_INIT;
    if (!live_module(hmod)) return LEAVE(CUDA_ERROR_INVALID_HANDLE);
    standin_unload_module(hmod);
    return LEAVE(CUDA_SUCCESS);
}

static struct CUfunc_st* find_function(CUmodule m, const char* name) {
    for (size_t i = 0; i < m->image.count; i++) {
        if (strcmp(m->functions[i].name, name) == 0) return &m->functions[i];
    }
    return NULL;
}

CUresult cuModuleGetFunction(CUfunction* hfunc, CUmodule hmod, const char* name) {
    ENTER;
    NOTE("module=%p name=%s", (void*)hmod, name ? name : "(null)");
    NEED_INIT;
    if (!hfunc || !name) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    /* A library's module (cuLibraryGetModule) answers too. */
    if (!vec_has(&g_standin.modules, hmod)) return LEAVE(CUDA_ERROR_INVALID_HANDLE);
    struct CUfunc_st* f = find_function(hmod, name);
    if (!f) return LEAVE(CUDA_ERROR_NOT_FOUND);
    *hfunc = f;
    NOTE("function=%p", (void*)f);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuModuleGetFunctionCount(unsigned int* count, CUmodule mod) {
    ENTER;
    NOTE("module=%p", (void*)mod);
    NEED_INIT;
    if (!count) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (!vec_has(&g_standin.modules, mod)) return LEAVE(CUDA_ERROR_INVALID_HANDLE);
    *count = (unsigned)mod->image.count;
    NOTE("count=%u", *count);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuModuleEnumerateFunctions(CUfunction* functions, unsigned int numFunctions, CUmodule mod) {
    ENTER;
    NOTE("module=%p max=%u", (void*)mod, numFunctions);
    NEED_INIT;
    if (!functions) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (!vec_has(&g_standin.modules, mod)) return LEAVE(CUDA_ERROR_INVALID_HANDLE);
    for (unsigned i = 0; i < numFunctions && i < mod->image.count; i++) functions[i] = &mod->functions[i];
    return LEAVE(CUDA_SUCCESS);
}

CUresult standin_resolve_function(CUfunction f, struct CUfunc_st** out) {
    if (vec_has(&g_standin.functions, f)) {
        *out = f;
        return CUDA_SUCCESS;
    }
    if (vec_has(&g_standin.kernels, (void*)f)) {
        *out = ((CUkernel)(void*)f)->function;
        return CUDA_SUCCESS;
    }
    return CUDA_ERROR_INVALID_HANDLE;
}

CUresult cuFuncGetName(const char** name, CUfunction hfunc) {
    ENTER;
    NOTE("function=%p", (void*)hfunc);
    NEED_INIT;
    if (!name) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (!vec_has(&g_standin.functions, hfunc)) return LEAVE(CUDA_ERROR_INVALID_HANDLE);
    *name = hfunc->name;
    NOTE("name=%s", *name);
    return LEAVE(CUDA_SUCCESS);
}

/* ---- libraries (context-independent loading, CUDA 12) ---- */

static CUresult load_library(Call* c, CUlibrary* library, const unsigned char* data, size_t avail, unsigned numJit,
                             CUjit_option* jit, void** jitValues, unsigned numLib, CUlibraryOption* libOpts,
                             void** libValues) {
    if (!library || !data) return CUDA_ERROR_INVALID_VALUE;
    CUresult r = jit_options(numJit, jit, jitValues);
    if (r != CUDA_SUCCESS) return r;
    if (numLib && (!libOpts || !libValues)) return CUDA_ERROR_INVALID_VALUE;
    for (unsigned i = 0; i < numLib; i++) {
        if (libOpts[i] != CU_LIBRARY_HOST_UNIVERSAL_FUNCTION_AND_DATA_TABLE &&
            libOpts[i] != CU_LIBRARY_BINARY_IS_PRESERVED)
            return CUDA_ERROR_INVALID_VALUE;
    }
    StandinImage img;
    r = parse(c, data, avail, &img);
    if (r != CUDA_SUCCESS) return r;
    note_image(c, &img);
    CUlibrary lib = calloc(1, sizeof *lib);
    struct CUkern_st* kernels = calloc(img.count ? img.count : 1, sizeof *kernels);
    CUmodule m = NULL;
    if (!lib || !kernels || !vec_push(&g_standin.libraries, lib)) {
        free(lib);
        free(kernels);
        standin_image_free(&img);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    r = make_module(NULL, &img, &m);
    if (r != CUDA_SUCCESS) {
        vec_remove(&g_standin.libraries, lib);
        free(lib);
        free(kernels);
        return r;
    }
    *lib = (struct CUlib_st){.tag = TAG_LIBRARY, .module = m, .kernels = kernels};
    m->library = lib;
    for (size_t i = 0; i < m->image.count; i++) {
        kernels[i] = (struct CUkern_st){.tag = TAG_KERNEL, .library = lib, .function = &m->functions[i]};
        m->functions[i].kernel = &kernels[i];
        if (!vec_push(&g_standin.kernels, &kernels[i])) return CUDA_ERROR_OUT_OF_MEMORY;
    }
    *library = lib;
    call_note(c, "library=%p", (void*)lib);
    return CUDA_SUCCESS;
}

CUresult cuLibraryLoadData(CUlibrary* library, const void* code, CUjit_option* jitOptions, void** jitOptionsValues,
                           unsigned int numJitOptions, CUlibraryOption* libraryOptions, void** libraryOptionValues,
                           unsigned int numLibraryOptions) {
    ENTER;
    NEED_INIT;
    return LEAVE(load_library(&call_, library, code, 0, numJitOptions, jitOptions, jitOptionsValues, numLibraryOptions,
                              libraryOptions, libraryOptionValues));
}

CUresult cuLibraryLoadFromFile(CUlibrary* library, const char* fileName, CUjit_option* jitOptions,
                               void** jitOptionsValues, unsigned int numJitOptions, CUlibraryOption* libraryOptions,
                               void** libraryOptionValues, unsigned int numLibraryOptions) {
    ENTER;
    NOTE("file=%s", fileName ? fileName : "(null)");
    NEED_INIT;
    if (!fileName) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    unsigned char* data;
    size_t size;
    CUresult r = read_file(fileName, &data, &size);
    if (r != CUDA_SUCCESS) return LEAVE(r);
    r = size ? load_library(&call_, library, data, size, numJitOptions, jitOptions, jitOptionsValues, numLibraryOptions,
                            libraryOptions, libraryOptionValues)
             : CUDA_ERROR_INVALID_IMAGE;
    free(data);
    return LEAVE(r);
}

CUresult cuLibraryUnload(CUlibrary library) {
    ENTER;
    NOTE("library=%p", (void*)library);
    NEED_INIT;
    if (!vec_has(&g_standin.libraries, library)) return LEAVE(CUDA_ERROR_INVALID_HANDLE);
    for (size_t i = 0; i < library->module->image.count; i++) vec_remove(&g_standin.kernels, &library->kernels[i]);
    standin_unload_module(library->module);
    vec_remove(&g_standin.libraries, library);
    free(library->kernels);
    free(library);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuLibraryGetKernel(CUkernel* pKernel, CUlibrary library, const char* name) {
    ENTER;
    NOTE("library=%p name=%s", (void*)library, name ? name : "(null)");
    NEED_INIT;
    if (!pKernel || !name) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (!vec_has(&g_standin.libraries, library)) return LEAVE(CUDA_ERROR_INVALID_HANDLE);
    struct CUfunc_st* f = find_function(library->module, name);
    if (!f) return LEAVE(CUDA_ERROR_NOT_FOUND);
    *pKernel = f->kernel;
    NOTE("kernel=%p", (void*)f->kernel);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuLibraryGetKernelCount(unsigned int* count, CUlibrary lib) {
    ENTER;
    NOTE("library=%p", (void*)lib);
    NEED_INIT;
    if (!count) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (!vec_has(&g_standin.libraries, lib)) return LEAVE(CUDA_ERROR_INVALID_HANDLE);
    *count = (unsigned)lib->module->image.count;
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuLibraryEnumerateKernels(CUkernel* kernels, unsigned int numKernels, CUlibrary lib) {
    ENTER;
    NOTE("library=%p max=%u", (void*)lib, numKernels);
    NEED_INIT;
    if (!kernels) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (!vec_has(&g_standin.libraries, lib)) return LEAVE(CUDA_ERROR_INVALID_HANDLE);
    for (unsigned i = 0; i < numKernels && i < lib->module->image.count; i++) kernels[i] = &lib->kernels[i];
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuLibraryGetModule(CUmodule* pMod, CUlibrary library) {
    ENTER;
    NOTE("library=%p", (void*)library);
    NEED_INIT;
    if (!pMod) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (!vec_has(&g_standin.libraries, library)) return LEAVE(CUDA_ERROR_INVALID_HANDLE);
    CUcontext ctx;
    CUresult r = standin_need_ctx(&ctx);
    if (r != CUDA_SUCCESS) return LEAVE(r);
    *pMod = library->module;
    NOTE("module=%p", (void*)library->module);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuKernelGetFunction(CUfunction* pFunc, CUkernel kernel) {
    ENTER;
    NOTE("kernel=%p", (void*)kernel);
    NEED_INIT;
    if (!pFunc) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (!vec_has(&g_standin.kernels, kernel)) return LEAVE(CUDA_ERROR_INVALID_HANDLE);
    /* The function is the kernel's instance in the current context, so there must be one. */
    CUcontext ctx;
    CUresult r = standin_need_ctx(&ctx);
    if (r != CUDA_SUCCESS) return LEAVE(r);
    *pFunc = kernel->function;
    NOTE("name=%s function=%p", kernel->function->name, (void*)kernel->function);
    return LEAVE(CUDA_SUCCESS);
}

CUresult cuKernelGetName(const char** name, CUkernel hfunc) {
    ENTER;
    NOTE("kernel=%p", (void*)hfunc);
    NEED_INIT;
    if (!name) return LEAVE(CUDA_ERROR_INVALID_VALUE);
    if (!vec_has(&g_standin.kernels, hfunc)) return LEAVE(CUDA_ERROR_INVALID_HANDLE);
    *name = hfunc->function->name;
    NOTE("name=%s", *name);
    return LEAVE(CUDA_SUCCESS);
}
