/* Histogram, quantiles and unique values over a selection of voxels.
 * Every value maps to an order-preserving unsigned key of 8, 16, 32 or 64
 * bits. Keys of at most 16 bits are counted in one table per thread in one
 * pass, and every statistic is read off the table. Wider keys are selected
 * by radix digits of 16 bits (one pass per digit) or sorted. Counts are
 * integers, so partial tables merge to the same result on any thread count. */
#include "histogram.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/rows.h"

#define CHUNK 65536

/* ---- keys ---------------------------------------------------------------- */

static int key_bits(MdDtype t)
{
    switch (t) {
    case MD_UINT8: case MD_INT8: return 8;
    case MD_UINT16: case MD_INT16: return 16;
    case MD_FLOAT64: return 64;
    default: return 32;
    }
}

static inline uint32_t f32_key(float x)
{
    uint32_t b;
    if (x == 0.0f) x = 0.0f; /* -0 counts as +0 */
    memcpy(&b, &x, 4);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

static inline uint64_t f64_key(double x)
{
    uint64_t b;
    if (x == 0.0) x = 0.0;
    memcpy(&b, &x, 8);
    return (b >> 63) ? ~b : (b | (1ull << 63));
}

static double key_value(uint64_t k, MdDtype t)
{
    switch (t) {
    case MD_UINT8: case MD_UINT16: case MD_UINT32: return (double)k;
    case MD_INT8: return (double)(int8_t)(uint8_t)(k ^ 0x80u);
    case MD_INT16: return (double)(int16_t)(uint16_t)(k ^ 0x8000u);
    case MD_INT32: return (double)(int32_t)(uint32_t)(k ^ 0x80000000u);
    case MD_FLOAT32: {
        uint32_t b = (uint32_t)k;
        b = (b & 0x80000000u) ? (b & 0x7fffffffu) : ~b;
        float f;
        memcpy(&f, &b, 4);
        return (double)f;
    }
    default: {
        uint64_t b = (k >> 63) ? (k & ~(1ull << 63)) : ~k;
        double d;
        memcpy(&d, &b, 8);
        return d;
    }
    }
}

/* Writes the keys of the selected non-NaN voxels of [start, start+n) to
 * out; returns how many. */
static size_t load_keys(const MdSelection *s, size_t start, size_t n, uint64_t *out)
{
    const void *p = md_volume_data(s->v);
    const uint8_t *m = s->mask ? (const uint8_t *)md_volume_data(s->mask) + start : NULL;
    size_t k = 0;
#define LOOP(ctype, KEY)                                        \
    {                                                           \
        const ctype *x = (const ctype *)p + start;              \
        for (size_t i = 0; i < n; i++) {                        \
            if ((m && !m[i]) || x[i] != x[i]) continue;         \
            out[k++] = (KEY);                                   \
        }                                                       \
    } break
    switch (s->v->dtype) {
    case MD_UINT8: LOOP(uint8_t, x[i]);
    case MD_INT8: LOOP(int8_t, (uint8_t)x[i] ^ 0x80u);
    case MD_UINT16: LOOP(uint16_t, x[i]);
    case MD_INT16: LOOP(int16_t, (uint16_t)x[i] ^ 0x8000u);
    case MD_UINT32: LOOP(uint32_t, x[i]);
    case MD_INT32: LOOP(int32_t, (uint32_t)x[i] ^ 0x80000000u);
    case MD_FLOAT32: LOOP(float, f32_key(x[i]));
    default: LOOP(double, f64_key(x[i]));
    }
#undef LOOP
    return k;
}

static MdStatus check_selection(const MdSelection *s, MdError *err)
{
    if (!s->mask) return MD_OK;
    if (md_volume_count(s->mask) != md_volume_count(s->v))
        return md_error(err, MD_EINVAL, "mask has %zu voxels, the volume %zu", md_volume_count(s->mask),
                        md_volume_count(s->v));
    if (s->mask->dtype != MD_UINT8) return md_error(err, MD_EINVAL, "mask must be uint8");
    return MD_OK;
}

/* ---- counting small keys into one table ---------------------------------- */

/* table[k] = selected voxels with key k (1 << bits entries, new). Each
 * thread counts into SUB interleaved tables, so runs of equal values (air,
 * background) do not wait on one counter. */
#define SUB 4
static MdStatus count_table(const MdSelection *s, uint64_t **table, MdCtx *ctx)
{
    size_t nk = (size_t)1 << key_bits(s->v->dtype), n = md_volume_count(s->v);
    size_t nchunks = (n + CHUNK - 1) / CHUNK;
    int nt = ctx->threads < 1 ? 1 : ctx->threads;
    uint64_t *all = calloc((size_t)nt * SUB * nk, sizeof *all);
    if (!all) return md_error(ctx->err, MD_ENOMEM, "histogram: out of memory for %d count tables", nt);
    int fail = MD_OK;
    const void *p = md_volume_data(s->v);
    const uint8_t *mask = s->mask ? md_volume_data(s->mask) : NULL;
#pragma omp parallel num_threads(nt) if (md_par_worth((double)n))
    {
        uint64_t *t0 = all + (size_t)md_par_thread() * SUB * nk, *t1 = t0 + nk, *t2 = t1 + nk, *t3 = t2 + nk;
#pragma omp for schedule(static)
        for (size_t c = 0; c < nchunks; c++) {
            if (md_par_poll_cancel(&fail)) continue;
            size_t a = c * CHUNK, b = a + CHUNK < n ? a + CHUNK : n;
            const uint8_t *m = mask;
#define KEYAT(i) KEY((i))
#define LOOP(ctype, KEY)                                                                  \
    {                                                                                     \
        const ctype *x = (const ctype *)p;                                                \
        size_t i = a;                                                                     \
        if (m) {                                                                          \
            for (; i < b; i++) t0[KEY(i)] += m[i] != 0;                                   \
        } else {                                                                          \
            for (; i + 4 <= b; i += 4) {                                                  \
                t0[KEY(i)]++;                                                             \
                t1[KEY(i + 1)]++;                                                         \
                t2[KEY(i + 2)]++;                                                         \
                t3[KEY(i + 3)]++;                                                         \
            }                                                                             \
            for (; i < b; i++) t0[KEY(i)]++;                                              \
        }                                                                                 \
    } break
#define K_U8(i) x[i]
#define K_I8(i) ((uint8_t)x[i] ^ 0x80u)
#define K_U16(i) x[i]
#define K_I16(i) ((uint16_t)x[i] ^ 0x8000u)
            switch (s->v->dtype) {
            case MD_UINT8: LOOP(uint8_t, K_U8);
            case MD_INT8: LOOP(int8_t, K_I8);
            case MD_UINT16: LOOP(uint16_t, K_U16);
            default: LOOP(int16_t, K_I16);
            }
#undef LOOP
#undef KEYAT
#undef K_U8
#undef K_I8
#undef K_U16
#undef K_I16
            if (md_par_thread() == 0) md_ctx_progress(ctx, c + 1, nchunks);
        }
    }
    md_ctx_finish(ctx, nchunks);
    if (fail) {
        free(all);
        return md_par_status(fail, "histogram", ctx->err);
    }
    for (int k = 1; k < nt * SUB; k++)
        for (size_t i = 0; i < nk; i++) all[i] += all[(size_t)k * nk + i];
    *table = all; /* the first nk entries hold the sum */
    return MD_OK;
}

static int small_keys(MdDtype t) { return key_bits(t) <= 16; }

/* The value of rank r (0-based) in a table of counts. */
static double table_rank(const uint64_t *tab, size_t nk, uint64_t r, MdDtype t)
{
    uint64_t acc = 0;
    size_t k = 0;
    while (k + 1 < nk && acc + tab[k] <= r) acc += tab[k++];
    return key_value(k, t);
}


/* ---- radix selection of wide keys ------------------------------------------ */

#define GROUP 8 /* prefixes counted per pass */

/* keys[i] = the key of rank ranks[i] (0-based, ascending) among the
 * selected voxels; every rank < the selection's size. One pass over the
 * data per 16-bit digit (per GROUP distinct prefixes). */
static MdStatus select_keys(const MdSelection *s, const uint64_t *ranks, int nr, uint64_t *keys, MdCtx *ctx)
{
    int bits = key_bits(s->v->dtype), nt = ctx->threads < 1 ? 1 : ctx->threads;
    size_t n = md_volume_count(s->v), nchunks = (n + CHUNK - 1) / CHUNK;
    uint64_t *rem = malloc((size_t)nr * sizeof *rem);
    uint64_t *cnt = calloc((size_t)nt * GROUP * 65536, sizeof *cnt);
    uint64_t *buf = malloc((size_t)nt * CHUNK * sizeof *buf);
    MdStatus st = MD_OK;
    if (!rem || !cnt || !buf) {
        st = md_error(ctx->err, MD_ENOMEM, "percentile: out of memory for the digit tables");
        goto done;
    }
    for (int i = 0; i < nr; i++) {
        rem[i] = ranks[i];
        keys[i] = 0;
    }
    int levels = bits / 16;
    for (int lev = 0; lev < levels; lev++) {
        int shift = bits - 16 * (lev + 1);
        /* distinct prefixes (keys[] holds each rank's known high digits) */
        uint64_t pre[64];
        int done_upto = 0;
        int *todo = calloc((size_t)nr, sizeof *todo);
        if (!todo) {
            st = md_error(ctx->err, MD_ENOMEM, "percentile: out of memory");
            goto done;
        }
        while (done_upto < nr) {
            int np = 0;
            for (int i = 0; i < nr && np < GROUP; i++) {
                if (todo[i]) continue;
                int j = 0;
                while (j < np && pre[j] != keys[i]) j++;
                if (j == np) pre[np++] = keys[i];
            }
            memset(cnt, 0, (size_t)nt * GROUP * 65536 * sizeof *cnt);
            int fail = MD_OK;
#pragma omp parallel num_threads(nt) if (md_par_worth((double)n))
            {
                int th = md_par_thread();
                uint64_t *c0 = cnt + (size_t)th * GROUP * 65536, *kb = buf + (size_t)th * CHUNK;
#pragma omp for schedule(static)
                for (size_t c = 0; c < nchunks; c++) {
                    if (md_par_poll_cancel(&fail)) continue;
                    size_t a = c * CHUNK, len = a + CHUNK < n ? CHUNK : n - a;
                    size_t k = load_keys(s, a, len, kb);
                    for (size_t i = 0; i < k; i++) {
                        uint64_t hi = shift + 16 >= 64 ? 0 : kb[i] >> (shift + 16);
                        for (int j = 0; j < np; j++)
                            if (pre[j] == hi) {
                                c0[(size_t)j * 65536 + ((kb[i] >> shift) & 0xffff)]++;
                                break;
                            }
                    }
                }
            }
            if (fail) {
                free(todo);
                st = md_par_status(fail, "percentile", ctx->err);
                goto done;
            }
            for (int k = 1; k < nt; k++)
                for (size_t i = 0; i < (size_t)np * 65536; i++) cnt[i] += cnt[(size_t)k * GROUP * 65536 + i];
            for (int i = 0; i < nr; i++) {
                if (todo[i]) continue;
                int j = 0;
                while (j < np && pre[j] != keys[i]) j++;
                if (j == np) continue; /* a later group */
                const uint64_t *h = cnt + (size_t)j * 65536;
                uint64_t acc = 0;
                int d = 0;
                while (d < 65535 && acc + h[d] <= rem[i]) acc += h[d++];
                rem[i] -= acc;
                keys[i] = (keys[i] << 16) | (uint64_t)d;
                todo[i] = 1;
                done_upto++;
            }
        }
        free(todo);
    }
done:
    free(rem);
    free(cnt);
    free(buf);
    return st;
}

/* Values of the given ranks among the selected voxels. */
static MdStatus values_at(const MdSelection *s, const uint64_t *ranks, int nr, double *out, MdCtx *ctx)
{
    MdDtype t = s->v->dtype;
    if (small_keys(t)) {
        uint64_t *tab;
        MdStatus st = count_table(s, &tab, ctx);
        if (st) return st;
        size_t nk = (size_t)1 << key_bits(t);
        for (int i = 0; i < nr; i++) out[i] = table_rank(tab, nk, ranks[i], t);
        free(tab);
        return MD_OK;
    }
    uint64_t *keys = malloc((size_t)(nr ? nr : 1) * sizeof *keys);
    if (!keys) return md_error(ctx->err, MD_ENOMEM, "percentile: out of memory");
    MdStatus st = select_keys(s, ranks, nr, keys, ctx);
    for (int i = 0; i < nr && !st; i++) out[i] = key_value(keys[i], t);
    free(keys);
    return st;
}

/* ---- range and count --------------------------------------------------------- */

MdStatus md_value_range(const MdSelection *s, double *lo, double *hi, size_t *count, MdCtx *ctx)
{
    MdStatus st = check_selection(s, ctx->err);
    if (st) return st;
    MdDtype t = s->v->dtype;
    uint64_t kmin = UINT64_MAX, kmax = 0, total = 0;
    if (small_keys(t)) {
        uint64_t *tab;
        if ((st = count_table(s, &tab, ctx))) return st;
        size_t nk = (size_t)1 << key_bits(t);
        for (size_t k = 0; k < nk; k++)
            if (tab[k]) {
                if (k < kmin) kmin = k;
                kmax = k;
                total += tab[k];
            }
        free(tab);
    } else {
        size_t n = md_volume_count(s->v), nchunks = (n + CHUNK - 1) / CHUNK;
        int nt = ctx->threads < 1 ? 1 : ctx->threads, fail = MD_OK;
        uint64_t part[3 * 256];
        uint64_t *buf = malloc((size_t)nt * CHUNK * sizeof *buf);
        if (!buf || nt > 256) {
            free(buf);
            return md_error(ctx->err, MD_ENOMEM, "value range: out of memory");
        }
        for (int k = 0; k < nt; k++) part[3 * k] = UINT64_MAX, part[3 * k + 1] = 0, part[3 * k + 2] = 0;
#pragma omp parallel num_threads(nt) if (md_par_worth((double)n))
        {
            int th = md_par_thread();
            uint64_t *kb = buf + (size_t)th * CHUNK, mn = UINT64_MAX, mx = 0, c0 = 0;
#pragma omp for schedule(static)
            for (size_t c = 0; c < nchunks; c++) {
                if (md_par_poll_cancel(&fail)) continue;
                size_t a = c * CHUNK, len = a + CHUNK < n ? CHUNK : n - a;
                size_t k = load_keys(s, a, len, kb);
                for (size_t i = 0; i < k; i++) {
                    mn = kb[i] < mn ? kb[i] : mn;
                    mx = kb[i] > mx ? kb[i] : mx;
                }
                c0 += k;
            }
            part[3 * th] = mn, part[3 * th + 1] = mx, part[3 * th + 2] = c0;
        }
        free(buf);
        if (fail) return md_par_status(fail, "value range", ctx->err);
        for (int k = 0; k < nt; k++) {
            if (part[3 * k] < kmin) kmin = part[3 * k];
            if (part[3 * k + 2] && part[3 * k + 1] > kmax) kmax = part[3 * k + 1];
            total += part[3 * k + 2];
        }
    }
    if (total == 0) return md_error(ctx->err, MD_EINVAL, "the selection is empty (no voxel in the mask, or all NaN)");
    *lo = key_value(kmin, t);
    *hi = key_value(kmax, t);
    *count = (size_t)total;
    return MD_OK;
}

/* ---- histogram ------------------------------------------------------------------ */

void md_histogram_edges(MdDtype t, double lo, double hi, int64_t nbins, double *edges)
{
    if (lo == hi) {
        lo -= 0.5;
        hi += 0.5;
    }
    double step = (hi - lo) / (double)nbins;
    for (int64_t i = 0; i <= nbins; i++) {
        double e = step == 0 ? (double)i / (double)nbins * (hi - lo) + lo : (double)i * step + lo;
        if (i == nbins) e = hi;
        edges[i] = t == MD_FLOAT32 ? (double)(float)e : e;
    }
}

/* Bin of x, or -1 outside [edges[0], edges[n]]. */
static inline int64_t bin_of(double x, const double *e, int64_t n, double norm, int uniform)
{
    if (!(x >= e[0] && x <= e[n])) return -1;
    int64_t i;
    if (uniform) {
        double f = (x - e[0]) * norm;
        i = f >= (double)n ? n - 1 : (int64_t)f;
        if (i < 0) i = 0;
        while (i > 0 && x < e[i]) i--;
        while (i < n - 1 && x >= e[i + 1]) i++;
    } else {
        int64_t a = 0, b = n; /* last edge index with e[idx] <= x, in [0, n] */
        while (b - a > 1) {
            int64_t mid = a + (b - a) / 2;
            if (e[mid] <= x) a = mid;
            else b = mid;
        }
        i = a;
        while (i < n - 1 && x >= e[i + 1]) i++; /* repeated edges: numpy's right side */
    }
    return i;
}

MdStatus md_histogram(const MdSelection *s, const double *edges, int64_t nbins, int uniform, int64_t *counts,
                      MdCtx *ctx)
{
    MdStatus st = check_selection(s, ctx->err);
    if (st) return st;
    if (nbins < 1) return md_error(ctx->err, MD_EINVAL, "bins must be >= 1 (got %lld)", (long long)nbins);
    double norm = (double)nbins / (edges[nbins] - edges[0]);
    memset(counts, 0, (size_t)nbins * sizeof *counts);
    MdDtype t = s->v->dtype;
    if (small_keys(t)) {
        uint64_t *tab;
        if ((st = count_table(s, &tab, ctx))) return st;
        size_t nk = (size_t)1 << key_bits(t);
        for (size_t k = 0; k < nk; k++) {
            if (!tab[k]) continue;
            int64_t b = bin_of(key_value(k, t), edges, nbins, norm, uniform);
            if (b >= 0) counts[b] += (int64_t)tab[k];
        }
        free(tab);
        return MD_OK;
    }
    size_t n = md_volume_count(s->v), nchunks = (n + CHUNK - 1) / CHUNK;
    int nt = ctx->threads < 1 ? 1 : ctx->threads, fail = MD_OK;
    int64_t *part = calloc((size_t)nt * (size_t)nbins, sizeof *part);
    double *buf = malloc((size_t)nt * CHUNK * sizeof *buf);
    if (!part || !buf) {
        free(part);
        free(buf);
        return md_error(ctx->err, MD_ENOMEM, "histogram: out of memory for %lld bins", (long long)nbins);
    }
    const uint8_t *mask = s->mask ? md_volume_data(s->mask) : NULL;
#pragma omp parallel num_threads(nt) if (md_par_worth((double)n))
    {
        int th = md_par_thread();
        int64_t *h = part + (size_t)th * (size_t)nbins;
        double *x = buf + (size_t)th * CHUNK;
#pragma omp for schedule(static)
        for (size_t c = 0; c < nchunks; c++) {
            if (md_par_poll_cancel(&fail)) continue;
            size_t a = c * CHUNK, len = a + CHUNK < n ? CHUNK : n - a;
            md_rows_to_f64(md_volume_data(s->v), t, a, len, x);
            for (size_t i = 0; i < len; i++) {
                if (mask && !mask[a + i]) continue;
                int64_t b = bin_of(x[i], edges, nbins, norm, uniform);
                if (b >= 0) h[b]++;
            }
            if (th == 0) md_ctx_progress(ctx, c + 1, nchunks);
        }
    }
    md_ctx_finish(ctx, nchunks);
    if (!fail)
        for (int k = 0; k < nt; k++)
            for (int64_t i = 0; i < nbins; i++) counts[i] += part[(size_t)k * (size_t)nbins + (size_t)i];
    free(part);
    free(buf);
    return md_par_status(fail, "histogram", ctx->err);
}

/* ---- percentiles ------------------------------------------------------------------- */

static const char *const qnames[] = {"linear", "lower", "higher", "midpoint", "nearest", "inverted_cdf",
                                     "averaged_inverted_cdf", "closest_observation",
                                     "interpolated_inverted_cdf", "hazen", "weibull", "median_unbiased",
                                     "normal_unbiased"};

const char *md_quantile_method_name(MdQuantileMethod m)
{
    return m >= 0 && m < MD_Q_NMETHODS ? qnames[m] : NULL;
}

/* numpy's index rule for quantile q (0..1) of n values: the two ranks to
 * interpolate between and the weight of the upper one. */
static void quantile_index(MdQuantileMethod m, double n, double q, uint64_t *r0, uint64_t *r1, double *gamma)
{
    double vi, alpha = 0, beta = 0;
    int integral = 0;
    switch (m) {
    case MD_Q_LOWER: vi = floor((n - 1) * q); integral = 1; break;
    case MD_Q_HIGHER: vi = ceil((n - 1) * q); integral = 1; break;
    case MD_Q_NEAREST: vi = nearbyint((n - 1) * q); integral = 1; break; /* half to even, as np.around */
    case MD_Q_INVERTED_CDF: {
        double i = n * q - 1, p = floor(i);
        vi = i - p == 0 ? p : p + 1;
        if (vi < 0) vi = 0;
        integral = 1;
    } break;
    case MD_Q_CLOSEST_OBSERVATION: {
        double i = n * q - 1 - 0.5, p = floor(i);
        vi = (i - p == 0 && fmod(p, 2) == 0) ? p : p + 1;
        if (vi < 0) vi = 0;
        integral = 1;
    } break;
    case MD_Q_MIDPOINT: vi = 0.5 * (floor((n - 1) * q) + ceil((n - 1) * q)); break;
    case MD_Q_AVERAGED_INVERTED_CDF: vi = n * q - 1; break;
    case MD_Q_INTERPOLATED_INVERTED_CDF: alpha = 0, beta = 1; goto hf;
    case MD_Q_HAZEN: alpha = beta = 0.5; goto hf;
    case MD_Q_WEIBULL: alpha = beta = 0; goto hf;
    case MD_Q_MEDIAN_UNBIASED: alpha = beta = 1 / 3.0; goto hf;
    case MD_Q_NORMAL_UNBIASED: alpha = beta = 3 / 8.0; goto hf;
    hf: vi = n * q + (alpha + q * (1 - alpha - beta)) - 1; break;
    default: vi = (n - 1) * q; break;
    }
    if (integral) {
        if (vi > n - 1) vi = n - 1;
        *r0 = *r1 = (uint64_t)vi;
        *gamma = 0;
        return;
    }
    double prev = floor(vi), g = vi - prev;
    if (m == MD_Q_MIDPOINT) g = fmod(vi, 1) == 0 ? 0 : 0.5;
    if (m == MD_Q_AVERAGED_INVERTED_CDF) g = g == 0 ? 0.5 : 1;
    if (vi >= n - 1) *r0 = *r1 = (uint64_t)(n - 1);
    else if (vi < 0) *r0 = *r1 = 0;
    else *r0 = (uint64_t)prev, *r1 = (uint64_t)prev + 1;
    *gamma = g;
}

static double lerp(double a, double b, double t, MdDtype dt)
{
    double d = dt == MD_FLOAT32 ? (double)((float)b - (float)a) : b - a;
    return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/* Selection size, and for 8/16-bit volumes the table of counts (*tab new,
 * else NULL): one pass either way. */
static MdStatus count_selected(const MdSelection *s, size_t *n, uint64_t **tab, MdCtx *ctx)
{
    MdStatus st = check_selection(s, ctx->err);
    if (st) return st;
    *tab = NULL;
    if (small_keys(s->v->dtype)) {
        if ((st = count_table(s, tab, ctx))) return st;
        size_t nk = (size_t)1 << key_bits(s->v->dtype), total = 0;
        for (size_t k = 0; k < nk; k++) total += (*tab)[k];
        *n = total;
    } else {
        double lo, hi;
        if ((st = md_value_range(s, &lo, &hi, n, ctx))) return st;
    }
    if (*n == 0) {
        free(*tab);
        return md_error(ctx->err, MD_EINVAL, "the selection is empty (no voxel in the mask, or all NaN)");
    }
    return MD_OK;
}

/* vals[i] = value of rank ranks[i], from the table or by radix selection. */
static MdStatus ranks_to_values(const MdSelection *s, const uint64_t *tab, const uint64_t *ranks, int nr, double *vals,
                                MdCtx *ctx)
{
    if (!tab) return values_at(s, ranks, nr, vals, ctx);
    size_t nk = (size_t)1 << key_bits(s->v->dtype);
    for (int i = 0; i < nr; i++) vals[i] = table_rank(tab, nk, ranks[i], s->v->dtype);
    return MD_OK;
}

MdStatus md_percentiles(const MdSelection *s, const double *pct, int nq, MdQuantileMethod method, double *out,
                        MdCtx *ctx)
{
    size_t n;
    uint64_t *tab;
    MdStatus st = count_selected(s, &n, &tab, ctx);
    if (st) return st;
    /* zeroed only to quiet GCC, which cannot see that nq = 0 reads none */
    uint64_t *ranks = calloc((size_t)(2 * nq + 1), sizeof *ranks);
    double *g = malloc((size_t)(nq + 1) * sizeof *g), *vals = malloc((size_t)(2 * nq + 1) * sizeof *vals);
    if (!ranks || !g || !vals) {
        st = md_error(ctx->err, MD_ENOMEM, "percentile: out of memory");
        goto done;
    }
    for (int i = 0; i < nq; i++) {
        if (!(pct[i] >= 0 && pct[i] <= 100)) {
            st = md_error(ctx->err, MD_EINVAL, "percentiles must be in [0, 100] (got %g)", pct[i]);
            goto done;
        }
        quantile_index(method, (double)n, pct[i] / 100, &ranks[2 * i], &ranks[2 * i + 1], &g[i]);
    }
    if ((st = ranks_to_values(s, tab, ranks, 2 * nq, vals, ctx))) goto done;
    for (int i = 0; i < nq; i++) out[i] = lerp(vals[2 * i], vals[2 * i + 1], g[i], s->v->dtype);
done:
    free(tab);
    free(ranks);
    free(g);
    free(vals);
    return st;
}

MdStatus md_median_value(const MdSelection *s, double *out, MdCtx *ctx)
{
    double v[2];
    size_t n;
    uint64_t *tab;
    MdStatus st = count_selected(s, &n, &tab, ctx);
    if (st) return st;
    uint64_t r[2] = {(n - 1) / 2, n / 2};
    st = ranks_to_values(s, tab, r, 2, v, ctx);
    free(tab);
    if (st) return st;
    if (s->v->dtype == MD_FLOAT32) *out = (double)(((float)v[0] + (float)v[1]) / 2.0f);
    else *out = (v[0] + v[1]) / 2;
    return MD_OK;
}

/* ---- unique --------------------------------------------------------------------------- */

/* Sorts keys of `bits` bits ascending (LSD radix, 16-bit digits); tmp has n entries. */
static void radix_sort(uint64_t *a, uint64_t *tmp, size_t n, int bits)
{
    size_t *cnt = malloc(65536 * sizeof *cnt);
    if (!cnt) return;
    for (int shift = 0; shift < bits; shift += 16) {
        memset(cnt, 0, 65536 * sizeof *cnt);
        for (size_t i = 0; i < n; i++) cnt[(a[i] >> shift) & 0xffff]++;
        size_t sum = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) tmp[cnt[(a[i] >> shift) & 0xffff]++] = a[i];
        uint64_t *sw = a;
        a = tmp;
        tmp = sw;
    }
    free(cnt);
    /* an odd number of passes leaves the result in tmp: bits is 32 or 64, so never */
}

MdStatus md_unique(const MdSelection *s, double **values, int64_t **counts, size_t *nout, MdCtx *ctx)
{
    MdStatus st = check_selection(s, ctx->err);
    if (st) return st;
    MdDtype t = s->v->dtype;
    *values = NULL;
    *counts = NULL;
    *nout = 0;
    uint64_t *keys = NULL, *tab = NULL;
    size_t m = 0, n = md_volume_count(s->v);
    if (small_keys(t)) {
        if ((st = count_table(s, &tab, ctx))) return st;
        size_t nk = (size_t)1 << key_bits(t);
        for (size_t k = 0; k < nk; k++) m += tab[k] != 0;
    } else {
        size_t nchunks = (n + CHUNK - 1) / CHUNK, *got = malloc(nchunks * sizeof *got);
        keys = malloc(2 * n * sizeof *keys);
        if (!keys || !got) {
            free(keys);
            free(got);
            return md_error(ctx->err, MD_ENOMEM, "unique: out of memory for %zu keys", 2 * n);
        }
        int fail = MD_OK;
#pragma omp parallel for schedule(static) if (md_par_worth((double)n))
        for (size_t c = 0; c < nchunks; c++) {
            if (md_par_poll_cancel(&fail)) continue;
            size_t a = c * CHUNK, len = a + CHUNK < n ? CHUNK : n - a;
            got[c] = load_keys(s, a, len, keys + a);
        }
        if (fail) {
            free(keys);
            free(got);
            return md_par_status(fail, "unique", ctx->err);
        }
        size_t k = 0;
        for (size_t c = 0; c < nchunks; c++) {
            memmove(keys + k, keys + c * CHUNK, got[c] * sizeof *keys);
            k += got[c];
        }
        free(got);
        radix_sort(keys, keys + n, k, key_bits(t));
        n = k;
        for (size_t i = 0; i < n; i++) m += i == 0 || keys[i] != keys[i - 1];
    }
    *values = malloc((m ? m : 1) * sizeof **values);
    *counts = malloc((m ? m : 1) * sizeof **counts);
    if (!*values || !*counts) {
        free(*values);
        free(*counts);
        free(keys);
        free(tab);
        *values = NULL;
        *counts = NULL;
        return md_error(ctx->err, MD_ENOMEM, "unique: out of memory for %zu values", m);
    }
    size_t j = 0;
    if (tab) {
        size_t nk = (size_t)1 << key_bits(t);
        for (size_t k = 0; k < nk; k++)
            if (tab[k]) {
                (*values)[j] = key_value(k, t);
                (*counts)[j++] = (int64_t)tab[k];
            }
    } else {
        for (size_t i = 0; i < n; i++) {
            if (i == 0 || keys[i] != keys[i - 1]) {
                (*values)[j] = key_value(keys[i], t);
                (*counts)[j++] = 0;
            }
            (*counts)[j - 1]++;
        }
    }
    free(keys);
    free(tab);
    *nout = m;
    return MD_OK;
}
