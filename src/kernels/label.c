/* Run-based connected components. Two passes over the rows: count runs,
 * then extract them into arrays laid out in raster order and union each run
 * with the overlapping runs of the earlier neighbour rows. A run's
 * provisional label is its index; unions keep the smaller index as root, so
 * every root is its component's first run in raster order and numbering
 * roots in index order gives raster-order labels whatever the chunking. */
#include "label.h"

#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/ctx.h"
#include "morph_slices.h"

/* An earlier row a run may touch: offsets and whether diagonal x steps count. */
typedef struct Nb {
    int dy, dz, expand;
} Nb;

static int neighbours(int conn, int planar, Nb nb[4])
{
    static const Nb c4[] = {{-1, 0, 0}}, c8[] = {{-1, 0, 1}};
    static const Nb c6[] = {{-1, 0, 0}, {0, -1, 0}};
    static const Nb c18[] = {{-1, 0, 1}, {0, -1, 1}, {-1, -1, 0}, {1, -1, 0}};
    static const Nb c26[] = {{-1, 0, 1}, {0, -1, 1}, {-1, -1, 1}, {1, -1, 1}};
    const Nb *src = NULL;
    int k = 0;
    if (planar && conn == 4) src = c4, k = 1;
    if (planar && conn == 8) src = c8, k = 1;
    if (!planar && conn == 6) src = c6, k = 2;
    if (!planar && conn == 18) src = c18, k = 4;
    if (!planar && conn == 26) src = c26, k = 4;
    for (int i = 0; i < k; i++) nb[i] = src[i];
    return k;
}

