/* Marching cubes in two parallel passes over layers of cubes (the cubes
 * between sample planes k and k+1): the first counts crossed edges and
 * triangles per layer, a serial prefix sum turns the counts into offsets,
 * the second writes vertices and faces at those offsets. Vertex numbering
 * is fixed by position (plane by plane, raster order), never by thread.
 * Case tables: mcubes_table.c. Measures and editing: mesh.c. */
#include "mcubes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/rows.h"
#include "mcubes_table.h"

typedef struct Grid {
    const MdVolume *v;
    const MdMcubesOpts *o;
    int64_t n[3];      /* samples per axis after step */
    int64_t lo[3];     /* voxel index of sample 0 */
    size_t plane;      /* n[0] * n[1] */
    double m[9], t[3]; /* index -> world: world = m * idx + t */
    int flip;          /* the index->world map mirrors: reverse the winding */
} Grid;

/* Where a row of inside flags changes: flags before lo all equal first,
 * flags after hi all equal last (lo = n, hi = -1 for a uniform row). Every
 * crossing near the row lies within [lo - 1, hi]: the trimming of flying
 * edges. */
typedef struct RowSpan {
    int32_t lo, hi;
    unsigned char first, last;
} RowSpan;

/* One loaded sample plane: inside flags and the spans of its rows. Values
 * are read from the volume only where an edge crosses. */
typedef struct Plane {
    int64_t k; /* which plane, -1: none */
    unsigned char *in;
    RowSpan *span;
} Plane;

/* Per-thread scratch: two planes (the layer's lower and upper), vertex ids
 * of both planes' x and y edges and of the z edges between them. */
typedef struct Scratch {
    Plane p[2];
    int32_t *xid[2], *yid[2], *zid;
} Scratch;

static void scratch_free(Scratch *s)
{
    for (int i = 0; i < 2; i++) {
        free(s->p[i].in);
        free(s->p[i].span);
        free(s->xid[i]);
        free(s->yid[i]);
    }
    free(s->zid);
    memset(s, 0, sizeof *s);
}

static int scratch_new(Scratch *s, const Grid *g, int ids)
{
    memset(s, 0, sizeof *s);
    size_t n = g->plane;
    int ok = 1;
    for (int i = 0; i < 2; i++) {
        s->p[i].k = -1;
        ok &= (s->p[i].in = malloc(n)) != NULL;
        ok &= (s->p[i].span = malloc((size_t)g->n[1] * sizeof(RowSpan))) != NULL;
        if (ids) {
            ok &= (s->xid[i] = malloc(n * sizeof(int32_t))) != NULL;
            ok &= (s->yid[i] = malloc(n * sizeof(int32_t))) != NULL;
        }
    }
    if (ids) ok &= (s->zid = malloc(n * sizeof(int32_t))) != NULL;
    if (!ok) scratch_free(s);
    return ok;
}

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

/* Index of the first of f[0..n) that differs from b, n if none (eight at a time). */
static int64_t first_not(const unsigned char *f, int64_t n, unsigned char b)
{
    uint64_t pat = b ? 0x0101010101010101ull : 0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, f + i, 8);
        if (w != pat) break;
    }
    while (i < n && f[i] == b) i++;
    return i;
}

/* Index of the last of f[0..n) that differs from b, -1 if none. */
static int64_t last_not(const unsigned char *f, int64_t n, unsigned char b)
{
    uint64_t pat = b ? 0x0101010101010101ull : 0;
    int64_t i = n;
    for (; i >= 8; i -= 8) {
        uint64_t w;
        memcpy(&w, f + i - 8, 8);
        if (w != pat) break;
    }
    while (i > 0 && f[i - 1] == b) i--;
    return i - 1;
}

/* The sample (x, y, k) as double. */
static double sample(const Grid *g, int64_t x, int64_t y, int64_t k)
{
    const MdVolume *v = g->v;
    int64_t s = g->o->step;
    size_t i = ((size_t)(g->lo[2] + k * s) * (size_t)v->dim[1] + (size_t)(g->lo[1] + y * s)) * (size_t)v->dim[0] +
               (size_t)(g->lo[0] + x * s);
    double d;
    md_rows_to_f64(md_volume_data(v), v->dtype, i, 1, &d);
    return d;
}

