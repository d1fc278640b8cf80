/* Helpers the element-wise fast paths share: which dtypes hold which values
 * exactly, float32 thresholds, non-zero bytes, operand blocks converted
 * with the row converter (core/rows). */
#include "arith_impl.h"

#include <stdint.h>

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
    md_rows_convert(data + start * md_dtype_size(v->dtype), v->dtype, buf, t, n, MD_ROUND_NEAREST);
    return buf;
}

double md_arith_convert1(double x, MdDtype t)
{
    double buf[1];
    md_rows_convert(&x, MD_FLOAT64, buf, t, 1, MD_ROUND_NEAREST);
    return md_load(buf, t, 0);
}
