/* The fused spatial warp of augmentation: every output voxel o reads the
 * input at the index c = M o + b + D(o), where M, b hold all the linear
 * parts of a draw (flips, 90-degree turns, rotation, scaling, shear,
 * translation, the patch's place) and D is an elastic displacement given as
 * a cubic B-spline over a coarse control lattice spanning the output grid.
 * One mapping, one resampling: images with order 0, 1 or 3 (scipy.ndimage's
 * taps and boundary modes), labels by nearest or per-label linear voting.
 * No Lua here. */
#ifndef MD_WARP_H
#define MD_WARP_H

#include "../core/ctx.h"
#include "../core/volume.h"
#include "spline.h"

typedef struct MdWarpSpec {
    double M[9]; /* row a: input axis a; column c: output axis c (x = 0) */
    double b[3];
    /* Elastic part: K[a] >= 4 control points per output axis, the first and
     * last outside the grid: point i sits at output index (i - 1) h[a] with
     * h[a] = (n[a] - 1) / (K[a] - 3). disp holds 3 components (input index
     * units), each K[0]*K[1]*K[2] values with x fastest; NULL: no elastic. */
    int K[3];
    const double *disp;
    int order;  /* 0, 1 or 3 (ignored when vote) */
    int vote;   /* labels: each voxel takes the label whose linearly
                 * interpolated indicator is largest (ties: smaller label) */
    MdBoundary mode;
    double fill;
} MdWarpSpec;

/* Warps in (2-D, 3-D or 4-D: frames one by one) into out (borrowed, dims,
 * dtype set and allocated; same frame count). Values computed in double,
 * stored rounded to nearest and saturated. Deterministic: each voxel is
 * computed alone. Errors: bad lattice, out of memory, cancelled. */
MdStatus md_warp(const MdVolume *in, const MdWarpSpec *s, MdVolume *out, MdCtx *ctx) MD_MUST_CHECK;

/* One volume of a multi-volume warp: its own interpolation and fill. */
typedef struct MdWarpLayer {
    const MdVolume *in; /* borrowed */
    MdVolume *out;      /* borrowed, allocated, dims of the first layer's output */
    int order;          /* 0, 1 or 3 */
    int vote;
    double fill;
} MdWarpLayer;

/* Warps n volumes on one grid through the same mapping (s's order, vote
 * and fill are ignored: each layer has its own), computing coordinates and
 * displacements once per row: an image and its labels in one pass. */
MdStatus md_warp_many(const MdWarpSpec *s, const MdWarpLayer *layers, int n, MdCtx *ctx) MD_MUST_CHECK;

/* The displacement (input index units) at output index o: what md_warp
 * adds to M o + b. For specs and for callers that want the field. */
void md_warp_displacement(const MdWarpSpec *s, const int64_t out_dim[3], const double o[3],
                          double d[3]);

#endif
