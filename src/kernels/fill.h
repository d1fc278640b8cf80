/* Mask clean-up built on connected components (label.h): hole filling,
 * clearing objects that touch the border, removing small objects, keeping
 * the largest ones. Each works on the whole volume (axis 0) or on each
 * slice across axis 1..3 alone; conn 0 means the documented default. ctx
 * (borrowed) holds the error slot, threads and progress of the call. */
#ifndef MD_FILL_H
#define MD_FILL_H

#include "../core/ctx.h"
#include "../core/volume.h"

/* out (uint8 0/1) = mask (uint8, non-zero = object) with every background
 * component that does not reach the volume's faces set to 1, as
 * scipy.ndimage.binary_fill_holes. conn is the background's connectivity:
 * default 6 (4 per slice), scipy's default structure. */
MdStatus md_fill_holes(const MdVolume *mask, int axis, int conn, MdVolume *out, MdCtx *ctx) MD_MUST_CHECK;

/* out (in's dtype) = in with every region (connected voxels of equal
 * non-zero value; default 26-, per slice 8-connected) that has a voxel
 * within `buffer` voxels of a face set to 0, as
 * skimage.segmentation.clear_border(in, buffer_size=buffer). buffer must be
 * smaller than every side (of the slice, per slice). */
MdStatus md_clear_border(const MdVolume *in, int axis, int conn, int64_t buffer, MdVolume *out,
                         MdCtx *ctx) MD_MUST_CHECK;

/* out (uint8 0/1) = mask without components (default 6-, per slice
 * 4-connected, as skimage's connectivity=1) of fewer than min_size voxels,
 * as skimage.morphology.remove_small_objects on a boolean mask. */
MdStatus md_remove_small(const MdVolume *mask, int axis, int conn, int64_t min_size, MdVolume *out,
                         MdCtx *ctx) MD_MUST_CHECK;

/* out (uint8 0/1) = the n largest components of mask (default 26-, per
 * slice 8-connected; per slice: the n largest of each slice). Equal sizes
 * are ranked by label, i.e. by raster order of the first voxel. */
MdStatus md_keep_largest(const MdVolume *mask, int axis, int conn, int64_t n, MdVolume *out,
                         MdCtx *ctx) MD_MUST_CHECK;

#endif
