/* The metrics driver: one pass over the volumes for the voxel counts and
 * the box of the union, then the surface work inside that box (padded by
 * one background voxel): surface points of each mask, the exact distance of
 * each to the other surface (surface_edt.c), and the sums and percentiles
 * over them, counted by distinct distance. Label maps share everything but
 * the first pass (metrics_labels.c). */
#include "metrics_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/rows.h"
#include "surface.h"

/* ---- volumetric values ------------------------------------------------- */

void md_metrics_volumetric(int64_t tp, int64_t fp, int64_t fn, int64_t tn, const double sp[3], int planar,
                           MdMetrics *r)
{
    double voxel = sp[0] * sp[1] * (planar ? 1.0 : sp[2]);
    double TP = (double)tp, FP = (double)fp, FN = (double)fn, TN = (double)tn;
    r->tp = tp, r->fp = fp, r->fn = fn, r->tn = tn;
    r->empty_pred = tp + fp == 0;
    r->empty_truth = tp + fn == 0;
    /* 0/0 is NaN by IEEE rules: Dice and Jaccard of two empty masks,
     * precision of an empty prediction, recall of an empty reference */
    r->dice = 2 * TP / (2 * TP + FP + FN);
    r->jaccard = TP / (TP + FP + FN);
    r->precision = TP / (TP + FP);
    r->recall = TP / (TP + FN);
    r->specificity = TN / (TN + FP);
    r->volume_pred = (TP + FP) * voxel;
    r->volume_truth = (TP + FN) * voxel;
    r->ravd = (r->volume_pred - r->volume_truth) / r->volume_truth;
}

/* ---- distances between the two surfaces -------------------------------- */

typedef struct Side {
    MdDistTable t; /* the distances of this surface's points to the other surface */
    int64_t n;     /* points */
    double w, wd, wtol, max; /* total weight, weighted distance, weight within tolerance */
} Side;

/* The distances of query's surface points to site's surface, counted by
 * value, and their sums (in ascending distance order). */
static MdStatus tabulate(const uint8_t *site, const uint8_t *query, const int64_t g[3], int planar,
                         const double sp[3], const double w[256], double tol, MdSurfWork *work, Side *s,
                         MdError *err)
{
    MdStatus st = md_surface_distances(site, query, g, planar, sp, w, work, &s->t, err);
    if (st != MD_OK) return st;
    const MdDistTable *t = &s->t;
    double W = 0, WD = 0, WT = 0;
    int64_t c = 0;
    for (size_t i = 0; i < t->n; i++) {
        W += t->w[i];
        WD += t->w[i] * t->d[i];
        if (t->d[i] <= tol) WT += t->w[i];
        c += t->count[i];
    }
    s->n = c, s->w = W, s->wd = WD, s->wtol = WT, s->max = t->n ? t->d[t->n - 1] : (double)NAN;
    return MD_OK;
}

/* The smallest distance whose cumulative weight reaches q times the total
 * (the surface-distance library's percentile of one direction). */
static double weighted_percentile(const Side *s, double q)
{
    const MdDistTable *t = &s->t;
    if (!t->n) return NAN;
    double target = q * s->w, cum = 0;
    for (size_t i = 0; i < t->n; i++) {
        cum += t->w[i];
        if (cum >= target) return t->d[i];
    }
    return t->d[t->n - 1];
}

/* The k-th smallest (0-based) point distance over one or two sides. */
static double kth(const Side *a, const Side *b, int64_t k)
{
    size_t i = 0, j = 0, na = a->t.n, nb = b ? b->t.n : 0;
    int64_t cum = 0;
    double last = NAN;
    while (i < na || j < nb) {
        int take_a = j >= nb || (i < na && a->t.d[i] <= b->t.d[j]);
        double d = take_a ? a->t.d[i] : b->t.d[j];
        cum += take_a ? a->t.count[i++] : b->t.count[j++];
        last = d;
        if (cum > k) return d;
    }
    return last;
}

