/* Element-wise kernels over blocks of doubles, and statistics. Results are
 * independent of the thread count: every block is computed alone and
 * statistics combine per-block partials serially in block order. */
#include "arith.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 4096

/* dst[0..n) = src[start..start+n) as double. */
static void load_block(const void *src, MdDtype t, size_t start, size_t n, double *dst)
{
    switch (t) {
#define MD_X(tag, name, ctype, isf)                                      \
    case MD_##tag: {                                                     \
        const ctype *s = (const ctype *)src + start;                     \
        for (size_t i = 0; i < n; i++) dst[i] = (double)s[i];            \
    } break;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: break;
    }
}

static double round_mode(double x, MdRounding r)
{
    switch (r) {
    case MD_ROUND_TRUNC: return trunc(x);
    case MD_ROUND_FLOOR: return floor(x);
    case MD_ROUND_CEIL: return ceil(x);
    default: return round(x);
    }
}

/* dst[start..start+n) = src converted: integer types round (mode r) and
 * saturate, NaN -> 0. */
static void store_block(void *dst, MdDtype t, size_t start, size_t n, const double *src,
                        MdRounding r)
{
    switch (t) {
#define MD_X(tag, name, ctype, isf)                                               \
    case MD_##tag: {                                                              \
        ctype *d = (ctype *)dst + start;                                          \
        if (isf) {                                                                \
            for (size_t i = 0; i < n; i++) d[i] = (ctype)src[i];                  \
        } else {                                                                  \
            const double lo = md_dtype_min(t), hi = md_dtype_max(t);              \
            for (size_t i = 0; i < n; i++) {                                      \
                double x = src[i];                                                \
                x = x != x ? 0.0 : round_mode(x, r);                              \
                d[i] = (ctype)(x < lo ? lo : x > hi ? hi : x);                    \
            }                                                                     \
        }                                                                         \
    } break;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: break;
    }
}

/* store_block for values that are exactly 0 or 1 (comparisons, logic):
 * a plain cast, nothing to round or saturate, so the loop vectorises
 * (the rounding call per voxel made masks cost as much as arithmetic). */
static void store_01(void *dst, MdDtype t, size_t start, size_t n, const double *src)
{
    switch (t) {
#define MD_X(tag, name, ctype, isf)                                      \
    case MD_##tag: {                                                     \
        ctype *d = (ctype *)dst + start;                                 \
        for (size_t i = 0; i < n; i++) d[i] = (ctype)src[i];             \
    } break;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: break;
    }
}

static void load_operand(MdOperand o, size_t start, size_t n, double *dst)
{
    if (o.vol)
        load_block(md_volume_data(o.vol), o.vol->dtype, start, n, dst);
    else
        for (size_t i = 0; i < n; i++) dst[i] = o.scalar;
}

static MdStatus check_count(const MdVolume *v, const MdVolume *out, const char *what, MdError *err)
{
    if (v && md_volume_count(v) != md_volume_count(out))
        return md_error(err, MD_EINVAL, "%s has %zu voxels, expected %zu (shapes differ)", what,
                        md_volume_count(v), md_volume_count(out));
    return MD_OK;
}

