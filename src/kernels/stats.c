/* Statistics: one pass over memory, blocks of MD_ARITH_BLOCK voxels in
 * parallel, per-block partials combined serially in block order (so the
 * result does not depend on the thread count).
 *
 * 8- and 16-bit integers: min, max, sum and sum of squares as exact
 * integers; std = sqrt(n*Q - S^2) / n from exact integers (one rounding
 * before the square root). Other types:
 * each block is read as doubles once; sum in eight fixed lanes, then the
 * block's squared deviations from its own mean while it is in cache, and
 * the blocks are combined with Chan's formula. 32-bit integers also keep an
 * exact int64 sum. */
#include "stats.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arith_impl.h"
#include "stats_i16.h"

typedef struct {
    double min, max, sum, m2;
    int64_t isum, isq;
    size_t count, nonfinite, nan, neg_inf;
} Part;

#define LANES 8

/* Small integer block, exact: a block's sum fits int32 (4096 * 65535 <
 * 2^31), and its sum of squares is a sum of integers below 2^32 whose total
 * stays below 2^53, so double holds every partial sum exactly and the order
 * of the additions does not matter. mk: mask bytes or NULL. */
#define SMALL_CASE(tag, ctype)                                                              \
    case MD_##tag: {                                                                        \
        const ctype *x = (const ctype *)data + s;                                           \
        int32_t mn = INT32_MAX, mx = INT32_MIN, sum = 0, cnt = 0;                           \
        double sq = 0;                                                                      \
        if (!mk) {                                                                          \
            _Pragma("omp simd reduction(min:mn) reduction(max:mx) reduction(+:sum, sq)")    \
            for (size_t i = 0; i < n; i++) {                                                \
                const int32_t v = x[i];                                                     \
                mn = v < mn ? v : mn;                                                       \
                mx = v > mx ? v : mx;                                                       \
                sum += v;                                                                   \
                sq += (double)v * (double)v;                                                \
            }                                                                               \
            cnt = (int32_t)n;                                                               \
        } else {                                                                            \
            /* the mask widened to the values' lane width first: mixed widths in one */     \
            /* loop keep the compiler from vectorising it */                                \
            int32_t keep[MD_ARITH_BLOCK];                                                   \
            MD_SIMD for (size_t i = 0; i < n; i++) keep[i] = -(int32_t)(mk[i] != 0);        \
            _Pragma("omp simd reduction(min:mn) reduction(max:mx) reduction(+:sum, sq, cnt)") \
            for (size_t i = 0; i < n; i++) {                                                \
                const int32_t on = keep[i], v = x[i] & on;                                  \
                const int32_t lo = v | (~on & INT32_MAX), hi = v | (~on & INT32_MIN);       \
                mn = lo < mn ? lo : mn;                                                     \
                mx = hi > mx ? hi : mx;                                                     \
                sum += v;                                                                   \
                sq += (double)v * (double)v;                                                \
                cnt -= on;                                                                  \
            }                                                                               \
        }                                                                                   \
        p->min = cnt ? (double)mn : HUGE_VAL, p->max = cnt ? (double)mx : -HUGE_VAL;        \
        p->isum = sum, p->isq = (int64_t)sq, p->count = (size_t)cnt;                        \
    } break;

/* Voxels of the block inside the mask. */
MD_VECTOR_CLONES static size_t mask_count(const uint8_t *mk, size_t n)
{
    uint32_t c = 0; /* 32-bit lanes: a size_t count would widen every byte to 64 bits */
    _Pragma("omp simd reduction(+:c)")
    for (size_t i = 0; i < n; i++) c += mk[i] != 0;
    return c;
}

