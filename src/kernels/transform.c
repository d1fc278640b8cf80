/* Per-voxel affine resampling. The coefficient volume (a float32 copy of
 * one input frame, padded and prefiltered for cubic axes) is built once
 * per frame; then each output voxel computes its input coordinate in the
 * same order of operations as scipy's geometric_transform, folds it by
 * the boundary mode and sums the (order+1)^3 taps. */
#include "transform.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/ctx.h"
#include "../core/rows.h"
#include "resample_sep.h"


static int wide(MdDtype t)
{
    return t == MD_INT32 || t == MD_UINT32 || t == MD_FLOAT64;
}

static inline double coef_at(const MdCoef *c, int64_t i)
{
    return c->d ? c->d[i] : (double)c->f[i];
}

static inline void coef_put(MdCoef *c, size_t i, double x)
{
    if (c->d) ((double *)c->data)[i] = x;
    else ((float *)c->data)[i] = (float)x;
}

/* Copies frame f of in into c (padding with edge samples or fill).
 * Returns 0 when scratch is short. */
static int coef_fill(const MdVolume *in, int64_t f, MdBoundary mode, double fill, MdCoef *c)
{
    const int64_t nx = in->dim[0], ny = in->dim[1], nz = in->dim[2];
    const int64_t LX = c->len[0], LY = c->len[1], LZ = c->len[2];
    int fail = MD_OK;
#pragma omp parallel if (md_par_worth((double)LX * (double)LY * (double)LZ / MD_PAR_CHEAP))
    {
        double *row = malloc((size_t)nx * sizeof *row);
        if (!row) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t zy = 0; zy < LZ * LY; zy++) {
            int64_t z = zy / LY - c->npad[2], y = zy % LY - c->npad[1];
            const size_t dst = (size_t)zy * (size_t)LX;
            int out = z < 0 || z >= nz || y < 0 || y >= ny;
            if (out && mode == MD_BOUND_GRID_CONSTANT) {
                for (int64_t x = 0; x < LX; x++) coef_put(c, dst + (size_t)x, fill);
                continue;
            }
            z = z < 0 ? 0 : z >= nz ? nz - 1 : z;
            y = y < 0 ? 0 : y >= ny ? ny - 1 : y;
            if (md_par_stopped(&fail)) continue;
            md_rows_to_f64(md_volume_data(in), in->dtype, (size_t)(((f * nz + z) * ny + y) * nx), (size_t)nx, row);
            for (int64_t x = 0; x < LX; x++) {
                int64_t sx = x - c->npad[0];
                int edge = (sx < 0 || sx >= nx) && mode == MD_BOUND_GRID_CONSTANT;
                coef_put(c, dst + (size_t)x, edge ? fill : row[sx < 0 ? 0 : sx >= nx ? nx - 1 : sx]);
            }
        }
        free(row);
    }
    return fail == MD_OK;
}

/* Prefilters axis a of the coefficient volume (in place), a block of
 * interleaved lines at a time. Returns 0 when scratch is short. */
static int coef_prefilter(MdCoef *c, int a, MdBoundary m)
{
    const int64_t LX = c->len[0], LY = c->len[1], LZ = c->len[2];
    /* lines along a; blocks: x: one row; y: one z slice; z: one y row */
    const int64_t nblk = a == 0 ? LY * LZ : a == 1 ? LZ : LY;
    const int64_t n = c->len[a], width = a == 0 ? 1 : LX;
    int fail = MD_OK;
#pragma omp parallel if (md_par_worth((double)LX * (double)LY * (double)LZ / MD_PAR_CHEAP))
    {
        double *blk = malloc((size_t)(n * width) * sizeof *blk);
        if (!blk) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t b = 0; b < nblk; b++) {
            if (md_par_stopped(&fail)) continue;
            for (int64_t i = 0; i < n; i++) {
                size_t off = a == 0 ? (size_t)(b * LX + i)
                           : a == 1 ? (size_t)((b * LY + i) * LX)
                                    : (size_t)((i * LY + b) * LX);
                for (int64_t x = 0; x < width; x++) blk[i * width + x] = coef_at(c, (int64_t)(off + (size_t)x));
            }
            md_spline_prefilter(blk, n, width, width, m);
            for (int64_t i = 0; i < n; i++) {
                size_t off = a == 0 ? (size_t)(b * LX + i)
                           : a == 1 ? (size_t)((b * LY + i) * LX)
                                    : (size_t)((i * LY + b) * LX);
                for (int64_t x = 0; x < width; x++) coef_put(c, off + (size_t)x, blk[i * width + x]);
            }
        }
        free(blk);
    }
    return fail == MD_OK;
}

