/* Separable exact EDT. Pass x finds, per row, the offset to the nearest
 * site; passes y and z take lower envelopes of parabolas over columns,
 * gathered a tile of TILE adjacent columns at a time so the strided reads
 * touch whole cache lines. Offsets live in an int16 pair per voxel (the
 * output buffer itself when it is float32, else a scratch array); the last
 * pass hands each voxel's offsets to a sink that writes what was asked. */
#include "edt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/ctx.h"
#include "morph_slices.h"

#define TILE 64
#define NONE16 INT16_MIN /* no site on this line */
#define NONE32 INT32_MIN
#define MAXSIDE 32766

enum { SINK_F32, SINK_F64, SINK_THRESH };

typedef struct Sink {
    int mode, squared, only_nonsites, invert;
    double sign, r2;
    void *out;
    int32_t *idx[3]; /* x, y, z feature indices (1-based), or NULL */
} Sink;

typedef struct Job {
    int64_t n[3];
    int planar, site_nonzero, outside;
    double sp[3];
    const uint8_t *mask;
    int16_t *off; /* dx, dy per voxel */
    Sink sink;
    MdCtx *ctx;          /* progress (NULL: silent) */
    size_t done, total;  /* column tiles finished, of all passes */
} Job;

static inline int is_site(const Job *j, uint8_t m) { return (m != 0) == j->site_nonzero; }

/* Nearest site along each row (ties go left). */
static void pass_x(Job *j)
{
    int64_t nx = j->n[0], nrows = j->n[1] * j->n[2];
#pragma omp parallel for schedule(static) if (md_par_worth((double)(nrows * nx)))
    for (int64_t r = 0; r < nrows; r++) {
        const uint8_t *m = j->mask + r * nx;
        int16_t *o = j->off + 2 * r * nx;
        int64_t last = j->outside ? -1 : INT64_MIN / 2;
        for (int64_t x = 0; x < nx; x++) {
            if (is_site(j, m[x])) last = x;
            o[2 * x] = last < -1 ? NONE16 : (int16_t)(last - x);
            o[2 * x + 1] = 0;
        }
        int64_t next = j->outside ? nx : INT64_MAX / 2;
        for (int64_t x = nx - 1; x >= 0; x--) {
            if (is_site(j, m[x])) next = x;
            if (next > nx) continue;
            if (o[2 * x] == NONE16 || next - x < -o[2 * x]) o[2 * x] = (int16_t)(next - x);
        }
    }
}

/* Column stride of the gathered tile: the length plus a pad, so that the
 * TILE columns written side by side do not fall 4 KB apart (len 512 would
 * put every store of a row in the same cache set). */
static int64_t col_stride(int64_t len) { return len + 24; }

typedef struct Scratch {
    double *g, *h, *zb, *inv, *d2;
    int16_t *a, *b;    /* gathered offsets, column-major (t * len + p) */
    int16_t *ox, *oy, *oz; /* results, row-major (p * TILE + t) */
    int32_t *win, *v;
} Scratch;

static int scratch_new(Scratch *s, int64_t len)
{
    size_t n = (size_t)len;
    size_t cs = (size_t)col_stride(len);
    s->g = malloc(TILE * cs * sizeof *s->g);
    s->h = malloc((n + 2) * sizeof *s->h);
    s->zb = malloc((n + 3) * sizeof *s->zb);
    s->inv = malloc((n + 2) * sizeof *s->inv);
    s->d2 = malloc(TILE * sizeof *s->d2);
    s->a = malloc(TILE * cs * sizeof *s->a);
    s->b = malloc(TILE * cs * sizeof *s->b);
    s->ox = malloc(TILE * n * sizeof *s->ox);
    s->oy = malloc(TILE * n * sizeof *s->oy);
    s->oz = calloc(TILE * n, sizeof *s->oz);
    s->win = malloc(n * sizeof *s->win);
    s->v = malloc((n + 2) * sizeof *s->v);
    if (!(s->g && s->h && s->zb && s->inv && s->d2 && s->a && s->b && s->ox && s->oy && s->oz && s->win && s->v))
        return 0;
    /* 1 / (2d): the envelope multiplies instead of dividing; for integer
     * inputs the rounding cannot move an intersection across an integer */
    for (size_t d = 1; d < n + 2; d++) s->inv[d] = 1.0 / (2.0 * (double)d);
    return 1;
}

