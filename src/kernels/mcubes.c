/* Marching cubes in two parallel passes over layers of cubes (the cubes
 * between sample planes k and k+1), the flying-edges scheme: the first
 * counts crossed edges and triangles per layer, a serial prefix sum turns
 * the counts into offsets, the second writes vertices and faces at those
 * offsets into buffers of the exact size. Vertex numbering is fixed by
 * position, never by thread: plane by plane, row by row, a row's x edges
 * then its y edges, then the z edges of the layer row by row. An edge's
 * vertex number is its row's first number plus the crossings before it in
 * the row, counted while walking the row, so no per-edge index array is
 * kept. Inside flags are bytes 0/1 handled eight at a time; a uint8 mask of
 * 0/1 at a level in (0, 1] is its own flags (no copy).
 * Case tables: mcubes_table.c. Measures and editing: mesh.c. */
#include "mcubes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "mcubes_table.h"

/* Word-at-a-time scans find bytes by their bit position (little-endian). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define MC_WORDS 1
#else
#define MC_WORDS 0
#endif

static const uint64_t LOW_BITS = 0x0101010101010101ull;

typedef struct Grid {
    const MdVolume *v;
    const MdMcubesOpts *o;
    int64_t n[3];      /* samples per axis after step */
    int64_t lo[3];     /* voxel index of sample 0 */
    size_t plane;      /* n[0] * n[1] */
    double m[9], t[3]; /* index -> world: world = m * idx + t */
    int flip;          /* the index->world map mirrors: reverse the winding */
    int direct;        /* uint8, step 1, inside = value >= 1: 0/1 rows are their own flags */
    const unsigned char *zeros; /* a row of outside flags */
    unsigned char *outside;     /* bit per row (k * ny + y): all outside */
    int outside_known;          /* 0: the counting pass sets those bits; 1: the writing pass reads them */
} Grid;

/* Where a row of inside flags changes: flags before lo all equal first,
 * flags after hi all equal last (lo = n, hi = -1 for a uniform row). Every
 * crossing near the row lies within [lo - 1, hi]: the trimming of flying
 * edges. */
typedef struct RowSpan {
    int32_t lo, hi;
    unsigned char first, last;
} RowSpan;

/* One loaded sample plane: the inside flags of each row (in buf, or the
 * volume's own row in direct mode) and the spans of its rows. Values are
 * read from the volume only where an edge crosses. */
typedef struct Plane {
    int64_t k; /* which plane, -1: none */
    const unsigned char **row;
    unsigned char *buf;
    RowSpan *span;
} Plane;

/* Per-thread scratch: two planes (the layer's lower and upper) and the
 * first vertex number of each row's x edges and y edges in both planes and
 * of its z edges in the layer. */
typedef struct Scratch {
    Plane p[2];
    int32_t *xb[2], *yb[2], *zb;
} Scratch;

static void scratch_free(Scratch *s)
{
    for (int i = 0; i < 2; i++) {
        free(s->p[i].row);
        free(s->p[i].buf);
        free(s->p[i].span);
        free(s->xb[i]);
        free(s->yb[i]);
    }
    free(s->zb);
    memset(s, 0, sizeof *s);
}

static int scratch_new(Scratch *s, const Grid *g)
{
    memset(s, 0, sizeof *s);
    size_t ny = (size_t)g->n[1];
    int ok = 1;
    for (int i = 0; i < 2; i++) {
        s->p[i].k = -1;
        ok &= (s->p[i].row = malloc(ny * sizeof *s->p[i].row)) != NULL;
        ok &= (s->p[i].buf = malloc(g->plane)) != NULL; /* pages untouched in direct mode */
        ok &= (s->p[i].span = malloc(ny * sizeof(RowSpan))) != NULL;
        ok &= (s->xb[i] = malloc(ny * sizeof(int32_t))) != NULL;
        ok &= (s->yb[i] = malloc(ny * sizeof(int32_t))) != NULL;
    }
    ok &= (s->zb = malloc(ny * sizeof(int32_t))) != NULL;
    if (!ok) scratch_free(s);
    return ok;
}

