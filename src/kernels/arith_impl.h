/* Shared by the element-wise kernel files (arith.c, arith_convert.c,
 * arith_ops.c, arith_mask.c, stats.c) and nobody else: the block size, the
 * vectorisation hint, exactness tests between dtypes, and the fast paths
 * arith.c dispatches to. Each fast path returns 1 when it did the work and 0
 * when the case is not one it computes exactly; arith.c then runs the plain
 * double path, which defines the results. */
#ifndef MD_ARITH_IMPL_H
#define MD_ARITH_IMPL_H

#include <math.h>

#include "../core/par.h"
#include "arith.h"

/* Voxels per block: every parallel loop walks blocks, and the scratch a block
 * needs (converted operands) stays in the first-level caches. */
#define MD_ARITH_BLOCK 4096

/* True while md_arith_use_reference is on. */
int md_arith_reference_on(void);

/* True when every value of dtype a is exactly a value of dtype b. */
int md_arith_exact_into(MdDtype a, MdDtype b);

/* True when x (a scalar operand) is exactly a value of dtype t. */
int md_arith_scalar_fits(double x, MdDtype t);

/* The smallest float >= x and the largest float <= x (x a double; NaN stays
 * NaN): thresholds that make a float32 comparison equal a double one. */
float md_arith_float_ceil(double x);
float md_arith_float_floor(double x);

/* x as the double path stores it in dtype t (rounded, saturated), as a double. */
double md_arith_convert1(double x, MdDtype t);

/* dst[0..n) = 1 where src[start..start+n) is non-zero (NaN counts as
 * non-zero, -0 as zero), else 0. */
void md_arith_nonzero(const void *src, MdDtype t, size_t start, size_t n, uint8_t *dst);

/* Block of an operand as dtype t: a pointer into the volume when it already
 * has dtype t, otherwise the converted values in buf (exact: the caller
 * checked md_arith_exact_into). */
const void *md_arith_operand_block(const MdVolume *v, MdDtype t, size_t start, size_t n, void *buf);

/* Fast paths (arith_ops.c): arithmetic, min/max, abs/neg/clamp/fill/astype,
 * sqrt/exp/log. */
int md_arith_fast_binary(MdOperand a, MdOperand b, MdBinaryOp op, MdVolume *out);
/* r = exp(x) or log(x) (is_log) for results stored as float32, equal
 * after rounding to float32 to the scalar libm call (arith_math.c); the
 * second form reads and writes float32 directly. */
void md_arith_exp_log_f32(const double *x, double *r, size_t n, int is_log);
void md_arith_exp_log_f32f(const float *x, float *r, size_t n, int is_log);

int md_arith_fast_unary(const MdVolume *a, MdUnaryOp op, double p1, double p2, MdVolume *out);

/* Fast paths (arith_mask.c): comparisons, logic, between, bnot, where. */
int md_arith_fast_compare(MdOperand a, MdOperand b, MdBinaryOp op, MdVolume *out);
int md_arith_fast_mask_unary(const MdVolume *a, MdUnaryOp op, double p1, double p2, MdVolume *out);
int md_arith_fast_where(const MdVolume *mask, MdOperand a, MdOperand b, MdVolume *out);

#endif