static void scratch_free(Scratch *s)
{
    free(s->g), free(s->h), free(s->zb), free(s->inv), free(s->d2);
    free(s->a), free(s->b), free(s->ox), free(s->oy), free(s->oz), free(s->win), free(s->v);
}

/* Lower envelope of (p - q)^2 + g[q] over the sites q in lo..hi with finite
 * g (g = 0 outside 0..n-1); win[p] for p in a..b = the minimising q, NONE32
 * when there is no site. g is f / w^2 (index units). */
static void segment(const double *restrict g, int64_t n, int64_t lo, int64_t hi, int64_t a, int64_t b,
                    Scratch *s)
{
    int32_t *restrict v = s->v, *restrict win = s->win;
    double *restrict h = s->h, *restrict zb = s->zb;
    const double *restrict inv = s->inv;
    int64_t k = -1;
    for (int64_t q = lo; q <= hi; q++) {
        double gq = (q >= 0 && q < n) ? g[q] : 0.0;
        if (gq == HUGE_VAL) continue;
        double dq = (double)q, hq = gq + dq * dq, x = -HUGE_VAL;
        while (k >= 0) {
            x = (hq - h[k]) * inv[q - v[k]];
            if (x > zb[k]) break;
            k--;
        }
        k++;
        v[k] = (int32_t)q;
        h[k] = hq;
        zb[k] = k == 0 ? -HUGE_VAL : x;
    }
    if (k < 0) {
        for (int64_t p = a; p <= b; p++) win[p] = NONE32;
        return;
    }
    int64_t c = 0;
    for (int64_t p = a; p <= b; p++) {
        while (c < k && zb[c + 1] < (double)p) c++;
        win[p] = v[c];
    }
}

/* The envelope of a whole column (sites at -1 and n when outside). A voxel
 * z with g[z] <= 1 wins at z itself and hides every parabola beyond it: for
 * p on one side and q on the other, (p - q)^2 >= (p - z)^2 + 1. So the
 * column splits into runs of g > 1 between such voxels, each solved alone
 * with its two bounding voxels, and those voxels cost nothing. */
static void envelope(const double *restrict g, int64_t n, int outside, Scratch *s)
{
    int32_t *restrict win = s->win;
    for (int64_t p = 0; p < n;) {
        if (g[p] <= 1) {
            win[p] = (int32_t)p;
            p++;
            continue;
        }
        int64_t a = p;
        while (p < n && g[p] > 1) p++;
        int64_t lo = a > 0 ? a - 1 : outside ? -1 : 0;
        int64_t hi = p < n ? p : outside ? n : n - 1;
        segment(g, n, lo, hi, a, p - 1, s);
    }
}

/* Distances of a row from squared distances d2, one loop per output kind. */
static void put_distances(const Job *j, size_t i, int64_t tw, const double *restrict d2)
{
    const Sink *k = &j->sink;
    const uint8_t *restrict m = j->mask + i;
    double sign = k->sign;
    if (k->mode == SINK_F32 && !k->only_nonsites) {
        float *restrict o = (float *)k->out + i;
        if (k->squared)
            for (int64_t t = 0; t < tw; t++) o[t] = (float)(sign * d2[t]);
        else
            for (int64_t t = 0; t < tw; t++) o[t] = (float)(sign * sqrt(d2[t]));
        return;
    }
    for (int64_t t = 0; t < tw; t++) {
        if (k->only_nonsites && is_site(j, m[t])) continue;
        double val = sign * (k->squared ? d2[t] : sqrt(d2[t]));
        if (k->mode == SINK_F32)
            ((float *)k->out)[i + (size_t)t] = (float)val;
        else
            ((double *)k->out)[i + (size_t)t] = val;
    }
}

