/* Patch grids, patch copies and random training boxes. Copies move whole
 * rows with memcpy (elem_size bytes per voxel, no dtype dispatch); only the
 * padding value is converted once. Merging lives in patch_merge.c. */
#include "patch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/ctx.h"
#include "../core/par.h"
#include "../core/rng.h"

static const char *const mode_names[] = {"cover", "pad", "drop"};

/* Patches along one axis, and the error when the axis cannot be cut. */
static MdStatus axis_count(int a, int64_t size, int64_t patch, int64_t stride, MdPatchMode mode,
                           int64_t *count, MdError *err)
{
    if (size < 1 || patch < 1 || stride < 1)
        return md_error(err, MD_EINVAL,
                        "sizes must be >= 1 (axis %d: volume %lld, patch %lld, stride %lld)", a + 1,
                        (long long)size, (long long)patch, (long long)stride);
    if (mode != MD_PATCH_DROP && stride > patch)
        return md_error(err, MD_EINVAL,
                        "stride %lld is larger than the patch %lld on axis %d: '%s' mode would "
                        "leave voxels between patches (overlap must be >= 0)",
                        (long long)stride, (long long)patch, a + 1, mode_names[mode]);
    if (mode == MD_PATCH_DROP) {
        if (patch > size)
            return md_error(err, MD_EINVAL,
                            "patch %lld is larger than the volume (%lld) on axis %d: 'drop' mode "
                            "has no patch there (use mode 'cover' or 'pad')",
                            (long long)patch, (long long)size, a + 1);
        *count = (size - patch) / stride + 1;
    } else {
        /* one patch, then as many strides as it takes to reach the far edge */
        int64_t rest = size > patch ? size - patch : 0;
        *count = 1 + (rest + stride - 1) / stride;
    }
    return MD_OK;
}

MdStatus md_patch_grid_init(MdPatchGrid *g, int ndim, const int64_t size[3],
                            const int64_t patch[3], const int64_t stride[3], MdPatchMode mode,
                            MdError *err)
{
    if (ndim != 2 && ndim != 3)
        return md_error(err, MD_EINVAL, "a patch grid has 2 or 3 axes (got %d)", ndim);
    if ((int)mode < 0 || mode > MD_PATCH_DROP) return md_error(err, MD_EINVAL, "unknown grid mode");
    memset(g, 0, sizeof *g);
    g->ndim = ndim;
    g->mode = mode;
    size_t total = 1;
    for (int a = 0; a < 3; a++) {
        int used = a < ndim;
        g->size[a] = used ? size[a] : 1;
        g->patch[a] = used ? patch[a] : 1;
        g->stride[a] = used ? stride[a] : 1;
        MdStatus st = axis_count(a, g->size[a], g->patch[a], g->stride[a], mode, &g->count[a], err);
        if (st != MD_OK) return st;
        if (md_checked_mul(&total, total, (size_t)g->count[a], err) != MD_OK) return MD_ETOOBIG;
    }
    size_t pvox = 1;
    for (int a = 0; a < 3; a++)
        if (md_checked_mul(&pvox, pvox, (size_t)g->patch[a], err) != MD_OK) return MD_ETOOBIG;
    return MD_OK;
}

size_t md_patch_count(const MdPatchGrid *g)
{
    return (size_t)g->count[0] * (size_t)g->count[1] * (size_t)g->count[2];
}

int64_t md_patch_axis_start(const MdPatchGrid *g, int a, int64_t i)
{
    int64_t s = i * g->stride[a];
    if (g->mode == MD_PATCH_COVER) {
        int64_t last = g->size[a] - g->patch[a];
        if (last < 0) last = 0; /* a patch longer than the axis starts at 0 and is padded */
        if (s > last) s = last;
    }
    return s;
}

void md_patch_start(const MdPatchGrid *g, size_t n, int64_t start[3])
{
    size_t ix = n % (size_t)g->count[0], r = n / (size_t)g->count[0];
    size_t iy = r % (size_t)g->count[1], iz = r / (size_t)g->count[1];
    start[0] = md_patch_axis_start(g, 0, (int64_t)ix);
    start[1] = md_patch_axis_start(g, 1, (int64_t)iy);
    start[2] = md_patch_axis_start(g, 2, (int64_t)iz);
}

/* Voxels of axis a that at least one patch covers (the grid is separable,
 * so the covered voxels of the volume are the product over axes). */