typedef struct Job {
    const void *data;
    MdDtype dtype;
    MdRunMode mode;
    double bg;
    int bg_byte;   /* background as a byte, or -1 when no byte equals it */
    double *val;   /* run values (MD_RUNS_EQUAL) */
    int32_t *parent;
    Nb nb[4];
    int nnb;
} Job;

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static inline uint64_t load8(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* High bit set in each byte of v equal to zero. */
static inline uint64_t zero_bytes(uint64_t v) { return (v - ONES) & ~v & HIGHS; }

/* Does byte b belong to a run? */
static inline int member_u8(const Job *j, uint8_t b)
{
    switch (j->mode) {
    case MD_RUNS_NONZERO: return b != 0;
    case MD_RUNS_ZERO: return b == 0;
    default: return (int)b != j->bg_byte;
    }
}

/* Runs of a uint8 row; fills x0/x1/val when x0 is not NULL; returns the
 * count. Whole words of non-members, or of one repeated value, are skipped. */
static int64_t runs_u8(const Job *j, const uint8_t *p, int64_t n, int32_t *x0, int32_t *x1, double *val)
{
    int64_t x = 0, k = 0;
    uint64_t bgw = ONES * (uint64_t)(j->bg_byte & 255);
    while (x < n) {
        if (j->mode == MD_RUNS_NONZERO)
            while (x + 8 <= n && load8(p + x) == 0) x += 8;
        else if (j->mode == MD_RUNS_ZERO)
            while (x + 8 <= n && zero_bytes(load8(p + x)) == 0) x += 8;
        else
            while (x + 8 <= n && load8(p + x) == bgw) x += 8;
        while (x < n && !member_u8(j, p[x])) x++;
        if (x >= n) break;
        int64_t s = x;
        uint8_t c = p[x];
        if (j->mode == MD_RUNS_NONZERO) {
            while (x + 8 <= n && zero_bytes(load8(p + x)) == 0) x += 8;
            while (x < n && p[x] != 0) x++;
        } else {
            while (x + 8 <= n && load8(p + x) == ONES * c) x += 8;
            while (x < n && p[x] == c) x++;
        }
        if (x0) {
            x0[k] = (int32_t)s;
            x1[k] = (int32_t)(x - 1);
            if (val) val[k] = c;
        }
        k++;
    }
    return k;
}

/* Runs of a row of any dtype, through doubles in tmp. */
static int64_t runs_any(const Job *j, int64_t r, int64_t n, double *tmp, int32_t *x0, int32_t *x1, double *val)
{
    for (int64_t x = 0; x < n; x++) tmp[x] = md_load(j->data, j->dtype, (size_t)(r * n + x));
    int64_t x = 0, k = 0;
    while (x < n) {
        double c = tmp[x];
        int in = j->mode == MD_RUNS_NONZERO ? c != 0 : j->mode == MD_RUNS_ZERO ? c == 0 : c != j->bg;
        int64_t s = x++;
        if (!in) continue;
        if (j->mode == MD_RUNS_EQUAL)
            while (x < n && tmp[x] == c) x++;
        else
            while (x < n && (j->mode == MD_RUNS_ZERO ? tmp[x] == 0 : tmp[x] != 0)) x++;
        if (x0) {
            x0[k] = (int32_t)s;
            x1[k] = (int32_t)(x - 1);
            if (val) val[k] = c;
        }
        k++;
    }
    return k;
}

static int64_t row_runs(const Job *j, int64_t r, int64_t n, double *tmp, int32_t *x0, int32_t *x1, double *val)
{
    if (j->dtype == MD_UINT8 && (j->mode != MD_RUNS_EQUAL || j->bg_byte >= 0))
        return runs_u8(j, (const uint8_t *)j->data + r * n, n, x0, x1, val);
    return runs_any(j, r, n, tmp, x0, x1, val);
}

static inline int32_t find(int32_t *p, int32_t i)
{
    while (p[i] != i) {
        p[i] = p[p[i]];
        i = p[i];
    }
    return i;
}

static inline void unite(int32_t *p, int32_t a, int32_t b)
{
    a = find(p, a);
    b = find(p, b);
    if (a < b)
        p[b] = a;
    else if (b < a)
        p[a] = b;
}

/* Unions the runs of row r with overlapping runs of the earlier row q. */
static void link_rows(const MdComps *c, const Job *j, int64_t r, int64_t q, int expand)
{
    int64_t i = c->row_start[r], ie = c->row_start[r + 1];
    int64_t k = c->row_start[q], ke = c->row_start[q + 1];
    while (i < ie && k < ke) {
        if (c->x1[k] + expand < c->x0[i]) {
            k++;
        } else if (c->x1[i] + expand < c->x0[k]) {
            i++;
        } else {
            if (!j->val || j->val[i] == j->val[k]) unite(j->parent, (int32_t)i, (int32_t)k);
            if (c->x1[i] < c->x1[k])
                i++;
            else
                k++;
        }
    }
}

/* Links row r with its earlier neighbour rows q in [lo, r). */
static void link_row(const MdComps *c, const Job *j, int64_t r, int64_t lo)
{
    int64_t ny = c->n[1], y = r % ny;
    for (int t = 0; t < j->nnb; t++) {
        int64_t yy = y + j->nb[t].dy, q = r + j->nb[t].dy + j->nb[t].dz * ny;
        if (yy < 0 || yy >= ny || q < lo) continue;
        link_rows(c, j, r, q, j->nb[t].expand);
    }
}

/* Pass 1: runs per row; row_start becomes the prefix sum. */
static MdStatus count_runs(MdComps *c, const Job *j, MdError *err)
{
    int64_t nrows = c->n[1] * c->n[2], nx = c->n[0];
    int fail = MD_OK;
#pragma omp parallel if (md_par_worth((double)(nrows * nx)))
    {
        double *tmp = malloc((size_t)nx * sizeof *tmp);
        if (!tmp) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t r = 0; r < nrows; r++)
            if (tmp) c->row_start[r + 1] = row_runs(j, r, nx, tmp, NULL, NULL, NULL);
        free(tmp);
    }
    if (fail) return md_error(err, MD_ENOMEM, "out of memory labelling");
    c->row_start[0] = 0;
    for (int64_t r = 0; r < nrows; r++) c->row_start[r + 1] += c->row_start[r];
    c->nruns = c->row_start[nrows];
    if (c->nruns > INT32_MAX - 1)
        return md_error(err, MD_ETOOBIG, "too many runs to label (%lld, at most %d)", (long long)c->nruns, INT32_MAX - 1);
    return MD_OK;
}

