/* The fused augmentation warp: affine part and B-spline displacement are
 * evaluated per output row, then each voxel is interpolated once. Interior
 * linear and nearest samples skip the boundary folding (warp_rows.c sweeps
 * a row with vector loops: md_coef_sample's value to rounding in the last
 * bits); in constant mode voxels outside take the fill; everything
 * else goes through md_coef_sample. */
#include "warp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/rows.h"
#include "transform.h"
#include "warp_rows.h"

/* Cubic B-spline lattice taps along one axis: first lattice index and the
 * four weights at output index o. */
static int lattice_taps(int64_t o, int64_t n, int K, double w[4])
{
    double t = 0.0;
    int j = 0;
    if (n > 1) {
        double u = (double)o * (double)(K - 3) / (double)(n - 1);
        j = (int)floor(u);
        if (j > K - 4) j = K - 4;
        if (j < 0) j = 0;
        t = u - (double)j;
    }
    double s = 1.0 - t;
    w[0] = s * s * s / 6.0;
    w[1] = (3.0 * t * t * t - 6.0 * t * t + 4.0) / 6.0;
    w[2] = (-3.0 * t * t * t + 3.0 * t * t + 3.0 * t + 1.0) / 6.0;
    w[3] = t * t * t / 6.0;
    return j;
}

void md_warp_displacement(const MdWarpSpec *s, const int64_t out_dim[3], const double o[3],
                          double d[3])
{
    d[0] = d[1] = d[2] = 0.0;
    if (!s->disp) return;
    double w[3][4];
    int j[3];
    for (int a = 0; a < 3; a++) {
        /* the lattice is evaluated at integer output indices only */
        j[a] = lattice_taps((int64_t)o[a], out_dim[a], s->K[a], w[a]);
    }
    const size_t nk = (size_t)s->K[0] * (size_t)s->K[1] * (size_t)s->K[2];
    for (int c = 0; c < 3; c++) {
        const double *p = s->disp + (size_t)c * nk;
        double acc = 0.0;
        for (int k = 0; k < 4; k++)
            for (int jj = 0; jj < 4; jj++)
                for (int i = 0; i < 4; i++)
                    acc += w[2][k] * w[1][jj] * w[0][i] *
                           p[((size_t)(j[2] + k) * (size_t)s->K[1] + (size_t)(j[1] + jj)) * (size_t)s->K[0] +
                             (size_t)(j[0] + i)];
        d[c] = acc;
    }
}

/* Per-thread scratch: one output row of values, coordinates and flags, and
 * the lattice partly contracted. */
typedef struct Row {
    double *val, *dx, *dy, *dz, *py; /* py: 3 components x K[0] */
    double *slab;                    /* the lattice contracted along z for output slice slab_z */
    int64_t slab_z;
    uint8_t *edge;                   /* voxels the row sweeps left to the general path */
    int32_t *idx;                    /* nearest taps of the row (-1: outside) */
} Row;

/* The displacement along row (oy, oz): the lattice contracted along z
 * (once per output slice, kept in the row's slab), then along y, then
 * along x (md_warp_row_displace). */
static void displacement_row(const MdWarpSpec *s, const int64_t od[3], int64_t oy, int64_t oz,
                             const int *jx, const double *wx, Row *r)
{
    const int K0 = s->K[0], K1 = s->K[1], K2 = s->K[2];
    const size_t nk = (size_t)K0 * (size_t)K1 * (size_t)K2, ns = (size_t)K0 * (size_t)K1;
    if (r->slab_z != oz) {
        double wz[4];
        const int jz = lattice_taps(oz, od[2], K2, wz);
        for (int c = 0; c < 3; c++) {
            const double *p = s->disp + (size_t)c * nk + (size_t)jz * ns;
            double *q = r->slab + (size_t)c * ns;
            for (size_t i = 0; i < ns; i++) q[i] = wz[0] * p[i] + wz[1] * p[ns + i] + wz[2] * p[2 * ns + i] + wz[3] * p[3 * ns + i];
        }
        r->slab_z = oz;
    }
    double wy[4];
    const int jy = lattice_taps(oy, od[1], K1, wy);
    for (int c = 0; c < 3; c++) {
        const double *q = r->slab + (size_t)c * ns + (size_t)jy * (size_t)K0;
        double *py = r->py + (size_t)c * (size_t)K0;
        for (int i = 0; i < K0; i++) py[i] = wy[0] * q[i] + wy[1] * q[K0 + i] + wy[2] * q[2 * K0 + i] + wy[3] * q[3 * K0 + i];
    }
    md_warp_row_displace(od[0], jx, wx, r->py, K0, r->dx, r->dy, r->dz);
}

