/* Mesh writers: binary STL, binary PLY, Wavefront OBJ and legacy VTK
 * polydata, chosen by the path's suffix (one row each in a table). Every
 * file is written under a temporary name and renamed when complete.
 * Coordinates are written as stored: LPS millimetres. */
#ifndef MD_MESH_WRITE_H
#define MD_MESH_WRITE_H

#include "../kernels/mesh.h"

/* Writes m to path; the format comes from the suffix (.stl .ply .obj .vtk,
 * any case). Fails on another suffix (naming the valid ones) or on I/O. */
MdStatus md_mesh_write(const char *path, const MdMesh *m, MdError *err) MD_MUST_CHECK;

/* The suffixes understood, for messages: ".stl, .ply, .obj, .vtk". */
const char *md_mesh_suffixes(void);

#endif
