/* Module image parsing for the stand-in driver (Image.h): finds the length of an image passed by pointer and the
 * names of its kernels. Layouts: ELF64 (the cubin), the fatbin container nvcc writes (a 16-byte header, then entries
 * of a header plus payload), PTX text and the stand-in's own test format. */
#define _GNU_SOURCE
#include "Image.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* No image the tests or a real program load comes near this; a larger "length" means a corrupt header. */
#define MAX_IMAGE_BYTES ((size_t)1 << 30)
#define MAX_NAME_BYTES 4096

#define ELF_MACHINE_CUDA 190
#define FATBIN_MAGIC 0xBA55ED50u
#define FATBIN_WRAPPER_MAGIC 0x466243b1u /* the struct nvcc's host code hands to __cudaRegisterFatBinary */
#define FATBIN_KIND_PTX 1
#define FATBIN_KIND_ELF 2
/* Entry flags seen in nvcc output: 0x2000 marks LZ4-compressed payloads (older toolkits), 0x8000 zstd (CUDA 13
 * compresses PTX entries by default). The stand-in does not decompress. */
#define FATBIN_FLAG_COMPRESSED 0xA000u

static const char kStandinMagic[] = "OMEGA-STANDIN-MODULE v1\n";

static CUresult fail(char* why, size_t whylen, CUresult r, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return r;
}

static uint16_t rd16(const unsigned char* p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}
static uint32_t rd32(const unsigned char* p) {
    return (uint32_t)rd16(p) | ((uint32_t)rd16(p + 2) << 16);
}
static uint64_t rd64(const unsigned char* p) {
    return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

static int add_name(StandinImage* out, const char* name, size_t len) {
    for (size_t i = 0; i < out->count; i++) {
        if (strlen(out->names[i]) == len && memcmp(out->names[i], name, len) == 0) return 1;
    }
    char** grown = realloc(out->names, (out->count + 1) * sizeof *grown);
    if (!grown) return 0;
    out->names = grown;
    out->names[out->count] = strndup(name, len);
    if (!out->names[out->count]) return 0;
    out->count++;
    return 1;
}

void standin_image_free(StandinImage* image) {
    for (size_t i = 0; i < image->count; i++) free(image->names[i]);
    free(image->names);
    image->names = NULL;
    image->count = 0;
}

/* An end offset `off + len`, refusing overflow and anything past the limit. */
static int end_of(uint64_t off, uint64_t len, uint64_t* end) {
    if (off > MAX_IMAGE_BYTES || len > MAX_IMAGE_BYTES) return 0;
    *end = off + len;
    return *end <= MAX_IMAGE_BYTES;
}

/* ---- ELF cubins ---- */

/* The cubin's length: the furthest byte any header, section or program header table covers. */
static CUresult elf_length(const unsigned char* d, size_t avail, size_t* size, char* why, size_t whylen) {
    if (avail && avail < 64) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "truncated ELF header");
    if (d[4] != 2 || d[5] != 1) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "not a little-endian ELF64 image");
    if (rd16(d + 18) != ELF_MACHINE_CUDA)
        return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "ELF machine %u is not CUDA", rd16(d + 18));
    uint64_t phoff = rd64(d + 32), shoff = rd64(d + 40);
    uint16_t phentsize = rd16(d + 54), phnum = rd16(d + 56), shentsize = rd16(d + 58), shnum = rd16(d + 60);
    if (shnum && shentsize != 64) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "bad section header size");
    if (phnum && phentsize != 56) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "bad program header size");
    uint64_t end = 64, e;
    if (!end_of(shoff, (uint64_t)shnum * 64, &e)) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "bad e_shoff");
    if (e > end) end = e;
    if (!end_of(phoff, (uint64_t)phnum * 56, &e)) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "bad e_phoff");
    if (e > end) end = e;
    if (avail && end > avail) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "ELF headers past the image");
    for (uint16_t i = 0; i < shnum; i++) {
        const unsigned char* sh = d + shoff + (uint64_t)i * 64;
        if (rd32(sh + 4) == 8 /* SHT_NOBITS */) continue;
        if (!end_of(rd64(sh + 24), rd64(sh + 32), &e))
            return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "section %u out of range", i);
        if (e > end) end = e;
    }
    if (avail && end > avail) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "ELF sections past the image");
    *size = (size_t)end;
    return CUDA_SUCCESS;
}

