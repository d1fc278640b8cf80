/* CLAHE in skimage's arrangement. The image is padded (numpy "reflect",
 * i.e. mirror) to whole tiles plus half a tile on each side; histogram
 * tiles start half a tile in, so each output tile blends the maps of the
 * 2^ndim histogram tiles around it with weights offset / side. The padding
 * is never built: padded coordinates are mapped back to the image. Tiles
 * and slices are independent, so threads give the same result. */
#include "clahe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/rows.h"
#include "filter.h"

#define NGRAY 16384

typedef struct Image {
    int64_t s[3];  /* sides x, y, z */
    int k[3];      /* tile sides */
    int64_t ps[3]; /* padding before */
    int64_t nh[3]; /* histogram tiles per axis */
} Image;

/* skimage's clip_histogram, step for step (integer arithmetic). */
static void clip_histogram(int64_t *h, int nb, int64_t clip)
{
    int64_t excess = 0, nex = 0;
    for (int i = 0; i < nb; i++)
        if (h[i] > clip) excess += h[i], nex++, h[i] = clip;
    excess -= nex * clip;
    int64_t incr = excess / nb, upper = clip - incr;
    for (int i = 0; i < nb; i++)
        if (h[i] < upper) excess -= incr, h[i] += incr;
    for (int i = 0; i < nb; i++)
        if (h[i] >= upper && h[i] < clip) excess += h[i] - clip, h[i] = clip;
    while (excess > 0) {
        int64_t prev = excess;
        for (int index = 0; index < nb; index++) {
            int64_t under = 0;
            for (int i = 0; i < nb; i++) under += h[i] < clip;
            int64_t step = under / excess > 1 ? under / excess : 1;
            for (int i = index; i < nb; i += (int)step)
                if (h[i] < clip) h[i]++, excess--;
            if (excess <= 0) break;
        }
        if (prev == excess) break;
    }
}

/* skimage's img_as_uint for one value: signed integers lose their negative
 * half and are stretched to 16 bits by its integer rule, uint8 times 257,
 * floats in [-1, 1] times 65535 rounded (in float32 for float32), clipped. */
static double as_uint16(double x, MdDtype t, double vmax)
{
    switch (t) {
    case MD_UINT8: return x * 257;
    case MD_INT8: x = floor(x * 16513 / 32); return x < 0 ? 0 : x;
    case MD_INT16: x = floor(x * 32769 / 16384); return x < 0 ? 0 : x;
    case MD_UINT32: return vmax < 65536 ? x : floor(x / 65536);
    case MD_INT32: x = vmax < 65536 ? x : floor(x / 32768); return x < 0 ? 0 : x;
    case MD_FLOAT32: x = (double)rintf((float)x * 65535.0f); break;
    case MD_FLOAT64: x = rint(x * 65535.0); break;
    default: return x;
    }
    return x < 0 ? 0 : (x > 65535 ? 65535 : x);
}

/* The tile-histogram bin of value x (NaN counts as the minimum). */
static inline uint16_t grey_bin(double x, MdDtype t, double lo, double hi, int direct, double ulo, double uhi,
                                int bin_size)
{
    x = x == x ? x : lo;
    double u = direct ? x : as_uint16(x, t, hi);
    double v = uhi > ulo ? (u - ulo) / (uhi - ulo) : u - ulo;
    return (uint16_t)((int)nearbyint(v * (NGRAY - 1)) / bin_size); /* np.round: halves to even */
}

/* Per-axis tables: for padded coordinate p, the image index (mirror); for
 * image index i, the two histogram tiles blended and the upper weight. */
typedef struct Axis {
    int64_t *img;    /* [P] */
    int64_t *t0, *t1; /* [s] */
    double *c;       /* [s] */
} Axis;

static void free_axes(Axis *ax)
{
    for (int a = 0; a < 3; a++) free(ax[a].img), free(ax[a].t0), free(ax[a].t1), free(ax[a].c);
}

