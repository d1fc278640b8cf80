/* Boundary modes, spline weights, the cubic prefilter and the Gaussian
 * anti-aliasing filter, one line (or a block of interleaved lines) at a
 * time. The arithmetic follows scipy.ndimage 1.10 step by step where its
 * rounding decides a result (which side of an edge a coordinate falls on,
 * the prefilter's boundary sums), so that parity holds at the edges too. */
#include "spline.h"

#include <math.h>
#include <string.h>

/* The pole of the cubic B-spline prefilter, sqrt(3) - 2. */
#define POLE3 (-0.267949192431122706472553658494127633)

static const char *const mode_names[MD_BOUND_COUNT] = {
    "constant", "grid-constant", "nearest", "mirror", "reflect", "grid-wrap", "wrap"};

int md_boundary_from_name(const char *s)
{
    if (strcmp(s, "grid-mirror") == 0) return MD_BOUND_REFLECT;
    for (int i = 0; i < MD_BOUND_COUNT; i++)
        if (strcmp(s, mode_names[i]) == 0) return i;
    return -1;
}

/* Coordinate below 0, folded back (scipy's integer truncations kept). */
static int map_low(double *pc, int64_t n, MdBoundary m)
{
    double c = *pc;
    switch (m) {
    case MD_BOUND_CONSTANT: return 1;
    case MD_BOUND_MIRROR: {
        double p = (double)(2 * n - 2);
        c = p * (double)(int64_t)(-c / p) + c;
        c = c <= (double)(1 - n) ? c + p : -c;
    } break;
    case MD_BOUND_REFLECT: {
        double p = (double)(2 * n);
        if (c < -p) c = p * (double)(int64_t)(-c / p) + c;
        c = c < (double)-n ? c + p : -c - 1;
    } break;
    case MD_BOUND_WRAP: {
        double p = (double)(n - 1);
        c += p * (double)((int64_t)(-c / p) + 1);
    } break;
    case MD_BOUND_GRID_WRAP:
        c += (double)n * (double)((int64_t)((-1 - c) / (double)n) + 1);
        break;
    default: break; /* nearest and grid-constant: the taps handle it */
    }
    *pc = c;
    return 0;
}

/* Coordinate above n - 1, folded back. */
static int map_high(double *pc, int64_t n, MdBoundary m)
{
    double c = *pc;
    switch (m) {
    case MD_BOUND_CONSTANT: return 1;
    case MD_BOUND_MIRROR: {
        double p = (double)(2 * n - 2);
        c -= p * (double)(int64_t)(c / p);
        if (c >= (double)n) c = p - c;
    } break;
    case MD_BOUND_REFLECT: {
        double p = (double)(2 * n);
        c -= p * (double)(int64_t)(c / p);
        if (c >= (double)n) c = p - c - 1;
    } break;
    case MD_BOUND_WRAP: {
        double p = (double)(n - 1);
        c -= p * (double)(int64_t)(c / p);
    } break;
    case MD_BOUND_GRID_WRAP: c -= (double)n * (double)(int64_t)(c / (double)n); break;
    default: break;
    }
    *pc = c;
    return 0;
}

int md_spline_map_coord(double *c, int64_t n, MdBoundary m)
{
    /* Far outside (or NaN) there is nothing sensible to fold: fill. */
    if (!(fabs(*c) < 1e15)) return 1;
    if (*c >= 0 && *c <= (double)(n - 1)) return 0;
    if (n <= 1 && m != MD_BOUND_CONSTANT && m != MD_BOUND_NEAREST && m != MD_BOUND_GRID_CONSTANT) {
        *c = 0;
        return 0;
    }
    return *c < 0 ? map_low(c, n, m) : map_high(c, n, m);
}

static int64_t pos_mod(int64_t i, int64_t p)
{
    int64_t r = i % p;
    return r < 0 ? r + p : r;
}

int64_t md_spline_tap(int64_t i, int64_t n, MdBoundary m)
{
    if (i >= 0 && i < n) return i;
    if (m == MD_BOUND_GRID_CONSTANT) return -1;
    if (n == 1) return 0;
    switch (m) {
    case MD_BOUND_NEAREST: return i < 0 ? 0 : n - 1;
    case MD_BOUND_REFLECT: {
        int64_t r = pos_mod(i, 2 * n);
        return r < n ? r : 2 * n - 1 - r;
    }
    case MD_BOUND_GRID_WRAP: return pos_mod(i, n);
    default: { /* mirror, and the taps of constant and wrap */
        int64_t p = 2 * n - 2;
        if (i < 0) {
            i = p * (-i / p) + i;
            return i <= 1 - n ? i + p : -i;
        }
        i -= p * (i / p);
        return i >= n ? p - i : i;
    }
    }
}

