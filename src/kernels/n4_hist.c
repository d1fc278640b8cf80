/* N4's histogram sharpening (a small radix-2 FFT does the Wiener
 * deconvolution and the two Gaussian blurs) and Otsu's threshold. */
#include "n4_hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/rows.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* In-place complex FFT of n (a power of two) points; sign -1 forward, +1
 * backward (unscaled). tw holds cos and sin of 2 pi j / n for j < n/2. */
static void fft(double *re, double *im, int n, int sign, const double *tw)
{
    for (int i = 1, j = 0; i < n; i++) {
        int bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = re[i];
            re[i] = re[j], re[j] = t;
            t = im[i];
            im[i] = im[j], im[j] = t;
        }
    }
    for (int len = 2; len <= n; len <<= 1) {
        int step = n / len;
        for (int i = 0; i < n; i += len)
            for (int k = 0; k < len / 2; k++) {
                double wr = tw[2 * k * step], wi = sign * tw[2 * k * step + 1];
                int p = i + k, q = p + len / 2;
                double xr = re[q] * wr - im[q] * wi, xi = re[q] * wi + im[q] * wr;
                re[q] = re[p] - xr, im[q] = im[p] - xi;
                re[p] += xr, im[p] += xi;
            }
    }
}

/* Circular convolution of x with the kernel whose transform is the real
 * sequence kf: x <- ifft(fft(x) * kf) (unscaled, as the ratio in E cancels
 * the scale). im is scratch. */
static void convolve(double *x, double *im, const double *kf, int n, const double *tw)
{
    memset(im, 0, (size_t)n * sizeof *im);
    fft(x, im, n, -1, tw);
    for (int i = 0; i < n; i++) x[i] *= kf[i], im[i] *= kf[i];
    fft(x, im, n, 1, tw);
}

MdStatus md_n4_sharpen_map(const double *H, int bins, double lo, double slope, double fwhm, double noise,
                           double *E, MdError *err)
{
    int n = 1;
    while (n < bins) n <<= 1;
    n <<= 1; /* 2^(ceil(log2 bins) + 1) */
    int off = (n - bins) / 2;
    double *buf = calloc(6 * (size_t)n, sizeof *buf);
    if (!buf) return md_error(err, MD_ENOMEM, "n4: out of memory for the histogram");
    double *u = buf, *im = buf + n, *ff = buf + 2 * n, *num = buf + 3 * n, *fim = buf + 4 * n, *tw = buf + 5 * n;
    for (int j = 0; j < n / 2; j++) tw[2 * j] = cos(2 * M_PI * j / n), tw[2 * j + 1] = sin(2 * M_PI * j / n);

    /* The Gaussian in bins, centred on bin 0 of the circular sequence. */
    double sf = fwhm / slope, ef = 4 * log(2.0) / (sf * sf), scale = 2 * sqrt(log(2.0) / M_PI) / sf;
    ff[0] = scale;
    for (int i = 1; i <= n / 2; i++) ff[i] = ff[n - i] = scale * exp(-(double)i * i * ef);
    fft(ff, fim, n, -1, tw); /* real and even: the transform is real */

    /* Wiener deconvolution of the padded histogram, clipped at zero. */
    double *gf = fim;
    for (int i = 0; i < n; i++) gf[i] = ff[i] / (ff[i] * ff[i] + noise);
    for (int i = 0; i < bins; i++) u[off + i] = H[i];
    convolve(u, im, gf, n, tw);
    for (int i = 0; i < n; i++) u[i] = u[i] > 0 ? u[i] : 0;

    /* E = blur(v * u) / blur(u). */
    for (int i = 0; i < n; i++) num[i] = (lo + (double)(i - off) * slope) * u[i];
    convolve(num, im, ff, n, tw);
    convolve(u, im, ff, n, tw);
    for (int i = 0; i < bins; i++) E[i] = u[off + i] != 0 ? num[off + i] / u[off + i] : 0;
    free(buf);
    return MD_OK;
}

/* Integer types of at most 16 bits: counts of each value (per-thread
 * integer counts, so the sum is exact whatever the order). counts has 65536
 * slots, value x at x - base. */
static MdStatus count_values(const MdVolume *v, int64_t base, uint64_t *counts, MdError *err)
{
    size_t n = md_volume_count(v), nxy = (size_t)(v->dim[0] * v->dim[1]);
    int64_t nz = (int64_t)(n / nxy);
    const void *src = md_volume_data(v);
    int fail = MD_OK;
#pragma omp parallel if (md_par_worth((double)n))
    {
        uint64_t *c = calloc(65536, sizeof *c);
        if (!c) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t z = 0; z < nz; z++) {
            if (md_par_poll_cancel(&fail)) continue;
            size_t o = (size_t)z * nxy;
            switch (v->dtype) {
            case MD_UINT8: for (size_t i = 0; i < nxy; i++) c[((const uint8_t *)src)[o + i] - base]++; break;
            case MD_INT8: for (size_t i = 0; i < nxy; i++) c[((const int8_t *)src)[o + i] - base]++; break;
            case MD_UINT16: for (size_t i = 0; i < nxy; i++) c[((const uint16_t *)src)[o + i] - base]++; break;
            default: for (size_t i = 0; i < nxy; i++) c[((const int16_t *)src)[o + i] - base]++; break;
            }
        }
        if (c) {
#pragma omp critical(md_n4_counts)
            for (int i = 0; i < 65536; i++) counts[i] += c[i];
        }
        free(c);
    }
    return md_par_status(fail, "n4", err);
}

/* ITK's histogram layout for Otsu: the whole range of an 8-bit type,
 * otherwise [min, max] with the top widened by 1/100 of a bin. */
