/* Entry point of the C half of the `vol` module. The host preloads it as
 * "vol.core"; lua/vol/init.lua requires it and adds the Lua-written parts. */
#ifndef MD_LVOL_H
#define MD_LVOL_H

#include <lua.h>

/* Opens the C module: pushes its table (functions + Volume metatable set up). */
int md_open_vol_core(lua_State *L);

#endif
