/* ITK's adaptive histogram equalisation (AdaptiveHistogramEqualization-
 * ImageFilter, the power-law AHE of Stark 2000 with alpha and beta; not
 * CLAHE) and ITK's Laplacian sharpening (LaplacianSharpeningImageFilter). */
#ifndef MD_AHE_H
#define MD_AHE_H

#include "../core/ctx.h"
#include "../core/volume.h"

/* out (in's dims; any dtype, integer outputs truncate as ITK's cast does) =
 * for each voxel p with the box of half-widths r clipped to the volume:
 *   min + (max - min) * (0.5 + mean over the box of F(u(p), u(w)))
 * with u(x) = (x - min) / (max - min) - 0.5 and
 *   F(u, v) = 0.5 sgn(u-v) |2(u-v)|^alpha - 0.5 beta sgn(u-v) |2(u-v)| + beta u,
 * min and max over the whole volume, evaluated in float as ITK does. Cost:
 * one power per voxel of the box per voxel. */
MdStatus md_ahe(const MdVolume *in, const int r[3], double alpha, double beta, MdVolume *out, MdCtx *ctx) MD_MUST_CHECK;

/* ITK's LaplacianSharpeningImageFilter: L = the Laplacian stencil with
 * weights 1/spacing^2 (use_spacing; else 1), borders zero-flux; L is
 * rescaled to the input's range, subtracted from the input, the result
 * shifted to keep the input's mean and clamped to [min, max]. out any
 * dtype (integer outputs truncate, as ITK's cast). */
MdStatus md_laplacian_sharpen(const MdVolume *in, int use_spacing, MdVolume *out, MdCtx *ctx) MD_MUST_CHECK;

#endif
