/* Inner loops of the fused warp over one output row, written without
 * branches so the compiler vectorises them (with an AVX2 clone on x86-64):
 * the interior voxels of the row are sampled in one sweep and the others
 * are flagged for the caller's general path. The arithmetic is the scalar
 * path's, operation for operation (ISO C: no FMA contraction), so the bits
 * do not depend on the instruction set. No Lua here. */
#ifndef MD_WARP_ROWS_H
#define MD_WARP_ROWS_H

#include <stdint.h>

/* Whether a frame of these dimensions can use the row sweeps: every axis at
 * least 2 long (the taps of a flagged voxel read the first ones harmlessly)
 * and fewer than 2^31 voxels (offsets are 32-bit in the vector lanes). */
int md_warp_rows_fit(const int64_t len[3]);

/* Trilinear samples of float32 (or float64) data p of dimensions len at
 * the row's coordinates (cx, cy, cz) where 0 <= c < len - 1 on every axis:
 * val[x] = the three nested lerps of the scalar path. Elsewhere edge[x] = 1
 * (val[x] is then meaningless). Returns the number of flagged voxels. */
int64_t md_warp_row_linear_f32(const float *p, const int64_t len[3], const double *cx, const double *cy,
                               const double *cz, int64_t n, double *val, uint8_t *edge);
int64_t md_warp_row_linear_f64(const double *p, const int64_t len[3], const double *cx, const double *cy,
                               const double *cz, int64_t n, double *val, uint8_t *edge);

/* Nearest taps (scipy's order 0, floor(c + 0.5)) of the row where 0 <= c
 * <= len - 1 on every axis: idx[x] = the voxel's offset in the frame, else
 * idx[x] = -1. Returns the number of voxels outside. */
int64_t md_warp_row_nearest(const int64_t len[3], const double *cx, const double *cy, const double *cz,
                            int64_t n, int32_t *idx);

/* The row's coordinates before the elastic part, scipy's order:
 * c_a[x] = base[a] + x m[a] + b[a] (base: the y and z terms). */
void md_warp_row_coords(int64_t n, const double base[3], const double m[3], const double b[3], double *cx,
                        double *cy, double *cz);

/* Adds the x contraction of the elastic lattice to the row's coordinates:
 * p holds the 3 x K0 values already contracted along z and y, jx[x] the
 * first tap of x (nondecreasing) and w its four weights (4 rows of n).
 * Per voxel: w0 p[j] + w1 p[j+1] + w2 p[j+2] + w3 p[j+3], in that order;
 * the runs of x sharing j are plain vector loops. */
void md_warp_row_displace(int64_t n, const int *jx, const double *w, const double *p, int K0, double *dx,
                          double *dy, double *dz);

#endif
