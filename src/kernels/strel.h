/* Structuring elements: uint8 0/1 masks whose centre is at index size/2 on
 * each axis (scipy.ndimage's default origin), their decomposition into runs
 * along x for the bit-parallel morphology, and recognising a Euclidean
 * ball/disk so large ones can go through the distance transform. Applying
 * them lives in morph.c. */
#ifndef MD_STREL_H
#define MD_STREL_H

#include "../core/volume.h"

/* Fills out (uint8, allocated by the caller with sides 2r+1 and ndim 2 or 3)
 * with skimage.morphology.disk(r) (ndim 2) or ball(r) (ndim 3): offsets with
 * dx^2 + dy^2 [+ dz^2] <= r^2. */
MdStatus md_strel_ball(MdVolume *out, int radius, MdError *err) MD_MUST_CHECK;

/* Half extents (voxels, per axis) of the ball of radius r_mm on a grid of
 * spacing sp[ndim]: floor(r / sp) plus slack for the tolerance below. */
void md_strel_ball_mm_extent(double r_mm, const double *sp, int ndim, int64_t half[3]);
/* Fills out (sides 2*half+1) with offsets whose physical length is at most
 * r_mm: sum (d_i * sp_i)^2 <= r_mm^2 * (1 + 1e-9). The relative slack keeps
 * points meant to lie on the sphere (r = 1.5, spacing 0.5) inside despite
 * spacings that have no exact binary value. */
MdStatus md_strel_ball_mm(MdVolume *out, double r_mm, const double *sp, MdError *err) MD_MUST_CHECK;

/* Fills out (sides 3) with the cross of the 2*ndim face neighbours. */
MdStatus md_strel_cross(MdVolume *out, MdError *err) MD_MUST_CHECK;

/* out (uint8, allocated by the caller with m's shape) = 1 where m (any
 * dtype, 2-D or 3-D) is non-zero, else 0: an element made from a mask. */
MdStatus md_strel_from_mask(const MdVolume *m, MdVolume *out, MdError *err) MD_MUST_CHECK;

/* One run of a structuring element along x: offsets (a .. a+len-1, dy, dz)
 * relative to the centre. */
typedef struct MdStrelRow {
    int dy, dz, a, len;
} MdStrelRow;

/* The runs of an element, sorted by dz, then len, then dy, then a, so that
 * runs sharing an input slice and a window length are adjacent. */
typedef struct MdStrelRows {
    int n;
    MdStrelRow *rows; /* new: free with md_strel_rows_free */
} MdStrelRows;

/* Decomposes se (any dtype, non-zero = member, 2-D or 3-D) into runs; with
 * reflect the offsets are negated (dilation uses the reflected element).
 * Fails on an empty element. */
MdStatus md_strel_rows(const MdVolume *se, int reflect, MdStrelRows *out, MdError *err) MD_MUST_CHECK;
void md_strel_rows_free(MdStrelRows *r);

/* r when se is exactly disk(r) (2-D, or 3-D one slice thick) or ball(r)
 * (3-D), else -1. *flat is set to 1 for a disk. */
int md_strel_ball_radius(const MdVolume *se, int *flat);

#endif
