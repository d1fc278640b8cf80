/* Binary morphology on bit-packed rows. Every operation reduces to erosion:
 * dilation by S with an empty outside is the complement of the erosion of
 * the complement by S reflected with a full outside. An erosion ANDs, for
 * each x-run (dy, dz, a, len) of the element, the run-window of input row
 * (y+dy, z+dz) shifted by a; run-windows (AND of len consecutive bits) are
 * built by doubling, 64 voxels per word operation. Balls and disks with
 * many runs go through the distance transform instead (edt.c). */
#include "morph.h"

#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/ctx.h"
#include "edt.h"
#include "morph_slices.h"
#include "strel.h"

/* Balls/disks with at least this many x-runs take the distance transform
 * under MD_MORPH_AUTO (about where the two cost the same; see bench/). */
#define EDT_MIN_RUNS 600

/* Packed layout: ny*nz rows of W words, bit x of a row in word x/64, bit
 * x%64. Scratch rows for run-windows have G guard words on each side. */
typedef struct Grid {
    int64_t nx, ny, nz, W, G, S;
} Grid;

static uint64_t fill_word(int bit) { return bit ? ~(uint64_t)0 : 0; }

/* Bits of 8 bytes, bit k set when byte k is non-zero. */
static inline unsigned pack8(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v, lo = 0x7f7f7f7f7f7f7f7fULL;
    memcpy(&v, p, 8);
    v = (((v & lo) + lo) | v) & ~lo;                      /* high bit of each non-zero byte */
    return (unsigned)(((v >> 7) * 0x0102040810204080ULL) >> 56);
#else
    unsigned b = 0;
    for (int k = 0; k < 8; k++) b |= (unsigned)(p[k] != 0) << k;
    return b;
#endif
}

static void pack(const uint8_t *src, const Grid *g, int invert, uint64_t *dst)
{
    int64_t nrows = g->ny * g->nz;
    uint64_t inv = fill_word(invert);
#pragma omp parallel for schedule(static) if (md_par_worth((double)(nrows * g->nx)))
    for (int64_t r = 0; r < nrows; r++) {
        const uint8_t *s = src + r * g->nx;
        uint64_t *d = dst + r * g->W;
        for (int64_t i = 0; i < g->W; i++) {
            int64_t x0 = 64 * i, m = g->nx - x0 < 64 ? g->nx - x0 : 64;
            uint64_t w = 0;
            int64_t k = 0;
            for (; k + 8 <= m; k += 8) w |= (uint64_t)pack8(s + x0 + k) << k;
            for (; k < m; k++) w |= (uint64_t)(s[x0 + k] != 0) << k;
            d[i] = w ^ inv;
        }
    }
}

/* Sets the bits past nx in each row's last word to bit (the outside). */
static void set_pad(uint64_t *p, const Grid *g, int bit)
{
    int r = (int)(g->nx % 64);
    if (r == 0) return;
    uint64_t keep = ((uint64_t)1 << r) - 1;
    for (int64_t row = 0; row < g->ny * g->nz; row++) {
        uint64_t *w = p + row * g->W + g->W - 1;
        *w = bit ? (*w | ~keep) : (*w & keep);
    }
}

static void invert_all(uint64_t *p, const Grid *g)
{
    size_t n = (size_t)(g->ny * g->nz * g->W);
    for (size_t i = 0; i < n; i++) p[i] = ~p[i];
}

static void unpack(const uint64_t *src, const Grid *g, int invert, uint8_t *dst)
{
    static uint64_t lut[256];
    if (!lut[255])
        for (int b = 0; b < 256; b++) {
            uint64_t v = 0;
            for (int k = 0; k < 8; k++) v |= (uint64_t)((b >> k) & 1) << (8 * k);
            lut[b] = v;
        }
    int64_t nrows = g->ny * g->nz;
    uint64_t inv = fill_word(invert);
#pragma omp parallel for schedule(static) if (md_par_worth((double)(nrows * g->nx)))
    for (int64_t r = 0; r < nrows; r++) {
        const uint64_t *s = src + r * g->W;
        uint8_t *d = dst + r * g->nx;
        int64_t x = 0;
        for (; x + 8 <= g->nx; x += 8) {
            uint64_t w = (s[x / 64] ^ inv) >> (x % 64);
            memcpy(d + x, &lut[w & 255], 8);
        }
        for (; x < g->nx; x++) d[x] = (uint8_t)(((s[x / 64] ^ inv) >> (x % 64)) & 1);
    }
}

