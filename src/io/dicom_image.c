/* What every DICOM volume goes through after decoding: v.meta from the
 * header, stored values to Hounsfield units (int16 when exact, float32
 * otherwise, padding to air), and LPS geometry from ImageOrientationPatient,
 * PixelSpacing and the slice positions. Files and folders: dicom_read.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "../core/ctx.h"
#include "../core/par.h"
#include "dicom.h"
#include "dicom_parse.h"
#include "dicom_pixels.h"
#include "dicom_image.h"

#define TAG MD_DCM_TAG
#define TILT_MIN_DEG 0.05 /* below this the stack is taken as untilted (position rounding) */
#define AIR_HU (-1024.0)

/* ---- metadata ----------------------------------------------------------- */

MdStatus md_dcm_fill_meta(const MdDcm *d, MdMeta *meta, MdError *err)
{
    char val[1024], key[16];
    for (size_t i = 0; i < d->n; i = (size_t)d->el[i].end) {
        const MdDcmElem *e = &d->el[i];
        if (e->tag == MD_DCM_PIXEL_DATA || (e->tag & 0xFFFF) == 0) continue;
        if (e->vr[0] == 'S' && e->vr[1] == 'Q')
            snprintf(val, sizeof val, "<SQ, %d items>", md_dcm_nitems(d, (int32_t)i));
        else
            md_dcm_text(d, (int32_t)i, val, sizeof val);
        snprintf(key, sizeof key, "%04X,%04X", e->tag >> 16, e->tag & 0xFFFF);
        const char *kw = md_dcm_keyword(e->tag, NULL);
        MdStatus st = md_meta_set(meta, key, val);
        if (st == MD_OK && kw) st = md_meta_set(meta, kw, val);
        if (st != MD_OK) return md_error(err, st, "out of memory for metadata");
    }
    return MD_OK;
}

MdStatus md_dicom_header(const char *path, MdMeta *meta, MdError *err)
{
    MdDcm d;
    uint8_t *buf;
    MdStatus st = md_dcm_load(path, 1, &d, &buf, err);
    if (st == MD_OK) {
        st = md_dcm_fill_meta(&d, meta, err);
        md_dcm_free(&d);
        free(buf);
    }
    if (st != MD_OK) md_error_prefix(err, path);
    return st;
}

/* ---- rescaling ---------------------------------------------------------- */

/* Slope, intercept and padding of frame f (per-frame functional groups of
 * enhanced objects override the top level). RT dose is scaled to Gy. */
void md_dcm_rescale(const MdDcm *d, const MdDcmImage *im, int frame, MdRescale *r)
{
    r->slope = md_dcm_num(d, -1, TAG(0x0028, 0x1053), 1);
    r->inter = md_dcm_num(d, -1, TAG(0x0028, 0x1052), 0);
    int32_t groups[2] = {md_dcm_item(d, md_dcm_find(d, -1, TAG(0x5200, 0x9230)), frame),
                         md_dcm_item(d, md_dcm_find(d, -1, TAG(0x5200, 0x9229)), 0)};
    for (int g = 0; g < 2; g++) {
        int32_t pv = md_dcm_item(d, md_dcm_find(d, groups[g], TAG(0x0028, 0x9145)), 0);
        if (groups[g] < 0 || pv < 0) continue;
        r->slope = md_dcm_num(d, pv, TAG(0x0028, 0x1053), r->slope);
        r->inter = md_dcm_num(d, pv, TAG(0x0028, 0x1052), r->inter);
        break;
    }
    if (r->slope == 0)
        r->slope = 1; /* a zero slope is a writer's mistake, as NIfTI's scl_slope 0 */
    char modality[20];
    md_dcm_str(d, -1, TAG(0x0008, 0x0060), modality, sizeof modality);
    if (!strcmp(modality, "RTDOSE")) r->slope *= md_dcm_num(d, -1, TAG(0x3004, 0x000E), 1);
    r->is_ct = !strcmp(modality, "CT");
    /* PixelPaddingValue has the VR of the pixels: an implicit file read as US */
    int32_t e = md_dcm_find(d, -1, TAG(0x0028, 0x0120));
    double pv[1], lim[1];
    r->has_pad = md_dcm_numbers(d, e, pv, 1) == 1;
    if (r->has_pad) {
        int32_t el = md_dcm_find(d, -1, TAG(0x0028, 0x0121));
        if (md_dcm_numbers(d, el, lim, 1) != 1) lim[0] = pv[0];
        for (int k = 0; k < 2; k++) {
            double *x = k ? lim : pv;
            if (im->is_signed && im->bits_alloc == 16 && *x > 32767) *x -= 65536;
        }
        r->pad_lo = fmin(pv[0], lim[0]);
        r->pad_hi = fmax(pv[0], lim[0]);
    }
}

