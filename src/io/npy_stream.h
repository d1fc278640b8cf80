/* A .npy file written in pieces: the header for the whole array first,
 * then slabs (runs of planes along the slowest spatial axis, every
 * channel) at their place, in any order, through a temporary file that is
 * renamed over the target only when every plane has been written. Used to
 * write a merged volume that never exists whole in memory. */
#ifndef MD_NPY_STREAM_H
#define MD_NPY_STREAM_H

#include "atomicfile.h"
#include "../core/volume.h"

typedef struct MdNpyStream {
    MdAtomicFile f;
    MdVolume shape;     /* dtype and dims of the whole array (no buffer) */
    int axis;           /* the plane axis: 2 for 3-D volumes, 1 for 2-D ones */
    long long data_at;  /* first data byte */
    int64_t written;    /* planes written so far */
} MdNpyStream;

/* Creates the temporary file for an array shaped like `shape` (dtype,
 * ndim, dims; its buffer is not used). axis: the plane axis. Fails on a
 * big-endian host (the data is written as it is in memory). */
MdStatus md_npy_stream_open(MdNpyStream *s, const char *path, const MdVolume *shape, int axis,
                            MdError *err) MD_MUST_CHECK;

/* Writes the planes of slab (borrowed; the whole array's dims except along
 * the plane axis) at plane p0 of the array. */
MdStatus md_npy_stream_write(MdNpyStream *s, const MdVolume *slab, int64_t p0,
                             MdError *err) MD_MUST_CHECK;

/* Renames the file into place once every plane was written. */
MdStatus md_npy_stream_commit(MdNpyStream *s, MdError *err) MD_MUST_CHECK;

/* Removes the temporary file (safe after commit and on a zeroed s). */
void md_npy_stream_abort(MdNpyStream *s);

#endif
