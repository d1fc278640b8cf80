/* Slices across a chosen axis: the per-slice mask operations run on z
 * slices only, so for axis 1 (x) or 2 (y) the volume is first transposed so
 * that axis becomes the slowest, then transposed back. The two in-plane
 * axes keep their order (the lower-numbered one stays fastest), so a 2-D
 * structuring element's first axis follows it. Element-size generic. */
#ifndef MD_MORPH_SLICES_H
#define MD_MORPH_SLICES_H

#include <stddef.h>
#include <stdint.h>

/* The dims (x fastest) of the transposed layout of a volume of dims n[3]
 * sliced across axis (1, 2 or 3; 3 keeps the layout). */
void md_slices_dims(const int64_t n[3], int axis, int64_t m[3]);

/* dst (transposed layout) = src (volume layout); esize bytes per voxel.
 * The buffers must not overlap. Parallel over slices. */
void md_slices_gather(const void *src, size_t esize, const int64_t n[3], int axis, void *dst);
/* dst (volume layout) = src (transposed layout): the inverse of gather. */
void md_slices_scatter(const void *src, size_t esize, const int64_t n[3], int axis, void *dst);

#endif
