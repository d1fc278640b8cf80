/* Row converters: a run of voxels of any dtype to and from float or double
 * scratch. Floating kernels (filters, resampling, bias fields) load a row,
 * compute in float/double, and store back through these, so the rounding
 * (halves away from zero by default), saturation and NaN rule (NaN -> 0 in
 * integer types) are written once. start and n count elements. */
#ifndef MD_ROWS_H
#define MD_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "dtype.h"

/* How a floating value becomes an integer voxel. */
typedef enum { MD_ROUND_NEAREST, MD_ROUND_TRUNC, MD_ROUND_FLOOR, MD_ROUND_CEIL } MdRounding;

/* dst[0..n) = src[start..start+n) converted. */
void md_rows_to_f64(const void *src, MdDtype t, size_t start, size_t n, double *dst);
void md_rows_to_f32(const void *src, MdDtype t, size_t start, size_t n, float *dst);

/* dst[start..start+n) = src converted to t: integer types round (mode r),
 * saturate to the type's range, and take NaN as 0; float types convert. */
void md_rows_from_f64(void *dst, MdDtype t, size_t start, size_t n, const double *src, MdRounding r);
void md_rows_from_f32(void *dst, MdDtype t, size_t start, size_t n, const float *src, MdRounding r);

/* dst[0..n) = src[0..n) converted from dtype st to dt: integer
 * destinations round by mode r, saturate and take NaN as 0; float
 * destinations round to nearest. astype and the element-wise kernels use it;
 * so may any kernel that moves rows between dtypes. */
void md_rows_convert(const void *src, MdDtype st, void *dst, MdDtype dt, size_t n, MdRounding r);

/* dst[0..n) = src[start..start+n) of an integer dtype as int64 (labels). */
void md_rows_to_i64(const void *src, MdDtype t, size_t start, size_t n, int64_t *dst);

/* The same rule for one value (for kernels that produce single voxels). */
double md_rows_round(double x, MdRounding r);

#endif
