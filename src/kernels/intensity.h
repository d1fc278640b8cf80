/* Voxel-value transforms: the linear maps behind window, rescale,
 * normalize, zscore and clipping; the log/power/exponential one-liners of
 * SimpleITK recipes; value replacement; global histogram equalisation
 * (skimage.exposure.equalize_hist). The statistics these need (min, max,
 * mean, std, percentiles) are computed by the caller (arith.h,
 * histogram.h). Adaptive equalisation lives in clahe.h and ahe.h. */
#ifndef MD_INTENSITY_H
#define MD_INTENSITY_H

#include "../core/ctx.h"
#include "../core/volume.h"

typedef enum {
    MD_MAP_LINEAR, /* y = a*x + b */
    MD_MAP_LOG1P,  /* y = log1p(a*x + b) */
    MD_MAP_POW,    /* y = (a*x + b)^power */
    MD_MAP_EXP     /* y = exp(a*x + b) */
} MdMapOp;

/* out = clamp(op(x), lo, hi) + post, in double, stored in out's dtype
 * (integer types round half away from zero and saturate). With a uint8
 * mask, voxels where mask == 0 get `outside`, or keep x when outside is NaN.
 * lo/hi may be -inf/+inf. in and out have the same voxel count (out may be
 * in when the dtypes agree). */
typedef struct MdMapOpts {
    MdMapOp op;
    double a, b, power;
    double lo, hi, post;
    const MdVolume *mask; /* borrowed, may be NULL */
    double outside;
} MdMapOpts;

MdStatus md_intensity_map(const MdVolume *in, const MdMapOpts *o, MdVolume *out, MdCtx *ctx) MD_MUST_CHECK;

/* out = in with every voxel equal to from[i] set to to[i] (the first match
 * wins; NaN matches NaN), n pairs; out has in's dtype and count, and the
 * replacements are rounded and saturated to it. */
MdStatus md_intensity_replace(const MdVolume *in, const double *from, const double *to, int n, MdVolume *out,
                              MdCtx *ctx) MD_MUST_CHECK;

/* out[i] = np.interp(x[i], xp, fp) for every voxel (xp ascending, n >= 1):
 * fp[0] left of xp[0], fp[n-1] right of xp[n-1]. equalize_hist is this with
 * the cumulative histogram. out is float32 or float64. */
MdStatus md_intensity_interp(const MdVolume *in, const double *xp, const double *fp, size_t n, MdVolume *out,
                             MdCtx *ctx) MD_MUST_CHECK;

#endif