/* Linear interpolation inside the volume as three nested lerps: the value
 * md_coef_sample gives (scipy's), to rounding in the last bits, at a third
 * of the cost. Returns 0 when c is not interior
 * (then the caller takes the general path). FT is float or double. */
#define LINEAR_INTERIOR(NAME, FT)                                                               \
    static inline int NAME(const FT *p, const int64_t len[3], double cx, double cy, double cz,  \
                           double *v)                                                           \
    {                                                                                           \
        if (!(cx >= 0.0 && cx < (double)(len[0] - 1) && cy >= 0.0 &&                           \
              cy < (double)(len[1] - 1)))                                                       \
            return 0;                                                                           \
        const int flat = len[2] == 1;                                                           \
        if (!flat && !(cz >= 0.0 && cz < (double)(len[2] - 1))) return 0;                      \
        if (flat && cz != 0.0) return 0;                                                        \
        /* c >= 0 here, so truncation is floor (and no libm call) */                          \
        double fx = (double)(int64_t)cx, fy = (double)(int64_t)cy, fz = (double)(int64_t)cz;    \
        double tx = cx - fx, ty = cy - fy, tz = flat ? 0.0 : cz - fz;                           \
        const int64_t sy = len[0], sz = flat ? 0 : len[0] * len[1];                             \
        const FT *q = p + (int64_t)fx + (int64_t)fy * sy + (int64_t)fz * len[0] * len[1];       \
        double a0 = (double)q[0] + tx * ((double)q[1] - (double)q[0]);                          \
        double a1 = (double)q[sy] + tx * ((double)q[sy + 1] - (double)q[sy]);                   \
        double acc = a0 + ty * (a1 - a0);                                                       \
        if (!flat) {                                                                            \
            double b0 = (double)q[sz] + tx * ((double)q[sz + 1] - (double)q[sz]);               \
            double b1 = (double)q[sz + sy] + tx * ((double)q[sz + sy + 1] - (double)q[sz + sy]); \
            double b = b0 + ty * (b1 - b0);                                                     \
            acc += tz * (b - acc);                                                              \
        }                                                                                       \
        *v = acc;                                                                               \
        return 1;                                                                               \
    }
LINEAR_INTERIOR(linear_f32, float)
LINEAR_INTERIOR(linear_f64, double)
#undef LINEAR_INTERIOR

/* Nearest inside the volume: floor(c + 0.5) as scipy's order 0. */
static inline int nearest_interior(const MdVolume *in, size_t frame, double cx, double cy, double cz,
                                   double *v)
{
    const int64_t nx = in->dim[0], ny = in->dim[1], nz = in->dim[2];
    if (!(cx >= 0.0 && cx <= (double)(nx - 1) && cy >= 0.0 && cy <= (double)(ny - 1) && cz >= 0.0 &&
          cz <= (double)(nz - 1)))
        return 0;
    /* c >= 0 here: truncation of c + 0.5 is scipy's floor(c + 0.5) */
    int64_t i = (int64_t)(cx + 0.5), j = (int64_t)(cy + 0.5), k = (int64_t)(cz + 0.5);
    *v = md_load(md_volume_data(in), in->dtype, frame + (size_t)((k * ny + j) * nx + i));
    return 1;
}

