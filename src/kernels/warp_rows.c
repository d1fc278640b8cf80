/* Row sweeps of the fused warp (see warp_rows.h), four voxels at a time in
 * GCC vector types: the lanes are fixed by the types, not by the
 * instruction set, and every operation is the scalar path's, so SSE2 and
 * AVX2 builds give the same bits. Flagged lanes are moved to the first
 * voxel so that every lane reads memory it may read. */
#include "warp_rows.h"

#include <string.h>

#include "../core/par.h"

typedef double D4 __attribute__((vector_size(4 * sizeof(double))));
typedef int64_t L4 __attribute__((vector_size(4 * sizeof(int64_t))));
typedef int32_t I4 __attribute__((vector_size(4 * sizeof(int32_t))));
typedef float F8 __attribute__((vector_size(8 * sizeof(float))));
typedef uint64_t U4 __attribute__((vector_size(4 * sizeof(uint64_t))));
typedef double D2 __attribute__((vector_size(2 * sizeof(double))));

int md_warp_rows_fit(const int64_t len[3])
{
    return len[0] >= 2 && len[1] >= 2 && len[2] >= 2 && len[0] * len[1] * len[2] < ((int64_t)1 << 31);
}

/* (Macros rather than functions: vector arguments would change the ABI
 * between the clones.) */
#define LOAD4(v, p) memcpy(&(v), (p), sizeof(v))

/* Lanes of v where m is set, 0.0 elsewhere (NaN included). */
#define KEEP(v, m) ((D4)((L4)(v) & (m)))

/* The tap pairs p[o + d] and p[o + d + 1] of the four lanes as two vectors
 * of doubles: one 8-byte (float) or 16-byte (double) load per lane, split
 * into the lower and the upper neighbours. */
#define PAIRS_F32(p, o, d, lo, hi)                                                        \
    do {                                                                                  \
        uint64_t w0_, w1_, w2_, w3_;                                                      \
        memcpy(&w0_, (p) + o[0] + (d), 8), memcpy(&w1_, (p) + o[1] + (d), 8);             \
        memcpy(&w2_, (p) + o[2] + (d), 8), memcpy(&w3_, (p) + o[3] + (d), 8);             \
        const F8 f_ = (F8)(U4){w0_, w1_, w2_, w3_};                                       \
        lo = __builtin_convertvector(__builtin_shufflevector(f_, f_, 0, 2, 4, 6), D4);    \
        hi = __builtin_convertvector(__builtin_shufflevector(f_, f_, 1, 3, 5, 7), D4);    \
    } while (0)
#define PAIRS_F64(p, o, d, lo, hi)                                                        \
    do {                                                                                  \
        D2 a_, b_, c_, e_;                                                                \
        memcpy(&a_, (p) + o[0] + (d), 16), memcpy(&b_, (p) + o[1] + (d), 16);             \
        memcpy(&c_, (p) + o[2] + (d), 16), memcpy(&e_, (p) + o[3] + (d), 16);             \
        lo = (D4){a_[0], b_[0], c_[0], e_[0]};                                            \
        hi = (D4){a_[1], b_[1], c_[1], e_[1]};                                            \
    } while (0)

/* One voxel the scalar way: the same operations as a lane (c >= 0 there, so
 * truncation is floor). Returns 0 when the voxel is not interior. */
#define LINEAR_ONE(FT)                                                                               \
    static inline int linear_one_##FT(const FT *p, const double h[3], int32_t sy, int32_t sz,        \
                                      double X, double Y, double Z, double *v)                      \
    {                                                                                                \
        if (!(X >= 0.0 && X < h[0] && Y >= 0.0 && Y < h[1] && Z >= 0.0 && Z < h[2])) return 0;      \
        const int32_t ix = (int32_t)X, iy = (int32_t)Y, iz = (int32_t)Z;                             \
        const double tx = X - (double)ix, ty = Y - (double)iy, tz = Z - (double)iz;                  \
        const FT *q = p + (ix + iy * sy + iz * sz);                                                  \
        double a0 = (double)q[0] + tx * ((double)q[1] - (double)q[0]);                               \
        double a1 = (double)q[sy] + tx * ((double)q[sy + 1] - (double)q[sy]);                        \
        double acc = a0 + ty * (a1 - a0);                                                            \
        double b0 = (double)q[sz] + tx * ((double)q[sz + 1] - (double)q[sz]);                        \
        double b1 = (double)q[sz + sy] + tx * ((double)q[sz + sy + 1] - (double)q[sz + sy]);         \
        double b = b0 + ty * (b1 - b0);                                                              \
        *v = acc + tz * (b - acc);                                                                   \
        return 1;                                                                                    \
    }
