/* Element-wise kernels: argument checks, the choice between a fast path
 * and the double path, the double path itself (the definition of every
 * result: blocks loaded as double through the row converters, the operation
 * in double, stored back rounded and saturated), and dtype promotion. The
 * fast paths live in arith_ops.c and arith_mask.c, statistics in stats.c. */
#include "arith.h"

#include "arith_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK MD_ARITH_BLOCK

static int reference_only;

void md_arith_use_reference(int on) { __atomic_store_n(&reference_only, on != 0, __ATOMIC_RELAXED); }
int md_arith_reference_on(void) { return __atomic_load_n(&reference_only, __ATOMIC_RELAXED); }


/* The double path's store, written out per voxel with the scalar rounding
 * rule: the fast paths and the row converters are checked against it, so it
 * shares no loop with them. */
static void reference_store(void *dst, MdDtype t, size_t start, size_t n, const double *src, MdRounding r)
{
    switch (t) {
#define MD_X(tag, name, ctype, isf)                                               \
    case MD_##tag: {                                                              \
        ctype *d = (ctype *)dst + start;                                          \
        const double lo = md_dtype_min(t), hi = md_dtype_max(t);                  \
        for (size_t i = 0; i < n; i++) {                                          \
            double x = src[i];                                                    \
            if (!isf) {                                                           \
                x = x != x ? 0.0 : md_rows_round(x, r);                           \
                x = x < lo ? lo : x > hi ? hi : x;                                \
            }                                                                     \
            d[i] = (ctype)x;                                                      \
        }                                                                         \
    } break;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: break;
    }
}

static void load_operand(MdOperand o, size_t start, size_t n, double *dst)
{
    if (o.vol)
        md_rows_to_f64(md_volume_data(o.vol), o.vol->dtype, start, n, dst);
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
    if (!a.vol && !b.vol) return md_error(err, MD_EINVAL, "at least one operand must be a volume");
    if (!md_arith_reference_on()) {
        if (op >= MD_OP_GT ? md_arith_fast_compare(a, b, op, out) : md_arith_fast_binary(a, b, op, out))
            return MD_OK;
    }
    size_t n = md_volume_count(out);
    size_t nblocks = (n + BLOCK - 1) / BLOCK;
    void *od = md_volume_data(out);
#pragma omp parallel if (md_par_worth((double)n))
    {
        double x[BLOCK], y[BLOCK];
#pragma omp for schedule(static)
        for (size_t blk = 0; blk < nblocks; blk++) {
            size_t s = blk * BLOCK, m = n - s < BLOCK ? n - s : BLOCK;
            load_operand(a, s, m, x);
            load_operand(b, s, m, y);
            apply_binary(x, y, m, op);
            reference_store(od, out->dtype, s, m, x, MD_ROUND_NEAREST);
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
    if (!md_arith_reference_on()) {
        if (op == MD_UN_NOT || op == MD_UN_BETWEEN ? md_arith_fast_mask_unary(a, op, p1, p2, out)
                                                   : md_arith_fast_unary(a, op, p1, p2, out))
            return MD_OK;
    }
#pragma omp parallel if (md_par_worth((double)n))
    {
        double x[BLOCK];
#pragma omp for schedule(static)
        for (size_t blk = 0; blk < nblocks; blk++) {
            size_t s = blk * BLOCK, m = n - s < BLOCK ? n - s : BLOCK;
            if (op != MD_UN_FILL) md_rows_to_f64(md_volume_data(a), a->dtype, s, m, x);
            apply_unary(x, m, op, p1, p2);
            reference_store(od, out->dtype, s, m, x, r);
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
    if (!md_arith_reference_on() && md_arith_fast_where(mask, a, b, out)) return MD_OK;
    size_t n = md_volume_count(out);
    size_t nblocks = (n + BLOCK - 1) / BLOCK;
    void *od = md_volume_data(out);
#pragma omp parallel if (md_par_worth((double)n))
    {
        double x[BLOCK], y[BLOCK], m8[BLOCK];
#pragma omp for schedule(static)
        for (size_t blk = 0; blk < nblocks; blk++) {
            size_t s = blk * BLOCK, m = n - s < BLOCK ? n - s : BLOCK;
            md_rows_to_f64(md_volume_data(mask), mask->dtype, s, m, m8);
            load_operand(a, s, m, x);
            load_operand(b, s, m, y);
            for (size_t i = 0; i < m; i++)
                if (m8[i] == 0) x[i] = y[i];
            reference_store(od, out->dtype, s, m, x, MD_ROUND_NEAREST);
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
