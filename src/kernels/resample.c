/* Grid planning (what the output grid is and where each output voxel reads
 * the input) and the dispatch to the separable or the per-voxel engine.
 * The plans only do geometry; the engines do not know about geometry. */
#include "resample.h"

#include <math.h>
#include <string.h>

#include "../core/geom.h"
#include "resample_sep.h"
#include "transform.h"

static int spatial_axes(const MdVolume *v)
{
    return v->ndim == 2 ? 2 : 3;
}

/* out: in's dtype, ndim, frames and geometry with spatial dims d. */
static void header_like(MdVolume *out, const MdVolume *in, const int64_t d[3])
{
    int64_t dim[4] = {d[0], d[1], d[2], in->dim[3]};
    md_volume_init(out, in->dtype, in->ndim, dim);
    md_volume_copy_geometry(out, in);
}

static void separable_map(MdIndexMap *map)
{
    memset(map, 0, sizeof *map);
    map->separable = 1;
    for (int a = 0; a < 3; a++) map->scale[a] = 1;
}

/* The origin of out: where input index c(0) lies. */
static void origin_at_first(MdVolume *out, const MdVolume *in, const MdIndexMap *map)
{
    double c[3];
    for (int a = 0; a < 3; a++) c[a] = (0.0 + map->pre[a]) * map->scale[a] + map->post[a];
    md_geom_index_to_world(in, c, out->origin);
}

/* Rounds half to even (numpy's and Python 3's round); fails outside 1..2^40. */
static MdStatus checked_size(double x, int a, const char *what, int64_t *n, MdError *err)
{
    double r = nearbyint(x);
    if (!(r >= 1) || r > 1099511627776.0)
        return md_error(err, MD_EINVAL, "%s gives %g voxels on axis %d (must be >= 1)", what, r, a + 1);
    *n = (int64_t)r;
    return MD_OK;
}

MdStatus md_resample_plan_zoom(const MdVolume *in, const double factor[3], MdVolume *out,
                               MdIndexMap *map, MdError *err)
{
    int64_t d[3] = {in->dim[0], in->dim[1], in->dim[2]};
    double sp[3];
    separable_map(map);
    for (int a = 0; a < spatial_axes(in); a++) {
        if (!(factor[a] > 0) || !isfinite(factor[a]))
            return md_error(err, MD_EINVAL, "zoom factor must be > 0 (got %g on axis %d)", factor[a], a + 1);
        int64_t n = in->dim[a], m = 1;
        MdStatus st = checked_size((double)n * factor[a], a, "zoom", &m, err);
        if (st != MD_OK) return st;
        d[a] = m;
        /* scipy: (n - 1) / (m - 1), or 1 when m == 1 */
        map->scale[a] = m > 1 ? (double)(n - 1) / (double)(m - 1) : 1.0;
        sp[a] = n > 1 && m > 1 ? in->spacing[a] * map->scale[a] : in->spacing[a] * (double)n / (double)m;
    }
    header_like(out, in, d);
    for (int a = 0; a < spatial_axes(in); a++) out->spacing[a] = sp[a];
    return MD_OK;
}

MdStatus md_resample_plan_spacing(const MdVolume *in, const double spacing[3], int keep_origin,
                                  MdVolume *out, MdIndexMap *map, MdError *err)
{
    int64_t d[3] = {in->dim[0], in->dim[1], in->dim[2]};
    separable_map(map);
    for (int a = 0; a < spatial_axes(in); a++) {
        if (!(spacing[a] > 0) || !isfinite(spacing[a]))
            return md_error(err, MD_EINVAL, "spacing must be > 0 (got %g on axis %d)", spacing[a], a + 1);
        int64_t n = in->dim[a], m = 1;
        /* a thin axis made coarser keeps one voxel rather than none */
        MdStatus st = checked_size(fmax(1, (double)n * (in->spacing[a] / spacing[a])), a, "spacing", &m, err);
        if (st != MD_OK) return st;
        d[a] = m;
        map->scale[a] = spacing[a] / in->spacing[a];
        if (!keep_origin) {
            map->pre[a] = -(double)(m - 1) / 2.0;
            map->post[a] = (double)(n - 1) / 2.0;
        }
    }
    header_like(out, in, d);
    for (int a = 0; a < spatial_axes(in); a++) out->spacing[a] = spacing[a];
    origin_at_first(out, in, map);
    return MD_OK;
}

