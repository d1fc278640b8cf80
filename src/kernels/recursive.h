/* ITK-style recursive Gaussian smoothing (RecursiveGaussianImageFilter of
 * order 0, as SmoothingRecursiveGaussianImageFilter applies it per axis):
 * cost independent of sigma. */
#ifndef MD_RECURSIVE_H
#define MD_RECURSIVE_H

#include "../core/ctx.h"
#include "../core/volume.h"

/* out (float32 or float64, in's dims) = in smoothed along each axis with
 * sigma[a] voxels (0 leaves an axis alone) by Deriche's fourth-order
 * recursion with ITK's coefficients and border (the edge value continues).
 * Filtered axes need at least 4 voxels. */
MdStatus md_filter_recursive_gaussian(const MdVolume *in, const double sigma[3], MdVolume *out,
                                      MdCtx *ctx) MD_MUST_CHECK;

#endif