/* ---- inside flags ---------------------------------------------------------- */

/* Inside flags of n samples of type T from src (stride step): value >=
 * level, or == level in label mode. Integer types compare against the
 * level rounded up (or the exact label) in their own type, which gives the
 * same flags and lets the loop vectorise. */
#define FLAG_CASE(tag, name, ctype, isf)                                                    \
    case MD_##tag: {                                                                        \
        const ctype *q = (const ctype *)src + start;                                        \
        if (isf || label) {                                                                 \
            for (int64_t x = 0; x < n; x++) {                                               \
                double d = (double)q[x * step];                                             \
                f[x] = label ? d == level : d >= level;                                     \
            }                                                                               \
        } else {                                                                            \
            double c = ceil(level);                                                         \
            if (c <= (double)type_min(t)) {                                                 \
                memset(f, 1, (size_t)n);                                                    \
            } else if (c > (double)type_max(t)) {                                           \
                memset(f, 0, (size_t)n);                                                    \
            } else {                                                                        \
                ctype th = (ctype)c;                                                        \
                if (step == 1)                                                              \
                    for (int64_t x = 0; x < n; x++) f[x] = q[x] >= th;                      \
                else                                                                        \
                    for (int64_t x = 0; x < n; x++) f[x] = q[x * step] >= th;               \
            }                                                                               \
        }                                                                                   \
    } break;

static double type_min(MdDtype t)
{
    switch (t) {
    case MD_INT8: return -128;
    case MD_INT16: return -32768;
    case MD_INT32: return -2147483648.0;
    default: return 0;
    }
}

static double type_max(MdDtype t)
{
    switch (t) {
    case MD_UINT8: return 255;
    case MD_INT8: return 127;
    case MD_UINT16: return 65535;
    case MD_INT16: return 32767;
    case MD_UINT32: return 4294967295.0;
    default: return 2147483647.0;
    }
}

static void flag_row(const void *src, MdDtype t, size_t start, int64_t n, int64_t step, double level, int label,
                     unsigned char *f)
{
    switch (t) {
        MD_DTYPE_LIST(FLAG_CASE)
    default: break;
    }
}
#undef FLAG_CASE

static inline uint64_t load8(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* The number of set bytes of a word whose bytes are 0 or 1. */
static inline int64_t byte_sum(uint64_t w) { return (int64_t)((w * LOW_BITS) >> 56); }

/* Index of the first of f[0..n) that differs from b, n if none (eight at a time). */
static int64_t first_not(const unsigned char *f, int64_t n, unsigned char b)
{
    uint64_t pat = b ? LOW_BITS : 0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        if (load8(f + i) != pat) break;
    while (i < n && f[i] == b) i++;
    return i;
}

/* Index of the last of f[0..n) that differs from b, -1 if none. */
static int64_t last_not(const unsigned char *f, int64_t n, unsigned char b)
{
    uint64_t pat = b ? LOW_BITS : 0;
    int64_t i = n;
    for (; i >= 8; i -= 8)
        if (load8(f + i - 8) != pat) break;
    while (i > 0 && f[i - 1] == b) i--;
    return i - 1;
}

/* The OR of the n bytes at q. */
static uint64_t or_bytes(const unsigned char *q, int64_t n)
{
    uint64_t w = 0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) w |= load8(q + i);
    for (; i < n; i++) w |= q[i];
    return w;
}

/* Row y of p is all outside: the shared row of zeros. */
static void outside_row(const Grid *g, Plane *p, int64_t y)
{
    p->row[y] = g->zeros;
    p->span[y] = (RowSpan){(int32_t)g->n[0], -1, 0, 0};
}

/* Loads sample plane k's flags and row spans into p. The counting pass
 * notes the all-outside rows in g->outside (bit k * ny + y); the writing
 * pass then skips them unread. */
