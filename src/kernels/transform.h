/* General (non-separable) resampling: every output voxel reads the input
 * at c = M o + b (0-based indices), with tensor-product B-spline
 * interpolation of order 0, 1 or 3 per axis and scipy.ndimage's boundary
 * modes: the numbers of scipy.ndimage.affine_transform. Used for oblique
 * grids and for rigid/affine transforms about a centre; axis-aligned
 * changes of grid go through the faster resample_sep. No Lua here. */
#ifndef MD_TRANSFORM_H
#define MD_TRANSFORM_H

#include "../core/volume.h"
#include "spline.h"

typedef struct MdAffineSpec {
    double M[9]; /* row a: input axis a; column c: output axis c (x = 0) */
    double b[3];
    int order[3]; /* per input axis: 0, 1 or 3 */
    MdBoundary mode;
    double fill;
} MdAffineSpec;

/* Resamples in (2-D, 3-D or 4-D, frames one by one) into out (borrowed,
 * dims and dtype set, allocated; same frame count). Values are computed in
 * double and stored rounded to nearest and saturated. Linear and cubic
 * read a copy of the input, float32 for 8- and 16-bit integers and float32
 * data, float64 for int32, uint32 and float64 (none for linear on float
 * data); cubic prefilters that copy in place (padded by 12 voxels per side
 * for 'nearest' and 'grid-constant', as scipy does). Errors: out of
 * memory, cancelled. */
MdStatus md_transform_affine(const MdVolume *in, const MdAffineSpec *s, MdVolume *out,
                             MdError *err) MD_MUST_CHECK;

#endif
