/* One-dimensional building blocks of resampling, with scipy.ndimage's
 * numbers: boundary modes (where a coordinate or a tap outside the input
 * lands), B-spline weights of order 0, 1 and 3, the cubic B-spline
 * prefilter with each mode's boundary initialisation, and the Gaussian
 * anti-aliasing filter with ndimage's filter boundaries. The loops over
 * volumes live in resample.c and transform.c. No Lua here. */
#ifndef MD_SPLINE_H
#define MD_SPLINE_H

#include <stdint.h>

#include "../core/err.h"

/* Boundary modes, named as scipy.ndimage names them (extension of a b c d). */
typedef enum {
    MD_BOUND_CONSTANT,      /* 'constant': fill value outside [0, n-1]; taps mirror */
    MD_BOUND_GRID_CONSTANT, /* 'grid-constant': k k | a b c d | k k, interpolated */
    MD_BOUND_NEAREST,       /* 'nearest': a a | a b c d | d d */
    MD_BOUND_MIRROR,        /* 'mirror': c b | a b c d | c b */
    MD_BOUND_REFLECT,       /* 'reflect' = 'grid-mirror': b a | a b c d | d c */
    MD_BOUND_GRID_WRAP,     /* 'grid-wrap': c d | a b c d | a b */
    MD_BOUND_WRAP,          /* 'wrap': scipy's own periodic rule (period n - 1) */
    MD_BOUND_COUNT
} MdBoundary;

/* The mode named s (scipy's names, "grid-mirror" included), or -1. */
int md_boundary_from_name(const char *s);

/* Where scipy looks up an input coordinate *c on a line of n samples:
 * folds a coordinate outside [0, n-1] back as the mode says (in place).
 * Returns 1 when the whole sample is the fill value ('constant' mode
 * outside the line), else 0. */
int md_spline_map_coord(double *c, int64_t n, MdBoundary m);

/* The sample a tap at integer index i (possibly outside 0..n-1) reads,
 * or -1 for the fill value ('grid-constant'). */
int64_t md_spline_tap(int64_t i, int64_t n, MdBoundary m);

/* Weights of the order+1 taps around c (order 0, 1 or 3); returns the
 * index of the first tap (order 0: floor(c + 0.5); 1: floor(c);
 * 3: floor(c) - 1). */
int64_t md_spline_weights(double c, int order, double w[4]);

/* Samples of padding scipy adds on each side before the cubic prefilter
 * ('nearest' and 'grid-constant'; 0 for the other modes). */
int md_spline_npad(MdBoundary m, int order);

/* Cubic B-spline prefilter, in place, over `width` interleaved lines of n
 * samples: sample i of line x is c[i * stride + x]. The causal and
 * anti-causal initialisations follow the mode as scipy's spline_filter1d
 * does (mirror for constant, grid-constant, mirror and wrap; reflect for
 * reflect and nearest; periodic for grid-wrap), including scipy's reading
 * of the partly updated first coefficient in the reflect initialisation. */
void md_spline_prefilter(double *c, int64_t n, int64_t stride, int64_t width, MdBoundary m);

/* Gaussian kernel of ndimage.gaussian_filter1d (truncate 4): fills
 * k[0..2r] and returns r = (int)(4 sigma + 0.5). k must hold 2r+1 values;
 * md_gauss_radius gives r first. */
int md_gauss_radius(double sigma);
void md_gauss_kernel(double sigma, double *k);

/* Correlates `width` interleaved lines of n samples with the kernel
 * k[0..2r], with ndimage's filter boundaries for mode (constant modes use
 * fill; mirror: whole-sample, reflect: half-sample; nearest; wraps:
 * period n). tmp holds (n + 2r) * width samples. In place on c. */
void md_gauss_apply(double *c, int64_t n, int64_t stride, int64_t width, const double *k, int r,
                    MdBoundary m, double fill, double *tmp);

#endif