int64_t md_spline_weights(double c, int order, double w[4])
{
    if (order == 0) {
        w[0] = 1.0;
        return (int64_t)floor(c + 0.5);
    }
    double f = floor(c), x = c - f;
    if (order == 1) {
        w[0] = 1.0 - x;
        w[1] = 1.0 - w[0]; /* scipy makes the weights sum to 1 this way */
        return (int64_t)f;
    }
    double z = 1.0 - x;
    w[1] = (x * x * (x - 2.0) * 3.0 + 4.0) / 6.0;
    w[2] = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0;
    w[0] = z * z * z / 6.0;
    w[3] = 1.0;
    for (int i = 0; i < 3; i++) w[3] -= w[i];
    return (int64_t)f - 1;
}

int md_spline_npad(MdBoundary m, int order)
{
    return order > 1 && (m == MD_BOUND_NEAREST || m == MD_BOUND_GRID_CONSTANT) ? 12 : 0;
}

/* Row i of the interleaved block. */
#define ROW(i) (c + (i) * stride)

/* The rest of a boundary sum whose weights are now below 1e-20 (both the
 * direct z^i and the mirrored z^i z^(n-1) ones) cannot change a double:
 * long lines stop after about 35 terms instead of running to the end. */
#define NEGLIGIBLE(zi, zn) (fabs(zi) < 1e-20 && fabs(zn) < 1e-20)

/* c[0] for a line mirrored about its end samples (d c b | a b c d | c b a). */
static void causal_mirror(double *c, int64_t n, int64_t stride, int64_t width, double z)
{
    double zi = z, zn1 = pow(z, (double)(n - 1));
    for (int64_t x = 0; x < width; x++) c[x] += zn1 * ROW(n - 1)[x];
    for (int64_t i = 1; i < n - 1 && !NEGLIGIBLE(zi, zn1); i++) {
        const double *a = ROW(i), *b = ROW(n - 1 - i);
        for (int64_t x = 0; x < width; x++) c[x] += zi * (a[x] + zn1 * b[x]);
        zi *= z;
    }
    double d = 1 - zn1 * zn1;
    for (int64_t x = 0; x < width; x++) c[x] /= d;
}

/* c[0] for a half-sample symmetric line (b a | a b c d | d c). The last
 * term reads the first coefficient as already accumulated (not the sample
 * itself), as scipy does; this differs from the exact value by about
 * z^(2n), visible only on lines shorter than about 6 samples. */
static void causal_reflect(double *c, int64_t n, int64_t stride, int64_t width, double z,
                           double *c0)
{
    double zi = z, zn = pow(z, (double)n);
    memcpy(c0, c, (size_t)width * sizeof *c0);
    for (int64_t x = 0; x < width; x++) c[x] += zn * ROW(n - 1)[x];
    for (int64_t i = 1; i < n && !NEGLIGIBLE(zi, zn); i++) {
        const double *a = ROW(i), *b = ROW(n - 1 - i);
        for (int64_t x = 0; x < width; x++) c[x] += zi * (a[x] + zn * b[x]);
        zi *= z;
    }
    double f = z / (1 - zn * zn);
    for (int64_t x = 0; x < width; x++) c[x] = c[x] * f + c0[x];
}

/* c[0] for a periodic line (c d | a b c d | a b). */
static void causal_wrap(double *c, int64_t n, int64_t stride, int64_t width, double z)
{
    double zi = z;
    for (int64_t i = 1; i < n; i++) {
        const double *a = ROW(n - i);
        for (int64_t x = 0; x < width; x++) c[x] += zi * a[x];
        zi *= z;
    }
    double d = 1 - zi;
    for (int64_t x = 0; x < width; x++) c[x] /= d;
}

