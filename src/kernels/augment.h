/* Intensity augmentations on float32 volumes, in place: Gaussian noise,
 * gamma, contrast, brightness, a smooth random bias field, and Gaussian
 * blur. Random values come from rng.h keyed by the caller, voxel by voxel,
 * so results never depend on the thread count. Statistics (mean, std,
 * min, max) are combined from per-slice partials in slice order. The
 * spatial part of augmentation is warp.h. No Lua here. */
#ifndef MD_AUGMENT_H
#define MD_AUGMENT_H

#include <stdint.h>

#include "../core/ctx.h"
#include "../core/volume.h"

/* Mean, population standard deviation, min and max of a float32 volume
 * (non-finite voxels skipped): md_stats, as the transforms read it. */
typedef struct MdAugStats {
    double mean, std, min, max;
    size_t n;
} MdAugStats;
MdStatus md_aug_stats(const MdVolume *v, MdAugStats *st, MdCtx *ctx) MD_MUST_CHECK;

/* v += N(0, std^2): voxel i takes normal number i of the stream `key`
 * (the ziggurat of core/ziggurat.h; any thread count, same bits). */
MdStatus md_aug_noise(MdVolume *v, uint64_t key, double std, MdCtx *ctx) MD_MUST_CHECK;

/* nnU-Net's gamma: x -> ((x - min) / (range + 1e-7))^gamma * range + min over
 * the volume's own min and range (in double: md_gamma_rows); invert applies it
 * to -x and negates back; retain_stats restores the mean and std the volume
 * had before. */
MdStatus md_aug_gamma(MdVolume *v, double gamma, int invert, int retain_stats, MdCtx *ctx) MD_MUST_CHECK;

/* x -> (x - mean) * factor + mean; preserve_range clips to the old min/max. */
MdStatus md_aug_contrast(MdVolume *v, double factor, int preserve_range, MdCtx *ctx) MD_MUST_CHECK;

/* x -> x * factor. */
MdStatus md_aug_brightness(MdVolume *v, double factor, MdCtx *ctx) MD_MUST_CHECK;

/* x -> x * exp(P(u, v, w)), P the polynomial with coefficients coef (one per
 * monomial u^i v^j w^k with i + j + k <= order, in the order i outer, j, k
 * inner) over coordinates normalised to [-1, 1] along each axis (TorchIO's
 * RandomBiasField). ncoef must match the order. */
MdStatus md_aug_bias(MdVolume *v, int order, const double *coef, int ncoef, MdCtx *ctx) MD_MUST_CHECK;

/* Number of monomials of degree <= order in three variables (2-D: two). */
int md_aug_bias_ncoef(int order, int ndim);

/* Gaussian blur with scipy.ndimage.gaussian_filter's numbers (truncate 4,
 * mode 'nearest'): sigma in voxels per axis (0: that axis untouched). */
MdStatus md_aug_blur(MdVolume *v, const double sigma[3], MdCtx *ctx) MD_MUST_CHECK;

#endif
