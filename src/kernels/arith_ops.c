/* Fast paths of the arithmetic kernels: + - * / min max with volumes and
 * numbers, abs, neg, clamp, fill, astype, sqrt, exp, log.
 *
 * Fused typed loops: when both operands are exactly values of the output
 * dtype T (after converting a block of the other volume, if needed), each
 * voxel is computed in a work type wide enough to hold the exact result
 * (int32 for the 8- and 16-bit types, int64 for the 32-bit ones, float for
 * float32, double for float64) and saturated to T. Exact integers give the
 * double path's value; float32 + - * / of float32 values give it too (the
 * double result rounded to float32 is the float32 result: double rounding
 * is harmless at 53 >= 2*24 + 2 bits). A number outside what the work type
 * holds is first clamped to a value with the same saturated results.
 *
 * Everything else goes through blocks of doubles with the typed converters
 * of arith_convert.c: the double path's arithmetic, without its per-voxel
 * calls. */
#include "arith_impl.h"

#include <stdint.h>
#include <string.h>

#define WT_UINT8 int32_t
#define WT_INT8 int32_t
#define WT_UINT16 int32_t
#define WT_INT16 int32_t
#define WT_UINT32 int64_t
#define WT_INT32 int64_t
#define WT_FLOAT32 float
#define WT_FLOAT64 double

/* Largest magnitude a work type holds with room to spare. */
static double work_limit(MdDtype t) { return md_dtype_size(t) <= 2 ? 2147483647.0 : 9.2e18; }

static double dtype_mag(MdDtype t) { return fmax(-md_dtype_min(t), md_dtype_max(t)); }

/* The fused binary operations: x is the volume operand; y the other operand
 * (a volume, or the number s). R* have the number on the left. */
enum { F_ADD, F_SUB, F_RSUB, F_MUL, F_DIV, F_RDIV, F_MIN, F_MAX };

typedef struct {
    int fop;
    MdDtype t;          /* output dtype, also the dtype both operands are read as */
    const MdVolume *x;  /* volume operand */
    const MdVolume *y;  /* second volume, or NULL for the number s */
    double s;
    int wide;           /* float32 with a number float32 cannot hold: work in double */
} BinPlan;

/* Expression of the operation on a (from x) and b (from y). */
#define BIN_EXPR(fop, a, b)                                                                 \
    ((fop) == F_ADD    ? (a) + (b)                                                          \
     : (fop) == F_SUB  ? (a) - (b)                                                          \
     : (fop) == F_RSUB ? (b) - (a)                                                          \
     : (fop) == F_MUL  ? (a) * (b)                                                          \
     : (fop) == F_DIV  ? (a) / (b)                                                          \
     : (fop) == F_RDIV ? (b) / (a)                                                          \
     : (fop) == F_MIN  ? ((a) != (a) ? (a) : (b) < (a) ? (b) : (a))                         \
                       : ((a) != (a) ? (a) : (b) > (a) ? (b) : (a)))

/* d[i] = r saturated to T (floats convert). Two separate clamps compile to
 * vector min and max instructions. */
#define STORE(T, isf, r)                                                                    \
    do {                                                                                    \
        if (!(isf)) {                                                                       \
            r = r < lo ? lo : r;                                                            \
            r = r > hi ? hi : r;                                                            \
        }                                                                                   \
        d[i] = (T)r;                                                                        \
    } while (0)

/* One loop for a constant operation FOP (x, y or s, d, n, lo, hi in scope). */
#define BIN_LOOP(T, WT, isf, FOP)                                                           \
    do {                                                                                    \
        if (y) {                                                                            \
            MD_SIMD for (size_t i = 0; i < n; i++) {                                        \
                WT a = (WT)x[i], b = (WT)y[i], r = BIN_EXPR(FOP, a, b);                     \
                STORE(T, isf, r);                                                           \
            }                                                                               \
        } else {                                                                            \
            MD_SIMD for (size_t i = 0; i < n; i++) {                                        \
                WT a = (WT)x[i], r = BIN_EXPR(FOP, a, s);                                   \
                STORE(T, isf, r);                                                           \
            }                                                                               \
        }                                                                                   \
    } while (0)

