/* Separable B-spline fit, refinement and evaluation for N4 (see
 * n4_bspline.h). The fit gathers each z slice into a (m0 x m1) plane of
 * numerator and denominator sums (in parallel, one plane per slice), then
 * folds the planes along z in slice order, so the sums never depend on the
 * thread count. */
#include "n4_bspline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"

MdStatus md_n4_lattice_new(MdN4Lattice *lat, const int m[3], int order, MdError *err)
{
    memset(lat, 0, sizeof *lat);
    for (int a = 0; a < 3; a++)
        if (m[a] <= order || m[a] > 100000)
            return md_error(err, MD_EINVAL, "control points must be > spline order %d (got %d on axis %d)", order,
                            m[a], a + 1);
    size_t n = (size_t)m[0] * (size_t)m[1] * (size_t)m[2];
    lat->phi = calloc(n, sizeof *lat->phi);
    if (!lat->phi) return md_error(err, MD_ENOMEM, "n4: out of memory for a %dx%dx%d lattice", m[0], m[1], m[2]);
    memcpy(lat->m, m, sizeof lat->m);
    lat->order = order;
    return MD_OK;
}

void md_n4_lattice_free(MdN4Lattice *lat)
{
    free(lat->phi);
    lat->phi = NULL;
}

/* Weights of the order+1 control points of a span at fraction t in [0, 1):
 * the centred B-spline of the order at t - r + (order - 1) / 2. */
static void basis(int order, double t, double *w)
{
    double s = 1 - t;
    switch (order) {
    case 0: w[0] = 1; break;
    case 1: w[0] = s, w[1] = t; break;
    case 2: w[0] = 0.5 * s * s, w[1] = 0.5 + t * s, w[2] = 0.5 * t * t; break;
    default:
        w[0] = s * s * s / 6;
        w[1] = (3 * t * t * t - 6 * t * t + 4) / 6;
        w[2] = (-3 * t * t * t + 3 * t * t + 3 * t + 1) / 6;
        w[3] = t * t * t / 6;
        break;
    }
}

MdStatus md_n4_axis_new(MdN4Axis *ax, int64_t n, int m, int order, MdError *err)
{
    memset(ax, 0, sizeof *ax);
    int k = order + 1;
    ax->span = malloc((size_t)n * sizeof *ax->span);
    ax->w = malloc((size_t)n * (size_t)k * sizeof *ax->w);
    ax->s2 = malloc((size_t)n * sizeof *ax->s2);
    if (!ax->span || !ax->w || !ax->s2) {
        md_n4_axis_free(ax);
        return md_error(err, MD_ENOMEM, "n4: out of memory for B-spline tables");
    }
    ax->n = n;
    ax->order = order;
    double spans = m - order, eps = spans / (double)(n - 1) * 1e-3;
    for (int64_t i = 0; i < n; i++) {
        double u = spans * (double)i / (double)(n - 1);
        if (fabs(u - spans) <= eps) u = spans - eps;
        double s = floor(u);
        ax->span[i] = (int32_t)s;
        double *w = ax->w + i * k, sum = 0;
        basis(order, u - s, w);
        for (int r = 0; r < k; r++) sum += w[r] * w[r];
        ax->s2[i] = sum;
    }
    return MD_OK;
}

void md_n4_axis_free(MdN4Axis *ax)
{
    free(ax->span);
    free(ax->w);
    free(ax->s2);
    memset(ax, 0, sizeof *ax);
}

/* Row j of slice l gathered along x, then spread along y into the slice's
 * numerator plane pd and denominator plane po. row holds 2*m0 values. */
static void fit_row(const MdN4Axis ax[3], const float *z, const float *wc, int64_t j, int m0, double *row,
                    double *pd, double *po)
{
    int k = ax[0].order + 1;
    double *dx = row, *ox = row + m0;
    memset(row, 0, 2 * (size_t)m0 * sizeof *row);
    int any = 0;
    for (int64_t i = 0; i < ax[0].n; i++) {
        double c = (double)wc[i];
        if (c == 0) continue;
        any = 1;
        double g = c * (double)z[i] / ax[0].s2[i];
        const double *w = ax[0].w + i * k;
        int s = ax[0].span[i];
        for (int r = 0; r < k; r++) {
            double t2 = w[r] * w[r];
            dx[s + r] += g * t2 * w[r];
            ox[s + r] += c * t2;
        }
    }
    if (!any) return;
    const double *w = ax[1].w + j * k;
    double inv = 1 / ax[1].s2[j];
    for (int r = 0; r < k; r++) {
        double t2 = w[r] * w[r], a = t2 * w[r] * inv;
        double *d = pd + (size_t)(ax[1].span[j] + r) * m0, *o = po + (size_t)(ax[1].span[j] + r) * m0;
        for (int cx = 0; cx < m0; cx++) {
            d[cx] += a * dx[cx];
            o[cx] += t2 * ox[cx];
        }
    }
}

void md_n4_fit_slice(const MdN4Axis ax[3], const float *z, const float *wc, int m0, int m1, double *row,
                     double *planes)
{
    size_t plane = (size_t)m0 * m1;
    memset(planes, 0, 2 * plane * sizeof *planes);
    for (int64_t j = 0; j < ax[1].n; j++) {
        size_t at = (size_t)j * ax[0].n;
        fit_row(ax, z + at, wc + at, j, m0, row, planes, planes + plane);
    }
}

