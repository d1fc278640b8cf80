/* The separable resampling engine. Per axis, a plan lists for every output
 * sample its taps (indices into the input line, -1 = fill) and weights.
 * An input slice goes through x then y into a slice of doubles ("xy");
 * the z axis then combines xy slices. When z is nearest or linear, the
 * few xy slices an output slice needs are kept in a small per-thread ring,
 * so the scratch stays a few slices whatever the volume. When z is cubic
 * (its prefilter spans the whole z line) or anti-aliased, all xy slices
 * are kept in one float32 block and z runs over columns of it. Orders
 * 0/1 without anti-aliasing or voting skip the passes and sum each voxel's
 * taps directly, in scipy's order, so that integer results round as
 * scipy's do. */
#include "resample_sep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/ctx.h"
#include "../core/par.h"
#include "../core/rows.h"

/* ---- axis plans -------------------------------------------------------- */

typedef struct Axis {
    int64_t n_in, n_out, len; /* len: the line with its padding */
    int order, ntaps, npad;
    int64_t *tap;             /* n_out * ntaps, -1 = fill */
    double *w;                /* n_out * ntaps */
    uint8_t *fillout;         /* n_out: the whole output sample is fill */
    int anyfill;              /* some tap is -1 */
    double *gk;               /* Gaussian kernel, or NULL */
    int gr;
} Axis;

static void axis_free(Axis *a)
{
    free(a->tap);
    free(a->w);
    free(a->fillout);
    free(a->gk);
}

static void axis_fill_taps(Axis *a, const MdSepSpec *s, int ax, int identity)
{
    for (int64_t o = 0; o < a->n_out; o++) {
        int64_t *tp = a->tap + o * a->ntaps;
        double *wp = a->w + o * a->ntaps;
        if (identity) {
            tp[0] = o < a->n_in ? o : a->n_in - 1;
            wp[0] = 1;
            continue;
        }
        /* the same operations, in the same order, as scipy's zoom_shift */
        double c = ((double)o + s->pre[ax]) * s->scale[ax] + s->post[ax];
        c += (double)a->npad;
        if (md_spline_map_coord(&c, a->len, s->mode)) {
            a->fillout[o] = 1;
            a->anyfill = 1;
            for (int t = 0; t < a->ntaps; t++) tp[t] = -1, wp[t] = 0;
            continue;
        }
        double w[4];
        int64_t st = md_spline_weights(c, a->order, w);
        for (int t = 0; t < a->ntaps; t++) {
            tp[t] = md_spline_tap(st + t, a->len, s->mode);
            wp[t] = w[t];
            a->anyfill |= tp[t] < 0;
        }
    }
}

static MdStatus axis_init(Axis *a, const MdSepSpec *s, int ax, int64_t n_in, int64_t n_out,
                          MdError *err)
{
    int identity = ax == 2 && s->identity_z;
    memset(a, 0, sizeof *a);
    a->n_in = n_in;
    a->n_out = n_out;
    a->order = identity ? 0 : s->order[ax];
    a->ntaps = a->order + 1;
    a->npad = identity ? 0 : md_spline_npad(s->mode, a->order);
    a->len = n_in + 2 * a->npad;
    a->tap = malloc((size_t)n_out * (size_t)a->ntaps * sizeof *a->tap);
    a->w = malloc((size_t)n_out * (size_t)a->ntaps * sizeof *a->w);
    a->fillout = calloc((size_t)n_out, 1);
    if (!identity && s->sigma[ax] > 0) {
        a->gr = md_gauss_radius(s->sigma[ax]);
        a->gk = malloc((size_t)(2 * a->gr + 1) * sizeof *a->gk);
        if (a->gk) md_gauss_kernel(s->sigma[ax], a->gk);
    }
    if (!a->tap || !a->w || !a->fillout || (a->gr && !a->gk))
        return md_error(err, MD_ENOMEM, "out of memory for a resampling plan (%lld samples)",
                        (long long)n_out);
    axis_fill_taps(a, s, ax, identity);
    return MD_OK;
}

/* ---- one-dimensional work on blocks of interleaved lines --------------- */

#define XW 8 /* input rows the x pass takes together */

/* A block holds `width` interleaved lines along an axis: row npad + i is
 * input sample i. Applies the anti-aliasing Gaussian, fills the padding
 * rows (edge copies or fill) and runs the cubic prefilter. */
