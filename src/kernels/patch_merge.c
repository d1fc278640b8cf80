/* Weighted running-mean merge of patches, over all planes or over a ring
 * of planes (streaming). Each row update is two steps: every voxel's share
 * r = w / W of the new patch (from summed weights, or from patch counts
 * when every voxel weighs 1), then the running mean of every channel. Each
 * step is written once per accumulator type through a small macro; patch
 * rows of any dtype are converted to that type one row at a time. */
#include "patch_merge.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/ctx.h"
#include "../core/rows.h"

enum { CHUNK = 4096 }; /* voxels per coverage row on the stack */

/* Row loops have no dependence between voxels: let the compiler use
 * vector instructions (it would not, at -O2, for loops of unknown length). */
#ifdef _OPENMP
#define SIMD _Pragma("omp simd")
#else
#define SIMD
#endif
/* ...keep them out of line (inlined into the parallel region, gcc compiles
 * the scalar version), and let gcc turn the running mean's select into a
 * vector blend: with trapping math it keeps a branch, though no value
 * changes (the arithmetic is done either way). */
#if defined(__GNUC__) && !defined(__clang__)
#define ROW_FN static __attribute__((noinline, optimize("no-trapping-math")))
#elif defined(__GNUC__)
#define ROW_FN static __attribute__((noinline))
#else
#define ROW_FN static
#endif

/* The most patches that cover one voxel along axis a. */
static int64_t axis_max_cover(const MdPatchGrid *g, int a)
{
    int64_t best = 0;
    for (int64_t i = 0; i < g->count[a]; i++) {
        int64_t s = md_patch_axis_start(g, a, i), k = 0;
        for (int64_t j = i; j < g->count[a] && md_patch_axis_start(g, a, j) <= s; j++) k++;
        for (int64_t j = i - 1; j >= 0 && md_patch_axis_start(g, a, j) + g->patch[a] > s; j--) k++;
        if (k > best) best = k;
    }
    return best;
}

void md_merge_init(MdPatchMerger *m, const MdPatchGrid *g, int dbl, int streaming)
{
    memset(m, 0, sizeof *m);
    m->grid = *g;
    m->dbl = dbl != 0;
    /* every voxel weighs 1: count patches in the smallest integer type that
     * holds the most overlapping ones (a quarter of float32's memory at the
     * usual overlaps) */
    double most = (double)axis_max_cover(g, 0) * (double)axis_max_cover(g, 1) *
                  (double)axis_max_cover(g, 2);
    m->wtype = most <= 255 ? MD_UINT8 : most <= 65535 ? MD_UINT16 : dbl ? MD_FLOAT64 : MD_FLOAT32;
    int A = g->ndim - 1;
    m->plane = A == 2 ? g->size[0] * g->size[1] : g->size[0];
    m->nplanes = g->size[A];
    m->window = m->nplanes;
    if (streaming && g->patch[A] < m->nplanes) {
        m->streaming = 1;
        m->window = g->patch[A];
    }
}

void md_merge_free(MdPatchMerger *m)
{
    free(m->wmap);
    free(m->seen);
    if (m->acc) md_buffer_release(m->acc);
    if (m->wsum) md_buffer_release(m->wsum);
    m->wmap = NULL;
    m->seen = NULL;
    m->acc = m->wsum = NULL;
}

static size_t patch_voxels(const MdPatchGrid *g)
{
    return (size_t)g->patch[0] * (size_t)g->patch[1] * (size_t)g->patch[2];
}

/* One axis factor of the Gaussian map, in float32 as torch evaluates it. */
static float gauss_axis(int64_t p, double sigma_scale, int64_t i)
{
    double sigma = sigma_scale * (double)p;
    float denom = (float)(-2.0 * sigma * sigma);
    float x = (float)((double)i - (double)(p - 1) / 2.0);
    return expf(x * x / denom);
}

