/* The mesh's storage and measures, Taubin smoothing and vertex-clustering
 * decimation. Marching cubes builds meshes (mcubes.c); io/mesh_write.c
 * writes them. */
#include "mesh.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"

MdStatus md_mesh_alloc(MdMesh *m, int64_t nverts, int64_t nfaces, MdError *err)
{
    size_t vb, fb;
    MdStatus st = md_checked_mul(&vb, (size_t)nverts, 3 * sizeof(float), err);
    if (st == MD_OK) st = md_checked_mul(&fb, (size_t)nfaces, 3 * sizeof(int32_t), err);
    if (st != MD_OK) return st;
    m->vbuf = m->fbuf = NULL;
    m->nverts = m->nfaces = 0;
    /* an empty mesh still gets (tiny) buffers so pointers are never NULL */
    st = md_buffer_new(&m->vbuf, vb ? vb : 1, 0, err);
    if (st == MD_OK) st = md_buffer_new(&m->fbuf, fb ? fb : 1, 0, err);
    if (st != MD_OK) {
        md_mesh_release(m);
        return st;
    }
    m->nverts = nverts;
    m->nfaces = nfaces;
    return MD_OK;
}

void md_mesh_release(MdMesh *m)
{
    if (m->vbuf) md_buffer_release(m->vbuf);
    if (m->fbuf) md_buffer_release(m->fbuf);
    m->vbuf = m->fbuf = NULL;
    m->nverts = m->nfaces = 0;
}

static void face_corners(const MdMesh *m, int64_t f, double p[3][3])
{
    const float *v = md_mesh_verts(m);
    const int32_t *t = md_mesh_faces(m) + 3 * f;
    for (int c = 0; c < 3; c++)
        for (int r = 0; r < 3; r++) p[c][r] = v[3 * (size_t)t[c] + r];
}

double md_mesh_area(const MdMesh *m)
{
    double sum = 0;
    for (int64_t f = 0; f < m->nfaces; f++) {
        double p[3][3], a[3], b[3];
        face_corners(m, f, p);
        for (int r = 0; r < 3; r++) {
            a[r] = p[1][r] - p[0][r];
            b[r] = p[2][r] - p[0][r];
        }
        double cx = a[1] * b[2] - a[2] * b[1], cy = a[2] * b[0] - a[0] * b[2], cz = a[0] * b[1] - a[1] * b[0];
        sum += 0.5 * sqrt(cx * cx + cy * cy + cz * cz);
    }
    return sum;
}

double md_mesh_volume(const MdMesh *m)
{
    /* divergence theorem about the first vertex (keeps the terms small) */
    if (m->nfaces == 0) return 0;
    const float *v = md_mesh_verts(m);
    double o[3] = {v[0], v[1], v[2]}, sum = 0;
    for (int64_t f = 0; f < m->nfaces; f++) {
        double p[3][3];
        face_corners(m, f, p);
        for (int c = 0; c < 3; c++)
            for (int r = 0; r < 3; r++) p[c][r] -= o[r];
        sum += p[0][0] * (p[1][1] * p[2][2] - p[1][2] * p[2][1]) -
               p[0][1] * (p[1][0] * p[2][2] - p[1][2] * p[2][0]) +
               p[0][2] * (p[1][0] * p[2][1] - p[1][1] * p[2][0]);
    }
    return sum / 6;
}

void md_mesh_bounds(const MdMesh *m, double lo[3], double hi[3])
{
    const float *v = md_mesh_verts(m);
    for (int r = 0; r < 3; r++) lo[r] = hi[r] = m->nverts ? v[r] : 0;
    for (int64_t i = 0; i < m->nverts; i++)
        for (int r = 0; r < 3; r++) {
            double x = v[3 * i + r];
            if (x < lo[r]) lo[r] = x;
            if (x > hi[r]) hi[r] = x;
        }
}

/* ---- Taubin smoothing ---------------------------------------------------- */

/* Neighbour lists in CSR form: the vertices sharing an edge with each. */
typedef struct Adjacency {
    int64_t *start; /* nverts + 1 */
    int32_t *nb;
} Adjacency;

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static MdStatus build_adjacency(const MdMesh *m, Adjacency *adj, MdError *err)
{
    int64_t n = m->nverts;
    const int32_t *f = md_mesh_faces(m);
    adj->start = calloc((size_t)n + 1, sizeof(int64_t));
    adj->nb = malloc((size_t)(6 * m->nfaces + 1) * sizeof(int32_t));
    int64_t *fill = calloc((size_t)n + 1, sizeof(int64_t));
    if (!adj->start || !adj->nb || !fill) {
        free(fill);
        return md_error(err, MD_ENOMEM, "smoothing: out of memory for the neighbour lists");
    }
    for (int64_t t = 0; t < 3 * m->nfaces; t++) adj->start[f[t] + 1] += 2;
    for (int64_t i = 0; i < n; i++) adj->start[i + 1] += adj->start[i];
    for (int64_t t = 0; t < m->nfaces; t++)
        for (int c = 0; c < 3; c++) {
            int32_t a = f[3 * t + c], b = f[3 * t + (c + 1) % 3];
            adj->nb[adj->start[a] + fill[a]++] = b;
            adj->nb[adj->start[b] + fill[b]++] = a;
        }
    /* sort and drop repeats in place, then close the gaps */
    int64_t w = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t s = adj->start[i], e = adj->start[i + 1];
        qsort(adj->nb + s, (size_t)(e - s), sizeof(int32_t), cmp_i32);
        adj->start[i] = w;
        for (int64_t k = s; k < e; k++)
            if (k == s || adj->nb[k] != adj->nb[k - 1]) adj->nb[w++] = adj->nb[k];
    }
    adj->start[n] = w;
    free(fill);
    return MD_OK;
}

