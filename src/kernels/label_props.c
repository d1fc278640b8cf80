/* Region measurements over a label volume: one serial raster pass with
 * per-label accumulators (integer sums are exact; intensity sums add in
 * raster order), so results never depend on the thread count. */
#include <stdlib.h>
#include <string.h>

#include "label.h"

/* dst[0..n) = src[start..start+n) as double; one switch per row. */
static void load_row(const void *src, MdDtype t, size_t start, size_t n, double *dst)
{
    switch (t) {
#define MD_X(tag, name, ctype, isf)                                       \
    case MD_##tag: {                                                      \
        const ctype *s = (const ctype *)src + start;                      \
        for (size_t i = 0; i < n; i++) dst[i] = (double)s[i];             \
    } break;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: break;
    }
}

typedef struct Acc {
    int64_t count, sum[3], lo[3], hi[3];
    double isum, imin, imax;
} Acc;

static MdStatus largest_label(const MdVolume *labels, int64_t *maxl, MdError *err)
{
    size_t n = md_volume_count(labels);
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double l = md_load(md_volume_data(labels), labels->dtype, i);
        if (l > m) m = l;
    }
    double limit = n > ((size_t)1 << 28) ? (double)n : (double)((size_t)1 << 28);
    if (m > limit)
        return md_error(err, MD_EINVAL, "regionprops: label %.0f is too large (at most %.0f)", m, limit);
    *maxl = (int64_t)m;
    return MD_OK;
}

static void accumulate(const MdVolume *labels, const MdVolume *intensity, Acc *acc, double *lrow, double *irow)
{
    int64_t nx = labels->dim[0], ny = labels->dim[1], nz = labels->ndim == 3 ? labels->dim[2] : 1;
    for (int64_t z = 0; z < nz; z++)
        for (int64_t y = 0; y < ny; y++) {
            size_t start = (size_t)((z * ny + y) * nx);
            load_row(md_volume_data(labels), labels->dtype, start, (size_t)nx, lrow);
            if (intensity) load_row(md_volume_data(intensity), intensity->dtype, start, (size_t)nx, irow);
            for (int64_t x = 0; x < nx; x++) {
                if (!(lrow[x] >= 1)) continue;
                Acc *a = &acc[(int64_t)lrow[x]];
                int64_t p[3] = {x, y, z};
                double v = intensity ? irow[x] : 0;
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
        }
}

MdStatus md_regionprops(const MdVolume *labels, const MdVolume *intensity, MdRegion **regions, int64_t *n,
                        MdError *err)
{
    *regions = NULL;
    *n = 0;
    if (md_dtype_is_float(labels->dtype) || labels->ndim < 2 || labels->ndim > 3)
        return md_error(err, MD_EINVAL, "regionprops: labels must be a 2-D or 3-D integer volume");
    if (intensity && md_volume_count(intensity) != md_volume_count(labels))
        return md_error(err, MD_EINVAL, "regionprops: intensity has %zu voxels, labels %zu (shapes differ)",
                        md_volume_count(intensity), md_volume_count(labels));
    int64_t maxl = 0;
    MdStatus st = largest_label(labels, &maxl, err);
    if (st != MD_OK) return st;
    Acc *acc = calloc((size_t)maxl + 1, sizeof *acc);
    double *lrow = malloc((size_t)labels->dim[0] * sizeof *lrow);
    double *irow = malloc((size_t)labels->dim[0] * sizeof *irow);
    MdRegion *r = NULL;
    if (!acc || !lrow || !irow) {
        st = md_error(err, MD_ENOMEM, "out of memory in regionprops");
        goto done;
    }
    accumulate(labels, intensity, acc, lrow, irow);
    int64_t k = 0;
    for (int64_t l = 1; l <= maxl; l++) k += acc[l].count > 0;
    r = malloc(((size_t)k + 1) * sizeof *r);
    if (!r) {
        st = md_error(err, MD_ENOMEM, "out of memory in regionprops");
        goto done;
    }
    k = 0;
    for (int64_t l = 1; l <= maxl; l++) {
        const Acc *a = &acc[l];
        if (!a->count) continue;
        MdRegion *g = &r[k++];
        g->label = l;
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
    *n = k;
done:
    free(acc), free(lrow), free(irow);
    return st;
}