static void load_plane(const Grid *g, int64_t k, Plane *p)
{
    const MdVolume *v = g->v;
    const MdMcubesOpts *o = g->o;
    int64_t step = o->step, nx = g->n[0], ny = g->n[1];
    size_t z = (size_t)(g->lo[2] + k * step), dx = (size_t)v->dim[0], dy = (size_t)v->dim[1];
    const void *data = md_volume_data(v);
    double level = o->label_mode ? o->label : o->level;
    for (int64_t y = 0; y < ny; y++) {
        size_t r = (size_t)(k * ny + y);
        if (g->outside_known && (g->outside[r >> 3] >> (r & 7) & 1)) {
            outside_row(g, p, y);
            continue;
        }
        size_t start = (z * dy + (size_t)(g->lo[1] + y * step)) * dx + (size_t)g->lo[0];
        RowSpan *sp = &p->span[y];
        if (o->label_mode && o->rows && !md_label_rows_has(o->rows, g->lo[1] + y * step, (int64_t)z, o->label)) {
            outside_row(g, p, y); /* the label is not in this row */
            continue;
        }
        if (g->direct) {
            const unsigned char *q = (const unsigned char *)data + start;
            uint64_t any = or_bytes(q, nx);
            if (any == 0) { /* the common all-outside row: no scan for its span */
                outside_row(g, p, y);
                goto note;
            }
            if ((any & ~LOW_BITS) == 0) { /* only 0 and 1: the row is its own flags */
                p->row[y] = q;
                goto span;
            }
        }
        flag_row(data, v->dtype, start, nx, step, level, o->label_mode, p->buf + y * nx);
        p->row[y] = p->buf + y * nx;
    span:;
        const unsigned char *f = p->row[y];
        sp->first = f[0];
        sp->last = f[nx - 1];
        sp->lo = (int32_t)first_not(f, nx, f[0]);
        sp->hi = (int32_t)last_not(f, nx, f[nx - 1]);
        if (sp->lo < nx || sp->first) continue;
    note:
        if (!g->outside_known) /* threads loading the same plane set the same bits */
            __atomic_fetch_or(&g->outside[r >> 3], (unsigned char)(1u << (r & 7)), __ATOMIC_RELAXED);
    }
    p->k = k;
}

/* Makes plane k the scratch's plane slot (0 lower, 1 upper), reusing the
 * other slot's plane when it holds k (the next layer's lower plane is this
 * layer's upper one). */
static Plane *use_plane(const Grid *g, Scratch *s, int slot, int64_t k)
{
    if (s->p[slot].k != k) {
        if (s->p[1 - slot].k == k) {
            Plane t = s->p[slot];
            s->p[slot] = s->p[1 - slot];
            s->p[1 - slot] = t;
        } else {
            load_plane(g, k, &s->p[slot]);
        }
    }
    return &s->p[slot];
}

/* ---- where rows can cross ---------------------------------------------------- */

/* The x range [*xs, *xe] outside which rows a and b (spans) agree with
 * each other everywhere and are constant: nothing crosses there. */
static void pair_range(const RowSpan *a, const RowSpan *b, int64_t n, int64_t *xs, int64_t *xe)
{
    int64_t lo = a->lo < b->lo ? a->lo : b->lo, hi = a->hi > b->hi ? a->hi : b->hi;
    *xs = a->first == b->first ? lo : 0;
    *xe = a->last == b->last ? hi : n - 1;
}

/* The cubes of row y between planes a and b that can hold triangles. Left
 * of *xs all four sample rows are constant and equal, so no edge of these
 * rows crosses before column *xs: the walk along the row starts every
 * edge counter at its row's first number there. */
static void cube_range(const Plane *a, const Plane *b, int64_t y, int64_t nx, int64_t *xs, int64_t *xe)
{
    int64_t s1, e1, s2, e2, s3, e3;
    pair_range(&a->span[y], &a->span[y + 1], nx, &s1, &e1);
    pair_range(&b->span[y], &b->span[y + 1], nx, &s2, &e2);
    pair_range(&a->span[y], &b->span[y], nx, &s3, &e3);
    int64_t s = s1 < s2 ? s1 : s2, e = e1 > e2 ? e1 : e2;
    s = s < s3 ? s : s3;
    e = e > e3 ? e : e3;
    *xs = s > 0 ? s - 1 : 0;
    *xe = e < nx - 2 ? e : nx - 2;
}

