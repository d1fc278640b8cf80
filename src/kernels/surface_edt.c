/* Distances from one surface's points (queries) to the nearest point of the
 * other surface (sites), exact, written only at the queries. The separable
 * lower-envelope transform of Felzenszwalb & Huttenlocher, as in edt.c, but
 * the last pass evaluates only query points and counts their distances
 * right away, so neither a distance map nor a list of distances is made:
 * each thread tallies (distance, weight class) pairs in integers, and the
 * tallies are merged and sorted at the end, so the result does not depend
 * on the thread count.
 * Between passes each point keeps the integer offset (dx, dy) of its nearest
 * site so far; distances are computed from the final offsets summed z, y,
 * x, as scipy.ndimage.distance_transform_edt does. */
#include "surface.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"

#define TILE 64            /* columns gathered together: four cache lines of offsets */
#define NONE16 INT16_MIN   /* no site on this line */
#define NONE32 INT32_MIN

typedef struct Job {
    int64_t n[3], ntiles;
    int planar;
    double sp[3];
    const uint8_t *site, *query;
    int16_t *off;          /* dx, dy per point */
    struct Tally *tally;   /* one per thread */
} Job;

/* Integer counts of (distance, class) pairs: an open-addressing hash. */
typedef struct Tally {
    uint64_t *key;  /* distance bits */
    uint8_t *cls;
    int64_t *count; /* 0: empty slot */
    unsigned bits;
    size_t n;
    size_t last;    /* slot of the last pair seen (runs repeat) */
    int failed;
} Tally;

static inline size_t pair_slot(uint64_t k, uint8_t c, unsigned bits)
{
    return (size_t)(((k ^ ((uint64_t)c << 56)) * 0x9E3779B97F4A7C15ull) >> (64 - bits));
}

static int tally_grow(Tally *t)
{
    unsigned bits = t->bits ? t->bits + 1 : 10;
    size_t cap = (size_t)1 << bits, old = t->bits ? (size_t)1 << t->bits : 0;
    uint64_t *key = malloc(cap * sizeof *key);
    uint8_t *cls = malloc(cap);
    int64_t *count = calloc(cap, sizeof *count);
    if (!key || !cls || !count) {
        free(key), free(cls), free(count);
        return 0;
    }
    for (size_t i = 0; i < old; i++) {
        if (!t->count[i]) continue;
        size_t s = pair_slot(t->key[i], t->cls[i], bits);
        while (count[s]) s = (s + 1) & (cap - 1);
        key[s] = t->key[i], cls[s] = t->cls[i], count[s] = t->count[i];
    }
    free(t->key), free(t->cls), free(t->count);
    t->key = key, t->cls = cls, t->count = count, t->bits = bits, t->last = 0;
    return 1;
}

static void tally_free(Tally *t)
{
    free(t->key), free(t->cls), free(t->count);
    memset(t, 0, sizeof *t);
}

static void tally_add(Tally *t, double d, uint8_t c)
{
    uint64_t k;
    memcpy(&k, &d, sizeof k);
    if (t->count[t->last] && t->key[t->last] == k && t->cls[t->last] == c) {
        t->count[t->last]++;
        return;
    }
    size_t mask = ((size_t)1 << t->bits) - 1, s = pair_slot(k, c, t->bits);
    while (t->count[s] && (t->key[s] != k || t->cls[s] != c)) s = (s + 1) & mask;
    if (!t->count[s]) {
        if (2 * (t->n + 1) > mask + 1) {
            if (!tally_grow(t)) {
                t->failed = 1;
                return;
            }
            tally_add(t, d, c);
            return;
        }
        t->key[s] = k, t->cls[s] = c, t->n++;
    }
    t->count[s]++;
    t->last = s;
}

typedef struct Scratch {
    double *g, *h, *zb, *inv; /* inv[d] = 1 / (2d) */
    uint8_t *want;            /* gathered query flags (final pass), column-major */
    int16_t *a, *b;        /* gathered offsets, column-major (t * len + p) */
    int32_t *v, *win, *res; /* envelope stack, winners, winners per (p, t) */
} Scratch;