static void block_prepare(const Axis *a, double *blk, int64_t width, MdBoundary m, double fill,
                          double *gtmp)
{
    double *inner = blk + a->npad * width;
    if (a->gk) md_gauss_apply(inner, a->n_in, width, width, a->gk, a->gr, m, fill, gtmp);
    for (int p = 0; p < a->npad; p++) {
        double *lo = blk + p * width, *hi = blk + (a->npad + a->n_in + p) * width;
        if (m == MD_BOUND_NEAREST) {
            memcpy(lo, inner, (size_t)width * sizeof *lo);
            memcpy(hi, inner + (a->n_in - 1) * width, (size_t)width * sizeof *hi);
        } else {
            for (int64_t x = 0; x < width; x++) lo[x] = hi[x] = fill;
        }
    }
    if (a->order == 3) md_spline_prefilter(blk, a->len, width, width, m);
}

/* dst[0..width) = output sample o of the block's lines. */
static void block_sample(const Axis *a, const double *blk, int64_t width, int64_t o, double fill,
                         double *dst)
{
    const int64_t *tp = a->tap + o * a->ntaps;
    const double *wp = a->w + o * a->ntaps;
    for (int t = 0; t < a->ntaps; t++) {
        const double wt = wp[t];
        const double *r = tp[t] < 0 ? NULL : blk + tp[t] * width;
        if (t == 0 && r) {
#pragma omp simd
            for (int64_t x = 0; x < width; x++) dst[x] = wt * r[x];
        } else if (t == 0) {
            for (int64_t x = 0; x < width; x++) dst[x] = wt * fill;
        } else if (r) {
#pragma omp simd
            for (int64_t x = 0; x < width; x++) dst[x] += wt * r[x];
        } else {
            for (int64_t x = 0; x < width; x++) dst[x] += wt * fill;
        }
    }
}

/* ---- the engine -------------------------------------------------------- */

typedef struct Engine {
    const MdVolume *in;
    MdVolume *out;
    const MdSepSpec *s;
    Axis ax[3];
    int64_t nx, ny, nz, frames, onx, ony, onz;
    int xfill;      /* some output x sample is a whole fill */
    double label;   /* vote: the label whose indicator is resampled */
    float *best;    /* vote: best score per output voxel */
    MdCtx *ctx;     /* progress of the call */
    size_t done;    /* units finished (slices or rows), for progress */
} Engine;

/* Per-thread scratch. */
typedef struct Scratch {
    double *line, *gtmp, *blk, *row;
    double *ring[2];
    int64_t key[2];
    unsigned long use[2], clock;
} Scratch;

static void scratch_free(Scratch *w)
{
    free(w->line);
    free(w->gtmp);
    free(w->blk);
    free(w->row);
    free(w->ring[0]);
    free(w->ring[1]);
}

static int scratch_alloc(Scratch *w, const Engine *e, int rings, int64_t zblock)
{
    const Axis *x = &e->ax[0], *y = &e->ax[1], *z = &e->ax[2];
    int64_t g = (x->n_in + 2 * x->gr) * XW;
    if ((y->n_in + 2 * y->gr) * e->onx > g) g = (y->n_in + 2 * y->gr) * e->onx;
    if ((z->n_in + 2 * z->gr) * e->onx > g) g = (z->n_in + 2 * z->gr) * e->onx;
    int64_t b = y->len * e->onx > zblock ? y->len * e->onx : zblock;
    memset(w, 0, sizeof *w);
    w->line = malloc((size_t)(x->len * XW) * sizeof(double));
    w->gtmp = malloc((size_t)g * sizeof(double));
    w->blk = malloc((size_t)b * sizeof(double));
    w->row = malloc((size_t)(e->onx > x->len ? e->onx : x->len) * sizeof(double));
    int ok = w->line && w->gtmp && w->blk && w->row;
    for (int i = 0; i < rings; i++) {
        w->ring[i] = malloc((size_t)(e->onx * e->ony) * sizeof(double));
        w->key[i] = -1;
        ok = ok && w->ring[i];
    }
    return ok;
}

/* Input row (y, z, frame) as doubles in d[0..nx), as the voting
 * indicator when voting. */
