/* Assembles the C half of the `vol` module from each binding area, from a
 * plain table of openers as Lua's linit.c lists its libraries. A new area
 * is one more name in MD_AREAS (its binding file defines md_open_<name>). */
#include "lvol.h"

#include "lvolume.h"

#define MD_AREAS(X) X(phantom) X(cropad) X(resample) X(morph) X(label) X(edt) X(patch) X(dicom) X(png) X(augment) X(dicom_write) X(fs) X(proc) X(metrics) X(n4) X(mesh) X(render) X(plot) X(intensity) X(filter)

#define MD_X(area) void md_open_##area(lua_State *L, int module);
MD_AREAS(MD_X)
#undef MD_X

/* Registration order: the foundation, then the areas of MD_AREAS. */
static const struct {
    const char *name;
    void (*open)(lua_State *L, int module);
} areas[] = {
    {"volume", md_open_volume},
    {"arith", md_open_arith},
    {"io", md_open_io},
    {"runtime", md_open_runtime},
#define MD_X(area) {#area, md_open_##area},
    MD_AREAS(MD_X)
#undef MD_X
};

int md_open_vol_core(lua_State *L)
{
    lua_newtable(L);
    for (size_t i = 0; i < sizeof areas / sizeof areas[0]; i++) {
        md_lua_set_area(areas[i].name); /* help() groups the functions by the area that registers them */
        areas[i].open(L, -1);
    }
    md_lua_set_area(NULL);
    return 1;
}
