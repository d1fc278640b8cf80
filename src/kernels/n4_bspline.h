/* Uniform tensor-product B-splines on a regular grid, for the N4 bias field:
 * the control lattice, the per-axis basis tables, the one-pass least-squares
 * fit of Lee, Wolberg & Shin (as ITK's BSplineScatteredDataPointSetToImage-
 * Filter does it for one level), lattice doubling, and evaluation. Because
 * the points lie on a grid, each of these factors along the axes: the fit
 * and the evaluation touch each grid point with (order+1) taps per axis in
 * turn instead of (order+1)^3 at once. No Lua; no image geometry (index
 * space only). */
#ifndef MD_N4_BSPLINE_H
#define MD_N4_BSPLINE_H

#include <stdint.h>

#include "../core/err.h"

#define MD_N4_MAX_ORDER 3

/* Control lattice: m[a] points per axis, phi x fastest (new, owned). */
typedef struct MdN4Lattice {
    int m[3];
    int order;
    double *phi;
} MdN4Lattice;

/* The basis along one axis of a grid of n points mapped onto the lattice's
 * parametric range [0, m - order) as ITK maps it: u = spans * i / (n - 1),
 * the last point pulled in by 1e-3 of a grid step. For grid point i:
 * span[i] is the first control point it touches and w[i*(order+1) + r] the
 * weight of control point span[i] + r; s2[i] is the sum of the squared
 * weights. */
typedef struct MdN4Axis {
    int64_t n;
    int order;
    int32_t *span;
    double *w;
    double *s2;
} MdN4Axis;

/* A zero lattice of m[0..2] points (each > order). */
MdStatus md_n4_lattice_new(MdN4Lattice *lat, const int m[3], int order, MdError *err) MD_MUST_CHECK;
void md_n4_lattice_free(MdN4Lattice *lat);

/* The table of n points (n >= 2) onto m control points of the order. */
MdStatus md_n4_axis_new(MdN4Axis *ax, int64_t n, int m, int order, MdError *err) MD_MUST_CHECK;
void md_n4_axis_free(MdN4Axis *ax);

/* Least-squares B-spline fit of grid values z with point weights wc (0
 * excludes a point), in two steps so that callers can fuse their own
 * per-slice work and run slices in parallel:
 *   md_n4_fit_slice gathers grid slice l (z and wc point at the slice's
 *     n0*n1 values) into planes[0 .. 2*m0*m1): the numerator and
 *     denominator sums of each (x, y) control point; row holds 2*m0 values.
 *   md_n4_fit_fold spreads the slices' planes (slice l at planes +
 *     l*2*m0*m1) along z in slice order and sets out->phi = numerator /
 *     denominator (0 where no point reaches); omega holds the lattice's size.
 * Per control point this is sum(wc t^3 z / w2) / sum(wc t^2), t the point's
 * tensor weight for it and w2 its sum of squared tensor weights: ITK's
 * one-level BSplineScatteredDataPointSetToImageFilter. The result does not
 * depend on how slices were shared among threads. */
void md_n4_fit_slice(const MdN4Axis ax[3], const float *z, const float *wc, int m0, int m1, double *row,
                     double *planes);
void md_n4_fit_fold(const MdN4Axis *az, const double *planes, MdN4Lattice *out, double *omega);

/* Doubles the spans of lat on every axis (m -> 2(m - order) + order), the
 * same spline on a finer lattice (binomial subdivision). In place. */
MdStatus md_n4_refine(MdN4Lattice *lat, MdError *err) MD_MUST_CHECK;

/* Evaluation, split so callers can fuse their own per-voxel work:
 * plane: q[m0*m1] = the lattice collapsed along z at grid slice l;
 * row:   out[0..n0) = the spline along grid row j of that slice (scratch r
 *        holds m0 values). */
void md_n4_eval_plane(const MdN4Lattice *lat, const MdN4Axis *az, int64_t l, double *q);
void md_n4_eval_row(const MdN4Lattice *lat, const MdN4Axis *ax, const MdN4Axis *ay, const double *q,
                    int64_t j, double *r, double *out);

#endif
