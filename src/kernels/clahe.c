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

/* Grey levels 0..NGRAY-1 of one image (n voxels starting at start). */
static void quantize(const MdVolume *in, size_t start, size_t n, double *row, uint16_t *q)
{
    md_rows_to_f64(md_volume_data(in), in->dtype, start, n, row);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (row[i] == row[i]) lo = row[i] < lo ? row[i] : lo, hi = row[i] > hi ? row[i] : hi;
    if (!(lo <= hi)) lo = hi = 0;
    /* skimage refuses floats outside [-1, 1]; those are scaled from their own range */
    int direct = md_dtype_is_float(in->dtype) && (lo < -1 || hi > 1);
    double ulo = INFINITY, uhi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x = row[i] == row[i] ? row[i] : lo;
        row[i] = direct ? x : as_uint16(x, in->dtype, hi);
        ulo = row[i] < ulo ? row[i] : ulo;
        uhi = row[i] > uhi ? row[i] : uhi;
    }
    for (size_t i = 0; i < n; i++) {
        double t = uhi > ulo ? (row[i] - ulo) / (uhi - ulo) : row[i] - ulo;
        q[i] = (uint16_t)nearbyint(t * (NGRAY - 1)); /* np.round: halves to even */
    }
}

static inline int64_t padded_to_image(int64_t p, const Image *im, int a)
{
    return md_border_index(p - im->ps[a], im->s[a], MD_BORDER_MIRROR);
}

/* maps[t * nb + bin] for every histogram tile t (x fastest). */
static void tile_maps(const uint16_t *bin, const Image *im, const MdClaheOpts *o, int64_t *maps, int64_t *h)
{
    int nb = o->nbins;
    int64_t kprod = (int64_t)im->k[0] * im->k[1] * im->k[2];
    int64_t clim = kprod;
    if (o->clip_limit > 0) {
        double c = o->clip_limit * (double)kprod;
        clim = c < 1 ? 1 : (int64_t)c;
    }
    double scale = (double)(NGRAY - 1) / (double)kprod;
    for (int64_t tz = 0; tz < im->nh[2]; tz++)
        for (int64_t ty = 0; ty < im->nh[1]; ty++)
            for (int64_t tx = 0; tx < im->nh[0]; tx++) {
                memset(h, 0, (size_t)nb * sizeof *h);
                for (int dz = 0; dz < im->k[2]; dz++) {
                    int64_t z = padded_to_image(im->k[2] / 2 + tz * im->k[2] + dz, im, 2);
                    for (int dy = 0; dy < im->k[1]; dy++) {
                        int64_t y = padded_to_image(im->k[1] / 2 + ty * im->k[1] + dy, im, 1);
                        const uint16_t *r = bin + (z * im->s[1] + y) * im->s[0];
                        int64_t x0 = im->k[0] / 2 + tx * im->k[0];
                        for (int dx = 0; dx < im->k[0]; dx++) h[r[padded_to_image(x0 + dx, im, 0)]]++;
                    }
                }
                clip_histogram(h, nb, clim);
                int64_t *m = maps + ((tz * im->nh[1] + ty) * im->nh[0] + tx) * nb;
                double cum = 0;
                for (int i = 0; i < nb; i++) {
                    cum += (double)h[i];
                    double v = cum * scale;
                    m[i] = (int64_t)(v > NGRAY - 1 ? NGRAY - 1 : v);
                }
            }
}

/* Per axis for image index i: the two histogram tiles and the upper weight. */
static void blend_axis(int64_t i, const Image *im, int a, int64_t *t0, int64_t *t1, double *c)
{
    int64_t p = i + im->ps[a], b = p / im->k[a], nh = im->nh[a];
    *c = (double)(p % im->k[a]) / (double)im->k[a];
    *t0 = b - 1 < 0 ? 0 : (b - 1 >= nh ? nh - 1 : b - 1);
    *t1 = b < 0 ? 0 : (b >= nh ? nh - 1 : b);
}

