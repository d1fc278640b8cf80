/* Metrics of every label of two label maps: one pass over both volumes
 * gathers each label's voxel counts and the box of its union (per-thread
 * integer tallies, so the totals do not depend on the thread count), then
 * each label's surfaces are computed inside its own box. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/rows.h"
#include "metrics_impl.h"
#include "surface.h"

#define MAX_SPAN (1 << 24)

enum { TP, FP, FN, LOX, LOY, LOZ, HIX, HIY, HIZ, NTALLY };

static void tally_init(int64_t *t, size_t nl)
{
    for (size_t l = 0; l < nl; l++) {
        int64_t *e = t + l * NTALLY;
        e[TP] = e[FP] = e[FN] = 0;
        e[LOX] = e[LOY] = e[LOZ] = INT64_MAX;
        e[HIX] = e[HIY] = e[HIZ] = -1;
    }
}

static inline void grow(int64_t *e, int64_t x, int64_t y, int64_t z)
{
    if (x < e[LOX]) e[LOX] = x;
    if (x > e[HIX]) e[HIX] = x;
    if (y < e[LOY]) e[LOY] = y;
    if (y > e[HIY]) e[HIY] = y;
    if (z < e[LOZ]) e[LOZ] = z;
    if (z > e[HIZ]) e[HIZ] = z;
}

/* Per-label tallies of one slice into e (the thread's own array). */
static void tally_slice(const int32_t *p, const int32_t *t, int64_t nx, int64_t ny, int64_t z, const uint32_t *index,
                        int32_t lo, uint32_t span, int64_t *tal)
{
    for (int64_t y = 0; y < ny; y++)
        for (int64_t x = 0; x < nx; x++) {
            size_t i = (size_t)(y * nx + x);
            uint32_t a = (uint32_t)((int64_t)p[i] - lo), b = (uint32_t)((int64_t)t[i] - lo);
            uint32_t la = a < span ? index[a] : 0, lb = b < span ? index[b] : 0;
            if (!la && !lb) continue;
            if (la == lb) {
                int64_t *e = tal + (size_t)(la - 1) * NTALLY;
                e[TP]++;
                grow(e, x, y, z);
                continue;
            }
            if (la) {
                int64_t *e = tal + (size_t)(la - 1) * NTALLY;
                e[FP]++;
                grow(e, x, y, z);
            }
            if (lb) {
                int64_t *e = tal + (size_t)(lb - 1) * NTALLY;
                e[FN]++;
                grow(e, x, y, z);
            }
        }
}

