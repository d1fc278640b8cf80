/* Intensity augmentations on float32 volumes, in place. Every loop runs over
 * z-slices; statistics are per-slice partials summed serially in slice
 * order, and random numbers are addressed by voxel index, so the output is
 * the same on any thread count. */
#include "augment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/rng.h"
#include "../core/ziggurat.h"
#include "gamma_rows.h"
#include "spline.h"
#include "stats.h"

static MdStatus need_float32(const MdVolume *v, const char *what, MdError *err)
{
    if (v->dtype != MD_FLOAT32)
        return md_error(err, MD_EINVAL, "%s needs a float32 volume (got %s)", what, md_dtype_name(v->dtype));
    return MD_OK;
}

/* Slices of a volume: the unit of parallel work (frames count as slices). */
static int64_t nslices(const MdVolume *v) { return v->dim[2] * v->dim[3]; }
static size_t plane(const MdVolume *v) { return (size_t)(v->dim[0] * v->dim[1]); }

/* The kernels' statistics (kernels/stats.c: exact, thread-count independent)
 * in the form the transforms use. */
MdStatus md_aug_stats(const MdVolume *v, MdAugStats *out, MdCtx *ctx)
{
    MdStatus st = need_float32(v, "stats", ctx->err);
    if (st != MD_OK) return st;
    MdStats s;
    if ((st = md_stats(v, NULL, &s, ctx->err)) != MD_OK) return st;
    out->mean = s.mean, out->std = s.std, out->min = s.min, out->max = s.max, out->n = s.count;
    return MD_OK;
}

/* Voxel i takes normal number i of the stream (core/ziggurat.h): one
 * 64-bit word per pair of voxels, and a table look-up for most of them. */
MdStatus md_aug_noise(MdVolume *v, uint64_t key, double std, MdCtx *ctx)
{
    MdStatus st = need_float32(v, "noise", ctx->err);
    if (st != MD_OK) return st;
    const size_t n = md_volume_count(v);
    const int64_t npair = (int64_t)((n + 1) / 2);
    const float sd = (float)std;
    const uint64_t slow = md_zig_slow_key(key);
    float *x = md_volume_data(v);
#pragma omp parallel for schedule(static) num_threads(ctx->threads) if (md_par_worth((double)n))
    for (int64_t m = 0; m < npair; m++) {
        const uint64_t w = md_rng_u64(key, (uint64_t)m);
        const size_t i = 2 * (size_t)m;
        x[i] += sd * (float)md_zig_normal(slow, i, (uint32_t)w);
        if (i + 1 < n) x[i + 1] += sd * (float)md_zig_normal(slow, i + 1, (uint32_t)(w >> 32));
    }
    return MD_OK;
}

/* Applies x -> f(x) slice by slice; f is a small expression macro. */
#define FOR_VOXELS(v, ctx, EXPR)                                                                    \
    do {                                                                                            \
        const int64_t ns_ = nslices(v);                                                             \
        const size_t pl_ = plane(v);                                                                \
        float *x_ = md_volume_data(v);                                                              \
        _Pragma("omp parallel for schedule(static) num_threads((ctx)->threads) if (md_par_worth((double)ns_ * (double)pl_))") \
        for (int64_t z_ = 0; z_ < ns_; z_++) {                                                      \
            float *s_ = x_ + (size_t)z_ * pl_;                                                      \
            for (size_t i_ = 0; i_ < pl_; i_++) {                                                   \
                double x = (double)s_[i_];                                                          \
                s_[i_] = (float)(EXPR);                                                             \
            }                                                                                       \
        }                                                                                           \
    } while (0)