/* Padding bounds of a slice in stored units: lo > hi when nothing is
 * padding. -2000 (outside the scanner circle) counts as padding too.
 * value: what padding becomes (rescaled units). mode (MdDicomOpts's
 * keep_padding): MD_PAD_AIR, CT padding to -1024 HU; MD_PAD_KEEP, nothing
 * replaced; MD_PAD_INTERCEPT, the DSB2017 tutorial's get_pixels_hu: stored
 * -2000 set to 0 before the rescale, so it becomes the intercept, whatever
 * the modality, PixelPaddingValue ignored. */
typedef struct Pad {
    int on;
    int64_t lo, hi;
    double value;
} Pad;

static Pad pad_of(const MdRescale *r, int mode)
{
    if (mode == MD_PAD_INTERCEPT) return (Pad){1, 1, 0, r->inter};
    Pad p = {r->is_ct && mode == MD_PAD_AIR, 1, 0, AIR_HU};
    if (r->has_pad) p.lo = (int64_t)ceil(r->pad_lo), p.hi = (int64_t)floor(r->pad_hi);
    return p;
}

#define IS_PAD(p, x) ((p).on && (((x) >= (p).lo && (x) <= (p).hi) || (x) == -2000))

/* One typed loop per stored dtype (all integer): BODY sees int64_t x. */
#define STORED_SWITCH(st, src, n, BODY)                                                            \
    switch (st) {                                                                                  \
    case MD_UINT8:                                                                                 \
        for (size_t i = 0; i < (n); i++) {                                                         \
            int64_t x = ((const uint8_t *)(src))[i];                                               \
            BODY                                                                                   \
        }                                                                                          \
        break;                                                                                     \
    case MD_INT8:                                                                                  \
        for (size_t i = 0; i < (n); i++) {                                                         \
            int64_t x = ((const int8_t *)(src))[i];                                                \
            BODY                                                                                   \
        }                                                                                          \
        break;                                                                                     \
    case MD_UINT16:                                                                                \
        for (size_t i = 0; i < (n); i++) {                                                         \
            int64_t x = ((const uint16_t *)(src))[i];                                              \
            BODY                                                                                   \
        }                                                                                          \
        break;                                                                                     \
    case MD_INT16:                                                                                 \
        for (size_t i = 0; i < (n); i++) {                                                         \
            int64_t x = ((const int16_t *)(src))[i];                                               \
            BODY                                                                                   \
        }                                                                                          \
        break;                                                                                     \
    case MD_UINT32:                                                                                \
        for (size_t i = 0; i < (n); i++) {                                                         \
            int64_t x = ((const uint32_t *)(src))[i];                                              \
            BODY                                                                                   \
        }                                                                                          \
        break;                                                                                     \
    default:                                                                                       \
        for (size_t i = 0; i < (n); i++) {                                                         \
            int64_t x = ((const int32_t *)(src))[i];                                               \
            BODY                                                                                   \
        }                                                                                          \
        break;                                                                                     \
    }

static int integral(double x)
{
    return fabs(x - nearbyint(x)) < 1e-6;
}

/* Min and max of n 16-bit stored values, padding excluded (int32
 * arithmetic and no early exit, so the compiler vectorises it). */
