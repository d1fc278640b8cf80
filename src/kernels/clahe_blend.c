/* CLAHE's per-voxel loops. The blend is skimage's sum: edges in ndindex
 * order (z slowest), each edge's weight multiplied x, y, z in float64, the
 * term map * weight rounded to float32 and added in float32, the sum
 * truncated to uint16. The vector versions do these operations in this
 * order on 8 or 4 neighbouring voxels, gathering maps by bin, so they give
 * the scalar loop's bits (the build is ISO C: no contraction into FMA). */
#include "clahe_blend.h"

void md_clahe_fetch_bins(const MdClaheBins *b, size_t row, const int64_t *xi, int64_t x0, int64_t len,
                         int32_t *out)
{
#define FETCH(T, BIN)                                                                        \
    do {                                                                                     \
        const T *s = (const T *)b->p + row;                                                  \
        if (xi)                                                                              \
            for (int64_t i = 0; i < len; i++) out[i] = BIN(s[xi[x0 + i]]);                   \
        else                                                                                 \
            for (int64_t i = 0; i < len; i++) out[i] = BIN(s[x0 + i]);                       \
    } while (0)
#define STORED(v) (int32_t)(v)
#define TABLE(v) (int32_t)lut[v]
#define TABLE_I8(v) (int32_t)lut[(int)(v) + 128]
#define TABLE_I16(v) (int32_t)lut[(int)(v) + 32768]
    const uint16_t *lut = b->lut;
    switch (b->kind) {
    case MD_CLAHE_Q8: FETCH(uint8_t, STORED); break;
    case MD_CLAHE_Q16: FETCH(uint16_t, STORED); break;
    case MD_CLAHE_U8: FETCH(uint8_t, TABLE); break;
    case MD_CLAHE_I8: FETCH(int8_t, TABLE_I8); break;
    case MD_CLAHE_U16: FETCH(uint16_t, TABLE); break;
    case MD_CLAHE_I16: FETCH(int16_t, TABLE_I16); break;
    }
#undef FETCH
#undef STORED
#undef TABLE
#undef TABLE_I8
#undef TABLE_I16
}

static void blend_scalar(const MdClaheRow *r, const int32_t *bins, const MdClaheXTab *xt, int64_t x0, int64_t n,
                         int32_t *res)
{
    for (int64_t x = x0; x < n; x++) {
        int32_t b = bins[x];
        const double wx[2] = {xt->c1[x], xt->c[x]};
        const int64_t off[2] = {xt->t0[x] * xt->nb + b, xt->t1[x] * xt->nb + b};
        float acc = 0;
        for (int ez = 0; ez < (r->three ? 2 : 1); ez++)
            for (int ey = 0; ey < 2; ey++)
                for (int ex = 0; ex < 2; ex++) {
                    double w = wx[ex] * r->wy[ey];
                    if (r->three) w *= r->wz[ez];
                    acc += (float)(r->m[ez][ey][off[ex]] * w);
                }
        res[x] = (uint16_t)acc;
    }
}

#if defined(__GNUC__) && defined(__x86_64__) && !defined(MD_NO_CLONES)
#include <immintrin.h>
#include <string.h>
#define CLAHE_AVX 1

/* 8 bins from voxel `at`: widened, looked up when the kind has a table
 * (a 32-bit gather two bytes apart; the table's spare entry keeps the last
 * read inside it). */
__attribute__((target("avx512f"))) static inline __m256i bins8(const MdClaheBins *b, size_t at)
{
    __m256i i;
    switch (b->kind) {
    case MD_CLAHE_Q8: return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)((const uint8_t *)b->p + at)));
    case MD_CLAHE_Q16: return _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)b->p + at)));
    case MD_CLAHE_U8: i = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)((const uint8_t *)b->p + at))); break;
    case MD_CLAHE_I8:
        i = _mm256_add_epi32(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)((const int8_t *)b->p + at))),
                             _mm256_set1_epi32(128));
        break;
    case MD_CLAHE_U16: i = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)b->p + at))); break;
    default:
        i = _mm256_add_epi32(_mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)((const int16_t *)b->p + at))),
                             _mm256_set1_epi32(32768));
    }
    return _mm256_and_si256(_mm256_i32gather_epi32((const int *)b->lut, i, 2), _mm256_set1_epi32(0xFFFF));
}

