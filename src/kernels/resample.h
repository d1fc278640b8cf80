/* Resampling volumes onto new grids while world positions stay put: the
 * grid helpers (zoom as scipy.ndimage.zoom maps it, a new spacing, a new
 * shape, another volume's grid or any affine, a transform about a centre)
 * each produce the output header and an index map; md_resample then runs
 * the separable engine (axis-aligned maps) or the per-voxel affine one.
 * Output dtype = input dtype, values rounded to nearest and saturated.
 * No Lua here; indices are 0-based. */
#ifndef MD_RESAMPLE_H
#define MD_RESAMPLE_H

#include "../core/ctx.h"
#include "../core/volume.h"
#include "spline.h"

/* Where output voxel o reads the input (0-based continuous indices). */
typedef struct MdIndexMap {
    int separable;                    /* 1: per axis c = (o + pre) * scale + post */
    double pre[3], scale[3], post[3];
    double M[9], b[3];                /* 0: c = M o + b (row = input axis) */
} MdIndexMap;

typedef struct MdResampleOpts {
    int order[3];      /* per axis: 0 nearest, 1 linear, 3 cubic B-spline */
    MdBoundary mode;   /* what lies outside the input (scipy.ndimage's modes) */
    double fill;       /* value outside for the constant modes */
    int antialias;     /* Gaussian prefilter on shrinking axes, as skimage's resize */
    int vote;          /* labels: per-label linear voting instead of interpolation */
} MdResampleOpts;

/* Output header (dims, geometry; no buffer) and map for scipy.ndimage.zoom
 * with these factors: shape round-half-even(n * f), input index
 * o * (n - 1) / (m - 1); the origin stays and the spacing becomes the one
 * of that grid, s * (n - 1) / (m - 1) (s * n / m when n or m is 1). */
MdStatus md_resample_plan_zoom(const MdVolume *in, const double factor[3], MdVolume *out,
                               MdIndexMap *map, MdError *err) MD_MUST_CHECK;

/* A grid of the given spacing: shape round-half-even(n * (s / s')) (at
 * least 1), centred on the input grid (keep_origin: voxel 0 stays). */
MdStatus md_resample_plan_spacing(const MdVolume *in, const double spacing[3], int keep_origin,
                                  MdVolume *out, MdIndexMap *map, MdError *err) MD_MUST_CHECK;

/* A grid of the given shape over the same extent (voxel corners aligned,
 * skimage.transform.resize's mapping): spacing s * n / m. */
MdStatus md_resample_plan_shape(const MdVolume *in, const int64_t shape[3], MdVolume *out,
                                MdIndexMap *map, MdError *err) MD_MUST_CHECK;

/* Onto the grid out already describes (dims and geometry): the map is
 * inv(A_in) * A_out, separable when it has no off-diagonal terms. */
MdStatus md_resample_plan_grid(const MdVolume *in, const MdVolume *out, MdIndexMap *map,
                               MdError *err) MD_MUST_CHECK;

/* Same grid as in; the output voxel at world p reads the input at
 * R (p - center) + center + t (LPS mm). */
MdStatus md_resample_plan_transform(const MdVolume *in, const double R[9], const double t[3],
                                    const double center[3], MdIndexMap *map,
                                    MdError *err) MD_MUST_CHECK;

/* nnU-Net's rule for anisotropic data: the axis whose spacing exceeds
 * threshold times the smallest one (input spacing first, then the target
 * spacing), or -1 when there is none or no single such axis. */
int md_resample_thick_axis(const double in_spacing[3], const double out_spacing[3],
                           double threshold);

/* Resamples in into out (borrowed; header from a plan, allocated, same
 * dtype and frame count). Errors: bad orders or options, antialias or vote
 * on a non-separable map, out of memory, cancelled. ctx (borrowed): error
 * slot, threads and progress of the call. */
MdStatus md_resample(const MdVolume *in, const MdIndexMap *map, const MdResampleOpts *o,
                     MdVolume *out, MdCtx *ctx) MD_MUST_CHECK;

#endif
