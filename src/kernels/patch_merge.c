/* Weighted running-mean merge of patches, over all planes or over a ring
 * of planes (streaming). One accumulator row update is written once per
 * accumulator type (float, double) through a small macro; patch rows of any
 * dtype are converted to that type one row at a time. */
#include "patch_merge.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/ctx.h"

void md_merge_init(MdPatchMerger *m, const MdPatchGrid *g, int dbl, int streaming)
{
    memset(m, 0, sizeof *m);
    m->grid = *g;
    m->dbl = dbl != 0;
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
    if (m->acc) md_buffer_release(m->acc);
    if (m->wsum) md_buffer_release(m->wsum);
    m->wmap = NULL;
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
    size_t es = m->dbl ? sizeof(double) : sizeof(float), per = 0, all = 0;
    if (md_checked_mul(&per, (size_t)m->window, (size_t)m->plane, err) != MD_OK ||
        md_checked_mul(&per, per, es, err) != MD_OK ||
        md_checked_mul(&all, per, (size_t)channels, err) != MD_OK)
        return MD_ETOOBIG;
    if (md_buffer_new(&m->wsum, per, 1, err) != MD_OK) return MD_ENOMEM;
    if (md_buffer_new(&m->acc, all, 1, err) != MD_OK) {
        md_buffer_release(m->wsum);
        m->wsum = NULL;
        return MD_ENOMEM;
    }
    m->channels = channels;
    return MD_OK;
}

/* x[0..n) = src[0..n) of dtype t converted to T. */
#define LOAD_ROW(T)                                                                   \
    static void load_row_##T(const void *src, MdDtype t, size_t n, T *x)              \
    {                                                                                 \
        switch (t) {                                                                  \
            MD_DTYPE_LIST(LOAD_CASE_##T)                                              \
        default: break;                                                               \
        }                                                                             \
    }
#define LOAD_CASE_float(tag, name, ctype, isf) \
    case MD_##tag: for (size_t i = 0; i < n; i++) x[i] = (float)((const ctype *)src)[i]; break;
#define LOAD_CASE_double(tag, name, ctype, isf) \
    case MD_##tag: for (size_t i = 0; i < n; i++) x[i] = (double)((const ctype *)src)[i]; break;
LOAD_ROW(float)
LOAD_ROW(double)
#undef LOAD_ROW
#undef LOAD_CASE_float
#undef LOAD_CASE_double

/* One patch row into the accumulators: first the summed weight and each
 * voxel's share r = w / W (shared by all channels), then every channel's
 * running mean. x == m keeps m as it is (also for infinities). */
#define ADD_ROW(T)                                                                           \
    static void add_row_##T(T *acc, size_t acc_cstride, T *wsum, const float *w,             \
                            const unsigned char *src, size_t src_cstride, MdDtype t,         \
                            int64_t channels, size_t n, T *x, T *r)                          \
    {                                                                                        \
        for (size_t i = 0; i < n; i++) {                                                     \
            T wi = w ? (T)w[i] : (T)1;                                                       \
            T W = wsum[i] + wi;                                                              \
            wsum[i] = W;                                                                     \
            r[i] = wi / W;                                                                   \
        }                                                                                    \
        size_t es = md_dtype_size(t);                                                        \
        for (int64_t c = 0; c < channels; c++) {                                             \
            load_row_##T(src + (size_t)c * src_cstride * es, t, n, x);                       \
            T *mc = acc + (size_t)c * acc_cstride;                                           \
            for (size_t i = 0; i < n; i++) {                                                 \
                T mi = mc[i], d = x[i] - mi;                                                 \
                mc[i] = x[i] == mi ? mi : mi + r[i] * d;                                     \
            }                                                                                \
        }                                                                                    \
    }
ADD_ROW(float)
ADD_ROW(double)
#undef ADD_ROW

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
    size_t pes = md_dtype_size(patch->dtype);
    int failed = 0, cancelled = 0;