/* Columns x in [s, e] where rows f and h differ; h = f + 1 counts the x
 * edges of row f (then e <= nx - 2). */
static int64_t count_diff(const unsigned char *f, const unsigned char *h, int64_t s, int64_t e)
{
    int64_t n = 0, x = s;
    for (; x + 7 <= e; x += 8) n += byte_sum(load8(f + x) ^ load8(h + x));
    for (; x <= e; x++) n += f[x] != h[x];
    return n;
}

/* Calls put(x) for each column x in [s, e] where rows f and h differ, in
 * increasing x. */
#define FOR_EACH_DIFF(f, h, s, e, put)                                                       \
    do {                                                                                     \
        int64_t x_ = (s), e_ = (e);                                                          \
        while (x_ <= e_) {                                                                   \
            if (MC_WORDS && x_ + 7 <= e_) {                                                  \
                uint64_t d_ = load8((f) + x_) ^ load8((h) + x_);                             \
                while (d_) {                                                                 \
                    int64_t x = x_ + (__builtin_ctzll(d_) >> 3);                             \
                    put;                                                                     \
                    d_ &= d_ - 1;                                                            \
                }                                                                            \
                x_ += 8;                                                                     \
            } else {                                                                         \
                if ((f)[x_] != (h)[x_]) {                                                    \
                    int64_t x = x_;                                                          \
                    put;                                                                     \
                }                                                                            \
                x_++;                                                                        \
            }                                                                                \
        }                                                                                    \
    } while (0)

/* ---- vertices ------------------------------------------------------------------ */

#define VALUE_CASE(tag, name, ctype, isf) \
    case MD_##tag: return (double)((const ctype *)d)[i];

static inline double value_at(const void *d, MdDtype t, size_t i)
{
    switch (t) {
        MD_DTYPE_LIST(VALUE_CASE)
    default: return 0;
    }
}
#undef VALUE_CASE

/* Where along the edge from sample (x, y, k) to the next sample on axis
 * `axis` the level lies. */
static double cross_at(const Grid *g, int64_t x, int64_t y, int64_t k, int axis)
{
    if (g->o->label_mode) return 0.5;
    const MdVolume *v = g->v;
    int64_t s = g->o->step;
    size_t dx = (size_t)v->dim[0], dy = (size_t)v->dim[1];
    size_t i = ((size_t)(g->lo[2] + k * s) * dy + (size_t)(g->lo[1] + y * s)) * dx + (size_t)(g->lo[0] + x * s);
    size_t j = i + (axis == 0 ? (size_t)s : axis == 1 ? (size_t)s * dx : (size_t)s * dx * dy);
    const void *d = md_volume_data(v);
    double a = value_at(d, v->dtype, i), b = value_at(d, v->dtype, j);
    double t = (g->o->level - a) / (b - a);
    return isfinite(t) ? t : 0.5;
}

static void put_vertex(const Grid *g, float *out, double i, double j, double k)
{
    for (int r = 0; r < 3; r++)
        out[r] = (float)(g->m[3 * r] * i + g->m[3 * r + 1] * j + g->m[3 * r + 2] * k + g->t[r]);
}

/* Numbers plane p's in-plane crossings from id, row by row (x edges, then
 * y edges to the next row), records each row's first numbers in xb/yb
 * (when given) and writes the vertices (when verts is given). Returns the
 * next free number. */