/* Per-label linear voting at input index c (order-1 taps, boundary mode). */
static double vote_sample(const MdVolume *in, int64_t f, const MdWarpSpec *s, const double c[3])
{
    int64_t first[3], len[3] = {in->dim[0], in->dim[1], in->dim[2]};
    double w[3][4];
    for (int a = 0; a < 3; a++) {
        double ca = c[a];
        if (md_spline_map_coord(&ca, len[a], s->mode)) return s->fill;
        first[a] = md_spline_weights(ca, 1, w[a]);
    }
    double lab[8], score[8];
    int nl = 0;
    const size_t frame = (size_t)f * (size_t)(len[0] * len[1] * len[2]);
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 2; j++)
            for (int i = 0; i < 2; i++) {
                double wt = w[2][k] * w[1][j] * w[0][i];
                int64_t tx = md_spline_tap(first[0] + i, len[0], s->mode);
                int64_t ty = md_spline_tap(first[1] + j, len[1], s->mode);
                int64_t tz = md_spline_tap(first[2] + k, len[2], s->mode);
                double v = tx < 0 || ty < 0 || tz < 0
                             ? s->fill
                             : md_load(md_volume_data(in), in->dtype,
                                       frame + (size_t)((tz * len[1] + ty) * len[0] + tx));
                int m = 0;
                while (m < nl && lab[m] != v) m++;
                if (m == nl) lab[nl] = v, score[nl++] = 0.0;
                score[m] += wt;
            }
    int best = 0;
    for (int m = 1; m < nl; m++)
        if (score[m] > score[best] || (score[m] == score[best] && lab[m] < lab[best])) best = m;
    return lab[best];
}

/* In constant mode every order reads the fill value wherever one
 * coordinate lies outside [0, n - 1] (or is NaN): md_spline_map_coord's
 * rule, tested here once instead of through the general sampler. */
static inline int outside_box(const int64_t dim[3], double cx, double cy, double cz)
{
    return !(cx >= 0.0 && cx <= (double)(dim[0] - 1) && cy >= 0.0 && cy <= (double)(dim[1] - 1) && cz >= 0.0 &&
             cz <= (double)(dim[2] - 1));
}

/* Nearest into the input's own dtype: bytes are copied, no conversion.
 * Voxels outside the input take the fill (constant mode, its bytes in
 * fill_bytes) or go through md_coef_sample (the mode decides). */
static void gather_row(const MdVolume *in, size_t frame, const MdWarpSpec *s, const int order[3],
                       const MdCoef *cf, int64_t f, const double *cx, const double *cy, const double *cz,
                       int64_t n, const char *fill_bytes, void *dst)
{
    const size_t es = md_dtype_size(in->dtype);
    const int64_t nx = in->dim[0], ny = in->dim[1], nz = in->dim[2];
    const char *src = (const char *)md_volume_data(in) + frame * es;
    char *d = dst;
    for (int64_t x = 0; x < n; x++) {
        const char *from;
        if (cx[x] >= 0.0 && cx[x] <= (double)(nx - 1) && cy[x] >= 0.0 && cy[x] <= (double)(ny - 1) &&
            cz[x] >= 0.0 && cz[x] <= (double)(nz - 1)) {
            /* c >= 0: truncating c + 0.5 is scipy's floor(c + 0.5) */
            int64_t i = (int64_t)(cx[x] + 0.5), j = (int64_t)(cy[x] + 0.5), k = (int64_t)(cz[x] + 0.5);
            from = src + (size_t)((k * ny + j) * nx + i) * es;
        } else if (fill_bytes) {
            from = fill_bytes;
        } else {
            double c[3] = {cx[x], cy[x], cz[x]}, v = md_coef_sample(cf, in, f, order, s->mode, s->fill, c);
            md_rows_from_f64(d, in->dtype, (size_t)x, 1, &v, MD_ROUND_NEAREST);
            continue;
        }
        switch (es) {
        case 1: d[x] = *from; break;
        case 2: memcpy(d + 2 * x, from, 2); break;
        case 4: memcpy(d + 4 * x, from, 4); break;
        default: memcpy(d + (size_t)x * es, from, es); break;
        }
    }
}