/* Writes tw consecutive voxels from i (x0.., y, z) whose nearest sites are
 * at offsets (dx[t], dy[t], dz[t]): squared distances first (summed z, y, x
 * as scipy does), then what the sink asks for. */
static void sink_row(const Job *j, Scratch *s, size_t i, int64_t tw, int64_t x0, int64_t y, int64_t z,
                     const int16_t *restrict dx, const int16_t *restrict dy, const int16_t *restrict dz)
{
    const Sink *k = &j->sink;
    double *restrict d2 = s->d2;
    double sx = j->sp[0], sy = j->sp[1], sz = j->sp[2];
    for (int64_t t = 0; t < tw; t++) {
        double a = sz * dz[t], b = sy * dy[t], c = sx * dx[t];
        d2[t] = dx[t] == NONE16 ? HUGE_VAL : a * a + b * b + c * c;
    }
    if (k->mode == SINK_THRESH) {
        uint8_t *restrict o = (uint8_t *)k->out + i;
        double r2 = k->r2;
        uint8_t inv = (uint8_t)k->invert;
        for (int64_t t = 0; t < tw; t++) o[t] = (uint8_t)((d2[t] > r2) ^ inv);
        return;
    }
    put_distances(j, i, tw, d2);
    if (!k->idx[0]) return;
    for (int64_t t = 0; t < tw; t++) {
        int none = dx[t] == NONE16;
        size_t o = i + (size_t)t;
        k->idx[0][o] = none ? 0 : (int32_t)(x0 + t + dx[t] + 1);
        k->idx[1][o] = none ? 0 : (int32_t)(y + dy[t] + 1);
        if (!j->planar) k->idx[2][o] = none ? 0 : (int32_t)(z + dz[t] + 1);
    }
}

/* One tile of columns along y (slice z, columns x0..x0+tw-1). */
static void tile_y(Job *j, Scratch *s, int64_t z, int64_t x0, int64_t tw, int final)
{
    int64_t nx = j->n[0], ny = j->n[1], cs = col_stride(ny);
    double ratio = j->sp[0] * j->sp[0] / (j->sp[1] * j->sp[1]); /* 1 for voxel units: exact */
    int16_t *off = j->off; /* may be the output buffer, written by the sink */
    int16_t *restrict a = s->a, *restrict ox = s->ox, *restrict oy = s->oy;
    double *restrict g = s->g;
    const int32_t *restrict win = s->win;
    for (int64_t y = 0; y < ny; y++) {
        const int16_t *o = off + 2 * ((z * ny + y) * nx + x0);
        for (int64_t t = 0; t < tw; t++) {
            int d = o[2 * t];
            a[t * cs + y] = (int16_t)d;
            g[t * cs + y] = d == NONE16 ? HUGE_VAL : (double)(d * d) * ratio;
        }
    }
    for (int64_t t = 0; t < tw; t++) {
        envelope(g + t * cs, ny, j->outside, s);
        for (int64_t y = 0; y < ny; y++) {
            int32_t q = win[y];
            ox[y * TILE + t] = q == NONE32 ? NONE16 : (q < 0 || q >= ny) ? 0 : a[t * cs + q];
            oy[y * TILE + t] = (int16_t)(q == NONE32 ? 0 : q - y);
        }
    }
    for (int64_t y = 0; y < ny; y++) {
        size_t i = (size_t)((z * ny + y) * nx + x0);
        if (final) {
            sink_row(j, s, i, tw, x0, y, z, ox + y * TILE, oy + y * TILE, s->oz + y * TILE);
            continue;
        }
        int16_t *o = off + 2 * i;
        for (int64_t t = 0; t < tw; t++) {
            o[2 * t] = ox[y * TILE + t];
            o[2 * t + 1] = oy[y * TILE + t];
        }
    }
}

