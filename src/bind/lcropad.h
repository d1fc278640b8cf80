/* Binding of kernels/cropad: crop, pad, slices, flips, reorientation, stacks. */
#ifndef MD_LCROPAD_H
#define MD_LCROPAD_H

#include "lutil.h"

/* Called by md_open_vol_core (lvol.c). */
void md_open_cropad(lua_State *L, int module);

#endif