/* w[i] &= (w >> k)[i] for i < nw: bit x becomes the AND of bits x and x+k.
 * Ascending i reads only words not yet updated. */
static void and_shr(uint64_t *w, int64_t nw, int64_t k)
{
    int64_t q = k / 64;
    int r = (int)(k % 64);
    if (r == 0) {
        for (int64_t i = 0; i < nw; i++) w[i] &= w[i + q];
    } else {
        for (int64_t i = 0; i < nw; i++) w[i] &= (w[i + q] >> r) | (w[i + q + 1] << (64 - r));
    }
}

/* Run-windows of length len of every row of input slice z into win (rows of
 * S words, real words at G): bit x = AND of input bits x .. x+len-1. */
static void windows(const uint64_t *in, const Grid *g, int64_t z, int64_t len, uint64_t fill, uint64_t *win)
{
    for (int64_t y = 0; y < g->ny; y++) {
        uint64_t *w = win + y * g->S;
        for (int64_t i = 0; i < g->G; i++) w[i] = w[g->G + g->W + i] = fill;
        memcpy(w + g->G, in + (z * g->ny + y) * g->W, (size_t)g->W * sizeof *w);
        int64_t p = 1;
        for (; 2 * p <= len; p *= 2) and_shr(w, g->G + g->W, p);
        if (p < len) and_shr(w, g->G + g->W, len - p);
    }
}

/* dst[i] &= bits a .. a+63 of the window row starting at src (word 0 = bit 0). */
static void and_shifted(uint64_t *dst, const uint64_t *src, int64_t W, int64_t a)
{
    int64_t q = a >= 0 ? a / 64 : -((-a + 63) / 64);
    int r = (int)(a - 64 * q);
    const uint64_t *s = src + q;
    if (r == 0) {
        for (int64_t i = 0; i < W; i++) dst[i] &= s[i];
    } else {
        for (int64_t i = 0; i < W; i++) dst[i] &= (s[i] >> r) | (s[i + 1] << (64 - r));
    }
}

/* Output slice z of the erosion: AND of shifted run-windows. */
static void erode_slice(const uint64_t *in, uint64_t *out, const Grid *g, const MdStrelRows *rs, int border,
                        int64_t z, uint64_t *win)
{
    uint64_t *o = out + z * g->ny * g->W;
    size_t slice = (size_t)(g->ny * g->W);
    for (size_t i = 0; i < slice; i++) o[i] = ~(uint64_t)0;
    for (int k = 0; k < rs->n;) {
        int e = k;
        while (e < rs->n && rs->rows[e].dz == rs->rows[k].dz && rs->rows[e].len == rs->rows[k].len) e++;
        int64_t zz = z + rs->rows[k].dz;
        if (zz < 0 || zz >= g->nz) {
            if (!border) {
                memset(o, 0, slice * sizeof *o);
                return;
            }
            k = e;
            continue;
        }
        windows(in, g, zz, rs->rows[k].len, fill_word(border), win);
        for (; k < e; k++) {
            const MdStrelRow *r = &rs->rows[k];
            for (int64_t y = 0; y < g->ny; y++) {
                int64_t yy = y + r->dy;
                if (yy < 0 || yy >= g->ny) {
                    if (!border) memset(o + y * g->W, 0, (size_t)g->W * sizeof *o);
                    continue;
                }
                and_shifted(o + y * g->W, win + yy * g->S + g->G, g->W, r->a);
            }
        }
    }
}

