/* Separable passes, N-D correlation and box minimum/maximum. One pass runs
 * along one axis: along x each row is extended by the border mode and
 * combined tap by tap; along y and z whole rows are combined (a weighted sum
 * or a min/max of the rows at the tap positions), so the inner loops run
 * over contiguous x and vectorise. The z pass runs over y rows, so a
 * thread's working set is one (x, z) plane. Passes alternate between the
 * output and one scratch volume; the pass engine is written once for float
 * and once for double storage through a small macro. */
#include "filter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/rows.h"

typedef enum { OP_CORR, OP_MIN, OP_MAX } PassOp;

/* The row loops also built for AVX2, picked at run time: element-wise
 * IEEE operations without contraction, so the bits are the same. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MD_WIDE __attribute__((target_clones("avx2", "default")))
#else
#define MD_WIDE
#endif

typedef struct Pass {
    int axis; /* 0 x, 1 y, 2 z */
    PassOp op;
    MdKernel1 k;
} Pass;

/* An odd, centred kernel with w[k] == w[len-1-k]: pairs of taps share a multiply. */
static int symmetric(const MdKernel1 *k)
{
    if (k->len % 2 == 0 || k->center != k->len / 2) return 0;
    for (int i = 0; i < k->len / 2; i++)
        if (k->w[i] != k->w[k->len - 1 - i]) return 0;
    return 1;
}

typedef struct Grid {
    int64_t nx, ny, nz;
} Grid;

static Grid grid_of(const MdVolume *v)
{
    Grid g = {v->dim[0], v->dim[1], v->ndim >= 3 ? v->dim[2] : 1};
    return g;
}

int md_gaussian_kernel(double sigma, int order, double truncate, double *w, int max)
{
    int r = (int)(truncate * sigma + 0.5);
    if (2 * r + 1 > max || r < 0) return -1;
    double s2 = sigma * sigma, sum = 0;
    for (int i = -r; i <= r; i++) sum += w[i + r] = exp(-0.5 / s2 * (double)i * (double)i);
    for (int i = 0; i <= 2 * r; i++) w[i] /= sum;
    /* scipy multiplies by the derivative polynomial, then reverses for
     * correlation: at offset d the weight is q(-d) phi(d) */
    for (int i = -r; i <= r; i++) {
        double d = (double)i, q = 1;
        if (order == 1) q = d / s2;
        if (order == 2) q = d * d / (s2 * s2) - 1 / s2;
        w[i + r] *= q;
    }
    return r;
}

/* The pass engine for storage type T (float or double). Stage A filters
 * each z slice along x (rows into a slice buffer) then y (into out); stage
 * B filters each (x, z) plane of out along z through a plane buffer and
 * writes it back, so out is the only volume-sized memory. */
