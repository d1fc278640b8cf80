/* Box median filter (scipy.ndimage.median_filter with size 2r+1). For each
 * output row the (2ry+1)(2rz+1) source rows are extended along x by the
 * border mode. Windows of 9 or 27 values (radius 1, 2-D or 3-D) run a
 * forgetful selection on 4 (SSE) or 8 (AVX, when the CPU has it) outputs at
 * once in registers; other windows up to 27 values the same selection over
 * whole rows, larger ones a per-voxel quickselect. Values are handled in
 * float when the dtype fits exactly (8/16-bit integers, float32), otherwise
 * in double, so the result is always one of the input values. */
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/rows.h"
#include "filter.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define NETWORK_MAX 27

/* a[i] = min, b[i] = max of each pair, element-wise over n: SSE where the
 * build has it (minps/maxps are exactly x < y ? x : y), else plain C. */
static inline void cswap_f32(float *restrict a, float *restrict b, int64_t n)
{
    int64_t i = 0;
#ifdef __SSE2__
    for (; i + 4 <= n; i += 4) {
        __m128 x = _mm_loadu_ps(a + i), y = _mm_loadu_ps(b + i);
        _mm_storeu_ps(a + i, _mm_min_ps(x, y));
        _mm_storeu_ps(b + i, _mm_max_ps(y, x));
    }
#endif
    for (; i < n; i++) {
        float x = a[i], y = b[i];
        a[i] = x < y ? x : y;
        b[i] = y > x ? y : x;
    }
}

static inline void cswap_f64(double *restrict a, double *restrict b, int64_t n)
{
    int64_t i = 0;
#ifdef __SSE2__
    for (; i + 2 <= n; i += 2) {
        __m128d x = _mm_loadu_pd(a + i), y = _mm_loadu_pd(b + i);
        _mm_storeu_pd(a + i, _mm_min_pd(x, y));
        _mm_storeu_pd(b + i, _mm_max_pd(y, x));
    }
#endif
    for (; i < n; i++) {
        double x = a[i], y = b[i];
        a[i] = x < y ? x : y;
        b[i] = y > x ? y : x;
    }
}

#ifdef __SSE2__
/* Forgetful selection on 4 outputs at a time held in SSE registers: n (odd,
 * a compile-time constant after inlining) window values of output x are
 * src[k][x]. */