/* out = erosion of in (pad bits already set to border), parallel over z. */
static MdStatus erode_packed(const uint64_t *in, uint64_t *out, const Grid *g, const MdStrelRows *rs, int border,
                             MdError *err)
{
    int fail = MD_OK;
    /* a word packs 64 voxels, each a quarter of a voxel's usual cost */
#pragma omp parallel if (md_par_worth((double)(g->ny * g->nz * g->W) * 64 / MD_PAR_CHEAP))
    {
        uint64_t *win = malloc((size_t)(g->ny * g->S) * sizeof *win);
        if (!win) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t z = 0; z < g->nz; z++) {
            if (md_par_stopped(&fail) || md_par_poll_cancel(&fail)) continue;
            erode_slice(in, out, g, rs, border, z, win);
        }
        free(win);
    }
    if (fail == MD_ENOMEM) return md_error(err, MD_ENOMEM, "out of memory in morphology");
    return md_par_status(fail, "morphology", err);
}

/* A step: erosion (with border bit) or dilation. */
typedef struct Step {
    int dilate, border;
} Step;

static int make_steps(const MdMorphOpts *o, Step *steps)
{
    Step e = {0, o->skimage}, d = {1, 0};
    int n = 0, it = o->iterations;
    Step first = (o->op == MD_MORPH_DILATE || o->op == MD_MORPH_CLOSE) ? d : e;
    for (int i = 0; i < it; i++) steps[n++] = first;
    if (o->op == MD_MORPH_OPEN || o->op == MD_MORPH_CLOSE)
        for (int i = 0; i < it; i++) steps[n++] = o->op == MD_MORPH_OPEN ? d : e;
    return n;
}

/* The run method: pack once, erode back and forth, unpack once. */
static MdStatus run_bits(const uint8_t *src, uint8_t *dst, const int64_t n[3], const MdVolume *se,
                         const Step *steps, int nsteps, MdError *err)
{
    MdStrelRows rs[2] = {{0, NULL}, {0, NULL}};
    MdStatus st = md_strel_rows(se, 0, &rs[0], err);
    if (st == MD_OK) st = md_strel_rows(se, 1, &rs[1], err);
    int64_t ext = 0;
    for (int k = 0; st == MD_OK && k < rs[0].n; k++) {
        const MdStrelRow *r = &rs[0].rows[k];
        int64_t m = r->a < 0 ? -r->a : r->a + r->len;
        if (m > ext) ext = m;
    }
    Grid g = {n[0], n[1], n[2], (n[0] + 63) / 64, 0, 0};
    g.G = 2 * ext / 64 + 2;
    g.S = g.W + 2 * g.G;
    size_t words = (size_t)(g.ny * g.nz * g.W);
    uint64_t *a = st == MD_OK ? malloc(words * 8) : NULL, *b = a ? malloc(words * 8) : NULL;
    if (st == MD_OK && !b) st = md_error(err, MD_ENOMEM, "out of memory in morphology (%zu bytes)", 16 * words);
    if (st == MD_OK) {
        int inv = steps[0].dilate;
        pack(src, &g, inv, a);
        for (int s = 0; s < nsteps && st == MD_OK; s++) {
            if (inv != steps[s].dilate) invert_all(a, &g);
            inv = steps[s].dilate;
            int border = steps[s].dilate ? 1 : steps[s].border;
            set_pad(a, &g, border);
            st = erode_packed(a, b, &g, &rs[steps[s].dilate], border, err);
            uint64_t *t = a;
            a = b, b = t;
        }
        if (st == MD_OK) unpack(a, &g, inv, dst);
    }
    free(a);
    free(b);
    md_strel_rows_free(&rs[0]);
    md_strel_rows_free(&rs[1]);
    return st;
}

/* The distance-transform method for disk/ball(r) (voxel units, exact). */
static MdStatus run_edt(const uint8_t *src, uint8_t *dst, const int64_t n[3], int planar, int r,
                        const Step *steps, int nsteps, MdError *err)
{
    size_t count = (size_t)(n[0] * n[1] * n[2]);
    uint8_t *tmp = nsteps > 1 ? malloc(count) : NULL;
    if (nsteps > 1 && !tmp) return md_error(err, MD_ENOMEM, "out of memory in morphology");
    MdStatus st = MD_OK;
    const uint8_t *cur = src;
    double r2 = (double)r * r;
    for (int s = 0; s < nsteps && st == MD_OK; s++) {
        /* the last step writes dst; earlier ones alternate so no step reads what it writes */
        uint8_t *to = ((nsteps - 1 - s) % 2 == 0) ? dst : tmp;
        if (steps[s].dilate)
            st = md_edt_threshold(cur, n, planar, 1, 0, r2, 1, to, err);
        else
            st = md_edt_threshold(cur, n, planar, 0, !steps[s].border, r2, 0, to, err);
        cur = to;
    }
    free(tmp);
    return st;
}

