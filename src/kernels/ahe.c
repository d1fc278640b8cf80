/* The two ITK intensity filters, written from ITK 5's definitions: the
 * arithmetic follows ITK's precision (float for the AHE transfer function,
 * double elsewhere) so integer outputs truncate to the same values. Sums
 * that feed a mean are per-slice partials added in slice order. */
#include "ahe.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/rows.h"
#include "filter.h"

static void volume_range(const double *x, size_t n, double *lo, double *hi)
{
    double a = INFINITY, b = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        a = x[i] < a ? x[i] : a;
        b = x[i] > b ? x[i] : b;
    }
    *lo = a, *hi = b;
}

/* ITK's CumulativeFunction in its float arithmetic. */
static inline float cumulative(float u, float v, float alpha, float beta)
{
    float d = u - v;
    float s = (float)((d > 0) - (d < 0));
    float ad = (float)fabs(2.0 * (double)d);
    return (float)(0.5 * (double)s * (double)powf(ad, alpha) - (double)beta * 0.5 * (double)s * (double)ad +
                   (double)(beta * u));
}

/* A float's bits as an unsigned key in the order of the values (-0 just
 * below +0, NaN at the ends): sorting by it needs no comparison callback. */
static inline uint32_t float_key(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b & 0x80000000u ? ~b : b | 0x80000000u;
}

/* Shell sort with Ciura's gaps, inline: windows hold tens to a few thousand
 * values, and qsort's callback per comparison was most of the filter's time.
 * Equal keys are equal bits, so the order among them cannot show. */
static void sort_window(float *w, size_t m)
{
    static const size_t gaps[] = {1750, 701, 301, 132, 57, 23, 10, 4, 1};
    for (size_t g = 0; g < sizeof gaps / sizeof *gaps; g++) {
        const size_t h = gaps[g];
        for (size_t i = h; i < m; i++) {
            const float v = w[i];
            const uint32_t k = float_key(v);
            size_t j = i;
            for (; j >= h && float_key(w[j - h]) > k; j -= h) w[j] = w[j - h];
            w[j] = v;
        }
    }
}

/* ITK's GetValue: the window's distinct values with their counts, each
 * term count * F / voxels added in double (ascending value order; ITK's
 * hash order differs only in the last bits of the sum). win is reordered. */
static double ahe_value(float up, float *win, size_t m, float alpha, float beta, double iscale, double lo)
{
    sort_window(win, m);
    double sum = 0, kernel = (double)m;
    for (size_t i = 0; i < m;) {
        size_t j = i + 1; /* a NaN equals nothing, itself included: its own group */
        while (j < m && win[j] == win[i]) j++;
        sum += (double)((float)(j - i) * cumulative(up, win[i], alpha, beta)) / kernel;
        i = j;
    }
    return iscale * (sum + 0.5) + lo;
}

MdStatus md_ahe(const MdVolume *in, const int r[3], double alpha, double beta, MdVolume *out, MdCtx *ctx)
{
    if (in->ndim < 2 || in->ndim > 3 || md_volume_count(out) != md_volume_count(in))
        return md_error(ctx->err, MD_EINVAL, "adaptive equalisation needs a 2-D or 3-D volume and a same-sized output");
    int64_t nx = in->dim[0], ny = in->dim[1], nz = in->ndim == 3 ? in->dim[2] : 1;
    size_t n = md_volume_count(in);
    double *x = malloc(n * sizeof *x);
    float *u = malloc(n * sizeof *u);
    if (!x || !u) {
        free(x), free(u);
        return md_error(ctx->err, MD_ENOMEM, "adaptive equalisation: out of memory for %zu voxels", n);
    }
    md_rows_to_f64(md_volume_data(in), in->dtype, 0, n, x);
    double lo, hi;
    volume_range(x, n, &lo, &hi);
    double iscale = hi - lo;
    for (size_t i = 0; i < n; i++) u[i] = (float)((x[i] - lo) / iscale - 0.5);
    float fa = (float)alpha, fb = (float)beta;
    size_t box = (size_t)(2 * r[0] + 1) * (size_t)(2 * r[1] + 1) * (size_t)(2 * r[2] + 1);
    int fail = MD_OK;
#pragma omp parallel if (md_par_worth((double)n * (double)box / 8))
    {
        double *row = malloc((size_t)nx * sizeof *row);
        float *win = malloc(box * sizeof *win);
        if (!row || !win) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t z = 0; z < nz; z++) {
            if (!row || !win || md_par_poll_cancel(&fail)) continue;
            for (int64_t y = 0; y < ny; y++) {
                for (int64_t xx = 0; xx < nx; xx++) {
                    size_t m = 0;
                    for (int64_t c = z - r[2] < 0 ? 0 : z - r[2]; c <= z + r[2] && c < nz; c++)
                        for (int64_t b = y - r[1] < 0 ? 0 : y - r[1]; b <= y + r[1] && b < ny; b++) {
                            const float *w = u + (c * ny + b) * nx;
                            int64_t a0 = xx - r[0] < 0 ? 0 : xx - r[0], a1 = xx + r[0] < nx ? xx + r[0] : nx - 1;
                            for (int64_t a = a0; a <= a1; a++) win[m++] = w[a];
                        }
                    row[xx] = iscale > 0 ? ahe_value(u[(z * ny + y) * nx + xx], win, m, fa, fb, iscale, lo)
                                         : x[(z * ny + y) * nx + xx];
                }
                md_rows_from_f64(md_volume_data(out), out->dtype, (size_t)((z * ny + y) * nx), (size_t)nx, row,
                                 MD_ROUND_TRUNC);
            }
            if (md_par_thread() == 0) md_ctx_progress(ctx, (size_t)z + 1, (size_t)nz);
        }
        free(row);
        free(win);
    }
    md_ctx_finish(ctx, (size_t)nz);
    free(x), free(u);
    return md_par_status(fail, "adaptive equalisation", ctx->err);
}