void md_patch_gaussian(int ndim, const int64_t patch[3], const double sigma_scale[3], float *out)
{
    int64_t p[3] = {patch[0], patch[1], ndim == 3 ? patch[2] : 1};
    size_t k = 0;
    float lo = INFINITY;
    for (int64_t z = 0; z < p[2]; z++)
        for (int64_t y = 0; y < p[1]; y++)
            for (int64_t x = 0; x < p[0]; x++, k++) {
                /* MONAI multiplies axis 0 by axis 1, then by axis 2 */
                float w = gauss_axis(p[0], sigma_scale[0], x) * gauss_axis(p[1], sigma_scale[1], y);
                if (ndim == 3) w *= gauss_axis(p[2], sigma_scale[2], z);
                out[k] = w;
                if (w < lo) lo = w;
            }
    float floor_w = lo > 1e-3f ? lo : 1e-3f;
    for (size_t i = 0; i < k; i++)
        if (out[i] < floor_w) out[i] = floor_w;
}

MdStatus md_merge_set_gaussian(MdPatchMerger *m, const double sigma_scale[3], MdError *err)
{
    if (m->added) return md_error(err, MD_EINVAL, "weights must be set before the first patch");
    for (int a = 0; a < m->grid.ndim; a++)
        if (!(sigma_scale[a] > 0) || !isfinite(sigma_scale[a]))
            return md_error(err, MD_EINVAL, "sigma_scale must be > 0 (got %g on axis %d)",
                            sigma_scale[a], a + 1);
    float *w = malloc(patch_voxels(&m->grid) * sizeof *w);
    if (!w) return md_error(err, MD_ENOMEM, "out of memory for the weight map");
    md_patch_gaussian(m->grid.ndim, m->grid.patch, sigma_scale, w);
    free(m->wmap);
    m->wmap = w;
    m->wtype = m->dbl ? MD_FLOAT64 : MD_FLOAT32;
    return MD_OK;
}

MdStatus md_merge_set_map(MdPatchMerger *m, const MdVolume *map, MdError *err)
{
    if (m->added) return md_error(err, MD_EINVAL, "weights must be set before the first patch");
    int64_t c;
    if (md_patch_layout(&m->grid, map, m->grid.patch, "the weight map", &c, err) != MD_OK)
        return MD_EINVAL;
    if (c != 1) return md_error(err, MD_EINVAL, "the weight map must have one channel");
    size_t n = patch_voxels(&m->grid);
    float *w = malloc(n * sizeof *w);
    if (!w) return md_error(err, MD_ENOMEM, "out of memory for the weight map");
    for (size_t i = 0; i < n; i++) {
        double x = md_load(md_volume_data(map), map->dtype, i);
        if (!(x > 0) || !isfinite(x)) {
            free(w);
            return md_error(err, MD_EINVAL, "weights must be > 0 and finite (got %g at voxel %zu)",
                            x, i + 1);
        }
        w[i] = (float)x;
    }
    free(m->wmap);
    m->wmap = w;
    m->wtype = m->dbl ? MD_FLOAT64 : MD_FLOAT32;
    return MD_OK;
}

/* Patch row index along the slowest spatial axis. */
static int64_t patch_row(const MdPatchGrid *g, size_t n)
{
    if (g->ndim == 3) return (int64_t)(n / ((size_t)g->count[0] * (size_t)g->count[1]));
    return (int64_t)(n / (size_t)g->count[0]);
}

MdStatus md_merge_pending(const MdPatchMerger *m, size_t n, int64_t *plane_end, MdError *err)
{
    *plane_end = m->lo;
    if (m->seen && (m->seen[n / 8] >> (n % 8) & 1))
        return md_error(err, MD_EINVAL, "patch %zu was already added (each patch is merged once)",
                        n + 1);
    if (!m->streaming) return MD_OK;
    int64_t row = patch_row(&m->grid, n);
    if (m->added && row < m->row)
        return md_error(err, MD_EINVAL,
                        "patch %zu lies in slab row %lld, already written out (a streaming "
                        "merger takes patches in grid order; row %lld is open)",
                        n + 1, (long long)row + 1, (long long)m->row + 1);
    int64_t s = md_patch_axis_start(&m->grid, m->grid.ndim - 1, row);
    *plane_end = s > m->lo ? (s < m->nplanes ? s : m->nplanes) : m->lo;
    return MD_OK;
}