/* One image (3-D block or one slice): levels -> blended uint16 result. */
static void equalize(const uint16_t *bin, const Image *im, const MdClaheOpts *o, const int64_t *maps, uint16_t *res,
                     int64_t z)
{
    int nb = o->nbins;
    int64_t tz0, tz1, ty0, ty1;
    double cz, cy;
    blend_axis(z, im, 2, &tz0, &tz1, &cz);
    for (int64_t y = 0; y < im->s[1]; y++) {
        blend_axis(y, im, 1, &ty0, &ty1, &cy);
        for (int64_t x = 0; x < im->s[0]; x++) {
            int64_t tx0, tx1;
            double cx;
            blend_axis(x, im, 0, &tx0, &tx1, &cx);
            size_t i = (size_t)((z * im->s[1] + y) * im->s[0] + x);
            int b = bin[i];
            float acc = 0;
            /* skimage's order: the z edge slowest, x fastest; weights multiplied x, y, z */
            for (int ez = 0; ez < (im->s[2] > 1 || im->k[2] > 1 ? 2 : 1); ez++)
                for (int ey = 0; ey < 2; ey++)
                    for (int ex = 0; ex < 2; ex++) {
                        double w = (ex ? cx : 1 - cx) * (ey ? cy : 1 - cy);
                        if (im->s[2] > 1 || im->k[2] > 1) w *= ez ? cz : 1 - cz;
                        int64_t t = ((ez ? tz1 : tz0) * im->nh[1] + (ey ? ty1 : ty0)) * im->nh[0] + (ex ? tx1 : tx0);
                        acc += (float)((double)maps[t * nb + b] * w);
                    }
            res[i] = (uint16_t)acc;
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

/* One image of n voxels at start: quantize, maps, blend, rescale to [0, 1]. */
static MdStatus clahe_image(const MdVolume *in, const int64_t s[3], size_t start, const MdClaheOpts *o,
                            MdVolume *out, int parallel, int *fail, MdCtx *ctx)
{
    Image im;
    setup(&im, s, o);
    size_t n = (size_t)(s[0] * s[1] * s[2]), nt = (size_t)(im.nh[0] * im.nh[1] * im.nh[2]);
    double *row = malloc(n * sizeof *row);
    uint16_t *q = malloc(n * sizeof *q), *res = malloc(n * sizeof *res);
    int64_t *maps = malloc(nt * (size_t)o->nbins * sizeof *maps), *h = malloc((size_t)o->nbins * sizeof *h);
    MdStatus st = MD_OK;
    if (!row || !q || !res || !maps || !h) {
        st = MD_ENOMEM;
        goto done;
    }
    quantize(in, start, n, row, q);
    int bin_size = 1 + NGRAY / o->nbins;
    for (size_t i = 0; i < n; i++) q[i] = (uint16_t)(q[i] / bin_size);
    tile_maps(q, &im, o, maps, h);
#pragma omp parallel for schedule(static) if (parallel && md_par_worth((double)n))
    for (int64_t z = 0; z < s[2]; z++) {
        if (md_par_poll_cancel(fail)) continue;
        equalize(q, &im, o, maps, res, z);
        if (parallel && md_par_thread() == 0) md_ctx_progress(ctx, (size_t)z + 1, (size_t)s[2]);
    }
    if (*fail) goto done;
    uint16_t lo = UINT16_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) lo = res[i] < lo ? res[i] : lo, hi = res[i] > hi ? res[i] : hi;
    for (size_t i = 0; i < n; i++) row[i] = hi > lo ? ((double)res[i] - lo) / (double)(hi - lo) : (double)res[i];
    md_rows_from_f64(md_volume_data(out), out->dtype, start, n, row, MD_ROUND_NEAREST);
done:
    free(row), free(q), free(res), free(maps), free(h);
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