static void load_row(const Engine *e, int64_t y, int64_t z, int64_t f, double *d)
{
    size_t off = (size_t)(((f * e->nz + z) * e->ny + y) * e->nx);
    md_rows_to_f64(md_volume_data(e->in), e->in->dtype, off, (size_t)e->nx, d);
    if (e->s->vote)
        for (int64_t i = 0; i < e->nx; i++) d[i] = d[i] == e->label;
}

/* The fill value as the resampled quantity sees it. */
static double fill_value(const Engine *e)
{
    return e->s->vote ? (double)(e->s->fill == e->label) : e->s->fill;
}

/* The x pass without prefilter or Gaussian: each row sampled directly. */
static void slice_x_direct(const Engine *e, Scratch *w, int64_t z, int64_t f, double fill)
{
    const Axis *ax = &e->ax[0], *ay = &e->ax[1];
    const int nt = ax->ntaps;
    for (int64_t y = 0; y < e->ny; y++) {
        const double *row = w->line;
        double *dst = w->blk + (ay->npad + y) * e->onx;
        load_row(e, y, z, f, w->line);
        if (!ax->anyfill && nt == 2) {
            for (int64_t o = 0; o < e->onx; o++)
                dst[o] = ax->w[2 * o] * row[ax->tap[2 * o]] + ax->w[2 * o + 1] * row[ax->tap[2 * o + 1]];
            continue;
        }
        for (int64_t o = 0; o < e->onx; o++) {
            double acc = 0;
            for (int t = 0; t < nt; t++) {
                int64_t i = ax->tap[o * nt + t];
                acc += ax->w[o * nt + t] * (i < 0 ? fill : row[i]);
            }
            dst[o] = acc;
        }
    }
}

/* The x pass of input slice (z, frame): XW rows at a time become XW
 * interleaved lines, so the prefilter's recursions and the sums run over
 * independent lanes; results land in the rows of w->blk. */
static void slice_x(const Engine *e, Scratch *w, int64_t z, int64_t f, double fill)
{
    const Axis *ax = &e->ax[0], *ay = &e->ax[1];
    double v[XW];
    if (ax->order <= 1 && !ax->gk) {
        slice_x_direct(e, w, z, f, fill);
        return;
    }
    for (int64_t y0 = 0; y0 < e->ny; y0 += XW) {
        int64_t cnt = e->ny - y0 < XW ? e->ny - y0 : XW;
        for (int64_t r = 0; r < XW; r++) {
            /* lanes past the last row repeat it: work wasted, nothing stored */
            load_row(e, y0 + (r < cnt ? r : cnt - 1), z, f, w->row);
            double *d = w->line + ax->npad * XW + r;
            for (int64_t i = 0; i < e->nx; i++) d[i * XW] = w->row[i];
        }
        block_prepare(ax, w->line, XW, e->s->mode, fill, w->gtmp);
        double *dst = w->blk + (ay->npad + y0) * e->onx;
        for (int64_t o = 0; o < e->onx; o++) {
            const int64_t *tp = ax->tap + o * ax->ntaps;
            const double *wp = ax->w + o * ax->ntaps;
            for (int r = 0; r < XW; r++) v[r] = 0;
            for (int t = 0; t < ax->ntaps; t++) {
                const double wt = wp[t];
                if (tp[t] < 0) {
                    for (int r = 0; r < XW; r++) v[r] += wt * fill;
                } else {
                    const double *src = w->line + tp[t] * XW;
                    for (int r = 0; r < XW; r++) v[r] += wt * src[r];
                }
            }
            for (int64_t r = 0; r < cnt; r++) dst[r * e->onx + o] = v[r];
        }
    }
}

/* Input slice (z, frame) through x and y into xy (onx * ony doubles). */
static void slice_xy(const Engine *e, Scratch *w, int64_t z, int64_t f, double *xy)
{
    const Axis *ay = &e->ax[1];
    const MdBoundary m = e->s->mode;
    const double fill = fill_value(e);
    slice_x(e, w, z, f, fill);
    block_prepare(ay, w->blk, e->onx, m, fill, w->gtmp);
    for (int64_t oy = 0; oy < e->ony; oy++) block_sample(ay, w->blk, e->onx, oy, fill, xy + oy * e->onx);
}

/* Stores output row (oy, oz, frame): whole-sample fills first (scipy's
 * 'constant' outside the input), then the value or the vote. */
