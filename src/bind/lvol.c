/* Assembles the C half of the `vol` module from each binding area. Areas
 * after the foundation are weak symbols: a build without an area's binding
 * file still links, and adding the file is all it takes to register it. */
#include "lvol.h"

#include "lvolume.h"

#define MD_AREAS(X) X(phantom) X(geom) X(resample) X(morph) X(label) X(edt) X(patch) X(dicom) X(png) X(intensity) X(filter)

#define MD_X(area) void md_open_##area(lua_State *L, int module) __attribute__((weak));
MD_AREAS(MD_X)
#undef MD_X

int md_open_vol_core(lua_State *L)
{
    lua_newtable(L);
    md_open_volume(L, -1);
    md_open_arith(L, -1);
    md_open_io(L, -1);
    md_open_runtime(L, -1);
#define MD_X(area) \
    if (md_open_##area) md_open_##area(L, -1);
    MD_AREAS(MD_X)
#undef MD_X
    return 1;
}