MD_VECTOR_CLONES static void small_int_block(const void *data, MdDtype t, size_t s, size_t n, const uint8_t *mk, Part *p)
{
    MdI16Part q;
    if (mk && t == MD_INT16 && md_stats_i16_available() &&
        md_stats_i16_masked((const int16_t *)data + s, mk, n, &q)) {
        p->min = q.count ? (double)q.min : HUGE_VAL, p->max = q.count ? (double)q.max : -HUGE_VAL;
        p->isum = q.sum, p->isq = q.sumsq, p->count = q.count;
        return;
    }
    /* A block wholly outside the mask is not read; one wholly inside takes
     * the plain loop. */
    if (mk) {
        const size_t inside = mask_count(mk, n);
        if (inside == 0) {
            p->min = HUGE_VAL, p->max = -HUGE_VAL, p->isum = p->isq = 0, p->count = 0;
            return;
        }
        if (inside == n) mk = NULL;
    }
    switch (t) {
        SMALL_CASE(UINT8, uint8_t)
        SMALL_CASE(INT8, int8_t)
        SMALL_CASE(UINT16, uint16_t)
        SMALL_CASE(INT16, int16_t)
    default: break;
    }
}
#undef SMALL_CASE

/* Lanes of doubles as GCC/Clang vectors of four: the lanes are fixed by
 * the type, not by the instruction set (SSE2 runs a vector as two
 * registers, AVX as one), so the sums have the same bits everywhere. */
typedef double D4 __attribute__((vector_size(4 * sizeof(double))));
typedef int64_t M4 __attribute__((vector_size(4 * sizeof(double))));
#define PICK(m, a, b) ((D4)(((M4)(a) & (m)) | ((M4)(b) & ~(m))))
#define SUM4(v) (((v)[0] + (v)[1]) + ((v)[2] + (v)[3]))

/* Accumulators of one block: two vectors of four lanes, each lane summing
 * its own voxels in order, then a scalar tail. */
typedef struct {
    D4 acc[2], mn[2], mx[2], cnt[2];
} Acc;

static inline void acc_step(Acc *a, int h, D4 v)
{
    const D4 zero = {0, 0, 0, 0}, inf = zero + HUGE_VAL;
    const M4 fin = (v - v) == zero;
    const D4 lo = PICK(fin, v, inf), hi = PICK(fin, v, -inf);
    a->acc[h] += PICK(fin, v, zero);
    a->mn[h] = PICK(lo < a->mn[h], lo, a->mn[h]);
    a->mx[h] = PICK(hi > a->mx[h], hi, a->mx[h]);
    a->cnt[h] += PICK(fin, zero + 1.0, zero);
}

/* 1 when no value of x is NaN or infinite. */
MD_VECTOR_CLONES static int all_finite(const double *x, size_t n)
{
    double acc = 0;
    _Pragma("omp simd reduction(+:acc)") /* NaN as soon as one is not finite */
    for (size_t i = 0; i < n; i++) acc += x[i] - x[i];
    return acc == 0;
}

typedef float F8 __attribute__((vector_size(8 * sizeof(float))));
typedef int32_t M8 __attribute__((vector_size(8 * sizeof(int32_t))));

/* Four floats as doubles. Written element by element because GCC 12 turns
 * this into one vcvtps2pd from memory, while __builtin_convertvector of a
 * float vector converts two halves and joins them (measured 1.3x slower). */
#define D4_OF_FLOATS(p) ((D4){(p)[0], (p)[1], (p)[2], (p)[3]})

/* Eight values from i on, as two lanes of four doubles: x holds doubles, or
 * floats when f32 (converted exactly). */
static inline void load8(const void *x, int f32, size_t i, D4 *v0, D4 *v1)
{
    if (f32) {
        *v0 = D4_OF_FLOATS((const float *)x + i), *v1 = D4_OF_FLOATS((const float *)x + i + 4);
    } else {
        memcpy(v0, (const double *)x + i, sizeof *v0);
        memcpy(v1, (const double *)x + i + 4, sizeof *v1);
    }
}

static inline double load1(const void *x, int f32, size_t i)
{
    return f32 ? (double)((const float *)x)[i] : ((const double *)x)[i];
}