static MdStatus alloc_acc(MdPatchMerger *m, int64_t channels, MdError *err)
{
    size_t es = m->dbl ? sizeof(double) : sizeof(float), vox = 0, per = 0, all = 0, wb = 0;
    if (md_checked_mul(&vox, (size_t)m->window, (size_t)m->plane, err) != MD_OK ||
        md_checked_mul(&per, vox, es, err) != MD_OK ||
        md_checked_mul(&all, per, (size_t)channels, err) != MD_OK ||
        md_checked_mul(&wb, vox, md_dtype_size(m->wtype), err) != MD_OK)
        return MD_ETOOBIG;
    m->seen = calloc(md_patch_count(&m->grid) / 8 + 1, 1);
    if (!m->seen) return md_error(err, MD_ENOMEM, "out of memory for the patch list");
    if (md_buffer_new(&m->wsum, wb, 1, err) != MD_OK) goto fail;
    if (md_buffer_new(&m->acc, all, 1, err) != MD_OK) {
        md_buffer_release(m->wsum);
        m->wsum = NULL;
        goto fail;
    }
    m->channels = channels;
    return MD_OK;
fail:
    free(m->seen);
    m->seen = NULL;
    return MD_ENOMEM;
}

/* x[0..n) = src[0..n) of dtype t converted to T (the row converters). */
#define load_row_float(src, t, n, x) md_rows_to_f32(src, t, 0, n, x)
#define load_row_double(src, t, n, x) md_rows_to_f64(src, t, 0, n, x)

/* Each voxel's share of the new patch, r = w / W, updating W: summed
 * weights (w from the map), or patch counts C when every voxel weighs 1. */
#define SHARE_WEIGHTED(T)                                                                 \
    ROW_FN void share_weighted_##T(void *wsum, const float *w, size_t n, T *r)            \
    {                                                                                     \
        T *W = wsum;                                                                      \
        SIMD for (size_t i = 0; i < n; i++) {                                             \
            T wi = w ? (T)w[i] : (T)1;                                                    \
            T s = W[i] + wi;                                                              \
            W[i] = s;                                                                     \
            r[i] = wi / s;                                                                \
        }                                                                                 \
    }
#define SHARE_COUNT(T, C)                                                                 \
    ROW_FN void share_count_##T##_##C(void *wsum, size_t n, T *r)                         \
    {                                                                                     \
        C *W = wsum;                                                                      \
        SIMD for (size_t i = 0; i < n; i++) {                                             \
            C k = (C)(W[i] + 1);                                                          \
            W[i] = k;                                                                     \
            r[i] = (T)1 / (T)k;                                                           \
        }                                                                                 \
    }
/* One channel's running mean: m += r (x - m); x == m keeps m exactly
 * (identical copies merge to themselves, infinities included). The new
 * value is computed unconditionally so that the select vectorises. */
#define MEAN_STEP(T)                                                                      \
    ROW_FN void mean_step_##T(T *restrict m, const T *restrict x, const T *restrict r,    \
                              size_t n)                                                   \
    {                                                                                     \
        SIMD for (size_t i = 0; i < n; i++) {                                             \
            T mi = m[i], xi = x[i], next = mi + r[i] * (xi - mi);                         \
            m[i] = xi == mi ? mi : next;                                                  \
        }                                                                                 \
    }
