/* Fast paths that make or read uint8 masks: comparisons, between, bnot,
 * band/bor/bxor, where.
 *
 * A comparison with a number becomes a range test in the volume's own type:
 * for integers x < 2.5 is x <= 2 and x > 1e9 is never true for int16; for
 * float32 the bounds become the nearest float32 on the right side, so the
 * float32 test equals the double one. Two volumes are compared in their
 * dtype, or in one both convert to exactly. Logic reads "non-zero" bytes;
 * where copies values already in the output dtype. */
#include "arith_impl.h"

#include <stdint.h>
#include <string.h>

/* out = inv XOR (lo <= x <= hi); konst >= 0: every voxel is konst. */
typedef struct {
    double lo, hi;
    int inv, konst;
} Range;

/* The range of x (dtype t) for "x op s" (op a comparison, or BETWEEN p1..p2
 * as op < 0). */
static Range scalar_range(int op, double s, double p2, MdDtype t)
{
    Range r = {-HUGE_VAL, HUGE_VAL, 0, -1};
    if (md_dtype_is_float(t)) {
        switch (op) {
        case MD_OP_LT: if (s == -HUGE_VAL) r.konst = 0; r.hi = nextafter(s, -HUGE_VAL); break;
        case MD_OP_GT: if (s == HUGE_VAL) r.konst = 0; r.lo = nextafter(s, HUGE_VAL); break;
        case MD_OP_LE: r.hi = s; break;
        case MD_OP_GE: r.lo = s; break;
        case MD_OP_NE: r.inv = 1; /* fall through */
        case MD_OP_EQ: r.lo = r.hi = s; break;
        default: r.lo = s, r.hi = p2; break;
        }
        if (t == MD_FLOAT32) {
            r.lo = (double)md_arith_float_ceil(r.lo);
            r.hi = (double)md_arith_float_floor(r.hi);
        }
        return r;
    }
    switch (op) {
    case MD_OP_LT: r.hi = ceil(s) - 1; break;
    case MD_OP_GT: r.lo = floor(s) + 1; break;
    case MD_OP_LE: r.hi = floor(s); break;
    case MD_OP_GE: r.lo = ceil(s); break;
    case MD_OP_NE: r.inv = 1; /* fall through */
    case MD_OP_EQ: r.lo = ceil(s), r.hi = floor(s); break;
    default: r.lo = ceil(s), r.hi = floor(p2); break;
    }
    const double tlo = md_dtype_min(t), thi = md_dtype_max(t);
    if (r.lo != r.lo || r.hi != r.hi) r.konst = r.inv; /* a NaN bound: no x is in range */
    r.lo = r.lo < tlo ? tlo : r.lo;
    r.hi = r.hi > thi ? thi : r.hi;
    if (r.lo > r.hi) r.konst = r.inv;
    return r;
}

MD_VECTOR_CLONES static void range_block(const void *src, MdDtype t, size_t s, size_t n, const Range *r, uint8_t *d)
{
    switch (t) {
#define MD_X(tag, name, ctype, isf)                                                         \
    case MD_##tag: {                                                                        \
        const ctype *x = (const ctype *)src + s;                                            \
        const ctype lo = (ctype)r->lo, hi = (ctype)r->hi;                                   \
        const uint8_t inv = (uint8_t)r->inv;                                                \
        MD_SIMD for (size_t i = 0; i < n; i++) d[i] = (uint8_t)(((x[i] >= lo) & (x[i] <= hi)) ^ inv); \
    } break;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: break;
    }
}

/* Every voxel of a uint8 volume = r over a (any dtype). */
static void run_range(const MdVolume *a, const Range *r, MdVolume *out)
{
    const size_t n = md_volume_count(out);
    uint8_t *od = (uint8_t *)md_volume_data(out);
    if (r->konst >= 0) {
        memset(od, r->konst, n);
        return;
    }
    const size_t nb = (n + MD_ARITH_BLOCK - 1) / MD_ARITH_BLOCK;
    const void *ad = md_volume_data(a);
#pragma omp parallel for schedule(static) if (md_par_worth((double)n))
    for (size_t k = 0; k < nb; k++) {
        size_t s = k * MD_ARITH_BLOCK, m = n - s < MD_ARITH_BLOCK ? n - s : MD_ARITH_BLOCK;
        range_block(ad, a->dtype, s, m, r, od + s);
    }
}

