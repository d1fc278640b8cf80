/* What metrics.c shares with metrics_labels.c; not for other kernels. */
#ifndef MD_METRICS_IMPL_H
#define MD_METRICS_IMPL_H

#include "metrics.h"

/* The volumetric values from the four voxel counts. */
void md_metrics_volumetric(int64_t tp, int64_t fp, int64_t fn, int64_t tn, const double sp[3], int planar,
                           MdMetrics *r);

/* Argument checks common to both entry points (dtype want for both volumes). */
MdStatus md_metrics_check(const MdVolume *pred, const MdVolume *truth, MdDtype want, const MdMetricsOpts *o,
                          MdError *err) MD_MUST_CHECK;

/* out = the box lo..hi (inclusive voxels) of v padded by one background
 * voxel per side (not along z when planar): v's 0/1 voxels, or v == label
 * for an int32 label map. m receives the padded sides. */
void md_metrics_crop(const MdVolume *v, int label_map, int32_t label, const int64_t lo[3], const int64_t hi[3],
                     int planar, uint8_t *out, int64_t m[3]);

/* The surface values of r (volumetric values and empty flags already set)
 * from the padded crops P and T of sides m. */
MdStatus md_metrics_surfaces(const uint8_t *P, const uint8_t *T, const int64_t m[3], int planar,
                             const MdMetricsOpts *o, MdMetrics *r, MdCtx *ctx) MD_MUST_CHECK;

/* The surface values for empty masks (one or both, flags set): one empty
 * gives infinite distances from the other surface (NaN from the empty one)
 * and surface Dice 0; both empty give NaN throughout. */
void md_metrics_empty(MdMetrics *r);

#endif