static void otsu_range(MdDtype t, int bins, double *lo, double *hi)
{
    if (t == MD_UINT8 || t == MD_INT8) {
        *lo = t == MD_UINT8 ? -0.5 : -128.5;
        *hi = *lo + 256;
    } else if (*hi > *lo) {
        *hi += (*hi - *lo) / bins / 100;
    }
}

/* The histogram of a small integer type through its value counts. */
static MdStatus hist_small(const MdVolume *v, int bins, double *h, double *lo, double *hi, MdError *err)
{
    int64_t base = v->dtype == MD_INT8 ? -128 : v->dtype == MD_INT16 ? -32768 : 0;
    uint64_t *counts = calloc(65536, sizeof *counts);
    if (!counts) return md_error(err, MD_ENOMEM, "n4: out of memory for Otsu's histogram");
    MdStatus st = count_values(v, base, counts, err);
    int first = -1, last = -1;
    for (int i = 0; i < 65536 && !st; i++)
        if (counts[i]) last = i, first = first < 0 ? i : first;
    if (!st && first >= 0) {
        *lo = (double)(first + base), *hi = (double)(last + base);
        otsu_range(v->dtype, bins, lo, hi);
        double width = (*hi - *lo) / bins;
        for (int i = first; i <= last && *hi > *lo; i++) {
            if (!counts[i]) continue;
            int b = (int)(((double)(i + base) - *lo) / width);
            h[b >= bins ? bins - 1 : b < 0 ? 0 : b] += (double)counts[i];
        }
    }
    free(counts);
    return st;
}

/* Any other type: per slice min and max, then the histogram, partials
 * combined in slice order. */
static MdStatus hist_any(const MdVolume *v, int bins, double *h, double *lo_out, double *hi_out, MdError *err)
{
    int64_t nx = v->dim[0], ny = v->dim[1], nz = (int64_t)(md_volume_count(v) / (size_t)(nx * ny));
    const void *src = md_volume_data(v);
    double *part = malloc((size_t)nz * (2 + (size_t)bins) * sizeof *part);
    if (!part) return md_error(err, MD_ENOMEM, "n4: out of memory for Otsu's histogram");
    int fail = MD_OK;
    double lo = INFINITY, hi = -INFINITY;
    for (int pass = 0; pass < 2; pass++) {
        double width = (hi - lo) / bins;
#pragma omp parallel if (md_par_worth((double)nx * ny * nz))
        {
            double *row = malloc((size_t)nx * sizeof *row);
            if (!row) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
            for (int64_t z = 0; z < nz; z++) {
                if (md_par_poll_cancel(&fail)) continue;
                double *p = part + (size_t)z * (2 + bins), mn = INFINITY, mx = -INFINITY;
                if (pass) memset(p + 2, 0, (size_t)bins * sizeof *p);
                for (int64_t y = 0; y < ny; y++) {
                    md_rows_to_f64(src, v->dtype, (size_t)((z * ny + y) * nx), (size_t)nx, row);
                    for (int64_t x = 0; x < nx; x++) {
                        double a = row[x];
                        if (!pass) {
                            mn = a < mn ? a : mn, mx = a > mx ? a : mx;
                            continue;
                        }
                        int b = width > 0 ? (int)((a - lo) / width) : 0;
                        p[2 + (b >= bins ? bins - 1 : b < 0 ? 0 : b)] += 1;
                    }
                }
                p[0] = mn, p[1] = mx;
            }
            free(row);
        }
        if (fail) break;
        if (pass) break;
        for (int64_t z = 0; z < nz; z++) {
            lo = fmin(lo, part[z * (2 + bins)]);
            hi = fmax(hi, part[z * (2 + bins) + 1]);
        }
        if (!(hi > lo)) break;
        otsu_range(v->dtype, bins, &lo, &hi);
    }
    if (!fail && hi > lo)
        for (int64_t z = 0; z < nz; z++)
            for (int b = 0; b < bins; b++) h[b] += part[z * (2 + bins) + 2 + b];
    free(part);
    *lo_out = lo, *hi_out = hi;
    return md_par_status(fail, "n4", err);
}

MdStatus md_n4_otsu(const MdVolume *v, int bins, double *thr, MdError *err)
{
    double *h = calloc((size_t)bins, sizeof *h), lo = 0, hi = 0;
    if (!h) return md_error(err, MD_ENOMEM, "n4: out of memory for Otsu's histogram");
    int small = v->dtype == MD_UINT8 || v->dtype == MD_INT8 || v->dtype == MD_UINT16 || v->dtype == MD_INT16;
    MdStatus st = small ? hist_small(v, bins, h, &lo, &hi, err) : hist_any(v, bins, h, &lo, &hi, err);
    if (st) {
        free(h);
        return st;
    }
    if (!(hi > lo)) {
        *thr = lo;
        free(h);
        return MD_OK;
    }
    double width = (hi - lo) / bins, total = 0, sum = 0;
    for (int b = 0; b < bins; b++) total += h[b], sum += h[b] * (lo + (b + 0.5) * width);
    double w0 = 0, s0 = 0, best = -1;
    int at = 0;
    for (int b = 0; b < bins - 1; b++) {
        w0 += h[b];
        s0 += h[b] * (lo + (b + 0.5) * width);
        double w1 = total - w0;
        if (w0 <= 0 || w1 <= 0) continue;
        double d = s0 / w0 - (sum - s0) / w1, var = w0 * w1 * d * d;
        if (var > best) best = var, at = b;
    }
    *thr = lo + (at + 1) * width;
    free(h);
    return MD_OK;
}
