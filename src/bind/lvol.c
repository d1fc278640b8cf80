/* Assembles the C half of the `vol` module from each binding area. Areas
 * after the foundation are weak symbols: a build without an area's binding
 * file still links, and adding the file is all it takes to register it. */
#include "lvol.h"

#include "lvolume.h"

#define MD_AREAS(X) X(phantom) X(geom) X(resample) X(morph) X(label) X(edt) X(patch) X(dicom) X(png) X(augment) X(dicom_write) X(fs) X(proc) X(metrics) X(n4) X(mesh) X(render) X(plot)

#define MD_X(area) void md_open_##area(lua_State *L, int module) __attribute__((weak));
MD_AREAS(MD_X)
#undef MD_X

int md_open_vol_core(lua_State *L)
{
    lua_newtable(L);
    md_lua_set_area("volume"); /* help() groups the functions by the area that registers them */
    md_open_volume(L, -1);
    md_lua_set_area("arith");
    md_open_arith(L, -1);
    md_lua_set_area("io");
    md_open_io(L, -1);
    md_lua_set_area("runtime");
    md_open_runtime(L, -1);
#define MD_X(area) \
    md_lua_set_area(#area); \
    if (md_open_##area) md_open_##area(L, -1);
    MD_AREAS(MD_X)
#undef MD_X
    md_lua_set_area(NULL);
    return 1;
}
