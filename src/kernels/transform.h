/* General (non-separable) resampling: every output voxel reads the input
 * at c = M o + b (0-based indices), with tensor-product B-spline
 * interpolation of order 0, 1 or 3 per axis and scipy.ndimage's boundary
 * modes: the numbers of scipy.ndimage.affine_transform. Used for oblique
 * grids and for rigid/affine transforms about a centre; axis-aligned
 * changes of grid go through the faster resample_sep. No Lua here. */
#ifndef MD_TRANSFORM_H
#define MD_TRANSFORM_H

#include "../core/ctx.h"
#include "../core/volume.h"
#include "spline.h"

typedef struct MdAffineSpec {
    double M[9]; /* row a: input axis a; column c: output axis c (x = 0) */
    double b[3];
    int order[3]; /* per input axis: 0, 1 or 3 */
    MdBoundary mode;
    double fill;
} MdAffineSpec;

/* The coefficient volume of one frame: what interpolation reads. float32,
 * or double for the dtypes float32 cannot hold exactly (int32, uint32,
 * float64); for cubic axes padded and prefiltered as scipy does; no copy at
 * all for nearest (the input is read directly) and for linear on float
 * data. data is new (free it with free()); f or d borrow data or the input. */
typedef struct MdCoef {
    void *data;     /* NULL when reading the input directly */
    const float *f; /* what the taps read: one of f and d */
    const double *d;
    int64_t len[3]; /* dims including padding */
    int npad[3];
} MdCoef;

/* Builds (or rebuilds, reusing c->data) the coefficients of frame f of in
 * for the given per-axis orders (0, 1, 3). c must start zeroed. Errors: out
 * of memory, size overflow. */
MdStatus md_coef_build(const MdVolume *in, int64_t f, const int order[3], MdBoundary mode,
                       double fill, MdCoef *c, MdCtx *ctx) MD_MUST_CHECK;

/* The interpolated value at input index coord (0-based, x first) with
 * scipy.ndimage's taps, weights, summation order and boundary rule. */
double md_coef_sample(const MdCoef *c, const MdVolume *in, int64_t f, const int order[3],
                      MdBoundary mode, double fill, const double coord[3]);

/* Resamples in (2-D, 3-D or 4-D, frames one by one) into out (borrowed,
 * dims and dtype set, allocated; same frame count). Values are computed in
 * double and stored rounded to nearest and saturated. Linear and cubic
 * read a copy of the input, float32 for 8- and 16-bit integers and float32
 * data, float64 for int32, uint32 and float64 (none for linear on float
 * data); cubic prefilters that copy in place (padded by 12 voxels per side
 * for 'nearest' and 'grid-constant', as scipy does). Errors: out of
 * memory, cancelled. */
MdStatus md_transform_affine(const MdVolume *in, const MdAffineSpec *s, MdVolume *out,
                             MdCtx *ctx) MD_MUST_CHECK;

#endif