#define UPDATE(T)                                                                         \
    static void update_##T(T *acc, size_t acc_cstride, const unsigned char *src,          \
                           size_t src_cstride, MdDtype t, int64_t channels, size_t n,     \
                           const T *r, T *x)                                              \
    {                                                                                     \
        size_t es = md_dtype_size(t);                                                     \
        for (int64_t c = 0; c < channels; c++) {                                          \
            const void *row = src + (size_t)c * src_cstride * es;                         \
            if (t != SAME_##T) /* patches of the accumulator's type need no copy */       \
                load_row_##T(row, t, n, x);                                               \
            mean_step_##T(acc + (size_t)c * acc_cstride, t == SAME_##T ? row : x, r, n);  \
        }                                                                                 \
    }
#define SAME_float MD_FLOAT32
#define SAME_double MD_FLOAT64
MEAN_STEP(float)
MEAN_STEP(double)
SHARE_WEIGHTED(float)
SHARE_WEIGHTED(double)
SHARE_COUNT(float, uint8_t)
SHARE_COUNT(float, uint16_t)
SHARE_COUNT(double, uint8_t)
SHARE_COUNT(double, uint16_t)
UPDATE(float)
UPDATE(double)
#undef SHARE_WEIGHTED
#undef SHARE_COUNT
#undef MEAN_STEP
#undef UPDATE
#undef SAME_float
#undef SAME_double

/* The common case in one pass: float32 voxels of one channel, counted
 * (every voxel weighs 1) in uint8: count, share and mean together, so the
 * row of shares never goes through memory (a third faster). */
ROW_FN void count_mean_u8(float *restrict m, uint8_t *restrict k, const float *restrict x,
                          size_t n)
{
    SIMD for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)(k[i] + 1);
        k[i] = c;
        float mi = m[i], xi = x[i], next = mi + (xi - mi) / (float)c;
        m[i] = xi == mi ? mi : next;
    }
}

/* One patch row: shares, then channels. w: the row's weights or NULL;
 * wsum: the row's weight accumulator; acc: channel 0 of the row. */
static void add_row(const MdPatchMerger *m, void *acc, size_t ac, void *wsum, const float *w,
                    const unsigned char *src, size_t pc, MdDtype t, size_t n, void *x, void *r)
{
    if (m->dbl) {
        if (m->wtype == MD_UINT8) share_count_double_uint8_t(wsum, n, r);
        else if (m->wtype == MD_UINT16) share_count_double_uint16_t(wsum, n, r);
        else share_weighted_double(wsum, w, n, r);
        update_double(acc, ac, src, pc, t, m->channels, n, r, x);
    } else if (m->wtype == MD_UINT8 && m->channels == 1 && t == MD_FLOAT32) {
        count_mean_u8(acc, wsum, (const float *)src, n);
    } else {
        if (m->wtype == MD_UINT8) share_count_float_uint8_t(wsum, n, r);
        else if (m->wtype == MD_UINT16) share_count_float_uint16_t(wsum, n, r);
        else share_weighted_float(wsum, w, n, r);
        update_float(acc, ac, src, pc, t, m->channels, n, r, x);
    }
}

/* The rows of patch n that fall inside the volume, with where they go. */
typedef struct RowJob {
    int64_t start[3], x0, x1; /* x0..x1: the part of each row inside the volume, patch x */
    size_t rows;              /* py * pz */
} RowJob;

static void row_job(const MdPatchMerger *m, size_t n, RowJob *j)
{
    const MdPatchGrid *g = &m->grid;
    md_patch_start(g, n, j->start);
    j->x0 = 0;
    j->x1 = g->size[0] - j->start[0];
    if (j->x1 > g->patch[0]) j->x1 = g->patch[0];
    j->rows = (size_t)g->patch[1] * (size_t)g->patch[2];
}

/* Accumulator offset (voxels, channel 0) of volume row (y, z), or -1 when
 * the row is outside the volume. */
static int64_t acc_row(const MdPatchMerger *m, int64_t y, int64_t z)
{
    const MdPatchGrid *g = &m->grid;
    if (y < 0 || y >= g->size[1] || z < 0 || z >= g->size[2]) return -1;
    int64_t p = g->ndim == 3 ? z : y;
    int64_t slot = p % m->window;
    return slot * m->plane + (g->ndim == 3 ? y * g->size[0] : 0);
}