static MdStatus check_spec(const MdWarpSpec *s, const MdWarpLayer *layers, int n, MdError *err)
{
    if (n < 1) return md_error(err, MD_EINVAL, "warp: nothing to warp");
    for (int i = 0; i < n; i++) {
        const MdWarpLayer *l = &layers[i];
        if (l->out->dim[3] != l->in->dim[3])
            return md_error(err, MD_EINVAL, "warp: output %d has %lld frames, its input %lld", i + 1,
                            (long long)l->out->dim[3], (long long)l->in->dim[3]);
        for (int a = 0; a < 3; a++)
            if (l->out->dim[a] != layers[0].out->dim[a] || (i > 0 && l->in->dim[a] != layers[0].in->dim[a]))
                return md_error(err, MD_EINVAL, "warp: volume %d is not on the first one's grid", i + 1);
        if (!l->vote && l->order != 0 && l->order != 1 && l->order != 3)
            return md_error(err, MD_EINVAL, "warp: order must be 0, 1 or 3 (got %d)", l->order);
    }
    if (s->disp)
        for (int a = 0; a < 3; a++)
            if (s->K[a] < 4 || s->K[a] > 4096)
                return md_error(err, MD_EINVAL, "warp: the elastic lattice needs 4 to 4096 control "
                                                "points per axis (got %d on axis %d)", s->K[a], a + 1);
    return MD_OK;
}

static void row_free(Row *r)
{
    free(r->val), free(r->dx), free(r->dy), free(r->dz), free(r->py), free(r->slab), free(r->edge), free(r->idx);
}

static int row_alloc(Row *r, int64_t nx, const int K[3])
{
    const int K0 = K[0];
    r->val = malloc((size_t)nx * sizeof(double));
    r->dx = malloc((size_t)nx * sizeof(double));
    r->dy = malloc((size_t)nx * sizeof(double));
    r->dz = malloc((size_t)nx * sizeof(double));
    r->py = malloc((size_t)(3 * (K0 > 0 ? K0 : 1)) * sizeof(double));
    r->slab = malloc((size_t)(3 * (K0 > 0 ? K0 : 1)) * (size_t)(K[1] > 0 ? K[1] : 1) * sizeof(double));
    r->slab_z = -1;
    r->edge = malloc((size_t)nx);
    r->idx = malloc((size_t)nx * sizeof(int32_t));
    return r->val && r->dx && r->dy && r->dz && r->py && r->slab && r->edge && r->idx;
}

/* One volume of a warp, with what its frame's sampling needs. */
typedef struct Job {
    const MdVolume *in;
    MdVolume *out;
    MdWarpSpec s; /* the shared mapping with this volume's order, vote and fill */
    int order[3];
    MdCoef cf;
    int lin, near, copy, constant, rows; /* rows: the vector row sweeps apply */
    _Alignas(double) char fill_bytes[16]; /* the fill in the output's dtype (constant mode) */
} Job;

static void job_prepare(Job *j)
{
    const MdCoef *cf = &j->cf;
    j->lin = !j->s.vote && j->order[0] == 1 && j->order[1] == 1 && (j->order[2] == 1 || j->in->dim[2] == 1) &&
             (cf->f || cf->d) && !cf->npad[0] && !cf->npad[1] && !cf->npad[2];
    j->near = !j->s.vote && j->order[0] == 0 && j->order[1] == 0 && j->order[2] == 0;
    j->copy = j->near && j->out->dtype == j->in->dtype;
    j->constant = j->s.mode == MD_BOUND_CONSTANT;
    j->rows = md_warp_rows_fit(j->in->dim) && (j->lin || (j->copy && md_dtype_size(j->in->dtype) <= 8));
    md_rows_from_f64(j->fill_bytes, j->out->dtype, 0, 1, &j->s.fill, MD_ROUND_NEAREST);
}

/* The value of voxel x of the row through the general sampler (or the
 * fill, in constant mode, outside the input). */
static double general_sample(const Job *j, int64_t f, const Row *r, int64_t x)
{
    double c[3] = {r->dx[x], r->dy[x], r->dz[x]};
    if (j->constant && outside_box(j->in->dim, c[0], c[1], c[2])) return j->s.fill;
    return md_coef_sample(&j->cf, j->in, f, j->order, j->s.mode, j->s.fill, c);
}

