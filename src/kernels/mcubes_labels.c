/* Label surfaces (v:meshes): one parallel pass over the label volume lists
 * the labels of every row with their first and last column; the labels and
 * their boxes come from those lists, and each label's marching cubes reads
 * only the rows that hold it (mcubes.c). */
#include "mcubes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/rows.h"

typedef struct Entry {
    double label;
    int32_t x0, x1;
} Entry;

/* One slice's rows: their entries one after another, and the first
 * non-integer value met (raster order), if any. */
typedef struct SliceScan {
    Entry *e;
    size_t n, cap;
    int64_t bad_x, bad_y; /* -1: none */
    double bad;
} SliceScan;

static int cmp_entry(const void *a, const void *b)
{
    double x = ((const Entry *)a)->label, y = ((const Entry *)b)->label;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Appends the entries of one row (values in row[0..nx)) to s, in increasing
 * label order; returns their number, -1 without memory. Stops at a
 * non-integer value (recorded in s). */
static int64_t scan_row(const double *row, int64_t nx, int64_t y, SliceScan *s)
{
    size_t first = s->n, at = 0;
    for (int64_t x = 0; x < nx; x++) {
        double l = row[x];
        if (l == 0) continue;
        if (l != floor(l) || !isfinite(l)) {
            s->bad_x = x, s->bad_y = y, s->bad = l;
            return 0;
        }
        if (!(s->n > first && s->e[at].label == l)) { /* runs of one label are the common case */
            at = s->n;
            for (size_t i = first; i < s->n; i++)
                if (s->e[i].label == l) at = i;
            if (at == s->n) {
                if (s->n == s->cap) {
                    size_t cap = s->cap ? 2 * s->cap : 256;
                    Entry *ne = realloc(s->e, cap * sizeof *ne);
                    if (!ne) return -1;
                    s->e = ne, s->cap = cap;
                }
                s->e[s->n++] = (Entry){l, (int32_t)x, (int32_t)x};
            }
        }
        s->e[at].x1 = (int32_t)x; /* x only grows along the row */
    }
    if (s->n - first > 1) qsort(s->e + first, s->n - first, sizeof *s->e, cmp_entry);
    return (int64_t)(s->n - first);
}

void md_label_rows_free(MdLabelRows *r)
{
    free(r->start);
    free(r->label);
    memset(r, 0, sizeof *r);
}

int md_label_rows_has(const MdLabelRows *r, int64_t y, int64_t z, double label)
{
    int64_t lo = r->start[z * r->ny + y], hi = r->start[z * r->ny + y + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (r->label[mid] < label) lo = mid + 1;
        else hi = mid;
    }
    return lo < r->start[z * r->ny + y + 1] && r->label[lo] == label;
}

/* Joins the slices' entries into rows (row lists), the distinct labels and
 * their boxes. */
static MdStatus join(const MdVolume *v, SliceScan *sl, const int64_t *count, MdLabelRows *rows, double **labels,
                     int64_t **boxes, int64_t *n, MdError *err)
{
    int64_t ny = v->dim[1], nz = v->dim[2], nrows = ny * nz;
    size_t total = 0;
    for (int64_t z = 0; z < nz; z++) total += sl[z].n;
    rows->ny = ny, rows->nz = nz;
    rows->start = malloc((size_t)(nrows + 1) * sizeof(int64_t));
    rows->label = malloc((total + 1) * sizeof(double));
    double *lab = malloc((total + 1) * sizeof(double));
    if (!rows->start || !rows->label || !lab) {
        free(lab);
        return md_error(err, MD_ENOMEM, "label surfaces: out of memory for %zu row entries", total);
    }
    rows->start[0] = 0;
    for (int64_t r = 0; r < nrows; r++) rows->start[r + 1] = rows->start[r] + count[r];
    size_t w = 0;
    for (int64_t z = 0; z < nz; z++)
        for (size_t i = 0; i < sl[z].n; i++) rows->label[w++] = sl[z].e[i].label;
    memcpy(lab, rows->label, total * sizeof(double));
    qsort(lab, total, sizeof(double), cmp_double);
    size_t nl = 0;
    for (size_t i = 0; i < total; i++)
        if (i == 0 || lab[i] != lab[nl - 1]) lab[nl++] = lab[i];
    int64_t *box = malloc((nl + 1) * 6 * sizeof(int64_t));
    if (!box) {
        free(lab);
        return md_error(err, MD_ENOMEM, "label surfaces: out of memory for %zu boxes", nl);
    }
    for (size_t i = 0; i < nl; i++) {
        int64_t *b = box + 6 * i;
        for (int a = 0; a < 3; a++) b[a] = INT64_MAX, b[3 + a] = -1;
    }
    for (int64_t z = 0; z < nz; z++) {
        size_t i = 0;
        for (int64_t y = 0; y < ny; y++)
            for (int64_t c = 0; c < count[z * ny + y]; c++, i++) {
                const Entry *e = &sl[z].e[i];
                const double *p = bsearch(&e->label, lab, nl, sizeof(double), cmp_double);
                int64_t *b = box + 6 * (p - lab), lo[3] = {e->x0, y, z}, hi[3] = {e->x1, y, z};
                for (int a = 0; a < 3; a++) {
                    if (lo[a] < b[a]) b[a] = lo[a];
                    if (hi[a] > b[3 + a]) b[3 + a] = hi[a];
                }
            }
    }
    /* widened by one voxel so each surface closes inside its box */
    for (size_t i = 0; i < nl; i++)
        for (int a = 0; a < 3; a++) {
            int64_t *b = box + 6 * i;
            if (b[a] > 0) b[a]--;
            if (b[3 + a] + 1 < v->dim[a]) b[3 + a]++;
        }
    *labels = lab;
    *boxes = box;
    *n = (int64_t)nl;
    return MD_OK;
}

MdStatus md_mcubes_label_rows(const MdVolume *v, MdLabelRows *rows, double **labels, int64_t **boxes, int64_t *n,
                              MdCtx *ctx)
{
    MdError *err = ctx->err;
    memset(rows, 0, sizeof *rows);
    *labels = NULL, *boxes = NULL, *n = 0;
    int64_t nx = v->dim[0], ny = v->dim[1], nz = v->dim[2];
    SliceScan *sl = calloc((size_t)nz, sizeof *sl);
    int64_t *count = calloc((size_t)(ny * nz) + 1, sizeof *count);
    if (!sl || !count) {
        free(sl);
        free(count);
        return md_error(err, MD_ENOMEM, "label surfaces: out of memory");
    }
    int fail = MD_OK;
    size_t done = 0;
    const void *data = md_volume_data(v);
#pragma omp parallel if (md_par_worth((double)nx * (double)ny * (double)nz)) num_threads(ctx->threads)
    {
        double *row = malloc((size_t)nx * sizeof(double));
        if (!row) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(dynamic, 1)
        for (int64_t z = 0; z < nz; z++) {
            SliceScan *s = &sl[z];
            s->bad_x = s->bad_y = -1;
            if (md_par_stopped(&fail) || md_par_poll_cancel(&fail)) continue;
            for (int64_t y = 0; y < ny && s->bad_x < 0; y++) {
                md_rows_to_f64(data, v->dtype, (size_t)((z * ny + y) * nx), (size_t)nx, row);
                int64_t c = scan_row(row, nx, y, s);
                if (c < 0) {
                    md_par_fail(&fail, MD_ENOMEM);
                    break;
                }
                count[z * ny + y] = c;
            }
            size_t d = __atomic_add_fetch(&done, 1, __ATOMIC_RELAXED);
            if (md_par_thread() == 0) md_ctx_progress(ctx, d, (size_t)nz);
        }
        free(row);
    }
    MdStatus st = fail ? md_par_status(fail, "label surfaces", err) : MD_OK;
    for (int64_t z = 0; z < nz && st == MD_OK; z++)
        if (sl[z].bad_x >= 0)
            st = md_error(err, MD_EINVAL, "label volumes hold integers (found %g at voxel %lld, %lld, %lld)",
                          sl[z].bad, (long long)sl[z].bad_x + 1, (long long)sl[z].bad_y + 1, (long long)z + 1);
    if (st == MD_OK) st = join(v, sl, count, rows, labels, boxes, n, err);
    if (st != MD_OK) md_label_rows_free(rows);
    for (int64_t z = 0; z < nz; z++) free(sl[z].e);
    free(sl);
    free(count);
    return st;
}