static void anticausal_init(double *c, int64_t n, int64_t stride, int64_t width, double z,
                            MdBoundary m)
{
    double *last = ROW(n - 1);
    if (m == MD_BOUND_GRID_WRAP) {
        double zi = z;
        for (int64_t i = 0; i < n - 1; i++) {
            const double *a = ROW(i);
            for (int64_t x = 0; x < width; x++) last[x] += zi * a[x];
            zi *= z;
        }
        for (int64_t x = 0; x < width; x++) last[x] *= z / (zi - 1);
    } else if (m == MD_BOUND_REFLECT || m == MD_BOUND_NEAREST) {
        for (int64_t x = 0; x < width; x++) last[x] *= z / (z - 1);
    } else {
        const double *prev = ROW(n - 2);
        for (int64_t x = 0; x < width; x++) last[x] = (z * prev[x] + last[x]) * z / (z * z - 1);
    }
}

void md_spline_prefilter(double *c, int64_t n, int64_t stride, int64_t width, MdBoundary m)
{
    if (n < 2) return; /* scipy leaves single samples alone */
    /* scipy scales every sample by the gain first; the boundary sums are
     * linear, so they run on the samples as they are and the gain is
     * folded into their result and into the causal pass (one pass less
     * over the block, the same values to the last bit or two) */
    const double z = POLE3, gain = (1.0 - z) * (1.0 - 1.0 / z);
    if (m == MD_BOUND_REFLECT || m == MD_BOUND_NEAREST) {
        double c0[256]; /* the first samples, 256 lines at a time */
        for (int64_t x0 = 0; x0 < width; x0 += 256) {
            int64_t w = width - x0 < 256 ? width - x0 : 256;
            causal_reflect(c + x0, n, stride, w, z, c0);
        }
    } else if (m == MD_BOUND_GRID_WRAP) {
        causal_wrap(c, n, stride, width, z);
    } else {
        causal_mirror(c, n, stride, width, z);
    }
    for (int64_t x = 0; x < width; x++) c[x] *= gain;
    for (int64_t i = 1; i < n; i++) {
        double *a = ROW(i);
        const double *p = ROW(i - 1);
#pragma omp simd
        for (int64_t x = 0; x < width; x++) a[x] = gain * a[x] + z * p[x];
    }
    anticausal_init(c, n, stride, width, z, m);
    for (int64_t i = n - 2; i >= 0; i--) {
        double *a = ROW(i);
        const double *q = ROW(i + 1);
#pragma omp simd
        for (int64_t x = 0; x < width; x++) a[x] = z * (q[x] - a[x]);
    }
}

int md_gauss_radius(double sigma)
{
    return (int)(4.0 * sigma + 0.5);
}

void md_gauss_kernel(double sigma, double *k)
{
    int r = md_gauss_radius(sigma);
    double s2 = sigma * sigma, sum = 0;
    for (int j = -r; j <= r; j++) sum += k[j + r] = exp(-0.5 / s2 * (double)j * (double)j);
    for (int j = 0; j <= 2 * r; j++) k[j] /= sum;
}

/* Index an ndimage filter reads for sample i of a line of n, or -1 (fill). */
static int64_t filter_ext(int64_t i, int64_t n, MdBoundary m)
{
    if (i >= 0 && i < n) return i;
    switch (m) {
    case MD_BOUND_CONSTANT:
    case MD_BOUND_GRID_CONSTANT: return -1;
    case MD_BOUND_NEAREST: return i < 0 ? 0 : n - 1;
    case MD_BOUND_MIRROR: {
        if (n == 1) return 0;
        int64_t r = pos_mod(i, 2 * n - 2);
        return r < n ? r : 2 * n - 2 - r;
    }
    case MD_BOUND_REFLECT: {
        int64_t r = pos_mod(i, 2 * n);
        return r < n ? r : 2 * n - 1 - r;
    }
    default: return pos_mod(i, n); /* both wraps */
    }
}

void md_gauss_apply(double *c, int64_t n, int64_t stride, int64_t width, const double *k, int r,
                    MdBoundary m, double fill, double *tmp)
{
    /* extended copy: tmp row e holds input row e - r */
    for (int64_t e = 0; e < n + 2 * r; e++) {
        int64_t s = filter_ext(e - r, n, m);
        double *t = tmp + e * width;
        if (s < 0)
            for (int64_t x = 0; x < width; x++) t[x] = fill;
        else
            memcpy(t, ROW(s), (size_t)width * sizeof *t);
    }
    for (int64_t i = 0; i < n; i++) {
        double *o = ROW(i);
        for (int64_t x = 0; x < width; x++) o[x] = 0;
        for (int j = 0; j <= 2 * r; j++) {
            const double *t = tmp + (i + j) * width;
            const double kj = k[j];
            for (int64_t x = 0; x < width; x++) o[x] += kj * t[x];
        }
    }
}