static void emit_row(const Engine *e, double *row, int64_t oy, int64_t oz, int64_t f)
{
    const double fill = fill_value(e);
    const Axis *ax = &e->ax[0];
    if (e->ax[1].fillout[oy] || e->ax[2].fillout[oz]) {
        for (int64_t x = 0; x < e->onx; x++) row[x] = fill;
    } else if (e->xfill) {
        for (int64_t x = 0; x < e->onx; x++)
            if (ax->fillout[x]) row[x] = fill;
    }
    size_t off = (size_t)(((f * e->onz + oz) * e->ony + oy) * e->onx);
    if (!e->s->vote) {
        md_rows_from_f64(md_volume_data(e->out), e->out->dtype, off, (size_t)e->onx, row, MD_ROUND_NEAREST);
        return;
    }
    void *od = md_volume_data(e->out);
    for (int64_t x = 0; x < e->onx; x++)
        if ((float)row[x] > e->best[off + x]) {
            e->best[off + x] = (float)row[x];
            md_store(od, e->out->dtype, off + (size_t)x, md_saturate(e->label, e->out->dtype));
        }
}

/* The xy slice of input slice z of frame f from the ring, computing it
 * into the least recently used slot when absent. */
static const double *ring_get(const Engine *e, Scratch *w, int64_t z, int64_t f, int slots)
{
    int64_t key = f * e->nz + z;
    int best = 0;
    for (int i = 0; i < slots; i++) {
        if (w->key[i] == key) {
            w->use[i] = ++w->clock;
            return w->ring[i];
        }
        if (w->use[i] < w->use[best]) best = i;
    }
    slice_xy(e, w, z, f, w->ring[best]);
    w->key[best] = key;
    w->use[best] = ++w->clock;
    return w->ring[best];
}

/* Output slice k (frame * onz + oz) from the ring of xy slices. */
static void stream_slice(const Engine *e, Scratch *w, int64_t k)
{
    const Axis *az = &e->ax[2];
    int64_t f = k / e->onz, oz = k % e->onz;
    const double fill = fill_value(e);
    const double *src[2] = {NULL, NULL};
    const int64_t *tp = az->tap + oz * az->ntaps;
    const double *wp = az->w + oz * az->ntaps;
    if (!az->fillout[oz])
        for (int t = 0; t < az->ntaps; t++)
            if (tp[t] >= 0) src[t] = ring_get(e, w, tp[t], f, az->ntaps);
    const int64_t nx = e->onx;
    for (int64_t oy = 0; oy < e->ony; oy++) {
        double *row = w->row;
        const double *r0 = src[0] ? src[0] + oy * nx : NULL, *r1 = src[1] ? src[1] + oy * nx : NULL;
        if (az->fillout[oz]) {
            /* emit_row writes the fill */
        } else if (az->ntaps == 1) {
            for (int64_t x = 0; x < nx; x++) row[x] = r0 ? r0[x] : fill;
        } else if (r0 && r1) {
            const double w0 = wp[0], w1 = wp[1];
#pragma omp simd
            for (int64_t x = 0; x < nx; x++) row[x] = w0 * r0[x] + w1 * r1[x];
        } else {
            for (int64_t x = 0; x < nx; x++)
                row[x] = wp[0] * (r0 ? r0[x] : fill) + wp[1] * (r1 ? r1[x] : fill);
        }
        emit_row(e, row, oy, oz, f);
    }
}

/* The block of xy slices: float32, or float64 for the dtypes float32
 * cannot hold exactly (int32, uint32, float64). */
typedef struct Block {
    float *f;
    double *d;
} Block;

/* Pass A of the block path: every input slice of frame f through x and y
 * into the block T. A failure or cancel goes to *fail (core/par.h). */
static void block_pass_xy(const Engine *e, int64_t f, Block T, int *fail)
{
    const size_t plane = (size_t)(e->onx * e->ony);
#pragma omp parallel if (md_par_worth((double)plane * (double)e->nz / MD_PAR_CHEAP))
    {
        Scratch w;
        if (!scratch_alloc(&w, e, 1, 0)) md_par_fail(fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t z = 0; z < e->nz; z++) {
            if (md_par_stopped(fail) || md_par_poll_cancel(fail)) continue;
            slice_xy(e, &w, z, f, w.ring[0]);
            if (T.d)
                memcpy(T.d + (size_t)z * plane, w.ring[0], plane * sizeof *T.d);
            else
                for (size_t i = 0; i < plane; i++) T.f[(size_t)z * plane + i] = (float)w.ring[0][i];
        }
        scratch_free(&w);
    }
}