static int scratch_new(Scratch *s, int64_t len)
{
    size_t n = (size_t)len;
    s->g = malloc(TILE * n * sizeof *s->g);
    s->h = malloc((n + 1) * sizeof *s->h);
    s->inv = malloc((n + 1) * sizeof *s->inv);
    s->want = malloc(TILE * n);
    s->zb = malloc((n + 1) * sizeof *s->zb);
    s->a = malloc(TILE * n * sizeof *s->a);
    s->b = malloc(TILE * n * sizeof *s->b);
    s->v = malloc((n + 1) * sizeof *s->v);
    s->win = malloc(n * sizeof *s->win);
    s->res = malloc(TILE * n * sizeof *s->res);
    if (!(s->g && s->h && s->inv && s->want && s->zb && s->a && s->b && s->v && s->win && s->res)) return 0;
    /* multiplying by 1 / (2d) instead of dividing: for the integer-valued
     * inputs of isotropic grids the rounding cannot move an intersection
     * across an integer, and elsewhere it moves it by an ulp at most */
    for (size_t d = 1; d <= n; d++) s->inv[d] = 1.0 / (2.0 * (double)d);
    return 1;
}

static void scratch_free(Scratch *s)
{
    free(s->g), free(s->h), free(s->inv), free(s->want), free(s->zb), free(s->a), free(s->b), free(s->v), free(s->win), free(s->res);
}

/* win[p] for p in a..b = the q in lo..hi minimising (p - q)^2 + g[q] over
 * finite g (NONE32: none). */