static int64_t number_plane(const Grid *g, const Plane *p, int32_t *xb, int32_t *yb, int64_t id, float *verts)
{
    int64_t nx = g->n[0], ny = g->n[1], k = p->k;
    for (int64_t y = 0; y < ny; y++) {
        const unsigned char *f = p->row[y];
        const RowSpan *sp = &p->span[y];
        if (xb) xb[y] = (int32_t)id;
        if (sp->lo < nx) {
            if (verts) {
                FOR_EACH_DIFF(f, f + 1, sp->lo - 1, sp->hi, {
                    put_vertex(g, verts + 3 * id, (double)x + cross_at(g, x, y, k, 0), (double)y, (double)k);
                    id++;
                });
            } else {
                id += count_diff(f, f + 1, sp->lo - 1, sp->hi);
            }
        }
        if (yb) yb[y] = (int32_t)id;
        if (y + 1 < ny) {
            const unsigned char *h = p->row[y + 1];
            int64_t s, e;
            pair_range(sp, &p->span[y + 1], nx, &s, &e);
            if (verts) {
                FOR_EACH_DIFF(f, h, s, e, {
                    put_vertex(g, verts + 3 * id, (double)x, (double)y + cross_at(g, x, y, k, 1), (double)k);
                    id++;
                });
            } else {
                id += count_diff(f, h, s, e);
            }
        }
    }
    return id;
}

/* Numbers the z edges between planes a and b (= a + 1) from id, row by row,
 * as number_plane does. */
static int64_t number_z(const Grid *g, const Plane *a, const Plane *b, int32_t *zb, int64_t id, float *verts)
{
    int64_t nx = g->n[0], ny = g->n[1], k = a->k;
    for (int64_t y = 0; y < ny; y++) {
        const unsigned char *f = a->row[y], *h = b->row[y];
        int64_t s, e;
        pair_range(&a->span[y], &b->span[y], nx, &s, &e);
        if (zb) zb[y] = (int32_t)id;
        if (verts) {
            FOR_EACH_DIFF(f, h, s, e, {
                put_vertex(g, verts + 3 * id, (double)x, (double)y, (double)k + cross_at(g, x, y, k, 2));
                id++;
            });
        } else {
            id += count_diff(f, h, s, e);
        }
    }
    return id;
}

/* ---- cubes ---------------------------------------------------------------------- */

/* A column's code: its four samples a0 (y, plane a), a1 (y + 1, a), b0, b1
 * as bits 0-3. The tables number corners x | y << 1 | z << 2, so a cube's
 * case is the left column's code spread to the even bits and the right
 * column's to the odd bits. */
static const unsigned char spread[16] = {0, 1, 4, 5, 16, 17, 20, 21, 64, 65, 68, 69, 80, 81, 84, 85};

/* The cube row y between planes a and b: its four sample rows, and the
 * edge counters (next vertex numbers) of its four x-edge rows, two y-edge
 * rows and two z-edge rows. */
typedef struct CubeRow {
    const unsigned char *a0, *a1, *b0, *b1;
    int32_t ex[4], ey[2], ez[2];
} CubeRow;

/* True when the eight cubes from x on are all inside or all outside
 * (needs columns x to x + 8). */
static inline int eight_empty(const CubeRow *r, int64_t x)
{
    uint64_t c = load8(r->a0 + x) | load8(r->a1 + x) << 1 | load8(r->b0 + x) << 2 | load8(r->b1 + x) << 3;
    uint64_t d = load8(r->a0 + x + 1) | load8(r->a1 + x + 1) << 1 | load8(r->b0 + x + 1) << 2 |
                 load8(r->b1 + x + 1) << 3;
    return c == d && (c & LOW_BITS) * 15 == c;
}

static inline int cube_case(const CubeRow *r, int64_t x)
{
    int l = r->a0[x] | r->a1[x] << 1 | r->b0[x] << 2 | r->b1[x] << 3;
    int h = r->a0[x + 1] | r->a1[x + 1] << 1 | r->b0[x + 1] << 2 | r->b1[x + 1] << 3;
    return spread[l] | spread[h] << 1;
}

/* Triangles of the cubes between planes a and b. */
static int64_t count_cubes(const Grid *g, const MdMcTable *tab, const Plane *a, const Plane *b)
{
    int64_t nx = g->n[0], nt = 0;
    for (int64_t y = 0; y + 1 < g->n[1]; y++) {
        int64_t xs, xe;
        cube_range(a, b, y, nx, &xs, &xe);
        CubeRow r = {a->row[y], a->row[y + 1], b->row[y], b->row[y + 1], {0}, {0}, {0}};
        for (int64_t x = xs; x <= xe;) {
            if (x + 7 <= xe && eight_empty(&r, x)) {
                x += 8;
                continue;
            }
            nt += tab->cases[cube_case(&r, x)].ntri;
            x++;
        }
    }
    return nt;
}