/* Pass B: for each output row oy, the z lines of T through z. */
static void block_pass_z(const Engine *e, int64_t f, Block T, int *fail)
{
    const Axis *az = &e->ax[2];
    const size_t plane = (size_t)(e->onx * e->ony);
    const double fill = fill_value(e);
#pragma omp parallel if (md_par_worth((double)plane * (double)e->onz / MD_PAR_CHEAP))
    {
        Scratch w;
        if (!scratch_alloc(&w, e, 0, az->len * e->onx)) md_par_fail(fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t oy = 0; oy < e->ony; oy++) {
            if (md_par_stopped(fail)) continue;
            for (int64_t z = 0; z < e->nz; z++) {
                size_t at = (size_t)z * plane + (size_t)(oy * e->onx);
                double *dst = w.blk + (az->npad + z) * e->onx;
                if (T.d)
                    memcpy(dst, T.d + at, (size_t)e->onx * sizeof *dst);
                else
                    for (int64_t x = 0; x < e->onx; x++) dst[x] = T.f[at + (size_t)x];
            }
            block_prepare(az, w.blk, e->onx, e->s->mode, fill, w.gtmp);
            for (int64_t oz = 0; oz < e->onz; oz++) {
                block_sample(az, w.blk, e->onx, oz, fill, w.row);
                emit_row(e, w.row, oy, oz, f);
            }
        }
        scratch_free(&w);
    }
}

static MdStatus run_block(Engine *e, MdError *err)
{
    size_t n;
    MdStatus st = md_checked_mul(&n, (size_t)(e->onx * e->ony), (size_t)e->nz, err);
    if (st != MD_OK) return st;
    MdDtype t = e->in->dtype;
    int wide = !e->s->vote && (t == MD_INT32 || t == MD_UINT32 || t == MD_FLOAT64);
    size_t es = wide ? sizeof(double) : sizeof(float);
    Block T = {NULL, NULL};
    void *mem = malloc(n * es);
    if (!mem)
        return md_error(err, MD_ENOMEM, "out of memory for the %s resampling block (%zu bytes)",
                        wide ? "float64" : "float32", n * es);
    if (wide) T.d = mem; else T.f = mem;
    int fail = MD_OK;
    for (int64_t f = 0; f < e->frames && !fail; f++) {
        block_pass_xy(e, f, T, &fail);
        if (!fail) block_pass_z(e, f, T, &fail);
    }
    free(mem);
    if (fail == MD_ENOMEM) return md_error(err, MD_ENOMEM, "out of memory for resampling scratch");
    return md_par_status(fail, "resampling", err);
}

/* ---- orders 0/1: scipy's own sum --------------------------------------- */

/* scipy sums a voxel's taps one by one (z slowest, x fastest), each value
 * times its z, y and x weights in that order. The separable passes round
 * differently, which moves an integer result sitting on a half (172.5) by
 * one; this path makes scipy's operations in scipy's order, so its results
 * are scipy's bit for bit. Scratch: two input slices of doubles per thread
 * (none for float64 input, read in place). */

typedef struct Slices {
    double *slot[2], *row;
    int64_t key[2];
} Slices;

/* Input slice z of frame f as doubles, loaded into the slot not holding
 * slice `keep` when absent. */
static const double *slices_get(const Engine *e, Slices *s, int64_t z, int64_t f, int64_t keep)
{
    const size_t plane = (size_t)(e->nx * e->ny), key = (size_t)(f * e->nz + z);
    if (e->in->dtype == MD_FLOAT64) return (const double *)md_volume_data(e->in) + key * plane;
    for (int i = 0; i < 2; i++)
        if (s->key[i] == (int64_t)key) return s->slot[i];
    int i = s->key[0] == f * e->nz + keep ? 1 : 0;
    md_rows_to_f64(md_volume_data(e->in), e->in->dtype, key * plane, plane, s->slot[i]);
    s->key[i] = (int64_t)key;
    return s->slot[i];
}