static void segment(const double *restrict g, int64_t lo, int64_t hi, int64_t a, int64_t b, Scratch *s)
{
    int32_t *restrict v = s->v, *restrict win = s->win;
    double *restrict h = s->h, *restrict zb = s->zb;
    int64_t k = -1;
    for (int64_t q = lo; q <= hi; q++) {
        if (g[q] == HUGE_VAL) continue;
        double dq = (double)q, hq = g[q] + dq * dq, x = -HUGE_VAL;
        while (k >= 0) {
            x = (hq - h[k]) * s->inv[q - v[k]];
            if (x > zb[k]) break;
            k--;
        }
        k++;
        v[k] = (int32_t)q, h[k] = hq, zb[k] = k == 0 ? -HUGE_VAL : x;
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

/* win[p] for a whole column. A point z with g[z] <= 1 wins at z and hides
 * every parabola beyond it (for p and q on either side, (p - q)^2 >=
 * (p - z)^2 + 1), so the column splits into runs of g > 1 solved alone
 * between their two bounding points; dense surfaces cost almost nothing.
 * With want (the final pass), runs holding no wanted point are skipped:
 * their win stays unset. That keeps the last pass near the surfaces. */
static void envelope(const double *restrict g, const uint8_t *want, int64_t n, Scratch *s)
{
    for (int64_t p = 0; p < n;) {
        if (g[p] <= 1) {
            s->win[p] = (int32_t)p;
            p++;
            continue;
        }
        int64_t a = p, any = !want;
        while (p < n && g[p] > 1) any |= want && want[p], p++;
        if (any) segment(g, a > 0 ? a - 1 : 0, p < n ? p : n - 1, a, p - 1, s);
    }
}

/* Nearest site along each row (offset to it; ties go left). */
static void pass_x(Job *j, int *fail)
{
    int64_t nx = j->n[0], nrows = j->n[1] * j->n[2];
#pragma omp parallel for schedule(static) if (md_par_worth((double)(nrows * nx)))
    for (int64_t r = 0; r < nrows; r++) {
        if (md_par_poll_cancel(fail)) continue;
        const uint8_t *m = j->site + r * nx;
        int16_t *o = j->off + 2 * r * nx;
        int64_t last = -1;
        for (int64_t x = 0; x < nx; x++) {
            if (m[x]) last = x;
            o[2 * x] = last < 0 ? NONE16 : (int16_t)(last - x);
            o[2 * x + 1] = 0;
        }
        int64_t next = -1;
        for (int64_t x = nx - 1; x >= 0; x--) {
            if (m[x]) next = x;
            if (next >= 0 && (o[2 * x] == NONE16 || next - x < -o[2 * x])) o[2 * x] = (int16_t)(next - x);
        }
    }
}

/* The distance for offsets (dx, dy, dz), summed z, y, x. */
static inline double dist(const Job *j, int dx, int dy, int dz)
{
    if (dx == NONE16) return HUGE_VAL;
    double a = j->sp[2] * dz, b = j->sp[1] * dy, c = j->sp[0] * dx;
    return sqrt(a * a + b * b + c * c);
}

/* Columns x0..x0+tw-1 of slice z along y; final (2-D): writes the queries. */
static void tile_y(Job *j, Scratch *s, Tally *tl, int64_t z, int64_t tile)
{
    int64_t nx = j->n[0], ny = j->n[1], x0 = tile * TILE, tw = nx - x0 < TILE ? nx - x0 : TILE;
    double ratio = j->sp[0] * j->sp[0] / (j->sp[1] * j->sp[1]);
    for (int64_t y = 0; y < ny; y++) {
        size_t i = (size_t)((z * ny + y) * nx + x0);
        const int16_t *o = j->off + 2 * i;
        for (int64_t t = 0; t < tw; t++) {
            int d = o[2 * t];
            s->a[t * ny + y] = (int16_t)d;
            s->g[t * ny + y] = d == NONE16 ? HUGE_VAL : (double)(d * d) * ratio;
            if (j->planar) s->want[t * ny + y] = j->query[i + (size_t)t] != 0;
        }
    }
    for (int64_t t = 0; t < tw; t++) {
        envelope(s->g + t * ny, j->planar ? s->want + t * ny : NULL, ny, s);
        for (int64_t y = 0; y < ny; y++) s->res[y * TILE + t] = s->win[y];
    }
    for (int64_t y = 0; y < ny; y++) {
        size_t i = (size_t)((z * ny + y) * nx + x0);
        if (j->planar) {
            for (int64_t t = 0; t < tw; t++) {
                uint8_t c = j->query[i + (size_t)t];
                if (!c) continue;
                int32_t q = s->res[y * TILE + t];
                tally_add(tl, q == NONE32 ? HUGE_VAL : dist(j, s->a[t * ny + q], (int)(q - y), 0), c);
            }
            continue;
        }
        int16_t *o = j->off + 2 * i;
        for (int64_t t = 0; t < tw; t++) {
            int32_t q = s->res[y * TILE + t];
            o[2 * t] = q == NONE32 ? NONE16 : s->a[t * ny + q];
            o[2 * t + 1] = (int16_t)(q == NONE32 ? 0 : q - y);
        }
    }
}

/* Columns x0..x0+tw-1 of row y along z; writes the queries. */
static void tile_z(Job *j, Scratch *s, Tally *tl, int64_t y, int64_t tile)
{
    int64_t nx = j->n[0], ny = j->n[1], nz = j->n[2], x0 = tile * TILE, tw = nx - x0 < TILE ? nx - x0 : TILE;
    double w2 = j->sp[2] * j->sp[2], rx = j->sp[0] * j->sp[0] / w2, ry = j->sp[1] * j->sp[1] / w2;
    for (int64_t z = 0; z < nz; z++) {
        size_t i = (size_t)((z * ny + y) * nx + x0);
        const int16_t *o = j->off + 2 * i;
        for (int64_t t = 0; t < tw; t++) {
            int dx = o[2 * t], dy = o[2 * t + 1];
            s->a[t * nz + z] = (int16_t)dx, s->b[t * nz + z] = (int16_t)dy;
            s->g[t * nz + z] = dx == NONE16 ? HUGE_VAL : (double)(dy * dy) * ry + (double)(dx * dx) * rx;
            s->want[t * nz + z] = j->query[i + (size_t)t] != 0;
        }
    }
    for (int64_t t = 0; t < tw; t++) {
        envelope(s->g + t * nz, s->want + t * nz, nz, s);
        for (int64_t z = 0; z < nz; z++) s->res[z * TILE + t] = s->win[z];
    }
    for (int64_t z = 0; z < nz; z++) {
        size_t i = (size_t)((z * ny + y) * nx + x0);
        for (int64_t t = 0; t < tw; t++) {
            uint8_t c = j->query[i + (size_t)t];
            if (!c) continue;
            int32_t q = s->res[z * TILE + t];
            tally_add(tl, q == NONE32 ? HUGE_VAL : dist(j, s->a[t * nz + q], s->b[t * nz + q], (int)(q - z)), c);
        }
    }
}

/* A pass along y (axis 1) or z (axis 2), parallel over tiles of columns. */
static void pass_cols(Job *j, int axis, int *fail)
{
    int64_t outer = axis == 1 ? j->n[2] : j->n[1], len = j->n[axis], ntiles = outer * j->ntiles;
#pragma omp parallel if (md_par_worth((double)(ntiles * TILE * len)))
    {
        Scratch s;
        Tally *tl = &j->tally[md_par_thread()];
        int ok = scratch_new(&s, len) && (tl->bits || tally_grow(tl));
        if (!ok) md_par_fail(fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t t = 0; t < ntiles; t++) {
            if (!ok || md_par_poll_cancel(fail)) continue;
            if (axis == 1)
                tile_y(j, &s, tl, t / j->ntiles, t % j->ntiles);
            else
                tile_z(j, &s, tl, t / j->ntiles, t % j->ntiles);
            if (tl->failed) md_par_fail(fail, MD_ENOMEM);
        }
        scratch_free(&s);
    }
}

void md_surface_work_free(MdSurfWork *w)
{
    free(w->off);
    memset(w, 0, sizeof *w);
}

typedef struct Pair {
    uint64_t key;
    uint8_t cls;
    int64_t count;
} Pair;

static int by_pair(const void *a, const void *b)
{
    const Pair *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->cls > y->cls) - (x->cls < y->cls);
}

/* The merged, sorted tallies as a distance table (weights summed per
 * distance in class order: the same on any thread count). */
static MdStatus merge(Tally *tl, int nt, const double w[256], MdDistTable *out, MdError *err)
{
    size_t total = 0;
    for (int k = 0; k < nt; k++) total += tl[k].n;
    Pair *p = malloc((total ? total : 1) * sizeof *p);
    if (!p) return md_error(err, MD_ENOMEM, "metrics: out of memory merging distance counts");
    size_t m = 0;
    for (int k = 0; k < nt; k++)
        for (size_t i = 0; tl[k].bits && i < ((size_t)1 << tl[k].bits); i++)
            if (tl[k].count[i]) p[m++] = (Pair){tl[k].key[i], tl[k].cls[i], tl[k].count[i]};
    qsort(p, m, sizeof *p, by_pair);
    size_t nd = 0;
    for (size_t i = 0; i < m; i++) nd += i == 0 || p[i].key != p[i - 1].key;
    out->d = malloc((nd ? nd : 1) * sizeof *out->d);
    out->w = malloc((nd ? nd : 1) * sizeof *out->w);
    out->count = malloc((nd ? nd : 1) * sizeof *out->count);
    if (!out->d || !out->w || !out->count) {
        free(p);
        md_dist_table_free(out);
        return md_error(err, MD_ENOMEM, "metrics: out of memory merging distance counts");
    }
    size_t e = (size_t)-1;
    for (size_t i = 0; i < m; i++) {
        if (i == 0 || p[i].key != p[i - 1].key) {
            e++;
            memcpy(&out->d[e], &p[i].key, sizeof(double));
            out->w[e] = 0, out->count[e] = 0;
        }
        int64_t c = p[i].count;
        if (i + 1 < m && p[i + 1].key == p[i].key && p[i + 1].cls == p[i].cls) { /* same pair, two threads */
            p[i + 1].count += c;
            continue;
        }
        out->w[e] += (double)c * w[p[i].cls];
        out->count[e] += c;
    }
    out->n = nd;
    free(p);
    return MD_OK;
}

static int max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

MdStatus md_surface_distances(const uint8_t *site, const uint8_t *query, const int64_t n[3], int planar,
                              const double sp[3], const double w[256], MdSurfWork *work, MdDistTable *t,
                              MdError *err)
{
    memset(t, 0, sizeof *t);
    for (int a = 0; a < 3; a++)
        if (n[a] > 32766)
            return md_error(err, MD_EUNSUPPORTED, "metrics: the surface grid has %lld points on axis %d (at most 32766)",
                            (long long)n[a], a + 1);
    Job j = {{n[0], n[1], planar ? 1 : n[2]}, (n[0] + TILE - 1) / TILE, planar, {sp[0], sp[1], planar ? 1 : sp[2]},
             site, query, NULL, NULL};
    size_t count = (size_t)(j.n[0] * j.n[1] * j.n[2]);
    if (!work->off) work->off = md_surface_big(2 * count * sizeof *work->off);
    int nt = max_threads();
    j.tally = calloc((size_t)nt, sizeof *j.tally);
    if (!work->off || !j.tally) {
        free(j.tally);
        return md_error(err, MD_ENOMEM, "metrics: out of memory for the distances of a %zu-point grid", count);
    }
    j.off = work->off;
    int fail = MD_OK;
    pass_x(&j, &fail);
    if (!fail) pass_cols(&j, 1, &fail);
    if (!fail && !planar) pass_cols(&j, 2, &fail);
    MdStatus st = fail ? md_par_status(fail, "metrics", err) : merge(j.tally, nt, w, t, err);
    for (int k = 0; k < nt; k++) tally_free(&j.tally[k]);
    free(j.tally);
    return st;
}
