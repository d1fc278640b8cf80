/* The Mesh userdata (kernels/mesh.h), shared by the mesh binding and the
 * mesh renderer's binding. */
#ifndef MD_LMESH_H
#define MD_LMESH_H

#include "../kernels/mesh.h"
#include "lutil.h"

#define MD_MESH_MT "Mesh"

/* Pushes a new empty Mesh userdata and returns its mesh. Stack: +1. */
MdMesh *md_lua_newmesh(lua_State *L);
/* The Mesh at idx; raises "Mesh expected" or "attempt to use a released mesh". */
MdMesh *md_lua_checkmesh(lua_State *L, int idx);

void md_open_mesh(lua_State *L, int module);

#endif