/* Pass 2: extract runs and union within each chunk of rows, in parallel;
 * then serially across chunk borders. */
static MdStatus join_runs(MdComps *c, Job *j, MdCtx *ctx)
{
    MdError *err = ctx->err;
    int64_t nrows = c->n[1] * c->n[2], nx = c->n[0];
    int nchunks = ctx->threads, fail = MD_OK;
    size_t slices_done = 0;
    if (!md_par_worth((double)(nrows * nx)) || nchunks < 1) nchunks = 1;
    if (nchunks > nrows) nchunks = (int)nrows;
#pragma omp parallel for schedule(static) num_threads(nchunks) if (nchunks > 1)
    for (int ch = 0; ch < nchunks; ch++) {
        int64_t lo = nrows * ch / nchunks, hi = nrows * (ch + 1) / nchunks;
        double *tmp = malloc((size_t)nx * sizeof *tmp);
        if (!tmp) md_par_fail(&fail, MD_ENOMEM);
        for (int64_t r = lo; r < hi && tmp; r++) {
            int64_t s = c->row_start[r];
            row_runs(j, r, nx, tmp, c->x0 + s, c->x1 + s, j->val ? j->val + s : NULL);
            for (int64_t i = s; i < c->row_start[r + 1]; i++) j->parent[i] = (int32_t)i;
            link_row(c, j, r, lo);
            if (r % c->n[1] == c->n[1] - 1) md_par_progress(ctx, &slices_done, (size_t)c->n[2]);
            if (r % c->n[1] == 0 && md_par_poll_cancel(&fail)) break;
        }
        free(tmp);
    }
    md_ctx_finish(ctx, (size_t)c->n[2]);
    if (fail == MD_ENOMEM) return md_error(err, MD_ENOMEM, "out of memory labelling");
    if (fail) return md_par_status(fail, "labelling", err);
    for (int ch = 1; ch < nchunks; ch++) {
        int64_t lo = nrows * ch / nchunks, hi = nrows * (ch + 1) / nchunks;
        for (int64_t r = lo; r < hi && r <= lo + c->n[1]; r++) link_row(c, j, r, 0);
    }
    return MD_OK;
}

/* Numbers roots in index order (parallel count, serial prefix, parallel fill). */
static MdStatus number_roots(MdComps *c, Job *j, MdError *err)
{
    int nchunks = c->nruns > 65536 ? md_threads() : 1;
    int64_t *base = calloc((size_t)nchunks + 1, sizeof *base);
    if (!base) return md_error(err, MD_ENOMEM, "out of memory labelling");
    int32_t *p = j->parent;
#pragma omp parallel for schedule(static) num_threads(nchunks) if (nchunks > 1)
    for (int ch = 0; ch < nchunks; ch++) {
        int64_t lo = c->nruns * ch / nchunks, hi = c->nruns * (ch + 1) / nchunks, k = 0;
        for (int64_t i = lo; i < hi; i++) k += p[i] == i;
        base[ch + 1] = k;
    }
    for (int ch = 0; ch < nchunks; ch++) base[ch + 1] += base[ch];
    c->ncomp = base[nchunks];
#pragma omp parallel for schedule(static) num_threads(nchunks) if (nchunks > 1)
    for (int ch = 0; ch < nchunks; ch++) {
        int64_t lo = c->nruns * ch / nchunks, hi = c->nruns * (ch + 1) / nchunks, k = base[ch];
        for (int64_t i = lo; i < hi; i++)
            if (p[i] == i) c->comp[i] = (int32_t)++k;
    }
#pragma omp parallel for schedule(static) if (md_par_worth((double)(c->nruns)))
    for (int64_t i = 0; i < c->nruns; i++) {
        int32_t r = (int32_t)i;
        while (p[r] != r) r = p[r]; /* read-only: other threads read p too */
        if (r != i) c->comp[i] = c->comp[r];
    }
    free(base);
    return MD_OK;
}