/* numpy.percentile of the point distances of one or two sides, with its
 * default linear interpolation. */
static double np_percentile(const Side *a, const Side *b, double p)
{
    int64_t n = a->n + (b ? b->n : 0);
    if (n == 0) return NAN;
    double vi = p / 100.0 * (double)(n - 1), k = floor(vi), g = vi - k;
    double lo = kth(a, b, (int64_t)k), hi = kth(a, b, (int64_t)k + 1 < n ? (int64_t)k + 1 : n - 1);
    double diff = hi - lo;
    return g >= 0.5 ? hi - diff * (1 - g) : lo + diff * g;
}

static double max2(double a, double b) { return isnan(a) ? b : isnan(b) ? a : a > b ? a : b; }

/* The surface values from the two sides' distances. */
static void summarise(const Side *p, const Side *t, const MdMetricsOpts *o, MdMetrics *r)
{
    r->surface_pred = p->w, r->surface_truth = t->w;
    r->asd_pred_to_truth = p->wd / p->w;
    r->asd_truth_to_pred = t->wd / t->w;
    r->surface_overlap_pred = p->wtol / p->w;
    r->surface_overlap_truth = t->wtol / t->w;
    r->surface_dice = (p->wtol + t->wtol) / (p->w + t->w);
    r->hausdorff = max2(p->max, t->max);
    r->assd = o->def == MD_METRICS_MEDPY ? (r->asd_pred_to_truth + r->asd_truth_to_pred) / 2
                                         : (p->wd + t->wd) / (p->w + t->w);
    double q = o->percent / 100.0;
    if (o->def == MD_METRICS_DEEPMIND)
        r->hd95 = max2(weighted_percentile(p, q), weighted_percentile(t, q));
    else if (o->def == MD_METRICS_MONAI)
        r->hd95 = max2(np_percentile(p, NULL, o->percent), np_percentile(t, NULL, o->percent));
    else
        r->hd95 = np_percentile(p, t, o->percent);
}

/* Empty masks: one empty gives infinite distances from the other surface
 * (NaN from the empty one), surface Dice 0; both empty give NaN throughout. */
void md_metrics_empty(MdMetrics *r)
{
    if (r->empty_pred && r->empty_truth) {
        r->hausdorff = r->hd95 = r->assd = r->asd_pred_to_truth = r->asd_truth_to_pred = NAN;
        r->surface_overlap_pred = r->surface_overlap_truth = r->surface_dice = NAN;
        r->surface_pred = r->surface_truth = 0;
        return;
    }
    r->hausdorff = r->hd95 = r->assd = INFINITY;
    r->asd_pred_to_truth = r->empty_pred ? NAN : INFINITY;
    r->asd_truth_to_pred = r->empty_truth ? NAN : INFINITY;
    r->surface_overlap_pred = r->empty_pred ? NAN : 0;
    r->surface_overlap_truth = r->empty_truth ? NAN : 0;
    r->surface_dice = 0;
}