static void umbrella_step(const Adjacency *adj, int64_t n, const double *p, double *q, double f)
{
#pragma omp parallel for schedule(static) if (md_par_worth((double)n * 8))
    for (int64_t i = 0; i < n; i++) {
        int64_t s = adj->start[i], e = adj->start[i + 1];
        for (int r = 0; r < 3; r++) {
            if (e == s) {
                q[3 * i + r] = p[3 * i + r];
                continue;
            }
            double sum = 0;
            for (int64_t k = s; k < e; k++) sum += p[3 * (size_t)adj->nb[k] + r];
            q[3 * i + r] = p[3 * i + r] + f * (sum / (double)(e - s) - p[3 * i + r]);
        }
    }
}

MdStatus md_mesh_smooth(MdMesh *m, int iterations, double lambda, double mu, MdCtx *ctx)
{
    int64_t n = m->nverts;
    if (n == 0 || iterations <= 0) return MD_OK;
    Adjacency adj = {0};
    MdStatus st = build_adjacency(m, &adj, ctx->err);
    double *p = malloc((size_t)n * 3 * sizeof(double)), *q = malloc((size_t)n * 3 * sizeof(double));
    if (st == MD_OK && (!p || !q)) st = md_error(ctx->err, MD_ENOMEM, "smoothing: out of memory");
    if (st != MD_OK) goto done;
    float *v = md_mesh_verts(m);
    for (int64_t i = 0; i < 3 * n; i++) p[i] = v[i];
    for (int it = 0; it < iterations; it++) {
        if (md_ctx_cancelled(ctx)) {
            st = md_error(ctx->err, MD_ECANCELLED, "smoothing cancelled");
            goto done;
        }
        umbrella_step(&adj, n, p, q, lambda);
        umbrella_step(&adj, n, q, p, mu);
        md_ctx_progress(ctx, (size_t)it + 1, (size_t)iterations);
    }
    for (int64_t i = 0; i < 3 * n; i++) v[i] = (float)p[i];
done:
    free(adj.start);
    free(adj.nb);
    free(p);
    free(q);
    return st;
}

/* ---- decimation by vertex clustering -------------------------------------- */

typedef struct KeyIdx {
    int64_t key, idx;
} KeyIdx;

static int cmp_keyidx(const void *a, const void *b)
{
    const KeyIdx *x = a, *y = b;
    if (x->key != y->key) return (x->key > y->key) - (x->key < y->key);
    return (x->idx > y->idx) - (x->idx < y->idx);
}

typedef struct FaceKey {
    int32_t s[3]; /* sorted corners */
    int64_t idx;
    int parity;   /* orientation relative to the sorted order */
} FaceKey;

