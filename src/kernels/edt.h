/* Exact Euclidean distance transforms with anisotropic spacing: separable
 * lower envelopes of parabolas (Felzenszwalb & Huttenlocher) along x, y,
 * then z. Between passes each voxel keeps the integer offset (dx, dy) to
 * its nearest site so far, and final distances are recomputed from the
 * integer offsets the way scipy does, so results agree with
 * scipy.ndimage.distance_transform_edt to rounding. Axes up to 32766. */
#ifndef MD_EDT_H
#define MD_EDT_H

#include "../core/ctx.h"
#include "../core/volume.h"

typedef struct MdEdtOpts {
    double spacing[3]; /* mm per voxel along x, y, z (all 1: voxel units) */
    int squared;       /* write squared distances */
    int sign;          /* 0: distance of each non-zero voxel to the nearest zero
                          voxel, 0 on zero voxels (scipy); 1: signed, +distance
                          to the nearest non-zero voxel outside the object,
                          -distance to the nearest zero voxel inside */
    int axis;          /* 0: whole volume; 1..3: each slice across this axis */
} MdEdtOpts;

/* out (float32 or float64, mask's dims) = the distance map of mask (uint8,
 * non-zero = object). idx, when not NULL, holds ndim int32 volumes that
 * receive the 1-based x, y[, z] index of each voxel's nearest zero voxel
 * (the voxel itself when it is zero); not with sign. Voxels with no site
 * at all (a mask, or per slice a slice, without zero voxels) get +inf and
 * index 0 on every axis. ctx (borrowed): error slot, threads and progress. */
MdStatus md_edt(const MdVolume *mask, const MdEdtOpts *o, MdVolume *out, MdVolume *const *idx,
                MdCtx *ctx) MD_MUST_CHECK;

/* For morphology: out[i] = (d2(i) > r2) xor invert, where d2 is the
 * squared distance in voxel units from voxel i to the nearest site. Sites
 * are voxels whose (mask != 0) equals site_nonzero, plus every voxel outside
 * the grid when outside is set. planar: each z slice alone. Buffers are
 * n[0]*n[1]*n[2] bytes, x fastest; out may not alias mask. */
MdStatus md_edt_threshold(const uint8_t *mask, const int64_t n[3], int planar, int site_nonzero,
                          int outside, double r2, int invert, uint8_t *out, MdError *err) MD_MUST_CHECK;

#endif
