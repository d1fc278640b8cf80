/* Recursive Gaussian (Deriche's fourth-order approximation, with the
 * coefficients and border initialisation ITK's RecursiveGaussianImageFilter
 * uses): a causal and an anticausal recurrence per line, so the cost does
 * not grow with sigma. Lines along y and z run as whole rows of x at once,
 * x lines one sample wide; values in double, stored as the output type
 * between axes. */
#include "recursive.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/rows.h"

typedef struct Coef {
    double n[4], m[4], d[4], bn[4], bm[4]; /* n0..n3, m1..m4, d1..d4, border terms */
} Coef;

/* Deriche's order-0 coefficients for sigma in samples (ITK's SetUp). */
static void coefficients(double sigma, Coef *c)
{
    const double a1 = 1.3530, b1 = 1.8151, w1 = 0.6681, l1 = -1.3932;
    const double a2 = -0.3531, b2 = 0.0902, w2 = 2.0787, l2 = -1.3732;
    double s1 = sin(w1 / sigma), s2 = sin(w2 / sigma), c1 = cos(w1 / sigma), c2 = cos(w2 / sigma);
    double e1 = exp(l1 / sigma), e2 = exp(l2 / sigma);
    double *d = c->d, *n = c->n, *m = c->m;
    d[3] = e1 * e1 * e2 * e2;
    d[2] = -2 * c1 * e1 * e2 * e2;
    d[2] += -2 * c2 * e2 * e1 * e1;
    d[1] = 4 * c2 * c1 * e1 * e2;
    d[1] += e1 * e1 + e2 * e2;
    d[0] = -2 * (e2 * c2 + e1 * c1);
    double sd = 1.0 + d[0] + d[1] + d[2] + d[3];
    n[0] = a1 + a2;
    n[1] = e2 * (b2 * s2 - (a2 + 2 * a1) * c2);
    n[1] += e1 * (b1 * s1 - (a1 + 2 * a2) * c1);
    n[2] = (a1 + a2) * c2 * c1;
    n[2] -= b1 * c2 * s1 + b2 * c1 * s2;
    n[2] *= 2 * e1 * e2;
    n[2] += a2 * e1 * e1 + a1 * e2 * e2;
    n[3] = e2 * e1 * e1 * (b2 * s2 - a2 * c2);
    n[3] += e1 * e2 * e2 * (b1 * s1 - a1 * c1);
    double sn = n[0] + n[1] + n[2] + n[3];
    double alpha0 = 2 * sn / sd - n[0];
    for (int i = 0; i < 4; i++) n[i] /= alpha0;
    m[0] = n[1] - d[0] * n[0];
    m[1] = n[2] - d[1] * n[0];
    m[2] = n[3] - d[2] * n[0];
    m[3] = -d[3] * n[0];
    sn = n[0] + n[1] + n[2] + n[3];
    double sm = m[0] + m[1] + m[2] + m[3];
    for (int i = 0; i < 4; i++) {
        c->bn[i] = d[i] * sn / sd;
        c->bm[i] = d[i] * sm / sd;
    }
}

/* One pass over len samples, each a vector of w doubles: x[i*w + k] in,
 * out[i*w + k] = causal + anticausal (ITK's FilterDataArray); s is scratch
 * of len*w. len >= 4. */
static void recurse(const double *x, double *out, double *s, int64_t len, int64_t w, const Coef *c)
{
    const double *n = c->n, *m = c->m, *d = c->d, *bn = c->bn, *bm = c->bm;
#define X(i) (x + (i) * w)
#define O(i) (out + (i) * w)
#define S(i) (s + (i) * w)
    for (int64_t k = 0; k < w; k++) {
        double v = X(0)[k];
        O(0)[k] = v * n[0] + v * n[1] + v * n[2] + v * n[3];
        O(1)[k] = X(1)[k] * n[0] + v * n[1] + v * n[2] + v * n[3];
        O(2)[k] = X(2)[k] * n[0] + X(1)[k] * n[1] + v * n[2] + v * n[3];
        O(3)[k] = X(3)[k] * n[0] + X(2)[k] * n[1] + X(1)[k] * n[2] + v * n[3];
        O(0)[k] -= v * bn[0] + v * bn[1] + v * bn[2] + v * bn[3];
        O(1)[k] -= O(0)[k] * d[0] + v * bn[1] + v * bn[2] + v * bn[3];
        O(2)[k] -= O(1)[k] * d[0] + O(0)[k] * d[1] + v * bn[2] + v * bn[3];
        O(3)[k] -= O(2)[k] * d[0] + O(1)[k] * d[1] + O(0)[k] * d[2] + v * bn[3];
    }
    for (int64_t i = 4; i < len; i++) {
        const double *x0 = X(i), *x1 = X(i - 1), *x2 = X(i - 2), *x3 = X(i - 3);
        const double *o1 = O(i - 1), *o2 = O(i - 2), *o3 = O(i - 3), *o4 = O(i - 4);
        double *o = O(i);
#pragma omp simd
        for (int64_t k = 0; k < w; k++)
            o[k] = (x0[k] * n[0] + x1[k] * n[1] + x2[k] * n[2] + x3[k] * n[3]) -
                   (o1[k] * d[0] + o2[k] * d[1] + o3[k] * d[2] + o4[k] * d[3]);
    }
    int64_t L = len - 1;
    for (int64_t k = 0; k < w; k++) {
        double v = X(L)[k];
        S(L)[k] = v * m[0] + v * m[1] + v * m[2] + v * m[3];
        S(L - 1)[k] = X(L)[k] * m[0] + v * m[1] + v * m[2] + v * m[3];
        S(L - 2)[k] = X(L - 1)[k] * m[0] + X(L)[k] * m[1] + v * m[2] + v * m[3];
        S(L - 3)[k] = X(L - 2)[k] * m[0] + X(L - 1)[k] * m[1] + X(L)[k] * m[2] + v * m[3];
        S(L)[k] -= v * bm[0] + v * bm[1] + v * bm[2] + v * bm[3];
        S(L - 1)[k] -= S(L)[k] * d[0] + v * bm[1] + v * bm[2] + v * bm[3];
        S(L - 2)[k] -= S(L - 1)[k] * d[0] + S(L)[k] * d[1] + v * bm[2] + v * bm[3];
        S(L - 3)[k] -= S(L - 2)[k] * d[0] + S(L - 1)[k] * d[1] + S(L)[k] * d[2] + v * bm[3];
    }
    for (int64_t i = len - 4; i > 0; i--) {
        const double *x0 = X(i), *x1 = X(i + 1), *x2 = X(i + 2), *x3 = X(i + 3);
        const double *s1 = S(i), *s2 = S(i + 1), *s3 = S(i + 2), *s4 = S(i + 3);
        double *o = S(i - 1);
#pragma omp simd
        for (int64_t k = 0; k < w; k++)
            o[k] = (x0[k] * m[0] + x1[k] * m[1] + x2[k] * m[2] + x3[k] * m[3]) -
                   (s1[k] * d[0] + s2[k] * d[1] + s3[k] * d[2] + s4[k] * d[3]);
    }
    for (int64_t i = 0; i < len * w; i++) out[i] += s[i];
#undef X
#undef O
#undef S
}

