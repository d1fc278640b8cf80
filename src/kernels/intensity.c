/* Element-wise value transforms over rows of doubles: one dtype switch per
 * row through the row converters, threads over blocks of voxels. */
#include "intensity.h"

#include <math.h>
#include <stdlib.h>

#include "../core/par.h"
#include "../core/rows.h"

#define BLOCK 16384

/* Runs body(start, n, buf) over blocks of in's voxels on the threads, with
 * cancel polling and progress; buf holds BLOCK doubles per thread. */
typedef void (*BlockFn)(const void *arg, size_t start, size_t n, double *buf);

static MdStatus over_blocks(size_t total, BlockFn fn, const void *arg, const char *what, MdCtx *ctx)
{
    size_t nb = (total + BLOCK - 1) / BLOCK;
    int fail = MD_OK;
#pragma omp parallel if (md_par_worth((double)total))
    {
        double *buf = malloc(BLOCK * sizeof *buf);
        if (!buf) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (size_t b = 0; b < nb; b++) {
            if (md_par_poll_cancel(&fail)) continue;
            size_t a = b * BLOCK;
            fn(arg, a, a + BLOCK < total ? BLOCK : total - a, buf);
            if (md_par_thread() == 0) md_ctx_progress(ctx, b + 1, nb);
        }
        free(buf);
    }
    md_ctx_finish(ctx, nb);
    return md_par_status(fail, what, ctx->err);
}

static MdStatus check_counts(const MdVolume *in, const MdVolume *out, const MdVolume *mask, MdError *err)
{
    if (md_volume_count(out) != md_volume_count(in))
        return md_error(err, MD_EINVAL, "output has %zu voxels, input %zu", md_volume_count(out), md_volume_count(in));
    if (mask && (md_volume_count(mask) != md_volume_count(in) || mask->dtype != MD_UINT8))
        return md_error(err, MD_EINVAL, "mask must be uint8 with the volume's %zu voxels", md_volume_count(in));
    return MD_OK;
}

/* ---- maps ------------------------------------------------------------------ */

typedef struct MapArg {
    const MdVolume *in;
    MdVolume *out;
    const MdMapOpts *o;
} MapArg;

static void map_block(const void *arg, size_t start, size_t n, double *x)
{
    const MapArg *m = arg;
    const MdMapOpts *o = m->o;
    const uint8_t *mask = o->mask ? (const uint8_t *)md_volume_data(o->mask) + start : NULL;
    md_rows_to_f64(md_volume_data(m->in), m->in->dtype, start, n, x);
    for (size_t i = 0; i < n; i++) {
        if (mask && !mask[i]) {
            if (o->outside == o->outside) x[i] = o->outside;
            continue;
        }
        double y = o->a * x[i] + o->b;
        switch (o->op) {
        case MD_MAP_LOG1P: y = log1p(y); break;
        case MD_MAP_POW: y = pow(y, o->power); break;
        case MD_MAP_EXP: y = exp(y); break;
        default: break;
        }
        y = y < o->lo ? o->lo : y;
        y = y > o->hi ? o->hi : y;
        x[i] = y + o->post;
    }
    md_rows_from_f64(md_volume_data(m->out), m->out->dtype, start, n, x, MD_ROUND_NEAREST);
}

MdStatus md_intensity_map(const MdVolume *in, const MdMapOpts *o, MdVolume *out, MdCtx *ctx)
{
    MdStatus st = check_counts(in, out, o->mask, ctx->err);
    if (st) return st;
    MapArg a = {in, out, o};
    return over_blocks(md_volume_count(in), map_block, &a, "intensity map", ctx);
}

/* ---- replace ----------------------------------------------------------------- */

typedef struct ReplaceArg {
    const MdVolume *in;
    MdVolume *out;
    const double *from, *to;
    int n;
} ReplaceArg;

static void replace_block(const void *arg, size_t start, size_t n, double *x)
{
    const ReplaceArg *r = arg;
    md_rows_to_f64(md_volume_data(r->in), r->in->dtype, start, n, x);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < r->n; k++)
            if (x[i] == r->from[k] || (x[i] != x[i] && r->from[k] != r->from[k])) {
                x[i] = r->to[k];
                break;
            }
    md_rows_from_f64(md_volume_data(r->out), r->out->dtype, start, n, x, MD_ROUND_NEAREST);
}

MdStatus md_intensity_replace(const MdVolume *in, const double *from, const double *to, int n, MdVolume *out,
                              MdCtx *ctx)
{
    MdStatus st = check_counts(in, out, NULL, ctx->err);
    if (st) return st;
    ReplaceArg a = {in, out, from, to, n};
    return over_blocks(md_volume_count(in), replace_block, &a, "replace", ctx);
}

/* ---- interpolation through a table --------------------------------------------- */

typedef struct InterpArg {
    const MdVolume *in;
    MdVolume *out;
    const double *xp, *fp;
    size_t n;
} InterpArg;

/* numpy's interp for one value: exact hits return fp[j]. */
static double interp1(double x, const double *xp, const double *fp, size_t n)
{
    if (x != x) return x;
    if (x <= xp[0]) return fp[0];
    if (x >= xp[n - 1]) return fp[n - 1];
    size_t a = 0, b = n - 1; /* xp[a] <= x < xp[b] */
    while (b - a > 1) {
        size_t m = a + (b - a) / 2;
        if (xp[m] <= x) a = m;
        else b = m;
    }
    if (x == xp[a]) return fp[a];
    double slope = (fp[a + 1] - fp[a]) / (xp[a + 1] - xp[a]);
    return slope * (x - xp[a]) + fp[a];
}

static void interp_block(const void *arg, size_t start, size_t n, double *x)
{
    const InterpArg *r = arg;
    md_rows_to_f64(md_volume_data(r->in), r->in->dtype, start, n, x);
    for (size_t i = 0; i < n; i++) x[i] = interp1(x[i], r->xp, r->fp, r->n);
    md_rows_from_f64(md_volume_data(r->out), r->out->dtype, start, n, x, MD_ROUND_NEAREST);
}

MdStatus md_intensity_interp(const MdVolume *in, const double *xp, const double *fp, size_t n, MdVolume *out,
                             MdCtx *ctx)
{
    MdStatus st = check_counts(in, out, NULL, ctx->err);
    if (st) return st;
    if (n < 1) return md_error(ctx->err, MD_EINVAL, "interp needs at least one point");
    InterpArg a = {in, out, xp, fp, n};
    return over_blocks(md_volume_count(in), interp_block, &a, "interp", ctx);
}
