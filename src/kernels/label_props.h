/* Region measurements of a label volume (skimage.measure.regionprops'
 * area, bbox, centroid and intensity mean/min/max). */
#ifndef MD_LABEL_PROPS_H
#define MD_LABEL_PROPS_H

#include "../core/volume.h"

/* Per-label measurements (labels <= 0 are background). */
typedef struct MdRegion {
    int64_t label, count;
    int64_t lo[3], hi[3]; /* bounding box, 0-based inclusive */
    double centroid[3];   /* mean 0-based index */
    double mean, min, max; /* of the intensity volume (0 without one) */
} MdRegion;

/* *regions (new, free()) = one entry per label present, by increasing
 * label; labels: an integer volume (any values; <= 0 is background);
 * intensity: NULL or the same shape, any dtype. Time and memory grow with
 * the voxel count and the number of distinct labels, not the label values.
 * Fails on float labels, a shape mismatch, out of memory, or cancel. */
MdStatus md_regionprops(const MdVolume *labels, const MdVolume *intensity, MdRegion **regions, int64_t *n,
                        MdError *err) MD_MUST_CHECK;

#endif
