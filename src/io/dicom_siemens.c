/* Siemens mosaics and the CSA header (see dicom_siemens.h). The CSA format
 * ("SV10", or the older headerless one) is a list of named entries, each a
 * list of items holding text; only numbers are read from it here. */
#include "dicom_siemens.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TAG MD_DCM_TAG

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The CSA image header element: (0029,xx10) of the block whose private
 * creator is "SIEMENS CSA HEADER". -1 when absent. */
static int32_t csa_element(const MdDcm *d)
{
    char creator[68];
    for (uint32_t blk = 0x10; blk <= 0xFF; blk++) {
        md_dcm_str(d, -1, TAG(0x0029, blk), creator, sizeof creator);
        if (!strcmp(creator, "SIEMENS CSA HEADER")) return md_dcm_find(d, -1, TAG(0x0029, blk << 8 | 0x10));
    }
    return -1;
}

/* Parses numbers from the items of the entry at p (nitems items follow). */
static int csa_items(const uint8_t *p, const uint8_t *end, uint32_t nitems, double *out, int n,
                     const uint8_t **next)
{
    int got = 0;
    for (uint32_t i = 0; i < nitems; i++) {
        if (end - p < 16) return -1;
        uint32_t len = le32(p + 4);
        p += 16;
        size_t padded = ((size_t)len + 3) / 4 * 4;
        if ((size_t)(end - p) < padded) return -1;
        if (got < n && len > 0 && len < 64) {
            char tmp[64];
            memcpy(tmp, p, len);
            tmp[len] = 0;
            char *e;
            double x = strtod(tmp, &e);
            if (e != tmp) out[got++] = x;
        }
        p += padded;
    }
    *next = p;
    return got;
}

int md_dcm_csa_numbers(const MdDcm *d, const char *name, double *out, int n)
{
    int32_t el = csa_element(d);
    if (el < 0 || d->el[el].len == MD_DCM_UNDEF || d->el[el].len < 16) return 0;
    const uint8_t *p = d->data + d->el[el].off, *end = p + d->el[el].len;
    if (!memcmp(p, "SV10", 4)) p += 8;
    uint32_t ntags = le32(p);
    p += 8;
    if (ntags > 1000) return 0;
    for (uint32_t t = 0; t < ntags; t++) {
        if (end - p < 84) return 0;
        char tag[65];
        memcpy(tag, p, 64);
        tag[64] = 0;
        uint32_t nitems = le32(p + 76);
        if (nitems > 1000) return 0;
        const uint8_t *next;
        int got = csa_items(p + 84, end, nitems, out, n, &next);
        if (got < 0) return 0;
        if (!strcmp(tag, name)) return got;
        p = next;
    }
    return 0;
}

/* Copies tile k of the mosaic src (cols x rows, grid x grid tiles) to dst. */
static void copy_tile(const char *src, char *dst, int k, int grid, int64_t cols, int64_t tr,
                      int64_t tc, size_t es)
{
    for (int64_t y = 0; y < tr; y++) {
        size_t from = (size_t)((k / grid) * tr + y) * (size_t)cols + (size_t)((k % grid) * tc);
        memcpy(dst + (size_t)(y * tc) * es, src + from * es, (size_t)tc * es);
    }
}

MdStatus md_dcm_unmosaic(const MdDcm *d, MdVolume *v, MdGeom *g, double pos0[3], MdError *err)
{
    int n = (int)md_dcm_num(d, -1, TAG(0x0019, 0x100A), 0);
    int grid = (int)ceil(sqrt((double)n));
    int64_t rows = v->dim[1], cols = v->dim[0];
    if (n < 1 || grid < 1 || rows % grid || cols % grid)
        return md_error(err, MD_EFORMAT, "mosaic of %d images does not tile a %lldx%lld image", n,
                        (long long)cols, (long long)rows);
    int64_t tr = rows / grid, tc = cols / grid;
    const double *o = g->iop;
    double nrm[3] = {o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]};
    double sn[3];
    int reverse = md_dcm_csa_numbers(d, "SliceNormalVector", sn, 3) == 3 &&
                  sn[0] * nrm[0] + sn[1] * nrm[1] + sn[2] * nrm[2] < 0;
    size_t es = md_dtype_size(v->dtype), tile = (size_t)(tr * tc) * es;
    MdBuffer *nb;
    MdStatus st = md_buffer_new(&nb, tile * (size_t)n, 0, err);
    if (st != MD_OK) return st;
    for (int k = 0; k < n; k++) /* descending acquisitions are stored ascending */
        copy_tile(md_volume_data(v), (char *)nb->data + (size_t)(reverse ? n - 1 - k : k) * tile,
                  k, grid, cols, tr, tc, es);
    md_buffer_release(v->buf);
    v->buf = nb;
    v->offset = 0;
    v->dim[0] = tc, v->dim[1] = tr, v->dim[2] = n;
    double last = reverse ? (double)(n - 1) * (g->dz > 0 ? g->dz : 1) : 0;
    for (int i = 0; i < 3; i++)
        pos0[i] += o[i] * g->ps[1] * (double)(cols - tc) / 2 +
                   o[3 + i] * g->ps[0] * (double)(rows - tr) / 2 - last * nrm[i];
    return MD_OK;
}
