/* Marching cubes: the isosurface of a 3-D volume as an MdMesh, in world
 * millimetres, one shared vertex per crossed grid edge, outward oriented
 * (normals point toward values below the level). Rows of cubes are
 * classified, counted, prefix-summed and then generated in parallel into
 * buffers of the exact size (the flying-edges scheme), so the output is the
 * same on any thread count. */
#ifndef MD_MCUBES_H
#define MD_MCUBES_H

#include "mesh.h"

/* The labels of each row of a label volume: row (y, z)'s distinct non-zero
 * values, increasing, are label[start[z * ny + y] .. start[z * ny + y + 1]). */
typedef struct MdLabelRows {
    int64_t ny, nz;
    int64_t *start; /* ny * nz + 1 */
    double *label;
} MdLabelRows;

typedef struct MdMcubesOpts {
    double level;          /* a corner is inside when value >= level (NaN: outside) */
    int step;              /* >= 1: use every step-th sample on each axis */
    int label_mode;        /* 1: inside is value == label (level ignored) */
    double label;
    int64_t box_lo[3], box_hi[3]; /* voxel box to work in (inclusive); all zero: the whole volume */
    const MdLabelRows *rows; /* label mode, optional: rows it does not list for the label are outside
                                and not read (md_mcubes_label_rows of the same volume) */
} MdMcubesOpts;

/* out (empty on entry) = the isosurface of v (3-D, any dtype, each axis >= 2
 * samples after step). Vertices on an edge between values a and b lie at
 * t = (level - a) / (b - a) along it (label mode: the middle). Fails on a
 * non-3-D volume, too few samples, more than 2^31 - 1 vertices, cancel. */
MdStatus md_mcubes(const MdVolume *v, const MdMcubesOpts *o, MdMesh *out, MdCtx *ctx) MD_MUST_CHECK;

/* One parallel pass over a label volume (integers, any dtype): the rows'
 * labels, the distinct non-zero labels in increasing order and the
 * bounding box of each (voxel indices, inclusive, widened by one voxel
 * where the volume allows, so each label's surface closes inside its box).
 * *labels and *boxes (6 per label: lo xyz, hi xyz) are new (malloc); free
 * rows with md_label_rows_free. Fails on non-integer values (naming the
 * first in raster order). */
MdStatus md_mcubes_label_rows(const MdVolume *v, MdLabelRows *rows, double **labels, int64_t **boxes, int64_t *n,
                              MdCtx *ctx) MD_MUST_CHECK;
void md_label_rows_free(MdLabelRows *r);
/* Whether row (y, z) holds label. */
int md_label_rows_has(const MdLabelRows *r, int64_t y, int64_t z, double label);

/* Triangles of case c (bit i = corner i inside; corner i is at
 * (i & 1, i >> 1 & 1, i >> 2 & 1)). Ambiguous cube faces (two diagonal
 * corners inside, the other two outside) always keep the inside corners
 * apart, whatever the cube's case, so the two cubes sharing a face agree:
 * closed objects give watertight surfaces, every edge in exactly two faces.
 * The counts per case equal VTK's and skimage's (method='lorensen') tables;
 * the specs compare all 256. */
int md_mcubes_case_triangles(int c);

#endif
