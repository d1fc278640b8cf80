/* exp and log of a block of doubles whose results are stored as float32:
 * glibc's vector exp/log (libmvec, four doubles at a time) instead of one
 * scalar libm call per voxel, with the stored float32 unchanged bit for bit.
 *
 * Why the bits cannot change: libmvec's double exp and log are within 4 ulp
 * (of double) of the exact value, and the scalar libm result within 1 ulp,
 * so the two differ by at most 5 ulp. Rounding to float32 drops 29 of
 * double's 52 fraction bits; both round to the same float unless the exact
 * value lies within a few ulp of a halfway point between two floats. Such a
 * result (its low 29 bits within MARGIN of the halfway pattern), and any
 * result outside float32's normal range or from a special input, is
 * recomputed by the scalar call. MARGIN = 256 ulp leaves a wide safety factor
 * over the 5 ulp bound; it sends about one voxel in a million to the scalar
 * call. */
#include "arith_impl.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* The vector variants of exp and log (glibc declares them only under
 * -ffast-math). */
#pragma omp declare simd notinbranch
double exp(double);
#pragma omp declare simd notinbranch
double log(double);

#define MARGIN 256
#define HALF ((int64_t)1 << 28)
#define LOW29 (((int64_t)1 << 29) - 1)

/* 1 when float(r) might differ from float(scalar libm result) for input x. */
static inline int unsafe(double x, double r, int is_log)
{
    int64_t b;
    memcpy(&b, &r, sizeof b);
    const int64_t d = (b & LOW29) - HALF;
    const double a = fabs(r);
    return !(a >= (double)FLT_MIN && a <= (double)FLT_MAX) || (d < MARGIN && d > -MARGIN) ||
           !(x - x == 0) || (is_log && !(x > 0));
}

/* Lanes of four, written with GCC vector types: the scalar test above does
 * not vectorise. Nonzero when some voxel of the block is unsafe. */
typedef double D4 __attribute__((vector_size(32)));
typedef int64_t I4 __attribute__((vector_size(32)));

MD_VECTOR_CLONES static int any_unsafe(const double *x, const double *r, size_t n, int is_log)
{
    const D4 lo = {FLT_MIN, FLT_MIN, FLT_MIN, FLT_MIN}, hi = {FLT_MAX, FLT_MAX, FLT_MAX, FLT_MAX};
    const D4 zero = {0, 0, 0, 0};
    const I4 low29 = {LOW29, LOW29, LOW29, LOW29}, half = {HALF, HALF, HALF, HALF};
    const I4 abs_bits = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
    const I4 logm = {-is_log, -is_log, -is_log, -is_log};
    I4 bad = {0, 0, 0, 0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        D4 xv, rv;
        memcpy(&xv, x + i, sizeof xv);
        memcpy(&rv, r + i, sizeof rv);
        const I4 b = (I4)rv, d = (b & low29) - half;
        const D4 a = (D4)(b & abs_bits);
        bad |= ~((a >= lo) & (a <= hi)) | ((d < MARGIN) & (d > -MARGIN)) | ~((xv - xv) == zero) |
               (logm & ~(xv > zero));
    }
    int any = (bad[0] | bad[1] | bad[2] | bad[3]) != 0;
    for (; i < n; i++) any |= unsafe(x[i], r[i], is_log);
    return any;
}

MD_VECTOR_CLONES static void vec_exp(const double *x, double *r, size_t n)
{
    MD_SIMD for (size_t i = 0; i < n; i++) r[i] = exp(x[i]);
}

MD_VECTOR_CLONES static void vec_log(const double *x, double *r, size_t n)
{
    /* log of 0, negatives, inf and NaN goes to the scalar call below */
    MD_SIMD for (size_t i = 0; i < n; i++) r[i] = log(x[i] > 0 ? x[i] : 1.0);
}

void md_arith_exp_log_f32(const double *x, double *r, size_t n, int is_log)
{
    for (size_t s = 0; s < n; s += MD_ARITH_BLOCK) {
        const size_t m = n - s < MD_ARITH_BLOCK ? n - s : MD_ARITH_BLOCK;
        const double *xs = x + s;
        double *rs = r + s;
        if (is_log)
            vec_log(xs, rs, m);
        else
            vec_exp(xs, rs, m);
        if (!any_unsafe(xs, rs, m, is_log)) continue;
        for (size_t i = 0; i < m; i++)
            if (unsafe(xs[i], rs[i], is_log)) rs[i] = is_log ? log(xs[i]) : exp(xs[i]);
    }
}
