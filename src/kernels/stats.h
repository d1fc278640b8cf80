/* Statistics of a volume: min, max, sum, mean, population std over the
 * finite values, optionally within a mask. Integer voxels are summed exactly
 * (64-bit integers); results do not depend on the thread count. */
#ifndef MD_STATS_H
#define MD_STATS_H

#include "../core/volume.h"

typedef struct MdStats {
    double min, max, mean, std, sum; /* std: population (ddof = 0) */
    size_t count;                    /* finite values counted */
    size_t nonfinite;                /* NaN and inf values skipped */
    size_t nan, neg_inf, pos_inf;    /* nonfinite by kind */
} MdStats;

/* Statistics over the finite values of v (where mask != 0 when mask is not
 * NULL; mask has v's voxel count, any dtype). With no value counted, min,
 * max, mean and std are NaN and sum is 0. */
MdStatus md_stats(const MdVolume *v, const MdVolume *mask, MdStats *out, MdError *err) MD_MUST_CHECK;

#endif
