/* A software renderer for meshes: orthographic camera around the mesh,
 * z-buffer, Lambert shading with a light at the camera, into a uint8 RGB
 * picture (w, h, 1, 3). Parallel over bands of rows, each band drawing
 * every triangle in face order, so the picture never depends on threads. */
#ifndef MD_MESHRENDER_H
#define MD_MESHRENDER_H

#include "mesh.h"

typedef struct MdMeshView {
    double azimuth;    /* degrees; 0 looks at the patient's front (from anterior), 90 from
                          the patient's left, 180 from behind */
    double elevation;  /* degrees; 90 looks down from above (superior) */
    unsigned char rgb[3], background[3];
    double margin;     /* fraction of the picture left free at each side */
} MdMeshView;

/* Draws m into pic (allocated by the caller). Screen right is (cos az,
 * sin az, 0) in LPS; screen up is right x view direction, so the front view
 * shows the patient's left on the right and superior up. Shade: colour *
 * (0.2 + 0.8 |n . l|) with n the face normal and l toward the camera. */
MdStatus md_mesh_render(const MdMesh *m, const MdMeshView *view, MdVolume *pic, MdCtx *ctx) MD_MUST_CHECK;

#endif
