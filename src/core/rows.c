/* Row converters between dtypes: one typed loop per (source, destination)
 * pair, chosen by one switch per row, with the rounding written once and
 * exactly (half away from zero by default, saturation, NaN -> 0). */
#include "rows.h"

#include <math.h>
#include <stdint.h>

#include "par.h"

double md_rows_round(double x, MdRounding r)
{
    switch (r) {
    case MD_ROUND_TRUNC: return trunc(x);
    case MD_ROUND_FLOOR: return floor(x);
    case MD_ROUND_CEIL: return ceil(x);
    default: return round(x); /* halves away from zero */
    }
}

/* True when every value of integer dtype a is a value of integer dtype b. */
static int exact_into(MdDtype a, MdDtype b)
{
    return md_dtype_min(b) <= md_dtype_min(a) && md_dtype_max(a) <= md_dtype_max(b);
}

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
        if (disf || (!src_float && exact_into(st, MD_##tag))) {                    \
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

void md_rows_convert(const void *src, MdDtype st, void *dst, MdDtype dt, size_t n, MdRounding r)
{
    switch (st) {
#define MD_X(tag, name, ctype, isf) \
    case MD_##tag: from_##ctype(src, st, dst, dt, n, r); break;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: break;
    }
}

void md_rows_to_f64(const void *src, MdDtype t, size_t start, size_t n, double *dst)
{
    md_rows_convert((const char *)src + start * md_dtype_size(t), t, dst, MD_FLOAT64, n, MD_ROUND_NEAREST);
}

void md_rows_to_f32(const void *src, MdDtype t, size_t start, size_t n, float *dst)
{
    md_rows_convert((const char *)src + start * md_dtype_size(t), t, dst, MD_FLOAT32, n, MD_ROUND_NEAREST);
}

void md_rows_from_f64(void *dst, MdDtype t, size_t start, size_t n, const double *src, MdRounding r)
{
    md_rows_convert(src, MD_FLOAT64, (char *)dst + start * md_dtype_size(t), t, n, r);
}

void md_rows_from_f32(void *dst, MdDtype t, size_t start, size_t n, const float *src, MdRounding r)
{
    md_rows_convert(src, MD_FLOAT32, (char *)dst + start * md_dtype_size(t), t, n, r);
}

void md_rows_to_i64(const void *src, MdDtype t, size_t start, size_t n, int64_t *dst)
{
    switch (t) {
#define MD_X(tag, name, ctype, isf)                                                         \
    case MD_##tag: {                                                                        \
        const ctype *s = (const ctype *)src + start;                                        \
        MD_SIMD for (size_t i = 0; i < n; i++) dst[i] = (int64_t)s[i];                      \
    } break;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: break;
    }
}