#define BIN_SWITCH(T, WT, isf)                                                              \
    switch (p->fop) {                                                                       \
    case F_ADD: BIN_LOOP(T, WT, isf, F_ADD); break;                                         \
    case F_SUB: BIN_LOOP(T, WT, isf, F_SUB); break;                                         \
    case F_RSUB: BIN_LOOP(T, WT, isf, F_RSUB); break;                                       \
    case F_MUL: BIN_LOOP(T, WT, isf, F_MUL); break;                                         \
    case F_DIV: if (isf) BIN_LOOP(T, WT, isf, F_DIV); break;                                \
    case F_RDIV: if (isf) BIN_LOOP(T, WT, isf, F_RDIV); break;                              \
    case F_MIN: BIN_LOOP(T, WT, isf, F_MIN); break;                                         \
    default: BIN_LOOP(T, WT, isf, F_MAX); break;                                            \
    }

/* d[0..n) = x op y over one block, all of dtype p->t. */
MD_VECTOR_CLONES static void fused_binary_block(const BinPlan *p, const void *px, const void *py, void *pd, size_t n)
{
    switch (p->t) {
#define MD_X(tag, name, ctype, isf)                                                         \
    case MD_##tag: {                                                                        \
        const ctype *x = (const ctype *)px, *y = (const ctype *)py;                         \
        ctype *d = (ctype *)pd;                                                             \
        if (isf && p->wide) {                                                               \
            const double s = p->s, lo = 0, hi = 0;                                          \
            BIN_SWITCH(ctype, double, 1)                                                    \
        } else {                                                                            \
            const WT_##tag s = (WT_##tag)p->s;                                              \
            const WT_##tag lo = (WT_##tag)md_dtype_min(MD_##tag);                           \
            const WT_##tag hi = (WT_##tag)md_dtype_max(MD_##tag);                           \
            BIN_SWITCH(ctype, WT_##tag, isf)                                                \
        }                                                                                   \
    } break;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: break;
    }
}
#undef BIN_SWITCH
#undef BIN_LOOP

/* Fills p for a fused loop, or returns 0 when the case needs the double path. */
static int plan_binary(MdOperand a, MdOperand b, MdBinaryOp op, const MdVolume *out, BinPlan *p)
{
    static const int direct[] = {[MD_OP_ADD] = F_ADD, [MD_OP_SUB] = F_SUB, [MD_OP_MUL] = F_MUL,
                                 [MD_OP_DIV] = F_DIV, [MD_OP_MIN] = F_MIN, [MD_OP_MAX] = F_MAX};
    const MdDtype t = out->dtype;
    const int isf = md_dtype_is_float(t);
    if (op == MD_OP_POW || op > MD_OP_MAX) return 0;
    MdOperand other;
    if (a.vol) {
        p->x = a.vol;
        other = b;
        p->fop = direct[op];
    } else {
        p->x = b.vol;
        other = a;
        switch (op) {
        case MD_OP_ADD: p->fop = F_ADD; break;
        case MD_OP_MUL: p->fop = F_MUL; break;
        case MD_OP_SUB: p->fop = F_RSUB; break;
        case MD_OP_DIV: p->fop = F_RDIV; break;
        default:
            if (isf) return 0; /* min/max keep a NaN on the left only */
            p->fop = direct[op];
        }
    }
    p->t = t;
    p->y = other.vol;
    p->s = other.scalar;
    p->wide = 0;
    if (!md_arith_exact_into(p->x->dtype, t)) return 0;
    if (p->y && !md_arith_exact_into(p->y->dtype, t)) return 0;
    if (isf) {
        if (!p->y && t == MD_FLOAT32) p->wide = !md_arith_scalar_fits(p->s, MD_FLOAT32);
        return 1;
    }
    if (p->fop == F_DIV || p->fop == F_RDIV) return 0;
    const double mag = dtype_mag(t), lim = work_limit(t);
    if (p->y) return p->fop != F_MUL || mag * mag < lim;
    double s = p->s;
    if (s != floor(s)) return 0; /* a fraction (or NaN) rounds: double path */
    /* A clamped number gives the same saturated results: |s| beyond K
     * saturates every non-zero voxel whether it is K or s. */
    double k = p->fop == F_MUL ? mag + 1 : 2 * mag + 2;
    s = s < -k ? -k : s > k ? k : s;
    if (p->fop == F_MUL && mag * fabs(s) >= lim) return 0;
    p->s = s;
    return 1;
}