/* A dtype both convert to exactly. */
static MdDtype common_dtype(MdDtype a, MdDtype b)
{
    const MdDtype c[] = {a, b, MD_INT32, MD_FLOAT32, MD_FLOAT64};
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++)
        if (md_arith_exact_into(a, c[k]) && md_arith_exact_into(b, c[k])) return c[k];
    return MD_FLOAT64;
}

#define CMP_LOOP(EXPR) MD_SIMD for (size_t i = 0; i < n; i++) d[i] = (uint8_t)(EXPR)

MD_VECTOR_CLONES static void compare_block(MdBinaryOp op, MdDtype t, const void *px, const void *py, uint8_t *d, size_t n)
{
    switch (t) {
#define MD_X(tag, name, ctype, isf)                                                         \
    case MD_##tag: {                                                                        \
        const ctype *x = (const ctype *)px, *y = (const ctype *)py;                         \
        switch (op) {                                                                       \
        case MD_OP_GT: CMP_LOOP(x[i] > y[i]); break;                                        \
        case MD_OP_LT: CMP_LOOP(x[i] < y[i]); break;                                        \
        case MD_OP_GE: CMP_LOOP(x[i] >= y[i]); break;                                       \
        case MD_OP_LE: CMP_LOOP(x[i] <= y[i]); break;                                       \
        case MD_OP_EQ: CMP_LOOP(x[i] == y[i]); break;                                       \
        default: CMP_LOOP(x[i] != y[i]); break;                                             \
        }                                                                                   \
    } break;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: break;
    }
}

MD_VECTOR_CLONES static void logic_block(MdBinaryOp op, const uint8_t *x, const uint8_t *y, uint8_t *d, size_t n)
{
    switch (op) {
    case MD_OP_AND: CMP_LOOP((x[i] != 0) & (y[i] != 0)); break;
    case MD_OP_OR: CMP_LOOP((x[i] != 0) | (y[i] != 0)); break;
    default: CMP_LOOP((x[i] != 0) ^ (y[i] != 0)); break;
    }
}
#undef CMP_LOOP

/* Bytes that are non-zero where an operand is: the mask itself when it is
 * uint8, converted otherwise, or the number's truth (buf filled once). */
static const uint8_t *truth_block(MdOperand o, size_t s, size_t n, uint8_t *buf)
{
    if (!o.vol) return buf;
    if (o.vol->dtype == MD_UINT8) return (const uint8_t *)md_volume_data(o.vol) + s;
    md_arith_nonzero(md_volume_data(o.vol), o.vol->dtype, s, n, buf);
    return buf;
}

static int swap_compare(MdBinaryOp op)
{
    switch (op) {
    case MD_OP_GT: return MD_OP_LT;
    case MD_OP_LT: return MD_OP_GT;
    case MD_OP_GE: return MD_OP_LE;
    case MD_OP_LE: return MD_OP_GE;
    default: return op;
    }
}

int md_arith_fast_compare(MdOperand a, MdOperand b, MdBinaryOp op, MdVolume *out)
{
    if (out->dtype != MD_UINT8) return 0;
    const size_t n = md_volume_count(out), nb = (n + MD_ARITH_BLOCK - 1) / MD_ARITH_BLOCK;
    uint8_t *od = (uint8_t *)md_volume_data(out);
    if (op >= MD_OP_AND) {
#pragma omp parallel if (md_par_worth((double)n))
        {
            _Alignas(64) uint8_t bx[MD_ARITH_BLOCK], by[MD_ARITH_BLOCK];
            if (!a.vol) memset(bx, a.scalar != 0, sizeof bx);
            if (!b.vol) memset(by, b.scalar != 0, sizeof by);
#pragma omp for schedule(static)
            for (size_t k = 0; k < nb; k++) {
                size_t s = k * MD_ARITH_BLOCK, m = n - s < MD_ARITH_BLOCK ? n - s : MD_ARITH_BLOCK;
                logic_block(op, truth_block(a, s, m, bx), truth_block(b, s, m, by), od + s, m);
            }
        }
        return 1;
    }
    if (!a.vol || !b.vol) {
        const MdVolume *v = a.vol ? a.vol : b.vol;
        const Range r = scalar_range(a.vol ? (int)op : swap_compare(op), a.vol ? b.scalar : a.scalar, 0, v->dtype);
        run_range(v, &r, out);
        return 1;
    }
    const MdDtype c = common_dtype(a.vol->dtype, b.vol->dtype);
#pragma omp parallel for schedule(static) if (md_par_worth((double)n))
    for (size_t k = 0; k < nb; k++) {
        _Alignas(64) double bx[MD_ARITH_BLOCK], by[MD_ARITH_BLOCK];
        size_t s = k * MD_ARITH_BLOCK, m = n - s < MD_ARITH_BLOCK ? n - s : MD_ARITH_BLOCK;
        compare_block(op, c, md_arith_operand_block(a.vol, c, s, m, bx),
                      md_arith_operand_block(b.vol, c, s, m, by), od + s, m);
    }
    return 1;
}

