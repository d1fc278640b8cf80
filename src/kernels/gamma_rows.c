/* Power by exp2(g log2 b) in four double lanes (see gamma_rows.h).
 *
 * log2: b = m 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s) with
 * s = (m - 1)/(m + 1), |s| < 0.172, summed to s^13 (what is left is below
 * 1e-12). exp2: y = n + f with n = nearest integer, f in [-1/2, 1/2];
 * 2^f = e^t, t = f ln 2, by its Taylor series to t^10 (the rest is below
 * 3e-13); 2^n is
 * put into the exponent bits. Both series by Estrin's scheme, which keeps
 * the chain of dependent operations short. Results below 2^-1022 flush to 0 (float32
 * voxels could not hold them). */
#include "gamma_rows.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../core/par.h"

typedef double D4 __attribute__((vector_size(4 * sizeof(double))));
typedef int64_t L4 __attribute__((vector_size(4 * sizeof(int64_t))));
typedef uint64_t U4 __attribute__((vector_size(4 * sizeof(uint64_t))));
typedef float F4 __attribute__((vector_size(4 * sizeof(float))));

#define LN2 0x1.62e42fefa39efp-1
#define INV_LN2 0x1.71547652b82fep0
#define SQRT2 0x1.6a09e667f3bcdp0

/* The lanes' b^g for b in (0, 1] (other lanes: anything; the caller
 * replaces them). A macro: vector arguments would change the ABI between
 * the clones. */
#define MAGIC 0x1.8p52 /* adding it leaves round-to-nearest integers in the low bits */

/* The lanes' b^g for b in (0, 1] (other lanes: anything; the caller
 * replaces them). Integers move between the lanes' bits and doubles only
 * by the exponent-field tricks (AVX2 has no 64-bit conversions). A macro:
 * vector arguments would change the ABI between the clones. */
#define POW4(b, g, out)                                                                              \
    do {                                                                                             \
        const U4 bits_ = (U4)(b);                                                                    \
        /* the biased exponent as a double: its bits under 2^52's exponent, less 2^52 */             \
        D4 e_ = (D4)((bits_ >> 52) | 0x4330000000000000ULL) - (0x1p52 + 1023.0);                     \
        D4 m_ = (D4)((bits_ & 0xfffffffffffffULL) | 0x3ff0000000000000ULL);                          \
        const L4 big_ = m_ > SQRT2;                                                                  \
        m_ = (D4)(((L4)(m_ * 0.5) & big_) | ((L4)m_ & ~big_));                                       \
        e_ += (D4)((L4)(e_ * 0.0 + 1.0) & big_);                                                     \
        const D4 s_ = (m_ - 1.0) / (m_ + 1.0), z_ = s_ * s_, z2_ = z_ * z_, z4_ = z2_ * z2_;        \
        /* sum of z^k / (2k + 1), k = 0..6, by Estrin's scheme (a short dependency chain) */       \
        const D4 p01_ = z_ * (1.0 / 3) + 1.0, p23_ = z_ * (1.0 / 7) + 1.0 / 5;                      \
        const D4 p45_ = z_ * (1.0 / 11) + 1.0 / 9;                                                  \
        const D4 p03_ = p23_ * z2_ + p01_, p46_ = (z2_ * (1.0 / 13)) + p45_;                        \
        const D4 p_ = p46_ * z4_ + p03_;                                                            \
        const D4 lg_ = e_ + (2.0 * INV_LN2) * (s_ * p_);                                             \
        D4 y_ = (g) * lg_;                                                                           \
        const L4 tiny_ = y_ < -1022.0;                                                               \
        y_ = (D4)((L4)y_ & ~tiny_); /* 0 there: harmless arithmetic, zeroed at the end */           \
        const D4 big_y_ = y_ + MAGIC;                                                                \
        const D4 t_ = (y_ - (big_y_ - MAGIC)) * LN2;                                                 \
        /* e^t = sum of t^k / k!, k = 0..10, by Estrin's scheme */                                 \
        const D4 t2_ = t_ * t_, t4_ = t2_ * t2_, t8_ = t4_ * t4_;                                   \
        const D4 q01_ = t_ + 1.0, q23_ = t_ * (1.0 / 6) + 0.5;                                      \
        const D4 q45_ = t_ * (1.0 / 120) + 1.0 / 24, q67_ = t_ * (1.0 / 5040) + 1.0 / 720;          \
        const D4 q89_ = t_ * (1.0 / 362880) + 1.0 / 40320;                                          \
        const D4 q03_ = q23_ * t2_ + q01_, q47_ = q67_ * t2_ + q45_;                                \
        const D4 q8a_ = t2_ * (1.0 / 3628800) + q89_;                                               \
        const D4 q_ = q8a_ * t8_ + (q47_ * t4_ + q03_);                                             \
        /* 2^n from n's bits in big_y_ (two's complement in its low bits) */                         \
        const U4 n_ = (U4)big_y_ - (U4)((D4){MAGIC, MAGIC, MAGIC, MAGIC});                           \
        const D4 scale_ = (D4)((n_ + 1023) << 52);                                                   \
        (out) = (D4)((L4)(q_ * scale_) & ~tiny_);                                                    \
    } while (0)

MD_VECTOR_CLONES static void gamma_run(float *x, size_t n, double sign, double lo, double range, double g)
{
    const double den = range + 1e-7, inv = 1.0 / den;
    const D4 one = {1.0, 1.0, 1.0, 1.0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        F4 f;
        memcpy(&f, x + i, sizeof f);
        const D4 b = (sign * __builtin_convertvector(f, D4) - lo) * inv;
        /* b = 0 (the minimum itself, often a whole background) gives 0 */
        const L4 zero = b == 0.0, ok = (b > 0.0) & (b <= 1.0);
        D4 p = b * 0.0;
        if (!(zero[0] & zero[1] & zero[2] & zero[3])) {
            POW4((D4)(((L4)b & ok) | ((L4)one & ~ok)), g, p);
            p = (D4)((L4)p & ~zero);
        }
        const D4 v = sign * (p * range + lo);
        F4 o = __builtin_convertvector(v, F4);
        const L4 odd = ~(ok | zero); /* non-finite voxels: libm */
        if (__builtin_expect((odd[0] | odd[1] | odd[2] | odd[3]) != 0, 0))
            for (int l = 0; l < 4; l++)
                if (odd[l]) o[l] = (float)(sign * (md_gamma_pow(b[l], g) * range + lo));
        memcpy(x + i, &o, sizeof o);
    }
    for (; i < n; i++) {
        const double b = (sign * (double)x[i] - lo) * inv;
        x[i] = (float)(sign * (md_gamma_pow(b, g) * range + lo));
    }
}

double md_gamma_pow(double b, double g)
{
    if (!(b > 0.0 && b <= 1.0)) return b == 0.0 ? 0.0 : pow(b, g);
    D4 v = {b, b, b, b}, p;
    POW4(v, g, p);
    return p[0];
}

void md_gamma_rows(float *x, size_t n, double sign, double lo, double range, double g)
{
    gamma_run(x, n, sign, lo, range, g);
}
