/* The Volume in C: a refcounted voxel buffer and a header describing it
 * (dtype, dims with x fastest, LPS geometry). Geometry helpers (affines,
 * orientation codes) live in geom.h; nothing here knows Lua. */
#ifndef MD_VOLUME_H
#define MD_VOLUME_H

#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "err.h"

/* Refcounted voxel storage. */
typedef struct MdBuffer {
    void *data;
    size_t nbytes;
    int refs; /* changed atomically */
} MdBuffer;

#define MD_MAXDIM 4

/* A header over a buffer. dim[] beyond ndim are 1. Geometry is always 3-D:
 * spacing[3] in mm, origin[3] in LPS mm, direction[9] row-major with column
 * c the LPS direction of axis c. tstep is the 4th-axis step (NIfTI pixdim[4]). */
typedef struct MdVolume {
    MdDtype dtype;
    int ndim;
    int64_t dim[MD_MAXDIM];
    double spacing[3];
    double origin[3];
    double direction[9];
    double tstep;
    MdBuffer *buf;  /* NULL when released or not yet allocated */
    size_t offset;  /* byte offset of voxel 0 inside buf->data */
} MdVolume;

/* Live voxel bytes over all buffers, and the budget new buffers must fit in
 * (0 = no budget). */
size_t md_live_bytes(void);
void md_set_memory_budget(size_t bytes);
size_t md_memory_budget(void);

/* n = a*b*c*... with overflow check; fails with MD_ETOOBIG. */
MdStatus md_checked_mul(size_t *n, size_t a, size_t b, MdError *err) MD_MUST_CHECK;

/* New buffer of nbytes (zero-filled when zero != 0); refs = 1. */
MdStatus md_buffer_new(MdBuffer **out, size_t nbytes, int zero, MdError *err) MD_MUST_CHECK;
void md_buffer_retain(MdBuffer *b);
void md_buffer_release(MdBuffer *b);
/* Released large buffers are kept for the next request of the same size
 * (volume.c says why): drop frees them, bytes is how much they hold, hits
 * how many requests they served. */
void md_buffer_reuse_drop(void);
size_t md_buffer_reuse_bytes(void);
size_t md_buffer_reuse_hits(void);

/* Sets identity geometry (spacing 1, origin 0, identity direction) and dims. */
void md_volume_init(MdVolume *v, MdDtype dtype, int ndim, const int64_t *dim);

/* Number of voxels (product of dims; dims were checked at allocation). */
size_t md_volume_count(const MdVolume *v);
size_t md_volume_nbytes(const MdVolume *v);

/* Allocates v->buf for v's dtype and dims (checked product, budget). extra
 * bytes are reserved before voxel 0 (v->offset = extra): readers use it to
 * inflate a file header and its voxels into one buffer. */
MdStatus md_volume_alloc(MdVolume *v, int zero, size_t extra, MdError *err) MD_MUST_CHECK;

/* Pointer to voxel 0. */
static inline void *md_volume_data(const MdVolume *v)
{
    return (char *)v->buf->data + v->offset;
}

/* Drops the buffer reference; the header stays but has no data. */
void md_volume_release(MdVolume *v);

/* Copies geometry (spacing, origin, direction, tstep) from src to dst. */
void md_volume_copy_geometry(MdVolume *dst, const MdVolume *src);

/* Writes v's shape as users see it, one size per axis ("256x256x108", not
 * the padded 4-D dims), into buf of size n; returns buf. */
const char *md_volume_shape_text(const MdVolume *v, char *buf, size_t n);

/* Checks dims: ndim 1..4 (1 becomes a 2-D row), each dim >= 1 and the
 * product representable. */
MdStatus md_volume_check_dims(int ndim, const int64_t *dim, MdError *err) MD_MUST_CHECK;

#endif