static void apply_binary(double *x, const double *y, size_t n, MdBinaryOp op)
{
    size_t i;
    switch (op) {
    case MD_OP_ADD: for (i = 0; i < n; i++) x[i] += y[i]; break;
    case MD_OP_SUB: for (i = 0; i < n; i++) x[i] -= y[i]; break;
    case MD_OP_MUL: for (i = 0; i < n; i++) x[i] *= y[i]; break;
    case MD_OP_DIV: for (i = 0; i < n; i++) x[i] /= y[i]; break;
    case MD_OP_MIN: for (i = 0; i < n; i++) x[i] = y[i] < x[i] || x[i] != x[i] ? (x[i] != x[i] ? x[i] : y[i]) : x[i]; break;
    case MD_OP_MAX: for (i = 0; i < n; i++) x[i] = y[i] > x[i] || x[i] != x[i] ? (x[i] != x[i] ? x[i] : y[i]) : x[i]; break;
    case MD_OP_POW: for (i = 0; i < n; i++) x[i] = pow(x[i], y[i]); break;
    case MD_OP_GT: for (i = 0; i < n; i++) x[i] = x[i] > y[i]; break;
    case MD_OP_LT: for (i = 0; i < n; i++) x[i] = x[i] < y[i]; break;
    case MD_OP_GE: for (i = 0; i < n; i++) x[i] = x[i] >= y[i]; break;
    case MD_OP_LE: for (i = 0; i < n; i++) x[i] = x[i] <= y[i]; break;
    case MD_OP_EQ: for (i = 0; i < n; i++) x[i] = x[i] == y[i]; break;
    case MD_OP_NE: for (i = 0; i < n; i++) x[i] = x[i] != y[i]; break;
    case MD_OP_AND: for (i = 0; i < n; i++) x[i] = x[i] != 0 && y[i] != 0; break;
    case MD_OP_OR: for (i = 0; i < n; i++) x[i] = x[i] != 0 || y[i] != 0; break;
    case MD_OP_XOR: for (i = 0; i < n; i++) x[i] = (x[i] != 0) != (y[i] != 0); break;
    }
}

MdStatus md_arith_binary(MdOperand a, MdOperand b, MdBinaryOp op, MdVolume *out, MdError *err)
{
    MdStatus st;
    if ((st = check_count(a.vol, out, "left operand", err)) != MD_OK) return st;
    if ((st = check_count(b.vol, out, "right operand", err)) != MD_OK) return st;
    size_t n = md_volume_count(out);
    size_t nblocks = (n + BLOCK - 1) / BLOCK;
    void *od = md_volume_data(out);
#pragma omp parallel if (n > 65536)
    {
        double x[BLOCK], y[BLOCK];
#pragma omp for schedule(static)
        for (size_t blk = 0; blk < nblocks; blk++) {
            size_t s = blk * BLOCK, m = n - s < BLOCK ? n - s : BLOCK;
            load_operand(a, s, m, x);
            load_operand(b, s, m, y);
            apply_binary(x, y, m, op);
            if (op >= MD_OP_GT) /* comparisons and logic: 0 or 1 */
                store_01(od, out->dtype, s, m, x);
            else
                store_block(od, out->dtype, s, m, x, MD_ROUND_NEAREST);
        }
    }
    return MD_OK;
}

static void apply_unary(double *x, size_t n, MdUnaryOp op, double p1, double p2)
{
    size_t i;
    switch (op) {
    case MD_UN_COPY: break;
    case MD_UN_ABS: for (i = 0; i < n; i++) x[i] = fabs(x[i]); break;
    case MD_UN_NEG: for (i = 0; i < n; i++) x[i] = -x[i]; break;
    case MD_UN_NOT: for (i = 0; i < n; i++) x[i] = x[i] == 0; break;
    case MD_UN_CLAMP:
        for (i = 0; i < n; i++) x[i] = x[i] < p1 ? p1 : x[i] > p2 ? p2 : x[i];
        break;
    case MD_UN_BETWEEN: for (i = 0; i < n; i++) x[i] = x[i] >= p1 && x[i] <= p2; break;
    case MD_UN_FILL: for (i = 0; i < n; i++) x[i] = p1; break;
    case MD_UN_SQRT: for (i = 0; i < n; i++) x[i] = sqrt(x[i]); break;
    case MD_UN_EXP: for (i = 0; i < n; i++) x[i] = exp(x[i]); break;
    case MD_UN_LOG: for (i = 0; i < n; i++) x[i] = log(x[i]); break;
    }
}

