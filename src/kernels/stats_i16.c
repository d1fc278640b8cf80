/* Statistics of int16 voxels inside a mask (the CT case: HU under a lung or
 * body mask), sixteen 16-bit lanes at a time with AVX2. The compiler's own
 * vectorisation widens everything to 32-bit lanes and converts to double
 * for the squares; here the squares come from pmaddwd (pairs of 16-bit
 * products summed in 32 bits) and every sum is an exact integer, so the
 * result is the same as the portable loop's, bit for bit.
 *
 * Bounds: a pair of squares is at most 2 * 32768^2 = 2^31, which fits
 * an unsigned 32-bit lane (pmaddwd's signed result is read as unsigned);
 * pair sums are at most 65536 in magnitude and a block of 4096 voxels adds
 * 256 of them per 32-bit lane; per-lane counts stay below 2^15. */
#include "stats_i16.h"

#include <limits.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

int md_stats_i16_available(void)
{
    static int have = -1;
    if (have < 0) have = __builtin_cpu_supports("avx2") ? 1 : 0;
    return have;
}

__attribute__((target("avx2"))) int md_stats_i16_masked(const int16_t *x, const uint8_t *mk, size_t n,
                                                       MdI16Part *p)
{
    if (n > 4096) return 0; /* the bounds above hold for one block */
    const __m256i zero = _mm256_setzero_si256(), ones = _mm256_set1_epi16(1);
    const __m256i top = _mm256_set1_epi16(INT16_MAX), bottom = _mm256_set1_epi16(INT16_MIN);
    __m256i mn = top, mx = bottom, sum = zero, sq = zero, outside = zero;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(x + i));
        const __m256i m = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(mk + i)));
        const __m256i off = _mm256_cmpeq_epi16(m, zero); /* all ones outside the mask */
        v = _mm256_andnot_si256(off, v);
        mn = _mm256_min_epi16(mn, _mm256_or_si256(v, _mm256_and_si256(off, top)));
        mx = _mm256_max_epi16(mx, _mm256_or_si256(v, _mm256_and_si256(off, bottom)));
        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(v, ones));
        const __m256i q = _mm256_madd_epi16(v, v);
        sq = _mm256_add_epi64(sq, _mm256_cvtepu32_epi64(_mm256_castsi256_si128(q)));
        sq = _mm256_add_epi64(sq, _mm256_cvtepu32_epi64(_mm256_extracti128_si256(q, 1)));
        outside = _mm256_sub_epi16(outside, off);
    }
    int16_t lmn[16], lmx[16], lout[16];
    int32_t lsum[8];
    int64_t lsq[4];
    _mm256_storeu_si256((__m256i *)lmn, mn);
    _mm256_storeu_si256((__m256i *)lmx, mx);
    _mm256_storeu_si256((__m256i *)lout, outside);
    _mm256_storeu_si256((__m256i *)lsum, sum);
    _mm256_storeu_si256((__m256i *)lsq, sq);
    int32_t vmin = INT32_MAX, vmax = INT32_MIN;
    int64_t s = 0, s2 = 0;
    size_t out = 0;
    for (int k = 0; k < 16; k++) {
        vmin = lmn[k] < vmin ? lmn[k] : vmin;
        vmax = lmx[k] > vmax ? lmx[k] : vmax;
        out += (size_t)(uint16_t)lout[k];
    }
    for (int k = 0; k < 8; k++) s += lsum[k];
    for (int k = 0; k < 4; k++) s2 += lsq[k];
    size_t count = i - out;
    for (; i < n; i++) {
        if (!mk[i]) continue;
        const int32_t v = x[i];
        vmin = v < vmin ? v : vmin;
        vmax = v > vmax ? v : vmax;
        s += v, s2 += (int64_t)v * v, count++;
    }
    p->min = vmin, p->max = vmax, p->sum = s, p->sumsq = s2, p->count = count;
    return 1;
}

#else

int md_stats_i16_available(void)
{
    return 0;
}

int md_stats_i16_masked(const int16_t *x, const uint8_t *mk, size_t n, MdI16Part *p)
{
    (void)x, (void)mk, (void)n, (void)p;
    return 0;
}

#endif