/* Kernels are the STT_FUNC symbols (global or weak) that own a `.text.<name>` section: nvcc gives every kernel its
 * own text section, while device functions live inside their callers' sections. */
static CUresult elf_kernels(const unsigned char* d, size_t size, StandinImage* out, char* why, size_t whylen) {
    uint64_t shoff = rd64(d + 40);
    uint16_t shnum = rd16(d + 60), shstrndx = rd16(d + 62);
    if (shnum == 0) return CUDA_SUCCESS;
    if (shstrndx >= shnum) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "bad e_shstrndx");
    const unsigned char* shstr = d + shoff + (uint64_t)shstrndx * 64;
    if (rd32(shstr + 4) != 3 /* SHT_STRTAB */) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "bad .shstrtab");
    uint64_t shstr_off = rd64(shstr + 24), shstr_size = rd64(shstr + 32);
    for (uint16_t i = 0; i < shnum; i++) {
        const unsigned char* sym = d + shoff + (uint64_t)i * 64;
        if (rd32(sym + 4) != 2 /* SHT_SYMTAB */) continue;
        uint32_t link = rd32(sym + 40);
        if (link >= shnum) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "bad symbol string table");
        const unsigned char* strsec = d + shoff + (uint64_t)link * 64;
        if (rd32(strsec + 4) != 3) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "bad .strtab");
        uint64_t str_off = rd64(strsec + 24), str_size = rd64(strsec + 32);
        uint64_t sym_off = rd64(sym + 24), sym_size = rd64(sym + 32);
        for (uint64_t s = 0; s + 24 <= sym_size; s += 24) {
            const unsigned char* st = d + sym_off + s;
            uint32_t name = rd32(st);
            unsigned type = st[4] & 0xf, bind = st[4] >> 4;
            uint16_t shndx = rd16(st + 6);
            if (type != 2 /* STT_FUNC */ || (bind != 1 && bind != 2) || shndx == 0 || shndx >= shnum) continue;
            if (name >= str_size) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "bad symbol name");
            const char* sname = (const char*)d + str_off + name;
            size_t slen = strnlen(sname, str_size - name);
            if (slen == str_size - name || slen > MAX_NAME_BYTES)
                return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "unterminated symbol name");
            uint32_t secname = rd32(d + shoff + (uint64_t)shndx * 64);
            if (secname >= shstr_size) continue;
            const char* sec = (const char*)d + shstr_off + secname;
            size_t seclen = strnlen(sec, shstr_size - secname);
            if (seclen == 6 + slen && memcmp(sec, ".text.", 6) == 0 && memcmp(sec + 6, sname, slen) == 0) {
                if (!add_name(out, sname, slen)) return fail(why, whylen, CUDA_ERROR_OUT_OF_MEMORY, "out of memory");
            }
        }
    }
    (void)size;
    return CUDA_SUCCESS;
}

static CUresult parse_elf(const unsigned char* d, size_t avail, StandinImage* out, char* why, size_t whylen) {
    CUresult r = elf_length(d, avail, &out->size, why, whylen);
    if (r != CUDA_SUCCESS) return r;
    out->kind = "elf";
    return elf_kernels(d, out->size, out, why, whylen);
}

/* ---- PTX and the test format ---- */

