/* Filters built from several separable correlations: Laplacian, Laplacian
 * of Gaussian, gradient magnitudes and the Sobel/Prewitt/Scharr/Roberts
 * edge magnitudes of scikit-image. */
#ifndef MD_FILTER_EDGES_H
#define MD_FILTER_EDGES_H

#include "filter.h"

typedef enum { MD_COMBINE_SUM, MD_COMBINE_HYPOT } MdCombine;

/* out (float32 or float64) = scale * sum_s t_s (SUM) or
 * scale * sqrt(sum_s t_s^2) (HYPOT), where t_s is in correlated with the
 * three kernels sets[s] (as md_filter_separable), accumulated in out's
 * precision in set order. */
MdStatus md_filter_combined(const MdVolume *in, const MdKernel1 (*sets)[3], int nsets, MdCombine how, double scale,
                            MdBorder mode, double cval, MdVolume *out, MdCtx *ctx) MD_MUST_CHECK;

/* skimage.filters.roberts in each z slice: sqrt((pos^2 + neg^2) / 2) with
 * pos = I(x+1, y+1) - I(x, y), neg = I(x, y+1) - I(x+1, y) (skimage's
 * convolutions with its 2x2 kernels, reflect border). out float32/64. */
MdStatus md_filter_roberts(const MdVolume *in, MdVolume *out, MdCtx *ctx) MD_MUST_CHECK;

#endif
