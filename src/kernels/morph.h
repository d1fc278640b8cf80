/* Binary morphology (erosion, dilation, opening, closing) with any
 * structuring element, in 3-D or slice by slice, giving exactly what
 * scipy.ndimage.binary_* give (or, for erosion's border, skimage's). */
#ifndef MD_MORPH_H
#define MD_MORPH_H

#include "../core/volume.h"

typedef enum { MD_MORPH_ERODE, MD_MORPH_DILATE, MD_MORPH_OPEN, MD_MORPH_CLOSE } MdMorphOp;

/* How: runs of the element over bit-packed rows (any element, cost grows
 * with the element's number of x-runs / 64 per voxel), or thresholding the
 * squared distance transform (balls and disks only, cost independent of the
 * radius). AUTO takes the distance transform for balls/disks with many runs. */
typedef enum { MD_MORPH_AUTO, MD_MORPH_RUNS, MD_MORPH_EDT } MdMorphMethod;

typedef struct MdMorphOpts {
    MdMorphOp op;
    int axis;       /* 0: the volume as a whole; 1..3: each slice across this axis */
    int skimage;    /* erosion counts voxels outside the volume as object
                       (skimage.morphology.binary_erosion); default: as
                       background (scipy's border_value=0) */
    int iterations; /* >= 1: each step repeated (scipy's iterations=) */
    MdMorphMethod method;
} MdMorphOpts;

/* out (uint8 0/1, mask's dims, allocated by the caller) = op(mask) where
 * mask is uint8 (non-zero = object) and se any dtype (non-zero = member)
 * with its centre at index size/2 on each axis.
 *   erosion:  out[x] = 1 iff mask[x + s] for every member offset s
 *   dilation: out[x] = 1 iff mask[x - s] for some member offset s (scipy
 *             reflects the element); outside voxels are background
 *   opening = dilation(erosion), closing = erosion(dilation), without
 *             padding, as scipy does (so closing erodes from the border).
 * A one-slice-thick (2-D) element on a 3-D mask acts in each z slice, as
 * does any element with axis 3; axis 1 or 2 needs a 2-D element and applies
 * it in each slice across that axis. Fails on an empty element, on a 3-D
 * element with a 2-D mask or a per-slice axis, and when cancelled. */
MdStatus md_morph(const MdVolume *mask, const MdVolume *se, const MdMorphOpts *o, MdVolume *out,
                  MdError *err) MD_MUST_CHECK;

#endif
