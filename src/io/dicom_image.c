/* What every DICOM volume goes through after decoding: v.meta from the
 * header, stored values to Hounsfield units (int16 when exact, float32
 * otherwise, padding to air), and LPS geometry from ImageOrientationPatient,
 * PixelSpacing and the slice positions. Files and folders: dicom_read.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/ctx.h"
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
    if (r->slope == 0) r->slope = 1; /* a zero slope is a writer's mistake, as NIfTI's scl_slope 0 */
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

static int is_pad(const MdRescale *r, double x, int keep)
{
    if (keep || !r->is_ct) return 0;
    return (r->has_pad && x >= r->pad_lo && x <= r->pad_hi) || x == -2000.0;
}

static int integral(double x)
{
    return fabs(x - nearbyint(x)) < 1e-6;
}

/* Range of rescaled values of slice k (padding excluded), to choose int16. */
static void slice_range(const MdVolume *v, size_t k, const MdRescale *r, int keep, double *lo, double *hi)
{
    size_t n = (size_t)(v->dim[0] * v->dim[1]);
    const char *p = (const char *)md_volume_data(v) + k * n * md_dtype_size(v->dtype);
    double mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x = md_load(p, v->dtype, i);
        if (is_pad(r, x, keep)) continue;
        mn = x < mn ? x : mn;
        mx = x > mx ? x : mx;
    }
    double a = mn * r->slope + r->inter, b = mx * r->slope + r->inter;
    *lo = mn > mx ? 0 : fmin(a, b);
    *hi = mn > mx ? 0 : fmax(a, b);
}

/* Converts slice k from the stored dtype at src to dst (int16 or float32). */
static void convert_slice(const void *src, MdDtype st, void *dst, MdDtype dt, size_t n,
                          const MdRescale *r, int keep)
{
    double pad_to = AIR_HU;
    if (dt == MD_INT16) { /* exact integer arithmetic, range checked by the caller */
        int64_t s = (int64_t)nearbyint(r->slope), c = (int64_t)nearbyint(r->inter);
        int16_t *o = dst;
#define LOOP(T)                                                                       \
    for (size_t i = 0; i < n; i++) {                                                  \
        int64_t x = (int64_t)((const T *)src)[i];                                      \
        o[i] = is_pad(r, (double)x, keep) ? (int16_t)pad_to : (int16_t)(x * s + c);    \
    }
        switch (st) {
        case MD_UINT8: LOOP(uint8_t) break;
        case MD_INT8: LOOP(int8_t) break;
        case MD_UINT16: LOOP(uint16_t) break;
        case MD_INT16: LOOP(int16_t) break;
        case MD_UINT32: LOOP(uint32_t) break;
        default: LOOP(int32_t) break;
        }
#undef LOOP
        return;
    }
    float *o = dst;
    for (size_t i = 0; i < n; i++) {
        double x = md_load(src, st, i);
        o[i] = (float)(is_pad(r, x, keep) ? pad_to : x * r->slope + r->inter);
    }
}

MdStatus md_dcm_convert(MdVolume *v, const MdRescale *rs, const MdDicomOpts *opts, MdMeta *meta,
                        MdError *err)
{
    size_t nz = (size_t)v->dim[2], n = (size_t)(v->dim[0] * v->dim[1]);
    int keep = opts->keep_padding, exact = 1, vary = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < nz; k++) {
        double a, b;
        slice_range(v, k, &rs[k], keep, &a, &b);
        lo = fmin(lo, a), hi = fmax(hi, b);
        exact &= integral(rs[k].slope) && integral(rs[k].inter);
        vary |= rs[k].slope != rs[0].slope || rs[k].inter != rs[0].inter;
    }
    exact &= lo >= -32768 && hi <= 32767;
    MdDtype dt = opts->dtype >= 0 ? (MdDtype)opts->dtype : exact ? MD_INT16 : MD_FLOAT32;
    if (dt == MD_INT16 && !exact)
        return md_error(err, MD_EINVAL, "dtype int16 cannot hold these values exactly (range %g..%g, "
                        "slopes/intercepts%s integral); use dtype=\"float32\"", lo, hi,
                        exact ? "" : " not all");
    MdStatus st = MD_OK;
    if (meta && vary) st = md_meta_set(meta, "rescale_varies", "true");
    size_t es = md_dtype_size(v->dtype);
    if (st == MD_OK && dt == MD_INT16 && es == 2) { /* same element size: in place */
        for (size_t k = 0; k < nz; k++) {
            char *p = (char *)md_volume_data(v) + k * n * 2;
            convert_slice(p, v->dtype, p, MD_INT16, n, &rs[k], keep);
        }
        v->dtype = MD_INT16;
        return MD_OK;
    }
    MdBuffer *nb = NULL;
    size_t bytes;
    if (st == MD_OK) st = md_checked_mul(&bytes, n * nz, md_dtype_size(dt), err);
    if (st == MD_OK) st = md_buffer_new(&nb, bytes, 0, err);
    if (st != MD_OK) return st;
    for (size_t k = 0; k < nz; k++)
        convert_slice((const char *)md_volume_data(v) + k * n * es, v->dtype,
                      (char *)nb->data + k * n * md_dtype_size(dt), dt, n, &rs[k], keep);
    md_buffer_release(v->buf);
    v->buf = nb;
    v->offset = 0;
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
    cross3(r, c, n);
    double nl = sqrt(dot3(n, n));
    if (nl < 1e-6) return md_error(err, MD_EFORMAT, "ImageOrientationPatient rows and columns are parallel");
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
    double along = dot3(d, n), tilt = acos(fmin(1.0, fabs(along) / (len > 0 ? len : 1))) * 180 / M_PI;
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