/* Writes the faces of the cubes between planes a and b at f; s holds the
 * rows' first vertex numbers (xb, yb of both planes, zb). */
static void emit_cubes(const Grid *g, const MdMcTable *tab, const Plane *a, const Plane *b, const Scratch *s,
                       int32_t *f)
{
    int64_t nx = g->n[0];
    const int32_t *xa = s->xb[0], *ya = s->yb[0], *xb = s->xb[1], *yb = s->yb[1], *zb = s->zb;
    int o1 = g->flip ? 2 : 1, o2 = g->flip ? 1 : 2;
    for (int64_t y = 0; y + 1 < g->n[1]; y++) {
        int64_t xs, xe;
        cube_range(a, b, y, nx, &xs, &xe);
        CubeRow r = {a->row[y], a->row[y + 1], b->row[y], b->row[y + 1],
                     {xa[y], xa[y + 1], xb[y], xb[y + 1]}, {ya[y], yb[y]}, {zb[y], zb[y + 1]}};
        for (int64_t x = xs; x <= xe;) {
            if (x + 7 <= xe && eight_empty(&r, x)) {
                x += 8; /* no edge of these columns crosses: the counters stay */
                continue;
            }
            int a0 = r.a0[x], a1 = r.a1[x], b0 = r.b0[x], b1 = r.b1[x];
            int dya = a0 != a1, dyb = b0 != b1, dz0 = a0 != b0, dz1 = a1 != b1;
            const MdMcCase *cs = &tab->cases[cube_case(&r, x)];
            if (cs->ntri) {
                int32_t ev[12] = {r.ex[0], r.ex[1], r.ex[2], r.ex[3],
                                  r.ey[0], r.ey[0] + dya, r.ey[1], r.ey[1] + dyb,
                                  r.ez[0], r.ez[0] + dz0, r.ez[1], r.ez[1] + dz1};
                for (int t = 0; t < cs->ntri; t++) {
                    f[0] = ev[cs->tri[t][0]];
                    f[1] = ev[cs->tri[t][o1]];
                    f[2] = ev[cs->tri[t][o2]];
                    f += 3;
                }
            }
            r.ex[0] += a0 != r.a0[x + 1];
            r.ex[1] += a1 != r.a1[x + 1];
            r.ex[2] += b0 != r.b0[x + 1];
            r.ex[3] += b1 != r.b1[x + 1];
            r.ey[0] += dya;
            r.ey[1] += dyb;
            r.ez[0] += dz0;
            r.ez[1] += dz1;
            x++;
        }
    }
}

/* ---- the passes ------------------------------------------------------------------ */

/* Counts of layer k: in-plane crossings of plane k, z crossings k -> k+1,
 * triangles of the cubes between. */
typedef struct LayerCount {
    int64_t verts, tris;
} LayerCount;

static void count_layer(const Grid *g, const MdMcTable *tab, int64_t k, Scratch *s, LayerCount *out)
{
    const Plane *a = use_plane(g, s, 0, k);
    int64_t nv = number_plane(g, a, NULL, NULL, 0, NULL), nt = 0;
    if (k + 1 < g->n[2]) {
        const Plane *b = use_plane(g, s, 1, k + 1);
        nv = number_z(g, a, b, NULL, nv, NULL);
        nt = count_cubes(g, tab, a, b);
    }
    out->verts = nv;
    out->tris = nt;
}

static void swap_planes(Scratch *s)
{
    Plane p = s->p[0];
    s->p[0] = s->p[1];
    s->p[1] = p;
    int32_t *t = s->xb[0];
    s->xb[0] = s->xb[1];
    s->xb[1] = t;
    t = s->yb[0];
    s->yb[0] = s->yb[1];
    s->yb[1] = t;
}

/* Writes the layers k0 .. k1-1: the vertices of planes k0 .. k1-1 and of
 * the z edges after each, the faces of their cubes. Plane k1 is numbered
 * for the last layer's faces; its vertices belong to the next block. */