/* One tile of columns along z (row y, columns x0..x0+tw-1); always final. */
static void tile_z(Job *j, Scratch *s, int64_t y, int64_t x0, int64_t tw)
{
    int64_t nx = j->n[0], ny = j->n[1], nz = j->n[2], cs = col_stride(nz);
    double w2 = j->sp[2] * j->sp[2], rx = j->sp[0] * j->sp[0] / w2, ry = j->sp[1] * j->sp[1] / w2;
    const int16_t *off = j->off; /* may be the output buffer, written by the sink */
    int16_t *restrict a = s->a, *restrict b = s->b;
    int16_t *restrict ox = s->ox, *restrict oy = s->oy, *restrict oz = s->oz;
    double *restrict g = s->g;
    const int32_t *restrict win = s->win;
    for (int64_t z = 0; z < nz; z++) {
        const int16_t *o = off + 2 * ((z * ny + y) * nx + x0);
        for (int64_t t = 0; t < tw; t++) {
            int dx = o[2 * t], dy = o[2 * t + 1];
            a[t * cs + z] = (int16_t)dx;
            b[t * cs + z] = (int16_t)dy;
            g[t * cs + z] = dx == NONE16 ? HUGE_VAL : (double)(dy * dy) * ry + (double)(dx * dx) * rx;
        }
    }
    for (int64_t t = 0; t < tw; t++) {
        envelope(g + t * cs, nz, j->outside, s);
        for (int64_t z = 0; z < nz; z++) {
            int32_t q = win[z];
            int in = q != NONE32 && q >= 0 && q < nz;
            ox[z * TILE + t] = q == NONE32 ? NONE16 : in ? a[t * cs + q] : 0;
            oy[z * TILE + t] = in ? b[t * cs + q] : 0;
            oz[z * TILE + t] = (int16_t)(q == NONE32 ? 0 : q - z);
        }
    }
    for (int64_t z = 0; z < nz; z++) {
        size_t i = (size_t)((z * ny + y) * nx + x0);
        sink_row(j, s, i, tw, x0, y, z, ox + z * TILE, oy + z * TILE, oz + z * TILE);
    }
}

/* Passes along y (final when planar) or z, parallel over tiles of columns. */
static MdStatus pass_cols(Job *j, int axis, int final, MdError *err)
{
    int64_t nx = j->n[0], ntx = (nx + TILE - 1) / TILE;
    int64_t outer = axis == 1 ? j->n[2] : j->n[1], len = j->n[axis];
    int64_t ntiles = outer * ntx;
    int fail = MD_OK;
#pragma omp parallel if (md_par_worth((double)(ntiles * TILE * len)))
    {
        Scratch s;
        int ok = scratch_new(&s, len);
        if (!ok) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t t = 0; t < ntiles; t++) {
            if (md_par_stopped(&fail) || md_par_poll_cancel(&fail)) continue;
            int64_t x0 = (t % ntx) * TILE, tw = nx - x0 < TILE ? nx - x0 : TILE;
            if (axis == 1)
                tile_y(j, &s, t / ntx, x0, tw, final);
            else
                tile_z(j, &s, t / ntx, x0, tw);
            md_par_progress(j->ctx, &j->done, j->total);
        }
        scratch_free(&s);
    }
    if (fail == MD_ENOMEM) return md_error(err, MD_ENOMEM, "out of memory in the distance transform");
    return md_par_status(fail, "distance transform", err);
}

static MdStatus run(Job *j, MdError *err)
{
    for (int a = 0; a < 3; a++)
        if (j->n[a] > MAXSIDE)
            return md_error(err, MD_EUNSUPPORTED, "distance transform: axis %d has %lld voxels (at most %d)",
                            a + 1, (long long)j->n[a], MAXSIDE);
    pass_x(j);
    MdStatus st = pass_cols(j, 1, j->planar, err);
    if (st == MD_OK && !j->planar) st = pass_cols(j, 2, 1, err);
    return st;
}