LINEAR_ONE(float)
LINEAR_ONE(double)
#undef LINEAR_ONE

#define LINEAR_ROW(NAME, FT, PAIRS)                                                                      \
    MD_VECTOR_CLONES int64_t NAME(const FT *p, const int64_t len[3], const double *cx, const double *cy, \
                                  const double *cz, int64_t n, double *val, uint8_t *edge)             \
    {                                                                                                   \
        const double h[3] = {(double)(len[0] - 1), (double)(len[1] - 1), (double)(len[2] - 1)};        \
        const int32_t sy = (int32_t)len[0], sz = (int32_t)(len[0] * len[1]);                            \
        int64_t nedge = 0, x = 0;                                                                       \
        for (; x + 4 <= n; x += 4) {                                                                    \
            D4 X, Y, Z;                                                                                 \
            LOAD4(X, cx + x), LOAD4(Y, cy + x), LOAD4(Z, cz + x);                                       \
            const L4 in = (X >= 0.0) & (X < h[0]) & (Y >= 0.0) & (Y < h[1]) & (Z >= 0.0) & (Z < h[2]);  \
            if (!(in[0] | in[1] | in[2] | in[3])) { /* all outside: no taps to read */                \
                memset(edge + x, 1, 4);                                                                 \
                nedge += 4;                                                                             \
                continue;                                                                               \
            }                                                                                           \
            const D4 x0 = KEEP(X, in), y0 = KEEP(Y, in), z0 = KEEP(Z, in);                              \
            const I4 ix = __builtin_convertvector(x0, I4), iy = __builtin_convertvector(y0, I4),       \
                     iz = __builtin_convertvector(z0, I4);                                              \
            const D4 tx = x0 - __builtin_convertvector(ix, D4), ty = y0 - __builtin_convertvector(iy, D4), \
                     tz = z0 - __builtin_convertvector(iz, D4);                                         \
            const I4 o = ix + iy * sy + iz * sz;                                                        \
            D4 q000, q100, q010, q110, q001, q101, q011, q111;                                          \
            PAIRS(p, o, 0, q000, q100);                                                                 \
            PAIRS(p, o, sy, q010, q110);                                                                \
            const D4 a0 = q000 + tx * (q100 - q000), a1 = q010 + tx * (q110 - q010);                    \
            const D4 acc = a0 + ty * (a1 - a0);                                                         \
            PAIRS(p, o, sz, q001, q101);                                                                \
            PAIRS(p, o, sz + sy, q011, q111);                                                           \
            const D4 b0 = q001 + tx * (q101 - q001), b1 = q011 + tx * (q111 - q011);                    \
            const D4 b = b0 + ty * (b1 - b0);                                                           \
            const D4 v = acc + tz * (b - acc);                                                          \
            memcpy(val + x, &v, sizeof v);                                                              \
            for (int l = 0; l < 4; l++) {                                                               \
                edge[x + l] = (uint8_t)(in[l] == 0);                                                    \
                nedge += in[l] == 0;                                                                    \
            }                                                                                           \
        }                                                                                               \
        for (; x < n; x++) {                                                                            \
            const int in = linear_one_##FT(p, h, sy, sz, cx[x], cy[x], cz[x], &val[x]);                 \
            edge[x] = (uint8_t)!in;                                                                     \
            nedge += !in;                                                                               \
        }                                                                                               \
        return nedge;                                                                                   \
    }