MdStatus md_resample_plan_shape(const MdVolume *in, const int64_t shape[3], MdVolume *out,
                                MdIndexMap *map, MdError *err)
{
    int64_t d[3] = {in->dim[0], in->dim[1], in->dim[2]};
    separable_map(map);
    for (int a = 0; a < spatial_axes(in); a++) {
        if (shape[a] < 1)
            return md_error(err, MD_EINVAL, "shape must be >= 1 (got %lld on axis %d)", (long long)shape[a], a + 1);
        d[a] = shape[a];
        map->scale[a] = (double)in->dim[a] / (double)shape[a];
        map->pre[a] = 0.5;
        map->post[a] = -0.5;
    }
    header_like(out, in, d);
    for (int a = 0; a < spatial_axes(in); a++) out->spacing[a] = in->spacing[a] * map->scale[a];
    origin_at_first(out, in, map);
    return MD_OK;
}

/* L = direction * diag(spacing): index steps to LPS mm. */
static void linear_part(const MdVolume *v, double L[9])
{
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) L[r * 3 + c] = v->direction[r * 3 + c] * v->spacing[c];
}

static void mul3(const double A[9], const double B[9], double C[9])
{
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++)
            C[r * 3 + c] = A[r * 3] * B[c] + A[r * 3 + 1] * B[3 + c] + A[r * 3 + 2] * B[6 + c];
}

static void mulv(const double A[9], const double v[3], double out[3])
{
    for (int r = 0; r < 3; r++) out[r] = A[r * 3] * v[0] + A[r * 3 + 1] * v[1] + A[r * 3 + 2] * v[2];
}

/* Marks the map separable when M has no off-diagonal terms (relative to
 * its diagonal, 1e-12) and a non-zero diagonal; pre = b / scale as scipy's
 * affine_transform does with a diagonal matrix. */
static void simplify(MdIndexMap *map)
{
    double diag = 0, off = 0;
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            double x = fabs(map->M[r * 3 + c]);
            if (r == c) diag = fmax(diag, x); else off = fmax(off, x);
        }
    for (int a = 0; a < 3; a++)
        if (map->M[a * 4] == 0) return;
    if (off > 1e-12 * diag) return;
    map->separable = 1;
    for (int a = 0; a < 3; a++) {
        map->scale[a] = map->M[a * 4];
        map->pre[a] = map->b[a] / map->scale[a];
        map->post[a] = 0;
    }
}

/* A 2-D volume can only be resampled within its own plane. */
static MdStatus check_plane(const MdVolume *in, const MdIndexMap *map, MdError *err)
{
    if (in->ndim != 2) return MD_OK;
    if (fabs(map->b[2]) > 1e-6 || fabs(map->M[6]) > 1e-9 || fabs(map->M[7]) > 1e-9)
        return md_error(err, MD_EINVAL, "the target grid leaves the plane of this 2-D volume "
                                        "(off by %g slices)", map->b[2]);
    return MD_OK;
}

MdStatus md_resample_plan_grid(const MdVolume *in, const MdVolume *out, MdIndexMap *map,
                               MdError *err)
{
    double Lin[9], Lout[9], inv[9], d[3];
    linear_part(in, Lin);
    linear_part(out, Lout);
    if (!md_geom_inv3(Lin, inv)) return md_error(err, MD_EINVAL, "the input's direction x spacing matrix is singular");
    memset(map, 0, sizeof *map);
    mul3(inv, Lout, map->M);
    for (int r = 0; r < 3; r++) d[r] = out->origin[r] - in->origin[r];
    mulv(inv, d, map->b);
    MdStatus st = check_plane(in, map, err);
    if (st != MD_OK) return st;
    simplify(map);
    return MD_OK;
}

