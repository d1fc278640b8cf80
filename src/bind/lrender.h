/* Entry points of the picture bindings (picked up by lvol.c as weak symbols). */
#ifndef MD_LRENDER_H
#define MD_LRENDER_H

#include "lutil.h"


#define PICTURE_PNG_LEVEL 1 /* zlib level of written pictures: speed first (v:write can redo one smaller) */

void md_open_render(lua_State *L, int module);
void md_open_plot(lua_State *L, int module);

#endif
