/* Separable resampling: each output axis reads one input axis through its
 * own 1-D map c = (o + pre) * scale + post, so the work is three 1-D
 * passes (x and y within each input slice, then z), never a 3-D stencil.
 * Also the row converters (any dtype <-> double, with rounding and
 * saturation) that transform.c shares. resample.h is the public entry;
 * this header is for the resampling kernels only. No Lua here. */
#ifndef MD_RESAMPLE_SEP_H
#define MD_RESAMPLE_SEP_H

#include <stdint.h>

#include "../core/ctx.h"
#include "../core/volume.h"
#include "spline.h"

/* What a separable resampling does along each axis (0 = x). */
typedef struct MdSepSpec {
    double pre[3], scale[3], post[3]; /* input index c of output index o */
    int order[3];                     /* 0, 1 or 3 */
    double sigma[3];                  /* Gaussian anti-aliasing (input samples), 0 = none */
    int identity_z;                   /* 2-D volume: the third axis is left alone */
    MdBoundary mode;
    double fill;
    int vote;                         /* labels: per-label linear voting (orders 0/1) */
} MdSepSpec;

/* Resamples in (2-D, 3-D or 4-D: frames one by one) into out, whose dims
 * (x, y, z) are the output grid and dim[3] the same frame count; out's
 * dtype is any, values stored rounded to nearest (half away from zero)
 * and saturated. Scratch: per thread a few slices of doubles; plus, when
 * z is cubic or anti-aliased, one block of out_x * out_y * in_z values
 * (float32; float64 for int32, uint32 and float64 input); with vote, a
 * float32 score per output voxel. Both borrowed; out is filled. Errors:
 * out of memory, too many labels, cancelled. */
MdStatus md_resample_separable(const MdVolume *in, const MdSepSpec *s, MdVolume *out,
                               MdCtx *ctx) MD_MUST_CHECK;

#endif