static int make_axes(const Image *im, Axis *ax)
{
    memset(ax, 0, 3 * sizeof *ax);
    for (int a = 0; a < 3; a++) {
        int64_t k = im->k[a], P = (im->nh[a] + 1) * k, n = im->s[a], nh = im->nh[a];
        ax[a].img = malloc((size_t)P * sizeof(int64_t));
        ax[a].t0 = malloc((size_t)n * sizeof(int64_t));
        ax[a].t1 = malloc((size_t)n * sizeof(int64_t));
        ax[a].c = malloc((size_t)n * sizeof(double));
        if (!ax[a].img || !ax[a].t0 || !ax[a].t1 || !ax[a].c) return 0;
        for (int64_t p = 0; p < P; p++) ax[a].img[p] = md_border_index(p - im->ps[a], n, MD_BORDER_MIRROR);
        for (int64_t i = 0; i < n; i++) {
            int64_t p = i + im->ps[a], blk = p / k;
            ax[a].c[i] = (double)(p % k) / (double)k;
            ax[a].t0[i] = blk - 1 < 0 ? 0 : (blk - 1 >= nh ? nh - 1 : blk - 1);
            ax[a].t1[i] = blk >= nh ? nh - 1 : blk;
        }
    }
    return 1;
}

/* maps[t * nb + bin] for every histogram tile t (x fastest), tiles in parallel. */
static void tile_maps(const uint16_t *bin, const Image *im, const Axis *ax, const MdClaheOpts *o, double *maps,
                      int parallel, int *fail)
{
    int nb = o->nbins;
    int64_t kprod = (int64_t)im->k[0] * im->k[1] * im->k[2], clim = kprod;
    if (o->clip_limit > 0) {
        double c = o->clip_limit * (double)kprod;
        clim = c < 1 ? 1 : (int64_t)c;
    }
    double scale = (double)(NGRAY - 1) / (double)kprod;
    int64_t ntz = im->nh[2] * im->nh[1];
#pragma omp parallel if (parallel && md_par_worth((double)kprod * (double)ntz * (double)im->nh[0]))
    {
        int64_t *h = malloc((size_t)nb * sizeof *h);
        if (!h) md_par_fail(fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t tzy = 0; tzy < ntz; tzy++) {
            if (!h || md_par_stopped(fail)) continue;
            int64_t tz = tzy / im->nh[1], ty = tzy % im->nh[1];
            for (int64_t tx = 0; tx < im->nh[0]; tx++) {
                memset(h, 0, (size_t)nb * sizeof *h);
                const int64_t *xi = ax[0].img + im->k[0] / 2 + tx * im->k[0];
                for (int dz = 0; dz < im->k[2]; dz++) {
                    int64_t z = ax[2].img[im->k[2] / 2 + tz * im->k[2] + dz];
                    for (int dy = 0; dy < im->k[1]; dy++) {
                        int64_t y = ax[1].img[im->k[1] / 2 + ty * im->k[1] + dy];
                        const uint16_t *r = bin + (z * im->s[1] + y) * im->s[0];
                        for (int dx = 0; dx < im->k[0]; dx++) h[r[xi[dx]]]++;
                    }
                }
                clip_histogram(h, nb, clim);
                double *m = maps + ((tz * im->nh[1] + ty) * im->nh[0] + tx) * nb;
                double cum = 0;
                for (int i = 0; i < nb; i++) {
                    cum += (double)h[i];
                    double v = cum * scale;
                    m[i] = (double)(int64_t)(v > NGRAY - 1 ? NGRAY - 1 : v); /* skimage's astype(int), kept as double */
                }
            }
        }
        free(h);
    }
}

/* Slice z of the blended result (skimage: edges in ndindex order, z
 * slowest; weights multiplied x, y, z; float32 sum; truncated to uint16). */
static void equalize(const uint16_t *bin, const Image *im, const Axis *ax, int nb, const double *maps,
                     uint16_t *res, int64_t z)
{
    int three = im->s[2] > 1 || im->k[2] > 1;
    int64_t tz[2] = {ax[2].t0[z], ax[2].t1[z]}, nhx = im->nh[0], nhy = im->nh[1];
    double cz = ax[2].c[z], wz[2] = {1 - cz, cz};
    for (int64_t y = 0; y < im->s[1]; y++) {
        int64_t ty[2] = {ax[1].t0[y], ax[1].t1[y]};
        double cy = ax[1].c[y], wy[2] = {1 - cy, cy};
        const double *m[2][2][2];
        for (int ez = 0; ez < 2; ez++)
            for (int ey = 0; ey < 2; ey++)
                for (int ex = 0; ex < 2; ex++) m[ez][ey][ex] = maps + (tz[ez] * nhy + ty[ey]) * nhx * nb;
        size_t row = (size_t)((z * im->s[1] + y) * im->s[0]);
        for (int64_t x = 0; x < im->s[0]; x++) {
            int64_t tx[2] = {ax[0].t0[x] * nb, ax[0].t1[x] * nb};
            double cx = ax[0].c[x], wx[2] = {1 - cx, cx};
            int b = bin[row + (size_t)x];
            float acc = 0;
            for (int ez = 0; ez < (three ? 2 : 1); ez++)
                for (int ey = 0; ey < 2; ey++)
                    for (int ex = 0; ex < 2; ex++) {
                        double w = wx[ex] * wy[ey];
                        if (three) w *= wz[ez];
                        acc += (float)(m[ez][ey][ex][tx[ex] + b] * w);
                    }
            res[row + (size_t)x] = (uint16_t)acc;
        }
    }
}