/* The double path over blocks: op on doubles, as the definition does. */
MD_VECTOR_CLONES static void double_binary_block(const double *x, const double *y, double *r, size_t n, MdBinaryOp op)
{
    switch (op) {
    case MD_OP_ADD: MD_SIMD for (size_t i = 0; i < n; i++) r[i] = x[i] + y[i]; break;
    case MD_OP_SUB: MD_SIMD for (size_t i = 0; i < n; i++) r[i] = x[i] - y[i]; break;
    case MD_OP_MUL: MD_SIMD for (size_t i = 0; i < n; i++) r[i] = x[i] * y[i]; break;
    case MD_OP_DIV: MD_SIMD for (size_t i = 0; i < n; i++) r[i] = x[i] / y[i]; break;
    case MD_OP_MIN: MD_SIMD for (size_t i = 0; i < n; i++) r[i] = BIN_EXPR(F_MIN, x[i], y[i]); break;
    case MD_OP_MAX: MD_SIMD for (size_t i = 0; i < n; i++) r[i] = BIN_EXPR(F_MAX, x[i], y[i]); break;
    default: for (size_t i = 0; i < n; i++) r[i] = pow(x[i], y[i]); break;
    }
}

/* A block of doubles for an operand: converted, or the number repeated
 * (filled once per thread). */
static const double *double_operand(MdOperand o, size_t s, size_t n, double *buf)
{
    return o.vol ? md_arith_operand_block(o.vol, MD_FLOAT64, s, n, buf) : buf;
}

static void fill_doubles(double *buf, MdOperand o)
{
    if (!o.vol)
        for (size_t i = 0; i < MD_ARITH_BLOCK; i++) buf[i] = o.scalar;
}

/* Writes a block of doubles to out with the double path's rounding. */
static void store_doubles(MdVolume *out, size_t s, size_t n, const double *r)
{
    char *od = (char *)md_volume_data(out) + s * md_dtype_size(out->dtype);
    if ((const void *)r != (const void *)od) md_rows_convert(r, MD_FLOAT64, od, out->dtype, n, MD_ROUND_NEAREST);
}

static double *result_block(MdVolume *out, size_t s, double *buf)
{
    return out->dtype == MD_FLOAT64 ? (double *)md_volume_data(out) + s : buf;
}

int md_arith_fast_binary(MdOperand a, MdOperand b, MdBinaryOp op, MdVolume *out)
{
    const size_t n = md_volume_count(out), nb = (n + MD_ARITH_BLOCK - 1) / MD_ARITH_BLOCK;
    const size_t es = md_dtype_size(out->dtype);
    char *od = (char *)md_volume_data(out);
    BinPlan p;
    if (plan_binary(a, b, op, out, &p)) {
#pragma omp parallel for schedule(static) if (md_par_worth((double)n))
        for (size_t k = 0; k < nb; k++) {
            _Alignas(64) double bx[MD_ARITH_BLOCK], by[MD_ARITH_BLOCK];
            size_t s = k * MD_ARITH_BLOCK, m = n - s < MD_ARITH_BLOCK ? n - s : MD_ARITH_BLOCK;
            const void *px = md_arith_operand_block(p.x, p.t, s, m, bx);
            const void *py = p.y ? md_arith_operand_block(p.y, p.t, s, m, by) : NULL;
            fused_binary_block(&p, px, py, od + s * es, m);
        }
        return 1;
    }
#pragma omp parallel if (md_par_worth((double)n))
    {
        _Alignas(64) double bx[MD_ARITH_BLOCK], by[MD_ARITH_BLOCK], br[MD_ARITH_BLOCK];
        fill_doubles(bx, a);
        fill_doubles(by, b);
#pragma omp for schedule(static)
        for (size_t k = 0; k < nb; k++) {
            size_t s = k * MD_ARITH_BLOCK, m = n - s < MD_ARITH_BLOCK ? n - s : MD_ARITH_BLOCK;
            double *r = result_block(out, s, br);
            double_binary_block(double_operand(a, s, m, bx), double_operand(b, s, m, by), r, m, op);
            store_doubles(out, s, m, r);
        }
    }
    return 1;
}

/* ---- unary ---- */

typedef struct {
    MdUnaryOp op;
    MdDtype t;
    double c1, v1, c2, v2; /* clamp: below c1 -> v1, above c2 -> v2 (thresholds in t's terms) */
} UnPlan;