static void emit_block(const Grid *g, const MdMcTable *tab, int64_t k0, int64_t k1, Scratch *s, const int64_t *vbase,
                       const int64_t *tbase, float *verts, int32_t *faces, MdCtx *ctx, int *fail, size_t *done)
{
    int64_t nz = g->n[2];
    load_plane(g, k0, &s->p[0]);
    int64_t id = number_plane(g, &s->p[0], s->xb[0], s->yb[0], vbase[k0], verts);
    for (int64_t k = k0; k < k1; k++) {
        if (md_par_stopped(fail) || md_par_poll_cancel(fail)) return;
        if (k + 1 < nz) {
            load_plane(g, k + 1, &s->p[1]);
            number_z(g, &s->p[0], &s->p[1], s->zb, id, verts);
            id = number_plane(g, &s->p[1], s->xb[1], s->yb[1], vbase[k + 1], k + 1 < k1 ? verts : NULL);
            emit_cubes(g, tab, &s->p[0], &s->p[1], s, faces + 3 * tbase[k]);
            swap_planes(s);
        }
        size_t d = __atomic_add_fetch(done, 1, __ATOMIC_RELAXED);
        if (md_par_thread() == 0) md_ctx_progress(ctx, d, 2 * (size_t)nz);
    }
}

static MdStatus setup(Grid *g, const MdVolume *v, const MdMcubesOpts *o, MdError *err)
{
    if (v->ndim != 3 && !(v->ndim == 4 && v->dim[3] == 1))
        return md_error(err, MD_EINVAL, "marching cubes needs a 3-D volume (got %d-D)", v->ndim);
    if (o->step < 1) return md_error(err, MD_EINVAL, "step must be >= 1 (got %d)", o->step);
    if (o->rows && (o->rows->ny != v->dim[1] || o->rows->nz != v->dim[2]))
        return md_error(err, MD_EINVAL, "label row lists of another volume");
    g->v = v;
    g->o = o;
    int boxed = 0;
    for (int a = 0; a < 3; a++) boxed |= o->box_lo[a] || o->box_hi[a];
    for (int a = 0; a < 3; a++) {
        int64_t lo = boxed ? o->box_lo[a] : 0, hi = boxed ? o->box_hi[a] : v->dim[a] - 1;
        if (lo < 0 || hi >= v->dim[a] || lo > hi)
            return md_error(err, MD_EINVAL, "box %lld..%lld is outside axis %d (0..%lld)", (long long)lo,
                            (long long)hi, a + 1, (long long)v->dim[a] - 1);
        g->lo[a] = lo;
        g->n[a] = (hi - lo) / o->step + 1;
        if (g->n[a] < 2)
            return md_error(err, MD_EINVAL, "marching cubes needs at least 2 samples on each axis "
                            "(axis %d has %lld after step %d)", a + 1, (long long)g->n[a], o->step);
    }
    g->plane = (size_t)(g->n[0] * g->n[1]);
    for (int r = 0; r < 3; r++) {
        g->t[r] = v->origin[r];
        for (int c = 0; c < 3; c++) {
            g->m[3 * r + c] = v->direction[3 * r + c] * v->spacing[c] * o->step;
            g->t[r] += v->direction[3 * r + c] * v->spacing[c] * (double)g->lo[c];
        }
    }
    const double *m = g->m;
    double det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
                 m[2] * (m[3] * m[7] - m[4] * m[6]);
    g->flip = det < 0;
    /* uint8 at a level in (0, 1]: inside is value >= 1, which a 0/1 row already says */
    g->zeros = NULL;
    g->outside = NULL;
    g->outside_known = 0;
    g->direct = v->dtype == MD_UINT8 && o->step == 1 && !o->label_mode && o->level > 0 && o->level <= 1;
    return MD_OK;
}