MdStatus md_metrics_surfaces(const uint8_t *P, const uint8_t *T, const int64_t m[3], int planar,
                             const MdMetricsOpts *o, MdMetrics *r, MdCtx *ctx)
{
    MdError *err = ctx->err;
    int corners = o->def == MD_METRICS_DEEPMIND;
    int64_t g[3] = {m[0], m[1], m[2]};
    if (corners)
        for (int a = 0; a < (planar ? 2 : 3); a++) g[a] = m[a] - 1;
    size_t n = (size_t)(g[0] * g[1] * g[2]);
    double w[256] = {0};
    if (corners)
        md_surface_weights(o->spacing, planar, w);
    else
        w[1] = 1;
    uint8_t *sp = md_surface_big(n), *st_ = md_surface_big(n);
    Side sidep = {0}, sidet = {0};
    MdSurfWork work = {0};
    MdStatus st = MD_OK;
    if (!sp || !st_) {
        st = md_error(err, MD_ENOMEM, "metrics: out of memory for a %lld x %lld x %lld surface grid",
                      (long long)g[0], (long long)g[1], (long long)g[2]);
        goto done;
    }
    if (corners) {
        md_surface_codes(P, m, planar, sp);
        md_surface_codes(T, m, planar, st_);
    } else {
        md_surface_boundary(P, m, planar, sp);
        md_surface_boundary(T, m, planar, st_);
    }
    if (md_cancel_requested()) {
        st = md_error(err, MD_ECANCELLED, "metrics cancelled");
        goto done;
    }
    /* distances from pred's surface points to truth's surface, then the reverse */
    if ((st = tabulate(st_, sp, g, planar, o->spacing, w, o->tolerance_mm, &work, &sidep, err)) != MD_OK) goto done;
    if ((st = tabulate(sp, st_, g, planar, o->spacing, w, o->tolerance_mm, &work, &sidet, err)) != MD_OK) goto done;
    summarise(&sidep, &sidet, o, r);
    if (r->empty_pred || r->empty_truth) {
        double a = r->surface_pred, b = r->surface_truth;
        md_metrics_empty(r);
        r->surface_pred = a, r->surface_truth = b;
    }
done:
    free(sp), free(st_);
    md_surface_work_free(&work);
    md_dist_table_free(&sidep.t), md_dist_table_free(&sidet.t);
    return st;
}

/* ---- one pair of binary masks ------------------------------------------ */

typedef struct SliceCount {
    int64_t tp, fp, fn;
    int64_t lo[2], hi[2]; /* x, y box of the union in this slice (lo > hi: none) */
    int64_t bad;          /* first voxel (in the slice) that is neither 0 nor 1, or -1 */
    int bad_pred;
} SliceCount;

static void count_slice(const uint8_t *p, const uint8_t *t, int64_t nx, int64_t ny, SliceCount *c)
{
    int64_t tp = 0, fp = 0, fn = 0;
    c->lo[0] = c->lo[1] = INT64_MAX, c->hi[0] = c->hi[1] = -1, c->bad = -1;
    for (int64_t y = 0; y < ny; y++) {
        const uint8_t *a = p + y * nx, *b = t + y * nx;
        unsigned any = 0, over = 0;
        int64_t rtp = 0, rp = 0, rt = 0;
        for (int64_t x = 0; x < nx; x++) {
            unsigned u = a[x], v = b[x];
            over |= u | v;
            any |= u | v;
            rtp += u & v, rp += u, rt += v;
        }
        if (over > 1) {
            for (int64_t x = 0; x < nx; x++)
                if (a[x] > 1 || b[x] > 1) {
                    c->bad = y * nx + x, c->bad_pred = a[x] > 1;
                    return;
                }
        }
        tp += rtp, fp += rp - rtp, fn += rt - rtp;
        if (!any) continue;
        int64_t x0 = 0, x1 = nx - 1;
        while (!(a[x0] | b[x0])) x0++;
        while (!(a[x1] | b[x1])) x1--;
        if (x0 < c->lo[0]) c->lo[0] = x0;
        if (x1 > c->hi[0]) c->hi[0] = x1;
        if (y < c->lo[1]) c->lo[1] = y;
        c->hi[1] = y;
    }
    c->tp = tp, c->fp = fp, c->fn = fn;
}

/* The padded crop of the box lo..hi of a uint8 0/1 volume (or of the voxels
 * equal to label in an int32 volume when label_map). m = padded sides. */