MdStatus md_filter_recursive_gaussian(const MdVolume *in, const double sigma[3], MdVolume *out, MdCtx *ctx)
{
    if (in->ndim < 2 || in->ndim > 3)
        return md_error(ctx->err, MD_EINVAL, "filters need a 2-D or 3-D volume (got %d-D)", in->ndim);
    if ((out->dtype != MD_FLOAT32 && out->dtype != MD_FLOAT64) || md_volume_count(out) != md_volume_count(in))
        return md_error(ctx->err, MD_EINVAL, "filter output must be float32 or float64 of the input's size");
    int64_t nx = in->dim[0], ny = in->dim[1], nz = in->ndim == 3 ? in->dim[2] : 1, len[3] = {nx, ny, nz};
    int on[3];
    Coef c[3];
    for (int a = 0; a < 3; a++) {
        on[a] = sigma[a] > 1e-15;
        if (!on[a]) continue;
        if (len[a] < 4)
            return md_error(ctx->err, MD_EINVAL, "the recursive Gaussian needs at least 4 voxels along axis %d (got %lld)",
                            a + 1, (long long)len[a]);
        coefficients(sigma[a], &c[a]);
    }
    int64_t big = nx * (ny > nz ? ny : nz);
    size_t total = (size_t)nz + (on[2] ? (size_t)ny : 0);
    int fail = MD_OK;
    void *dst = md_volume_data(out);
    MdDtype t = out->dtype;
#pragma omp parallel if (md_par_worth((double)(nx * ny * nz)))
    {
        double *mem = malloc((size_t)(3 * big + 3 * nx) * sizeof *mem);
        double *a = mem, *b = mem ? a + big : NULL, *s = mem ? b + big : NULL, *r = mem ? s + big : NULL;
        if (!mem) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t z = 0; z < nz; z++) {
            if (!mem || md_par_poll_cancel(&fail)) continue;
            size_t base = (size_t)(z * ny * nx);
            md_rows_to_f64(md_volume_data(in), in->dtype, base, (size_t)(nx * ny), a);
            if (on[0])
                for (int64_t y = 0; y < ny; y++) {
                    recurse(a + y * nx, r, r + nx, nx, 1, &c[0]);
                    memcpy(a + y * nx, r, (size_t)nx * sizeof *r);
                }
            /* stored in the output type between axes, as ITK's pipeline does */
            md_rows_from_f64(dst, t, base, (size_t)(nx * ny), a, MD_ROUND_NEAREST);
            if (on[1]) {
                md_rows_to_f64(dst, t, base, (size_t)(nx * ny), a);
                recurse(a, b, s, ny, nx, &c[1]);
                md_rows_from_f64(dst, t, base, (size_t)(nx * ny), b, MD_ROUND_NEAREST);
            }
            if (md_par_thread() == 0) md_ctx_progress(ctx, (size_t)z + 1, total);
        }
        if (on[2]) {
#pragma omp for schedule(static)
            for (int64_t y = 0; y < ny; y++) {
                if (!mem || md_par_poll_cancel(&fail)) continue;
                for (int64_t z = 0; z < nz; z++)
                    md_rows_to_f64(dst, t, (size_t)((z * ny + y) * nx), (size_t)nx, a + z * nx);
                recurse(a, b, s, nz, nx, &c[2]);
                for (int64_t z = 0; z < nz; z++)
                    md_rows_from_f64(dst, t, (size_t)((z * ny + y) * nx), (size_t)nx, b + z * nx, MD_ROUND_NEAREST);
                if (md_par_thread() == 0) md_ctx_progress(ctx, (size_t)(nz + y) + 1, total);
            }
        }
        free(mem);
    }
    md_ctx_finish(ctx, total);
    return md_par_status(fail, "recursive gaussian", ctx->err);
}