MdStatus md_coef_build(const MdVolume *in, int64_t f, const int order[3], MdBoundary mode,
                       double fill, MdCoef *c, MdCtx *ctx)
{
    MdError *err = ctx->err;
    int cubic = 0, nearest = 1;
    for (int a = 0; a < 3; a++) {
        c->npad[a] = md_spline_npad(mode, order[a]);
        c->len[a] = in->dim[a] + 2 * c->npad[a];
        cubic |= order[a] == 3;
        nearest &= order[a] == 0;
    }
    c->f = NULL, c->d = NULL;
    if (nearest) return MD_OK; /* read the input itself, exactly */
    const size_t frame = (size_t)f * (size_t)(in->dim[0] * in->dim[1] * in->dim[2]);
    if (!cubic && in->dtype == MD_FLOAT32) {
        c->f = (const float *)md_volume_data(in) + frame;
        return MD_OK;
    }
    if (!cubic && in->dtype == MD_FLOAT64) {
        c->d = (const double *)md_volume_data(in) + frame;
        return MD_OK;
    }
    size_t n, es = wide(in->dtype) ? sizeof(double) : sizeof(float);
    MdStatus st = md_checked_mul(&n, (size_t)(c->len[0] * c->len[1]), (size_t)c->len[2], err);
    if (st != MD_OK) return st;
    if (!c->data) c->data = malloc(n * es);
    if (!c->data)
        return md_error(err, MD_ENOMEM, "out of memory for the %s copy of the input (%zu bytes)",
                        es == 4 ? "float32" : "float64", n * es);
    if (es == 4) c->f = c->data; else c->d = c->data;
    if (!coef_fill(in, f, mode, fill, c)) return md_error(err, MD_ENOMEM, "out of memory for a resampling row");
    for (int a = 0; a < 3; a++)
        if (order[a] == 3 && !coef_prefilter(c, a, mode))
            return md_error(err, MD_ENOMEM, "out of memory for the spline prefilter");
    return MD_OK;
}

/* Taps and weights of one axis at coordinate c; returns 0 when the whole
 * voxel is the fill value. off[t] < 0 marks a fill tap. */
static int axis_taps(double c, int64_t len, int npad, int order, MdBoundary m, int64_t stride,
                     int64_t off[4], double w[4])
{
    c += (double)npad;
    if (md_spline_map_coord(&c, len, m)) return 0;
    int64_t st = md_spline_weights(c, order, w);
    for (int t = 0; t <= order; t++) {
        int64_t i = md_spline_tap(st + t, len, m);
        off[t] = i < 0 ? -1 : i * stride;
    }
    return 1;
}

