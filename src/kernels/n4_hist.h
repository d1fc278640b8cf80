/* Histogram tools of N4: the sharpening map of Tustison et al. (the
 * histogram deconvolved by a Gaussian with a Wiener filter, then each
 * intensity mapped to its expected value under the sharpened histogram, as
 * ITK's N4BiasFieldCorrectionImageFilter computes it) and Otsu's threshold.
 * No Lua. */
#ifndef MD_N4_HIST_H
#define MD_N4_HIST_H

#include "../core/volume.h"

/* The map E[0..bins) for a histogram H[0..bins) whose bin b is centred on
 * intensity lo + b * slope (slope > 0): H is zero-padded to a power of two
 * at least twice its length, deconvolved by a Gaussian of fwhm (intensity
 * units) with Wiener noise `noise`, clipped at 0, and E[b] is the mean
 * intensity of the deconvolved histogram blurred again by the Gaussian at
 * bin b. */
MdStatus md_n4_sharpen_map(const double *H, int bins, double lo, double slope, double fwhm, double noise,
                           double *E, MdError *err) MD_MUST_CHECK;

/* Otsu's threshold of v (any dtype, all voxels) on a histogram of `bins`
 * equal bins laid out as ITK's OtsuThresholdImageFilter lays them out
 * ([-0.5, 255.5] for uint8, [-128.5, 127.5] for int8, otherwise [min, max]
 * with the top widened by 1/100 of a bin): the upper edge of the first bin
 * that maximises the between-class variance, so the foreground is
 * v > *thr. A constant volume gives its value. Parallel over slices,
 * deterministic. */
MdStatus md_n4_otsu(const MdVolume *v, int bins, double *thr, MdError *err) MD_MUST_CHECK;

#endif
