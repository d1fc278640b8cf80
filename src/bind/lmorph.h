/* Entry points of the mask areas. Their argument helpers (masks of any
 * dtype, per-slice options, choices) are in lutil.h, included here for the
 * files that found them here. */
#ifndef MD_LMORPH_H
#define MD_LMORPH_H

#include "lutil.h"

/* Called from lvol.c's table of areas; md_open_morph also calls
 * md_open_fill (lfill.h). */
void md_open_morph(lua_State *L, int module);
void md_open_label(lua_State *L, int module);
void md_open_edt(lua_State *L, int module);

#endif
