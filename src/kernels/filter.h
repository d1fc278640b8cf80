/* Linear and rank filters with scipy.ndimage's boundary modes: separable
 * correlation (Gaussian, uniform, derivative kernels), correlation with any
 * 2-D/3-D kernel, minimum/maximum and median filters over boxes. Inputs are
 * 2-D or 3-D volumes of any dtype; 3-D volumes may be filtered slice by
 * slice (the z kernel left out). Threads over slices (rows for the z pass);
 * results do not depend on the thread count. Edge detectors composed of
 * these live in filter_edges.h. */
#ifndef MD_FILTER_H
#define MD_FILTER_H

#include "../core/ctx.h"
#include "../core/volume.h"

/* scipy.ndimage's modes for filters ("grid-mirror" is reflect, "grid-wrap"
 * is wrap, "grid-constant" is constant). */
typedef enum { MD_BORDER_REFLECT, MD_BORDER_CONSTANT, MD_BORDER_NEAREST, MD_BORDER_MIRROR, MD_BORDER_WRAP } MdBorder;

/* Index of position i (any integer) on an axis of n samples under mode b;
 * -1 for CONSTANT outside [0, n). */
static inline int64_t md_border_index(int64_t i, int64_t n, MdBorder b)
{
    if (i >= 0 && i < n) return i;
    switch (b) {
    case MD_BORDER_CONSTANT: return -1;
    case MD_BORDER_NEAREST: return i < 0 ? 0 : n - 1;
    case MD_BORDER_WRAP: {
        int64_t r = i % n;
        return r < 0 ? r + n : r;
    }
    case MD_BORDER_MIRROR: {
        if (n == 1) return 0;
        int64_t p = 2 * n - 2, r = i % p;
        if (r < 0) r += p;
        return r < n ? r : p - r;
    }
    default: { /* reflect: d c b a | a b c d | d c b a */
        int64_t p = 2 * n, r = i % p;
        if (r < 0) r += p;
        return r < n ? r : p - 1 - r;
    }
    }
}

/* A 1-D kernel: out[i] = sum_k w[k] * in[i + k - center]; len 0 = identity. */
typedef struct MdKernel1 {
    const double *w; /* borrowed */
    int len, center;
} MdKernel1;

/* out (float32 or float64, in's dims) = in correlated with k[0] along x,
 * k[1] along y and k[2] along z (the z kernel must be empty for 2-D). */
MdStatus md_filter_separable(const MdVolume *in, const MdKernel1 k[3], MdBorder mode, double cval, MdVolume *out,
                             MdCtx *ctx) MD_MUST_CHECK;

/* out (float32 or float64) = scipy.ndimage.correlate(in, w) where w is a
 * kx*ky*kz block (x fastest) whose centre is at (cx, cy, cz); kz = 1 on a
 * 2-D volume or for per-slice filtering. Sums in double. */
MdStatus md_filter_correlate(const MdVolume *in, const double *w, const int kdim[3], const int center[3],
                             MdBorder mode, double cval, MdVolume *out, MdCtx *ctx) MD_MUST_CHECK;

/* out (in's dtype and dims) = minimum or maximum over the box of
 * half-widths r[0..2] (r[2] = 0 for per-slice), as scipy's
 * minimum_filter/maximum_filter with size 2r+1. */
MdStatus md_filter_minmax(const MdVolume *in, const int r[3], int is_max, MdBorder mode, double cval, MdVolume *out,
                          MdCtx *ctx) MD_MUST_CHECK;

/* out (in's dtype and dims) = median over the box of half-widths r, as
 * scipy.ndimage.median_filter with size 2r+1. */
MdStatus md_filter_median(const MdVolume *in, const int r[3], MdBorder mode, double cval, MdVolume *out,
                          MdCtx *ctx) MD_MUST_CHECK;

/* scipy's Gaussian kernel (order 0, 1 or 2) of sigma (voxels) truncated at
 * truncate*sigma: fills w (2*radius+1 entries, at most max) reversed for
 * correlation as scipy does, returns the radius, or -1 when it would not fit. */
int md_gaussian_kernel(double sigma, int order, double truncate, double *w, int max);

#endif
