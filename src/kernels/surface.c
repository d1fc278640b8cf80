/* Corner codes, boundary voxels, surface-element weights and the radix
 * selection behind every percentile of the metrics. The area table itself is
 * generated (surfel_table.h, tools/gen_surfel_table.py). */
#include "surface.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../core/par.h"
#include "surfel_table.h"

void md_surface_codes(const uint8_t *m, const int64_t n[3], int planar, uint8_t *code)
{
    int64_t nx = n[0], ny = n[1], gx = nx - 1, gy = ny - 1, gz = planar ? 1 : n[2] - 1;
    size_t plane = (size_t)(nx * ny);
    uint8_t full = planar ? 15 : 255;
#pragma omp parallel for schedule(static) if (md_par_worth((double)(gx * gy * gz)))
    for (int64_t k = 0; k < gz; k++) {
        for (int64_t j = 0; j < gy; j++) {
            const uint8_t *a = m + (size_t)k * plane + (size_t)(j * nx), *b = a + nx;
            const uint8_t *c = planar ? a : a + plane, *d = planar ? b : b + plane;
            uint8_t *o = code + (size_t)((k * gy + j) * gx);
            for (int64_t i = 0; i < gx; i++) {
                unsigned v = (unsigned)a[i] | (unsigned)a[i + 1] << 1 | (unsigned)b[i] << 2 | (unsigned)b[i + 1] << 3;
                if (!planar)
                    v |= (unsigned)c[i] << 4 | (unsigned)c[i + 1] << 5 | (unsigned)d[i] << 6 | (unsigned)d[i + 1] << 7;
                o[i] = (uint8_t)(v == full ? 0 : v);
            }
        }
    }
}

void md_surface_boundary(const uint8_t *m, const int64_t n[3], int planar, uint8_t *out)
{
    int64_t nx = n[0], ny = n[1], nz = n[2];
    size_t plane = (size_t)(nx * ny);
#pragma omp parallel for schedule(static) if (md_par_worth((double)(nx * ny * nz)))
    for (int64_t k = 0; k < nz; k++) {
        int zin = planar || (k > 0 && k < nz - 1);
        for (int64_t j = 0; j < ny; j++) {
            size_t r = (size_t)k * plane + (size_t)(j * nx);
            const uint8_t *c = m + r;
            uint8_t *o = out + r;
            if (!zin || j == 0 || j == ny - 1) {
                memset(o, 0, (size_t)nx); /* the crop's outer layer is background */
                continue;
            }
            const uint8_t *up = c - nx, *dn = c + nx;
            const uint8_t *lo = planar ? c : c - plane, *hi = planar ? c : c + plane;
            o[0] = o[nx - 1] = 0;
            for (int64_t i = 1; i < nx - 1; i++) {
                unsigned all = (unsigned)c[i - 1] & c[i + 1] & up[i] & dn[i] & lo[i] & hi[i];
                o[i] = (uint8_t)(c[i] & (all ^ 1u));
            }
        }
    }
}

/* Contour length of a 2x2 code (bit b = pixel (b&1, b>>1)). */
static double contour_length(unsigned c, double sx, double sy)
{
    double diag = 0.5 * hypot(sx, sy);
    switch (c) {
    case 0: case 15: return 0;
    case 3: case 12: return sx;  /* the two pixels side by side along x */
    case 5: case 10: return sy;  /* along y */
    case 6: case 9: return 2 * diag; /* diagonal pair: two separate corners */
    default: return diag;        /* one or three pixels */
    }
}

void md_surface_weights(const double sp[3], int planar, double w[256])
{
    memset(w, 0, 256 * sizeof *w);
    if (planar) {
        for (unsigned c = 0; c < 16; c++) w[c] = contour_length(c, sp[0], sp[1]);
        return;
    }
    double f[3] = {sp[1] * sp[2] / 8, sp[0] * sp[2] / 8, sp[0] * sp[1] / 8};
    for (int c = 1; c < 255; c++)
        for (int t = 0; t < 4; t++) {
            const signed char *v = md_surfel_vectors[c][t];
            double x = v[0] * f[0], y = v[1] * f[1], z = v[2] * f[2];
            w[c] += sqrt(x * x + y * y + z * z);
        }
}

void *md_surface_big(size_t n)
{
    void *p = NULL;
    size_t huge = (size_t)2 << 20;
    if (n < huge) return malloc(n ? n : 1);
    if (posix_memalign(&p, huge, n) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, n, MADV_HUGEPAGE);
#endif
    return p;
}

/* ---- distances counted by value ---------------------------------------- */

void md_dist_table_free(MdDistTable *t)
{
    free(t->d), free(t->w), free(t->count);
    memset(t, 0, sizeof *t);
}
