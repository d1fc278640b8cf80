/* The power of nnU-Net's gamma augmentation over a run of float32 voxels,
 * four at a time in double precision (vector types: the same bits with or
 * without AVX2). No Lua here. */
#ifndef MD_GAMMA_ROWS_H
#define MD_GAMMA_ROWS_H

#include <stddef.h>

/* x[i] -> sign * (b^g * range + lo) with b = (sign * x[i] - lo) / (range +
 * 1e-7), rounded to float32. b^g for b in (0, 1] is exp2(g log2 b) from
 * polynomials accurate to about 1e-12 (relative), b = 0 gives 0, and any
 * other b (non-finite voxels) goes through libm's pow. */
void md_gamma_rows(float *x, size_t n, double sign, double lo, double range, double g);

/* b^g as md_gamma_rows computes it, one value (for specs and tails). */
double md_gamma_pow(double b, double g);

#endif
