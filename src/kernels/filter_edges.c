/* Sums and magnitudes of separable filter results: one temporary volume of
 * the output type, filled by each term in turn and added into the output
 * (squared for magnitudes), as scipy and scikit-image accumulate them. */
#include "filter_edges.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"

/* out (op)= t over n voxels of float type dt; first: out = t (squared). */
static void accumulate(void *out, const void *t, size_t n, MdDtype dt, MdCombine how, int first)
{
#define ACC(T)                                                                    \
    {                                                                             \
        T *o = out;                                                               \
        const T *x = t;                                                           \
        _Pragma("omp parallel for schedule(static) if (md_par_worth((double)n))") \
        for (size_t i = 0; i < n; i++) {                                          \
            T v = how == MD_COMBINE_HYPOT ? x[i] * x[i] : x[i];                   \
            o[i] = first ? v : o[i] + v;                                          \
        }                                                                         \
    }
    if (dt == MD_FLOAT32) ACC(float) else ACC(double)
#undef ACC
}

static void finish(void *out, size_t n, MdDtype dt, MdCombine how, double scale)
{
#define FIN(T, SQRT)                                                              \
    {                                                                             \
        T *o = out, s = (T)scale;                                                 \
        _Pragma("omp parallel for schedule(static) if (md_par_worth((double)n))") \
        for (size_t i = 0; i < n; i++) {                                          \
            T v = how == MD_COMBINE_HYPOT ? SQRT(o[i]) : o[i];                    \
            o[i] = scale == 1 ? v : v * s;                                        \
        }                                                                         \
    }
    if (dt == MD_FLOAT32) FIN(float, sqrtf) else FIN(double, sqrt)
#undef FIN
}

static MdStatus temp_like(const MdVolume *out, MdVolume *t, MdError *err)
{
    *t = *out;
    t->buf = NULL;
    t->offset = 0;
    return md_volume_alloc(t, 0, 0, err);
}

MdStatus md_filter_combined(const MdVolume *in, const MdKernel1 (*sets)[3], int nsets, MdCombine how, double scale,
                            MdBorder mode, double cval, MdVolume *out, MdCtx *ctx)
{
    if (out->dtype != MD_FLOAT32 && out->dtype != MD_FLOAT64)
        return md_error(ctx->err, MD_EINVAL, "filter output must be float32 or float64");
    if (nsets == 1 && how == MD_COMBINE_SUM && scale == 1) return md_filter_separable(in, sets[0], mode, cval, out, ctx);
    MdVolume t;
    MdStatus st = temp_like(out, &t, ctx->err);
    if (st) return st;
    size_t n = md_volume_count(out);
    for (int s = 0; s < nsets && !st; s++) {
        st = md_filter_separable(in, sets[s], mode, cval, &t, ctx);
        if (!st) accumulate(md_volume_data(out), md_volume_data(&t), n, out->dtype, how, s == 0);
    }
    if (!st) finish(md_volume_data(out), n, out->dtype, how, scale);
    md_volume_release(&t);
    return st;
}

MdStatus md_filter_roberts(const MdVolume *in, MdVolume *out, MdCtx *ctx)
{
    if (out->dtype != MD_FLOAT32 && out->dtype != MD_FLOAT64)
        return md_error(ctx->err, MD_EINVAL, "filter output must be float32 or float64");
    /* skimage convolves with [[1, 0], [0, -1]] and [[0, 1], [-1, 0]] (rows y):
     * scipy flips an even kernel and moves its centre to index 0 */
    static const double pos[4] = {-1, 0, 0, 1}, neg[4] = {0, -1, 1, 0};
    const int kd[3] = {2, 2, 1}, ctr[3] = {0, 0, 0};
    MdVolume t;
    MdStatus st = temp_like(out, &t, ctx->err);
    if (st) return st;
    size_t n = md_volume_count(out);
    st = md_filter_correlate(in, pos, kd, ctr, MD_BORDER_REFLECT, 0, &t, ctx);
    if (!st) accumulate(md_volume_data(out), md_volume_data(&t), n, out->dtype, MD_COMBINE_HYPOT, 1);
    if (!st) st = md_filter_correlate(in, neg, kd, ctr, MD_BORDER_REFLECT, 0, &t, ctx);
    if (!st) accumulate(md_volume_data(out), md_volume_data(&t), n, out->dtype, MD_COMBINE_HYPOT, 0);
    if (!st) finish(md_volume_data(out), n, out->dtype, MD_COMBINE_HYPOT, 1 / sqrt(2.0));
    md_volume_release(&t);
    return st;
}