void md_n4_fit_fold(const MdN4Axis *az, const double *planes, MdN4Lattice *out, double *omega)
{
    int k = out->order + 1;
    size_t plane = (size_t)out->m[0] * out->m[1], nlat = plane * out->m[2];
    double *delta = out->phi;
    memset(delta, 0, nlat * sizeof *delta);
    memset(omega, 0, nlat * sizeof *omega);
    for (int64_t l = 0; l < az->n; l++) { /* slice order: the same sums on any thread count */
        const double *pd = planes + (size_t)l * 2 * plane, *po = pd + plane, *w = az->w + l * k;
        double inv = 1 / az->s2[l];
        for (int r = 0; r < k; r++) {
            double t2 = w[r] * w[r], a = t2 * w[r] * inv;
            double *d = delta + (size_t)(az->span[l] + r) * plane, *o = omega + (size_t)(az->span[l] + r) * plane;
            for (size_t c = 0; c < plane; c++) {
                d[c] += a * pd[c];
                o[c] += t2 * po[c];
            }
        }
    }
    for (size_t c = 0; c < nlat; c++) delta[c] = omega[c] != 0 ? delta[c] / omega[c] : 0;
}

/* One axis of the lattice doubled: q_l = 2^-k sum_j C(k+1, l - 2j + k) p_j
 * over lines of the axis (stride apart, `lines` of them, line starts given
 * by the (inner, outer) split of the other two axes). */
static void refine_axis(const double *src, double *dst, const int m[3], int axis, int order)
{
    int k = order, mo = m[axis], mn = 2 * (mo - k) + k;
    double c[MD_N4_MAX_ORDER + 2], scale = ldexp(1.0, -k);
    for (int i = 0; i <= k + 1; i++) { /* binomial C(k+1, i) */
        double b = 1;
        for (int q = 0; q < i; q++) b = b * (k + 1 - q) / (q + 1);
        c[i] = b * scale;
    }
    int64_t inner = 1, outer = 1;
    for (int a = 0; a < axis; a++) inner *= m[a];
    for (int a = axis + 1; a < 3; a++) outer *= m[a];
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const double *p = src + o * mo * inner + i;
            double *q = dst + o * mn * inner + i;
            for (int l = 0; l < mn; l++) {
                double s = 0;
                for (int j = (l - 1) / 2; j <= (l + k) / 2; j++) {
                    int t = l - 2 * j + k;
                    if (j < 0 || j >= mo || t < 0 || t > k + 1) continue;
                    s += c[t] * p[(int64_t)j * inner];
                }
                q[(int64_t)l * inner] = s;
            }
        }
}

MdStatus md_n4_refine(MdN4Lattice *lat, MdError *err)
{
    int m[3];
    memcpy(m, lat->m, sizeof m);
    for (int a = 0; a < 3; a++) {
        int mn = 2 * (m[a] - lat->order) + lat->order;
        if (mn > 100000) return md_error(err, MD_EINVAL, "n4: the refined lattice would exceed 100000 points on axis %d", a + 1);
        size_t n = (size_t)mn;
        for (int b = 0; b < 3; b++)
            if (b != a) n *= (size_t)m[b];
        double *dst = malloc(n * sizeof *dst);
        if (!dst) return md_error(err, MD_ENOMEM, "n4: out of memory refining the lattice");
        refine_axis(lat->phi, dst, m, a, lat->order);
        free(lat->phi);
        lat->phi = dst;
        m[a] = mn;
    }
    memcpy(lat->m, m, sizeof m);
    return MD_OK;
}

void md_n4_eval_plane(const MdN4Lattice *lat, const MdN4Axis *az, int64_t l, double *q)
{
    int k = lat->order + 1;
    size_t plane = (size_t)lat->m[0] * lat->m[1];
    const double *w = az->w + l * k, *p = lat->phi + (size_t)az->span[l] * plane;
    for (size_t c = 0; c < plane; c++) q[c] = w[0] * p[c];
    for (int r = 1; r < k; r++) {
        const double *pr = p + r * plane;
        for (size_t c = 0; c < plane; c++) q[c] += w[r] * pr[c];
    }
}

void md_n4_eval_row(const MdN4Lattice *lat, const MdN4Axis *ax, const MdN4Axis *ay, const double *q, int64_t j,
                    double *r, double *out)
{
    int k = lat->order + 1, m0 = lat->m[0];
    const double *wy = ay->w + j * k, *p = q + (size_t)ay->span[j] * m0;
    for (int c = 0; c < m0; c++) r[c] = wy[0] * p[c];
    for (int s = 1; s < k; s++)
        for (int c = 0; c < m0; c++) r[c] += wy[s] * p[(size_t)s * m0 + c];
    if (k == 4) {
        for (int64_t i = 0; i < ax->n; i++) {
            const double *w = ax->w + i * 4, *a = r + ax->span[i];
            out[i] = w[0] * a[0] + w[1] * a[1] + w[2] * a[2] + w[3] * a[3];
        }
        return;
    }
    for (int64_t i = 0; i < ax->n; i++) {
        const double *w = ax->w + i * k, *a = r + ax->span[i];
        double s = 0;
        for (int t = 0; t < k; t++) s += w[t] * a[t];
        out[i] = s;
    }
}
