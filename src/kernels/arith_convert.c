/* Conversions between dtypes, one typed loop per (source, destination) pair:
 * the core of astype and of every fast path that needs an operand in another
 * type. The results are those of the double path (load as double, round half
 * away from zero or by the chosen mode, saturate, NaN -> 0), computed without
 * a per-voxel call or switch. */
#include "arith_impl.h"

#include <float.h>
#include <stdint.h>

/* Rounds x (already clamped to the destination's range, not NaN) by mode R
 * through an integer of type TT: x - trunc(x) is exact there. */
#define ROUND_TO(TT, x, R)                                                                  \
    ((R) == MD_ROUND_TRUNC   ? (TT)(x)                                                     \
     : (R) == MD_ROUND_FLOOR ? (TT)((TT)(x) - ((x) < (double)(TT)(x)))                     \
     : (R) == MD_ROUND_CEIL  ? (TT)((TT)(x) + ((x) > (double)(TT)(x)))                     \
                             : (TT)((TT)(x) + ((x) - (double)(TT)(x) >= 0.5) -            \
                                    ((x) - (double)(TT)(x) <= -0.5)))

/* Float source to integer destination DT with rounding mode R (a constant in
 * each expansion, so the loop holds no switch). uint32 needs a 64-bit
 * intermediate; every other integer type fits in int32. */
#define FLOAT_TO_INT(DT, R)                                                                 \
    do {                                                                                    \
        if (sizeof(DT) == 4 && (DT)-1 > 0) {                                                \
            MD_SIMD for (size_t i = 0; i < n; i++) {                                        \
                double x = (double)s[i];                                                    \
                x = x == x ? x : 0.0;                                                       \
                x = x < lo ? lo : x;                                                        \
                x = x > hi ? hi : x;                                                        \
                d[i] = (DT)ROUND_TO(int64_t, x, R);                                         \
            }                                                                               \
        } else {                                                                            \
            MD_SIMD for (size_t i = 0; i < n; i++) {                                        \
                double x = (double)s[i];                                                    \
                x = x == x ? x : 0.0;                                                       \
                x = x < lo ? lo : x;                                                        \
                x = x > hi ? hi : x;                                                        \
                d[i] = (DT)ROUND_TO(int32_t, x, R);                                         \
            }                                                                               \
        }                                                                                   \
    } while (0)

/* One destination case for a source type ST (s, n, r, st in scope). */
#define TO_CASE(tag, name, DT, disf)                                                        \
    case MD_##tag: {                                                                        \
        DT *d = (DT *)dst;                                                                  \
        const double lo = md_dtype_min(MD_##tag), hi = md_dtype_max(MD_##tag);              \
        if (disf || (!src_float && md_arith_exact_into(st, MD_##tag))) {                    \
            MD_SIMD for (size_t i = 0; i < n; i++) d[i] = (DT)s[i];                         \
        } else if (!src_float) {                                                            \
            const int64_t ilo = (int64_t)lo, ihi = (int64_t)hi;                             \
            MD_SIMD for (size_t i = 0; i < n; i++) {                                        \
                int64_t x = (int64_t)s[i];                                                  \
                x = x < ilo ? ilo : x;                                                      \
                x = x > ihi ? ihi : x;                                                      \
                d[i] = (DT)x;                                                               \
            }                                                                               \
        } else {                                                                            \
            switch (r) {                                                                    \
            case MD_ROUND_TRUNC: FLOAT_TO_INT(DT, MD_ROUND_TRUNC); break;                   \
            case MD_ROUND_FLOOR: FLOAT_TO_INT(DT, MD_ROUND_FLOOR); break;                   \
            case MD_ROUND_CEIL: FLOAT_TO_INT(DT, MD_ROUND_CEIL); break;                     \
            default: FLOAT_TO_INT(DT, MD_ROUND_NEAREST); break;                             \
            }                                                                               \
        }                                                                                   \
    } break;

/* from_<type>(src, st, dst, dt, n, r): the destination switch for one source type. */
#define FROM_FN(ST)                                                                         \
    MD_VECTOR_CLONES static void from_##ST(const void *src, MdDtype st, void *dst, MdDtype dt, size_t n,    \
                          MdRounding r)                                                     \
    {                                                                                       \
        const ST *s = (const ST *)src;                                                      \
        const int src_float = (ST)0.5 != (ST)0;                                             \
        switch (dt) {                                                                       \
            MD_DTYPE_LIST(TO_CASE)                                                          \
        default: break;                                                                     \
        }                                                                                   \
    }
FROM_FN(uint8_t)
FROM_FN(int8_t)
FROM_FN(uint16_t)
FROM_FN(int16_t)
FROM_FN(uint32_t)
FROM_FN(int32_t)
FROM_FN(float)
FROM_FN(double)
#undef FROM_FN
#undef TO_CASE
#undef FLOAT_TO_INT
#undef ROUND_TO

void md_arith_convert(const void *src, MdDtype st, void *dst, MdDtype dt, size_t n, MdRounding r)
{
    switch (st) {
#define MD_X(tag, name, ctype, isf) \
    case MD_##tag: from_##ctype(src, st, dst, dt, n, r); break;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: break;
    }
}

int md_arith_exact_into(MdDtype a, MdDtype b)
{
    if (a == b || b == MD_FLOAT64) return 1;
    if (md_dtype_is_float(a)) return 0; /* float32 only fits float32 and float64 */
    if (b == MD_FLOAT32) return md_dtype_size(a) <= 2;
    return md_dtype_min(b) <= md_dtype_min(a) && md_dtype_max(a) <= md_dtype_max(b);
}

int md_arith_scalar_fits(double x, MdDtype t)
{
    switch (t) {
    case MD_FLOAT64: return 1;
    case MD_FLOAT32: return x != x || (double)(float)x == x;
    default: return x == floor(x) && x >= md_dtype_min(t) && x <= md_dtype_max(t);
    }
}

float md_arith_float_ceil(double x)
{
    float f = (float)x;
    if ((double)f < x) f = nextafterf(f, INFINITY);
    return f;
}

float md_arith_float_floor(double x)
{
    float f = (float)x;
    if ((double)f > x) f = nextafterf(f, -INFINITY);
    return f;
}

MD_VECTOR_CLONES void md_arith_nonzero(const void *src, MdDtype t, size_t start, size_t n, uint8_t *dst)
{
    switch (t) {
#define MD_X(tag, name, ctype, isf)                                                         \
    case MD_##tag: {                                                                        \
        const ctype *s = (const ctype *)src + start;                                        \
        MD_SIMD for (size_t i = 0; i < n; i++) dst[i] = s[i] != 0;                          \
    } break;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: break;
    }
}

const void *md_arith_operand_block(const MdVolume *v, MdDtype t, size_t start, size_t n, void *buf)
{
    const char *data = (const char *)md_volume_data(v);
    if (v->dtype == t) return data + start * md_dtype_size(t);
    md_arith_convert(data + start * md_dtype_size(v->dtype), v->dtype, buf, t, n, MD_ROUND_NEAREST);
    return buf;
}

double md_arith_convert1(double x, MdDtype t)
{
    double buf[1];
    md_arith_convert(&x, MD_FLOAT64, buf, t, 1, MD_ROUND_NEAREST);
    return md_load(buf, t, 0);
}