#define DEFINE_PASS(T, SUF, LOADROW)                                                                    \
    /* o[0..nx) = row filtered along x; ext holds nx + len - 1 values */                                 \
    MD_WIDE static void row_filter_##SUF(const T *row, int64_t nx, const Pass *p, MdBorder mode, T cval, T *ext, T *o) \
    {                                                                                                     \
        int64_t len = p->k.len, c = p->k.center;                                                          \
        /* the row itself, then only the margins through the border rule */                               \
        memcpy(ext + c, row, (size_t)nx * sizeof *ext);                                                   \
        for (int64_t j = 0; j < c; j++) {                                                                 \
            int64_t i = md_border_index(j - c, nx, mode);                                                 \
            ext[j] = i < 0 ? cval : row[i];                                                               \
        }                                                                                                 \
        for (int64_t j = c + nx; j < nx + len - 1; j++) {                                                 \
            int64_t i = md_border_index(j - c, nx, mode);                                                 \
            ext[j] = i < 0 ? cval : row[i];                                                               \
        }                                                                                                 \
        if (p->op == OP_CORR && symmetric(&p->k)) {                                                       \
            T wc = (T)p->k.w[c];                                                                          \
            _Pragma("omp simd") for (int64_t i = 0; i < nx; i++) o[i] = wc * ext[i + c];                  \
            for (int64_t k = 0; k < c; k++) {                                                             \
                T wk = (T)p->k.w[k];                                                                      \
                const T *e = ext + k, *f = ext + len - 1 - k;                                             \
                _Pragma("omp simd") for (int64_t i = 0; i < nx; i++) o[i] += wk * (e[i] + f[i]);          \
            }                                                                                             \
            return;                                                                                       \
        }                                                                                                 \
        if (p->op == OP_CORR) {                                                                           \
            T w0 = (T)p->k.w[0];                                                                          \
            _Pragma("omp simd") for (int64_t i = 0; i < nx; i++) o[i] = w0 * ext[i];                      \
            for (int64_t k = 1; k < len; k++) {                                                           \
                T wk = (T)p->k.w[k];                                                                      \
                const T *e = ext + k;                                                                     \
                if (wk == 0) continue;                                                                    \
                _Pragma("omp simd") for (int64_t i = 0; i < nx; i++) o[i] += wk * e[i];                   \
            }                                                                                             \
            return;                                                                                       \
        }                                                                                                 \
        for (int64_t i = 0; i < nx; i++) o[i] = ext[i];                                                   \
        for (int64_t k = 1; k < len; k++) {                                                               \
            const T *e = ext + k;                                                                         \
            if (p->op == OP_MAX) {                                                                        \
                _Pragma("omp simd") for (int64_t i = 0; i < nx; i++) o[i] = e[i] > o[i] ? e[i] : o[i];    \
            } else {                                                                                      \
                _Pragma("omp simd") for (int64_t i = 0; i < nx; i++) o[i] = e[i] < o[i] ? e[i] : o[i];    \
            }                                                                                             \
        }                                                                                                 \
    }                                                                                                     \
                                                                                                          \
    /* n rows of nx at base + j*stride filtered along j into out + i*ostride;                             \
     * crow is a row of cval for the constant border */                                                   \
    MD_WIDE static void col_filter_##SUF(const T *base, int64_t stride, int64_t n, int64_t nx, const Pass *p,     \
                                 MdBorder mode, const T *crow, T *out, int64_t ostride)                   \
    {                                                                                                     \
        int64_t len = p->k.len, c = p->k.center;                                                          \
        int sym = p->op == OP_CORR && symmetric(&p->k);                                                   \
        for (int64_t i = 0; i < n; i++) {                                                                 \
            T *o = out + i * ostride;                                                                     \
            if (sym) {                                                                                    \
                int64_t j = md_border_index(i, n, mode);                                                  \
                const T *e = j < 0 ? crow : base + j * stride;                                            \
                T wc = (T)p->k.w[c];                                                                      \
                _Pragma("omp simd") for (int64_t x = 0; x < nx; x++) o[x] = wc * e[x];                    \
                for (int64_t k = 0; k < c; k++) {                                                         \
                    int64_t j0 = md_border_index(i + k - c, n, mode), j1 = md_border_index(i + c - k, n, mode); \
                    const T *e0 = j0 < 0 ? crow : base + j0 * stride, *e1 = j1 < 0 ? crow : base + j1 * stride; \
                    T wk = (T)p->k.w[k];                                                                  \
                    _Pragma("omp simd") for (int64_t x = 0; x < nx; x++) o[x] += wk * (e0[x] + e1[x]);    \
                }                                                                                         \
                continue;                                                                                 \
            }                                                                                             \
            for (int64_t k = 0; k < len; k++) {                                                           \
                int64_t j = md_border_index(i + k - c, n, mode);                                          \
                const T *e = j < 0 ? crow : base + j * stride;                                            \
                if (p->op == OP_CORR) {                                                                   \
                    T wk = (T)p->k.w[k];                                                                  \
                    if (k == 0) {                                                                         \
                        _Pragma("omp simd") for (int64_t x = 0; x < nx; x++) o[x] = wk * e[x];            \
                    } else if (wk != 0) {                                                                 \
                        _Pragma("omp simd") for (int64_t x = 0; x < nx; x++) o[x] += wk * e[x];           \
                    }                                                                                     \
                } else if (k == 0) {                                                                      \
                    memcpy(o, e, (size_t)nx * sizeof *o);                                                 \
                } else if (p->op == OP_MAX) {                                                             \
                    _Pragma("omp simd") for (int64_t x = 0; x < nx; x++) o[x] = e[x] > o[x] ? e[x] : o[x]; \
                } else {                                                                                  \
                    _Pragma("omp simd") for (int64_t x = 0; x < nx; x++) o[x] = e[x] < o[x] ? e[x] : o[x]; \
                }                                                                                         \
            }                                                                                             \
        }                                                                                                 \
    }                                                                                                     \
                                                                                                          \
    /* Runs the passes (ps[0] along x; then y and/or z) from in into dst. */                              \
    static MdStatus run_##SUF(const MdVolume *in, const Pass *ps, int np, MdBorder mode, double cval,     \
                              T *dst, MdCtx *ctx)                                                         \
    {                                                                                                     \
        Grid g = grid_of(in);                                                                             \
        const Pass *py = NULL, *pz = NULL;                                                                \
        for (int i = 1; i < np; i++) {                                                                    \
            if (ps[i].axis == 1) py = &ps[i];                                                             \
            if (ps[i].axis == 2) pz = &ps[i];                                                             \
        }                                                                                                 \
        int64_t nx = g.nx, ny = g.ny, nz = g.nz, maxn = nx > ny ? nx : ny;                                \
        size_t total = (size_t)nz + (pz ? (size_t)ny : 0);                                                \
        int fail = MD_OK;                                                                                 \
        T tc = (T)cval;                                                                                   \
        _Pragma("omp parallel if (md_par_worth((double)(nx * ny * nz)))")                                 \
        {                                                                                                 \
            size_t plane = (size_t)(nx * (ny > nz ? ny : nz));                                            \
            T *mem = malloc((plane + (size_t)(3 * maxn + 64 + ps[0].k.len)) * sizeof(T));                 \
            T *buf = mem, *row = mem ? mem + plane : NULL, *crow = row ? row + maxn : NULL;               \
            T *ext = crow ? crow + maxn : NULL;                                                           \
            if (!mem) md_par_fail(&fail, MD_ENOMEM);                                                      \
            else for (int64_t i = 0; i < maxn; i++) crow[i] = tc;                                         \
            _Pragma("omp for schedule(static)")                                                          \
            for (int64_t z = 0; z < nz; z++) {                                                            \
                if (!mem || md_par_poll_cancel(&fail)) continue;                                          \
                T *slice = dst + z * nx * ny, *to = py ? buf : slice;                                     \
                for (int64_t y = 0; y < ny; y++) {                                                        \
                    LOADROW(md_volume_data(in), in->dtype, (size_t)((z * ny + y) * nx), (size_t)nx, row); \
                    row_filter_##SUF(row, nx, &ps[0], mode, tc, ext, to + y * nx);                        \
                }                                                                                         \
                if (py) col_filter_##SUF(buf, nx, ny, nx, py, mode, crow, slice, nx);                     \
                if (md_par_thread() == 0) md_ctx_progress(ctx, (size_t)z + 1, total);                     \
            }                                                                                             \
            if (pz) {                                                                                     \
                _Pragma("omp for schedule(static)")                                                      \
                for (int64_t y = 0; y < ny; y++) {                                                        \
                    if (!mem || md_par_poll_cancel(&fail)) continue;                                      \
                    col_filter_##SUF(dst + y * nx, nx * ny, nz, nx, pz, mode, crow, buf, nx);             \
                    for (int64_t z = 0; z < nz; z++)                                                      \
                        memcpy(dst + (z * ny + y) * nx, buf + z * nx, (size_t)nx * sizeof(T));            \
                    if (md_par_thread() == 0) md_ctx_progress(ctx, (size_t)(nz + y) + 1, total);          \
                }                                                                                         \
            }                                                                                             \
            free(mem);                                                                                    \
        }                                                                                                 \
        md_ctx_finish(ctx, total);                                                                        \
        return md_par_status(fail, ctx->label, ctx->err);                                                 \
    }

