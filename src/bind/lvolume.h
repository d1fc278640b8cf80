/* Registration of the Volume type and of each binding area's functions. */
#ifndef MD_LVOLUME_H
#define MD_LVOLUME_H

#include "lutil.h"

/* Each adds its functions to the module table at index module and its
 * methods to the Volume methods table (module.Volume). */
void md_open_volume(lua_State *L, int module);
void md_open_arith(lua_State *L, int module);
void md_open_io(lua_State *L, int module);
void md_open_runtime(lua_State *L, int module);
/* Pushes the Volume methods table. Stack: +1. */
void md_push_methods(lua_State *L, int module);

#endif