MdStatus md_resample_plan_transform(const MdVolume *in, const double R[9], const double t[3],
                                    const double center[3], MdIndexMap *map, MdError *err)
{
    double L[9], inv[9], RL[9], v[3], w[3];
    linear_part(in, L);
    if (!md_geom_inv3(L, inv)) return md_error(err, MD_EINVAL, "the input's direction x spacing matrix is singular");
    memset(map, 0, sizeof *map);
    mul3(R, L, RL);
    mul3(inv, RL, map->M);
    /* b = inv(L) (R (origin - center) + center + t - origin) */
    for (int r = 0; r < 3; r++) v[r] = in->origin[r] - center[r];
    mulv(R, v, w);
    for (int r = 0; r < 3; r++) v[r] = w[r] + center[r] + t[r] - in->origin[r];
    mulv(inv, v, map->b);
    MdStatus st = check_plane(in, map, err);
    if (st != MD_OK) return st;
    simplify(map);
    return MD_OK;
}

int md_resample_thick_axis(const double in_spacing[3], const double out_spacing[3],
                           double threshold)
{
    const double *sets[2] = {in_spacing, out_spacing};
    for (int k = 0; k < 2; k++) {
        const double *s = sets[k];
        double lo = fmin(s[0], fmin(s[1], s[2])), hi = fmax(s[0], fmax(s[1], s[2]));
        if (!(hi / lo > threshold)) continue;
        int axis = -1, count = 0;
        for (int a = 0; a < 3; a++)
            if (s[a] == hi) axis = a, count++;
        return count == 1 ? axis : -1;
    }
    return -1;
}

static MdStatus check_opts(const MdResampleOpts *o, MdError *err)
{
    for (int a = 0; a < 3; a++)
        if (o->order[a] != 0 && o->order[a] != 1 && o->order[a] != 3)
            return md_error(err, MD_EINVAL, "interpolation order must be 0, 1 or 3 (got %d on axis %d)",
                            o->order[a], a + 1);
    if ((unsigned)o->mode >= MD_BOUND_COUNT) return md_error(err, MD_EINVAL, "unknown boundary mode");
    if (o->vote && (o->order[0] > 1 || o->order[1] > 1 || o->order[2] > 1))
        return md_error(err, MD_EINVAL, "label voting interpolates linearly (orders 0 or 1)");
    return MD_OK;
}

MdStatus md_resample(const MdVolume *in, const MdIndexMap *map, const MdResampleOpts *o,
                     MdVolume *out, MdCtx *ctx)
{
    MdError *err = ctx->err;
    MdStatus st = check_opts(o, err);
    if (st != MD_OK) return st;
    if (map->separable) {
        MdSepSpec s;
        memset(&s, 0, sizeof s);
        for (int a = 0; a < 3; a++) {
            s.pre[a] = map->pre[a];
            s.scale[a] = map->scale[a];
            s.post[a] = map->post[a];
            s.order[a] = o->order[a];
            /* skimage: sigma = max(0, (factor - 1) / 2), factor = input / output samples */
            s.sigma[a] = o->antialias ? fmax(0, (fabs(map->scale[a]) - 1) / 2) : 0;
        }
        s.identity_z = in->ndim == 2;
        s.mode = o->mode;
        s.fill = o->fill;
        s.vote = o->vote;
        return md_resample_separable(in, &s, out, ctx);
    }
    if (o->antialias || o->vote)
        return md_error(err, MD_EINVAL, "%s needs an axis-aligned target grid (this one is rotated "
                                        "or sheared)", o->vote ? "label voting" : "antialias");
    MdAffineSpec a;
    memcpy(a.M, map->M, sizeof a.M);
    memcpy(a.b, map->b, sizeof a.b);
    for (int k = 0; k < 3; k++) a.order[k] = o->order[k];
    if (in->ndim == 2) a.order[2] = 0;
    a.mode = o->mode;
    a.fill = o->fill;
    return md_transform_affine(in, &a, out, ctx);
}
