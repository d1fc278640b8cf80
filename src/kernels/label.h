/* Connected components. The engine (MdComps) finds the x-runs of a volume,
 * joins runs of neighbouring rows with union-find, in parallel over chunks
 * of rows then across chunk borders, and numbers components 1..n in raster
 * order (x fastest) of their first voxel: the order scikit-image's label
 * gives on the (z, y, x) array. The numbering does not depend on how rows
 * were split among threads. fill.c builds the mask operations on it. */
#ifndef MD_LABEL_H
#define MD_LABEL_H

#include "../core/ctx.h"
#include "../core/volume.h"

/* Which voxels form runs. */
typedef enum {
    MD_RUNS_NONZERO, /* non-zero voxels (masks) */
    MD_RUNS_ZERO,    /* zero voxels (the background, for hole filling) */
    MD_RUNS_EQUAL    /* voxels != background; neighbours join only when equal */
} MdRunMode;

typedef struct MdComps {
    int64_t n[3];        /* x, y, z sides */
    int planar;          /* components stay inside their z slice */
    int64_t nruns, ncomp;
    int64_t *row_start;  /* runs of row r (= z*ny + y) are row_start[r] .. row_start[r+1]-1 */
    int32_t *x0, *x1;    /* run extent, inclusive */
    int32_t *comp;       /* component of each run, 1..ncomp */
} MdComps;

/* Builds the components of data (dtype, sides n[3], x fastest). conn is
 * 4 or 8 when planar (each z slice alone), else 6, 18 or 26. background is
 * used by MD_RUNS_EQUAL. Fails on a bad connectivity, when out of memory,
 * with more than 2^31-1 runs, or when cancelled. c is empty on failure. */
MdStatus md_comps_build(const void *data, MdDtype dtype, const int64_t n[3], MdRunMode mode, double background,
                        int conn, int planar, MdComps *c, MdCtx *ctx) MD_MUST_CHECK;
void md_comps_free(MdComps *c);

/* out[n0*n1*n2] = component id of each voxel in a run, 0 elsewhere. */
void md_comps_write_labels(const MdComps *c, int32_t *out);
/* out = 1 on runs of components with keep[comp] != 0, else (base ? base != 0 : 0). */
void md_comps_write_mask(const MdComps *c, const uint8_t *keep, const uint8_t *base, uint8_t *out);
/* Zeroes the voxels of data (esize bytes each) on runs of components with clear[comp] != 0. */
void md_comps_clear(const MdComps *c, const uint8_t *clear, void *data, size_t esize);
/* sizes[0..ncomp] (new, free()): voxels per component (sizes[0] = 0). */
MdStatus md_comps_sizes(const MdComps *c, int64_t **sizes, MdError *err) MD_MUST_CHECK;
/* touch[comp] = 1 for components with a voxel within band voxels of the
 * volume's faces (band 0: on a face); z faces only when not planar. */
void md_comps_touching(const MdComps *c, int64_t band, uint8_t *touch);
/* first[comp] (new, free()): the z slice of each component's first voxel. */
MdStatus md_comps_first_slice(const MdComps *c, int64_t **first, MdError *err) MD_MUST_CHECK;

/* out (int32, in's dims) = labels of the connected regions of equal value
 * other than background (skimage.measure.label(in, background=,
 * connectivity=)); *count = number of labels. axis 0: 3-D (conn 6, 18, 26;
 * 4 or 8 for a 2-D volume); axis 1..3: each slice across that axis alone
 * (conn 4 or 8), numbered slice by slice. */
MdStatus md_label(const MdVolume *in, int axis, int conn, double background, MdVolume *out, int64_t *count,
                  MdCtx *ctx) MD_MUST_CHECK;

#endif