static CUresult ptx_kernels(const char* text, size_t len, StandinImage* out, char* why, size_t whylen) {
    const char* end = text + len;
    for (const char* p = text; p < end;) {
        const char* hit = memmem(p, (size_t)(end - p), ".entry", 6);
        if (!hit) break;
        p = hit + 6;
        if (p >= end || (*p != ' ' && *p != '\t')) continue;
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        const char* name = p;
        while (p < end && (*p == '_' || *p == '$' || *p == '.' || (*p >= '0' && *p <= '9') ||
                           (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            p++;
        if (p == name) continue;
        if (!add_name(out, name, (size_t)(p - name)))
            return fail(why, whylen, CUDA_ERROR_OUT_OF_MEMORY, "out of memory");
    }
    return CUDA_SUCCESS;
}

/* Text passed by pointer ends at its NUL, which the image (and so its hash) includes; a file is its bytes. */
static CUresult text_length(const unsigned char* d, size_t avail, size_t* size, char* why, size_t whylen) {
    size_t n = avail ? strnlen((const char*)d, avail) : strnlen((const char*)d, MAX_IMAGE_BYTES);
    if (!avail && n == MAX_IMAGE_BYTES) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "unterminated text image");
    *size = avail ? avail : n + 1;
    return CUDA_SUCCESS;
}

static CUresult parse_ptx(const unsigned char* d, size_t avail, StandinImage* out, char* why, size_t whylen) {
    CUresult r = text_length(d, avail, &out->size, why, whylen);
    if (r != CUDA_SUCCESS) return r;
    size_t textlen = strnlen((const char*)d, out->size);
    if (!memmem(d, textlen, ".version", 8) || !memmem(d, textlen, ".target", 7))
        return fail(why, whylen, CUDA_ERROR_INVALID_PTX, "PTX without .version and .target");
    out->kind = "ptx";
    return ptx_kernels((const char*)d, textlen, out, why, whylen);
}

static CUresult parse_standin(const unsigned char* d, size_t avail, StandinImage* out, char* why, size_t whylen) {
    CUresult r = text_length(d, avail, &out->size, why, whylen);
    if (r != CUDA_SUCCESS) return r;
    out->kind = "standin";
    const char* p = (const char*)d + sizeof kStandinMagic - 1;
    const char* end = (const char*)d + strnlen((const char*)d, out->size);
    while (p < end) {
        const char* nl = memchr(p, '\n', (size_t)(end - p));
        const char* eol = nl ? nl : end;
        size_t len = (size_t)(eol - p);
        if (len > 7 && memcmp(p, "kernel ", 7) == 0) {
            const char* name = p + 7;
            size_t nlen = len - 7;
            if (nlen > MAX_NAME_BYTES || memchr(name, ' ', nlen) || memchr(name, '\t', nlen))
                return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "bad kernel line");
            if (!add_name(out, name, nlen)) return fail(why, whylen, CUDA_ERROR_OUT_OF_MEMORY, "out of memory");
        } else if (len != 0 && p[0] != '#') {
            return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "unknown line in stand-in module: %.40s", p);
        }
        p = eol + 1;
    }
    return CUDA_SUCCESS;
}

/* ---- fatbins ---- */