double md_coef_sample(const MdCoef *c, const MdVolume *in, int64_t f, const int order[3],
                      MdBoundary mode, double fill, const double coord[3])
{
    int64_t off[3][4];
    double w[3][4];
    const int64_t stride[3] = {1, c->len[0], c->len[0] * c->len[1]};
    for (int a = 0; a < 3; a++)
        if (!axis_taps(coord[a], c->len[a], c->npad[a], order[a], mode, stride[a], off[a], w[a]))
            return fill;
    if (!c->f && !c->d) { /* nearest: one tap per axis, read from the input */
        if (off[0][0] < 0 || off[1][0] < 0 || off[2][0] < 0) return fill;
        size_t frame = (size_t)f * (size_t)(stride[2] * c->len[2]);
        return md_load(md_volume_data(in), in->dtype, frame + (size_t)(off[0][0] + off[1][0] + off[2][0]));
    }
    double acc = 0.0;
    if (order[0] <= 1 && order[1] <= 1 && order[2] <= 1) {
        /* scipy's sum, tap by tap (z slowest), value * wz * wy * wx: the
         * same rounding, so integer results on a half round as scipy's */
        for (int k = 0; k <= order[2]; k++)
            for (int j = 0; j <= order[1]; j++)
                for (int i = 0; i <= order[0]; i++) {
                    int out = off[0][i] < 0 || off[1][j] < 0 || off[2][k] < 0;
                    double v = out ? fill : coef_at(c, off[0][i] + off[1][j] + off[2][k]);
                    acc += v * w[2][k] * w[1][j] * w[0][i];
                }
        return acc;
    }
    for (int k = 0; k <= order[2]; k++) {
        double ay = 0;
        for (int j = 0; j <= order[1]; j++) {
            double ax = 0;
            for (int i = 0; i <= order[0]; i++) {
                int out = off[0][i] < 0 || off[1][j] < 0 || off[2][k] < 0;
                ax += w[0][i] * (out ? fill : coef_at(c, off[0][i] + off[1][j] + off[2][k]));
            }
            ay += w[1][j] * ax;
        }
        acc += w[2][k] * ay;
    }
    return acc;
}

/* The value of output voxel (ox, oy, oz) of frame f. */
static double sample(const MdAffineSpec *s, const MdCoef *c, const MdVolume *in, int64_t f,
                     int64_t ox, int64_t oy, int64_t oz)
{
    double coord[3];
    for (int a = 0; a < 3; a++) {
        /* scipy's order: output axes z, y, x (numpy's 0, 1, 2), then the offset */
        double v = 0.0;
        v += (double)oz * s->M[a * 3 + 2];
        v += (double)oy * s->M[a * 3 + 1];
        v += (double)ox * s->M[a * 3 + 0];
        v += s->b[a];
        coord[a] = v;
    }
    return md_coef_sample(c, in, f, s->order, s->mode, s->fill, coord);
}

/* Output frame f, slices in parallel; a failure or cancel goes to *fail. */
static void run_frame(const MdAffineSpec *s, const MdCoef *c, const MdVolume *in, int64_t f,
                      MdVolume *out, int *fail)
{
    const int64_t onx = out->dim[0], ony = out->dim[1], onz = out->dim[2];
#pragma omp parallel if (md_par_worth((double)onx * (double)ony * (double)onz))
    {
        double *row = malloc((size_t)onx * sizeof *row);
        if (!row) md_par_fail(fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t zy = 0; zy < onz * ony; zy++) {
            if (md_par_stopped(fail) || (zy % ony == 0 && md_par_poll_cancel(fail))) continue;
            int64_t oz = zy / ony, oy = zy % ony;
            for (int64_t ox = 0; ox < onx; ox++) row[ox] = sample(s, c, in, f, ox, oy, oz);
            md_rows_from_f64(md_volume_data(out), out->dtype, (size_t)((f * onz * ony + zy) * onx), (size_t)onx, row, MD_ROUND_NEAREST);
        }
        free(row);
    }
}

MdStatus md_transform_affine(const MdVolume *in, const MdAffineSpec *s, MdVolume *out,
                             MdCtx *ctx)
{
    MdError *err = ctx->err;
    if (out->dim[3] != in->dim[3])
        return md_error(err, MD_EINVAL, "transform: output has %lld frames, input %lld",
                        (long long)out->dim[3], (long long)in->dim[3]);
    MdCoef c;
    memset(&c, 0, sizeof c);
    MdStatus st = MD_OK;
    for (int64_t f = 0; f < in->dim[3] && st == MD_OK; f++) {
        st = md_coef_build(in, f, s->order, s->mode, s->fill, &c, ctx);
        if (st != MD_OK) break;
        int fail = MD_OK;
        run_frame(s, &c, in, f, out, &fail);
        if (fail == MD_ENOMEM) st = md_error(err, MD_ENOMEM, "out of memory for a resampling row");
        else st = md_par_status(fail, "resampling", err);
    }
    free(c.data);
    return st;
}
