/* Surfaces of binary masks for the segmentation metrics, on a crop padded
 * with one background voxel on every side (z too, unless 2-D), and the
 * order statistics the metrics take over surface distances. Two kinds of
 * surface point:
 *   corner codes: at each corner between 2x2x2 (2x2 in 2-D) voxels, the
 *     neighbour code of those voxels; a code other than all-in/all-out is a
 *     surface element weighted by the area (length in 2-D) of its
 *     marching-cubes triangles (DeepMind's surface-distance definition);
 *   boundary voxels: object voxels with a face neighbour outside the object
 *     (mask minus its erosion by the cross, as MONAI and medpy take it). */
#ifndef MD_SURFACE_H
#define MD_SURFACE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

/* code[c] for every corner of the padded crop m (sides n, x fastest): the
 * corner grid has sides n[a] - 1 (n[2] stays 1 when planar). Bit b of a code
 * is the voxel at offset (b&1, b>>1&1[, b>>2&1]) from the corner's lower
 * neighbour. Codes 0 and full (255, or 15 when planar) are written as 0, so
 * non-zero means "surface element". Parallel over z. */
void md_surface_codes(const uint8_t *m, const int64_t n[3], int planar, uint8_t *code);

/* out[v] = 1 for object voxels of m with a face neighbour (4 in-plane when
 * planar, else 6) that is background; 0 elsewhere. The crop's outer layer
 * must be background. Parallel over z. */
void md_surface_boundary(const uint8_t *m, const int64_t n[3], int planar, uint8_t *out);

/* w[code] = area in mm^2 (planar: length in mm) of the surface elements of
 * each corner code for the given spacing; w[0] = 0. */
void md_surface_weights(const double spacing[3], int planar, double w[256]);

/* The distances of one surface's points, counted by value: the distinct
 * distances in ascending order with the number of points and their total
 * weight at each. Percentiles and means come from these counts, never from
 * sorting the points themselves. */
typedef struct MdDistTable {
    size_t n;       /* distinct distances */
    double *d;      /* ascending (+inf last when present) */
    double *w;      /* total weight of the points at d[i] */
    int64_t *count; /* number of points at d[i] */
} MdDistTable;

void md_dist_table_free(MdDistTable *t);

/* Buffers of md_surface_distances kept between calls on one grid (start
 * zeroed; md_surface_work_free releases them). */
typedef struct MdSurfWork {
    int16_t *off;
} MdSurfWork;
void md_surface_work_free(MdSurfWork *w);

/* The distance table of the query points (query[i] != 0, each weighing
 * w[query[i]]) of a grid of sides n (x fastest; n[2] ignored when planar):
 * the exact Euclidean distance in mm from each to the nearest site
 * (site[i] != 0), +inf when there is none. Sides up to 32766. Polls the
 * cancel flag. t is empty on failure. */
MdStatus md_surface_distances(const uint8_t *site, const uint8_t *query, const int64_t n[3], int planar,
                              const double sp[3], const double w[256], MdSurfWork *work, MdDistTable *t,
                              MdError *err) MD_MUST_CHECK;

/* n bytes on 2 MB boundaries with transparent huge pages asked for, for
 * grids touched once each (4 KB page faults would cost more than the work
 * on them). free() releases it. */
void *md_surface_big(size_t n);
#endif