/* A block whose values are all finite (no mask): sum, min and max in the
 * lanes double_block uses, with no selects, then the squared deviations from
 * the block's mean. Reading floats directly gives the same sums as their
 * double copy. ahead (floats only, may be NULL): the next block, fetched into
 * the cache while this one is summed. */
MD_VECTOR_CLONES static void finite_block(const void *x, int f32, size_t n, const char *ahead, Part *p)
{
    const D4 zero = {0, 0, 0, 0}, inf = zero + HUGE_VAL;
    D4 acc[2] = {zero, zero}, mn[2] = {inf, inf}, mx[2] = {-inf, -inf};
    size_t i = 0;
    if (f32) { /* min and max of finite floats in float lanes, twice as wide */
        const F8 finf = (F8){0} + HUGE_VALF;
        F8 fmn = finf, fmx = -finf;
        for (; i + 8 <= n; i += 8) {
            F8 a;
            memcpy(&a, (const float *)x + i, sizeof a);
            const M8 lt = a < fmn, gt = a > fmx;
            fmn = (F8)(((M8)a & lt) | ((M8)fmn & ~lt));
            fmx = (F8)(((M8)a & gt) | ((M8)fmx & ~gt));
            if (ahead) __builtin_prefetch(ahead + 4 * i);
            acc[0] += D4_OF_FLOATS((const float *)x + i);
            acc[1] += D4_OF_FLOATS((const float *)x + i + 4);
        }
        for (int h = 0; h < 2; h++)
            for (int j = 0; j < 4; j++) mn[h][j] = fmn[4 * h + j], mx[h][j] = fmx[4 * h + j];
    }
    for (; i + 8 <= n; i += 8) {
        D4 v[2];
        load8(x, f32, i, &v[0], &v[1]);
        for (int h = 0; h < 2; h++) {
            acc[h] += v[h];
            mn[h] = PICK(v[h] < mn[h], v[h], mn[h]);
            mx[h] = PICK(v[h] > mx[h], v[h], mx[h]);
        }
    }
    double tsum = 0, tmin = HUGE_VAL, tmax = -HUGE_VAL;
    for (size_t k = i; k < n; k++) {
        const double v = load1(x, f32, k);
        tsum += v;
        tmin = v < tmin ? v : tmin;
        tmax = v > tmax ? v : tmax;
    }
    p->min = tmin, p->max = tmax;
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < 4; j++) {
            p->min = mn[h][j] < p->min ? mn[h][j] : p->min;
            p->max = mx[h][j] > p->max ? mx[h][j] : p->max;
        }
    p->count = n;
    p->nonfinite = p->nan = p->neg_inf = 0;
    p->sum = (SUM4(acc[0]) + SUM4(acc[1])) + tsum;
    p->m2 = 0;
    p->isum = 0;
    if (!n) return;
    const double mean = p->sum / (double)n;
    D4 dev[2] = {zero, zero};
    for (i = 0; i + 8 <= n; i += 8) {
        D4 v[2];
        load8(x, f32, i, &v[0], &v[1]);
        for (int h = 0; h < 2; h++) dev[h] += (v[h] - mean) * (v[h] - mean);
    }
    double tdev = 0;
    for (size_t k = i; k < n; k++) tdev += (load1(x, f32, k) - mean) * (load1(x, f32, k) - mean);
    p->m2 = (SUM4(dev[0]) + SUM4(dev[1])) + tdev;
}

/* 1 when no float of x is NaN or infinite. Four accumulators, so the
 * adds do not wait on each other (the order of a sum of zeros and NaNs does
 * not matter). */