static inline __attribute__((always_inline)) void select4(const float *const *src, int64_t x, int n, float *out)
{
    __m128 w[NETWORK_MAX];
    int m = n / 2, s = m + 2 < n ? m + 2 : n, next = s;
#pragma GCC unroll 32
    for (int j = 0; j < s; j++) w[j] = _mm_loadu_ps(src[j] + x);
#pragma GCC unroll 32
    for (int round = 0; round < n - s; round++) {
        int c = s - round;
#pragma GCC unroll 32
        for (int j = 1; j < c; j++) {
            __m128 a = w[0], b = w[j];
            w[0] = _mm_min_ps(a, b);
            w[j] = _mm_max_ps(b, a);
        }
#pragma GCC unroll 32
        for (int j = 1; j < c - 1; j++) {
            __m128 a = w[j], b = w[c - 1];
            w[j] = _mm_min_ps(a, b);
            w[c - 1] = _mm_max_ps(b, a);
        }
        w[0] = _mm_loadu_ps(src[next++] + x); /* the max at c-1 drops out */
    }
    if (s == 1) {
        _mm_storeu_ps(out + x, w[0]);
        return;
    }
    __m128 a = _mm_min_ps(w[0], w[1]), b = _mm_max_ps(w[1], w[0]);
    b = _mm_min_ps(b, w[2]);
    _mm_storeu_ps(out + x, _mm_max_ps(b, a));
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* The same on 8 outputs with AVX, chosen at run time where the CPU has it
 * (min/max are exact, so the result is the SSE path's). */
__attribute__((target("avx"))) static inline __attribute__((always_inline)) void
select8(const float *const *src, int64_t x, int n, float *out)
{
    __m256 w[NETWORK_MAX];
    int m = n / 2, s = m + 2 < n ? m + 2 : n, next = s;
#pragma GCC unroll 32
    for (int j = 0; j < s; j++) w[j] = _mm256_loadu_ps(src[j] + x);
#pragma GCC unroll 32
    for (int round = 0; round < n - s; round++) {
        int c = s - round;
#pragma GCC unroll 32
        for (int j = 1; j < c; j++) {
            __m256 a = w[0], b = w[j];
            w[0] = _mm256_min_ps(a, b);
            w[j] = _mm256_max_ps(b, a);
        }
#pragma GCC unroll 32
        for (int j = 1; j < c - 1; j++) {
            __m256 a = w[j], b = w[c - 1];
            w[j] = _mm256_min_ps(a, b);
            w[c - 1] = _mm256_max_ps(b, a);
        }
        w[0] = _mm256_loadu_ps(src[next++] + x);
    }
    __m256 a = _mm256_min_ps(w[0], w[1]), b = _mm256_max_ps(w[1], w[0]);
    b = _mm256_min_ps(b, w[2]);
    _mm256_storeu_ps(out + x, _mm256_max_ps(b, a));
}

__attribute__((target("avx"))) static int64_t median_avx_row(const float *const *src, int n, int64_t nx, float *out)
{
    int64_t x = 0;
    if (n == 27)
        for (; x + 8 <= nx; x += 8) select8(src, x, 27, out);
    else
        for (; x + 8 <= nx; x += 8) select8(src, x, 9, out);
    return x;
}

static int has_avx(void) { return __builtin_cpu_supports("avx"); }
#endif

/* Returns the first x not done (the caller finishes the row). */
static int64_t median_sse_row(const float *const *src, int n, int64_t nx, float *out)
{
    int64_t x = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (has_avx()) x = median_avx_row(src, n, nx, out);
#endif
    if (n == 27)
        for (; x + 4 <= nx; x += 4) select4(src, x, 27, out); /* the rest after AVX, or all */
    else if (n == 9)
        for (; x + 4 <= nx; x += 4) select4(src, x, 9, out);
    return x;
}
#endif

/* The first x the register path leaves for the generic one (0: none done). */
static int64_t fast_f32(float *const *ext, int nrows, int wx, int64_t nx, float *out)
{
#ifdef __SSE2__
    const float *src[NETWORK_MAX];
    int n = nrows * wx;
    if (n != 9 && n != 27) return 0;
    for (int k = 0; k < n; k++) src[k] = ext[k / wx] + k % wx;
    return median_sse_row(src, n, nx, out);
#else
    (void)ext, (void)nrows, (void)wx, (void)nx, (void)out;
    return 0;
#endif
}

static int64_t fast_f64(double *const *ext, int nrows, int wx, int64_t nx, double *out)
{
    (void)ext, (void)nrows, (void)wx, (void)nx, (void)out;
    return 0;
}

#define DEFINE_MEDIAN(T, SUF, LOADROW)                                                                      \
    static T select_##SUF(T *v, int n, int k)                                                               \
    {                                                                                                       \
        int lo = 0, hi = n - 1;                                                                             \
        while (lo < hi) {                                                                                   \
            T pv = v[(lo + hi) / 2];                                                                        \
            int i = lo, j = hi;                                                                             \
            while (i <= j) {                                                                                \
                while (v[i] < pv) i++;                                                                      \
                while (pv < v[j]) j--;                                                                      \
                if (i <= j) {                                                                               \
                    T t = v[i];                                                                             \
                    v[i++] = v[j];                                                                          \
                    v[j--] = t;                                                                             \
                }                                                                                           \
            }                                                                                               \
            if (k <= j) hi = j;                                                                             \
            else if (k >= i) lo = i;                                                                        \
            else break;                                                                                     \
        }                                                                                                   \
        return v[k];                                                                                        \
    }                                                                                                       \
                                                                                                            \
    /* One output row: ext[k] (nrows extended rows of nx + 2rx), out[nx]. */                               \
    static void median_row_##SUF(T *const *ext, int nrows, int rx, int64_t nx, T *work, T *out)             \
    {                                                                                                       \
        int wx = 2 * rx + 1, n = nrows * wx, m = n / 2;                                                     \
        int64_t done = fast_##SUF(ext, nrows, wx, nx, out);                                                 \
        if (n > NETWORK_MAX || done > 0) {                                                                  \
            for (int64_t x = done; x < nx; x++) {                                                           \
                int c = 0;                                                                                  \
                for (int k = 0; k < nrows; k++)                                                             \
                    for (int d = 0; d < wx; d++) work[c++] = ext[k][x + d];                                 \
                out[x] = select_##SUF(work, n, m);                                                          \
            }                                                                                               \
            return;                                                                                         \
        }                                                                                                   \
        /* forgetful selection: keep m+2 candidates, drop the min and max, add the next */                  \
        T *w[NETWORK_MAX + 1] = {0};                                                                        \
        int s = m + 2 < n ? m + 2 : n, next = 0;                                                            \
        for (int j = 0; j < s; j++, next++) {                                                               \
            w[j] = work + (size_t)j * (size_t)nx;                                                           \
            memcpy(w[j], ext[next / wx] + next % wx, (size_t)nx * sizeof(T));                               \
        }                                                                                                   \
        while (s > 3) {                                                                                     \
            for (int j = 1; j < s; j++) cswap_##SUF(w[0], w[j], nx);                                        \
            for (int j = 1; j < s - 1; j++) cswap_##SUF(w[j], w[s - 1], nx);                                \
            s--;                                                                                            \
            /* n is odd, so the candidates run out exactly when three are left */                          \
            memcpy(w[0], ext[next / wx] + next % wx, (size_t)nx * sizeof(T));                               \
            next++;                                                                                         \
        }                                                                                                   \
        if (s == 1) {                                                                                       \
            memcpy(out, w[0], (size_t)nx * sizeof(T));                                                      \
            return;                                                                                         \
        }                                                                                                   \
        cswap_##SUF(w[0], w[1], nx);                                                                        \
        cswap_##SUF(w[1], w[2], nx);                                                                        \
        cswap_##SUF(w[0], w[1], nx);                                                                        \
        memcpy(out, w[1], (size_t)nx * sizeof(T));                                                          \
    }                                                                                                       \
                                                                                                            \
    static MdStatus median_##SUF(const MdVolume *in, const int r[3], MdBorder mode, double cval, T *dst,    \
                                 MdCtx *ctx)                                                                \
    {                                                                                                       \
        int64_t nx = in->dim[0], ny = in->dim[1], nz = in->ndim >= 3 ? in->dim[2] : 1;                      \
        int nrows = (2 * r[1] + 1) * (2 * r[2] + 1), rx = r[0], nwin = nrows * (2 * rx + 1);                 \
        int fail = MD_OK;                                                                                   \
        _Pragma("omp parallel if (md_par_worth((double)(nx * ny * nz) * nwin / 4))")                        \
        {                                                                                                   \
            size_t el = (size_t)(nx + 2 * rx);                                                              \
            size_t wsz = nwin > NETWORK_MAX ? (size_t)nwin : (size_t)(NETWORK_MAX + 1) * (size_t)nx;        \
            T *mem = malloc(((size_t)nrows * el + wsz) * sizeof(T));                                        \
            T **ext = malloc((size_t)nrows * sizeof *ext);                                                  \
            T *work = mem ? mem + (size_t)nrows * el : NULL;                                                \
            if (!mem || !ext) md_par_fail(&fail, MD_ENOMEM);                                                \
            for (int k = 0; mem && ext && k < nrows; k++) ext[k] = mem + (size_t)k * el;                    \
            _Pragma("omp for schedule(static)")                                                            \
            for (int64_t z = 0; z < nz; z++) {                                                              \
                if (!mem || !ext || md_par_poll_cancel(&fail)) continue;                                    \
                for (int64_t y = 0; y < ny; y++) {                                                          \
                    int k = 0;                                                                              \
                    for (int dz = -r[2]; dz <= r[2]; dz++)                                                  \
                        for (int dy = -r[1]; dy <= r[1]; dy++, k++) {                                       \
                            int64_t zz = md_border_index(z + dz, nz, mode);                                 \
                            int64_t yy = md_border_index(y + dy, ny, mode);                                 \
                            if (zz < 0 || yy < 0) {                                                         \
                                for (size_t j = 0; j < el; j++) ext[k][j] = (T)cval;                        \
                                continue;                                                                   \
                            }                                                                               \
                            LOADROW(md_volume_data(in), in->dtype, (size_t)((zz * ny + yy) * nx), (size_t)nx, \
                                    ext[k] + rx);                                                           \
                            for (int64_t j = 0; j < rx; j++) { /* only the margins need the border rule */  \
                                int64_t i = md_border_index(j - rx, nx, mode);                              \
                                ext[k][j] = i < 0 ? (T)cval : ext[k][rx + i];                               \
                                i = md_border_index(nx + j, nx, mode);                                      \
                                ext[k][rx + nx + j] = i < 0 ? (T)cval : ext[k][rx + i];                     \
                            }                                                                               \
                        }                                                                                   \
                    median_row_##SUF(ext, nrows, rx, nx, work, dst + (z * ny + y) * nx);                    \
                }                                                                                           \
                if (md_par_thread() == 0) md_ctx_progress(ctx, (size_t)z + 1, (size_t)nz);                  \
            }                                                                                               \
            free(mem);                                                                                      \
            free(ext);                                                                                      \
        }                                                                                                   \
        md_ctx_finish(ctx, (size_t)nz);                                                                     \
        return md_par_status(fail, "median", ctx->err);                                                     \
    }

DEFINE_MEDIAN(float, f32, md_rows_to_f32)
DEFINE_MEDIAN(double, f64, md_rows_to_f64)
#undef DEFINE_MEDIAN

MdStatus md_filter_median(const MdVolume *in, const int r[3], MdBorder mode, double cval, MdVolume *out, MdCtx *ctx)
{
    if (in->ndim < 2 || in->ndim > 3)
        return md_error(ctx->err, MD_EINVAL, "filters need a 2-D or 3-D volume (got %d-D)", in->ndim);
    if (out->dtype != in->dtype || md_volume_count(out) != md_volume_count(in))
        return md_error(ctx->err, MD_EINVAL, "median output must match the input");
    for (int a = 0; a < 3; a++)
        if (r[a] < 0 || r[a] > 50)
            return md_error(ctx->err, MD_EINVAL, "median radius must be 0 to 50 (got %d on axis %d)", r[a], a + 1);
    if (in->ndim == 2 && r[2] != 0) return md_error(ctx->err, MD_EINVAL, "a 2-D volume has no z radius");
    size_t n = md_volume_count(in);
    int use_f32 = in->dtype != MD_UINT32 && in->dtype != MD_INT32 && in->dtype != MD_FLOAT64;
    void *buf = malloc(n * (use_f32 ? sizeof(float) : sizeof(double)));
    if (!buf) return md_error(ctx->err, MD_ENOMEM, "median: out of memory for %zu voxels", n);
    MdStatus st = use_f32 ? median_f32(in, r, mode, cval, buf, ctx) : median_f64(in, r, mode, cval, buf, ctx);
    if (!st) {
        if (use_f32) md_rows_from_f32(md_volume_data(out), out->dtype, 0, n, buf, MD_ROUND_NEAREST);
        else md_rows_from_f64(md_volume_data(out), out->dtype, 0, n, buf, MD_ROUND_NEAREST);
    }
    free(buf);
    return st;
}
