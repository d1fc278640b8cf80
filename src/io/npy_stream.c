/* Piecewise .npy writer. The header follows np.save's layout for format
 * version 1.0 (magic, version, little-endian header length, the dict padded
 * with spaces so that the data starts at a multiple of 64, then '\n'). */
#include "npy_stream.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *descr_of(MdDtype t)
{
    static const char *const d[] = {"|u1", "|i1", "<u2", "<i2", "<u4", "<i4", "<f4", "<f8"};
    return (unsigned)t < sizeof d / sizeof d[0] ? d[t] : NULL;
}

/* The header: shape is the dims reversed (x fastest = last numpy axis). */
static MdStatus write_header(MdNpyStream *s, MdError *err)
{
    const MdVolume *v = &s->shape;
    char tuple[160] = "(";
    for (int i = v->ndim - 1; i >= 0; i--) {
        size_t k = strlen(tuple);
        snprintf(tuple + k, sizeof tuple - k, "%lld%s", (long long)v->dim[i],
                 v->ndim == 1 ? ",)" : i ? ", " : ")");
    }
    char text[320];
    int k = snprintf(text, sizeof text, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                     descr_of(v->dtype), tuple);
    size_t total = 10 + (size_t)k + 1, pad = (64 - total % 64) % 64;
    memset(text + k, ' ', pad);
    text[(size_t)k + pad] = '\n';
    size_t hlen = (size_t)k + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                             (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
    s->data_at = (long long)(10 + hlen);
    MdStatus st = md_atomic_write(&s->f, pre, sizeof pre, err);
    return st ? st : md_atomic_write(&s->f, text, hlen, err);
}

MdStatus md_npy_stream_open(MdNpyStream *s, const char *path, const MdVolume *shape, int axis,
                            MdError *err)
{
    memset(s, 0, sizeof *s);
    const uint16_t probe = 1;
    if (*(const unsigned char *)&probe != 1)
        return md_error(err, MD_EUNSUPPORTED, "streamed .npy writing needs a little-endian host");
    if (!descr_of(shape->dtype)) return md_error(err, MD_EINVAL, "no .npy type for this dtype");
    s->shape = *shape;
    s->shape.buf = NULL;
    s->axis = axis;
    MdStatus st = md_atomic_open(&s->f, path, err);
    if (st == MD_OK) st = write_header(s, err);
    /* the full size at once: slabs may arrive in any order */
    if (st == MD_OK && ftruncate(fileno(s->f.fp), (off_t)(s->data_at + (long long)md_volume_nbytes(&s->shape))) != 0)
        st = md_error(err, MD_EIO, "cannot size the file (%s)", strerror(errno));
    if (st != MD_OK) md_npy_stream_abort(s);
    return st;
}

MdStatus md_npy_stream_write(MdNpyStream *s, const MdVolume *slab, int64_t p0, MdError *err)
{
    const MdVolume *v = &s->shape;
    int a = s->axis, ok = slab->dtype == v->dtype && slab->ndim == v->ndim;
    for (int d = 0; d < MD_MAXDIM && ok; d++) ok = d == a || slab->dim[d] == v->dim[d];
    if (!ok || p0 < 0 || p0 + slab->dim[a] > v->dim[a])
        return md_error(err, MD_EINVAL, "the slab does not fit the array at plane %lld", (long long)p0 + 1);
    size_t es = md_dtype_size(v->dtype), plane = es;
    for (int d = 0; d < a; d++) plane *= (size_t)v->dim[d];
    size_t runs = 1; /* one run per index of the axes after the plane axis */
    for (int d = a + 1; d < MD_MAXDIM; d++) runs *= (size_t)v->dim[d];
    size_t run = plane * (size_t)slab->dim[a];
    for (size_t r = 0; r < runs; r++) {
        long long at = s->data_at + (long long)((r * (size_t)v->dim[a] + (size_t)p0) * plane);
        if (fseeko(s->f.fp, (off_t)at, SEEK_SET) != 0)
            return md_error(err, MD_EIO, "seek failed (%s)", strerror(errno));
        MdStatus st = md_atomic_write(&s->f, (const char *)md_volume_data(slab) + r * run, run, err);
        if (st != MD_OK) return st;
    }
    s->written += slab->dim[a];
    return MD_OK;
}

MdStatus md_npy_stream_commit(MdNpyStream *s, MdError *err)
{
    if (s->written != s->shape.dim[s->axis])
        return md_error(err, MD_EINVAL, "%lld of %lld planes were written", (long long)s->written,
                        (long long)s->shape.dim[s->axis]);
    return md_atomic_commit(&s->f, err);
}

void md_npy_stream_abort(MdNpyStream *s)
{
    md_atomic_abort(&s->f);
}