MD_VECTOR_CLONES static int all_finite_f32(const float *x, size_t n)
{
    F8 acc[4] = {{0}, {0}, {0}, {0}};
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int h = 0; h < 4; h++) {
            F8 a;
            memcpy(&a, x + i + 8 * h, sizeof a);
            acc[h] += a - a; /* NaN as soon as one is not finite */
        }
    const F8 all = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    float tail = 0;
    for (int j = 0; j < 8; j++) tail += all[j];
    for (; i < n; i++) tail += x[i] - x[i];
    return tail == 0;
}

/* Any other type, read as doubles (x is scratch the caller owns; voxels
 * outside the mask are turned into NaN first, so one loop counts finite
 * values and the mask only changes the non-finite count). */
MD_VECTOR_CLONES static void double_block(double *x, size_t n, const uint8_t *mk, int want_isum, Part *p)
{
    size_t outside = 0;
    if (mk) {
        MD_SIMD for (size_t i = 0; i < n; i++) x[i] = mk[i] ? x[i] : (double)NAN;
        outside = n - mask_count(mk, n);
    }
    /* Mostly every voxel of a block is finite: no selects needed. */
    if (!outside && all_finite(x, n)) {
        finite_block(x, 0, n, NULL, p);
        if (want_isum) {
            int64_t isum = 0;
            MD_SIMD for (size_t i = 0; i < n; i++) isum += (int64_t)x[i];
            p->isum = isum;
        }
        return;
    }
    const D4 zero = {0, 0, 0, 0}, inf = zero + HUGE_VAL;
    Acc a = {{zero, zero}, {inf, inf}, {-inf, -inf}, {zero, zero}};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        D4 v0, v1;
        memcpy(&v0, x + i, sizeof v0);
        memcpy(&v1, x + i + 4, sizeof v1);
        acc_step(&a, 0, v0);
        acc_step(&a, 1, v1);
    }
    double tsum = 0, tcnt = 0, tmin = HUGE_VAL, tmax = -HUGE_VAL;
    for (size_t k = i; k < n; k++) {
        const double v = x[k];
        if (v - v != 0) continue;
        tsum += v, tcnt += 1;
        tmin = v < tmin ? v : tmin;
        tmax = v > tmax ? v : tmax;
    }
    p->min = tmin, p->max = tmax;
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < 4; j++) {
            p->min = a.mn[h][j] < p->min ? a.mn[h][j] : p->min;
            p->max = a.mx[h][j] > p->max ? a.mx[h][j] : p->max;
        }
    const double count = (SUM4(a.cnt[0]) + SUM4(a.cnt[1])) + tcnt;
    p->count = (size_t)count;
    p->nonfinite = n - p->count - outside;
    p->nan = p->neg_inf = 0;
    if (p->nonfinite) /* rare: tell NaN from the infinities (masked-out voxels are NaN here) */
        for (size_t k = 0; k < n; k++) {
            if (mk && !mk[k]) continue;
            p->nan += x[k] != x[k];
            p->neg_inf += x[k] == -HUGE_VAL;
        }
    p->sum = (SUM4(a.acc[0]) + SUM4(a.acc[1])) + tsum;
    p->m2 = 0;
    p->isum = 0;
    if (!p->count) return;
    const double mean = p->sum / count;
    D4 dev[2] = {zero, zero};
    for (i = 0; i + 8 <= n; i += 8) {
        for (int h = 0; h < 2; h++) {
            D4 v;
            memcpy(&v, x + i + 4 * h, sizeof v);
            const D4 d = PICK((v - v) == zero, v - mean, zero);
            dev[h] += d * d;
        }
    }
    double tdev = 0;
    for (size_t k = i; k < n; k++)
        if (x[k] - x[k] == 0) tdev += (x[k] - mean) * (x[k] - mean);
    p->m2 = (SUM4(dev[0]) + SUM4(dev[1])) + tdev;
    if (want_isum) {
        int64_t isum = 0;
        MD_SIMD for (i = 0; i < n; i++) isum += (int64_t)(x[i] - x[i] == 0 ? x[i] : 0.0);
        p->isum = isum;
    }
}