LINEAR_ROW(md_warp_row_linear_f32, float, PAIRS_F32)
LINEAR_ROW(md_warp_row_linear_f64, double, PAIRS_F64)
#undef LINEAR_ROW

MD_VECTOR_CLONES int64_t md_warp_row_nearest(const int64_t len[3], const double *cx, const double *cy,
                                             const double *cz, int64_t n, int32_t *idx)
{
    const double hx = (double)(len[0] - 1), hy = (double)(len[1] - 1), hz = (double)(len[2] - 1);
    const int32_t sy = (int32_t)len[0], sz = (int32_t)(len[0] * len[1]);
    int64_t nout = 0, x = 0;
    for (; x + 4 <= n; x += 4) {
        D4 X, Y, Z;
        LOAD4(X, cx + x), LOAD4(Y, cy + x), LOAD4(Z, cz + x);
        const L4 in = (X >= 0.0) & (X <= hx) & (Y >= 0.0) & (Y <= hy) & (Z >= 0.0) & (Z <= hz);
        /* c >= 0: truncating c + 0.5 is scipy's floor(c + 0.5) */
        const I4 i = __builtin_convertvector(KEEP(X, in) + 0.5, I4), j = __builtin_convertvector(KEEP(Y, in) + 0.5, I4),
                 k = __builtin_convertvector(KEEP(Z, in) + 0.5, I4);
        const I4 o = i + j * sy + k * sz;
        for (int l = 0; l < 4; l++) {
            idx[x + l] = in[l] ? o[l] : -1;
            nout += in[l] == 0;
        }
    }
    for (; x < n; x++) {
        const double X = cx[x], Y = cy[x], Z = cz[x];
        const int in = X >= 0.0 && X <= hx && Y >= 0.0 && Y <= hy && Z >= 0.0 && Z <= hz;
        idx[x] = in ? (int32_t)(X + 0.5) + (int32_t)(Y + 0.5) * sy + (int32_t)(Z + 0.5) * sz : -1;
        nout += !in;
    }
    return nout;
}

MD_VECTOR_CLONES void md_warp_row_coords(int64_t n, const double base[3], const double m[3], const double b[3],
                                         double *restrict cx, double *restrict cy, double *restrict cz)
{
    double *const out[3] = {cx, cy, cz};
    for (int a = 0; a < 3; a++) {
        const double ba = base[a], ma = m[a], oa = b[a];
        double *c = out[a];
        D4 X = {0.0, 1.0, 2.0, 3.0};
        int64_t x = 0;
        for (; x + 4 <= n; x += 4, X += 4.0) {
            const D4 v = ba + X * ma + oa;
            memcpy(c + x, &v, sizeof v);
        }
        for (; x < n; x++) c[x] = ba + (double)x * ma + oa;
    }
}

MD_VECTOR_CLONES void md_warp_row_displace(int64_t n, const int *jx, const double *w, const double *p, int K0,
                                           double *restrict dx, double *restrict dy, double *restrict dz)
{
    const double *restrict w0 = w, *restrict w1 = w + n, *restrict w2 = w + 2 * n, *restrict w3 = w + 3 * n;
    for (int64_t x0 = 0; x0 < n;) {
        const int j = jx[x0];
        int64_t x1 = x0 + 1;
        while (x1 < n && jx[x1] == j) x1++;
        const double *px = p + j, *py = p + K0 + j, *pz = p + 2 * K0 + j;
        const double a0 = px[0], a1 = px[1], a2 = px[2], a3 = px[3];
        const double b0 = py[0], b1 = py[1], b2 = py[2], b3 = py[3];
        const double c0 = pz[0], c1 = pz[1], c2 = pz[2], c3 = pz[3];
#pragma omp simd
        for (int64_t x = x0; x < x1; x++) {
            dx[x] += w0[x] * a0 + w1[x] * a1 + w2[x] * a2 + w3[x] * a3;
            dy[x] += w0[x] * b0 + w1[x] * b1 + w2[x] * b2 + w3[x] * b3;
            dz[x] += w0[x] * c0 + w1[x] * c1 + w2[x] * c2 + w3[x] * c3;
        }
        x0 = x1;
    }
}