MdStatus md_edt_threshold(const uint8_t *mask, const int64_t n[3], int planar, int site_nonzero,
                          int outside, double r2, int invert, uint8_t *out, MdError *err)
{
    Job j = {{n[0], n[1], n[2]}, planar, site_nonzero, outside, {1, 1, 1}, mask, NULL, {0}, NULL, 0, 0};
    j.sink = (Sink){SINK_THRESH, 0, 0, invert, 1.0, r2, out, {NULL, NULL, NULL}};
    size_t count = (size_t)(n[0] * n[1] * n[2]);
    j.off = malloc(2 * count * sizeof *j.off);
    if (!j.off) return md_error(err, MD_ENOMEM, "out of memory in the distance transform (%zu bytes)", 4 * count);
    MdStatus st = run(&j, err);
    free(j.off);
    return st;
}

static MdStatus check_args(const MdVolume *mask, const MdEdtOpts *o, const MdVolume *out,
                           MdVolume *const *idx, MdError *err)
{
    if (mask->dtype != MD_UINT8 || mask->ndim < 2 || mask->ndim > 3)
        return md_error(err, MD_EINVAL, "edt: expected a 2-D or 3-D uint8 mask");
    if ((out->dtype != MD_FLOAT32 && out->dtype != MD_FLOAT64) || md_volume_count(out) != md_volume_count(mask))
        return md_error(err, MD_EINVAL, "edt: the output must be float32 or float64, shaped like the mask");
    if (idx && o->sign) return md_error(err, MD_EINVAL, "edt: indices are not available for a signed map");
    for (int a = 0; idx && a < mask->ndim; a++)
        if (idx[a]->dtype != MD_INT32 || md_volume_count(idx[a]) != md_volume_count(mask))
            return md_error(err, MD_EINVAL, "edt: index volumes must be int32, shaped like the mask");
    for (int a = 0; a < 3; a++)
        if (!(o->spacing[a] > 0) || !isfinite(o->spacing[a]))
            return md_error(err, MD_EINVAL, "spacing must be > 0 (got %g on axis %d)", o->spacing[a], a + 1);
    if (o->axis < 0 || o->axis > 3) return md_error(err, MD_EINVAL, "axis must be 1, 2 or 3 (got %d)", o->axis);
    return MD_OK;
}

/* Buffers of the working layout (the transposed one for axis 1 or 2). */
typedef struct Work {
    int axis; /* 1 or 2 when transposed, else 3 */
    int64_t n[3], m[3];
    uint8_t *mask;
    void *out;
    int32_t *idx[3];
    int16_t *off;
} Work;

static void work_free(Work *w, const MdVolume *mask, const MdVolume *out)
{
    if (w->mask != md_volume_data(mask)) free(w->mask);
    if (w->out != md_volume_data(out)) free(w->out);
    if (w->axis != 3)
        for (int a = 0; a < 3; a++) free(w->idx[a]);
    if ((void *)w->off != md_volume_data(out)) free(w->off);
}

/* Working buffers: the volume's own when no transposition is needed. */
static MdStatus work_new(Work *w, const MdVolume *mask, const MdEdtOpts *o, const MdVolume *out,
                         MdVolume *const *idx, MdError *err)
{
    w->n[0] = mask->dim[0], w->n[1] = mask->dim[1], w->n[2] = mask->ndim == 3 ? mask->dim[2] : 1;
    w->axis = mask->ndim == 3 && (o->axis == 1 || o->axis == 2) ? o->axis : 3;
    md_slices_dims(w->n, w->axis, w->m);
    size_t count = md_volume_count(mask), esize = md_dtype_size(out->dtype);
    int t = w->axis != 3;
    w->mask = t ? malloc(count) : md_volume_data(mask);
    w->out = t ? malloc(count * esize) : md_volume_data(out);
    for (int a = 0; a < 3; a++)
        w->idx[a] = !idx || a >= mask->ndim ? NULL : t ? malloc(count * 4) : md_volume_data(idx[a]);
    int inplace = !t && !o->sign && out->dtype == MD_FLOAT32;
    w->off = inplace ? md_volume_data(out) : malloc(count * 4);
    int ok = w->mask && w->out && w->off;
    for (int a = 0; idx && a < mask->ndim; a++) ok = ok && w->idx[a];
    if (!ok) {
        work_free(w, mask, out);
        return md_error(err, MD_ENOMEM, "out of memory in the distance transform");
    }
    if (t) md_slices_gather(md_volume_data(mask), 1, w->n, w->axis, w->mask);
    return MD_OK;
}

