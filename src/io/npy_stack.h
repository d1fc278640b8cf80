/* A list of volumes as one .npy array in the layout a deep-learning
 * framework reads: a batch axis N first, then the channels first (PyTorch's
 * NCDHW / NCHW) or last (Keras's NDHWC / NHWC). A volume's channels are its
 * 4th axis ((x, y, z, C), or (x, y, 1, C) in 2-D); one without is C = 1. */
#ifndef MD_NPY_STACK_H
#define MD_NPY_STACK_H

#include "../core/volume.h"

typedef enum {
    MD_NPY_PLAIN,          /* (N, [C,] z, y, x): the volumes' own axes reversed */
    MD_NPY_CHANNELS_FIRST, /* (N, C, z, y, x) or (N, C, y, x) */
    MD_NPY_CHANNELS_LAST   /* (N, z, y, x, C) or (N, y, x, C) */
} MdNpyLayout;

/* Writes the n volumes (equal dtype and shape, borrowed) to path as one
 * array, atomically. spatial: 3 for the D layouts (volumes (x, y, z[, C])),
 * 2 for the 2-D ones (volumes (x, y[, 1, C])), ignored for MD_NPY_PLAIN.
 * Channels last interleaves the channels (one volume-sized scratch buffer).
 * Errors name the volume whose shape does not fit. */
MdStatus md_npy_write_layout(const char *path, const MdVolume *const *vols, size_t n,
                             MdNpyLayout layout, int spatial, MdError *err) MD_MUST_CHECK;

#endif