MdStatus md_aug_gamma(MdVolume *v, double gamma, int invert, int retain_stats, MdCtx *ctx)
{
    MdStatus st = need_float32(v, "gamma", ctx->err);
    if (st != MD_OK) return st;
    if (!(gamma > 0) || !isfinite(gamma)) return md_error(ctx->err, MD_EINVAL, "gamma must be > 0 (got %g)", gamma);
    MdAugStats s0;
    if ((st = md_aug_stats(v, &s0, ctx)) != MD_OK) return st;
    if (s0.n == 0) return MD_OK;
    const double sign = invert ? -1.0 : 1.0;
    const double lo = invert ? -s0.max : s0.min, range = s0.max - s0.min;
    /* the base lies in [0, 1]: md_gamma_rows' power, in double, slice by slice */
    {
        const int64_t ns = nslices(v);
        const size_t pl = plane(v);
        float *x = md_volume_data(v);
#pragma omp parallel for schedule(static) num_threads(ctx->threads) if (md_par_worth((double)ns * (double)pl))
        for (int64_t z = 0; z < ns; z++) md_gamma_rows(x + (size_t)z * pl, pl, sign, lo, range, gamma);
    }
    if (retain_stats) {
        MdAugStats s1;
        if ((st = md_aug_stats(v, &s1, ctx)) != MD_OK) return st;
        const double scale = s0.std / (s1.std > 0 ? s1.std : 1e-8);
        const double m0 = s0.mean, m1 = s1.mean;
        FOR_VOXELS(v, ctx, (x - m1) * scale + m0);
    }
    return MD_OK;
}

MdStatus md_aug_contrast(MdVolume *v, double factor, int preserve_range, MdCtx *ctx)
{
    MdStatus st = need_float32(v, "contrast", ctx->err);
    if (st != MD_OK) return st;
    MdAugStats s;
    if ((st = md_aug_stats(v, &s, ctx)) != MD_OK) return st;
    if (s.n == 0) return MD_OK;
    const double m = s.mean, lo = s.min, hi = s.max;
    if (preserve_range) {
        FOR_VOXELS(v, ctx, fmin(hi, fmax(lo, (x - m) * factor + m)));
    } else {
        FOR_VOXELS(v, ctx, (x - m) * factor + m);
    }
    return MD_OK;
}

MdStatus md_aug_brightness(MdVolume *v, double factor, MdCtx *ctx)
{
    MdStatus st = need_float32(v, "brightness", ctx->err);
    if (st != MD_OK) return st;
    FOR_VOXELS(v, ctx, x * factor);
    return MD_OK;
}

int md_aug_bias_ncoef(int order, int ndim)
{
    int n = 0;
    for (int i = 0; i <= order; i++)
        for (int j = 0; j <= order - i; j++)
            for (int k = 0; k <= order - i - j; k++)
                if (ndim >= 3 || k == 0) n++;
    return n;
}

static double norm_coord(int64_t i, int64_t n) { return n > 1 ? 2.0 * (double)i / (double)(n - 1) - 1.0 : 0.0; }

MdStatus md_aug_bias(MdVolume *v, int order, const double *coef, int ncoef, MdCtx *ctx)
{
    MdStatus st = need_float32(v, "bias", ctx->err);
    if (st != MD_OK) return st;
    const int flat = v->ndim < 3;
    if (order < 0 || order > 8 || ncoef != md_aug_bias_ncoef(order, flat ? 2 : 3))
        return md_error(ctx->err, MD_EINVAL, "bias: order %d needs %d coefficients (got %d)", order,
                        md_aug_bias_ncoef(order, flat ? 2 : 3), ncoef);
    const int64_t nx = v->dim[0], ny = v->dim[1], nz = v->dim[2], nf = v->dim[3];
    float *x = md_volume_data(v);
    int fail = MD_OK;
#pragma omp parallel for schedule(static) num_threads(ctx->threads) if (md_par_worth((double)(nx * ny * nz)))
    for (int64_t z = 0; z < nz; z++) {
        double *px = malloc((size_t)(order + 1) * (size_t)nx * sizeof *px);
        if (!px) {
            md_par_fail(&fail, MD_ENOMEM);
            continue;
        }
        for (int64_t i = 0; i < nx; i++) { /* powers of u along the row */
            double u = norm_coord(i, nx), p = 1.0;
            for (int e = 0; e <= order; e++, p *= u) px[(size_t)e * (size_t)nx + (size_t)i] = p;
        }
        const double w = norm_coord(z, nz);
        for (int64_t y = 0; y < ny; y++) {
            const double vv = norm_coord(y, ny);
            for (int64_t i = 0; i < nx; i++) {
                double acc = 0.0;
                int c = 0;
                for (int a = 0; a <= order; a++)
                    for (int b = 0; b <= order - a; b++) {
                        double pv = pow(vv, b);
                        for (int k = 0; k <= order - a - b; k++) {
                            if (flat && k > 0) break;
                            acc += coef[c++] * px[(size_t)a * (size_t)nx + (size_t)i] * pv * pow(w, k);
                        }
                    }
                const double field = exp(acc);
                for (int64_t f = 0; f < nf; f++) {
                    float *t = x + (size_t)(((f * nz + z) * ny + y) * nx + i);
                    *t = (float)((double)*t * field);
                }
            }
        }
        free(px);
    }
    return md_par_status(fail, "bias", ctx->err);
}