static MdStats combine(const Part *p, size_t nb, MdDtype t)
{
    MdStats s = {HUGE_VAL, -HUGE_VAL, NAN, NAN, 0, 0, 0, 0, 0, 0};
    const int small = !md_dtype_is_float(t) && md_dtype_size(t) <= 2, isint = !md_dtype_is_float(t);
    int64_t isum = 0;
    __int128 isq = 0;
    double fsum = 0;
    for (size_t b = 0; b < nb; b++) {
        s.min = p[b].min < s.min ? p[b].min : s.min;
        s.max = p[b].max > s.max ? p[b].max : s.max;
        s.count += p[b].count;
        s.nonfinite += p[b].nonfinite;
        s.nan += p[b].nan;
        s.neg_inf += p[b].neg_inf;
        isum += p[b].isum;
        isq += p[b].isq;
        fsum += p[b].sum;
    }
    s.pos_inf = s.nonfinite - s.nan - s.neg_inf;
    if (!s.count) {
        s.min = s.max = NAN;
        return s;
    }
    const double n = (double)s.count;
    s.sum = isint ? (double)isum : fsum;
    s.mean = s.sum / n;
    if (small) {
        __int128 num = (__int128)s.count * isq - (__int128)isum * isum;
        s.std = sqrt((double)num) / n;
        return s;
    }
    double m2 = 0;
    for (size_t b = 0; b < nb; b++) {
        if (!p[b].count) continue;
        double d = p[b].sum / (double)p[b].count - s.mean;
        m2 += p[b].m2 + (double)p[b].count * d * d;
    }
    s.std = sqrt(m2 / n);
    return s;
}

/* The plain double path, two passes (as before the fast path): kept as the
 * reference the specs compare with. */
static MdStatus stats_reference(const MdVolume *v, const MdVolume *mask, MdStats *out, MdError *err);

MdStatus md_stats(const MdVolume *v, const MdVolume *mask, MdStats *out, MdError *err)
{
    const size_t n = md_volume_count(v);
    if (mask && md_volume_count(mask) != n)
        return md_error(err, MD_EINVAL, "mask has %zu voxels, expected %zu (shapes differ)",
                        md_volume_count(mask), n);
    if (md_arith_reference_on()) return stats_reference(v, mask, out, err);
    const size_t nb = (n + MD_ARITH_BLOCK - 1) / MD_ARITH_BLOCK;
    Part *p = malloc((nb ? nb : 1) * sizeof *p);
    if (!p) return md_error(err, MD_ENOMEM, "out of memory for statistics");
    const MdDtype t = v->dtype;
    const int small = !md_dtype_is_float(t) && md_dtype_size(t) <= 2;
    const void *vd = md_volume_data(v);
#pragma omp parallel for schedule(static) if (md_par_worth((double)n))
    for (size_t k = 0; k < nb; k++) {
        _Alignas(64) double bx[MD_ARITH_BLOCK];
        _Alignas(64) uint8_t bm[MD_ARITH_BLOCK];
        size_t s = k * MD_ARITH_BLOCK, m = n - s < MD_ARITH_BLOCK ? n - s : MD_ARITH_BLOCK;
        const uint8_t *mk = NULL;
        if (mask && mask->dtype == MD_UINT8)
            mk = (const uint8_t *)md_volume_data(mask) + s;
        else if (mask) {
            md_arith_nonzero(md_volume_data(mask), mask->dtype, s, m, bm);
            mk = bm;
        }
        Part *q = &p[k];
        q->nonfinite = q->nan = q->neg_inf = 0, q->sum = q->m2 = 0;
        if (small) {
            small_int_block(vd, t, s, m, mk, q);
        } else if (t == MD_FLOAT32 && !mk && all_finite_f32((const float *)vd + s, m)) {
            const char *next = k + 1 < nb ? (const char *)((const float *)vd + s + m) : NULL;
            finite_block((const float *)vd + s, 1, m, next, q);
        } else {
            /* a copy even for float64: double_block marks the unmasked voxels in it */
            md_rows_convert((const char *)vd + s * md_dtype_size(t), t, bx, MD_FLOAT64, m, MD_ROUND_NEAREST);
            double_block(bx, m, mk, !md_dtype_is_float(t), q);
        }
    }
    *out = combine(p, nb, t);
    free(p);
    return MD_OK;
}

