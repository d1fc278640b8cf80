/* Row converters between any dtype and float/double scratch: one switch per
 * row, one small loop per dtype. */
#include "rows.h"

#include <math.h>

double md_rows_round(double x, MdRounding r)
{
    switch (r) {
    case MD_ROUND_TRUNC: return trunc(x);
    case MD_ROUND_FLOOR: return floor(x);
    case MD_ROUND_CEIL: return ceil(x);
    default: return round(x); /* halves away from zero */
    }
}

#define TO_ROW(NAME, FT)                                                         \
    void NAME(const void *src, MdDtype t, size_t start, size_t n, FT *dst)       \
    {                                                                            \
        switch (t) {                                                             \
            MD_DTYPE_LIST(TO_CASE_##FT)                                          \
        default: break;                                                          \
        }                                                                        \
    }
#define TO_CASE(tag, ctype, FT)                                                  \
    case MD_##tag: {                                                             \
        const ctype *s = (const ctype *)src + start;                             \
        for (size_t i = 0; i < n; i++) dst[i] = (FT)s[i];                        \
    } break;
#define TO_CASE_double(tag, name, ctype, isf) TO_CASE(tag, ctype, double)
#define TO_CASE_float(tag, name, ctype, isf) TO_CASE(tag, ctype, float)
TO_ROW(md_rows_to_f64, double)
TO_ROW(md_rows_to_f32, float)
#undef TO_ROW
#undef TO_CASE
#undef TO_CASE_double
#undef TO_CASE_float

#define FROM_ROW(NAME, FT)                                                                 \
    void NAME(void *dst, MdDtype t, size_t start, size_t n, const FT *src, MdRounding r)   \
    {                                                                                      \
        switch (t) {                                                                       \
            MD_DTYPE_LIST(FROM_CASE)                                                       \
        default: break;                                                                    \
        }                                                                                  \
    }
#define FROM_CASE(tag, name, ctype, isf)                                          \
    case MD_##tag: {                                                              \
        ctype *d = (ctype *)dst + start;                                          \
        if (isf) {                                                                \
            for (size_t i = 0; i < n; i++) d[i] = (ctype)src[i];                  \
        } else {                                                                  \
            const double lo = md_dtype_min(t), hi = md_dtype_max(t);              \
            for (size_t i = 0; i < n; i++) {                                      \
                double x = (double)src[i];                                        \
                x = x != x ? 0.0 : md_rows_round(x, r);                           \
                d[i] = (ctype)(x < lo ? lo : x > hi ? hi : x);                    \
            }                                                                     \
        }                                                                         \
    } break;
FROM_ROW(md_rows_from_f64, double)
FROM_ROW(md_rows_from_f32, float)
#undef FROM_ROW
#undef FROM_CASE
