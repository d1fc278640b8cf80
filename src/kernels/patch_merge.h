/* Merging patches back into a volume: a weighted running mean per voxel,
 * kept in float32 (float64 on request) accumulators, optionally over a
 * sliding window of planes so that finished slabs can be written out while
 * later patches are still arriving. No Lua here; indices are 0-based.
 *
 * The running mean m += (w / W) * (x - m), with W the weight summed so far,
 * leaves m unchanged when x equals m: merging identical copies of a voxel
 * gives that voxel back bit for bit, whatever the weights and the number of
 * overlaps (a sum followed by a division would round). */
#ifndef MD_PATCH_MERGE_H
#define MD_PATCH_MERGE_H

#include "patch.h"

/* Whether a result of dtype t needs double accumulators to come back exact:
 * float32 holds integers only up to 2^24, so int32, uint32 and float64
 * results accumulate in double; the rest in float32. */
static inline int md_merge_needs_double(MdDtype t)
{
    return t == MD_FLOAT64 || t == MD_INT32 || t == MD_UINT32;
}

/* Planes are the unit of streaming: z-slices of a 3-D grid, rows (y) of a
 * 2-D grid. The accumulators hold `window` planes in a ring. */
typedef struct MdPatchMerger {
    MdPatchGrid grid;
    int dbl;          /* accumulate in double */
    int streaming;    /* window < nplanes: patches must arrive in grid order */
    float *wmap;      /* new: patch-shaped weights, NULL when every voxel weighs 1 */
    MdDtype wtype;    /* of the weight accumulator: uint8/uint16 patch counts when every
                         voxel weighs 1 and they fit, float32/float64 summed weights */
    int64_t channels; /* 0 until the first patch */
    int64_t plane;    /* voxels per plane */
    int64_t nplanes;  /* planes along the slowest spatial axis */
    int64_t window;   /* planes held */
    int64_t lo;       /* first plane not yet emitted */
    int64_t row;      /* patch row (along the slowest axis) of the last patch added */
    int taken;        /* the accumulator became the result volume */
    MdBuffer *acc;    /* new: channels x window x plane running means */
    MdBuffer *wsum;   /* new: window x plane summed weights */
    uint8_t *seen;    /* new: one bit per patch added (allocated with the accumulators) */
    size_t added;
} MdPatchMerger;

/* Sets up m (no accumulator yet: it is sized by the first patch's
 * channels). streaming: hold only patch[slowest] planes and emit the rest as
 * they finish. dbl: float64 accumulators. Never fails. */
void md_merge_init(MdPatchMerger *m, const MdPatchGrid *g, int dbl, int streaming);

/* Releases what m holds; m can be freed afterwards. */
void md_merge_free(MdPatchMerger *m);

/* MONAI's Gaussian importance map (monai.data.utils.compute_importance_map,
 * mode "gaussian", MONAI >= 0.9): per axis g(i) = exp(-(i - (p-1)/2)^2 /
 * (2 sigma^2)) with sigma = sigma_scale[a] * p, computed in float32; the map
 * is the product over axes, then clamped below at max(min(map), 1e-3).
 * out: patch[0]*patch[1]*patch[2] values, x fastest. */
void md_patch_gaussian(int ndim, const int64_t patch[3], const double sigma_scale[3], float *out);

/* Weights: Gaussian (sigma_scale per axis) or a patch-shaped volume whose
 * values must all be > 0 and finite. Before the first patch only. */
MdStatus md_merge_set_gaussian(MdPatchMerger *m, const double sigma_scale[3],
                               MdError *err) MD_MUST_CHECK;
MdStatus md_merge_set_map(MdPatchMerger *m, const MdVolume *map, MdError *err) MD_MUST_CHECK;

/* Before adding patch n in streaming mode: *plane_end receives the plane
 * before which everything is final (emit [m->lo, *plane_end) and advance).
 * Non-streaming: lo. Fails when patch n was already added (it would count
 * twice) or, streaming, lies in a row before the current one. */
MdStatus md_merge_pending(const MdPatchMerger *m, size_t n, int64_t *plane_end,
                          MdError *err) MD_MUST_CHECK;

/* Adds patch n (any dtype; spatial shape of the grid's patch; channels on
 * axis 4; the same channel count every time; each n once). Parallel over
 * rows. */
MdStatus md_merge_add(MdPatchMerger *m, size_t n, const MdVolume *patch,
                      MdError *err) MD_MUST_CHECK;

/* Writes planes [p0, p1) of the merged result into dst (borrowed), whose
 * spatial shape is the grid's except along the plane axis, where it needs
 * at least dst_p0 + (p1 - p0) planes, and whose channels are the merger's:
 * the mean where some weight fell, fill elsewhere, rounded and saturated
 * to dst's dtype. Planes before m->lo are gone (an error). */
MdStatus md_merge_emit(const MdPatchMerger *m, int64_t p0, int64_t p1, double fill,
                       MdVolume *dst, int64_t dst_p0, MdError *err) MD_MUST_CHECK;

/* The same for the uint8 coverage mask (1 where some weight fell). dst has
 * one channel. */
MdStatus md_merge_coverage(const MdPatchMerger *m, int64_t p0, int64_t p1, MdVolume *dst,
                           int64_t dst_p0, MdError *err) MD_MUST_CHECK;

/* Declares planes before p_end final and emitted: their ring slots are
 * cleared for the planes that follow. */
void md_merge_advance(MdPatchMerger *m, int64_t p_end);

/* Non-streaming, accumulator dtype equal to out's: writes fill into
 * uncovered voxels and hands the accumulator to out (whose dtype and dims
 * the caller set) without a copy. The merger accepts no patch afterwards. */
MdStatus md_merge_take(MdPatchMerger *m, double fill, MdVolume *out, MdError *err) MD_MUST_CHECK;

/* Accumulator bytes a merger of this grid holds for `channels` channels:
 * (channels * (4 or 8) + weight bytes) * window planes * plane voxels; the
 * weight accumulator takes 1 or 2 bytes per voxel (patch counts) unless
 * weighted (a Gaussian or a map: 4 or 8). */
size_t md_merge_bytes(const MdPatchGrid *g, int64_t channels, int dbl, int streaming,
                      int weighted);

#endif