static void setup(Image *im, const int64_t s[3], const MdClaheOpts *o)
{
    for (int a = 0; a < 3; a++) {
        im->s[a] = s[a];
        int k = o->kernel[a] > 0 ? o->kernel[a] : (int)(s[a] / 8 > 1 ? s[a] / 8 : 1);
        im->k[a] = k;
        im->ps[a] = k / 2;
        int64_t pe = (k - s[a] % k) % k + (k + 1) / 2;
        im->nh[a] = (s[a] + im->ps[a] + pe) / k - 1;
    }
}

#define BLOCK 16384

/* One image of n voxels at start: grey bins, maps, blend, rescale to [0, 1].
 * parallel: use the threads inside (3-D); per-slice calls run serially. */
static MdStatus clahe_image(const MdVolume *in, const int64_t s[3], size_t start, const MdClaheOpts *o,
                            MdVolume *out, int parallel, int *fail, MdCtx *ctx)
{
    Image im;
    setup(&im, s, o);
    Axis ax[3] = {{0}};
    size_t n = (size_t)(s[0] * s[1] * s[2]), nt = (size_t)(im.nh[0] * im.nh[1] * im.nh[2]);
    uint16_t *q = malloc(n * sizeof *q), *res = malloc(n * sizeof *res);
    double *maps = malloc(nt * (size_t)o->nbins * sizeof *maps);
    MdStatus st = MD_OK;
    if (!q || !res || !maps || !make_axes(&im, ax)) {
        st = MD_ENOMEM;
        goto done;
    }
    /* the 16-bit levels are monotone in the value: their range is the values' */
    double lo = INFINITY, hi = -INFINITY;
    size_t nblk = (n + BLOCK - 1) / BLOCK;
    MdDtype t = in->dtype;
#pragma omp parallel if (parallel && md_par_worth((double)n))
    {
        double buf[BLOCK], l = INFINITY, h = -INFINITY;
#pragma omp for schedule(static)
        for (size_t b = 0; b < nblk; b++) {
            size_t a = b * BLOCK, len = a + BLOCK < n ? BLOCK : n - a;
            md_rows_to_f64(md_volume_data(in), t, start + a, len, buf);
            for (size_t i = 0; i < len; i++)
                if (buf[i] == buf[i]) l = buf[i] < l ? buf[i] : l, h = buf[i] > h ? buf[i] : h;
        }
#pragma omp critical
        {
            lo = l < lo ? l : lo;
            hi = h > hi ? h : hi;
        }
    }
    if (!(lo <= hi)) lo = hi = 0;
    int direct = md_dtype_is_float(t) && (lo < -1 || hi > 1); /* skimage refuses these; own range */
    double ulo = direct ? lo : as_uint16(lo, t, hi), uhi = direct ? hi : as_uint16(hi, t, hi);
    int bin_size = 1 + NGRAY / o->nbins;
    /* 8- and 16-bit volumes: one table entry per possible value */
    uint16_t *lut = NULL;
    int16_t lut_base = t == MD_INT16 ? INT16_MIN : (t == MD_INT8 ? INT8_MIN : 0);
    size_t nlut = t == MD_UINT8 || t == MD_INT8 ? 256 : (t == MD_UINT16 || t == MD_INT16 ? 65536 : 0);
    if (nlut && (lut = malloc(nlut * sizeof *lut)))
        for (size_t k = 0; k < nlut; k++) lut[k] = grey_bin((double)((int64_t)k + lut_base), t, lo, hi, direct, ulo, uhi, bin_size);
#pragma omp parallel if (parallel && md_par_worth((double)n))
    {
        double buf[BLOCK];
#pragma omp for schedule(static)
        for (size_t b = 0; b < nblk; b++) {
            size_t a = b * BLOCK, len = a + BLOCK < n ? BLOCK : n - a;
            const void *src = md_volume_data(in);
            if (lut && t == MD_INT16) {
                const int16_t *x = (const int16_t *)src + start + a;
                for (size_t i = 0; i < len; i++) q[a + i] = lut[(int)x[i] - INT16_MIN];
            } else if (lut && t == MD_UINT16) {
                const uint16_t *x = (const uint16_t *)src + start + a;
                for (size_t i = 0; i < len; i++) q[a + i] = lut[x[i]];
            } else {
                md_rows_to_f64(src, t, start + a, len, buf);
                for (size_t i = 0; i < len; i++) q[a + i] = grey_bin(buf[i], t, lo, hi, direct, ulo, uhi, bin_size);
            }
        }
    }
    free(lut);
    tile_maps(q, &im, ax, o, maps, parallel, fail);
#pragma omp parallel for schedule(static) if (parallel && md_par_worth((double)n))
    for (int64_t z = 0; z < s[2]; z++) {
        if (md_par_poll_cancel(fail)) continue;
        equalize(q, &im, ax, o->nbins, maps, res, z);
        if (parallel && md_par_thread() == 0) md_ctx_progress(ctx, (size_t)z + 1, (size_t)s[2]);
    }
    if (*fail) goto done;
    uint16_t rlo = UINT16_MAX, rhi = 0;
    for (size_t i = 0; i < n; i++) rlo = res[i] < rlo ? res[i] : rlo, rhi = res[i] > rhi ? res[i] : rhi;
#pragma omp parallel if (parallel && md_par_worth((double)n))
    {
        double buf[BLOCK];
#pragma omp for schedule(static)
        for (size_t b = 0; b < nblk; b++) {
            size_t a = b * BLOCK, len = a + BLOCK < n ? BLOCK : n - a;
            for (size_t i = 0; i < len; i++)
                buf[i] = rhi > rlo ? ((double)res[a + i] - rlo) / (double)(rhi - rlo) : (double)res[a + i];
            md_rows_from_f64(md_volume_data(out), out->dtype, start + a, len, buf, MD_ROUND_NEAREST);
        }
    }
done:
    free_axes(ax);
    free(q), free(res), free(maps);
    return st;
}