static int64_t axis_covered(const MdPatchGrid *g, int a)
{
    int64_t covered = 0, reach = 0; /* reach: first index not yet counted */
    for (int64_t i = 0; i < g->count[a]; i++) {
        int64_t s = md_patch_axis_start(g, a, i), e = s + g->patch[a];
        if (e > g->size[a]) e = g->size[a];
        if (s < reach) s = reach;
        if (e > s) covered += e - s;
        if (e > reach) reach = e;
    }
    return covered;
}

size_t md_patch_uncovered(const MdPatchGrid *g)
{
    size_t all = 1, covered = 1;
    for (int a = 0; a < 3; a++) {
        all *= (size_t)g->size[a];
        covered *= (size_t)axis_covered(g, a);
    }
    return all - covered;
}

MdStatus md_patch_coverage(const MdPatchGrid *g, MdVolume *mask, MdError *err)
{
    int64_t c;
    if (md_patch_layout(g, mask, g->size, "the mask", &c, err) != MD_OK) return MD_EINVAL;
    if (mask->dtype != MD_UINT8 || c != 1)
        return md_error(err, MD_EINVAL, "the coverage mask must be uint8 with one channel");
    uint8_t *flags[3] = {NULL, NULL, NULL};
    MdStatus st = MD_OK;
    for (int a = 0; a < 3 && st == MD_OK; a++) {
        flags[a] = calloc((size_t)g->size[a], 1);
        if (!flags[a]) {
            st = md_error(err, MD_ENOMEM, "out of memory for coverage flags");
            break;
        }
        for (int64_t i = 0; i < g->count[a]; i++)
            for (int64_t k = md_patch_axis_start(g, a, i), e = k + g->patch[a]; k < e && k < g->size[a]; k++)
                flags[a][k] = 1;
    }
    if (st == MD_OK) {
        uint8_t *d = md_volume_data(mask);
        size_t k = 0;
        for (int64_t z = 0; z < g->size[2]; z++)
            for (int64_t y = 0; y < g->size[1]; y++)
                for (int64_t x = 0; x < g->size[0]; x++) d[k++] = flags[0][x] & flags[1][y] & flags[2][z];
    }
    for (int a = 0; a < 3; a++) free(flags[a]);
    return st;
}

MdStatus md_patch_layout(const MdPatchGrid *g, const MdVolume *v, const int64_t ext[3],
                         const char *what, int64_t *channels, MdError *err)
{
    int ok = v->dim[0] == ext[0] && v->dim[1] == ext[1];
    if (g->ndim == 3)
        ok = ok && v->ndim >= 3 && v->dim[2] == ext[2];
    else
        ok = ok && (v->ndim == 2 || v->dim[2] == 1); /* (x, y), (x, y, 1), (x, y, 1, C) */
    if (!ok) {
        char got[96];
        md_volume_shape_text(v, got, sizeof got);
        if (g->ndim == 3)
            return md_error(err, MD_EINVAL, "%s must be %lldx%lldx%lld (or with channels on axis 4), got %s",
                            what, (long long)ext[0], (long long)ext[1], (long long)ext[2], got);
        return md_error(err, MD_EINVAL, "%s must be %lldx%lld (or %lldx%lldx1xC with channels), got %s",
                        what, (long long)ext[0], (long long)ext[1], (long long)ext[0], (long long)ext[1],
                        got);
    }
    *channels = v->ndim == 4 ? v->dim[3] : 1;
    return MD_OK;
}

/* The padding value as one element of type t. */
static void pad_element(MdDtype t, double pad, unsigned char elem[8])
{
    memset(elem, 0, 8);
    md_store(elem, t, 0, md_saturate(pad, t));
}

static void fill_elems(unsigned char *dst, const unsigned char *elem, size_t es, size_t n, int zero)
{
    if (zero) {
        memset(dst, 0, n * es);
        return;
    }
    for (size_t i = 0; i < n; i++) memcpy(dst + i * es, elem, es);
}