void md_metrics_crop(const MdVolume *v, int label_map, int32_t label, const int64_t lo[3], const int64_t hi[3],
                     int planar, uint8_t *out, int64_t m[3])
{
    int64_t nx = v->dim[0], ny = v->dim[1];
    int pz = planar ? 0 : 1;
    m[0] = hi[0] - lo[0] + 3, m[1] = hi[1] - lo[1] + 3, m[2] = hi[2] - lo[2] + 1 + 2 * pz;
    memset(out, 0, (size_t)(m[0] * m[1] * m[2]));
    const uint8_t *u8 = md_volume_data(v);
    const int32_t *i32 = md_volume_data(v);
#pragma omp parallel for schedule(static) if (md_par_worth((double)(m[0] * m[1] * m[2])))
    for (int64_t z = lo[2]; z <= hi[2]; z++)
        for (int64_t y = lo[1]; y <= hi[1]; y++) {
            size_t src = (size_t)((z * ny + y) * nx + lo[0]);
            uint8_t *o = out + (size_t)(((z - lo[2] + pz) * m[1] + (y - lo[1] + 1)) * m[0] + 1);
            int64_t w = hi[0] - lo[0] + 1;
            if (label_map)
                for (int64_t x = 0; x < w; x++) o[x] = i32[src + (size_t)x] == label;
            else
                memcpy(o, u8 + src, (size_t)w);
        }
}

static MdStatus check_pair(const MdVolume *pred, const MdVolume *truth, MdDtype want, const MdMetricsOpts *o,
                           MdError *err)
{
    if (pred->dtype != want || truth->dtype != want)
        return md_error(err, MD_EINVAL, "metrics: expected %s volumes", want == MD_UINT8 ? "uint8 mask" : "int32 label");
    if (pred->ndim < 2 || pred->ndim > 3 || truth->ndim != pred->ndim)
        return md_error(err, MD_EINVAL, "metrics: expected two 2-D or two 3-D volumes (got %d-D and %d-D)", pred->ndim,
                        truth->ndim);
    for (int a = 0; a < pred->ndim; a++)
        if (pred->dim[a] != truth->dim[a])
            return md_error(err, MD_EINVAL, "metrics: shapes differ on axis %d (%lld and %lld)", a + 1,
                            (long long)pred->dim[a], (long long)truth->dim[a]);
    for (int a = 0; a < pred->ndim; a++)
        if (!(o->spacing[a] > 0) || !isfinite(o->spacing[a]))
            return md_error(err, MD_EINVAL, "spacing must be > 0 (got %g on axis %d)", o->spacing[a], a + 1);
    if (!(o->tolerance_mm >= 0) || !isfinite(o->tolerance_mm))
        return md_error(err, MD_EINVAL, "tolerance_mm must be >= 0 (got %g)", o->tolerance_mm);
    if (!(o->percent >= 0 && o->percent <= 100))
        return md_error(err, MD_EINVAL, "percent must be 0 to 100 (got %g)", o->percent);
    return MD_OK;
}

MdStatus md_metrics_check(const MdVolume *pred, const MdVolume *truth, MdDtype want, const MdMetricsOpts *o,
                          MdError *err)
{
    return check_pair(pred, truth, want, o, err);
}

