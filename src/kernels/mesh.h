/* The triangle mesh: float32 vertices in LPS millimetres, int32 faces
 * (three vertex indices, counter-clockwise seen from outside, so normals by
 * the right-hand rule point out of the object), and the measures computed
 * from them. Built by marching cubes (mcubes.h), changed by smoothing and
 * decimation (here), written by io/mesh_write.h. */
#ifndef MD_MESH_H
#define MD_MESH_H

#include <stdint.h>

#include "../core/ctx.h"
#include "../core/volume.h"

typedef struct MdMesh {
    MdBuffer *vbuf;   /* float32 x, y, z per vertex (NULL when empty) */
    MdBuffer *fbuf;   /* int32 a, b, c per face (NULL when empty) */
    int64_t nverts;
    int64_t nfaces;
} MdMesh;

static inline float *md_mesh_verts(const MdMesh *m) { return m->vbuf ? (float *)m->vbuf->data : NULL; }
static inline int32_t *md_mesh_faces(const MdMesh *m) { return m->fbuf ? (int32_t *)m->fbuf->data : NULL; }

/* Allocates room for nverts vertices and nfaces faces (contents undefined);
 * any previous buffers of m must have been released. */
MdStatus md_mesh_alloc(MdMesh *m, int64_t nverts, int64_t nfaces, MdError *err) MD_MUST_CHECK;
/* Drops both buffers; m becomes the empty mesh. */
void md_mesh_release(MdMesh *m);

/* Surface area (mm^2) and enclosed volume (mm^3, signed: positive for a
 * closed outward-oriented surface), summed in double per block of faces and
 * combined in order, so the same on any thread count. */
double md_mesh_area(const MdMesh *m);
double md_mesh_volume(const MdMesh *m);
/* Lower and upper corners of the vertices' bounding box (zeros when empty). */
void md_mesh_bounds(const MdMesh *m, double lo[3], double hi[3]);

/* Taubin smoothing (lambda|mu): `iterations` pairs of a shrinking step with
 * factor lambda and an inflating step with mu (< -lambda) over the umbrella
 * operator of each vertex's neighbours. Changes m's vertices in place; the
 * faces stay. */
MdStatus md_mesh_smooth(MdMesh *m, int iterations, double lambda, double mu, MdCtx *ctx) MD_MUST_CHECK;

/* Decimation by vertex clustering: vertices are merged per cell of a grid
 * of `cell` mm (their mean position), faces that collapse are dropped, and
 * duplicate faces removed. Replaces m's buffers (new ones, old released). */
MdStatus md_mesh_decimate(MdMesh *m, double cell, MdCtx *ctx) MD_MUST_CHECK;

#endif