/* Output row (oy, oz) into row from the input slices S[t] of z's taps. */
static void direct_row(const Engine *e, const double *const S[2], int64_t oy, int64_t oz,
                       double fill, double *row)
{
    const Axis *ax = &e->ax[0], *ay = &e->ax[1], *az = &e->ax[2];
    const int kx = ax->ntaps, ky = ay->ntaps, kz = az->ntaps;
    const int64_t *ty = ay->tap + oy * ky, *tz = az->tap + oz * kz, *tx = ax->tap;
    const double *wy = ay->w + oy * ky, *wz = az->w + oz * kz, *wx = ax->w;
    if (kx == 2 && ky == 2 && kz == 2 && !ax->anyfill && ty[0] >= 0 && ty[1] >= 0 && tz[0] >= 0 &&
        tz[1] >= 0) {
        const double *a = S[0] + ty[0] * e->nx, *b = S[0] + ty[1] * e->nx;
        const double *c = S[1] + ty[0] * e->nx, *d = S[1] + ty[1] * e->nx;
        const double z0 = wz[0], z1 = wz[1], y0 = wy[0], y1 = wy[1];
        for (int64_t o = 0; o < e->onx; o++) {
            const int64_t i = tx[2 * o], j = tx[2 * o + 1];
            const double x0 = wx[2 * o], x1 = wx[2 * o + 1];
            double t = 0.0;
            t += a[i] * z0 * y0 * x0;
            t += a[j] * z0 * y0 * x1;
            t += b[i] * z0 * y1 * x0;
            t += b[j] * z0 * y1 * x1;
            t += c[i] * z1 * y0 * x0;
            t += c[j] * z1 * y0 * x1;
            t += d[i] * z1 * y1 * x0;
            t += d[j] * z1 * y1 * x1;
            row[o] = t;
        }
        return;
    }
    for (int64_t o = 0; o < e->onx; o++) {
        double t = 0.0;
        for (int k = 0; k < kz; k++)
            for (int j = 0; j < ky; j++) {
                const double *r = tz[k] < 0 || ty[j] < 0 ? NULL : S[k] + ty[j] * e->nx;
                for (int i = 0; i < kx; i++) {
                    const int64_t ix = tx[o * kx + i];
                    t += (r && ix >= 0 ? r[ix] : fill) * wz[k] * wy[j] * wx[o * kx + i];
                }
            }
        row[o] = t;
    }
}

/* Output slice k (frame * onz + oz) by direct sums. */
static void direct_slice(const Engine *e, Slices *s, int64_t k)
{
    const Axis *az = &e->ax[2];
    const int64_t f = k / e->onz, oz = k % e->onz;
    const int64_t *tz = az->tap + oz * az->ntaps;
    const double fill = e->s->fill;
    const double *S[2] = {NULL, NULL};
    if (!az->fillout[oz])
        for (int t = 0; t < az->ntaps; t++)
            if (tz[t] >= 0) S[t] = slices_get(e, s, tz[t], f, az->ntaps == 2 ? tz[1 - t] : -1);
    for (int64_t oy = 0; oy < e->ony; oy++) {
        if (!az->fillout[oz] && !e->ax[1].fillout[oy]) direct_row(e, S, oy, oz, fill, s->row);
        emit_row(e, s->row, oy, oz, f);
    }
}

/* Per-thread scratch of the direct path, into s initialised empty (NULL
 * pointers, no cached slice); 0 when out of memory (slices_close frees). */
static int slices_open(const Engine *e, Slices *s)
{
    const size_t plane = (size_t)(e->nx * e->ny);
    const int copy = e->in->dtype != MD_FLOAT64;
    s->row = malloc((size_t)e->onx * sizeof *s->row);
    for (int i = 0; i < 2 && copy; i++) s->slot[i] = malloc(plane * sizeof(double));
    return s->row && (!copy || (s->slot[0] && s->slot[1]));
}

static void slices_close(Slices *s)
{
    free(s->row);
    free(s->slot[0]);
    free(s->slot[1]);
}

/* Runs the output slices of every frame in parallel, each thread with its
 * own scratch: the direct path (direct != 0) or the streaming one. */