__attribute__((target("avx512f"))) static int64_t blend_avx512(const MdClaheRow *r, const MdClaheBins *bins,
                                                               size_t row, const MdClaheXTab *xt, int64_t n,
                                                               void *out, int dbl, int32_t lohi[2])
{
    int64_t x = 0;
    int nz = r->three ? 2 : 1;
    __m256i lo = _mm256_set1_epi32(lohi[0]), hi = _mm256_set1_epi32(lohi[1]);
    for (; x + 8 <= n; x += 8) {
        __m256i b = bins8(bins, row + (size_t)x);
        __m256i i0 = _mm256_add_epi32(b, _mm256_loadu_si256((const __m256i *)(xt->o0 + x)));
        __m256i i1 = _mm256_add_epi32(b, _mm256_loadu_si256((const __m256i *)(xt->o1 + x)));
        __m512d wx0 = _mm512_loadu_pd(xt->c1 + x), wx1 = _mm512_loadu_pd(xt->c + x);
        __m256 acc = _mm256_setzero_ps();
        for (int ez = 0; ez < nz; ez++)
            for (int ey = 0; ey < 2; ey++) {
                __m512d wy = _mm512_set1_pd(r->wy[ey]), w0 = _mm512_mul_pd(wx0, wy), w1 = _mm512_mul_pd(wx1, wy);
                if (r->three) {
                    __m512d wz = _mm512_set1_pd(r->wz[ez]);
                    w0 = _mm512_mul_pd(w0, wz), w1 = _mm512_mul_pd(w1, wz);
                }
                const double *m = r->m[ez][ey];
                acc = _mm256_add_ps(acc, _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_i32gather_pd(i0, m, 8), w0)));
                acc = _mm256_add_ps(acc, _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_i32gather_pd(i1, m, 8), w1)));
            }
        __m256i v = _mm256_cvttps_epi32(acc);
        lo = _mm256_min_epi32(lo, v), hi = _mm256_max_epi32(hi, v);
        if (dbl)
            _mm512_storeu_pd((double *)out + row + x, _mm512_cvtepi32_pd(v));
        else
            _mm256_storeu_ps((float *)out + row + x, _mm256_cvtepi32_ps(v));
    }
    int32_t l[8], h[8];
    _mm256_storeu_si256((__m256i *)l, lo), _mm256_storeu_si256((__m256i *)h, hi);
    for (int k = 0; k < 8; k++) lohi[0] = l[k] < lohi[0] ? l[k] : lohi[0], lohi[1] = h[k] > lohi[1] ? h[k] : lohi[1];
    return x;
}

/* The blend from the row's cells: per voxel one load of its 8 maps and one
 * of its 8 weights, the 8 products rounded to float32 at once; 8 voxels'
 * terms are then transposed (term e of the 8 voxels in one register) so
 * the float32 sums run in skimage's order. Written out so that the
 * registers stay registers. */
__attribute__((target("avx512f"))) static int64_t blend_cells(const MdClaheRow *r, const int32_t *bins,
                                                              size_t row, const MdClaheXTab *xt, int64_t n,
                                                              void *out, int dbl, int32_t lohi[2])
{
    int64_t x = 0;
    const float *cells = r->cells;
    const double *w8 = r->w8;
    const int64_t *cell = xt->cell;
    const int32_t *phase = xt->phase;
    __m256i lo = _mm256_set1_epi32(lohi[0]), hi = _mm256_set1_epi32(lohi[1]);
    for (; x + 8 <= n; x += 8) {
#define TERMS(j)                                                                                                 \
    _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtps_pd(_mm256_load_ps(cells + cell[x + j] + (size_t)bins[x + j] * 8)), \
                                  _mm512_loadu_pd(w8 + (size_t)phase[x + j] * 8)))
        __m256 r0 = TERMS(0), r1 = TERMS(1), r2 = TERMS(2), r3 = TERMS(3), r4 = TERMS(4), r5 = TERMS(5),
               r6 = TERMS(6), r7 = TERMS(7);