DEFINE_PASS(float, f32, md_rows_to_f32)
DEFINE_PASS(double, f64, md_rows_to_f64)
#undef DEFINE_PASS

static MdStatus check_shapes(const MdVolume *in, const MdVolume *out, MdError *err)
{
    if (in->ndim < 2 || in->ndim > 3)
        return md_error(err, MD_EINVAL, "filters need a 2-D or 3-D volume (got %d-D)", in->ndim);
    if (md_volume_count(out) != md_volume_count(in)) return md_error(err, MD_EINVAL, "output size differs from input");
    return MD_OK;
}

/* The passes for kernels k (x always, as the first pass reads the input). */
static int make_passes(const MdKernel1 k[3], const Grid *g, PassOp op, Pass *ps)
{
    static const double one = 1;
    int np = 0;
    for (int a = 0; a < 3; a++) {
        if (k[a].len == 0 && a > 0) continue;
        ps[np].axis = a;
        ps[np].op = op;
        ps[np].k = k[a];
        if (k[a].len == 0) ps[np].k = (MdKernel1){&one, 1, 0}, ps[np].op = OP_CORR;
        np++;
    }
    return np;
}

MdStatus md_filter_separable(const MdVolume *in, const MdKernel1 k[3], MdBorder mode, double cval, MdVolume *out,
                             MdCtx *ctx)
{
    MdStatus st = check_shapes(in, out, ctx->err);
    if (st) return st;
    Grid g = grid_of(in);
    if (g.nz == 1 && k[2].len > 1 && in->ndim == 2)
        return md_error(ctx->err, MD_EINVAL, "a z kernel needs a 3-D volume");
    Pass ps[3];
    int np = make_passes(k, &g, OP_CORR, ps);
    if (out->dtype == MD_FLOAT32) return run_f32(in, ps, np, mode, cval, md_volume_data(out), ctx);
    if (out->dtype == MD_FLOAT64) return run_f64(in, ps, np, mode, cval, md_volume_data(out), ctx);
    return md_error(ctx->err, MD_EINVAL, "filter output must be float32 or float64");
}

