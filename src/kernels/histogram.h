/* Value statistics that need the whole distribution: numpy.histogram,
 * numpy.percentile / median, numpy.unique with counts, optionally inside a
 * mask. NaN voxels are never counted (as numpy's nan* functions). Every
 * function reads the voxels once or twice: 8- and 16-bit volumes through a
 * table of counts per value, the others through order-preserving integer
 * keys (radix selection for quantiles, radix sort for unique). The
 * element-wise statistics (min, max, mean, std) live in arith.h. */
#ifndef MD_HISTOGRAM_H
#define MD_HISTOGRAM_H

#include "../core/ctx.h"
#include "../core/volume.h"

/* The voxels a statistic reads: all of v, or those where mask != 0 (any
 * dtype, same voxel count as v). NaN voxels are always left out. */
typedef struct MdSelection {
    const MdVolume *v;    /* borrowed */
    const MdVolume *mask; /* borrowed, may be NULL */
} MdSelection;

/* Smallest and largest value and the number of voxels selected. Fails when
 * the selection is empty or shapes differ. */
MdStatus md_value_range(const MdSelection *s, double *lo, double *hi, size_t *count, MdCtx *ctx) MD_MUST_CHECK;

/* numpy.histogram's edges for nbins equal bins over [lo, hi] for dtype t:
 * numpy's linspace in double, rounded to float32 when t is float32 (numpy
 * keeps float32 data's bins in float32); lo == hi widens to lo-0.5, hi+0.5.
 * edges has nbins + 1 entries. */
void md_histogram_edges(MdDtype t, double lo, double hi, int64_t nbins, double *edges);

/* counts[i] = selected voxels x with edges[i] <= x < edges[i+1] (the last
 * bin also takes x == edges[nbins]), nbins >= 1, edges ascending.
 * uniform != 0 says the edges came from md_histogram_edges (a direct bin
 * estimate, then the exact edge test); otherwise bins are found by binary
 * search. Values outside [edges[0], edges[nbins]] are not counted. */
MdStatus md_histogram(const MdSelection *s, const double *edges, int64_t nbins, int uniform, int64_t *counts,
                      MdCtx *ctx) MD_MUST_CHECK;

/* numpy.percentile's methods (numpy >= 1.22 names). */
typedef enum {
    MD_Q_LINEAR, MD_Q_LOWER, MD_Q_HIGHER, MD_Q_MIDPOINT, MD_Q_NEAREST, MD_Q_INVERTED_CDF,
    MD_Q_AVERAGED_INVERTED_CDF, MD_Q_CLOSEST_OBSERVATION, MD_Q_INTERPOLATED_INVERTED_CDF, MD_Q_HAZEN,
    MD_Q_WEIBULL, MD_Q_MEDIAN_UNBIASED, MD_Q_NORMAL_UNBIASED, MD_Q_NMETHODS
} MdQuantileMethod;

/* The method's numpy name, or NULL. */
const char *md_quantile_method_name(MdQuantileMethod m);

/* out[i] = numpy.percentile(selected, pct[i], method) for nq percentiles in
 * [0, 100], computed as numpy does (float64 index arithmetic, the lerp in
 * the data's precision for the difference). Fails on an empty selection. */
MdStatus md_percentiles(const MdSelection *s, const double *pct, int nq, MdQuantileMethod method, double *out,
                        MdCtx *ctx) MD_MUST_CHECK;

/* numpy.median(selected): the middle value, or the mean of the two middle
 * values (in float32 for float32 data, as numpy's mean is). */
MdStatus md_median_value(const MdSelection *s, double *out, MdCtx *ctx) MD_MUST_CHECK;

/* The distinct selected values in ascending order with their counts
 * (numpy.unique(..., return_counts=True); -0.0 counts as 0.0). *values and
 * *counts are new (free them); *n is their length (0 for an empty selection). */
MdStatus md_unique(const MdSelection *s, double **values, int64_t **counts, size_t *n, MdCtx *ctx) MD_MUST_CHECK;

#endif
