/* Segmentation metrics between a predicted and a reference mask, each
 * surface value under a named definition:
 *   DEEPMIND  surface elements from the 2x2x2 neighbour codes on the corner
 *             (half-voxel shifted) grid, weighted by their marching-cubes
 *             area (2-D: contour length); directed percentiles area-weighted
 *             (Nikolov et al., the surface-distance library);
 *   MONAI     boundary voxels (mask minus its erosion by the cross),
 *             unweighted; HD95 = the larger of the two directed numpy
 *             percentiles; ASSD pooled over both boundaries;
 *   MEDPY     boundary voxels; HD95 = the numpy percentile of both
 *             directions pooled; ASSD = the mean of the two directed means.
 * Distances are exact Euclidean in mm (scipy's distance_transform_edt
 * values, computed only at surface points). Work is confined to the
 * bounding box of the union plus one voxel, which gives the same distances
 * as the whole grid. The volumetric values are common to all three. */
#ifndef MD_METRICS_H
#define MD_METRICS_H

#include "../core/ctx.h"
#include "../core/volume.h"

typedef enum { MD_METRICS_DEEPMIND, MD_METRICS_MONAI, MD_METRICS_MEDPY } MdMetricsDef;

typedef struct MdMetricsOpts {
    double spacing[3];   /* mm per voxel along x, y, z */
    double tolerance_mm; /* surface overlap / surface Dice tolerance (>= 0) */
    double percent;      /* the hd95 percentile, 0..100 */
    MdMetricsDef def;
} MdMetricsOpts;

typedef struct MdMetrics {
    int64_t tp, fp, fn, tn;       /* voxel counts */
    int empty_pred, empty_truth;  /* the mask has no voxel */
    double dice, jaccard, precision, recall, specificity;
    double volume_pred, volume_truth, ravd; /* mm^3 (mm^2 in 2-D); ravd signed */
    double hausdorff, hd95, assd, asd_pred_to_truth, asd_truth_to_pred;
    double surface_overlap_pred, surface_overlap_truth, surface_dice;
    double surface_pred, surface_truth; /* DEEPMIND: area mm^2 (2-D: length mm);
                                           else: number of boundary voxels */
} MdMetrics;

/* All metrics of pred against truth: uint8 0/1 masks (any other value is an
 * error), same dims, 2-D or 3-D. Empty masks give the documented NaN/inf
 * values, never an error. Progress goes to ctx; cancel is polled per slice. */
MdStatus md_metrics(const MdVolume *pred, const MdVolume *truth, const MdMetricsOpts *o, MdMetrics *out,
                    MdCtx *ctx) MD_MUST_CHECK;

/* The same for each label of two int32 label maps: out[i] for labels[i]
 * (pred == label against truth == label). One pass over the volumes counts
 * every label and finds its box; the surfaces are then computed label by
 * label inside each box. labels may hold any int32 values spanning less
 * than 2^24. */
MdStatus md_metrics_labels(const MdVolume *pred, const MdVolume *truth, const int32_t *labels, size_t nlabels,
                           const MdMetricsOpts *o, MdMetrics *out, MdCtx *ctx) MD_MUST_CHECK;

/* The sorted distinct non-zero values of two int32 label maps (new array in
 * *labels, free()). Fails when they span 2^24 or more. */
MdStatus md_metrics_label_set(const MdVolume *pred, const MdVolume *truth, int32_t **labels, size_t *n,
                              MdError *err) MD_MUST_CHECK;

/* out (uint8, allocated, v's dims) = v as a 0/1 mask; fails naming `what`
 * when a value is neither 0 nor 1. */
MdStatus md_metrics_binary(const MdVolume *v, const char *what, MdVolume *out, MdError *err) MD_MUST_CHECK;

/* out (int32, allocated, v's dims) = v's values; fails naming `what` when a
 * value is not an integer in the int32 range. */
MdStatus md_metrics_int_labels(const MdVolume *v, const char *what, MdVolume *out, MdError *err) MD_MUST_CHECK;

#endif
