/* Piecewise .npy writer: the header comes from npy.c (np.save's layout),
 * the slabs are written at their place in the file. */
#include "npy_stream.h"

#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The header: shape is the dims reversed (x fastest = last numpy axis). */
static MdStatus write_header(MdNpyStream *s, MdError *err)
{
    const MdVolume *v = &s->shape;
    int64_t shape[MD_MAXDIM];
    for (int i = 0; i < v->ndim; i++) shape[i] = v->dim[v->ndim - 1 - i];
    size_t at = 0;
    MdStatus st = md_npy_write_header(&s->f, v->dtype, shape, v->ndim, &at, err);
    s->data_at = (long long)at;
    return st;
}

MdStatus md_npy_stream_open(MdNpyStream *s, const char *path, const MdVolume *shape, int axis,
                            MdError *err)
{
    memset(s, 0, sizeof *s);
    const uint16_t probe = 1;
    if (*(const unsigned char *)&probe != 1)
        return md_error(err, MD_EUNSUPPORTED, "streamed .npy writing needs a little-endian host");
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
