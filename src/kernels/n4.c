/* N4 (see n4.h): shrink, iterate on the shrunk grid, evaluate the field at
 * full resolution. Every parallel loop runs over z slices and leaves
 * per-slice partial sums (histogram, field statistics, voxel counts) that
 * the calling thread combines in slice order, so the result is the same bit
 * for bit on any thread count. */
#include "n4.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/rows.h"
#include "n4_bspline.h"
#include "n4_hist.h"

void md_n4_defaults(MdN4Opts *o)
{
    memset(o, 0, sizeof *o);
    for (int a = 0; a < 3; a++) o->shrink[a] = 1, o->control_points[a] = 4;
    o->levels = 4;
    for (int l = 0; l < 4; l++) o->iterations[l] = 50;
    o->convergence = 0.001;
    o->order = 3;
    o->bins = 200;
    o->fwhm = 0.15;
    o->noise = 0.01;
}

/* The working state on the shrunk grid. */
typedef struct N4 {
    const MdN4Opts *o;
    int64_t n[3];   /* shrunk dims */
    size_t count;
    double *login;  /* log intensity (used voxels) */
    double *field;  /* current log bias */
    float *res;     /* residual to fit, then each voxel's exp(old - new) */
    float *wc;      /* point weight, 0 = not used */
    double *part;   /* per-slice partials: max(bins, 8) per slice */
    double *ka, *kb; /* (k - 1)/k and 1 - 1/k for the k-th used voxel (k from 1) */
    double *planes, *omega; /* the fit's per-slice planes and denominator lattice */
    int plen;
    MdN4Lattice lat, upd;
    MdN4Axis ax[3];
    double lo, hi;  /* range of log(in) - field over the used voxels */
} N4;

/* ---- shrinking ----------------------------------------------------------- */

typedef struct Shrink {
    const MdVolume *in, *mask, *weight;
    int f[3];
    int64_t off[3]; /* input index of shrunk index 0 (nearest) or of its block start (average) */
    int average, otsu;
    double thr;
} Shrink;

/* One shrunk voxel from the input rows around it: rows[r] holds input row r
 * of the block (f[1]*f[2] rows, or 1 for nearest), masks and weights likewise. */
static void shrink_voxel(const Shrink *s, int64_t x, double **rows, const uint8_t **mrows, const float **wrows,
                         int nrows, double *val, float *w)
{
    int fx = s->average ? s->f[0] : 1;
    int64_t x0 = s->off[0] + x * s->f[0];
    double sum_in = 0, sum_all = 0, wsum = 0;
    int n_in = 0, n_all = 0;
    for (int r = 0; r < nrows; r++)
        for (int i = 0; i < fx; i++) {
            double v = rows[r][x0 + i];
            int in = s->mask ? mrows[r][x0 + i] != 0 : s->otsu ? v > s->thr : 1;
            double c = s->weight ? wrows[r][x0 + i] : 1;
            if (!(c > 0)) in = 0;
            n_all++, sum_all += v, wsum += c;
            if (in) n_in++, sum_in += v;
        }
    int used = s->average ? 2 * n_in >= n_all && n_in > 0 : n_in == 1;
    double v = used ? sum_in / n_in : sum_all / n_all;
    if (!isfinite(v)) used = 0, v = 0; /* NaN or inf voxels are left out */
    *val = v > 0 ? log(v) : v;
    *w = used ? (float)(wsum / n_all) : 0;
    if (!(*w > 0)) *w = 0;
}

