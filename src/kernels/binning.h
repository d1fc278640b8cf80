/* Counting values into equal-width bins exactly as numpy.histogram does
 * (same edges from linspace, same index arithmetic and edge corrections,
 * the last bin closed). Kept apart so other histogram code can share it. */
#ifndef MD_BINNING_H
#define MD_BINNING_H

#include <stdint.h>

#include "../core/ctx.h"
#include "../core/volume.h"

/* The finite range of v (mask: non-zero voxels only, same grid), widened to
 * +-0.5 when empty or a single value, as numpy does. */
MdStatus md_binning_range(const MdVolume *v, const MdVolume *mask, double *lo, double *hi,
                          MdCtx *ctx) MD_MUST_CHECK;

/* edges[0..bins] (numpy.linspace(lo, hi, bins + 1)) and counts[0..bins) of
 * the values of v (under mask when given) in [lo, hi]; NaN and values
 * outside are not counted. Values are compared in double, which is what
 * numpy does for every dtype but float32 (there it works in float32 and can
 * differ within one float32 step of an edge). Per-slice counts combined in
 * order. */
MdStatus md_binning_counts(const MdVolume *v, const MdVolume *mask, int64_t bins, double lo, double hi,
                           double *edges, int64_t *counts, MdCtx *ctx) MD_MUST_CHECK;

#endif