/* One axis of the blur over all lines along it, blocks of interleaved lines
 * gathered into double scratch. */
static int blur_axis(MdVolume *v, int a, double sigma, int threads)
{
    const int64_t nx = v->dim[0], ny = v->dim[1], nz = v->dim[2] * v->dim[3];
    const int64_t n = a == 0 ? nx : a == 1 ? ny : v->dim[2];
    if (n < 2 || sigma <= 0) return 1;
    const int r = md_gauss_radius(sigma);
    double *k = malloc((size_t)(2 * r + 1) * sizeof *k);
    if (!k) return 0;
    md_gauss_kernel(sigma, k);
    /* blocks: x: one row (width 1); y: one z slice (width nx); z: one y row
     * of one frame (width nx, lines stride nx*ny) */
    const int64_t nblk = a == 0 ? ny * nz : a == 1 ? nz : ny * v->dim[3];
    const int64_t width = a == 0 ? 1 : nx;
    float *x = md_volume_data(v);
    int ok = 1;
#pragma omp parallel num_threads(threads) if (md_par_worth((double)(nx * ny * nz)))
    {
        double *blk = malloc((size_t)(n * width) * sizeof *blk);
        double *tmp = malloc((size_t)((n + 2 * r) * width) * sizeof *tmp);
        if (!blk || !tmp) {
#pragma omp atomic write
            ok = 0;
        }
#pragma omp for schedule(static)
        for (int64_t b = 0; b < nblk; b++) {
            if (!blk || !tmp) continue;
            size_t base, step;
            if (a == 0) base = (size_t)(b * nx), step = 1;
            else if (a == 1) base = (size_t)(b * nx * ny), step = (size_t)nx;
            else base = (size_t)(((b / ny) * v->dim[2] * ny + b % ny) * nx), step = (size_t)(nx * ny);
            for (int64_t i = 0; i < n; i++)
                for (int64_t w = 0; w < width; w++) blk[i * width + w] = (double)x[base + (size_t)i * step + (size_t)w];
            md_gauss_apply(blk, n, width, width, k, r, MD_BOUND_NEAREST, 0.0, tmp);
            for (int64_t i = 0; i < n; i++)
                for (int64_t w = 0; w < width; w++) x[base + (size_t)i * step + (size_t)w] = (float)blk[i * width + w];
        }
        free(blk), free(tmp);
    }
    free(k);
    return ok;
}

MdStatus md_aug_blur(MdVolume *v, const double sigma[3], MdCtx *ctx)
{
    MdStatus st = need_float32(v, "blur", ctx->err);
    if (st != MD_OK) return st;
    for (int a = 0; a < 3; a++)
        if (!(sigma[a] >= 0) || sigma[a] > 1e4)
            return md_error(ctx->err, MD_EINVAL, "blur: sigma must be >= 0 (got %g on axis %d)", sigma[a], a + 1);
    for (int a = 0; a < 3; a++)
        if (!blur_axis(v, a, sigma[a], ctx->threads))
            return md_error(ctx->err, MD_ENOMEM, "blur: out of memory for line scratch");
    return MD_OK;
}