static MdStatus check_args(const MdVolume *mask, const MdVolume *se, const MdMorphOpts *o, const MdVolume *out,
                           int *flat, MdError *err)
{
    if (mask->dtype != MD_UINT8 || mask->ndim < 2 || mask->ndim > 3)
        return md_error(err, MD_EINVAL, "morphology: expected a 2-D or 3-D uint8 mask");
    if (out->dtype != MD_UINT8 || md_volume_count(out) != md_volume_count(mask))
        return md_error(err, MD_EINVAL, "morphology: the output must be uint8, shaped like the mask");
    if (se->ndim < 2 || se->ndim > 3)
        return md_error(err, MD_EINVAL, "the structuring element must be 2-D or 3-D (got %d-D)", se->ndim);
    *flat = se->ndim == 2 || se->dim[2] == 1;
    if (!*flat && mask->ndim == 2)
        return md_error(err, MD_EINVAL, "a 3-D structuring element needs a 3-D mask (use a 2-D one, e.g. disk)");
    if (!*flat && o->axis != 0)
        return md_error(err, MD_EINVAL, "per-slice morphology needs a 2-D structuring element (e.g. disk)");
    if (o->axis < 0 || o->axis > 3) return md_error(err, MD_EINVAL, "axis must be 1, 2 or 3 (got %d)", o->axis);
    if (o->iterations < 1 || o->iterations > 1000)
        return md_error(err, MD_EINVAL, "iterations must be 1 to 1000 (got %d)", o->iterations);
    return MD_OK;
}

MdStatus md_morph(const MdVolume *mask, const MdVolume *se, const MdMorphOpts *o, MdVolume *out, MdError *err)
{
    int flat = 0;
    MdStatus st = check_args(mask, se, o, out, &flat, err);
    if (st != MD_OK) return st;
    int64_t n[3] = {mask->dim[0], mask->dim[1], mask->ndim == 3 ? mask->dim[2] : 1}, m[3];
    int axis = mask->ndim == 3 && (o->axis == 1 || o->axis == 2) ? o->axis : 3;
    md_slices_dims(n, axis, m);
    int eflat, r = md_strel_ball_radius(se, &eflat);
    if (o->method == MD_MORPH_EDT && r < 0)
        return md_error(err, MD_EINVAL, "method 'edt' needs a ball or disk structuring element");
    Step *steps = malloc(2 * (size_t)o->iterations * sizeof *steps);
    size_t count = md_volume_count(mask);
    uint8_t *src = md_volume_data(mask), *dst = md_volume_data(out);
    if (axis != 3) {
        src = malloc(count);
        dst = malloc(count);
    }
    if (!steps || !src || !dst) {
        st = md_error(err, MD_ENOMEM, "out of memory in morphology");
        goto done;
    }
    if (axis != 3) md_slices_gather(md_volume_data(mask), 1, n, axis, src);
    int nsteps = make_steps(o, steps);
    int use_edt = o->method == MD_MORPH_EDT;
    if (o->method == MD_MORPH_AUTO && r >= 0) {
        MdStrelRows rs;
        if ((st = md_strel_rows(se, 0, &rs, err)) != MD_OK) goto done;
        use_edt = rs.n >= EDT_MIN_RUNS;
        md_strel_rows_free(&rs);
    }
    if (use_edt)
        st = run_edt(src, dst, m, flat, r, steps, nsteps, err);
    else
        st = run_bits(src, dst, m, se, steps, nsteps, err);
    if (st == MD_OK && axis != 3) md_slices_scatter(dst, 1, n, axis, md_volume_data(out));
done:
    free(steps);
    if (axis != 3) {
        free(src);
        free(dst);
    }
    return st;
}