static MdStatus add_rows(MdPatchMerger *m, const RowJob *j, const MdVolume *patch, MdError *err)
{
    const MdPatchGrid *g = &m->grid;
    size_t es = m->dbl ? sizeof(double) : sizeof(float);
    size_t n = (size_t)(j->x1 - j->x0), pc = patch_voxels(g), ac = (size_t)(m->window * m->plane);
    const unsigned char *pdata = md_volume_data(patch);
    size_t pes = md_dtype_size(patch->dtype), wes = md_dtype_size(m->wtype);
    int fail = MD_OK;
#pragma omp parallel if (md_par_worth((double)(j->rows * n) / MD_PATCH_CHEAP))
    {
        void *scratch = malloc(2 * (size_t)g->patch[0] * es);
        if (!scratch) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (size_t r = 0; r < j->rows; r++) {
            if (md_par_stopped(&fail) || ((r & 255) == 0 && md_par_poll_cancel(&fail))) continue;
            int64_t ky = (int64_t)(r % (size_t)g->patch[1]), kz = (int64_t)(r / (size_t)g->patch[1]);
            int64_t off = acc_row(m, j->start[1] + ky, j->start[2] + kz);
            if (off < 0) continue;
            off += j->start[0] + j->x0;
            size_t prow = r * (size_t)g->patch[0] + (size_t)j->x0;
            const float *w = m->wmap ? m->wmap + prow : NULL;
            add_row(m, (unsigned char *)m->acc->data + (size_t)off * es, ac,
                    (unsigned char *)m->wsum->data + (size_t)off * wes, w, pdata + prow * pes, pc,
                    patch->dtype, n, scratch, (unsigned char *)scratch + (size_t)g->patch[0] * es);
        }
        free(scratch);
    }
    if (fail == MD_ENOMEM) return md_error(err, MD_ENOMEM, "out of memory for a row buffer");
    return md_par_status(fail, "merge", err);
}

MdStatus md_merge_add(MdPatchMerger *m, size_t n, const MdVolume *patch, MdError *err)
{
    const MdPatchGrid *g = &m->grid;
    if (m->taken) return md_error(err, MD_EINVAL, "the merger is finished (its result was taken)");
    if (n >= md_patch_count(g))
        return md_error(err, MD_EINVAL, "patch %zu out of range 1..%zu", n + 1, md_patch_count(g));
    char what[48];
    snprintf(what, sizeof what, "patch %zu", n + 1);
    int64_t c;
    if (md_patch_layout(g, patch, g->patch, what, &c, err) != MD_OK) return MD_EINVAL;
    if (m->acc && c != m->channels)
        return md_error(err, MD_EINVAL, "%s has %lld channels, earlier patches had %lld", what,
                        (long long)c, (long long)m->channels);
    int64_t end;
    if (md_merge_pending(m, n, &end, err) != MD_OK) return MD_EINVAL;
    if (end > m->lo)
        return md_error(err, MD_EINVAL, "planes before %lld must be emitted before %s",
                        (long long)end + 1, what);
    if (!m->acc && alloc_acc(m, c, err) != MD_OK) return MD_ENOMEM;
    RowJob j;
    row_job(m, n, &j);
    if (j.x1 > j.x0) {
        MdStatus st = add_rows(m, &j, patch, err);
        if (st != MD_OK) return st;
    }
    m->row = patch_row(g, n);
    m->seen[n / 8] |= (uint8_t)(1u << (n % 8));
    m->added++;
    return MD_OK;
}

/* Channels and planes of an output volume for this merger. */
static MdStatus check_dst(const MdPatchMerger *m, const MdVolume *dst, int64_t channels,
                          int64_t need_planes, MdError *err)
{
    const MdPatchGrid *g = &m->grid;
    int A = g->ndim - 1;
    int ok = dst->dim[0] == g->size[0] && (A == 1 || dst->dim[1] == g->size[1]) &&
             dst->dim[A] >= need_planes;
    int64_t c = dst->ndim == 4 ? dst->dim[3] : 1;
    if (g->ndim == 2) ok = ok && (dst->ndim == 2 || dst->dim[2] == 1);
    if (!ok || c != channels) {
        char shape[96];
        return md_error(err, MD_EINVAL, "the output (%s) does not fit the merged planes (%lld channels, %lld planes)",
                        md_volume_shape_text(dst, shape, sizeof shape), (long long)channels,
                        (long long)need_planes);
    }
    return MD_OK;
}

/* cov[i] = 1 where the weight accumulator w (type t) is > 0. */
static void covered_row(const void *w, MdDtype t, size_t n, uint8_t *cov)
{
    switch (t) {
#define COV_CASE(tag, name, ctype, isf) \
    case MD_##tag: SIMD for (size_t i = 0; i < n; i++) cov[i] = ((const ctype *)w)[i] > 0; break;
        MD_DTYPE_LIST(COV_CASE)
#undef COV_CASE
    default: break;
    }
}