static MdStatus shrink_grid(N4 *s4, const Shrink *s, MdCtx *ctx)
{
    const MdVolume *in = s->in;
    int64_t nx = in->dim[0], ny = in->dim[1], snx = s4->n[0], sny = s4->n[1], snz = s4->n[2];
    int nrows = s->average ? s->f[1] * s->f[2] : 1;
    int fail = MD_OK;
#pragma omp parallel if (md_par_worth((double)nx * ny * snz * (s->average ? s->f[2] : 1)))
    {
        double *buf = malloc((size_t)nrows * (size_t)nx * sizeof *buf);
        double **rows = malloc((size_t)nrows * sizeof *rows);
        const uint8_t **mrows = malloc((size_t)nrows * sizeof *mrows);
        const float **wrows = malloc((size_t)nrows * sizeof *wrows);
        if (!buf || !rows || !mrows || !wrows) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t l = 0; l < snz; l++) {
            if (md_par_poll_cancel(&fail)) continue;
            size_t used = 0;
            for (int64_t j = 0; j < sny; j++) {
                for (int r = 0; r < nrows; r++) {
                    int64_t y = s->off[1] + j * s->f[1] + (s->average ? r % s->f[1] : 0);
                    int64_t z = s->off[2] + l * s->f[2] + (s->average ? r / s->f[1] : 0);
                    size_t at = (size_t)((z * ny + y) * nx);
                    rows[r] = buf + (size_t)r * nx;
                    md_rows_to_f64(md_volume_data(in), in->dtype, at, (size_t)nx, rows[r]);
                    mrows[r] = s->mask ? (const uint8_t *)md_volume_data(s->mask) + at : NULL;
                    wrows[r] = s->weight ? (const float *)md_volume_data(s->weight) + at : NULL;
                }
                size_t o = (size_t)((l * sny + j) * snx);
                for (int64_t i = 0; i < snx; i++) {
                    shrink_voxel(s, i, rows, mrows, wrows, nrows, s4->login + o + i, s4->wc + o + i);
                    used += s4->wc[o + i] > 0;
                }
            }
            s4->part[(size_t)l * s4->plen] = (double)used;
        }
        free(buf);
        free(rows);
        free(mrows);
        free(wrows);
    }
    (void)ctx;
    return (MdStatus)fail;
}

/* ---- one iteration ------------------------------------------------------ */

/* Each iteration makes three passes over the shrunk grid with a serial step
 * between them. On a grid of a few hundred thousand voxels a pass takes
 * about a millisecond, less than what a second thread costs to wake and to
 * wait for at the barrier when the machine is busy (measured: on a loaded
 * 2-core machine, ch2 at shrink 3 took twice as long on 2 threads as on 1).
 * So the passes go parallel only on large shrunk grids (a voxel counts a
 * sixteenth of core/par.h's unit: above 16 x 65536 = 1 Mi voxels); the
 * full-resolution passes always do. */
#define N4_ITER_CHEAP 16.0

static inline int iter_parallel(int64_t voxels) { return md_par_worth((double)voxels / N4_ITER_CHEAP); }

/* Histogram of log(in) - field over the used voxels with ITK's triangular
 * binning, then the sharpening map E (bins values, in s4->part's tail). */
static MdStatus sharpen_map(N4 *s4, double *E, MdError *err)
{
    int bins = s4->o->bins;
    int64_t nxy = s4->n[0] * s4->n[1], nz = s4->n[2];
    double slope = (s4->hi - s4->lo) / (bins - 1), lo = s4->lo, inv = 1 / slope;
    int fail = MD_OK;
#pragma omp parallel for schedule(static) if (iter_parallel(nxy * nz))
    for (int64_t l = 0; l < nz; l++) {
        if (md_par_poll_cancel(&fail)) continue;
        double *h = s4->part + (size_t)l * s4->plen;
        memset(h, 0, (size_t)bins * sizeof *h);
        size_t o = (size_t)(l * nxy);
        for (int64_t i = 0; i < nxy; i++) {
            if (s4->wc[o + i] == 0) continue;
            double c = (s4->login[o + i] - s4->field[o + i] - lo) * inv; /* >= 0: lo is the minimum */
            int b = (int)c;
            double t = c - b;
            if (b >= bins) continue;
            if (t == 0) {
                h[b] += 1;
            } else if (b < bins - 1) {
                h[b] += 1 - t;
                h[b + 1] += t;
            }
        }
    }
    if (fail) return md_par_status(fail, "n4", err);
    double *H = E + bins;
    memset(H, 0, (size_t)bins * sizeof *H);
    for (int64_t l = 0; l < nz; l++)
        for (int b = 0; b < bins; b++) H[b] += s4->part[(size_t)l * s4->plen + b];
    return md_n4_sharpen_map(H, bins, lo, slope, s4->o->fwhm, s4->o->noise, E, err);
}

/* The residual u - E(u), u = log(in) - field, over the used voxels (into
 * res), gathered slice by slice into the fit's planes; then the update
 * lattice s4->upd. */
