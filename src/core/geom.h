/* Geometry of a volume: the 4x4 index->LPS affine, its inverse, the RAS
 * view NIfTI and nibabel use, and orientation codes ("LPS", "RAS", ...). */
#ifndef MD_GEOM_H
#define MD_GEOM_H

#include "volume.h"

/* A[16] row-major: world = A * (i, j, k, 1) with 0-based indices, LPS mm. */
void md_geom_affine(const MdVolume *v, double A[16]);
/* The same in RAS (rows 0 and 1 negated), as nibabel shows it. */
void md_geom_affine_ras(const MdVolume *v, double A[16]);
/* Sets spacing, direction and origin from an LPS affine; the columns may be
 * non-orthogonal (a sheared affine is kept exactly). Fails when a column is zero. */
MdStatus md_geom_from_affine(MdVolume *v, const double A[16], MdError *err) MD_MUST_CHECK;
/* Continuous index (0-based) <-> LPS world. index_to_world never fails;
 * world_to_index fails when the direction*spacing matrix is singular. */
void md_geom_index_to_world(const MdVolume *v, const double ijk[3], double xyz[3]);
MdStatus md_geom_world_to_index(const MdVolume *v, const double xyz[3], double ijk[3],
                                MdError *err) MD_MUST_CHECK;
/* The in-plane continuous 0-based index (i, j) of the world point (x, y)
 * of a 2-D volume, from the upper-left 2x2 of direction x spacing (a 2-D
 * image's own geometry, as SimpleITK's 2-D images have it). */
MdStatus md_geom_world_to_index_2d(const MdVolume *v, const double xy[2], double ij[2],
                                   MdError *err) MD_MUST_CHECK;
/* Three letters naming, for axes i, j, k, the world direction each points
 * TOWARDS (ITK/nibabel axcodes convention: "RAS" = i->Right, j->Anterior,
 * k->Superior). */
void md_geom_orientation(const MdVolume *v, char code[4]);
/* Inverse of a 3x3 row-major matrix; returns 0 when singular. */
int md_geom_inv3(const double m[9], double inv[9]);

#endif
