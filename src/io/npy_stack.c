/* Batches of volumes as .npy in the frameworks' layouts (npy_stack.h). The
 * plain layout is npy.c's md_npy_write_stack; this file adds the channel
 * axis, first or last. */
#include "npy_stack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "rawio.h"

/* Checks volume i (1-based) against the layout; sets its channel count. */
static MdStatus check_layout(const MdVolume *v, size_t i, int spatial, int64_t *channels, MdError *err)
{
    char shape[96];
    md_volume_shape_text(v, shape, sizeof shape);
    if (!v->buf) return md_error(err, MD_EINVAL, "volume %zu has no voxel data", i);
    if (spatial == 3 && v->ndim < 3)
        return md_error(err, MD_EINVAL,
                        "volume %zu is %s: a 3-D layout needs (x, y, z) or (x, y, z, C) volumes "
                        "(use NHWC or NCHW for 2-D ones)", i, shape);
    if (spatial == 2 && v->ndim >= 3 && v->dim[2] != 1)
        return md_error(err, MD_EINVAL,
                        "volume %zu is %s: a 2-D layout needs (x, y) or (x, y, 1, C) volumes "
                        "(use NDHWC or NCDHW for 3-D ones)", i, shape);
    *channels = v->ndim == 4 ? v->dim[3] : 1;
    return MD_OK;
}

/* Copies v (x fastest, channel slowest) into out with the channel fastest. */
static void interleave(const MdVolume *v, int64_t channels, unsigned char *out)
{
    size_t es = md_dtype_size(v->dtype), plane = md_volume_count(v) / (size_t)channels;
    const unsigned char *in = md_volume_data(v);
    for (int64_t c = 0; c < channels; c++)
        for (size_t p = 0; p < plane; p++)
            memcpy(out + (p * (size_t)channels + (size_t)c) * es, in + ((size_t)c * plane + p) * es, es);
}

static MdStatus write_layout(const char *path, const MdVolume *const *vols, size_t n, MdNpyLayout layout,
                             int spatial, MdError *err)
{
    MdStatus st;
    if (n == 0) return md_error(err, MD_EINVAL, "no volumes to write");
    const MdVolume *v0 = vols[0];
    int64_t channels = 1, c;
    for (size_t i = 0; i < n; i++) {
        if ((st = check_layout(vols[i], i + 1, spatial, i ? &c : &channels, err))) return st;
        const MdVolume *v = vols[i];
        int same = v->dtype == v0->dtype && v->ndim == v0->ndim;
        for (int d = 0; d < MD_MAXDIM && same; d++) same = v->dim[d] == v0->dim[d];
        if (!same) {
            char a[96], b[96];
            return md_error(err, MD_EINVAL, "volume %zu has shape %s %s, volume 1 has %s %s (a stack "
                            "needs equal shapes and dtypes)", i + 1, md_volume_shape_text(v, a, sizeof a),
                            md_dtype_name(v->dtype), md_volume_shape_text(v0, b, sizeof b),
                            md_dtype_name(v0->dtype));
        }
    }
    int64_t shape[6];
    int nd = 0;
    shape[nd++] = (int64_t)n;
    if (layout == MD_NPY_CHANNELS_FIRST) shape[nd++] = channels;
    for (int a = spatial - 1; a >= 0; a--) shape[nd++] = v0->dim[a];
    if (layout == MD_NPY_CHANNELS_LAST) shape[nd++] = channels;
    size_t es = md_dtype_size(v0->dtype), count = md_volume_count(v0);
    unsigned char *scratch = NULL;
    if (layout == MD_NPY_CHANNELS_LAST && channels > 1 && !(scratch = malloc(count * es)))
        return md_error(err, MD_ENOMEM, "out of memory for a %zu-byte channel interleave", count * es);
    MdAtomicFile f;
    if ((st = md_atomic_open(&f, path, err))) {
        free(scratch);
        return st;
    }
    st = md_npy_write_header(&f, v0->dtype, shape, nd, NULL, err);
    for (size_t i = 0; i < n && !st; i++) {
        const void *data = md_volume_data(vols[i]);
        if (scratch) {
            interleave(vols[i], channels, scratch);
            data = scratch;
        }
        st = md_write_le(&f, data, count, es, err);
    }
    if (!st) st = md_atomic_commit(&f, err);
    md_atomic_abort(&f);
    free(scratch);
    return st;
}

MdStatus md_npy_write_layout(const char *path, const MdVolume *const *vols, size_t n,
                             MdNpyLayout layout, int spatial, MdError *err)
{
    MdStatus st = layout == MD_NPY_PLAIN ? md_npy_write_stack(path, vols, n, err)
                                         : write_layout(path, vols, n, layout, spatial, err);
    if (st != MD_OK && layout != MD_NPY_PLAIN) md_error_prefix(err, path);
    return st;
}