static int threads_available(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* One pass: tallies (nl x NTALLY, new) of every label. */
static MdStatus tally(const MdVolume *pred, const MdVolume *truth, const int32_t *labels, size_t nl, int64_t **out,
                      MdError *err)
{
    int32_t lo = labels[0], hi = labels[0];
    for (size_t l = 1; l < nl; l++) lo = labels[l] < lo ? labels[l] : lo, hi = labels[l] > hi ? labels[l] : hi;
    if ((int64_t)hi - lo >= MAX_SPAN)
        return md_error(err, MD_EINVAL, "metrics: labels span %lld values (%d to %d; at most %d)",
                        (long long)hi - lo + 1, lo, hi, MAX_SPAN);
    uint32_t span = (uint32_t)((int64_t)hi - lo + 1);
    int nt = threads_available();
    uint32_t *index = calloc(span, sizeof *index);
    int64_t *tal = malloc((size_t)nt * nl * NTALLY * sizeof *tal);
    if (!index || !tal) {
        free(index), free(tal);
        return md_error(err, MD_ENOMEM, "metrics: out of memory for %zu labels", nl);
    }
    for (size_t l = 0; l < nl; l++) index[labels[l] - lo] = (uint32_t)l + 1;
    for (int k = 0; k < nt; k++) tally_init(tal + (size_t)k * nl * NTALLY, nl);
    int64_t nx = pred->dim[0], ny = pred->dim[1], nz = pred->ndim == 2 ? 1 : pred->dim[2];
    size_t plane = (size_t)(nx * ny);
    const int32_t *p = md_volume_data(pred), *t = md_volume_data(truth);
    int fail = MD_OK;
#pragma omp parallel for schedule(static) if (md_par_worth((double)plane * (double)nz))
    for (int64_t z = 0; z < nz; z++) {
        if (md_par_poll_cancel(&fail)) continue;
        tally_slice(p + (size_t)z * plane, t + (size_t)z * plane, nx, ny, z, index, lo, span,
                    tal + (size_t)md_par_thread() * nl * NTALLY);
    }
    free(index);
    if (fail) {
        free(tal);
        return md_par_status(fail, "metrics", err);
    }
    for (int k = 1; k < nt; k++)
        for (size_t l = 0; l < nl; l++) {
            int64_t *a = tal + l * NTALLY, *b = tal + ((size_t)k * nl + l) * NTALLY;
            a[TP] += b[TP], a[FP] += b[FP], a[FN] += b[FN];
            for (int q = LOX; q <= LOZ; q++) a[q] = b[q] < a[q] ? b[q] : a[q];
            for (int q = HIX; q <= HIZ; q++) a[q] = b[q] > a[q] ? b[q] : a[q];
        }
    *out = tal;
    return MD_OK;
}

MdStatus md_metrics_labels(const MdVolume *pred, const MdVolume *truth, const int32_t *labels, size_t nl,
                           const MdMetricsOpts *o, MdMetrics *out, MdCtx *ctx)
{
    MdStatus st = md_metrics_check(pred, truth, MD_INT32, o, ctx->err);
    if (st != MD_OK || nl == 0) return st;
    int64_t *tal = NULL;
    if ((st = tally(pred, truth, labels, nl, &tal, ctx->err)) != MD_OK) return st;
    int planar = pred->ndim == 2;
    int64_t total = (int64_t)md_volume_count(pred);
    uint8_t *P = NULL, *T = NULL;
    size_t cap = 0;
    for (size_t l = 0; l < nl && st == MD_OK; l++) {
        md_ctx_progress(ctx, l, nl);
        const int64_t *e = tal + l * NTALLY;
        MdMetrics *r = &out[l];
        memset(r, 0, sizeof *r);
        md_metrics_volumetric(e[TP], e[FP], e[FN], total - e[TP] - e[FP] - e[FN], o->spacing, planar, r);
        if (e[HIX] < 0) {
            md_metrics_empty(r);
            continue;
        }
        int64_t lo[3] = {e[LOX], e[LOY], e[LOZ]}, hi[3] = {e[HIX], e[HIY], e[HIZ]}, m[3];
        size_t need = (size_t)((hi[0] - lo[0] + 3) * (hi[1] - lo[1] + 3) * (hi[2] - lo[2] + (planar ? 1 : 3)));
        if (need > cap) {
            free(P), free(T);
            P = md_surface_big(need), T = md_surface_big(need), cap = need;
            if (!P || !T) {
                st = md_error(ctx->err, MD_ENOMEM, "metrics: out of memory for the %zu-voxel crop of label %d", need,
                              labels[l]);
                break;
            }
        }
        md_metrics_crop(pred, 1, labels[l], lo, hi, planar, P, m);
        md_metrics_crop(truth, 1, labels[l], lo, hi, planar, T, m);
        st = md_metrics_surfaces(P, T, m, planar, o, r, ctx);
    }
    free(P), free(T), free(tal);
    if (st == MD_OK) md_ctx_finish(ctx, nl);
    return st;
}

MdStatus md_metrics_label_set(const MdVolume *pred, const MdVolume *truth, int32_t **labels, size_t *n,
                              MdError *err)
{
    const int32_t *p = md_volume_data(pred), *t = md_volume_data(truth);
    size_t count = md_volume_count(pred);
    int32_t lo = 0, hi = 0;
    for (size_t i = 0; i < count; i++) {
        int32_t a = p[i], b = t[i];
        lo = a < lo ? a : lo, hi = a > hi ? a : hi;
        lo = b < lo ? b : lo, hi = b > hi ? b : hi;
    }
    if ((int64_t)hi - lo >= MAX_SPAN)
        return md_error(err, MD_EINVAL, "metrics: label values span %lld values (%d to %d; at most %d)",
                        (long long)hi - lo + 1, lo, hi, MAX_SPAN);
    size_t span = (size_t)((int64_t)hi - lo + 1);
    uint8_t *seen = calloc(span, 1);
    if (!seen) return md_error(err, MD_ENOMEM, "metrics: out of memory");
    for (size_t i = 0; i < count; i++) seen[p[i] - lo] = 1, seen[t[i] - lo] = 1;
    seen[-(int64_t)lo] = 0; /* 0 is background */
    size_t k = 0;
    for (size_t v = 0; v < span; v++) k += seen[v];
    *labels = malloc((k ? k : 1) * sizeof **labels);
    if (!*labels) {
        free(seen);
        return md_error(err, MD_ENOMEM, "metrics: out of memory");
    }
    k = 0;
    for (size_t v = 0; v < span; v++)
        if (seen[v]) (*labels)[k++] = (int32_t)((int64_t)v + lo);
    *n = k;
    free(seen);
    return MD_OK;
}

MdStatus md_metrics_int_labels(const MdVolume *v, const char *what, MdVolume *out, MdError *err)
{
    size_t n = md_volume_count(v), chunk = 4096;
    int32_t *o = md_volume_data(out);
    double *row = malloc(chunk * sizeof *row);
    if (!row) return md_error(err, MD_ENOMEM, "metrics: out of memory");
    for (size_t s = 0; s < n; s += chunk) {
        size_t k = n - s < chunk ? n - s : chunk;
        md_rows_to_f64(md_volume_data(v), v->dtype, s, k, row);
        for (size_t i = 0; i < k; i++) {
            double x = row[i];
            if (x != floor(x) || x < -2147483648.0 || x > 2147483647.0) {
                free(row);
                return md_error(err, MD_EINVAL, "%s is not a label map (value %g is not an int32 integer)", what, x);
            }
            o[s + i] = (int32_t)x;
        }
    }
    free(row);
    return MD_OK;
}