static CUresult parse_fatbin(const unsigned char* d, size_t avail, StandinImage* out, char* why, size_t whylen) {
    if (avail && avail < 16) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "truncated fatbin header");
    uint16_t hsize = rd16(d + 6);
    uint64_t fatsize = rd64(d + 8), end;
    if (hsize < 16 || !end_of(hsize, fatsize, &end))
        return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "bad fatbin header");
    if (avail && end > avail) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "fatbin longer than the image");
    out->kind = "fatbin";
    out->size = (size_t)end;

    /* Like the driver: the cubin for this device if there is one, else PTX it could JIT. */
    const unsigned char *elf = NULL, *ptx = NULL;
    uint64_t elf_size = 0, ptx_size = 0;
    int compressed = 0;
    for (uint64_t off = hsize; off < end;) {
        if (end - off < 16) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "truncated fatbin entry");
        const unsigned char* e = d + off;
        uint16_t kind = rd16(e);
        uint32_t ehsize = rd32(e + 4);
        uint64_t payload = rd64(e + 8), next;
        if (ehsize < 48 || !end_of(off + ehsize, payload, &next) || next > end)
            return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "bad fatbin entry at offset %llu",
                        (unsigned long long)off);
        uint32_t arch = rd32(e + 28);
        uint64_t flags = rd64(e + 40);
        if (flags & FATBIN_FLAG_COMPRESSED) {
            compressed = 1;
        } else if (kind == FATBIN_KIND_ELF && arch / 10 == STANDIN_SM / 10 && arch <= STANDIN_SM && !elf) {
            elf = e + ehsize;
            elf_size = payload;
        } else if (kind == FATBIN_KIND_PTX && arch <= STANDIN_SM && !ptx) {
            ptx = e + ehsize;
            ptx_size = payload;
        }
        off = next;
    }
    StandinImage inner = {0};
    CUresult r;
    if (elf) {
        if (elf_size < 4 || memcmp(elf,
                                   "\x7f"
                                   "ELF",
                                   4) != 0)
            return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "fatbin ELF entry is not ELF");
        r = parse_elf(elf, (size_t)elf_size, &inner, why, whylen);
    } else if (ptx) {
        r = parse_ptx(ptx, (size_t)ptx_size, &inner, why, whylen);
    } else if (compressed) {
        return fail(why, whylen, CUDA_ERROR_NOT_SUPPORTED,
                    "only compressed entries for sm_%d (the stand-in does not decompress; build with nvcc "
                    "--no-compress)",
                    STANDIN_SM);
    } else {
        return fail(why, whylen, CUDA_ERROR_NO_BINARY_FOR_GPU, "no sm_%d cubin or usable PTX in the fatbin",
                    STANDIN_SM);
    }
    if (r != CUDA_SUCCESS) {
        standin_image_free(&inner);
        return r;
    }
    out->names = inner.names;
    out->count = inner.count;
    return CUDA_SUCCESS;
}

CUresult standin_image_parse(const unsigned char* data, size_t avail, StandinImage* out, char* why, size_t whylen) {
    memset(out, 0, sizeof *out);
    if (why && whylen) why[0] = '\0';
    if (!data) return fail(why, whylen, CUDA_ERROR_INVALID_VALUE, "NULL image");
    if (avail && avail < 4) return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "image shorter than a magic number");
    CUresult r;
    if (memcmp(data,
               "\x7f"
               "ELF",
               4) == 0) {
        r = parse_elf(data, avail, out, why, whylen);
    } else if (rd32(data) == FATBIN_MAGIC) {
        r = parse_fatbin(data, avail, out, why, whylen);
    } else if (rd32(data) == FATBIN_WRAPPER_MAGIC && !avail) {
        /* { int magic; int version; const void* fatbin; void* unused; }: the fatbin itself is the image. */
        const unsigned char* inner;
        memcpy(&inner, data + 8, sizeof inner);
        if (!inner || rd32(inner) != FATBIN_MAGIC)
            return fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "fatbin wrapper without a fatbin");
        r = parse_fatbin(inner, 0, out, why, whylen);
    } else if ((!avail || avail >= sizeof kStandinMagic - 1) &&
               strncmp((const char*)data, kStandinMagic, sizeof kStandinMagic - 1) == 0) {
        r = parse_standin(data, avail, out, why, whylen);
    } else if (data[0] == '/' || data[0] == '.' || data[0] == '\n' || data[0] == ' ' || data[0] == '\t') {
        r = parse_ptx(data, avail, out, why, whylen);
    } else {
        r = fail(why, whylen, CUDA_ERROR_INVALID_IMAGE, "not a cubin, fatbin, PTX or stand-in module");
    }
    if (r != CUDA_SUCCESS) standin_image_free(out);
    return r;
}