MdStatus md_filter_minmax(const MdVolume *in, const int r[3], int is_max, MdBorder mode, double cval, MdVolume *out,
                          MdCtx *ctx)
{
    MdStatus st = check_shapes(in, out, ctx->err);
    if (st) return st;
    if (out->dtype != in->dtype) return md_error(ctx->err, MD_EINVAL, "min/max filter output keeps the input dtype");
    MdKernel1 k[3];
    for (int a = 0; a < 3; a++) {
        if (r[a] < 0) return md_error(ctx->err, MD_EINVAL, "radius must be >= 0 (got %d on axis %d)", r[a], a + 1);
        k[a] = (MdKernel1){NULL, r[a] > 0 ? 2 * r[a] + 1 : 0, r[a]};
    }
    Pass ps[3];
    int np = 0;
    for (int a = 0; a < 3; a++) {
        if (a > 0 && k[a].len == 0) continue;
        ps[np++] = (Pass){a, is_max ? OP_MAX : OP_MIN, k[a].len ? k[a] : (MdKernel1){NULL, 1, 0}};
    }
    size_t n = md_volume_count(in);
    /* float holds every value of the 8/16-bit types and float32 exactly */
    int use_f32 = in->dtype != MD_UINT32 && in->dtype != MD_INT32 && in->dtype != MD_FLOAT64;
    void *buf = malloc(n * (use_f32 ? sizeof(float) : sizeof(double)));
    if (!buf) return md_error(ctx->err, MD_ENOMEM, "filter: out of memory for %zu voxels", n);
    st = use_f32 ? run_f32(in, ps, np, mode, cval, buf, ctx) : run_f64(in, ps, np, mode, cval, buf, ctx);
    if (!st) {
        if (use_f32) md_rows_from_f32(md_volume_data(out), out->dtype, 0, n, buf, MD_ROUND_NEAREST);
        else md_rows_from_f64(md_volume_data(out), out->dtype, 0, n, buf, MD_ROUND_NEAREST);
    }
    free(buf);
    return st;
}