/* Clamp thresholds: for integers, x < p1 <=> x < ceil(p1) and the value is
 * p1 rounded; for float32, x < p1 <=> x < (smallest float >= p1). A NaN
 * bound never applies, as in the double path's comparisons. */
static void plan_clamp(UnPlan *u, double p1, double p2)
{
    const MdDtype t = u->t;
    u->v1 = md_arith_convert1(p1, t);
    u->v2 = md_arith_convert1(p2, t);
    if (t == MD_FLOAT64) {
        u->c1 = p1, u->c2 = p2;
    } else if (t == MD_FLOAT32) {
        u->c1 = (double)md_arith_float_ceil(p1), u->c2 = (double)md_arith_float_floor(p2);
    } else {
        const double lo = md_dtype_min(t), hi = md_dtype_max(t);
        double c1 = ceil(p1), c2 = floor(p2);
        u->c1 = c1 != c1 ? lo : c1 < lo ? lo : c1 > hi + 1 ? hi + 1 : c1;
        u->c2 = c2 != c2 ? hi : c2 < lo - 1 ? lo - 1 : c2 > hi ? hi : c2;
    }
}

#define UN_LOOP(T, isf, EXPR)                                                               \
    MD_SIMD for (size_t i = 0; i < n; i++) {                                                \
        WT a = (WT)x[i], r = 0;                                                             \
        r = EXPR;                                                                           \
        STORE(T, isf, r);                                                                   \
    }

/* fabs keeps abs(-0.0) = +0.0 for floats; sqrtf is the float32 square root
 * the double path computes (double rounding is harmless for sqrt). */
#define ABS_OF(isf, a) ((isf) ? (WT)fabs((double)(a)) : (a) < 0 ? -(a) : (a))
#define SQRT_OF(a) (sizeof(WT) == sizeof(float) ? (WT)sqrtf((float)(a)) : (WT)sqrt((double)(a)))
/* x < p1 ? p1 : x > p2 ? p2 : x as two selects (the second wins, as the
 * first test does in the nested form), which vectorise as two blends. */
#define CLAMP_OF(a) (r = (a) > c2 ? v2 : (a), (a) < c1 ? v1 : r)

MD_VECTOR_CLONES static void fused_unary_block(const UnPlan *u, const void *px, void *pd, size_t n)
{
    switch (u->t) {
#define MD_X(tag, name, ctype, isf)                                                         \
    case MD_##tag: {                                                                        \
        typedef WT_##tag WT;                                                                \
        const ctype *x = (const ctype *)px;                                                 \
        ctype *d = (ctype *)pd;                                                             \
        const WT lo = (WT)md_dtype_min(MD_##tag), hi = (WT)md_dtype_max(MD_##tag);          \
        const WT c1 = (WT)u->c1, v1 = (WT)u->v1, c2 = (WT)u->c2, v2 = (WT)u->v2;            \
        switch (u->op) {                                                                    \
        case MD_UN_ABS: UN_LOOP(ctype, isf, ABS_OF(isf, a)) break;                               \
        case MD_UN_NEG: UN_LOOP(ctype, isf, -a) break;                                      \
        case MD_UN_SQRT: if (isf) { UN_LOOP(ctype, isf, SQRT_OF(a)) } break;                \
        default: UN_LOOP(ctype, isf, CLAMP_OF(a)) break;                                   \
        }                                                                                   \
    } break;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: break;
    }
}

MD_VECTOR_CLONES static void double_unary_block(const double *x, double *r, size_t n, MdUnaryOp op, double p1, double p2,
                                                MdDtype out)
{
    if ((op == MD_UN_EXP || op == MD_UN_LOG) && out == MD_FLOAT32) {
        md_arith_exp_log_f32(x, r, n, op == MD_UN_LOG);
        return;
    }
    switch (op) {
    case MD_UN_ABS: MD_SIMD for (size_t i = 0; i < n; i++) r[i] = fabs(x[i]); break;
    case MD_UN_NEG: MD_SIMD for (size_t i = 0; i < n; i++) r[i] = -x[i]; break;
    case MD_UN_CLAMP:
        MD_SIMD for (size_t i = 0; i < n; i++) r[i] = x[i] < p1 ? p1 : x[i] > p2 ? p2 : x[i];
        break;
    case MD_UN_SQRT: for (size_t i = 0; i < n; i++) r[i] = sqrt(x[i]); break;
    case MD_UN_EXP: for (size_t i = 0; i < n; i++) r[i] = exp(x[i]); break;
    default: for (size_t i = 0; i < n; i++) r[i] = log(x[i]); break;
    }
}

