/* Binding of kernels/resample, resample_sep and transform: resampling onto
 * a new grid, zooms and affine transforms. */
#ifndef MD_LRESAMPLE_H
#define MD_LRESAMPLE_H

#include "lutil.h"

/* Called by md_open_vol_core (lvol.c). */
void md_open_resample(lua_State *L, int module);

#endif