static MdStatus check_conn(int conn, int planar, MdError *err)
{
    Nb nb[4];
    if (neighbours(conn, planar, nb) == 0)
        return planar ? md_error(err, MD_EINVAL, "connectivity must be 4 or 8 in 2-D or per slice (got %d)", conn)
                      : md_error(err, MD_EINVAL, "connectivity must be 6, 18 or 26 in 3-D (got %d)", conn);
    return MD_OK;
}

MdStatus md_comps_build(const void *data, MdDtype dtype, const int64_t n[3], MdRunMode mode, double background,
                        int conn, int planar, MdComps *c, MdCtx *ctx)
{
    MdError *err = ctx->err;
    memset(c, 0, sizeof *c);
    MdStatus st = check_conn(conn, planar, err);
    if (st != MD_OK) return st;
    memcpy(c->n, n, sizeof c->n);
    c->planar = planar;
    Job j = {data, dtype, mode, background, -1, NULL, NULL, {{0, 0, 0}}, 0};
    j.nnb = neighbours(conn, planar, j.nb);
    if (background >= 0 && background <= 255 && background == (double)(int)background) j.bg_byte = (int)background;
    int64_t nrows = n[1] * n[2];
    c->row_start = malloc((size_t)(nrows + 1) * sizeof *c->row_start);
    if (!c->row_start) return md_error(err, MD_ENOMEM, "out of memory labelling");
    if ((st = count_runs(c, &j, err)) != MD_OK) goto fail;
    size_t nr = (size_t)c->nruns + 1;
    c->x0 = malloc(nr * sizeof *c->x0);
    c->x1 = malloc(nr * sizeof *c->x1);
    c->comp = malloc(nr * sizeof *c->comp);
    j.parent = malloc(nr * sizeof *j.parent);
    if (mode == MD_RUNS_EQUAL) j.val = malloc(nr * sizeof *j.val);
    if (!c->x0 || !c->x1 || !c->comp || !j.parent || (mode == MD_RUNS_EQUAL && !j.val)) {
        st = md_error(err, MD_ENOMEM, "out of memory labelling (%lld runs)", (long long)c->nruns);
        goto fail;
    }
    if ((st = join_runs(c, &j, ctx)) != MD_OK) goto fail;
    st = number_roots(c, &j, err);
fail:
    free(j.parent);
    free(j.val);
    if (st != MD_OK) md_comps_free(c);
    return st;
}

void md_comps_free(MdComps *c)
{
    free(c->row_start);
    free(c->x0);
    free(c->x1);
    free(c->comp);
    memset(c, 0, sizeof *c);
}

void md_comps_write_labels(const MdComps *c, int32_t *out)
{
    int64_t nrows = c->n[1] * c->n[2], nx = c->n[0];
#pragma omp parallel for schedule(static) if (md_par_worth((double)(nrows * nx)))
    for (int64_t r = 0; r < nrows; r++) {
        int32_t *o = out + r * nx;
        memset(o, 0, (size_t)nx * sizeof *o);
        for (int64_t i = c->row_start[r]; i < c->row_start[r + 1]; i++)
            for (int32_t x = c->x0[i]; x <= c->x1[i]; x++) o[x] = c->comp[i];
    }
}

void md_comps_write_mask(const MdComps *c, const uint8_t *keep, const uint8_t *base, uint8_t *out)
{
    int64_t nrows = c->n[1] * c->n[2], nx = c->n[0];
#pragma omp parallel for schedule(static) if (md_par_worth((double)(nrows * nx)))
    for (int64_t r = 0; r < nrows; r++) {
        uint8_t *o = out + r * nx;
        if (base)
            for (int64_t x = 0; x < nx; x++) o[x] = base[r * nx + x] != 0;
        else
            memset(o, 0, (size_t)nx);
        for (int64_t i = c->row_start[r]; i < c->row_start[r + 1]; i++)
            if (keep[c->comp[i]]) memset(o + c->x0[i], 1, (size_t)(c->x1[i] - c->x0[i] + 1));
    }
}