MdStatus md_clahe(const MdVolume *in, const MdClaheOpts *o, MdVolume *out, MdCtx *ctx)
{
    if (in->ndim < 2 || in->ndim > 3)
        return md_error(ctx->err, MD_EINVAL, "clahe needs a 2-D or 3-D volume (got %d-D)", in->ndim);
    if ((out->dtype != MD_FLOAT32 && out->dtype != MD_FLOAT64) || md_volume_count(out) != md_volume_count(in))
        return md_error(ctx->err, MD_EINVAL, "clahe output must be float32 or float64 of the input's size");
    if (o->nbins < 1 || o->nbins > NGRAY) return md_error(ctx->err, MD_EINVAL, "nbins must be 1 to %d (got %d)", NGRAY, o->nbins);
    if (!(o->clip_limit >= 0)) return md_error(ctx->err, MD_EINVAL, "clip_limit must be >= 0");
    int64_t nz = in->ndim == 3 ? in->dim[2] : 1;
    int fail = MD_OK;
    if (o->per_slice || in->ndim == 2) {
        int64_t s[3] = {in->dim[0], in->dim[1], 1};
        MdClaheOpts o2 = *o;
        o2.kernel[2] = 1;
        size_t slice = (size_t)(s[0] * s[1]);
#pragma omp parallel for schedule(static) if (md_par_worth((double)slice * (double)nz))
        for (int64_t z = 0; z < nz; z++) {
            if (md_par_poll_cancel(&fail)) continue;
            MdStatus st = clahe_image(in, s, (size_t)z * slice, &o2, out, 0, &fail, ctx);
            if (st) md_par_fail(&fail, st);
            if (md_par_thread() == 0) md_ctx_progress(ctx, (size_t)z + 1, (size_t)nz);
        }
    } else {
        int64_t s[3] = {in->dim[0], in->dim[1], nz};
        MdStatus st = clahe_image(in, s, 0, o, out, 1, &fail, ctx);
        if (st) md_par_fail(&fail, st);
    }
    md_ctx_finish(ctx, (size_t)nz);
    return md_par_status(fail, "clahe", ctx->err);
}