#define RANGE16(T)                                                                                 \
    static void range_##T(const T *q, size_t n, Pad pad, int64_t *mn, int64_t *mx)                 \
    {                                                                                              \
        int32_t lo = INT32_MAX, hi = INT32_MIN;                                                    \
        int32_t plo = (int32_t)(pad.lo < INT32_MIN   ? INT32_MIN                                   \
                                : pad.lo > INT32_MAX ? INT32_MAX                                   \
                                                     : pad.lo);                                    \
        int32_t phi = (int32_t)(pad.hi < INT32_MIN   ? INT32_MIN                                   \
                                : pad.hi > INT32_MAX ? INT32_MAX                                   \
                                                     : pad.hi);                                    \
        if (!pad.on) {                                                                             \
            _Pragma("omp simd reduction(min : lo) reduction(max : hi)") for (size_t i = 0; i < n;  \
                                                                             i++)                  \
            {                                                                                      \
                int32_t x = q[i];                                                                  \
                lo = x < lo ? x : lo;                                                              \
                hi = x > hi ? x : hi;                                                              \
            }                                                                                      \
        } else {                                                                                   \
            _Pragma("omp simd reduction(min : lo) reduction(max : hi)") for (size_t i = 0; i < n;  \
                                                                             i++)                  \
            {                                                                                      \
                int32_t x = q[i];                                                                  \
                int skip = (x >= plo && x <= phi) | (x == -2000);                                  \
                int32_t y = skip ? lo : x, z = skip ? hi : x;                                      \
                lo = y < lo ? y : lo;                                                              \
                hi = z > hi ? z : hi;                                                              \
            }                                                                                      \
        }                                                                                          \
        *mn = lo, *mx = hi;                                                                        \
    }
RANGE16(int16_t)
RANGE16(uint16_t)
#undef RANGE16

/* Range of rescaled values of slice k (padding excluded), to choose int16. */
static void slice_range(const MdVolume *v, size_t k, const MdRescale *r, int keep, double *lo,
                        double *hi)
{
    size_t n = (size_t)(v->dim[0] * v->dim[1]);
    const char *p = (const char *)md_volume_data(v) + k * n * md_dtype_size(v->dtype);
    Pad pad = pad_of(r, keep);
    int64_t mn = INT64_MAX, mx = INT64_MIN;
    if (v->dtype == MD_INT16) {
        range_int16_t((const int16_t *)p, n, pad, &mn, &mx);
    } else if (v->dtype == MD_UINT16) {
        range_uint16_t((const uint16_t *)p, n, pad, &mn, &mx);
    } else {
        STORED_SWITCH(v->dtype, p, n, {
            if (IS_PAD(pad, x)) continue;
            mn = x < mn ? x : mn;
            mx = x > mx ? x : mx;
        })
    }
    if (mn == INT32_MAX && mx == INT32_MIN) mn = INT64_MAX, mx = INT64_MIN; /* all padding */
    double a = (double)mn * r->slope + r->inter, b = (double)mx * r->slope + r->inter;
    *lo = mn > mx ? 0 : fmin(a, b);
    *hi = mn > mx ? 0 : fmax(a, b);
    if (keep == MD_PAD_INTERCEPT) /* padding may become the intercept */
        *lo = fmin(*lo, r->inter), *hi = fmax(*hi, r->inter);
}

/* Converts a slice from the stored dtype at src to dst (int16 or float32);
 * src == dst is allowed when both have 2-byte elements. */
static void convert_slice(const void *src, MdDtype st, void *dst, MdDtype dt, size_t n,
                          const MdRescale *r, int keep, int exact)
{
    Pad pad = pad_of(r, keep);
    if (dt == MD_INT16 && !exact) { /* forced: rounded half away from zero, saturated */
        int16_t *o = dst;
        STORED_SWITCH(st, src, n, {
            o[i] = (int16_t)md_saturate(IS_PAD(pad, x) ? pad.value : (double)x * r->slope + r->inter,
                                        MD_INT16);
        })
        return;
    }
    if (dt == MD_INT16) { /* exact integer arithmetic, range checked by the caller */
        int64_t s = (int64_t)nearbyint(r->slope), c = (int64_t)nearbyint(r->inter);
        int16_t *o = dst;
        if (st == MD_INT16 || st == MD_UINT16) { /* the common CT case, in int32 */
            int32_t s32 = (int32_t)s, c32 = (int32_t)c, plo = (int32_t)fmax(pad.lo, -65536.0);
            int32_t phi = (int32_t)fmin(pad.hi, 65536.0), on = pad.on;
            int32_t pv = (int32_t)nearbyint(pad.value);
#define CONV16(T)                                                                                  \
    _Pragma("omp simd") for (size_t i = 0; i < n; i++)                                             \
    {                                                                                              \
        int32_t x = ((const T *)src)[i];                                                           \
        int p = on & ((x >= plo && x <= phi) | (x == -2000));                                      \
        o[i] = (int16_t)(p ? pv : x * s32 + c32);                                                  \
    }
            if (st == MD_INT16)
                CONV16(int16_t)
            else
                CONV16(uint16_t)
#undef CONV16
            return;
        }
        STORED_SWITCH(st, src, n,
                      { o[i] = IS_PAD(pad, x) ? (int16_t)nearbyint(pad.value) : (int16_t)(x * s + c); })
        return;
    }
    float *o = dst;
    STORED_SWITCH(st, src, n, {
        o[i] = (float)(IS_PAD(pad, x) ? pad.value : (double)x * r->slope + r->inter);
    })
}

