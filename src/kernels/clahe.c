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
#include "clahe_blend.h"
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
 * image index i, the two histogram tiles blended and the upper weight c
 * (and 1 - c, the lower one). */
typedef struct Axis {
    int64_t *img;     /* [P] */
    int64_t *t0, *t1; /* [s] */
    double *c, *c1;   /* [s] */
} Axis;

static void free_axes(Axis *ax)
{
    for (int a = 0; a < 3; a++) free(ax[a].img), free(ax[a].t0), free(ax[a].t1), free(ax[a].c), free(ax[a].c1);
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
        ax[a].c1 = malloc((size_t)n * sizeof(double));
        if (!ax[a].img || !ax[a].t0 || !ax[a].t1 || !ax[a].c || !ax[a].c1) return 0;
        for (int64_t p = 0; p < P; p++) ax[a].img[p] = md_border_index(p - im->ps[a], n, MD_BORDER_MIRROR);
        for (int64_t i = 0; i < n; i++) {
            int64_t p = i + im->ps[a], blk = p / k;
            ax[a].c[i] = (double)(p % k) / (double)k;
            ax[a].c1[i] = 1 - ax[a].c[i];
            ax[a].t0[i] = blk - 1 < 0 ? 0 : (blk - 1 >= nh ? nh - 1 : blk - 1);
            ax[a].t1[i] = blk >= nh ? nh - 1 : blk;
        }
    }
    return 1;
}

/* maps[t * nb + bin] for every histogram tile t (x fastest), tile rows in
 * parallel. A tile row's voxels are read row by row across all its tiles
 * (sequential memory), into four partial 32-bit histograms per tile that
 * keep runs of equal bins from waiting on each other; they are folded into
 * 64-bit totals before they could overflow. */
static void tile_maps(const MdClaheBins *bins, const Image *im, const Axis *ax, const MdClaheOpts *o, double *maps,
                      int parallel, int *fail)
{
    int nb = o->nbins, kx = im->k[0];
    int64_t kprod = (int64_t)im->k[0] * im->k[1] * im->k[2], clim = kprod, nhx = im->nh[0];
    if (o->clip_limit > 0) {
        double c = o->clip_limit * (double)kprod;
        clim = c < 1 ? 1 : (int64_t)c;
    }
    double scale = (double)(NGRAY - 1) / (double)kprod;
    int64_t ntz = im->nh[2] * im->nh[1];
    size_t nh = (size_t)nhx * (size_t)nb;
#pragma omp parallel if (parallel && md_par_worth((double)kprod * (double)ntz * (double)nhx))
    {
        int64_t *h = malloc(nh * sizeof *h);
        uint32_t *h4 = malloc(nh * 4 * sizeof *h4);
        int32_t *buf = malloc((size_t)kx * sizeof *buf);
        if (!h || !h4 || !buf) md_par_fail(fail, MD_ENOMEM);
#pragma omp for schedule(dynamic)
        for (int64_t tzy = 0; tzy < ntz; tzy++) {
            if (!h || !h4 || !buf || md_par_stopped(fail)) continue;
            int64_t tz = tzy / im->nh[1], ty = tzy % im->nh[1], held = 0;
            memset(h, 0, nh * sizeof *h);
            memset(h4, 0, nh * 4 * sizeof *h4);
            for (int dz = 0; dz < im->k[2]; dz++) {
                int64_t z = ax[2].img[im->k[2] / 2 + tz * im->k[2] + dz];
                for (int dy = 0; dy < im->k[1]; dy++) {
                    int64_t y = ax[1].img[im->k[1] / 2 + ty * im->k[1] + dy];
                    size_t row = (size_t)((z * im->s[1] + y) * im->s[0]);
                    if (held + kx > (int64_t)UINT32_MAX) { /* fold before a partial count could wrap */
                        for (size_t i = 0; i < nh; i++)
                            h[i] += (int64_t)h4[4 * i] + h4[4 * i + 1] + h4[4 * i + 2] + h4[4 * i + 3];
                        memset(h4, 0, nh * 4 * sizeof *h4);
                        held = 0;
                    }
                    held += kx;
                    for (int64_t tx = 0; tx < nhx; tx++) {
                        const int64_t *xi = ax[0].img + kx / 2 + tx * kx;
                        int inside = xi[kx - 1] - xi[0] == kx - 1; /* no mirrored voxel: one contiguous segment */
                        md_clahe_fetch_bins(bins, row, inside ? NULL : xi, inside ? xi[0] : 0, kx, buf);
                        uint32_t *t = h4 + (size_t)tx * nb * 4;
                        int dx = 0;
                        for (; dx + 4 <= kx; dx += 4) {
                            t[4 * buf[dx]]++;
                            t[4 * buf[dx + 1] + 1]++;
                            t[4 * buf[dx + 2] + 2]++;
                            t[4 * buf[dx + 3] + 3]++;
                        }
                        for (; dx < kx; dx++) t[4 * buf[dx]]++;
                    }
                }
            }
            for (int64_t tx = 0; tx < nhx; tx++) {
                int64_t *ht = h + tx * nb;
                const uint32_t *t = h4 + (size_t)tx * nb * 4;
                for (int i = 0; i < nb; i++) ht[i] += (int64_t)t[4 * i] + t[4 * i + 1] + t[4 * i + 2] + t[4 * i + 3];
                clip_histogram(ht, nb, clim);
                double *m = maps + ((tz * im->nh[1] + ty) * nhx + tx) * nb;
                double cum = 0;
                for (int i = 0; i < nb; i++) {
                    cum += (double)ht[i];
                    double v = cum * scale;
                    m[i] = (double)(int64_t)(v > NGRAY - 1 ? NGRAY - 1 : v); /* skimage's astype(int), kept as double */
                }
            }
        }
        free(h), free(h4), free(buf);
    }
}

