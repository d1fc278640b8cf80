/* numpy.histogram's uniform-bin path, value by value: the index is
 * (x - lo) * (bins / (hi - lo)) truncated, the last edge belongs to the
 * last bin, and an index one off because of rounding is corrected against
 * the edges themselves. */
#include "binning.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/rows.h"

static MdStatus check(const MdVolume *v, const MdVolume *mask, MdError *err)
{
    if (mask) {
        for (int a = 0; a < 4; a++)
            if (mask->dim[a] != v->dim[a])
                return md_error(err, MD_EINVAL, "mask shape differs from the volume's on axis %d (%lld vs %lld)",
                                a + 1, (long long)mask->dim[a], (long long)v->dim[a]);
    }
    return MD_OK;
}

/* Rows of x-length; row r covers voxels [r * nx, (r + 1) * nx). */
MdStatus md_binning_range(const MdVolume *v, const MdVolume *mask, double *lo, double *hi, MdCtx *ctx)
{
    MdStatus st = check(v, mask, ctx->err);
    if (st != MD_OK) return st;
    size_t nx = (size_t)v->dim[0], rows = md_volume_count(v) / nx;
    double mn = INFINITY, mx = -INFINITY;
    double *row = malloc(nx * sizeof(double)), *mrow = mask ? malloc(nx * sizeof(double)) : NULL;
    if (!row || (mask && !mrow)) {
        free(row);
        free(mrow);
        return md_error(ctx->err, MD_ENOMEM, "histogram: out of memory");
    }
    for (size_t r = 0; r < rows; r++) {
        md_rows_to_f64(md_volume_data(v), v->dtype, r * nx, nx, row);
        if (mask) md_rows_to_f64(md_volume_data(mask), mask->dtype, r * nx, nx, mrow);
        for (size_t i = 0; i < nx; i++) {
            if ((mask && mrow[i] == 0) || !isfinite(row[i])) continue;
            if (row[i] < mn) mn = row[i];
            if (row[i] > mx) mx = row[i];
        }
    }
    free(row);
    free(mrow);
    if (mn > mx) mn = 0, mx = 1;
    if (mn == mx) mn -= 0.5, mx += 0.5;
    *lo = mn;
    *hi = mx;
    return MD_OK;
}

MdStatus md_binning_counts(const MdVolume *v, const MdVolume *mask, int64_t bins, double lo, double hi,
                           double *edges, int64_t *counts, MdCtx *ctx)
{
    MdError *err = ctx->err;
    MdStatus st = check(v, mask, err);
    if (st != MD_OK) return st;
    if (bins < 1) return md_error(err, MD_EINVAL, "bins must be >= 1 (got %lld)", (long long)bins);
    if (!(isfinite(lo) && isfinite(hi) && lo <= hi))
        return md_error(err, MD_EINVAL, "range must be finite with lo <= hi (got %g, %g)", lo, hi);
    if (lo == hi) lo -= 0.5, hi += 0.5;
    double step = (hi - lo) / (double)bins, norm = (double)bins / (hi - lo);
    for (int64_t i = 0; i < bins; i++) edges[i] = (double)i * step + lo;
    edges[bins] = hi;
    size_t nx = (size_t)v->dim[0], rows = md_volume_count(v) / nx, nz = (size_t)(v->dim[2] * v->dim[3]);
    size_t per = rows / nz;
    int64_t *part = calloc(nz * (size_t)bins, sizeof(int64_t));
    if (!part) return md_error(err, MD_ENOMEM, "histogram: out of memory for %lld bins per slice", (long long)bins);
    int fail = MD_OK;
#pragma omp parallel if (md_par_worth((double)md_volume_count(v))) num_threads(ctx->threads)
    {
        double *row = malloc(nx * sizeof(double)), *mrow = mask ? malloc(nx * sizeof(double)) : NULL;
        if (!row || (mask && !mrow)) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (size_t z = 0; z < nz; z++) {
            if (md_par_stopped(&fail) || md_par_poll_cancel(&fail)) continue;
            int64_t *c = part + z * (size_t)bins;
            for (size_t r = z * per; r < (z + 1) * per; r++) {
                md_rows_to_f64(md_volume_data(v), v->dtype, r * nx, nx, row);
                if (mask) md_rows_to_f64(md_volume_data(mask), mask->dtype, r * nx, nx, mrow);
                for (size_t i = 0; i < nx; i++) {
                    double x = row[i];
                    if ((mask && mrow[i] == 0) || !(x >= lo && x <= hi)) continue;
                    int64_t k = (int64_t)((x - lo) * norm);
                    if (k == bins) k--;
                    if (x < edges[k]) k--;
                    if (k != bins - 1 && x >= edges[k + 1]) k++;
                    c[k]++;
                }
            }
        }
        free(row);
        free(mrow);
    }
    if (fail) {
        free(part);
        return md_par_status(fail, "histogram", err);
    }
    memset(counts, 0, (size_t)bins * sizeof(int64_t));
    for (size_t z = 0; z < nz; z++)
        for (int64_t b = 0; b < bins; b++) counts[b] += part[z * (size_t)bins + b];
    free(part);
    return MD_OK;
}