MdStatus md_laplacian_sharpen(const MdVolume *in, int use_spacing, MdVolume *out, MdCtx *ctx)
{
    if (in->ndim < 2 || in->ndim > 3 || md_volume_count(out) != md_volume_count(in))
        return md_error(ctx->err, MD_EINVAL, "laplacian sharpening needs a 2-D or 3-D volume and a same-sized output");
    size_t n = md_volume_count(in);
    MdVolume lap;
    md_volume_init(&lap, MD_FLOAT64, in->ndim, in->dim);
    MdStatus st = md_volume_alloc(&lap, 0, 0, ctx->err);
    if (st) return st;
    double *x = malloc(n * sizeof *x);
    if (!x) {
        md_volume_release(&lap);
        return md_error(ctx->err, MD_ENOMEM, "laplacian sharpening: out of memory for %zu voxels", n);
    }
    /* ITK's LaplacianOperator: +h^2 at the two neighbours along each axis,
     * minus their sum at the centre, as one 3x3(x3) stencil */
    int nd = in->ndim;
    double st3[27] = {0};
    int kd[3] = {3, 3, nd == 3 ? 3 : 1}, ctr[3] = {1, 1, nd == 3 ? 1 : 0};
    double centre = 0;
    for (int a = 0; a < nd; a++) {
        double h = use_spacing ? 1 / in->spacing[a] : 1, hsq = h * h;
        int step = a == 0 ? 1 : (a == 1 ? 3 : 9), mid = nd == 3 ? 13 : 4;
        st3[mid - step] = st3[mid + step] = hsq;
        centre += 2 * hsq;
    }
    st3[nd == 3 ? 13 : 4] = -centre;
    st = md_filter_correlate(in, st3, kd, ctr, MD_BORDER_NEAREST, 0, &lap, ctx);
    if (!st) {
        const double *l = md_volume_data(&lap);
        md_rows_to_f64(md_volume_data(in), in->dtype, 0, n, x);
        double ilo, ihi, flo, fhi;
        volume_range(x, n, &ilo, &ihi);
        volume_range(l, n, &flo, &fhi);
        double iscale = ihi - ilo, fscale = fhi - flo, isum = 0, esum = 0;
        double *e = md_volume_data(&lap);
        for (size_t i = 0; i < n; i++) {
            double v = (l[i] - flo) / fscale * iscale + ilo;
            e[i] = x[i] - v;
            isum += x[i];
            esum += e[i];
        }
        double imean = isum / (double)n, emean = esum / (double)n;
        for (size_t i = 0; i < n; i++) {
            double v = e[i] - emean + imean; /* ITK's order of operations */
            x[i] = v < ilo ? ilo : (v > ihi ? ihi : v);
        }
        md_rows_from_f64(md_volume_data(out), out->dtype, 0, n, x, MD_ROUND_TRUNC);
    }
    free(x);
    md_volume_release(&lap);
    return st;
}