/* Nearest into the input's own dtype from the row's taps: the bytes are
 * copied; voxels outside take the fill's bytes (constant mode) or the
 * general sampler. */
static void copy_row(const Job *j, size_t frame, int64_t f, const Row *r, int64_t n, char *dst)
{
    const size_t es = md_dtype_size(j->in->dtype);
    const char *src = (const char *)md_volume_data(j->in) + frame * es;
    const int64_t nout = md_warp_row_nearest(j->in->dim, r->dx, r->dy, r->dz, n, r->idx);
    const int32_t *idx = r->idx;
    if (es == 1) {
        const char fb = j->fill_bytes[0];
        for (int64_t x = 0; x < n; x++) dst[x] = idx[x] >= 0 ? src[idx[x]] : fb;
    } else {
        for (int64_t x = 0; x < n; x++)
            memcpy(dst + (size_t)x * es, idx[x] >= 0 ? src + (size_t)idx[x] * es : j->fill_bytes, es);
    }
    if (nout && !j->constant)
        for (int64_t x = 0; x < n; x++)
            if (idx[x] < 0) {
                double v = general_sample(j, f, r, x);
                md_rows_from_f64(dst, j->in->dtype, (size_t)x, 1, &v, MD_ROUND_NEAREST);
            }
}

/* Samples one output row of one job from the row's coordinates. */
static void job_row(const Job *j, int64_t f, int64_t zy, const int64_t od[3], Row *r)
{
    const MdVolume *in = j->in;
    const MdCoef *cf = &j->cf;
    const size_t frame = (size_t)f * (size_t)(in->dim[0] * in->dim[1] * in->dim[2]);
    const size_t first = (size_t)((f * od[2] * od[1] + zy) * od[0]);
    if (j->copy) {
        char *row = (char *)md_volume_data(j->out) + first * md_dtype_size(j->out->dtype);
        if (j->rows) copy_row(j, frame, f, r, od[0], row);
        else gather_row(in, frame, &j->s, j->order, cf, f, r->dx, r->dy, r->dz, od[0],
                        j->constant ? j->fill_bytes : NULL, row);
        return;
    }
    if (j->rows) { /* interior voxels in one vector sweep, then the rest */
        const int64_t nedge = cf->f ? md_warp_row_linear_f32(cf->f, cf->len, r->dx, r->dy, r->dz, od[0], r->val, r->edge)
                                    : md_warp_row_linear_f64(cf->d, cf->len, r->dx, r->dy, r->dz, od[0], r->val, r->edge);
        if (nedge)
            for (int64_t ox = 0; ox < od[0]; ox++)
                if (r->edge[ox]) r->val[ox] = general_sample(j, f, r, ox);
    } else {
        for (int64_t ox = 0; ox < od[0]; ox++) {
            double c[3] = {r->dx[ox], r->dy[ox], r->dz[ox]};
            double *v = &r->val[ox];
            if (j->constant && outside_box(in->dim, c[0], c[1], c[2])) *v = j->s.fill;
            else if (j->s.vote) *v = vote_sample(in, f, &j->s, c);
            else if (j->lin && cf->f && linear_f32(cf->f, cf->len, c[0], c[1], c[2], v)) continue;
            else if (j->lin && cf->d && linear_f64(cf->d, cf->len, c[0], c[1], c[2], v)) continue;
            else if (j->near && nearest_interior(in, frame, c[0], c[1], c[2], v)) continue;
            else *v = md_coef_sample(cf, in, f, j->order, j->s.mode, j->s.fill, c);
        }
    }
    md_rows_from_f64(md_volume_data(j->out), j->out->dtype, first, (size_t)od[0], r->val, MD_ROUND_NEAREST);
}

/* Frame f of every job that has it: coordinates once per row, then each
 * job samples the row. */