/* Stores n accumulator values as dtype t at dst: the mean where covered,
 * fill elsewhere, rounded and saturated for integer types. */
static void store_row(void *dst, MdDtype t, const void *a, int dbl, const uint8_t *cov, size_t n,
                      double fill)
{
    double v[CHUNK];
    if (dbl)
        for (size_t i = 0; i < n; i++) v[i] = cov[i] ? ((const double *)a)[i] : fill;
    else
        for (size_t i = 0; i < n; i++) v[i] = cov[i] ? (double)((const float *)a)[i] : fill;
    md_rows_from_f64(dst, t, 0, n, v, MD_ROUND_NEAREST);
}

/* n voxels of value x (rounded, saturated) at dst. */
static void fill_plane(unsigned char *dst, MdDtype t, size_t n, double x)
{
    _Alignas(double) unsigned char elem[8] = {0};
    size_t es = md_dtype_size(t);
    md_store(elem, t, 0, md_saturate(x, t));
    for (size_t i = 0; i < n; i++) memcpy(dst + i * es, elem, es);
}


/* One plane of channel c (held in ring slot `slot`) into d: values or,
 * with mask, the coverage. */
static void emit_plane(const MdPatchMerger *m, size_t slot, int64_t c, int mask, double fill,
                       MdDtype t, unsigned char *d)
{
    size_t plane = (size_t)m->plane, es = md_dtype_size(t), wes = md_dtype_size(m->wtype);
    size_t aes = m->dbl ? sizeof(double) : sizeof(float), ac = (size_t)(m->window * m->plane);
    const unsigned char *w = (const unsigned char *)m->wsum->data + slot * plane * wes;
    const unsigned char *a = (const unsigned char *)m->acc->data + ((size_t)c * ac + slot * plane) * aes;
    uint8_t cov[CHUNK];
    for (size_t i = 0; i < plane; i += CHUNK) {
        size_t n = plane - i < CHUNK ? plane - i : CHUNK;
        if (mask) {
            covered_row(w + i * wes, m->wtype, n, d + i);
            continue;
        }
        covered_row(w + i * wes, m->wtype, n, cov);
        store_row(d + i * es, t, a + i * aes, m->dbl, cov, n, fill);
    }
}

/* Emits planes [p0, p1): values (mask == 0) or the coverage (mask != 0). */
static MdStatus emit(const MdPatchMerger *m, int64_t p0, int64_t p1, double fill, MdVolume *dst,
                     int64_t dst_p0, int mask, MdError *err)
{
    if (p0 < m->lo || p1 > m->nplanes || p0 > p1)
        return md_error(err, MD_EINVAL, "planes %lld..%lld are not available (held: %lld..%lld)",
                        (long long)p0 + 1, (long long)p1, (long long)m->lo + 1,
                        (long long)(m->lo + m->window < m->nplanes ? m->lo + m->window : m->nplanes));
    int64_t channels = mask ? 1 : (m->channels ? m->channels : 1);
    if (check_dst(m, dst, channels, dst_p0 + (p1 - p0), err) != MD_OK) return MD_EINVAL;
    int A = m->grid.ndim - 1;
    size_t plane = (size_t)m->plane, es = md_dtype_size(dst->dtype);
    size_t dst_cstride = (size_t)dst->dim[A] * plane;
    size_t jobs = (size_t)(p1 - p0) * (size_t)channels;
#pragma omp parallel for schedule(static) if (md_par_worth((double)(jobs * plane)))
    for (size_t k = 0; k < jobs; k++) {
        int64_t p = p0 + (int64_t)(k % (size_t)(p1 - p0)), c = (int64_t)(k / (size_t)(p1 - p0));
        unsigned char *d = (unsigned char *)md_volume_data(dst) +
                           ((size_t)c * dst_cstride + (size_t)(dst_p0 + p - p0) * plane) * es;
        /* a plane beyond the ring was never reached by a patch */
        if (!m->acc || p >= m->lo + m->window)
            fill_plane(d, dst->dtype, plane, mask ? 0 : fill);
        else
            emit_plane(m, (size_t)(p % m->window), c, mask, fill, dst->dtype, d);
    }
    return MD_OK;
}

