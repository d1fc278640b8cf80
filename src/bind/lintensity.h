/* Argument helpers shared by the intensity and filter bindings. */
#ifndef MD_LINTENSITY_H
#define MD_LINTENSITY_H

#include "lvolume.h"

void md_open_intensity(lua_State *L, int module);
void md_open_filter(lua_State *L, int module);

/* Option 'mask' of the table at opts as a uint8 mask of v's shape (a copy
 * when it had another dtype), left on the stack for the call; NULL when
 * absent. Raises when it is not a Volume or its shape differs. */
MdVolume *md_lua_optmask(lua_State *L, int opts, const MdVolume *v);

/* v:median() / v:median{mask=}: numpy.median of the voxels (pushes a number). */
int md_lua_median_value(lua_State *L);

#endif