static MdStatus fit_residual(N4 *s4, const double *E, MdError *err)
{
    int bins = s4->o->bins, m0 = s4->upd.m[0], m1 = s4->upd.m[1];
    int64_t nxy = s4->n[0] * s4->n[1], nz = s4->n[2];
    double slope = (s4->hi - s4->lo) / (bins - 1), lo = s4->lo, inv = 1 / slope;
    size_t plane2 = 2 * (size_t)m0 * m1;
    int fail = MD_OK;
#pragma omp parallel if (iter_parallel(nxy * nz))
    {
        double *row = malloc(2 * (size_t)m0 * sizeof *row);
        if (!row) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t l = 0; l < nz; l++) {
            if (md_par_poll_cancel(&fail)) continue;
            size_t o = (size_t)(l * nxy);
            for (int64_t i = 0; i < nxy; i++) {
                if (s4->wc[o + i] == 0) {
                    s4->res[o + i] = 0;
                    continue;
                }
                double u = s4->login[o + i] - s4->field[o + i], c = (u - lo) * inv;
                int b = (int)c;
                double sharp = b < bins - 1 ? E[b] + (E[b + 1] - E[b]) * (c - b) : E[bins - 1];
                s4->res[o + i] = (float)(u - sharp);
            }
            md_n4_fit_slice(s4->ax, s4->res + o, s4->wc + o, m0, m1, row, s4->planes + (size_t)l * plane2);
        }
        free(row);
    }
    if (fail) return md_par_status(fail, "n4", err);
    md_n4_fit_fold(&s4->ax[2], s4->planes, &s4->upd, s4->omega);
    return MD_OK;
}

/* field <- the lattice on the shrunk grid, with the range of
 * log(in) - field over the used voxels (per-slice partials) and, in res,
 * each used voxel's exp(old - new) in single precision (0 elsewhere). */
static MdStatus update_field(N4 *s4, MdError *err)
{
    int64_t nx = s4->n[0], ny = s4->n[1], nz = s4->n[2];
    int m0 = s4->lat.m[0];
    size_t plane = (size_t)m0 * s4->lat.m[1];
    int fail = MD_OK;
#pragma omp parallel if (iter_parallel(nx * ny * nz))
    {
        double *q = malloc((plane + (size_t)m0 + (size_t)nx) * sizeof *q);
        if (!q) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t l = 0; l < nz; l++) {
            if (md_par_poll_cancel(&fail)) continue;
            double *r = q + plane, *row = r + m0, mn = INFINITY, mx = -INFINITY;
            md_n4_eval_plane(&s4->lat, &s4->ax[2], l, q);
            for (int64_t j = 0; j < ny; j++) {
                md_n4_eval_row(&s4->lat, &s4->ax[0], &s4->ax[1], q, j, r, row);
                size_t o = (size_t)((l * ny + j) * nx);
                for (int64_t i = 0; i < nx; i++) {
                    double old = s4->field[o + i];
                    s4->field[o + i] = row[i];
                    s4->res[o + i] = 0;
                    if (s4->wc[o + i] == 0) continue;
                    s4->res[o + i] = expf((float)old - (float)row[i]);
                    double u = s4->login[o + i] - row[i];
                    mn = u < mn ? u : mn, mx = u > mx ? u : mx;
                }
            }
            double *p = s4->part + (size_t)l * s4->plen;
            p[0] = mn, p[1] = mx;
        }
        free(q);
    }
    if (fail) return md_par_status(fail, "n4", err);
    double mn = INFINITY, mx = -INFINITY;
    for (int64_t l = 0; l < nz; l++) {
        const double *p = s4->part + (size_t)l * s4->plen;
        mn = fmin(mn, p[0]), mx = fmax(mx, p[1]);
    }
    s4->lo = mn, s4->hi = mx;
    return MD_OK;
}

/* The convergence measure: the coefficient of variation of exp(old - new)
 * over the used voxels, accumulated as ITK accumulates it (single precision,
 * running mean and variance in voxel order). Its rounding decides on which
 * iteration a level stops, and so whether the result follows ITK's, so it is
 * reproduced rather than computed more exactly; being serial, it is the same
 * on any thread count. */
static double convergence(const N4 *s4)
{
    float mu = 0, sigma = 0, n = 0; /* stored in single, updated in double, as ITK's expressions are */
    size_t k = 0;
    for (size_t i = 0; i < s4->count; i++) {
        if (s4->wc[i] == 0) continue;
        float x = s4->res[i], d = (x - mu) * (x - mu);
        n = (float)((double)n + 1.0);
        if (k) sigma = (float)((double)sigma + (double)d * s4->ka[k]);
        mu = (float)((double)mu * s4->kb[k] + (double)(x / n));
        k++;
    }
    if (n < 2) return 0;
    sigma = (float)sqrt((double)sigma / ((double)n - 1.0));
    return (double)(sigma / mu);
}

