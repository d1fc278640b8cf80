/* Region measurements over a label volume: one serial raster pass with
 * per-label accumulators (integer sums are exact; intensity sums add in
 * raster order), so results never depend on the thread count. Small labels
 * index their accumulator directly; larger ones go through a hash table of
 * the labels present, so time and memory follow the voxel count and the
 * number of distinct labels, never the label values. */
#include "label_props.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/ctx.h"
#include "../core/rows.h"

/* Labels up to this value index a table directly (at most a few MB). */
#define DIRECT_MAX 65536

typedef struct Acc {
    int64_t label, count, sum[3], lo[3], hi[3];
    double isum, imin, imax;
} Acc;

/* Accumulators by label: acc[label] when direct, else acc[0..n) in order of
 * first appearance, found through an open-addressing table of cells (keys
 * 0 = empty; labels stored are >= 1). */
typedef struct Table {
    int direct, bits;
    Acc *acc;
    size_t n, cap;
    int64_t *keys;
    size_t *slot;
} Table;

static size_t cell_of(int64_t label, int bits)
{
    return (size_t)(((uint64_t)label * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
}

/* Doubles the cells and re-inserts every label. */
static int grow_cells(Table *t)
{
    int bits = t->bits + 1;
    size_t cells = (size_t)1 << bits, mask = cells - 1;
    int64_t *keys = calloc(cells, sizeof *keys);
    size_t *slot = malloc(cells * sizeof *slot);
    if (!keys || !slot) {
        free(keys), free(slot);
        return 0;
    }
    for (size_t k = 0; k < t->n; k++) {
        size_t i = cell_of(t->acc[k].label, bits);
        while (keys[i]) i = (i + 1) & mask;
        keys[i] = t->acc[k].label;
        slot[i] = k;
    }
    free(t->keys), free(t->slot);
    t->keys = keys, t->slot = slot, t->bits = bits;
    return 1;
}

/* Index of label's accumulator, created empty when new; -1 when out of memory. */
static int64_t find(Table *t, int64_t label)
{
    if (t->direct) return label;
    size_t mask = ((size_t)1 << t->bits) - 1, i = cell_of(label, t->bits);
    while (t->keys[i]) {
        if (t->keys[i] == label) return (int64_t)t->slot[i];
        i = (i + 1) & mask;
    }
    if (2 * (t->n + 1) > mask + 1) {  /* keep the load at most 1/2 */
        if (!grow_cells(t)) return -1;
        return find(t, label);
    }
    if (t->n == t->cap) {
        size_t cap = 2 * t->cap;
        Acc *a = realloc(t->acc, cap * sizeof *a);
        if (!a) return -1;
        t->acc = a, t->cap = cap;
    }
    memset(&t->acc[t->n], 0, sizeof *t->acc);
    t->acc[t->n].label = label;
    t->keys[i] = label;
    t->slot[i] = t->n;
    return (int64_t)t->n++;
}

static MdStatus table_init(Table *t, int64_t maxl, MdError *err)
{
    memset(t, 0, sizeof *t);
    t->direct = maxl <= DIRECT_MAX;
    t->cap = t->direct ? (size_t)maxl + 1 : 64;
    t->bits = 7;
    t->acc = calloc(t->cap, sizeof *t->acc);
    if (!t->direct) {
        t->keys = calloc((size_t)1 << t->bits, sizeof *t->keys);
        t->slot = malloc(((size_t)1 << t->bits) * sizeof *t->slot);
    }
    if (!t->acc || (!t->direct && (!t->keys || !t->slot)))
        return md_error(err, MD_ENOMEM, "out of memory in regionprops");
    for (size_t l = 0; t->direct && l < t->cap; l++) t->acc[l].label = (int64_t)l;
    return MD_OK;
}

static void table_free(Table *t)
{
    free(t->acc), free(t->keys), free(t->slot);
}

static void add_voxel(Acc *a, const int64_t p[3], double v)
{
    if (a->count == 0) {
        for (int k = 0; k < 3; k++) a->lo[k] = a->hi[k] = p[k];
        a->imin = a->imax = v;
    }
    a->count++;
    for (int k = 0; k < 3; k++) {
        a->sum[k] += p[k];
        if (p[k] < a->lo[k]) a->lo[k] = p[k];
        if (p[k] > a->hi[k]) a->hi[k] = p[k];
    }
    a->isum += v;
    if (v < a->imin) a->imin = v;
    if (v > a->imax) a->imax = v;
}

/* Row buffers of one raster pass. */
typedef struct Rows {
    int64_t *lab;
    double *inten;
} Rows;

static int64_t largest_label(const MdVolume *labels, int64_t *lrow)
{
    int64_t nx = labels->dim[0], nrows = (int64_t)(md_volume_count(labels) / (size_t)nx), m = 0;
    for (int64_t r = 0; r < nrows; r++) {
        md_rows_to_i64(md_volume_data(labels), labels->dtype, (size_t)(r * nx), (size_t)nx, lrow);
        for (int64_t x = 0; x < nx; x++)
            if (lrow[x] > m) m = lrow[x];
    }
    return m;
}

static MdStatus accumulate(const MdVolume *labels, const MdVolume *intensity, Table *t, Rows *rows, MdError *err)
{
    int64_t nx = labels->dim[0], ny = labels->dim[1], nz = labels->ndim == 3 ? labels->dim[2] : 1;
    int64_t cur = -1, curlab = 0; /* the last label's accumulator: runs of one label are common */
    for (int64_t z = 0; z < nz; z++) {
        if (md_cancel_requested()) return md_error(err, MD_ECANCELLED, "regionprops cancelled");
        for (int64_t y = 0; y < ny; y++) {
            size_t start = (size_t)((z * ny + y) * nx);
            md_rows_to_i64(md_volume_data(labels), labels->dtype, start, (size_t)nx, rows->lab);
            if (intensity) md_rows_to_f64(md_volume_data(intensity), intensity->dtype, start, (size_t)nx, rows->inten);
            for (int64_t x = 0; x < nx; x++) {
                int64_t l = rows->lab[x];
                if (l < 1) continue;
                if (l != curlab || cur < 0) {
                    cur = find(t, l);
                    if (cur < 0) return md_error(err, MD_ENOMEM, "out of memory in regionprops");
                    curlab = l;
                }
                int64_t p[3] = {x, y, z};
                add_voxel(&t->acc[cur], p, intensity ? rows->inten[x] : 0);
            }
        }
    }
    return MD_OK;
}

static int by_label(const void *a, const void *b)
{
    int64_t x = ((const Acc *)a)->label, y = ((const Acc *)b)->label;
    return (x > y) - (x < y);
}

/* *regions (new) = the non-empty accumulators of t, by increasing label. */
static MdStatus collect(Table *t, MdRegion **regions, int64_t *n, MdError *err)
{
    size_t total = t->direct ? t->cap : t->n, k = 0;
    if (!t->direct) qsort(t->acc, t->n, sizeof *t->acc, by_label);
    for (size_t i = 0; i < total; i++) k += t->acc[i].count > 0;
    MdRegion *r = malloc((k + 1) * sizeof *r);
    if (!r) return md_error(err, MD_ENOMEM, "out of memory in regionprops");
    k = 0;
    for (size_t i = 0; i < total; i++) {
        const Acc *a = &t->acc[i];
        if (!a->count) continue;
        MdRegion *g = &r[k++];
        g->label = a->label;
        g->count = a->count;
        for (int d = 0; d < 3; d++) {
            g->lo[d] = a->lo[d];
            g->hi[d] = a->hi[d];
            g->centroid[d] = (double)a->sum[d] / (double)a->count;
        }
        g->mean = a->isum / (double)a->count;
        g->min = a->imin;
        g->max = a->imax;
    }
    *regions = r;
    *n = (int64_t)k;
    return MD_OK;
}

static int same_shape(const MdVolume *a, const MdVolume *b)
{
    if (a->ndim != b->ndim) return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->dim[d] != b->dim[d]) return 0;
    return 1;
}

/* Writes "AxBxC" for v's shape into buf. */
static const char *shape_text(const MdVolume *v, char *buf, size_t size)
{
    int used = 0;
    for (int d = 0; d < v->ndim && used >= 0 && (size_t)used < size; d++)
        used += snprintf(buf + used, size - (size_t)used, d ? "x%lld" : "%lld", (long long)v->dim[d]);
    return buf;
}

MdStatus md_regionprops(const MdVolume *labels, const MdVolume *intensity, MdRegion **regions, int64_t *n,
                        MdError *err)
{
    *regions = NULL;
    *n = 0;
    if (md_dtype_is_float(labels->dtype) || labels->ndim < 2 || labels->ndim > 3)
        return md_error(err, MD_EINVAL, "regionprops: labels must be a 2-D or 3-D integer volume");
    if (intensity && !same_shape(intensity, labels)) {
        char a[96], b[96];
        return md_error(err, MD_EINVAL, "regionprops: intensity shape %s differs from labels shape %s",
                        shape_text(intensity, a, sizeof a), shape_text(labels, b, sizeof b));
    }
    size_t nx = (size_t)labels->dim[0];
    Rows rows = {malloc(nx * sizeof *rows.lab), malloc(nx * sizeof *rows.inten)};
    Table t;
    memset(&t, 0, sizeof t);
    MdStatus st = MD_OK;
    int64_t maxl = 0;
    if (!rows.lab || !rows.inten) st = md_error(err, MD_ENOMEM, "out of memory in regionprops");
    if (st == MD_OK) maxl = largest_label(labels, rows.lab);
    if (st == MD_OK) st = table_init(&t, maxl, err);
    if (st == MD_OK) st = accumulate(labels, intensity, &t, &rows, err);
    if (st == MD_OK) st = collect(&t, regions, n, err);
    table_free(&t);
    free(rows.lab), free(rows.inten);
    return st;
}