static MdStatus warp_frame(const MdWarpSpec *s, Job *jobs, int n, int64_t f, const int *jx,
                           const double *wx, MdCtx *ctx, size_t *done, size_t total)
{
    const MdVolume *out = jobs[0].out;
    const int64_t od[3] = {out->dim[0], out->dim[1], out->dim[2]};
    const int64_t rows = od[1] * od[2];
    int fail = MD_OK;
#pragma omp parallel num_threads(ctx->threads) if (md_par_worth((double)rows * (double)od[0] * n))
    {
        Row r = {0};
        if (!row_alloc(&r, od[0], s->K)) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t zy = 0; zy < rows; zy++) {
            if (md_par_stopped(&fail)) continue;
            int64_t oy = zy % od[1], oz = zy / od[1];
            if (oy == 0 && md_par_poll_cancel(&fail)) continue;
            /* coordinates of the row: scipy's order (z, y, x, then the offset) */
            double base[3], mx[3];
            for (int a = 0; a < 3; a++) {
                base[a] = 0.0 + (double)oz * s->M[a * 3 + 2] + (double)oy * s->M[a * 3 + 1];
                mx[a] = s->M[a * 3 + 0];
            }
            md_warp_row_coords(od[0], base, mx, s->b, r.dx, r.dy, r.dz);
            if (s->disp) displacement_row(s, od, oy, oz, jx, wx, &r);
            for (int i = 0; i < n; i++)
                if (f < jobs[i].in->dim[3]) job_row(&jobs[i], f, zy, od, &r);
            if (md_par_thread() == 0) {
                *done += (size_t)(ctx->threads > 0 ? ctx->threads : 1);
                md_ctx_progress(ctx, *done < total ? *done : total - 1, total);
            }
        }
        row_free(&r);
    }
    return md_par_status(fail, "warp", ctx->err);
}

MdStatus md_warp_many(const MdWarpSpec *s, const MdWarpLayer *layers, int n, MdCtx *ctx)
{
    MdStatus st = check_spec(s, layers, n, ctx->err);
    if (st != MD_OK) return st;
    const int64_t onx = layers[0].out->dim[0];
    int64_t frames = 0;
    int *jx = malloc((size_t)onx * sizeof *jx);
    double *wx = malloc((size_t)onx * 4 * sizeof *wx);
    Job *jobs = calloc((size_t)n, sizeof *jobs);
    if (!jx || !wx || !jobs) {
        st = md_error(ctx->err, MD_ENOMEM, "warp: out of memory for %lld lattice weights", (long long)onx);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        Job *j = &jobs[i];
        j->in = layers[i].in, j->out = layers[i].out, j->s = *s;
        j->s.order = layers[i].order, j->s.vote = layers[i].vote, j->s.fill = layers[i].fill;
        for (int a = 0; a < 3; a++) j->order[a] = j->s.vote ? 0 : j->in->dim[a] > 1 ? j->s.order : 0;
        if (j->in->dim[3] > frames) frames = j->in->dim[3];
    }
    /* x lattice taps, shared by every row: weights k of all x in row k */
    if (s->disp)
        for (int64_t x = 0; x < onx; x++) {
            double w[4];
            jx[x] = lattice_taps(x, onx, s->K[0], w);
            for (int k = 0; k < 4; k++) wx[k * onx + x] = w[k];
        }
    size_t progress = 0, total = (size_t)(layers[0].out->dim[1] * layers[0].out->dim[2] * frames);
    for (int64_t f = 0; f < frames && st == MD_OK; f++) {
        for (int i = 0; i < n && st == MD_OK; i++) {
            Job *j = &jobs[i];
            if (f >= j->in->dim[3]) continue;
            if (!j->s.vote) st = md_coef_build(j->in, f, j->order, j->s.mode, j->s.fill, &j->cf, ctx);
            job_prepare(j);
        }
        if (st == MD_OK) st = warp_frame(s, jobs, n, f, jx, wx, ctx, &progress, total);
    }
    md_ctx_finish(ctx, total);
done:
    if (jobs)
        for (int i = 0; i < n; i++) free(jobs[i].cf.data);
    free(jobs);
    free(jx);
    free(wx);
    return st;
}

MdStatus md_warp(const MdVolume *in, const MdWarpSpec *s, MdVolume *out, MdCtx *ctx)
{
    MdWarpLayer l = {in, out, s->order, s->vote, s->fill};
    return md_warp_many(s, &l, 1, ctx);
}