int md_dcm_convert_early(MdVolume *v, size_t k, const MdRescale *r, const MdDicomOpts *opts)
{
    if (opts->raw || opts->dtype == MD_FLOAT32 || md_dtype_size(v->dtype) != 2 ||
        !integral(r->slope) || !integral(r->inter))
        return 0;
    double lo, hi;
    slice_range(v, k, r, opts->keep_padding, &lo, &hi);
    if (lo < -32768 || hi > 32767) return 0;
    size_t n = (size_t)(v->dim[0] * v->dim[1]);
    char *p = (char *)md_volume_data(v) + k * n * 2;
    convert_slice(p, v->dtype, p, MD_INT16, n, r, opts->keep_padding, 1);
    return 1;
}

/* Copies slice k already converted to int16 HU into dst of type dt. */
static void copy_done(const void *src, void *dst, MdDtype dt, size_t n)
{
    const int16_t *q = src;
    if (dt == MD_FLOAT32)
        for (size_t i = 0; i < n; i++) ((float *)dst)[i] = (float)q[i];
    else if (dst != src)
        memcpy(dst, src, n * 2);
}

MdStatus md_dcm_convert(MdVolume *v, const MdRescale *rs, const uint8_t *done,
                        const MdDicomOpts *opts, MdMeta *meta, MdError *err)
{
    size_t nz = (size_t)v->dim[2], n = (size_t)(v->dim[0] * v->dim[1]);
    int keep = opts->keep_padding, exact = 1, vary = 0;
    double lo = INFINITY, hi = -INFINITY;
    double *los = malloc(nz * 2 * sizeof *los);
    if (!los) return md_error(err, MD_ENOMEM, "out of memory");
        /* per-slice ranges in parallel, combined in slice order; converted
         * slices are exact int16 already */
#pragma omp parallel for schedule(static) num_threads(md_threads()) if (md_par_worth((double)(nz * n)))
    for (size_t k = 0; k < nz; k++) {
        los[2 * k] = 0, los[2 * k + 1] = 0;
        if (!done || !done[k]) slice_range(v, k, &rs[k], keep, &los[2 * k], &los[2 * k + 1]);
    }
    for (size_t k = 0; k < nz; k++) {
        lo = fmin(lo, los[2 * k]), hi = fmax(hi, los[2 * k + 1]);
        exact &= integral(rs[k].slope) && integral(rs[k].inter);
        vary |= rs[k].slope != rs[0].slope || rs[k].inter != rs[0].inter;
    }
    free(los);
    exact &= lo >= -32768 && hi <= 32767;
    MdDtype dt = opts->dtype >= 0 ? (MdDtype)opts->dtype : exact ? MD_INT16 : MD_FLOAT32;
    if (meta && dt == MD_INT16 && !exact && md_meta_set(meta, "rescale_rounded", "true") != MD_OK)
        return md_error(err, MD_ENOMEM, "out of memory for metadata");
    if (meta && vary && md_meta_set(meta, "rescale_varies", "true") != MD_OK)
        return md_error(err, MD_ENOMEM, "out of memory for metadata");
    size_t es = md_dtype_size(v->dtype), os = md_dtype_size(dt);
    MdBuffer *nb = NULL;
    if (!(dt == MD_INT16 && es == 2)) { /* a different element size needs a new buffer */
        size_t bytes;
        MdStatus st = md_checked_mul(&bytes, n * nz, os, err);
        if (st == MD_OK) st = md_buffer_new(&nb, bytes, 0, err);
        if (st != MD_OK) return st;
    }
    char *src = md_volume_data(v), *dst = nb ? nb->data : src;
#pragma omp parallel for schedule(static) num_threads(md_threads()) if (md_par_worth((double)(nz * n)))
    for (size_t k = 0; k < nz; k++) {
        if (done && done[k])
            copy_done(src + k * n * es, dst + k * n * os, dt, n);
        else
            convert_slice(src + k * n * es, v->dtype, dst + k * n * os, dt, n, &rs[k], keep, exact);
    }
    if (nb) {
        md_buffer_release(v->buf);
        v->buf = nb;
        v->offset = 0;
    }
    v->dtype = dt;
    return MD_OK;
}