/* Every voxel of out = v (already converted to out's dtype). */
static void fill_value(MdVolume *out, double v)
{
    const size_t n = md_volume_count(out);
    switch (out->dtype) {
#define MD_X(tag, name, ctype, isf)                                                         \
    case MD_##tag: {                                                                        \
        ctype *d = (ctype *)md_volume_data(out);                                            \
        const ctype c = (ctype)v;                                                           \
        _Pragma("omp parallel for simd schedule(static) if (md_par_worth((double)n))")      \
        for (size_t i = 0; i < n; i++) d[i] = c;                                            \
    } break;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: break;
    }
}

int md_arith_fast_unary(const MdVolume *a, MdUnaryOp op, double p1, double p2, MdVolume *out)
{
    const size_t n = md_volume_count(out), nb = (n + MD_ARITH_BLOCK - 1) / MD_ARITH_BLOCK;
    const MdDtype t = out->dtype;
    const size_t es = md_dtype_size(t), ein = md_dtype_size(a->dtype);
    char *od = (char *)md_volume_data(out);
    const char *ad = (const char *)md_volume_data(a);
    if (op == MD_UN_FILL) {
        fill_value(out, md_arith_convert1(p1, t));
        return 1;
    }
    if (op == MD_UN_COPY) {
#pragma omp parallel for schedule(static) if (md_par_worth((double)n))
        for (size_t k = 0; k < nb; k++) {
            size_t s = k * MD_ARITH_BLOCK, m = n - s < MD_ARITH_BLOCK ? n - s : MD_ARITH_BLOCK;
            md_rows_convert(ad + s * ein, a->dtype, od + s * es, t, m, (MdRounding)(int)p1);
        }
        return 1;
    }
    UnPlan u = {op, t, 0, 0, 0, 0};
    int fused = md_arith_exact_into(a->dtype, t) &&
                (op == MD_UN_ABS || op == MD_UN_NEG || op == MD_UN_CLAMP ||
                 (op == MD_UN_SQRT && md_dtype_is_float(t)));
    if (fused) {
        if (op == MD_UN_CLAMP) plan_clamp(&u, p1, p2);
#pragma omp parallel for schedule(static) if (md_par_worth((double)n))
        for (size_t k = 0; k < nb; k++) {
            _Alignas(64) double bx[MD_ARITH_BLOCK];
            size_t s = k * MD_ARITH_BLOCK, m = n - s < MD_ARITH_BLOCK ? n - s : MD_ARITH_BLOCK;
            fused_unary_block(&u, md_arith_operand_block(a, t, s, m, bx), od + s * es, m);
        }
        return 1;
    }
    if (op != MD_UN_ABS && op != MD_UN_NEG && op != MD_UN_CLAMP && op != MD_UN_SQRT &&
        op != MD_UN_EXP && op != MD_UN_LOG)
        return 0;
    if ((op == MD_UN_EXP || op == MD_UN_LOG) && a->dtype == MD_FLOAT32 && t == MD_FLOAT32) {
#pragma omp parallel for schedule(static) if (md_par_worth((double)n))
        for (size_t k = 0; k < nb; k++) {
            size_t s = k * MD_ARITH_BLOCK, m = n - s < MD_ARITH_BLOCK ? n - s : MD_ARITH_BLOCK;
            md_arith_exp_log_f32f((const float *)ad + s, (float *)od + s, m, op == MD_UN_LOG);
        }
        return 1;
    }
#pragma omp parallel for schedule(static) if (md_par_worth((double)n))
    for (size_t k = 0; k < nb; k++) {
        _Alignas(64) double bx[MD_ARITH_BLOCK], br[MD_ARITH_BLOCK];
        size_t s = k * MD_ARITH_BLOCK, m = n - s < MD_ARITH_BLOCK ? n - s : MD_ARITH_BLOCK;
        double *r = result_block(out, s, br);
        double_unary_block(md_arith_operand_block(a, MD_FLOAT64, s, m, bx), r, m, op, p1, p2, t);
        store_doubles(out, s, m, r);
    }
    return 1;
}