#undef TERMS
        __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
               t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
               t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
        __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
               u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
               u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
               u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
        /* term e of voxels 0..7: e = 0..3 from the low halves, 4..7 from the high */
        __m256 acc = _mm256_add_ps(_mm256_setzero_ps(), _mm256_permute2f128_ps(u0, u4, 0x20));
        acc = _mm256_add_ps(acc, _mm256_permute2f128_ps(u1, u5, 0x20));
        acc = _mm256_add_ps(acc, _mm256_permute2f128_ps(u2, u6, 0x20));
        acc = _mm256_add_ps(acc, _mm256_permute2f128_ps(u3, u7, 0x20));
        if (r->three) {
            acc = _mm256_add_ps(acc, _mm256_permute2f128_ps(u0, u4, 0x31));
            acc = _mm256_add_ps(acc, _mm256_permute2f128_ps(u1, u5, 0x31));
            acc = _mm256_add_ps(acc, _mm256_permute2f128_ps(u2, u6, 0x31));
            acc = _mm256_add_ps(acc, _mm256_permute2f128_ps(u3, u7, 0x31));
        }
        __m256i v = _mm256_cvttps_epi32(acc);
        lo = _mm256_min_epi32(lo, v), hi = _mm256_max_epi32(hi, v);
        if (dbl)
            _mm512_storeu_pd((double *)out + row + x, _mm512_cvtepi32_pd(v));
        else
            _mm256_storeu_ps((float *)out + row + x, _mm256_cvtepi32_ps(v));
    }
    int32_t l[8], h[8];
    _mm256_storeu_si256((__m256i *)l, lo), _mm256_storeu_si256((__m256i *)h, hi);
    for (int k = 0; k < 8; k++) lohi[0] = l[k] < lohi[0] ? l[k] : lohi[0], lohi[1] = h[k] > lohi[1] ? h[k] : lohi[1];
    return x;
}

/* Each weight phase's 8 edge weights (wx * wy) * wz, as the scalar blend
 * multiplies them; rep: an x of each phase. */
__attribute__((target("avx512f"))) static void phase_weights_avx512(const MdClaheRow *r, const MdClaheXTab *xt,
                                                                    const int64_t *rep, int64_t nph, double *w8)
{
    __m512d wy = _mm512_setr_pd(r->wy[0], r->wy[0], r->wy[1], r->wy[1], r->wy[0], r->wy[0], r->wy[1], r->wy[1]);
    __m512d wz = _mm512_setr_pd(r->wz[0], r->wz[0], r->wz[0], r->wz[0], r->wz[1], r->wz[1], r->wz[1], r->wz[1]);
    for (int64_t i = 0; i < nph; i++) {
        double c1 = xt->c1[rep[i]], c = xt->c[rep[i]];
        __m512d w = _mm512_mul_pd(_mm512_setr_pd(c1, c, c1, c, c1, c, c1, c), wy);
        if (r->three) w = _mm512_mul_pd(w, wz);
        _mm512_storeu_pd(w8 + i * 8, w);
    }
}

/* 4 bins from voxel `at`, as bins8. */
__attribute__((target("avx2"))) static inline __m128i bins4(const MdClaheBins *b, size_t at)
{
    __m128i i;
    int32_t w8;
    int64_t w16;
    switch (b->kind) {
    case MD_CLAHE_Q8:
    case MD_CLAHE_U8:
    case MD_CLAHE_I8:
        memcpy(&w8, (const uint8_t *)b->p + at, 4);
        i = b->kind == MD_CLAHE_I8 ? _mm_add_epi32(_mm_cvtepi8_epi32(_mm_cvtsi32_si128(w8)), _mm_set1_epi32(128))
                                   : _mm_cvtepu8_epi32(_mm_cvtsi32_si128(w8));
        break;
    default:
        memcpy(&w16, (const uint16_t *)b->p + at, 8);
        i = b->kind == MD_CLAHE_I16 ? _mm_add_epi32(_mm_cvtepi16_epi32(_mm_cvtsi64_si128(w16)), _mm_set1_epi32(32768))
                                    : _mm_cvtepu16_epi32(_mm_cvtsi64_si128(w16));
    }
    if (b->kind == MD_CLAHE_Q8 || b->kind == MD_CLAHE_Q16) return i;
    return _mm_and_si128(_mm_i32gather_epi32((const int *)b->lut, i, 2), _mm_set1_epi32(0xFFFF));
}