/* One row of a box: ext[0] elements at (y, z, c) of the box starting at start. */
static void copy_row(const MdVolume *src, const int64_t start[3], const int64_t ext[3],
                     int64_t y, int64_t z, int64_t c, const unsigned char *elem, int zero,
                     unsigned char *dst)
{
    size_t es = md_dtype_size(src->dtype);
    int64_t sy = start[1] + y, sz = start[2] + z;
    if (sy < 0 || sy >= src->dim[1] || sz < 0 || sz >= src->dim[2]) {
        fill_elems(dst, elem, es, (size_t)ext[0], zero);
        return;
    }
    int64_t x0 = start[0] < 0 ? -start[0] : 0;            /* first box x inside src */
    int64_t x1 = src->dim[0] - start[0];                   /* box x past src's far edge */
    if (x1 > ext[0]) x1 = ext[0];
    if (x1 < x0) x1 = x0;
    if (x0 > 0) fill_elems(dst, elem, es, (size_t)(x0 < ext[0] ? x0 : ext[0]), zero);
    if (x1 > x0) {
        size_t off = (((size_t)c * (size_t)src->dim[2] + (size_t)sz) * (size_t)src->dim[1] + (size_t)sy) *
                         (size_t)src->dim[0] + (size_t)(start[0] + x0);
        memcpy(dst + (size_t)x0 * es, (const unsigned char *)md_volume_data(src) + off * es,
               (size_t)(x1 - x0) * es);
    }
    if (x1 < ext[0] && x1 >= x0) fill_elems(dst + (size_t)x1 * es, elem, es, (size_t)(ext[0] - x1), zero);
}

/* Rows of `boxes` boxes, each at starts[3*b], copied into dst one after the
 * other. Parallel over rows; stops early when cancelled. */
static MdStatus copy_boxes(const MdVolume *src, const int64_t *starts, size_t boxes,
                           const int64_t ext[3], double pad, unsigned char *dst, MdError *err)
{
    int64_t channels = src->ndim == 4 ? src->dim[3] : 1;
    size_t es = md_dtype_size(src->dtype);
    _Alignas(double) unsigned char elem[8];
    pad_element(src->dtype, pad, elem);
    static const unsigned char zeros[8] = {0};
    int zero = memcmp(elem, zeros, es) == 0;
    size_t rows_per_box = (size_t)ext[1] * (size_t)ext[2] * (size_t)channels;
    size_t rows = rows_per_box * boxes, row_bytes = (size_t)ext[0] * es;
    int fail = MD_OK;
    /* one patch at a time (grid:patches, grid:map) stays on one thread below
     * 4 Mi voxels (MD_PATCH_CHEAP): a thread team per 96^3 patch costs more
     * than it saves, and on a busy machine far more */
#pragma omp parallel for schedule(static) if (md_par_worth((double)(rows * (size_t)ext[0]) / MD_PATCH_CHEAP))
    for (size_t r = 0; r < rows; r++) {
        if (md_par_stopped(&fail) || ((r & 1023) == 0 && md_par_poll_cancel(&fail))) continue;
        size_t b = r / rows_per_box, q = r % rows_per_box;
        int64_t y = (int64_t)(q % (size_t)ext[1]);
        q /= (size_t)ext[1];
        int64_t z = (int64_t)(q % (size_t)ext[2]), c = (int64_t)(q / (size_t)ext[2]);
        copy_row(src, starts + 3 * b, ext, y, z, c, elem, zero, dst + r * row_bytes);
    }
    return md_par_status(fail, "patch copy", err);
}

MdStatus md_patch_copy_box(const MdVolume *src, const int64_t start[3], const int64_t ext[3],
                           double pad, void *dst, MdError *err)
{
    return copy_boxes(src, start, 1, ext, pad, dst, err);
}

MdStatus md_patch_extract(const MdVolume *src, const MdPatchGrid *g, size_t n, double pad,
                          MdVolume *dst, MdError *err)
{
    int64_t cs, cd;
    if (md_patch_layout(g, src, g->size, "the volume", &cs, err) != MD_OK) return MD_EINVAL;
    if (md_patch_layout(g, dst, g->patch, "the patch", &cd, err) != MD_OK) return MD_EINVAL;
    if (n >= md_patch_count(g))
        return md_error(err, MD_EINVAL, "patch %zu out of range 1..%zu", n + 1, md_patch_count(g));
    if (cs != cd || src->dtype != dst->dtype)
        return md_error(err, MD_EINVAL, "the patch must have the volume's dtype and channels");
    int64_t start[3];
    md_patch_start(g, n, start);
    return copy_boxes(src, start, 1, g->patch, pad, md_volume_data(dst), err);
}