MdStatus md_mcubes(const MdVolume *v, const MdMcubesOpts *o, MdMesh *out, MdCtx *ctx)
{
    MdError *err = ctx->err;
    Grid g;
    MdStatus st = setup(&g, v, o, err);
    if (st != MD_OK) return st;
    const MdMcTable *tab = md_mc_table();
    int64_t nz = g.n[2];
    LayerCount *cnt = calloc((size_t)nz, sizeof *cnt);
    int64_t *vbase = malloc((size_t)(nz + 1) * sizeof(int64_t));
    int64_t *tbase = malloc((size_t)(nz + 1) * sizeof(int64_t));
    unsigned char *zeros = calloc((size_t)g.n[0], 1);
    unsigned char *outside = calloc((size_t)(g.n[1] * nz + 7) / 8, 1);
    g.zeros = zeros;
    g.outside = outside;
    int fail = MD_OK;
    if (!cnt || !vbase || !tbase || !zeros || !outside) {
        st = md_error(err, MD_ENOMEM, "marching cubes: out of memory for %lld layer counts", (long long)nz);
        goto done;
    }
    double work = (double)g.plane * (double)nz;
    (void)work; /* used by the OpenMP if clauses only */
    size_t done_layers = 0;
    /* runs of layers taken in turn (objects are seldom even along z); within a
     * run each plane is loaded once */
    int64_t run = nz / (8 * (int64_t)(ctx->threads > 0 ? ctx->threads : 1));
    if (run < 1) run = 1;
#pragma omp parallel if (md_par_worth(work)) num_threads(ctx->threads)
    {
        Scratch s;
        if (!scratch_new(&s, &g)) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(dynamic, run)
        for (int64_t k = 0; k < nz; k++) {
            if (md_par_stopped(&fail) || md_par_poll_cancel(&fail)) continue;
            count_layer(&g, tab, k, &s, &cnt[k]);
            size_t d = __atomic_add_fetch(&done_layers, 1, __ATOMIC_RELAXED);
            if (md_par_thread() == 0) md_ctx_progress(ctx, d, 2 * (size_t)nz);
        }
        scratch_free(&s);
    }
    if (fail) {
        st = md_par_status(fail, "marching cubes", err);
        goto done;
    }
    vbase[0] = tbase[0] = 0;
    for (int64_t k = 0; k < nz; k++) {
        vbase[k + 1] = vbase[k] + cnt[k].verts;
        tbase[k + 1] = tbase[k] + cnt[k].tris;
    }
    if (vbase[nz] > INT32_MAX) {
        st = md_error(err, MD_ETOOBIG, "marching cubes: %lld vertices exceed the 2^31 - 1 a mesh can index",
                      (long long)vbase[nz]);
        goto done;
    }
    free(cnt);
    cnt = NULL;
    st = md_mesh_alloc(out, vbase[nz], tbase[nz], err);
    if (st != MD_OK) goto done;
    float *verts = md_mesh_verts(out);
    int32_t *faces = md_mesh_faces(out);
    g.outside_known = 1;
    /* blocks of layers taken in turn, several per thread: each loads and
     * numbers one plane more than its layers */
    int64_t nblocks = (int64_t)(ctx->threads > 1 ? 8 * ctx->threads : 1);
    if (nblocks > nz) nblocks = nz;
#pragma omp parallel if (md_par_worth(work)) num_threads(ctx->threads)
    {
        Scratch s;
        if (!scratch_new(&s, &g)) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(dynamic, 1)
        for (int64_t b = 0; b < nblocks; b++) {
            if (md_par_stopped(&fail)) continue;
            int64_t k0 = nz * b / nblocks, k1 = nz * (b + 1) / nblocks;
            emit_block(&g, tab, k0, k1, &s, vbase, tbase, verts, faces, ctx, &fail, &done_layers);
        }
        scratch_free(&s);
    }
    if (fail) {
        md_mesh_release(out);
        st = md_par_status(fail, "marching cubes", err);
        goto done;
    }
    md_ctx_finish(ctx, 2 * (size_t)nz);
done:
    free(zeros);
    free(outside);
    free(cnt);
    free(vbase);
    free(tbase);
    return st;
}

int md_mcubes_case_triangles(int c)
{
    if (c < 0 || c > 255) return -1;
    return md_mc_table()->cases[c].ntri;
}