static MdStatus run_slices(Engine *e, int direct, MdError *err)
{
    const int64_t K = e->frames * e->onz;
    const int slots = e->ax[2].ntaps;
    int fail = MD_OK;
#pragma omp parallel if (md_par_worth((double)e->onx * (double)e->ony * (double)K / MD_PAR_CHEAP))
    {
        Scratch w;
        Slices s = {{NULL, NULL}, NULL, {-1, -1}};
        memset(&w, 0, sizeof w);
        int ok = direct ? slices_open(e, &s) : scratch_alloc(&w, e, slots, 0);
        if (!ok) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t k = 0; k < K; k++) {
            if (md_par_stopped(&fail) || md_par_poll_cancel(&fail)) continue;
            if (direct)
                direct_slice(e, &s, k);
            else
                stream_slice(e, &w, k);
            md_par_progress(e->ctx, &e->done, (size_t)K);
        }
        if (direct)
            slices_close(&s);
        else
            scratch_free(&w);
    }
    if (fail == MD_ENOMEM) return md_error(err, MD_ENOMEM, "out of memory for resampling scratch");
    return md_par_status(fail, "resampling", err);
}

/* ---- nearest: a gather of whole elements ------------------------------- */

/* dst[x] = src[tap[x]], or the fill bytes where tap[x] < 0 or src is
 * NULL; without any fill tap (anyfill 0) a plain gather. */
#define GATHER(ctype)                                                                 \
    do {                                                                              \
        const ctype *sp = (const ctype *)src;                                         \
        ctype *dp = (ctype *)dst, fv;                                                 \
        memcpy(&fv, fillb, sizeof fv);                                                \
        if (sp && !anyfill)                                                           \
            for (int64_t x = 0; x < n; x++) dp[x] = sp[tap[x]];                       \
        else                                                                          \
            for (int64_t x = 0; x < n; x++) dp[x] = tap[x] < 0 || !sp ? fv : sp[tap[x]]; \
    } while (0)

static void gather_row(const void *src, void *dst, const int64_t *tap, int64_t n, size_t es,
                       const unsigned char *fillb, int anyfill)
{
    switch (es) {
    case 1: GATHER(uint8_t); break;
    case 2: GATHER(uint16_t); break;
    case 4: GATHER(uint32_t); break;
    default: GATHER(uint64_t); break;
    }
}
#undef GATHER

static MdStatus run_nearest(Engine *e, MdError *err)
{
    const size_t es = md_dtype_size(e->in->dtype);
    _Alignas(double) unsigned char fillb[8] = {0};
    md_store(fillb, e->out->dtype, 0, md_saturate(e->s->fill, e->out->dtype));
    /* the x taps with whole-sample fills folded in */
    int64_t *tx = malloc((size_t)e->onx * sizeof *tx);
    int anyfill = 0;
    if (!tx) return md_error(err, MD_ENOMEM, "out of memory for a resampling plan");
    for (int64_t x = 0; x < e->onx; x++) {
        tx[x] = e->ax[0].fillout[x] ? -1 : e->ax[0].tap[x];
        anyfill |= tx[x] < 0;
    }
    const int64_t rows = e->frames * e->onz * e->ony;
    const char *in = md_volume_data(e->in);
    char *out = md_volume_data(e->out);
    int fail = MD_OK;
#pragma omp parallel for schedule(static) if (md_par_worth((double)rows * (double)e->onx / MD_PAR_CHEAP))
    for (int64_t r = 0; r < rows; r++) {
        if (md_par_stopped(&fail) || (r % e->ony == 0 && md_par_poll_cancel(&fail))) continue;
        if (r % e->ony == e->ony - 1) md_par_progress(e->ctx, &e->done, (size_t)(rows / e->ony));
        int64_t oy = r % e->ony, oz = (r / e->ony) % e->onz, f = r / (e->ony * e->onz);
        int64_t ty = e->ax[1].fillout[oy] ? -1 : e->ax[1].tap[oy];
        int64_t tz = e->ax[2].fillout[oz] ? -1 : e->ax[2].tap[oz];
        const char *src = ty < 0 || tz < 0 ? NULL : in + (size_t)(((f * e->nz + tz) * e->ny + ty) * e->nx) * es;
        gather_row(src, out + (size_t)r * (size_t)e->onx * es, tx, e->onx, es, fillb, anyfill);
    }
    free(tx);
    return md_par_status(fail, "resampling", err);
}

/* ---- labels: per-label linear voting ----------------------------------- */

#define MAX_LABELS 1024