MdStatus md_patch_extract_stack(const MdVolume *src, const MdPatchGrid *g, size_t first,
                                size_t count, double pad, MdVolume *stack, MdError *err)
{
    int64_t cs;
    if (md_patch_layout(g, src, g->size, "the volume", &cs, err) != MD_OK) return MD_EINVAL;
    if (cs != 1)
        return md_error(err, MD_EINVAL,
                        "a stack holds single-channel patches (the volume has %lld channels: "
                        "use grid:patches or grid:map)", (long long)cs);
    if (first > md_patch_count(g) || count > md_patch_count(g) - first)
        return md_error(err, MD_EINVAL, "patches %zu..%zu out of range 1..%zu", first + 1,
                        first + count, md_patch_count(g));
    int sd = g->ndim; /* the stack axis */
    int ok = stack->ndim == g->ndim + 1 && stack->dtype == src->dtype &&
             stack->dim[sd] == (int64_t)count;
    for (int a = 0; a < g->ndim; a++) ok = ok && stack->dim[a] == g->patch[a];
    if (!ok) return md_error(err, MD_EINVAL, "the stack does not have the patches' shape and dtype");
    int64_t *starts = malloc(3 * (count ? count : 1) * sizeof *starts);
    if (!starts) return md_error(err, MD_ENOMEM, "out of memory for %zu patch starts", count);
    for (size_t i = 0; i < count; i++) md_patch_start(g, first + i, starts + 3 * i);
    MdStatus st = copy_boxes(src, starts, count, g->patch, pad, md_volume_data(stack), err);
    free(starts);
    return st;
}

/* ---- random boxes ---------------------------------------------------- */

/* Counter-based draws (core/rng.h): draw j of box k is value k * DRAWS + j
 * of the seed's stream, so a box never depends on the boxes before it. */
enum { DRAWS = 8, DRAW_CLASS = 3, DRAW_RANK = 4 }; /* 0..2: the start on each axis */

/* Uniform integer in [0, n), n >= 1 (53 random bits: exact for any volume). */
static uint64_t draw_below(uint64_t key, size_t box, int j, uint64_t n)
{
    uint64_t k = md_rng_below(key, (uint64_t)box * DRAWS + (uint64_t)j, n);
    return k < n ? k : n - 1;
}

/* Lowest and highest start along axis a: a patch longer than the axis is
 * centred (padding split as nnU-Net splits it, the odd voxel at the end). */
static void start_range(int64_t size, int64_t patch, int64_t *lo, int64_t *hi)
{
    int64_t need = patch > size ? patch - size : 0;
    *lo = -(need / 2);
    *hi = size + need / 2 + need % 2 - patch;
}

static void uniform_start(uint64_t key, size_t box, const int64_t size[3], const MdPatchSampleOpts *o,
                          int64_t *start)
{
    for (int a = 0; a < 3; a++) {
        if (a >= o->ndim) {
            start[a] = 0;
            continue;
        }
        int64_t lo, hi;
        start_range(size[a], o->patch[a], &lo, &hi);
        start[a] = lo + (int64_t)draw_below(key, box, a, (uint64_t)(hi - lo + 1));
    }
}

void md_patch_sample_uniform(const int64_t size[3], const MdPatchSampleOpts *o, int64_t *starts)
{
    const uint64_t key = md_rng_key(o->seed, 0);
    for (size_t k = 0; k < o->n; k++) uniform_start(key, k, size, o, starts + 3 * k);
}

/* Voxel counts of each positive label value 1..maxlab. */
static MdStatus label_histogram(const MdVolume *label, size_t **hist, int64_t *maxlab, MdError *err)
{
    size_t n = md_volume_count(label);
    const void *p = md_volume_data(label);
    double mx = 0;
    for (size_t i = 0; i < n; i++) {
        double x = md_load(p, label->dtype, i);
        if (x > mx) mx = x;
    }
    if (mx > 16777216.0)
        return md_error(err, MD_EINVAL, "label values must be <= 16777216 (got %.0f)", mx);
    *maxlab = (int64_t)mx;
    *hist = calloc((size_t)*maxlab + 1, sizeof **hist);
    if (!*hist) return md_error(err, MD_ENOMEM, "out of memory for a label histogram");
    for (size_t i = 0; i < n; i++) {
        double x = md_load(p, label->dtype, i);
        if (x > 0) (*hist)[(int64_t)x]++;
    }
    return MD_OK;
}

/* The classes a forced sample may pick: those asked for (or all positive
 * values) that have at least one voxel. Returns how many, in *cls (new). */
static MdStatus eligible_classes(const size_t *hist, int64_t maxlab, const MdPatchSampleOpts *o,
                                 int64_t **cls, size_t *ncls, MdError *err)
{
    size_t cap = o->classes ? o->nclasses : (size_t)maxlab;
    *cls = malloc((cap ? cap : 1) * sizeof **cls);
    if (!*cls) return md_error(err, MD_ENOMEM, "out of memory for the class list");
    *ncls = 0;
    for (size_t i = 0; i < cap; i++) {
        int64_t c = o->classes ? o->classes[i] : (int64_t)i + 1;
        if (c >= 1 && c <= maxlab && hist[c] > 0) (*cls)[(*ncls)++] = c;
    }
    return MD_OK;
}