static MdStatus set_axes(N4 *s4, MdError *err)
{
    for (int a = 0; a < 3; a++) {
        md_n4_axis_free(&s4->ax[a]);
        MdStatus st = md_n4_axis_new(&s4->ax[a], s4->n[a], s4->lat.m[a], s4->o->order, err);
        if (st) return st;
    }
    return MD_OK;
}

/* The levels and iterations on the shrunk grid. */
static MdStatus iterate(N4 *s4, MdN4Report *rep, MdCtx *ctx, size_t total)
{
    const MdN4Opts *o = s4->o;
    size_t bins = (size_t)o->bins, done = 0, step = 0;
    double *E = malloc(2 * bins * sizeof *E);
    MdStatus st = E ? MD_OK : md_error(ctx->err, MD_ENOMEM, "n4: out of memory for the histogram");
    for (int level = 0; !st && level < o->levels; level++) {
        if ((st = set_axes(s4, ctx->err))) break;
        if ((st = md_n4_lattice_new(&s4->upd, s4->lat.m, o->order, ctx->err))) break;
        size_t nlat = (size_t)s4->lat.m[0] * s4->lat.m[1] * s4->lat.m[2];
        free(s4->planes);
        free(s4->omega);
        s4->planes = malloc((size_t)s4->n[2] * 2 * (size_t)s4->lat.m[0] * s4->lat.m[1] * sizeof(double));
        s4->omega = malloc(nlat * sizeof(double));
        if (!s4->planes || !s4->omega) {
            st = md_error(ctx->err, MD_ENOMEM, "n4: out of memory for the B-spline fit");
            break;
        }
        double cv = DBL_MAX;
        int it = 0;
        while (it < o->iterations[level] && cv > o->convergence && s4->hi > s4->lo) {
            it++;
            if ((st = sharpen_map(s4, E, ctx->err)) || (st = fit_residual(s4, E, ctx->err))) break;
            for (size_t c = 0; c < nlat; c++) s4->lat.phi[c] += s4->upd.phi[c];
            if ((st = update_field(s4, ctx->err))) break;
            cv = convergence(s4);
            if (rep && rep->trace) rep->trace[step + it - 1] = cv;
            md_ctx_progress(ctx, ++done, total);
        }
        md_n4_lattice_free(&s4->upd);
        if (rep) {
            rep->done[level] = it;
            memcpy(rep->lattice[level], s4->lat.m, sizeof s4->lat.m);
        }
        step += (size_t)o->iterations[level];
        done = step;
        if (!st && md_cancel_requested()) st = md_error(ctx->err, MD_ECANCELLED, "n4 cancelled");
        if (!st && level < o->levels - 1) st = md_n4_refine(&s4->lat, ctx->err);
    }
    free(E);
    return st;
}

/* ---- full resolution ---------------------------------------------------- */

static MdStatus full_field(const N4 *s4, const MdVolume *in, MdVolume *corrected, MdVolume *field, MdCtx *ctx)
{
    int64_t n[3] = {in->dim[0], in->dim[1], in->dim[2]};
    MdN4Axis ax[3];
    memset(ax, 0, sizeof ax);
    MdStatus st = MD_OK;
    for (int a = 0; a < 3 && !st; a++) st = md_n4_axis_new(&ax[a], n[a], s4->lat.m[a], s4->o->order, ctx->err);
    int m0 = s4->lat.m[0];
    size_t plane = (size_t)m0 * s4->lat.m[1];
    float *fo = md_volume_data(field), *co = md_volume_data(corrected);
    int fail = MD_OK;
    if (!st) {
#pragma omp parallel if (md_par_worth((double)n[0] * n[1] * n[2]))
        {
            double *q = malloc((plane + (size_t)m0 + (size_t)n[0]) * sizeof *q);
            float *vin = malloc((size_t)n[0] * sizeof *vin);
            if (!q || !vin) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
            for (int64_t l = 0; l < n[2]; l++) {
                if (md_par_poll_cancel(&fail)) continue;
                double *r = q + plane, *row = r + m0;
                md_n4_eval_plane(&s4->lat, &ax[2], l, q);
                for (int64_t j = 0; j < n[1]; j++) {
                    size_t o = (size_t)((l * n[1] + j) * n[0]);
                    md_n4_eval_row(&s4->lat, &ax[0], &ax[1], q, j, r, row);
                    md_rows_to_f32(md_volume_data(in), in->dtype, o, (size_t)n[0], vin);
                    for (int64_t i = 0; i < n[0]; i++) {
                        float b = expf((float)row[i]);
                        fo[o + i] = b;
                        co[o + i] = vin[i] / b;
                    }
                }
            }
            free(q);
            free(vin);
        }
        st = md_par_status(fail, "n4", ctx->err);
    }
    for (int a = 0; a < 3; a++) md_n4_axis_free(&ax[a]);
    return st;
}