MdStatus md_arith_unary(const MdVolume *a, MdUnaryOp op, double p1, double p2, MdVolume *out,
                        MdError *err)
{
    MdStatus st;
    if ((st = check_count(a, out, "input", err)) != MD_OK) return st;
    size_t n = md_volume_count(out);
    size_t nblocks = (n + BLOCK - 1) / BLOCK;
    MdRounding r = op == MD_UN_COPY ? (MdRounding)(int)p1 : MD_ROUND_NEAREST;
    void *od = md_volume_data(out);
    if (op == MD_UN_COPY && a->dtype == out->dtype) {
        if (md_volume_data(a) != od) memcpy(od, md_volume_data(a), md_volume_nbytes(out));
        return MD_OK;
    }
#pragma omp parallel if (n > 65536)
    {
        double x[BLOCK];
#pragma omp for schedule(static)
        for (size_t blk = 0; blk < nblocks; blk++) {
            size_t s = blk * BLOCK, m = n - s < BLOCK ? n - s : BLOCK;
            if (op != MD_UN_FILL) load_block(md_volume_data(a), a->dtype, s, m, x);
            apply_unary(x, m, op, p1, p2);
            if (op == MD_UN_NOT || op == MD_UN_BETWEEN)
                store_01(od, out->dtype, s, m, x);
            else
                store_block(od, out->dtype, s, m, x, r);
        }
    }
    return MD_OK;
}

MdStatus md_arith_where(const MdVolume *mask, MdOperand a, MdOperand b, MdVolume *out,
                        MdError *err)
{
    MdStatus st;
    if ((st = check_count(mask, out, "mask", err)) != MD_OK) return st;
    if ((st = check_count(a.vol, out, "first value", err)) != MD_OK) return st;
    if ((st = check_count(b.vol, out, "second value", err)) != MD_OK) return st;
    size_t n = md_volume_count(out);
    size_t nblocks = (n + BLOCK - 1) / BLOCK;
    void *od = md_volume_data(out);
#pragma omp parallel if (n > 65536)
    {
        double x[BLOCK], y[BLOCK], m8[BLOCK];
#pragma omp for schedule(static)
        for (size_t blk = 0; blk < nblocks; blk++) {
            size_t s = blk * BLOCK, m = n - s < BLOCK ? n - s : BLOCK;
            load_block(md_volume_data(mask), mask->dtype, s, m, m8);
            load_operand(a, s, m, x);
            load_operand(b, s, m, y);
            for (size_t i = 0; i < m; i++)
                if (m8[i] == 0) x[i] = y[i];
            store_block(od, out->dtype, s, m, x, MD_ROUND_NEAREST);
        }
    }
    return MD_OK;
}

/* Rank used for promotion: the smallest type holding both operands. */
static MdDtype promote(MdDtype a, MdDtype b)
{
    if (a == b) return a;
    int fa = md_dtype_is_float(a), fb = md_dtype_is_float(b);
    if (fa || fb) {
        if (a == MD_FLOAT64 || b == MD_FLOAT64) return MD_FLOAT64;
        /* float32 with an integer: float32 holds 8- and 16-bit integers exactly */
        MdDtype i = fa ? b : a;
        return (i == MD_INT32 || i == MD_UINT32) ? MD_FLOAT64 : MD_FLOAT32;
    }
    double lo = fmin(md_dtype_min(a), md_dtype_min(b));
    double hi = fmax(md_dtype_max(a), md_dtype_max(b));
    static const MdDtype order[] = {MD_UINT8, MD_INT8, MD_UINT16, MD_INT16, MD_UINT32, MD_INT32};
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        if (md_dtype_min(order[k]) <= lo && md_dtype_max(order[k]) >= hi) return order[k];
    return MD_FLOAT64; /* int32 with uint32 */
}