MdStatus md_merge_emit(const MdPatchMerger *m, int64_t p0, int64_t p1, double fill,
                       MdVolume *dst, int64_t dst_p0, MdError *err)
{
    return emit(m, p0, p1, fill, dst, dst_p0, 0, err);
}

MdStatus md_merge_coverage(const MdPatchMerger *m, int64_t p0, int64_t p1, MdVolume *dst,
                           int64_t dst_p0, MdError *err)
{
    if (dst->dtype != MD_UINT8) return md_error(err, MD_EINVAL, "the coverage mask must be uint8");
    return emit(m, p0, p1, 0, dst, dst_p0, 1, err);
}

void md_merge_advance(MdPatchMerger *m, int64_t p_end)
{
    if (p_end <= m->lo) return;
    if (m->acc) {
        size_t aes = m->dbl ? sizeof(double) : sizeof(float), plane = (size_t)m->plane;
        size_t ac = (size_t)(m->window * m->plane), wes = md_dtype_size(m->wtype);
        int64_t stop = p_end < m->lo + m->window ? p_end : m->lo + m->window;
        for (int64_t p = m->lo; p < stop; p++) {
            size_t slot = (size_t)(p % m->window) * plane;
            memset((unsigned char *)m->wsum->data + slot * wes, 0, plane * wes);
            for (int64_t c = 0; c < m->channels; c++)
                memset((unsigned char *)m->acc->data + ((size_t)c * ac + slot) * aes, 0, plane * aes);
        }
    }
    m->lo = p_end;
}

/* Writes fill into the uncovered voxels of plane p, channel c, in place. */
static void fill_uncovered(MdPatchMerger *m, size_t p, int64_t c, double fill)
{
    size_t plane = (size_t)m->plane, wes = md_dtype_size(m->wtype), ac = (size_t)(m->window * m->plane);
    const unsigned char *w = (const unsigned char *)m->wsum->data + p * plane * wes;
    uint8_t cov[CHUNK];
    for (size_t i = 0; i < plane; i += CHUNK) {
        size_t n = plane - i < CHUNK ? plane - i : CHUNK;
        covered_row(w + i * wes, m->wtype, n, cov);
        for (size_t k = 0; k < n; k++) {
            if (cov[k]) continue;
            size_t at = (size_t)c * ac + p * plane + i + k;
            if (m->dbl)
                ((double *)m->acc->data)[at] = fill;
            else
                ((float *)m->acc->data)[at] = (float)fill;
        }
    }
}

MdStatus md_merge_take(MdPatchMerger *m, double fill, MdVolume *out, MdError *err)
{
    MdDtype want = m->dbl ? MD_FLOAT64 : MD_FLOAT32;
    if (m->streaming || !m->acc || out->dtype != want || m->lo != 0)
        return md_error(err, MD_EINVAL, "the merger's accumulator cannot become this volume");
    if (md_volume_nbytes(out) != m->acc->nbytes)
        return md_error(err, MD_EINVAL, "the result has %zu bytes, the accumulator %zu",
                        md_volume_nbytes(out), m->acc->nbytes);
    if (fill != 0) /* uncovered voxels hold 0 until now */
        for (int64_t c = 0; c < m->channels; c++)
            for (int64_t p = 0; p < m->nplanes; p++)
                fill_uncovered(m, (size_t)p, c, fill);
    md_buffer_retain(m->acc);
    out->buf = m->acc;
    out->offset = 0;
    m->taken = 1;
    return MD_OK;
}

size_t md_merge_bytes(const MdPatchGrid *g, int64_t channels, int dbl, int streaming, int weighted)
{
    MdPatchMerger m;
    md_merge_init(&m, g, dbl, streaming);
    size_t wes = weighted ? (dbl ? 8u : 4u) : md_dtype_size(m.wtype);
    return ((size_t)channels * (dbl ? 8u : 4u) + wes) * (size_t)m.window * (size_t)m.plane;
}