__attribute__((target("avx2"))) static int64_t blend_avx2(const MdClaheRow *r, const MdClaheBins *bins, size_t row,
                                                          const MdClaheXTab *xt, int64_t n, void *out, int dbl,
                                                          int32_t lohi[2])
{
    int64_t x = 0;
    int nz = r->three ? 2 : 1;
    __m128i lo = _mm_set1_epi32(lohi[0]), hi = _mm_set1_epi32(lohi[1]);
    for (; x + 4 <= n; x += 4) {
        __m128i b = bins4(bins, row + (size_t)x);
        __m128i i0 = _mm_add_epi32(b, _mm_loadu_si128((const __m128i *)(xt->o0 + x)));
        __m128i i1 = _mm_add_epi32(b, _mm_loadu_si128((const __m128i *)(xt->o1 + x)));
        __m256d wx0 = _mm256_loadu_pd(xt->c1 + x), wx1 = _mm256_loadu_pd(xt->c + x);
        __m128 acc = _mm_setzero_ps();
        for (int ez = 0; ez < nz; ez++)
            for (int ey = 0; ey < 2; ey++) {
                __m256d wy = _mm256_set1_pd(r->wy[ey]), w0 = _mm256_mul_pd(wx0, wy), w1 = _mm256_mul_pd(wx1, wy);
                if (r->three) {
                    __m256d wz = _mm256_set1_pd(r->wz[ez]);
                    w0 = _mm256_mul_pd(w0, wz), w1 = _mm256_mul_pd(w1, wz);
                }
                const double *m = r->m[ez][ey];
                acc = _mm_add_ps(acc, _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_i32gather_pd(m, i0, 8), w0)));
                acc = _mm_add_ps(acc, _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_i32gather_pd(m, i1, 8), w1)));
            }
        __m128i v = _mm_cvttps_epi32(acc);
        lo = _mm_min_epi32(lo, v), hi = _mm_max_epi32(hi, v);
        if (dbl)
            _mm256_storeu_pd((double *)out + row + x, _mm256_cvtepi32_pd(v));
        else
            _mm_storeu_ps((float *)out + row + x, _mm_cvtepi32_ps(v));
    }
    int32_t l[4], h[4];
    _mm_storeu_si128((__m128i *)l, lo), _mm_storeu_si128((__m128i *)h, hi);
    for (int k = 0; k < 4; k++) lohi[0] = l[k] < lohi[0] ? l[k] : lohi[0], lohi[1] = h[k] > lohi[1] ? h[k] : lohi[1];
    return x;
}
#endif

void md_clahe_phase_weights(const MdClaheRow *r, const MdClaheXTab *xt, const int64_t *rep, int64_t nph, double *w8)
{
#ifdef CLAHE_AVX
    if (__builtin_cpu_supports("avx512f")) {
        phase_weights_avx512(r, xt, rep, nph, w8);
        return;
    }
#endif
    for (int64_t i = 0; i < nph; i++) {
        const double wx[2] = {xt->c1[rep[i]], xt->c[rep[i]]};
        for (int e = 0; e < 8; e++) {
            double w = wx[e & 1] * r->wy[(e >> 1) & 1];
            if (r->three) w *= r->wz[e >> 2];
            w8[i * 8 + e] = w;
        }
    }
}

int md_clahe_blend_level(void)
{
#ifdef CLAHE_AVX
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2")) return 1;
#endif
    return 0;
}

void md_clahe_blend_row(const MdClaheRow *r, const MdClaheBins *b, size_t row, const MdClaheXTab *xt, int level,
                        int64_t n, void *out, int dbl, int32_t *bbuf, int32_t *rbuf, int32_t lohi[2])
{
    int64_t x = 0;
#ifdef CLAHE_AVX
    if (level == 2 && r->cells) {
        md_clahe_fetch_bins(b, row, NULL, 0, n, bbuf);
        x = blend_cells(r, bbuf, row, xt, n, out, dbl, lohi);
        blend_scalar(r, bbuf, xt, x, n, rbuf);
        goto tail;
    }
    if (level == 2) x = blend_avx512(r, b, row, xt, n, out, dbl, lohi);
    if (level == 1) x = blend_avx2(r, b, row, xt, n, out, dbl, lohi);
#else
    (void)level;
#endif
    if (x == n) return;
    md_clahe_fetch_bins(b, row, NULL, x, n - x, bbuf + x);
    blend_scalar(r, bbuf, xt, x, n, rbuf);
#ifdef CLAHE_AVX
tail:
#endif
    for (int64_t i = x; i < n; i++) {
        lohi[0] = rbuf[i] < lohi[0] ? rbuf[i] : lohi[0], lohi[1] = rbuf[i] > lohi[1] ? rbuf[i] : lohi[1];
        if (dbl)
            ((double *)out)[row + (size_t)i] = (double)rbuf[i];
        else
            ((float *)out)[row + (size_t)i] = (float)rbuf[i];
    }
}
