/* Module images as the stand-in driver understands them: ELF cubins, fatbins that wrap them, PTX text and the
 * test format `OMEGA-STANDIN-MODULE v1`. Parsing finds an image's length and the names of its kernels; nothing is
 * compiled or run. */
#ifndef OMEGA_STANDIN_IMAGE_H
#define OMEGA_STANDIN_IMAGE_H

#include <stddef.h>

#include "omega/cudagate/Driver.h"

/* The device the stand-in pretends to be: an sm_90 part (H100/H200), so a fatbin's sm_90 cubin or PTX for
 * compute_90 and below is usable, anything else is not. */
#define STANDIN_SM 90

typedef struct StandinImage {
    const char* kind; /* "elf", "fatbin", "ptx" or "standin" */
    size_t size;      /* bytes of the image: what a module hash covers */
    char** names;     /* the kernels, in image order, without duplicates */
    size_t count;
} StandinImage;

/* Parses `data`. `avail` is the number of readable bytes, or 0 when the caller only has a pointer (then the length
 * comes from the image's own headers, as the real driver does). On failure returns the CUresult the real driver
 * would give and writes a reason into `why`. */
CUresult standin_image_parse(const unsigned char* data, size_t avail, StandinImage* out, char* why, size_t whylen);

void standin_image_free(StandinImage* image);

#endif
