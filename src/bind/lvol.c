/* Assembles the C half of the `vol` module from each binding area. */
#include "lvol.h"

#include "lvolume.h"

int md_open_vol_core(lua_State *L)
{
    lua_newtable(L);
    md_open_volume(L, -1);
    md_open_arith(L, -1);
    md_open_io(L, -1);
    md_open_runtime(L, -1);
    return 1;
}