typedef struct FgRequest {
    int64_t cls;
    size_t rank;   /* which voxel of that class, in raster order */
    size_t sample; /* which sample asked */
} FgRequest;

static int cmp_request(const void *a, const void *b)
{
    const FgRequest *x = a, *y = b;
    if (x->cls != y->cls) return x->cls < y->cls ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* One raster pass resolving every request (sorted by class then rank) to a
 * voxel, and centring the sample's box on it. */
static MdStatus resolve_requests(const MdVolume *label, FgRequest *req, size_t nreq,
                                 int64_t maxlab, const MdPatchSampleOpts *o, int64_t *starts,
                                 MdError *err)
{
    MdStatus st = MD_OK;
    size_t *seen = calloc((size_t)maxlab + 1, sizeof *seen);
    size_t *next = calloc((size_t)maxlab + 1, sizeof *next); /* first request of each class */
    if (!seen || !next) {
        st = md_error(err, MD_ENOMEM, "out of memory for the label counts");
        goto done;
    }
    for (size_t i = nreq; i-- > 0;) next[req[i].cls] = i;
    size_t n = md_volume_count(label);
    const void *p = md_volume_data(label);
    for (size_t i = 0; i < n; i++) {
        double x = md_load(p, label->dtype, i);
        if (!(x > 0)) continue;
        int64_t c = (int64_t)x;
        size_t k = next[c];
        while (k < nreq && req[k].cls == c && req[k].rank == seen[c]) {
            int64_t v[3] = {(int64_t)(i % (size_t)label->dim[0]),
                            (int64_t)(i / (size_t)label->dim[0] % (size_t)label->dim[1]),
                            (int64_t)(i / ((size_t)label->dim[0] * (size_t)label->dim[1]))};
            for (int a = 0; a < o->ndim; a++) {
                int64_t lo, hi, s = v[a] - o->patch[a] / 2;
                start_range(label->dim[a], o->patch[a], &lo, &hi);
                starts[3 * req[k].sample + a] = s < lo ? lo : s > hi ? hi : s;
            }
            k++;
        }
        next[c] = k;
        seen[c]++;
    }
done:
    free(seen);
    free(next);
    return st;
}

MdStatus md_patch_sample(const MdVolume *label, const MdPatchSampleOpts *o, int64_t *starts,
                         uint8_t *is_fg, MdError *err)
{
    if (md_dtype_is_float(label->dtype))
        return md_error(err, MD_EINVAL, "the label must have an integer dtype (got %s)",
                        md_dtype_name(label->dtype));
    size_t *hist = NULL;
    int64_t *cls = NULL, maxlab = 0;
    FgRequest *req = NULL;
    size_t ncls = 0, nreq = 0;
    MdStatus st = label_histogram(label, &hist, &maxlab, err);
    if (st == MD_OK) st = eligible_classes(hist, maxlab, o, &cls, &ncls, err);
    if (st == MD_OK && !(req = malloc((o->n ? o->n : 1) * sizeof *req)))
        st = md_error(err, MD_ENOMEM, "out of memory for %zu samples", o->n);
    if (st != MD_OK) goto done;
    const uint64_t key = md_rng_key(o->seed, 0);
    /* nnU-Net: sample i is forced unless i < round(n * (1 - fraction)),
     * Python's round, halves to even (rint in the default rounding mode) */
    size_t random_count = (size_t)rint((double)o->n * (1.0 - o->fg_fraction));
    for (size_t k = 0; k < o->n; k++) {
        uniform_start(key, k, label->dim, o, starts + 3 * k);
        is_fg[k] = 0;
        if (k < random_count || ncls == 0) continue;
        int64_t c = cls[draw_below(key, k, DRAW_CLASS, ncls)];
        req[nreq].cls = c;
        req[nreq].rank = (size_t)draw_below(key, k, DRAW_RANK, hist[c]);
        req[nreq].sample = k;
        nreq++;
        is_fg[k] = 1;
    }
    qsort(req, nreq, sizeof *req, cmp_request);
    if (nreq) st = resolve_requests(label, req, nreq, maxlab, o, starts, err);
done:
    free(hist);
    free(cls);
    free(req);
    return st;
}