/* The cell table (AVX-512's blend): for each cell between tile centres
 * (cz, cy, cx: the padded block a voxel falls in) and each bin, the maps of
 * its 8 surrounding tiles as float32 (whole numbers below 2^14, exact), in
 * skimage's edge order. Cell rows in parallel; plain copies. */
typedef struct Cells {
    float *t;        /* aligned start */
    void *raw;       /* what malloc gave */
    int64_t *cell;   /* [sx] x's cell * nb * 8 */
    int32_t *phase;  /* [sx] x's weight phase */
    int64_t *rep;    /* [nph] an x of each phase */
    int64_t nph;
} Cells;

static void free_cells(Cells *c) { free(c->raw), free(c->cell), free(c->phase), free(c->rep); }

static int64_t clamp_tile(int64_t t, int64_t nh) { return t < 0 ? 0 : (t >= nh ? nh - 1 : t); }

/* 1 when built; 0 (nothing held) when too large or out of memory: the
 * blend then gathers from the maps, with the same result. */
static int make_cells(const Image *im, int nb, const double *maps, size_t n, int parallel, Cells *c)
{
    memset(c, 0, sizeof *c);
    int64_t nc[3] = {im->nh[0] + 1, im->nh[1] + 1, im->nh[2] + 1}, sx = im->s[0], kx = im->k[0];
    double bytes = (double)nc[0] * (double)nc[1] * (double)nc[2] * nb * 8 * sizeof(float);
    if (bytes > (double)n * sizeof(float)) return 0; /* small tiles: more maps than voxels */
    c->nph = kx <= sx ? kx : sx;
    c->raw = malloc((size_t)bytes + 64);
    c->cell = malloc((size_t)sx * sizeof *c->cell);
    c->phase = malloc((size_t)sx * sizeof *c->phase);
    c->rep = malloc((size_t)c->nph * sizeof *c->rep);
    if (!c->raw || !c->cell || !c->phase || !c->rep) {
        free_cells(c);
        memset(c, 0, sizeof *c);
        return 0;
    }
    c->t = (float *)(((uintptr_t)c->raw + 63) & ~(uintptr_t)63);
    for (int64_t x = 0; x < sx; x++) {
        int64_t p = x + im->ps[0];
        c->cell[x] = p / kx * nb * 8;
        c->phase[x] = (int32_t)(kx <= sx ? p % kx : x);
        c->rep[c->phase[x]] = x;
    }
    int64_t nh0 = im->nh[0], nh1 = im->nh[1], nh2 = im->nh[2];
#pragma omp parallel for schedule(static) if (parallel && md_par_worth(bytes / 4))
    for (int64_t czy = 0; czy < nc[2] * nc[1]; czy++) {
        int64_t cz = czy / nc[1], cy = czy % nc[1];
        for (int64_t cx = 0; cx < nc[0]; cx++) {
            float *d = c->t + (size_t)((czy * nc[0] + cx) * nb * 8);
            for (int e = 0; e < 8; e++) {
                int64_t tz = clamp_tile(cz - 1 + (e >> 2), nh2), ty = clamp_tile(cy - 1 + ((e >> 1) & 1), nh1),
                        tx = clamp_tile(cx - 1 + (e & 1), nh0);
                const double *m = maps + ((tz * nh1 + ty) * nh0 + tx) * nb;
                for (int b = 0; b < nb; b++) d[b * 8 + e] = (float)m[b];
            }
        }
    }
    return 1;
}