/* Loads sample plane k's flags and row spans into p. */
static void load_plane(const Grid *g, int64_t k, Plane *p)
{
    const MdVolume *v = g->v;
    const MdMcubesOpts *o = g->o;
    int64_t step = o->step, nx = g->n[0];
    size_t z = (size_t)(g->lo[2] + k * step), dx = (size_t)v->dim[0], dy = (size_t)v->dim[1];
    const void *data = md_volume_data(v);
    double level = o->label_mode ? o->label : o->level;
    for (int64_t y = 0; y < g->n[1]; y++) {
        size_t start = (z * dy + (size_t)(g->lo[1] + y * step)) * dx + (size_t)g->lo[0];
        unsigned char *f = p->in + y * nx;
        flag_row(data, v->dtype, start, nx, step, level, o->label_mode, f);
        RowSpan *sp = &p->span[y];
        sp->first = f[0];
        sp->last = f[nx - 1];
        sp->lo = (int32_t)first_not(f, nx, f[0]);
        sp->hi = (int32_t)last_not(f, nx, f[nx - 1]);
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

/* The x range [*xs, *xe] outside which rows a and b (spans) agree with
 * each other everywhere and are constant: nothing crosses there. */
static void pair_range(const RowSpan *a, const RowSpan *b, int64_t n, int64_t *xs, int64_t *xe)
{
    int64_t lo = a->lo < b->lo ? a->lo : b->lo, hi = a->hi > b->hi ? a->hi : b->hi;
    *xs = a->first == b->first ? lo : 0;
    *xe = a->last == b->last ? hi : n - 1;
}

static inline int cube_case(const unsigned char *a, const unsigned char *b, size_t i, int64_t nx)
{
    return a[i] | a[i + 1] << 1 | a[i + nx] << 2 | a[i + nx + 1] << 3 | b[i] << 4 | b[i + 1] << 5 |
           b[i + nx] << 6 | b[i + nx + 1] << 7;
}

/* Corner order of the tables is x | y << 1 | z << 2; cube_case packs
 * (x, y) of plane a in bits 0-3 and of plane b in bits 4-7, which is the
 * same numbering. */

/* The cubes of row y between planes a and b that can hold triangles. */
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

/* Counts of layer k: in-plane crossings of plane k, z crossings k -> k+1,
 * triangles of the cubes between. */
typedef struct LayerCount {
    int64_t verts, tris;
} LayerCount;

/* Numbers plane p's in-plane crossings from id (x edge then y edge at each
 * point, raster order) into xid/yid (when given) and writes their vertices
 * (when verts is given). Returns the next free id. */
static int64_t number_plane(const Grid *g, const Plane *p, int32_t *xid, int32_t *yid, int64_t id, float *verts);

static void count_layer(const Grid *g, const MdMcTable *tab, int64_t k, Scratch *s, LayerCount *out)
{
    int64_t nx = g->n[0], ny = g->n[1];
    const Plane *a = use_plane(g, s, 0, k);
    int64_t nv = number_plane(g, a, NULL, NULL, 0, NULL), nt = 0;
    if (k + 1 < g->n[2]) {
        const Plane *b = use_plane(g, s, 1, k + 1);
        for (int64_t y = 0; y < ny; y++) {
            int64_t xs, xe;
            pair_range(&a->span[y], &b->span[y], nx, &xs, &xe);
            for (int64_t x = xs; x <= xe; x++) nv += a->in[y * nx + x] != b->in[y * nx + x];
        }
        for (int64_t y = 0; y + 1 < ny; y++) {
            int64_t xs, xe;
            cube_range(a, b, y, nx, &xs, &xe);
            for (int64_t x = xs; x <= xe; x++) nt += tab->cases[cube_case(a->in, b->in, (size_t)(y * nx + x), nx)].ntri;
        }
    }
    out->verts = nv;
    out->tris = nt;
}

/* Where along the edge from sample (x, y, k) to the next sample on axis
 * `axis` the level lies. */
static double cross_at(const Grid *g, int64_t x, int64_t y, int64_t k, int axis)
{
    if (g->o->label_mode) return 0.5;
    double a = sample(g, x, y, k);
    double b = sample(g, x + (axis == 0), y + (axis == 1), k + (axis == 2));
    double t = (g->o->level - a) / (b - a);
    return isfinite(t) ? t : 0.5;
}

static void put_vertex(const Grid *g, float *out, double i, double j, double k)
{
    for (int r = 0; r < 3; r++)
        out[r] = (float)(g->m[3 * r] * i + g->m[3 * r + 1] * j + g->m[3 * r + 2] * k + g->t[r]);
}

static int64_t number_plane(const Grid *g, const Plane *p, int32_t *xid, int32_t *yid, int64_t id, float *verts)
{
    int64_t nx = g->n[0], ny = g->n[1];
    const unsigned char *in = p->in;
    double k = (double)p->k;
    for (int64_t y = 0; y < ny; y++) {
        const RowSpan *sp = &p->span[y];
        int64_t xs = sp->lo - 1, xe = sp->hi, ys = nx, ye = -1; /* x edges, y edges */
        if (y + 1 < ny) pair_range(sp, &p->span[y + 1], nx, &ys, &ye);
        int64_t s = xs < ys ? xs : ys, e = xe > ye ? xe : ye;
        if (s < 0) s = 0;
        for (int64_t x = s; x <= e; x++) {
            size_t i = (size_t)(y * nx + x);
            if (x + 1 < nx && in[i] != in[i + 1]) {
                if (verts) put_vertex(g, verts + 3 * id, (double)x + cross_at(g, x, y, p->k, 0), (double)y, k);
                if (xid) xid[i] = (int32_t)id;
                id++;
            }
            if (y + 1 < ny && in[i] != in[i + nx]) {
                if (verts) put_vertex(g, verts + 3 * id, (double)x, (double)y + cross_at(g, x, y, p->k, 1), k);
                if (yid) yid[i] = (int32_t)id;
                id++;
            }
        }
    }
    return id;
}

/* Writes layer k's vertices (plane k's, the z edges', and plane k+1's when
 * it is the last plane) and the faces of its cubes. */
static void emit_layer(const Grid *g, const MdMcTable *tab, int64_t k, Scratch *s, const int64_t *vbase,
                       const int64_t *tbase, float *verts, int32_t *faces)
{
    int64_t nx = g->n[0], ny = g->n[1], nz = g->n[2];
    const Plane *a = use_plane(g, s, 0, k);
    int64_t id = number_plane(g, a, s->xid[0], s->yid[0], vbase[k], verts);
    if (k + 1 >= nz) return;
    const Plane *b = use_plane(g, s, 1, k + 1);
    for (int64_t y = 0; y < ny; y++) {
        int64_t xs, xe;
        pair_range(&a->span[y], &b->span[y], nx, &xs, &xe);
        for (int64_t x = xs; x <= xe; x++) {
            size_t i = (size_t)(y * nx + x);
            if (a->in[i] == b->in[i]) continue;
            put_vertex(g, verts + 3 * id, (double)x, (double)y, (double)k + cross_at(g, x, y, k, 2));
            s->zid[i] = (int32_t)id++;
        }
    }
    number_plane(g, b, s->xid[1], s->yid[1], vbase[k + 1], k + 2 == nz ? verts : NULL);
    int32_t *f = faces + 3 * tbase[k];
    for (int64_t y = 0; y + 1 < ny; y++) {
        int64_t xs, xe;
        cube_range(a, b, y, nx, &xs, &xe);
        for (int64_t x = xs; x <= xe; x++) {
            size_t i = (size_t)(y * nx + x);
            const MdMcCase *cs = &tab->cases[cube_case(a->in, b->in, i, nx)];
            if (!cs->ntri) continue;
            int32_t ev[12] = {s->xid[0][i], s->xid[0][i + nx], s->xid[1][i], s->xid[1][i + nx],
                              s->yid[0][i], s->yid[0][i + 1], s->yid[1][i], s->yid[1][i + 1],
                              s->zid[i], s->zid[i + 1], s->zid[i + nx], s->zid[i + nx + 1]};
            for (int t = 0; t < cs->ntri; t++) {
                f[0] = ev[cs->tri[t][0]];
                f[1] = ev[cs->tri[t][g->flip ? 2 : 1]];
                f[2] = ev[cs->tri[t][g->flip ? 1 : 2]];
                f += 3;
            }
        }
    }
}

static MdStatus setup(Grid *g, const MdVolume *v, const MdMcubesOpts *o, MdError *err)
{
    if (v->ndim != 3 && !(v->ndim == 4 && v->dim[3] == 1))
        return md_error(err, MD_EINVAL, "marching cubes needs a 3-D volume (got %d-D)", v->ndim);
    if (o->step < 1) return md_error(err, MD_EINVAL, "step must be >= 1 (got %d)", o->step);
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
    int fail = MD_OK;
    if (!cnt || !vbase || !tbase) {
        st = md_error(err, MD_ENOMEM, "marching cubes: out of memory for %lld layer counts", (long long)nz);
        goto done;
    }
    double work = (double)g.plane * (double)nz;
    (void)work; /* used by the OpenMP if clauses only */
    size_t done_layers = 0;
#pragma omp parallel if (md_par_worth(work)) num_threads(ctx->threads)
    {
        Scratch s;
        if (!scratch_new(&s, &g, 0)) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t k = 0; k < nz; k++) {
            if (md_par_stopped(&fail) || md_par_poll_cancel(&fail)) continue;
            count_layer(&g, tab, k, &s, &cnt[k]);
            if (md_par_thread() == 0) md_ctx_progress(ctx, __atomic_add_fetch(&done_layers, 1, __ATOMIC_RELAXED), 2 * (size_t)nz);
            else __atomic_add_fetch(&done_layers, 1, __ATOMIC_RELAXED);
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
    st = md_mesh_alloc(out, vbase[nz], tbase[nz], err);
    if (st != MD_OK) goto done;
    float *verts = md_mesh_verts(out);
    int32_t *faces = md_mesh_faces(out);
#pragma omp parallel if (md_par_worth(work)) num_threads(ctx->threads)
    {
        Scratch s;
        int ok = scratch_new(&s, &g, 1);
        if (!ok) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t k = 0; k < nz; k++) {
            if (md_par_stopped(&fail) || md_par_poll_cancel(&fail)) continue;
            emit_layer(&g, tab, k, &s, vbase, tbase, verts, faces);
            size_t d = __atomic_add_fetch(&done_layers, 1, __ATOMIC_RELAXED);
            if (md_par_thread() == 0) md_ctx_progress(ctx, d, 2 * (size_t)nz);
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

MdStatus md_mcubes_label_boxes(const MdVolume *v, double **labels, int64_t **boxes, int64_t *n, MdCtx *ctx)
{
    MdError *err = ctx->err;
    *labels = NULL;
    *boxes = NULL;
    *n = 0;
    size_t nx = (size_t)v->dim[0], ny = (size_t)v->dim[1], nz = (size_t)v->dim[2];
    double *row = malloc(nx * sizeof(double));
    size_t cap = 16, cnt = 0;
    double *lab = malloc(cap * sizeof(double));
    int64_t *box = malloc(cap * 6 * sizeof(int64_t));
    MdStatus st = MD_OK;
    if (!row || !lab || !box) {
        st = md_error(err, MD_ENOMEM, "label surfaces: out of memory");
        goto done;
    }
    double last = 0;
    size_t at = 0; /* index of the last label seen: runs of one label are common */
    for (size_t z = 0; z < nz && st == MD_OK; z++) {
        if (md_ctx_cancelled(ctx)) {
            st = md_error(err, MD_ECANCELLED, "label surfaces cancelled");
            break;
        }
        for (size_t y = 0; y < ny && st == MD_OK; y++) {
            md_rows_to_f64(md_volume_data(v), v->dtype, (z * ny + y) * nx, nx, row);
            for (size_t x = 0; x < nx; x++) {
                double l = row[x];
                if (l == 0) continue;
                if (l != floor(l) || !isfinite(l)) {
                    st = md_error(err, MD_EINVAL, "label volumes hold integers (found %g at voxel %zu, %zu, %zu)",
                                  l, x + 1, y + 1, z + 1);
                    break;
                }
                if (!(cnt && l == last)) {
                    at = cnt;
                    for (size_t i = 0; i < cnt; i++)
                        if (lab[i] == l) at = i;
                    if (at == cnt) {
                        if (cnt == cap) {
                            cap *= 2;
                            double *nl = realloc(lab, cap * sizeof(double));
                            if (nl) lab = nl;
                            int64_t *nb = realloc(box, cap * 6 * sizeof(int64_t));
                            if (nb) box = nb;
                            if (!nl || !nb || cap > 1000000) {
                                st = md_error(err, MD_ENOMEM, "label surfaces: too many labels (over %zu)", cnt);
                                break;
                            }
                        }
                        lab[cnt] = l;
                        int64_t *b = box + 6 * cnt++;
                        b[0] = b[3] = (int64_t)x, b[1] = b[4] = (int64_t)y, b[2] = b[5] = (int64_t)z;
                    }
                    last = l;
                }
                int64_t *b = box + 6 * at, p[3] = {(int64_t)x, (int64_t)y, (int64_t)z};
                for (int a = 0; a < 3; a++) {
                    if (p[a] < b[a]) b[a] = p[a];
                    if (p[a] > b[3 + a]) b[3 + a] = p[a];
                }
            }
        }
    }
    if (st != MD_OK) goto done;
    /* increasing label order, boxes widened by one voxel */
    double *sorted = malloc((cnt + 1) * sizeof(double));
    int64_t *sb = malloc((cnt + 1) * 6 * sizeof(int64_t));
    if (!sorted || !sb) {
        free(sorted);
        free(sb);
        st = md_error(err, MD_ENOMEM, "label surfaces: out of memory");
        goto done;
    }
    memcpy(sorted, lab, cnt * sizeof(double));
    qsort(sorted, cnt, sizeof(double), cmp_double);
    for (size_t i = 0; i < cnt; i++) {
        size_t j = 0;
        while (lab[j] != sorted[i]) j++;
        for (int a = 0; a < 3; a++) {
            sb[6 * i + a] = box[6 * j + a] > 0 ? box[6 * j + a] - 1 : 0;
            sb[6 * i + 3 + a] = box[6 * j + 3 + a] + 1 < v->dim[a] ? box[6 * j + 3 + a] + 1 : v->dim[a] - 1;
        }
    }
    *labels = sorted;
    *boxes = sb;
    *n = (int64_t)cnt;
done:
    free(row);
    free(lab);
    free(box);
    return st;
}