void md_comps_clear(const MdComps *c, const uint8_t *clear, void *data, size_t esize)
{
    int64_t nrows = c->n[1] * c->n[2], nx = c->n[0];
#pragma omp parallel for schedule(static) if (md_par_worth((double)(nrows * nx)))
    for (int64_t r = 0; r < nrows; r++)
        for (int64_t i = c->row_start[r]; i < c->row_start[r + 1]; i++)
            if (clear[c->comp[i]])
                memset((char *)data + ((size_t)(r * nx) + (size_t)c->x0[i]) * esize, 0,
                       (size_t)(c->x1[i] - c->x0[i] + 1) * esize);
}

MdStatus md_comps_sizes(const MdComps *c, int64_t **sizes, MdError *err)
{
    int64_t *s = calloc((size_t)c->ncomp + 1, sizeof *s);
    if (!s) return md_error(err, MD_ENOMEM, "out of memory measuring components");
    for (int64_t i = 0; i < c->nruns; i++) s[c->comp[i]] += c->x1[i] - c->x0[i] + 1;
    *sizes = s;
    return MD_OK;
}

void md_comps_touching(const MdComps *c, int64_t band, uint8_t *touch)
{
    int64_t nx = c->n[0], ny = c->n[1], nz = c->n[2];
    memset(touch, 0, (size_t)c->ncomp + 1);
    for (int64_t r = 0; r < ny * nz; r++) {
        int64_t y = r % ny, z = r / ny;
        int face = y <= band || y >= ny - 1 - band || (!c->planar && (z <= band || z >= nz - 1 - band));
        for (int64_t i = c->row_start[r]; i < c->row_start[r + 1]; i++)
            if (face || c->x0[i] <= band || c->x1[i] >= nx - 1 - band) touch[c->comp[i]] = 1;
    }
}

MdStatus md_comps_first_slice(const MdComps *c, int64_t **first, MdError *err)
{
    int64_t *f = calloc((size_t)c->ncomp + 1, sizeof *f);
    if (!f) return md_error(err, MD_ENOMEM, "out of memory measuring components");
    int32_t seen = 0;
    for (int64_t r = 0; r < c->n[1] * c->n[2]; r++)
        for (int64_t i = c->row_start[r]; i < c->row_start[r + 1]; i++)
            if (c->comp[i] > seen) f[seen = c->comp[i]] = r / c->n[1]; /* ids appear in order */
    *first = f;
    return MD_OK;
}

MdStatus md_label(const MdVolume *in, int axis, int conn, double background, MdVolume *out, int64_t *count,
                  MdCtx *ctx)
{
    MdError *err = ctx->err;
    if (in->ndim < 2 || in->ndim > 3) return md_error(err, MD_EINVAL, "label: expected a 2-D or 3-D volume");
    if (out->dtype != MD_INT32 || md_volume_count(out) != md_volume_count(in))
        return md_error(err, MD_EINVAL, "label: the output must be int32, shaped like the input");
    if (axis < 0 || axis > 3) return md_error(err, MD_EINVAL, "axis must be 1, 2 or 3 (got %d)", axis);
    int64_t n[3] = {in->dim[0], in->dim[1], in->ndim == 3 ? in->dim[2] : 1}, m[3];
    int t = in->ndim == 3 && (axis == 1 || axis == 2) ? axis : 3;
    int planar = in->ndim == 2 || axis != 0;
    md_slices_dims(n, t, m);
    size_t count_v = md_volume_count(in), es = md_dtype_size(in->dtype);
    void *src = md_volume_data(in);
    int32_t *dst = md_volume_data(out);
    if (t != 3) {
        src = malloc(count_v * es);
        dst = malloc(count_v * sizeof *dst);
        if (!src || !dst) {
            free(src), free(dst);
            return md_error(err, MD_ENOMEM, "out of memory labelling");
        }
        md_slices_gather(md_volume_data(in), es, n, t, src);
    }
    MdComps c;
    MdStatus st = md_comps_build(src, in->dtype, m, MD_RUNS_EQUAL, background, conn, planar, &c, ctx);
    if (st == MD_OK) {
        md_comps_write_labels(&c, dst);
        *count = c.ncomp;
        md_comps_free(&c);
        if (t != 3) md_slices_scatter(dst, sizeof *dst, n, t, md_volume_data(out));
    }
    if (t != 3) free(src), free(dst);
    return st;
}