#pragma omp parallel if (j->rows * n > 32768)
    {
        void *scratch = malloc(2 * (size_t)g->patch[0] * es);
        if (!scratch) __atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
#pragma omp for schedule(static)
        for (size_t r = 0; r < j->rows; r++) {
            if (!scratch || __atomic_load_n(&cancelled, __ATOMIC_RELAXED)) continue;
            if ((r & 255) == 0 && md_cancel_requested()) __atomic_store_n(&cancelled, 1, __ATOMIC_RELAXED);
            int64_t ky = (int64_t)(r % (size_t)g->patch[1]), kz = (int64_t)(r / (size_t)g->patch[1]);
            int64_t off = acc_row(m, j->start[1] + ky, j->start[2] + kz);
            if (off < 0) continue;
            off += j->start[0] + j->x0;
            size_t prow = r * (size_t)g->patch[0] + (size_t)j->x0;
            const float *w = m->wmap ? m->wmap + prow : NULL;
            if (m->dbl) {
                double *x = scratch, *rr = x + g->patch[0];
                add_row_double((double *)m->acc->data + off, ac, (double *)m->wsum->data + off, w,
                               pdata + prow * pes, pc, patch->dtype, m->channels, n, x, rr);
            } else {
                float *x = scratch, *rr = x + g->patch[0];
                add_row_float((float *)m->acc->data + off, ac, (float *)m->wsum->data + off, w,
                              pdata + prow * pes, pc, patch->dtype, m->channels, n, x, rr);
            }
        }
        free(scratch);
    }
    if (failed) return md_error(err, MD_ENOMEM, "out of memory for a row buffer");
    if (cancelled) return md_error(err, MD_ECANCELLED, "merge interrupted");
    return MD_OK;
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
    if (!ok || c != channels)
        return md_error(err, MD_EINVAL,
                        "the output (%lldx%lldx%lldx%lld) does not fit the merged planes "
                        "(%lld channels, %lld planes)",
                        (long long)dst->dim[0], (long long)dst->dim[1], (long long)dst->dim[2],
                        (long long)dst->dim[3], (long long)channels, (long long)need_planes);
    return MD_OK;
}

/* Stores n accumulator values as dtype t at dst (rounded, saturated). */
#define STORE_CASE(tag, name, ctype, isf)                                       \
    case MD_##tag: {                                                            \
        ctype *d = (ctype *)dst;                                                \
        const double lo = md_dtype_min(t), hi = md_dtype_max(t);                \
        for (size_t i = 0; i < n; i++) {                                        \
            double v = w[i] > 0 ? (double)a[i] : fill;                          \
            if (!isf) {                                                         \
                v = v != v ? 0.0 : round(v);                                    \
                v = v < lo ? lo : v > hi ? hi : v;                              \
            }                                                                   \
            d[i] = (ctype)v;                                                    \
        }                                                                       \
    } break;
#define STORE_ROW(T)                                                                      \
    static void store_row_##T(void *dst, MdDtype t, const T *a, const T *w, size_t n,     \
                              double fill)                                                \
    {                                                                                     \
        switch (t) {                                                                      \
            MD_DTYPE_LIST(STORE_CASE)                                                     \
        default: break;                                                                   \
        }                                                                                 \
    }
STORE_ROW(float)
STORE_ROW(double)
#undef STORE_ROW
#undef STORE_CASE

/* n voxels of value x (rounded, saturated) at dst. */
static void fill_plane(unsigned char *dst, MdDtype t, size_t n, double x)
{
    unsigned char elem[8] = {0};
    size_t es = md_dtype_size(t);
    md_store(elem, t, 0, md_saturate(x, t));
    for (size_t i = 0; i < n; i++) memcpy(dst + i * es, elem, es);
}

