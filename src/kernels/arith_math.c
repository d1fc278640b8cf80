/* exp and log of a block of doubles (or float32) whose results are stored
 * as float32, a vector of voxels at a time, with the stored float32 equal
 * bit for bit to the scalar libm result rounded to float32 (what the
 * double path stores).
 *
 * How: a short double-precision evaluation (below) whose error is at most
 * a few ulp of double. Rounding to float32 drops 29 of double's 52 fraction
 * bits, so the fast result and libm's (within 1 ulp) round to the same float
 * unless the exact value lies within a few ulp of a halfway point between
 * two floats. Such a result (its low 29 bits within MARGIN of the halfway
 * pattern) and any input outside the evaluated range (0, negatives,
 * subnormals, inf, NaN; exp beyond [-87, 88]) are recomputed by the scalar
 * call. MARGIN = 256 ulp is more than thirty times the largest error found
 * (7 ulp) and sends about one voxel in a million to the scalar call.
 * tools/exp_log_check.c compares every float32 input (and every int32 above
 * 2^24 for log) with the scalar result: make check-exp-log.
 *
 * log: x = 2^k m with m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact),
 * s = f / (2 + f), log m = 2 atanh s = 2s (1 + s^2/3 + s^4/5 + ...); with
 * |s| <= 0.1716 the series to s^16/17 leaves less than 2^-51 relative.
 * exp: k = round(x / ln 2), r = x - k ln2 with ln 2 split in two (the first
 * part has 32 bits, so k times it is exact), exp r by its Taylor series to
 * r^12/12! (|r| <= 0.347: less than 2^-52 relative), scaled by 2^k through
 * the exponent bits. Contracting into FMA or not changes the last bits of
 * the evaluation, never the stored float.
 *
 * The evaluations are written per voxel, with no branch and no conversion
 * between integers and doubles (AVX2 has none for 64-bit integers), so that
 * the compiler vectorises the block loop in each instruction-set clone. */
#include "arith_impl.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define MARGIN 256
#define HALF ((int64_t)1 << 28)
#define LOW29 (((int64_t)1 << 29) - 1)

/* Inputs the evaluations below take (the others go to the scalar call). */
#define EXP_LO (-87.0)
#define EXP_HI 88.0

/* Wider vectors where the processor has them: the block loop is compiled
 * for each and the fastest is chosen at run time. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(MD_NO_CLONES)
#define EXP_LOG_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define EXP_LOG_CLONES
#endif

/* Adding 1.5 * 2^52 to a double below 2^51 in magnitude rounds it to an
 * integer held in the low bits of the sum: integer <-> double without a
 * conversion instruction. */
#define SHIFT 0x1.8p52
#define SHIFT_BITS 0x4338000000000000ULL

static const double LN2_HI = 0x1.62e42fee00000p-1, LN2_LO = 0x1.a39ef35793c76p-33;