/* ---- entry -------------------------------------------------------------- */

static MdStatus check(const MdVolume *in, const MdVolume *mask, const MdVolume *weight, const MdN4Opts *o,
                      const MdVolume *corrected, const MdVolume *field, MdError *err)
{
    if (in->ndim != 3) return md_error(err, MD_EINVAL, "n4 needs a 3-D volume (got %d-D)", in->ndim);
    const MdVolume *same[4] = {mask, weight, corrected, field};
    static const char *names[4] = {"mask", "weight", "corrected", "field"};
    for (int k = 0; k < 4; k++) {
        if (!same[k]) continue;
        for (int a = 0; a < 3; a++)
            if (same[k]->ndim != 3 || same[k]->dim[a] != in->dim[a])
                return md_error(err, MD_EINVAL, "%s must have the image's shape %lldx%lldx%lld", names[k],
                                (long long)in->dim[0], (long long)in->dim[1], (long long)in->dim[2]);
    }
    if ((mask && mask->dtype != MD_UINT8) || (weight && weight->dtype != MD_FLOAT32) ||
        corrected->dtype != MD_FLOAT32 || field->dtype != MD_FLOAT32)
        return md_error(err, MD_EINVAL, "n4: mask must be uint8, weight and outputs float32");
    if (mask) {
        const uint8_t *m = md_volume_data(mask);
        size_t n = md_volume_count(mask), i = 0;
        while (i < n && !m[i]) i++;
        if (i == n) return md_error(err, MD_EINVAL, "n4: the mask is empty");
    }
    if (o->levels < 1 || o->levels > MD_N4_MAX_LEVELS)
        return md_error(err, MD_EINVAL, "n4 needs 1 to %d levels of iterations (got %d)", MD_N4_MAX_LEVELS, o->levels);
    for (int l = 0; l < o->levels; l++)
        if (o->iterations[l] < 0) return md_error(err, MD_EINVAL, "iterations must be >= 0");
    if (o->order < 0 || o->order > MD_N4_MAX_ORDER)
        return md_error(err, MD_EINVAL, "spline order must be 0 to %d (got %d)", MD_N4_MAX_ORDER, o->order);
    if (o->bins < 2) return md_error(err, MD_EINVAL, "bins must be >= 2 (got %d)", o->bins);
    if (!(o->fwhm > 0) || !(o->noise > 0) || !(o->convergence >= 0))
        return md_error(err, MD_EINVAL, "n4: fwhm and wiener_noise must be > 0, convergence >= 0");
    for (int a = 0; a < 3; a++) {
        if (o->shrink[a] < 1 || o->shrink[a] > 64)
            return md_error(err, MD_EINVAL, "shrink must be 1 to 64 (got %d on axis %d)", o->shrink[a], a + 1);
        if (in->dim[a] / o->shrink[a] < 2)
            return md_error(err, MD_EINVAL, "shrink %d leaves fewer than 2 voxels on axis %d (size %lld)",
                            o->shrink[a], a + 1, (long long)in->dim[a]);
        if (o->control_points[a] <= o->order)
            return md_error(err, MD_EINVAL, "control points must be > spline order %d (got %d on axis %d)",
                            o->order, o->control_points[a], a + 1);
    }
    return MD_OK;
}

static void n4_free(N4 *s4)
{
    free(s4->login);
    free(s4->field);
    free(s4->res);
    free(s4->wc);
    free(s4->part);
    free(s4->ka);
    free(s4->kb);
    free(s4->planes);
    free(s4->omega);
    md_n4_lattice_free(&s4->lat);
    md_n4_lattice_free(&s4->upd);
    for (int a = 0; a < 3; a++) md_n4_axis_free(&s4->ax[a]);
}

/* The shrinking geometry: ITK's ShrinkImageFilter keeps input index
 * off + f*i with the block centres aligned on the image centre; averaging
 * uses the blocks of f voxels around the same centres. */