MdDtype md_arith_result_dtype(MdDtype a, int b_dtype, int b_integral, MdBinaryOp op)
{
    if (op >= MD_OP_GT) return MD_UINT8;
    MdDtype r;
    if (b_dtype >= 0)
        r = promote(a, (MdDtype)b_dtype);
    else if (md_dtype_is_float(a) || b_integral)
        r = a; /* a number keeps the volume's type, as numpy does for a Python scalar */
    else
        r = promote(a, MD_FLOAT32);
    if ((op == MD_OP_DIV || op == MD_OP_POW) && !md_dtype_is_float(r))
        r = (r == MD_INT32 || r == MD_UINT32) ? MD_FLOAT64 : MD_FLOAT32;
    return r;
}

typedef struct {
    double min, max, sum;
    size_t count, nonfinite, nan, neg_inf;
} Partial;

MdStatus md_stats(const MdVolume *v, const MdVolume *mask, MdStats *out, MdError *err)
{
    MdStatus st;
    if ((st = check_count(mask, v, "mask", err)) != MD_OK) return st;
    size_t n = md_volume_count(v);
    size_t nblocks = (n + BLOCK - 1) / BLOCK;
    Partial *p = malloc((nblocks ? nblocks : 1) * sizeof *p);
    double *sq = malloc((nblocks ? nblocks : 1) * sizeof *sq);
    if (!p || !sq) {
        free(p);
        free(sq);
        return md_error(err, MD_ENOMEM, "out of memory for statistics");
    }
    const void *vd = md_volume_data(v);
#pragma omp parallel if (n > 65536)
    {
        double x[BLOCK], m8[BLOCK];
#pragma omp for schedule(static)
        for (size_t blk = 0; blk < nblocks; blk++) {
            size_t s = blk * BLOCK, m = n - s < BLOCK ? n - s : BLOCK;
            load_block(vd, v->dtype, s, m, x);
            if (mask) load_block(md_volume_data(mask), mask->dtype, s, m, m8);
            Partial q = {HUGE_VAL, -HUGE_VAL, 0.0, 0, 0, 0, 0};
            for (size_t i = 0; i < m; i++) {
                if (mask && m8[i] == 0) continue;
                if (!isfinite(x[i])) {
                    q.nonfinite++;
                    if (isnan(x[i])) q.nan++;
                    else if (x[i] < 0) q.neg_inf++;
                    continue;
                }
                if (x[i] < q.min) q.min = x[i];
                if (x[i] > q.max) q.max = x[i];
                q.sum += x[i];
                q.count++;
            }
            p[blk] = q;
        }
    }
    MdStats s = {HUGE_VAL, -HUGE_VAL, 0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t b = 0; b < nblocks; b++) {
        if (p[b].min < s.min) s.min = p[b].min;
        if (p[b].max > s.max) s.max = p[b].max;
        s.sum += p[b].sum;
        s.count += p[b].count;
        s.nonfinite += p[b].nonfinite;
        s.nan += p[b].nan;
        s.neg_inf += p[b].neg_inf;
    }
    s.pos_inf = s.nonfinite - s.nan - s.neg_inf;
    s.mean = s.count ? s.sum / (double)s.count : (double)NAN;
    const double mean = s.mean;
#pragma omp parallel if (n > 65536)
    {
        double x[BLOCK], m8[BLOCK];
#pragma omp for schedule(static)
        for (size_t blk = 0; blk < nblocks; blk++) {
            size_t st0 = blk * BLOCK, m = n - st0 < BLOCK ? n - st0 : BLOCK;
            load_block(vd, v->dtype, st0, m, x);
            if (mask) load_block(md_volume_data(mask), mask->dtype, st0, m, m8);
            double acc = 0;
            for (size_t i = 0; i < m; i++) {
                if ((mask && m8[i] == 0) || !isfinite(x[i])) continue;
                double d = x[i] - mean;
                acc += d * d;
            }
            sq[blk] = acc;
        }
    }
    double ss = 0;
    for (size_t b = 0; b < nblocks; b++) ss += sq[b];
    s.std = s.count ? sqrt(ss / (double)s.count) : (double)NAN;
    if (!s.count) s.min = s.max = (double)NAN;
    free(p);
    free(sq);
    *out = s;
    return MD_OK;
}