static inline uint64_t bits_of(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static inline double double_of(uint64_t b)
{
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* log x for x a positive normal double. */
static inline double short_log(double x)
{
    const uint64_t t = bits_of(x) - 0x3fe6a09e667f3bcdULL; /* bits of sqrt(1/2) */
    /* k = t >> 52 (arithmetic), offset by 2048 to use the logical shift */
    const uint64_t k2048 = (t + 0x8000000000000000ULL) >> 52;
    const double m = double_of(bits_of(x) - (t & 0xfff0000000000000ULL));
    const double f = m - 1.0;
    const double s = f / (f + 2.0);
    const double z = s * s;
    double p = z * (1.0 / 17) + 1.0 / 15;
    p = p * z + 1.0 / 13;
    p = p * z + 1.0 / 11;
    p = p * z + 1.0 / 9;
    p = p * z + 1.0 / 7;
    p = p * z + 1.0 / 5;
    p = p * z + 1.0 / 3;
    const double kd = double_of(SHIFT_BITS + k2048) - (SHIFT + 2048);
    return kd * LN2_HI + (kd * LN2_LO + (s + s) + (s + s) * (p * z));
}

/* exp x for x in [EXP_LO, EXP_HI]. */
static inline double short_exp(double x)
{
    const double ks = x * (1 / M_LN2) + SHIFT; /* SHIFT + round(x / ln 2) */
    const double kd = ks - SHIFT;
    const double r = (x - kd * LN2_HI) - kd * LN2_LO;
    double p = r * (1.0 / 479001600) + 1.0 / 39916800;
    p = p * r + 1.0 / 3628800;
    p = p * r + 1.0 / 362880;
    p = p * r + 1.0 / 40320;
    p = p * r + 1.0 / 5040;
    p = p * r + 1.0 / 720;
    p = p * r + 1.0 / 120;
    p = p * r + 1.0 / 24;
    p = p * r + 1.0 / 6;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    return double_of(bits_of(p) + ((bits_of(ks) - SHIFT_BITS) << 52));
}

/* 1 when the short evaluation takes x: log of a positive normal double,
 * exp of x in [EXP_LO, EXP_HI]. Their results are float32 normals or, for
 * log 1 only, exactly 0 as libm's (the nearest other doubles give about
 * 1e-16): no range test on the result is needed. */
static inline int64_t evaluated(double x, int is_log)
{
    if (is_log) return bits_of(x) - 0x0010000000000000ULL < 0x7fe0000000000000ULL;
    return fabs(x - (EXP_LO + EXP_HI) / 2) <= (EXP_HI - EXP_LO) / 2;
}

/* Nonzero when float(r) might differ from float(libm's result): the input
 * was not evaluated (in = 0), or r's 29 low bits are within MARGIN of the
 * halfway pattern (one subtraction and one unsigned comparison). */
static inline int64_t unsafe(int64_t in, double r)
{
    const uint64_t d = (bits_of(r) - (uint64_t)(HALF - MARGIN + 1)) & LOW29;
    return (in == 0) | (d < 2 * MARGIN - 1);
}

/* r[i] = the short evaluation of x[i] (XT and RT: double or float);
 * nonzero when some voxel needs libm. Inputs outside the evaluated range
 * (inf and NaN among them) give meaningless lanes, which the flag sends to
 * libm; only bit operations and arithmetic run on them. The flag is
 * as wide as a double, and the Makefile compiles this file with
 * -fno-trapping-math (comparisons of NaN may then be evaluated in every
 * lane) and -ffp-contract=fast: GCC 12 vectorises the loops only so. */
#define EVALUATE_LOOP(short_f, is_log, RT)        \
    _Pragma("omp simd reduction(| : any)")        \
    for (size_t i = 0; i < n; i++) {              \
        const double xi = x[i];                   \
        const int64_t in = evaluated(xi, is_log); \
        const double ri = short_f(xi);            \
        r[i] = (RT)ri;                            \
        any |= unsafe(in, ri);                    \
    }

#define EVALUATE_FN(name, XT, RT)                                            \
    EXP_LOG_CLONES static int name(const XT *x, RT *r, size_t n, int is_log) \
    {                                                                        \
        int64_t any = 0;                                                     \
        if (is_log) {                                                        \
            EVALUATE_LOOP(short_log, 1, RT)                                  \
        } else {                                                             \
            EVALUATE_LOOP(short_exp, 0, RT)                                  \
        }                                                                    \
        return any != 0;                                                     \
    }

EVALUATE_FN(evaluate_d, double, double)
EVALUATE_FN(evaluate_f, float, float)

/* The voxels of a block the evaluation flagged, recomputed by libm (the
 * flag is recomputed from the evaluation, as doubles: it is the same). */
#define REDO_FLAGGED(RT)                                             \
    for (size_t i = 0; i < n; i++) {                                 \
        const double xi = x[i];                                      \
        const int64_t in = evaluated(xi, is_log);                    \
        const double ri = is_log ? short_log(xi) : short_exp(xi);    \
        if (unsafe(in, ri)) r[i] = (RT)(is_log ? log(xi) : exp(xi)); \
    }

void md_arith_exp_log_f32(const double *x, double *r, size_t n, int is_log)
{
    if (evaluate_d(x, r, n, is_log)) REDO_FLAGGED(double)
}

void md_arith_exp_log_f32f(const float *x, float *r, size_t n, int is_log)
{
    if (evaluate_f(x, r, n, is_log)) REDO_FLAGGED(float)
}