int md_arith_fast_mask_unary(const MdVolume *a, MdUnaryOp op, double p1, double p2, MdVolume *out)
{
    if (out->dtype != MD_UINT8 || (op != MD_UN_NOT && op != MD_UN_BETWEEN)) return 0;
    const Range r = op == MD_UN_NOT ? scalar_range(MD_OP_EQ, 0, 0, a->dtype)
                                    : scalar_range(-1, p1, p2, a->dtype);
    run_range(a, &r, out);
    return 1;
}

MD_VECTOR_CLONES static void select_block(MdDtype t, const uint8_t *m, const void *pa, const void *pb, void *pd, size_t n)
{
    switch (t) {
#define MD_X(tag, name, ctype, isf)                                                         \
    case MD_##tag: {                                                                        \
        const ctype *x = (const ctype *)pa, *y = (const ctype *)pb;                         \
        ctype *d = (ctype *)pd;                                                             \
        MD_SIMD for (size_t i = 0; i < n; i++) {                                            \
            const ctype a = x[i], b = y[i]; /* both loaded: a select, not a branch */       \
            d[i] = m[i] ? a : b;                                                            \
        }                                                                                   \
    } break;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: break;
    }
}

/* A block of values in dtype t: the volume's (converted if needed), or the
 * number as the double path stores it, repeated (buf filled once). */
static const void *value_block(MdOperand o, MdDtype t, size_t s, size_t n, void *buf)
{
    return o.vol ? md_arith_operand_block(o.vol, t, s, n, buf) : buf;
}

static void fill_number(void *buf, MdOperand o, MdDtype t)
{
    if (o.vol) return;
    const double x = md_arith_convert1(o.scalar, t);
    for (size_t i = 0; i < MD_ARITH_BLOCK; i++) md_store(buf, t, i, x);
}

int md_arith_fast_where(const MdVolume *mask, MdOperand a, MdOperand b, MdVolume *out)
{
    const MdDtype t = out->dtype;
    if ((a.vol && !md_arith_exact_into(a.vol->dtype, t)) || (b.vol && !md_arith_exact_into(b.vol->dtype, t)))
        return 0;
    const size_t n = md_volume_count(out), nb = (n + MD_ARITH_BLOCK - 1) / MD_ARITH_BLOCK;
    const size_t es = md_dtype_size(t);
    char *od = (char *)md_volume_data(out);
    const MdOperand mo = {mask, 0};
#pragma omp parallel if (md_par_worth((double)n))
    {
        _Alignas(64) double bx[MD_ARITH_BLOCK], by[MD_ARITH_BLOCK];
        _Alignas(64) uint8_t bm[MD_ARITH_BLOCK];
        fill_number(bx, a, t);
        fill_number(by, b, t);
#pragma omp for schedule(static)
        for (size_t k = 0; k < nb; k++) {
            size_t s = k * MD_ARITH_BLOCK, m = n - s < MD_ARITH_BLOCK ? n - s : MD_ARITH_BLOCK;
            select_block(t, truth_block(mo, s, m, bm), value_block(a, t, s, m, bx),
                         value_block(b, t, s, m, by), od + s * es, m);
        }
    }
    return 1;
}