/* ---- N-D correlation ------------------------------------------------------- */

MdStatus md_filter_correlate(const MdVolume *in, const double *w, const int kd[3], const int ctr[3], MdBorder mode,
                             double cval, MdVolume *out, MdCtx *ctx)
{
    MdStatus st = check_shapes(in, out, ctx->err);
    if (st) return st;
    if (out->dtype != MD_FLOAT32 && out->dtype != MD_FLOAT64)
        return md_error(ctx->err, MD_EINVAL, "correlate output must be float32 or float64");
    Grid g = grid_of(in);
    int64_t nx = g.nx, ny = g.ny, nz = g.nz, kx = kd[0];
    int fail = MD_OK;
    size_t done = 0;
#pragma omp parallel if (md_par_worth((double)(nx * ny * nz) * kd[0] * kd[1] * kd[2] / 8))
    {
        double *row = malloc((size_t)(3 * nx + kx) * sizeof *row), *acc = row + nx, *ext = acc + nx;
        if (!row) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t z = 0; z < nz; z++) {
            if (!row || md_par_poll_cancel(&fail)) continue;
            for (int64_t y = 0; y < ny; y++) {
                memset(acc, 0, (size_t)nx * sizeof *acc);
                for (int a = 0; a < kd[2]; a++)
                    for (int b = 0; b < kd[1]; b++) {
                        const double *wr = w + ((size_t)a * (size_t)kd[1] + (size_t)b) * (size_t)kx;
                        int any = 0;
                        for (int64_t i = 0; i < kx; i++) any |= wr[i] != 0;
                        if (!any) continue;
                        int64_t zz = md_border_index(z + a - ctr[2], nz, mode);
                        int64_t yy = md_border_index(y + b - ctr[1], ny, mode);
                        if (zz < 0 || yy < 0) {
                            for (int64_t j = 0; j < nx + kx - 1; j++) ext[j] = cval;
                        } else {
                            md_rows_to_f64(md_volume_data(in), in->dtype, (size_t)((zz * ny + yy) * nx), (size_t)nx,
                                           ext + ctr[0]);
                            for (int64_t j = 0; j < nx + kx - 1; j++) {
                                if (j == ctr[0]) j += nx; /* the row itself is in place */
                                if (j >= nx + kx - 1) break;
                                int64_t i = md_border_index(j - ctr[0], nx, mode);
                                ext[j] = i < 0 ? cval : ext[ctr[0] + i];
                            }
                        }
                        for (int64_t k = 0; k < kx; k++) {
                            double wk = wr[k];
                            if (wk == 0) continue;
                            const double *e = ext + k;
#pragma omp simd
                            for (int64_t i = 0; i < nx; i++) acc[i] += wk * e[i];
                        }
                    }
                md_rows_from_f64(md_volume_data(out), out->dtype, (size_t)((z * ny + y) * nx), (size_t)nx, acc,
                                 MD_ROUND_NEAREST);
            }
            if (md_par_thread() == 0) {
                done = (size_t)z + 1;
                md_ctx_progress(ctx, done, (size_t)nz);
            }
        }
        free(row);
    }
    md_ctx_finish(ctx, (size_t)nz);
    return md_par_status(fail, "correlate", ctx->err);
}