/* The slice index (1-based) of every voxel of the working layout that has
 * a nearest site (in-plane index ix != 0); 0 in slices without any site. */
static void fill_slice_index(int32_t *dst, const int32_t *ix, const int64_t m[3])
{
    size_t plane = (size_t)(m[0] * m[1]);
#pragma omp parallel for schedule(static) if (md_par_worth((double)(m[2] * (int64_t)plane)))
    for (int64_t w = 0; w < m[2]; w++)
        for (size_t i = 0; i < plane; i++) {
            size_t k = (size_t)w * plane + i;
            dst[k] = ix[k] ? (int32_t)(w + 1) : 0;
        }
}

/* Copies working results back to the volumes, mapping index axes. */
static void work_finish(Work *w, const MdVolume *out, MdVolume *const *idx)
{
    if (w->axis == 3) return;
    md_slices_scatter(w->out, md_dtype_size(out->dtype), w->n, w->axis, md_volume_data(out));
    if (!idx) return;
    /* working (u, v, w) are (y, z, x) for axis 1 and (x, z, y) for axis 2 */
    int map1[3] = {2, 0, 1}, map2[3] = {0, 2, 1};
    const int *map = w->axis == 1 ? map1 : map2;
    for (int a = 0; a < 3; a++) md_slices_scatter(w->idx[map[a]], 4, w->n, w->axis, md_volume_data(idx[a]));
}

MdStatus md_edt(const MdVolume *mask, const MdEdtOpts *o, MdVolume *out, MdVolume *const *idx, MdCtx *ctx)
{
    MdError *err = ctx->err;
    MdStatus st = check_args(mask, o, out, idx, err);
    if (st != MD_OK) return st;
    Work w;
    if ((st = work_new(&w, mask, o, out, idx, err)) != MD_OK) return st;
    int planar = mask->ndim == 2 || o->axis != 0;
    Job j = {{w.m[0], w.m[1], w.m[2]}, planar, 0, 0, {0}, w.mask, w.off, {0}, NULL, 0, 0};
    int perm[3][3] = {{1, 2, 0}, {0, 2, 1}, {0, 1, 2}};
    for (int a = 0; a < 3; a++) j.sp[a] = o->spacing[perm[w.axis - 1][a]];
    j.sink = (Sink){out->dtype == MD_FLOAT32 ? SINK_F32 : SINK_F64, o->squared, 0, 0, 1.0, 0, w.out,
                    {w.idx[0], w.idx[1], w.idx[2]}};
    const size_t ntx = (size_t)((j.n[0] + TILE - 1) / TILE);
    j.ctx = ctx;
    j.total = (o->sign ? 2 : 1) * ntx * (size_t)(j.n[2] + (planar ? 0 : j.n[1]));
    if (o->sign) {
        j.sink.only_nonsites = 1;
        j.sink.sign = -1.0; /* inside: distance to the nearest zero voxel */
        st = run(&j, err);
        j.site_nonzero = 1;
        j.sink.sign = 1.0; /* outside: distance to the nearest object voxel */
        if (st == MD_OK) st = run(&j, err);
    } else {
        st = run(&j, err);
    }
    if (st == MD_OK && idx && mask->ndim == 3 && planar) fill_slice_index(w.idx[2], w.idx[0], w.m);
    if (st == MD_OK) work_finish(&w, out, idx);
    work_free(&w, mask, out);
    md_ctx_finish(ctx, j.total);
    return st;
}
