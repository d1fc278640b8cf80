/* The options every reader and writer takes. A format's header includes
 * this, not formats.h: formats.c dispatches to the formats, never the other
 * way round. */
#ifndef MD_IOOPTS_H
#define MD_IOOPTS_H

#include "../core/meta.h"
#include "../core/volume.h"

typedef struct MdReadOpts {
    int raw; /* 1: keep stored values (NIfTI: no scl_slope/scl_inter) */
} MdReadOpts;

typedef struct MdWriteOpts {
    int level;     /* compression level 0-9 (or libdeflate's 0-12); -1 = default */
    int compress;  /* MetaImage: write CompressedData (.zraw / zlib in .mha) */
    int nifti2;    /* NIfTI: write NIfTI-2 */
} MdWriteOpts;

#endif