MdStatus md_metrics(const MdVolume *pred, const MdVolume *truth, const MdMetricsOpts *o, MdMetrics *r, MdCtx *ctx)
{
    MdStatus st = check_pair(pred, truth, MD_UINT8, o, ctx->err);
    if (st != MD_OK) return st;
    int planar = pred->ndim == 2;
    int64_t nx = pred->dim[0], ny = pred->dim[1], nz = planar ? 1 : pred->dim[2];
    SliceCount *c = malloc((size_t)nz * sizeof *c);
    if (!c) return md_error(ctx->err, MD_ENOMEM, "metrics: out of memory");
    const uint8_t *p = md_volume_data(pred), *t = md_volume_data(truth);
    size_t plane = (size_t)(nx * ny);
    int fail = MD_OK;
#pragma omp parallel for schedule(static) if (md_par_worth((double)plane * (double)nz))
    for (int64_t z = 0; z < nz; z++) {
        if (md_par_poll_cancel(&fail)) continue;
        count_slice(p + (size_t)z * plane, t + (size_t)z * plane, nx, ny, &c[z]);
    }
    md_ctx_progress(ctx, 1, 4);
    int64_t tp = 0, fp = 0, fn = 0, lo[3] = {INT64_MAX, INT64_MAX, INT64_MAX}, hi[3] = {-1, -1, -1};
    for (int64_t z = 0; z < nz && fail == MD_OK; z++) {
        if (c[z].bad >= 0) {
            int64_t b = c[z].bad;
            int is_pred = c[z].bad_pred;
            unsigned val = (is_pred ? p : t)[(size_t)z * plane + (size_t)b];
            free(c);
            return md_error(ctx->err, MD_EINVAL,
                            "%s is not a binary mask (value %u at voxel (%lld, %lld, %lld)); label maps go to "
                            "vol.metrics_per_label",
                            is_pred ? "pred" : "truth", val, (long long)(b % nx + 1), (long long)(b / nx + 1),
                            (long long)(z + 1));
        }
        tp += c[z].tp, fp += c[z].fp, fn += c[z].fn;
        if (c[z].hi[1] < 0) continue;
        for (int a = 0; a < 2; a++) {
            if (c[z].lo[a] < lo[a]) lo[a] = c[z].lo[a];
            if (c[z].hi[a] > hi[a]) hi[a] = c[z].hi[a];
        }
        if (z < lo[2]) lo[2] = z;
        hi[2] = z;
    }
    free(c);
    if (fail) return md_par_status(fail, "metrics", ctx->err);
    md_metrics_volumetric(tp, fp, fn, (int64_t)(plane * (size_t)nz) - tp - fp - fn, o->spacing, planar, r);
    if (hi[2] < 0) {
        md_metrics_empty(r);
        md_ctx_finish(ctx, 4);
        return MD_OK;
    }
    size_t cropn = (size_t)((hi[0] - lo[0] + 3) * (hi[1] - lo[1] + 3) * (hi[2] - lo[2] + (planar ? 1 : 3)));
    uint8_t *P = md_surface_big(cropn), *T = md_surface_big(cropn);
    if (!P || !T) {
        free(P), free(T);
        return md_error(ctx->err, MD_ENOMEM, "metrics: out of memory for the %zu-voxel crop", cropn);
    }
    int64_t m[3];
    md_metrics_crop(pred, 0, 0, lo, hi, planar, P, m);
    md_metrics_crop(truth, 0, 0, lo, hi, planar, T, m);
    md_ctx_progress(ctx, 2, 4);
    st = md_metrics_surfaces(P, T, m, planar, o, r, ctx);
    free(P), free(T);
    if (st == MD_OK) md_ctx_finish(ctx, 4);
    return st;
}

MdStatus md_metrics_binary(const MdVolume *v, const char *what, MdVolume *out, MdError *err)
{
    size_t n = md_volume_count(v), chunk = 4096;
    uint8_t *o = md_volume_data(out);
    double *row = malloc(chunk * sizeof *row);
    if (!row) return md_error(err, MD_ENOMEM, "metrics: out of memory");
    for (size_t s = 0; s < n; s += chunk) {
        size_t k = n - s < chunk ? n - s : chunk;
        md_rows_to_f64(md_volume_data(v), v->dtype, s, k, row);
        for (size_t i = 0; i < k; i++) {
            if (row[i] != 0 && row[i] != 1) {
                size_t at = s + i, nx = (size_t)v->dim[0], ny = (size_t)v->dim[1];
                double val = row[i];
                free(row);
                return md_error(err, MD_EINVAL,
                                "%s is not a binary mask (value %g at voxel (%zu, %zu, %zu)); label maps go to "
                                "vol.metrics_per_label",
                                what, val, at % nx + 1, at / nx % ny + 1, at / (nx * ny) + 1);
            }
            o[s + i] = (uint8_t)(row[i] != 0);
        }
    }
    free(row);
    return MD_OK;
}
