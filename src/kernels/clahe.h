/* Contrast-limited adaptive histogram equalisation as
 * skimage.exposure.equalize_adapthist computes it (scikit-image 0.19), in
 * 3-D or on each z slice. */
#ifndef MD_CLAHE_H
#define MD_CLAHE_H

#include "../core/ctx.h"
#include "../core/volume.h"

typedef struct MdClaheOpts {
    int kernel[3];     /* tile sides x, y, z in voxels; 0: skimage's default (side / 8, at least 1) */
    double clip_limit; /* fraction of a tile's voxels a bin may hold (0: no clipping) */
    int nbins;         /* grey bins (>= 1) */
    int per_slice;     /* equalise each z slice as a 2-D image */
} MdClaheOpts;

/* out (float32 or float64, in's dims, values in [0, 1]) = skimage's
 * equalize_adapthist(in, kernel_size, clip_limit, nbins): the image scaled
 * to 14 bits (integer volumes from their min and max; float volumes within
 * [0, 1] through 16 bits first, as img_as_uint does), per-tile clipped
 * histograms turned into maps, maps blended linearly between tile centres,
 * and the result rescaled to [0, 1]. NaN voxels count as the minimum. */
MdStatus md_clahe(const MdVolume *in, const MdClaheOpts *o, MdVolume *out, MdCtx *ctx) MD_MUST_CHECK;

#endif