/* d[i] = 1 where the summed weight is > 0. */
static void mask_row(unsigned char *d, const unsigned char *w, int dbl, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d[i] = dbl ? ((const double *)w)[i] > 0 : ((const float *)w)[i] > 0;
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
    size_t dst_cstride = (size_t)dst->dim[A] * plane, ac = (size_t)(m->window * m->plane);
    size_t aes = m->dbl ? sizeof(double) : sizeof(float);
    size_t jobs = (size_t)(p1 - p0) * (size_t)channels;
#pragma omp parallel for schedule(static) if (jobs * plane > 65536)
    for (size_t k = 0; k < jobs; k++) {
        int64_t p = p0 + (int64_t)(k % (size_t)(p1 - p0)), c = (int64_t)(k / (size_t)(p1 - p0));
        unsigned char *d = (unsigned char *)md_volume_data(dst) +
                           ((size_t)c * dst_cstride + (size_t)(dst_p0 + p - p0) * plane) * es;
        /* a plane beyond the ring was never reached by a patch */
        int held = m->acc && p < m->lo + m->window;
        size_t slot = (size_t)(p % m->window) * plane;
        const unsigned char *w = held ? (const unsigned char *)m->wsum->data + slot * aes : NULL;
        const unsigned char *a =
            held ? (const unsigned char *)m->acc->data + ((size_t)c * ac + slot) * aes : NULL;
        if (!held)
            fill_plane(d, dst->dtype, plane, mask ? 0 : fill);
        else if (mask)
            mask_row(d, w, m->dbl, plane);
        else if (m->dbl)
            store_row_double(d, dst->dtype, (const double *)a, (const double *)w, plane, fill);
        else
            store_row_float(d, dst->dtype, (const float *)a, (const float *)w, plane, fill);
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
        size_t ac = (size_t)(m->window * m->plane);
        int64_t stop = p_end < m->lo + m->window ? p_end : m->lo + m->window;
        for (int64_t p = m->lo; p < stop; p++) {
            size_t slot = (size_t)(p % m->window) * plane;
            memset((unsigned char *)m->wsum->data + slot * aes, 0, plane * aes);
            for (int64_t c = 0; c < m->channels; c++)
                memset((unsigned char *)m->acc->data + ((size_t)c * ac + slot) * aes, 0, plane * aes);
        }
    }
    m->lo = p_end;
}

MdStatus md_merge_take(MdPatchMerger *m, double fill, MdVolume *out, MdError *err)
{
    MdDtype want = m->dbl ? MD_FLOAT64 : MD_FLOAT32;
    if (m->streaming || !m->acc || out->dtype != want || m->lo != 0)
        return md_error(err, MD_EINVAL, "the merger's accumulator cannot become this volume");
    if (md_volume_nbytes(out) != m->acc->nbytes)
        return md_error(err, MD_EINVAL, "the result has %zu bytes, the accumulator %zu",
                        md_volume_nbytes(out), m->acc->nbytes);
    if (fill != 0) {
        size_t n = (size_t)(m->window * m->plane);
        for (int64_t c = 0; c < m->channels; c++)
            for (size_t i = 0; i < n; i++) {
                if (m->dbl) {
                    if (!(((double *)m->wsum->data)[i] > 0)) ((double *)m->acc->data)[(size_t)c * n + i] = fill;
                } else if (!(((float *)m->wsum->data)[i] > 0)) {
                    ((float *)m->acc->data)[(size_t)c * n + i] = (float)fill;
                }
            }
    }
    md_buffer_retain(m->acc);
    out->buf = m->acc;
    out->offset = 0;
    m->taken = 1;
    return MD_OK;
}

size_t md_merge_bytes(const MdPatchGrid *g, int64_t channels, int dbl, int streaming)
{
    MdPatchMerger m;
    md_merge_init(&m, g, dbl, streaming);
    return (size_t)(channels + 1) * (size_t)m.window * (size_t)m.plane * (dbl ? 8u : 4u);
}
