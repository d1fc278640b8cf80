/* Binding helpers shared by the geometry and resampling bindings. */
#ifndef MD_LGEOM_H
#define MD_LGEOM_H

#include "lutil.h"

/* Called by md_open_vol_core (lvol.c). */
void md_open_geom(lua_State *L, int module);
void md_open_resample(lua_State *L, int module);

/* Pushes a new volume with header h (dims, dtype, geometry; its buffer
 * ignored), allocated, carrying the metadata of the volume at index src
 * (0: none). Raises on bad dims or no memory. Stack: +1. */
MdVolume *md_lgeom_push(lua_State *L, const MdVolume *h, int src);

/* Reads n integers from the table at idx into out (what names it in
 * errors). */
void md_lgeom_checkints(lua_State *L, int idx, int64_t *out, int n, const char *what);

/* Spatial axes of v: 2 for a 2-D volume, else 3. */
int md_lgeom_spatial(const MdVolume *v);

#endif