/* Slice z of the blended result, written (as whole numbers) into out (the
 * image's first voxel); its least and largest value into lohi. row: scratch
 * for two rows and, with cells, the weights of each phase. */
static void equalize(const MdClaheBins *bins, const Image *im, const Axis *ax, const MdClaheXTab *xt, int level,
                     int nb, const double *maps, const Cells *cells, int32_t *row, double *w8, void *out, int dbl,
                     int64_t z, int32_t lohi[2])
{
    MdClaheRow r = {.three = im->s[2] > 1 || im->k[2] > 1};
    int64_t tz[2] = {ax[2].t0[z], ax[2].t1[z]}, nhx = im->nh[0], nhy = im->nh[1], sx = im->s[0];
    int64_t ncx = nhx + 1, ncy = nhy + 1, cz = (z + im->ps[2]) / im->k[2];
    r.wz[0] = ax[2].c1[z], r.wz[1] = ax[2].c[z];
    lohi[0] = INT32_MAX, lohi[1] = INT32_MIN;
    for (int64_t y = 0; y < im->s[1]; y++) {
        int64_t ty[2] = {ax[1].t0[y], ax[1].t1[y]};
        r.wy[0] = ax[1].c1[y], r.wy[1] = ax[1].c[y];
        for (int ez = 0; ez < 2; ez++)
            for (int ey = 0; ey < 2; ey++) r.m[ez][ey] = maps + (tz[ez] * nhy + ty[ey]) * nhx * nb;
        if (cells->t) {
            int64_t cy = (y + im->ps[1]) / im->k[1];
            r.cells = cells->t + (size_t)((cz * ncy + cy) * ncx * nb * 8);
            r.w8 = w8;
            md_clahe_phase_weights(&r, xt, cells->rep, cells->nph, w8);
        }
        md_clahe_blend_row(&r, bins, (size_t)((z * im->s[1] + y) * sx), xt, level, sx, out, dbl, row, row + sx, lohi);
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

/* Wide-vector versions of the two streaming loops below, chosen at run
 * time; integer min/max and IEEE division give the same bits in any width. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(MD_NO_CLONES)
#define CLAHE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLAHE_CLONES
#endif
#ifdef _OPENMP
#define SIMD_LH _Pragma("omp simd reduction(min : l) reduction(max : h)")
#else
#define SIMD_LH
#endif

/* Widens [*lo, *hi] to n 8- or 16-bit integers. */
CLAHE_CLONES static void int_range(const void *p, MdDtype t, size_t n, int32_t *lo, int32_t *hi)
{
    int32_t l = *lo, h = *hi;
#define INT_RANGE(T)                                                                         \
    do {                                                                                     \
        const T *x = (const T *)p;                                                           \
        SIMD_LH for (size_t i = 0; i < n; i++) l = x[i] < l ? x[i] : l, h = x[i] > h ? x[i] : h; \
    } while (0)
    switch (t) {
    case MD_UINT8: INT_RANGE(uint8_t); break;
    case MD_INT8: INT_RANGE(int8_t); break;
    case MD_UINT16: INT_RANGE(uint16_t); break;
    default: INT_RANGE(int16_t); break;
    }
#undef INT_RANGE
    *lo = l, *hi = h;
}

/* x = (x - lo) / den over n voxels of a float32 (or float64) output. */
CLAHE_CLONES static void rescale(void *out, int dbl, size_t n, double lo, double den)
{
    if (dbl) {
        double *d = out;
        MD_SIMD for (size_t i = 0; i < n; i++) d[i] = (d[i] - lo) / den;
    } else {
        float *f = out;
        MD_SIMD for (size_t i = 0; i < n; i++) f[i] = (float)(((double)f[i] - lo) / den);
    }
}

/* Least and largest non-NaN value of n voxels from start (lo > hi: none). */
static void value_range(const MdVolume *in, size_t start, size_t n, int parallel, double *lo, double *hi)
{
    size_t nblk = (n + BLOCK - 1) / BLOCK;
    MdDtype t = in->dtype;
    int small = t == MD_UINT8 || t == MD_INT8 || t == MD_UINT16 || t == MD_INT16;
    const void *src = md_volume_data(in);
    *lo = INFINITY, *hi = -INFINITY;
#pragma omp parallel if (parallel && md_par_worth((double)n))
    {
        double buf[BLOCK], l = INFINITY, h = -INFINITY;
        int32_t il = INT32_MAX, ih = INT32_MIN;
#pragma omp for schedule(dynamic, 16)
        for (size_t b = 0; b < nblk; b++) {
            size_t a = start + b * BLOCK, len = b * BLOCK + BLOCK < n ? BLOCK : n - b * BLOCK;
            if (small) {
                int_range((const char *)src + a * md_dtype_size(t), t, len, &il, &ih);
                continue;
            }
            md_rows_to_f64(src, t, a, len, buf);
            for (size_t i = 0; i < len; i++)
                if (buf[i] == buf[i]) l = buf[i] < l ? buf[i] : l, h = buf[i] > h ? buf[i] : h;
        }
        if (il <= ih) l = (double)il, h = (double)ih;
#pragma omp critical
        {
            *lo = l < *lo ? l : *lo;
            *hi = h > *hi ? h : *hi;
        }
    }
}

/* One image of n voxels at start: grey bins, maps, blend, rescale to [0, 1].
 * parallel: use the threads inside (3-D); per-slice calls run serially. */
static MdStatus clahe_image(const MdVolume *in, const int64_t s[3], size_t start, const MdClaheOpts *o,
                            MdVolume *out, int parallel, int *fail, MdCtx *ctx)
{
    Image im;
    setup(&im, s, o);
    Axis ax[3] = {{0}};
    MdDtype t = in->dtype;
    int nb = o->nbins, small = nb <= 256;
    size_t n = (size_t)(s[0] * s[1] * s[2]), nt = (size_t)(im.nh[0] * im.nh[1] * im.nh[2]);
    /* 8- and 16-bit volumes: one table entry per possible value, no stored bins */
    int16_t lut_base = t == MD_INT16 ? INT16_MIN : (t == MD_INT8 ? INT8_MIN : 0);
    size_t nlut = t == MD_UINT8 || t == MD_INT8 ? 256 : (t == MD_UINT16 || t == MD_INT16 ? 65536 : 0);
    uint16_t *lut = nlut ? calloc(nlut + 1, sizeof *lut) : NULL; /* + 1: the gathers read 4 bytes */
    void *q = nlut ? NULL : malloc(n * (small ? 1 : 2));
    double *maps = malloc(nt * (size_t)nb * sizeof *maps);
    int32_t *xoff = malloc((size_t)s[0] * 2 * sizeof *xoff), (*lohi)[2] = malloc((size_t)s[2] * sizeof *lohi);
    int level = md_clahe_blend_level();
    Cells cells = {0};
    MdStatus st = MD_OK;
    if ((nlut ? !lut : !q) || !maps || !xoff || !lohi || !make_axes(&im, ax)) {
        st = MD_ENOMEM;
        goto done;
    }
    if ((double)im.nh[0] * nb > INT32_MAX) level = 0; /* the vector loops' offsets need 32 bits */
    for (int64_t x = 0; x < s[0] && level; x++)
        xoff[x] = (int32_t)(ax[0].t0[x] * nb), xoff[s[0] + x] = (int32_t)(ax[0].t1[x] * nb);
    MdClaheXTab xt = {xoff, xoff + s[0], ax[0].t0, ax[0].t1, nb, ax[0].c1, ax[0].c, NULL, NULL};
    /* the 16-bit levels are monotone in the value: their range is the values' */
    double lo, hi;
    value_range(in, start, n, parallel, &lo, &hi);
    if (!(lo <= hi)) lo = hi = 0;
    int direct = md_dtype_is_float(t) && (lo < -1 || hi > 1); /* skimage refuses these; own range */
    double ulo = direct ? lo : as_uint16(lo, t, hi), uhi = direct ? hi : as_uint16(hi, t, hi);
    int bin_size = 1 + NGRAY / nb;
    const void *src = md_volume_data(in);
    MdClaheBins bins = {small ? MD_CLAHE_Q8 : MD_CLAHE_Q16, q, lut};
    if (lut) {
        for (int64_t k = (int64_t)lo - lut_base; k <= (int64_t)hi - lut_base; k++) /* the values present */
            lut[k] = grey_bin((double)(k + lut_base), t, lo, hi, direct, ulo, uhi, bin_size);
        bins.kind = t == MD_UINT8 ? MD_CLAHE_U8 : t == MD_INT8 ? MD_CLAHE_I8 : t == MD_UINT16 ? MD_CLAHE_U16 : MD_CLAHE_I16;
        bins.p = (const char *)src + start * md_dtype_size(t);
    } else {
        size_t nblk = (n + BLOCK - 1) / BLOCK;
#pragma omp parallel if (parallel && md_par_worth((double)n))
        {
            double buf[BLOCK];
#pragma omp for schedule(dynamic, 16)
            for (size_t b = 0; b < nblk; b++) {
                size_t a = b * BLOCK, len = a + BLOCK < n ? BLOCK : n - a;
                md_rows_to_f64(src, t, start + a, len, buf);
                if (small)
                    for (size_t i = 0; i < len; i++) ((uint8_t *)q)[a + i] = (uint8_t)grey_bin(buf[i], t, lo, hi, direct, ulo, uhi, bin_size);
                else
                    for (size_t i = 0; i < len; i++) ((uint16_t *)q)[a + i] = grey_bin(buf[i], t, lo, hi, direct, ulo, uhi, bin_size);
            }
        }
    }
    tile_maps(&bins, &im, ax, o, maps, parallel, fail);
    if (*fail) goto done;
    int dbl = out->dtype == MD_FLOAT64;
    if (level == 2 && make_cells(&im, nb, maps, n, parallel, &cells)) xt.cell = cells.cell, xt.phase = cells.phase;
    void *obase = (char *)md_volume_data(out) + start * md_dtype_size(out->dtype);
#pragma omp parallel if (parallel && md_par_worth((double)n))
    {
        int32_t *row = malloc((size_t)s[0] * 2 * sizeof *row);
        double *w8 = malloc((size_t)(cells.nph + 1) * 8 * sizeof *w8);
        if (!row || !w8) md_par_fail(fail, MD_ENOMEM);
#pragma omp for schedule(dynamic)
        for (int64_t z = 0; z < s[2]; z++) {
            if (!row || !w8 || md_par_poll_cancel(fail)) continue;
            equalize(&bins, &im, ax, &xt, level, nb, maps, &cells, row, w8, obase, dbl, z, lohi[z]);
            if (parallel && md_par_thread() == 0) md_ctx_progress(ctx, (size_t)z + 1, (size_t)s[2]);
        }
        free(row), free(w8);
    }
    if (*fail) goto done;
    int32_t rlo = INT32_MAX, rhi = INT32_MIN;
    for (int64_t z = 0; z < s[2]; z++) rlo = lohi[z][0] < rlo ? lohi[z][0] : rlo, rhi = lohi[z][1] > rhi ? lohi[z][1] : rhi;
    if (rhi > rlo) {
        double den = (double)(rhi - rlo);
        size_t esz = md_dtype_size(out->dtype);
#pragma omp parallel for schedule(dynamic, 16) if (parallel && md_par_worth((double)n))
        for (size_t a = 0; a < n; a += BLOCK)
            rescale((char *)obase + a * esz, dbl, a + BLOCK < n ? BLOCK : n - a, (double)rlo, den);
    }
done:
    free_axes(ax);
    free_cells(&cells);
    free(q), free(lut), free(maps), free(xoff), free(lohi);
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
#pragma omp parallel for schedule(dynamic) if (md_par_worth((double)slice * (double)nz))
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