/* Inserts x into the sorted set lab[0..*n); returns 0 when full. */
static int label_insert(double *lab, int *n, double x)
{
    int lo = 0, hi = *n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (lab[mid] < x) lo = mid + 1; else hi = mid;
    }
    if (lo < *n && lab[lo] == x) return 1;
    if (*n == MAX_LABELS) return 0;
    memmove(lab + lo + 1, lab + lo, (size_t)(*n - lo) * sizeof *lab);
    lab[lo] = x;
    (*n)++;
    return 1;
}

/* The distinct values of v (plus the fill value when it can show). */
static MdStatus collect_labels(const MdVolume *v, const MdSepSpec *s, double *lab, int *n,
                               MdError *err)
{
    double buf[4096], last = NAN;
    size_t total = md_volume_count(v);
    *n = 0;
    if (s->mode == MD_BOUND_CONSTANT || s->mode == MD_BOUND_GRID_CONSTANT)
        label_insert(lab, n, md_saturate(s->fill, v->dtype));
    for (size_t i = 0; i < total; i += 4096) {
        int64_t m = total - i < 4096 ? (int64_t)(total - i) : 4096;
        md_rows_to_f64(md_volume_data(v), v->dtype, i, (size_t)m, buf);
        for (int64_t k = 0; k < m; k++) {
            if (buf[k] == last) continue; /* runs are the common case */
            last = buf[k];
            if (last != last) continue;
            if (!label_insert(lab, n, last))
                return md_error(err, MD_EINVAL,
                                "label interpolation handles at most %d distinct values (this "
                                "volume has more; use 'nearest' for it)", MAX_LABELS);
        }
    }
    return MD_OK;
}

static MdStatus run_vote(Engine *e, int stream, MdError *err)
{
    double *lab = malloc(MAX_LABELS * sizeof *lab);
    size_t n = md_volume_count(e->out);
    e->best = malloc((n ? n : 1) * sizeof *e->best);
    MdStatus st = MD_OK;
    int nl = 0;
    if (!lab || !e->best) st = md_error(err, MD_ENOMEM, "out of memory for label voting");
    if (st == MD_OK) st = collect_labels(e->in, e->s, lab, &nl, err);
    for (size_t i = 0; st == MD_OK && i < n; i++) e->best[i] = -1.0f;
    for (int l = 0; st == MD_OK && l < nl; l++) {
        e->label = lab[l];
        st = stream ? run_slices(e, 0, err) : run_block(e, err);
    }
    free(lab);
    free(e->best);
    e->best = NULL;
    return st;
}

/* ---- entry ------------------------------------------------------------- */

MdStatus md_resample_separable(const MdVolume *in, const MdSepSpec *s, MdVolume *out,
                               MdCtx *ctx)
{
    MdError *err = ctx->err;
    if (out->dim[3] != in->dim[3])
        return md_error(err, MD_EINVAL, "resample: output has %lld frames, input %lld",
                        (long long)out->dim[3], (long long)in->dim[3]);
    Engine e;
    memset(&e, 0, sizeof e);
    e.ctx = ctx;
    e.in = in;
    e.out = out;
    e.s = s;
    e.nx = in->dim[0], e.ny = in->dim[1], e.nz = in->dim[2], e.frames = in->dim[3];
    e.onx = out->dim[0], e.ony = out->dim[1], e.onz = out->dim[2];
    MdStatus st = MD_OK;
    for (int a = 0; a < 3 && st == MD_OK; a++)
        st = axis_init(&e.ax[a], s, a, in->dim[a], out->dim[a], err);
    for (int64_t x = 0; st == MD_OK && x < e.onx; x++) e.xfill |= e.ax[0].fillout[x];
    if (st == MD_OK) {
        int plain = !e.ax[0].gk && !e.ax[1].gk && !e.ax[2].gk;
        int nearest = e.ax[0].order == 0 && e.ax[1].order == 0 && e.ax[2].order == 0;
        int stream = e.ax[2].order <= 1 && !e.ax[2].gk;
        if (s->vote)
            st = run_vote(&e, stream, err);
        else if (nearest && plain && in->dtype == out->dtype)
            st = run_nearest(&e, err);
        else if (plain && stream && e.ax[0].order <= 1 && e.ax[1].order <= 1)
            st = run_slices(&e, 1, err);
        else
            st = stream ? run_slices(&e, 0, err) : run_block(&e, err);
    }
    for (int a = 0; a < 3; a++) axis_free(&e.ax[a]);
    md_ctx_finish(ctx, e.done);
    return st;
}