/* ---- geometry ----------------------------------------------------------- */

static void cross3(const double a[3], const double b[3], double c[3])
{
    c[0] = a[1] * b[2] - a[2] * b[1];
    c[1] = a[2] * b[0] - a[0] * b[2];
    c[2] = a[0] * b[1] - a[1] * b[0];
}

static double dot3(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

MdStatus md_dcm_geometry(MdVolume *v, const MdGeom *g, MdMeta *meta, MdError *err)
{
    double r[3] = {g->iop[0], g->iop[1], g->iop[2]}, c[3] = {g->iop[3], g->iop[4], g->iop[5]}, n[3];
    double rl = sqrt(dot3(r, r)), cl = sqrt(dot3(c, c));
    if (rl < 1e-6 || cl < 1e-6)
        return md_error(err, MD_EFORMAT, "ImageOrientationPatient has a zero direction");
    for (int i = 0; i < 3; i++) /* cosines written with few digits: unit vectors, as dcm2niix */
        r[i] /= rl, c[i] /= cl;
    cross3(r, c, n);
    double nl = sqrt(dot3(n, n));
    if (nl < 1e-6)
        return md_error(err, MD_EFORMAT, "ImageOrientationPatient rows and columns are parallel");
    for (int i = 0; i < 3; i++) n[i] /= nl;
    v->spacing[0] = g->ps[1]; /* PixelSpacing is (row spacing, column spacing) = (y, x) */
    v->spacing[1] = g->ps[0];
    v->spacing[2] = g->dz > 0 ? g->dz : 1;
    for (int i = 0; i < 3; i++) {
        v->direction[3 * i + 0] = r[i];
        v->direction[3 * i + 1] = c[i];
        v->direction[3 * i + 2] = n[i];
        v->origin[i] = g->npos ? g->pos[0][i] : 0;
    }
    int np = g->npos;
    if (np < 2) return MD_OK;
    const double *p0 = g->pos[0], *p1 = g->pos[np - 1];
    double d[3] = {p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]}, len = sqrt(dot3(d, d));
    double along = dot3(d, n),
           tilt = acos(fmin(1.0, fabs(along) / (len > 0 ? len : 1))) * 180 / M_PI;
    double first = dot3(g->pos[1], n) - dot3(p0, n);
    MdStatus st = MD_OK;
    if (len <= 0) return md_error(err, MD_EFORMAT, "all slices are at one position");
    if (tilt > TILT_MIN_DEG) { /* keep the exact, sheared grid: axis 2 follows the slice origins */
        for (int i = 0; i < 3; i++) v->direction[3 * i + 2] = d[i] / len;
        v->spacing[2] = len / (np - 1);
        if (meta) st = md_meta_setf(meta, "gantry_tilt_deg", "%.4f", tilt);
    } else {
        v->spacing[2] = g->nonuniform ? first : along / (np - 1);
    }
    if (st == MD_OK && meta) st = md_meta_setf(meta, "slice_spacing_mm", "%.6g", v->spacing[2]);
    if (st != MD_OK) return md_error(err, st, "out of memory for metadata");
    return MD_OK;
}