static void shrink_setup(const MdVolume *in, const MdN4Opts *o, const MdVolume *mask, const MdVolume *weight,
                         double thr, N4 *s4, Shrink *s)
{
    memset(s, 0, sizeof *s);
    s->in = in, s->mask = mask, s->weight = weight, s->average = o->average, s->otsu = o->otsu, s->thr = thr;
    for (int a = 0; a < 3; a++) {
        int64_t n = in->dim[a], f = o->shrink[a], m = n / f;
        s4->n[a] = m;
        s->f[a] = (int)f;
        double c0 = (double)(n - 1) / 2 - (double)(f * (m - 1)) / 2;
        s->off[a] = o->average ? (n - f * m) / 2 : (int64_t)floor(c0 + 0.5);
    }
}

MdStatus md_n4(const MdVolume *in, const MdVolume *mask, const MdVolume *weight, const MdN4Opts *o,
               MdVolume *corrected, MdVolume *field, MdN4Report *rep, MdCtx *ctx)
{
    MdStatus st = check(in, mask, weight, o, corrected, field, ctx->err);
    if (st) return st;
    double thr = 0;
    if (o->otsu && (st = md_n4_otsu(in, 200, &thr, ctx->err))) return st;
    N4 s4;
    memset(&s4, 0, sizeof s4);
    s4.o = o;
    Shrink sh;
    shrink_setup(in, o, mask, weight, thr, &s4, &sh);
    s4.count = (size_t)(s4.n[0] * s4.n[1] * s4.n[2]);
    s4.plen = o->bins > 8 ? o->bins : 8;
    s4.login = malloc(s4.count * sizeof(double));
    s4.field = calloc(s4.count, sizeof(double));
    s4.res = malloc(s4.count * sizeof(float));
    s4.wc = malloc(s4.count * sizeof(float));
    s4.part = malloc((size_t)s4.n[2] * (size_t)s4.plen * sizeof(double));
    if (!s4.login || !s4.field || !s4.res || !s4.wc || !s4.part) {
        n4_free(&s4);
        return md_error(ctx->err, MD_ENOMEM, "n4: out of memory for the shrunk image (%zu voxels)", s4.count);
    }
    if ((st = shrink_grid(&s4, &sh, ctx))) {
        n4_free(&s4);
        return md_par_status((int)st, "n4", ctx->err);
    }
    size_t used = 0;
    for (int64_t l = 0; l < s4.n[2]; l++) used += (size_t)s4.part[(size_t)l * s4.plen];
    if (rep) {
        for (int a = 0; a < 3; a++) rep->shrunk[a] = (int)s4.n[a];
        rep->voxels = used, rep->threshold = thr;
    }
    if (used == 0) {
        n4_free(&s4);
        return md_error(ctx->err, MD_EINVAL, "n4: no voxel left in the mask%s (shrunk grid %lldx%lldx%lld)",
                        o->otsu ? " above Otsu's threshold" : "", (long long)s4.n[0], (long long)s4.n[1],
                        (long long)s4.n[2]);
    }
    s4.ka = malloc(used * sizeof(double));
    s4.kb = malloc(used * sizeof(double));
    if (!s4.ka || !s4.kb) {
        n4_free(&s4);
        return md_error(ctx->err, MD_ENOMEM, "n4: out of memory (%zu voxels used)", used);
    }
    for (size_t k = 0; k < used; k++) {
        double n = (double)(float)(k + 1);
        s4.ka[k] = (n - 1.0) / n, s4.kb[k] = 1.0 - 1.0 / n;
    }
    s4.lo = INFINITY, s4.hi = -INFINITY;
    for (size_t i = 0; i < s4.count; i++)
        if (s4.wc[i] != 0) s4.lo = fmin(s4.lo, s4.login[i]), s4.hi = fmax(s4.hi, s4.login[i]);
    size_t total = 1;
    for (int l = 0; l < o->levels; l++) total += (size_t)o->iterations[l];
    st = md_n4_lattice_new(&s4.lat, o->control_points, o->order, ctx->err);
    if (!st) st = iterate(&s4, rep, ctx, total);
    if (!st) st = full_field(&s4, in, corrected, field, ctx);
    if (!st) md_ctx_progress(ctx, total, total);
    md_ctx_finish(ctx, total);
    n4_free(&s4);
    return st;
}