static int cmp_facekey(const void *a, const void *b)
{
    const FaceKey *x = a, *y = b;
    for (int i = 0; i < 3; i++)
        if (x->s[i] != y->s[i]) return (x->s[i] > y->s[i]) - (x->s[i] < y->s[i]);
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Cluster number of every vertex, numbered by first appearance; returns
 * the number of clusters, or -1 without memory. */
static int64_t cluster_vertices(const MdMesh *m, double cell, int32_t *cl)
{
    int64_t n = m->nverts;
    const float *v = md_mesh_verts(m);
    double lo[3], hi[3];
    md_mesh_bounds(m, lo, hi);
    int64_t span[3];
    for (int r = 0; r < 3; r++) span[r] = (int64_t)floor((hi[r] - lo[r]) / cell) + 1;
    KeyIdx *k = malloc((size_t)n * sizeof *k);
    KeyIdx *g = malloc((size_t)n * sizeof *g); /* per group: (first vertex, group) */
    if (!k || !g) {
        free(k);
        free(g);
        return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t c[3];
        for (int r = 0; r < 3; r++) c[r] = (int64_t)floor(((double)v[3 * i + r] - lo[r]) / cell);
        k[i].key = (c[2] * span[1] + c[1]) * span[0] + c[0];
        k[i].idx = i;
    }
    qsort(k, (size_t)n, sizeof *k, cmp_keyidx);
    int64_t ng = 0;
    for (int64_t i = 0; i < n; i++) {
        if (i == 0 || k[i].key != k[i - 1].key) {
            g[ng].key = k[i].idx; /* the group's smallest vertex number */
            g[ng].idx = ng;
            ng++;
        }
        cl[k[i].idx] = (int32_t)(ng - 1);
    }
    qsort(g, (size_t)ng, sizeof *g, cmp_keyidx);
    int32_t *rank = malloc((size_t)ng * sizeof *rank);
    if (rank) {
        for (int64_t i = 0; i < ng; i++) rank[g[i].idx] = (int32_t)i;
        for (int64_t i = 0; i < n; i++) cl[i] = rank[cl[i]];
    }
    free(rank);
    free(k);
    free(g);
    return rank ? ng : -1;
}

/* Marks the faces to keep: corners in three clusters, no repeat (a face
 * repeated with both windings is a collapsed sheet: all copies go). */
static int keep_faces(const MdMesh *m, const int32_t *cl, unsigned char *keep)
{
    int64_t nf = m->nfaces, nk = 0;
    const int32_t *f = md_mesh_faces(m);
    FaceKey *fk = malloc((size_t)(nf + 1) * sizeof *fk);
    if (!fk) return 0;
    for (int64_t t = 0; t < nf; t++) {
        int32_t a = cl[f[3 * t]], b = cl[f[3 * t + 1]], c = cl[f[3 * t + 2]];
        keep[t] = 0;
        if (a == b || b == c || a == c) continue;
        FaceKey *k = &fk[nk++];
        int32_t s[3] = {a, b, c};
        int parity = 0;
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2 - i; j++)
                if (s[j] > s[j + 1]) {
                    int32_t x = s[j];
                    s[j] = s[j + 1];
                    s[j + 1] = x;
                    parity ^= 1;
                }
        memcpy(k->s, s, sizeof s);
        k->idx = t;
        k->parity = parity;
    }
    qsort(fk, (size_t)nk, sizeof *fk, cmp_facekey);
    for (int64_t i = 0; i < nk;) {
        int64_t j = i;
        int mixed = 0;
        while (j < nk && memcmp(fk[j].s, fk[i].s, sizeof fk[i].s) == 0) {
            mixed |= fk[j].parity != fk[i].parity;
            j++;
        }
        if (!mixed) keep[fk[i].idx] = 1;
        i = j;
    }
    free(fk);
    return 1;
}

MdStatus md_mesh_decimate(MdMesh *m, double cell, MdCtx *ctx)
{
    MdError *err = ctx->err;
    if (!(cell > 0)) return md_error(err, MD_EINVAL, "decimation cell must be > 0 mm (got %g)", cell);
    if (m->nverts == 0) return MD_OK;
    int64_t n = m->nverts, nf = m->nfaces;
    int32_t *cl = malloc((size_t)n * sizeof *cl);
    unsigned char *keep = malloc((size_t)nf + 1);
    double *sum = NULL;
    int64_t *cnt = NULL;
    int32_t *renum = NULL;
    MdMesh out = {0};
    MdStatus st = MD_OK;
    int64_t ng = cl && keep ? cluster_vertices(m, cell, cl) : -1;
    if (ng < 0 || !keep_faces(m, cl, keep)) {
        st = md_error(err, MD_ENOMEM, "decimation: out of memory");
        goto done;
    }
    sum = calloc((size_t)ng * 3, sizeof *sum);
    cnt = calloc((size_t)ng, sizeof *cnt);
    renum = malloc((size_t)ng * sizeof *renum);
    if (!sum || !cnt || !renum) {
        st = md_error(err, MD_ENOMEM, "decimation: out of memory");
        goto done;
    }
    const float *v = md_mesh_verts(m);
    const int32_t *f = md_mesh_faces(m);
    for (int64_t i = 0; i < n; i++) {
        cnt[cl[i]]++;
        for (int r = 0; r < 3; r++) sum[3 * (size_t)cl[i] + r] += (double)v[3 * i + r];
    }
    /* only clusters some kept face uses become vertices, in cluster order */
    int64_t nv = 0, nk = 0;
    for (int64_t g = 0; g < ng; g++) renum[g] = -1;
    for (int64_t t = 0; t < nf; t++)
        if (keep[t]) {
            nk++;
            for (int c = 0; c < 3; c++) renum[cl[f[3 * t + c]]] = 0;
        }
    for (int64_t g = 0; g < ng; g++)
        if (renum[g] == 0) renum[g] = (int32_t)nv++;
    st = md_mesh_alloc(&out, nv, nk, err);
    if (st != MD_OK) goto done;
    float *ov = md_mesh_verts(&out);
    int32_t *of = md_mesh_faces(&out);
    for (int64_t g = 0; g < ng; g++)
        if (renum[g] >= 0)
            for (int r = 0; r < 3; r++) ov[3 * (size_t)renum[g] + r] = (float)(sum[3 * g + r] / (double)cnt[g]);
    int64_t w = 0;
    for (int64_t t = 0; t < nf; t++)
        if (keep[t]) {
            for (int c = 0; c < 3; c++) of[3 * w + c] = renum[cl[f[3 * t + c]]];
            w++;
        }
    md_mesh_release(m);
    *m = out;
done:
    free(cl);
    free(keep);
    free(sum);
    free(cnt);
    free(renum);
    return st;
}