typedef struct {
    double min, max, sum;
    size_t count, nonfinite, nan, neg_inf;
} RefPart;

static MdStatus stats_reference(const MdVolume *v, const MdVolume *mask, MdStats *out, MdError *err)
{
    const size_t n = md_volume_count(v), nb = (n + MD_ARITH_BLOCK - 1) / MD_ARITH_BLOCK;
    RefPart *p = malloc((nb ? nb : 1) * sizeof *p);
    double *sq = malloc((nb ? nb : 1) * sizeof *sq);
    if (!p || !sq) {
        free(p);
        free(sq);
        return md_error(err, MD_ENOMEM, "out of memory for statistics");
    }
    const void *vd = md_volume_data(v);
    for (size_t blk = 0; blk < nb; blk++) {
        double x[MD_ARITH_BLOCK], m8[MD_ARITH_BLOCK];
        size_t s = blk * MD_ARITH_BLOCK, m = n - s < MD_ARITH_BLOCK ? n - s : MD_ARITH_BLOCK;
        md_rows_to_f64(vd, v->dtype, s, m, x);
        if (mask) md_rows_to_f64(md_volume_data(mask), mask->dtype, s, m, m8);
        RefPart q = {HUGE_VAL, -HUGE_VAL, 0.0, 0, 0, 0, 0};
        for (size_t i = 0; i < m; i++) {
            if (mask && m8[i] == 0) continue;
            if (!isfinite(x[i])) {
                q.nonfinite++;
                if (isnan(x[i])) q.nan++;
                else if (x[i] < 0) q.neg_inf++;
                continue;
            }
            if (x[i] < q.min) q.min = x[i];
            if (x[i] > q.max) q.max = x[i];
            q.sum += x[i];
            q.count++;
        }
        p[blk] = q;
    }
    MdStats s = {HUGE_VAL, -HUGE_VAL, 0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t b = 0; b < nb; b++) {
        if (p[b].min < s.min) s.min = p[b].min;
        if (p[b].max > s.max) s.max = p[b].max;
        s.sum += p[b].sum;
        s.count += p[b].count;
        s.nonfinite += p[b].nonfinite;
        s.nan += p[b].nan;
        s.neg_inf += p[b].neg_inf;
    }
    s.pos_inf = s.nonfinite - s.nan - s.neg_inf;
    s.mean = s.count ? s.sum / (double)s.count : (double)NAN;
    for (size_t blk = 0; blk < nb; blk++) {
        double x[MD_ARITH_BLOCK], m8[MD_ARITH_BLOCK];
        size_t st0 = blk * MD_ARITH_BLOCK, m = n - st0 < MD_ARITH_BLOCK ? n - st0 : MD_ARITH_BLOCK;
        md_rows_to_f64(vd, v->dtype, st0, m, x);
        if (mask) md_rows_to_f64(md_volume_data(mask), mask->dtype, st0, m, m8);
        double acc = 0;
        for (size_t i = 0; i < m; i++) {
            if ((mask && m8[i] == 0) || !isfinite(x[i])) continue;
            double d = x[i] - s.mean;
            acc += d * d;
        }
        sq[blk] = acc;
    }
    double ss = 0;
    for (size_t b = 0; b < nb; b++) ss += sq[b];
    s.std = s.count ? sqrt(ss / (double)s.count) : (double)NAN;
    if (!s.count) s.min = s.max = (double)NAN;
    free(p);
    free(sq);
    *out = s;
    return MD_OK;
}
