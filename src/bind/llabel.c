/* Binding of connected-component labelling and region measurements
 * (kernels/label): m:label, vol.regionprops. */
#include <stdlib.h>

#include "../core/geom.h"
#include "../kernels/label.h"
#include "../kernels/label_props.h"
#include "lmorph.h"
#include "lvolume.h"

static int l_label(lua_State *L)
{
    static const char *const keys[] = {"connectivity", "background", "per_slice", "axis", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    luaL_argcheck(L, v->ndim == 2 || v->ndim == 3, 1, "expected a 2-D or 3-D volume");
    md_lua_checkopts(L, 2, keys);
    int axis = md_lua_sliceaxis(L, 2, v);
    int planar = v->ndim == 2 || axis != 0;
    lua_Integer conn = md_lua_optintfield(L, 2, "connectivity", planar ? 8 : 26, 1);
    double background = md_lua_optnumfield(L, 2, "background", 0);
    MdVolume *out = md_lua_newlike(L, v, MD_INT32, 0);
    MdError err;
    int64_t count = 0;
    MdCtx ctx = md_ctx_init(&err, "label");
    if (md_label(v, axis, (int)conn, background, out, &count, &ctx) != MD_OK) return md_lua_raise(L, &err);
    lua_pushinteger(L, (lua_Integer)count);
    return 2;
}

#define REGIONS_BOX "medula.regions"

static int regions_gc(lua_State *L)
{
    MdRegion **p = luaL_checkudata(L, 1, REGIONS_BOX);
    free(*p);
    *p = NULL;
    return 0;
}

/* Pushes a box whose __gc frees the region array it will hold. Stack: +1. */
static MdRegion **push_box(lua_State *L)
{
    MdRegion **p = lua_newuserdatauv(L, sizeof *p, 0);
    *p = NULL;
    if (luaL_newmetatable(L, REGIONS_BOX)) {
        lua_pushcfunction(L, regions_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return p;
}

static void set_int(lua_State *L, const char *k, int64_t x)
{
    lua_pushinteger(L, (lua_Integer)x);
    lua_setfield(L, -2, k);
}

static void set_num(lua_State *L, const char *k, double x)
{
    lua_pushnumber(L, x);
    lua_setfield(L, -2, k);
}

/* Pushes the table describing region g of labels v. Stack: +1. */
static void push_region(lua_State *L, const MdVolume *v, const MdRegion *g, int with_intensity)
{
    int nd = v->ndim;
    lua_createtable(L, 0, 10);
    set_int(L, "label", g->label);
    set_int(L, "count", g->count);
    set_num(L, "volume_mm3", (double)g->count * v->spacing[0] * v->spacing[1] * v->spacing[2]);
    double box[6], c[3], w[3];
    for (int a = 0; a < nd; a++) {
        box[a] = (double)g->lo[a] + 1;
        box[nd + a] = (double)g->hi[a] + 1;
        c[a] = g->centroid[a] + 1;
    }
    md_lua_pushintegers(L, box, 2 * nd);
    lua_setfield(L, -2, "bbox");
    md_lua_pushnumbers(L, c, nd);
    lua_setfield(L, -2, "centroid");
    double ijk[3] = {g->centroid[0], g->centroid[1], nd == 3 ? g->centroid[2] : 0};
    md_geom_index_to_world(v, ijk, w);
    md_lua_pushnumbers(L, w, 3);
    lua_setfield(L, -2, "centroid_world");
    if (with_intensity) {
        set_num(L, "mean", g->mean);
        set_num(L, "min", g->min);
        set_num(L, "max", g->max);
    }
}

static int l_regionprops(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    MdVolume *in = lua_isnoneornil(L, 2) ? NULL : md_lua_checkvolume(L, 2);
    MdRegion **box = push_box(L);
    int64_t n = 0;
    MdError err;
    if (md_regionprops(v, in, box, &n, &err) != MD_OK) return md_lua_raise(L, &err);
    lua_createtable(L, n > 1000000 ? 1000000 : (int)n, 0);
    for (int64_t k = 0; k < n; k++) {
        push_region(L, v, &(*box)[k], in != NULL);
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    return 1;
}

static const MdLuaReg methods[] = {
    {"label", l_label,
     "v:label([opts]) -> int32 labels, count\n"
     "Connected-component labelling, as skimage.measure.label: regions are connected\n"
     "voxels of equal value other than background, numbered 1..count in raster order of\n"
     "their first voxel (x fastest), so ids equal skimage's on the (z, y, x) array.\n"
     "  opts  connectivity=6|18|26 (3-D, default 26), 4|8 (2-D or per slice, default 8)\n"
     "        background=0   the value that is not labelled\n"
     "        per_slice=true each slice alone (axis=3 unless given); ids are numbered\n"
     "                       slice by slice\n"
     "        axis=1|2|3     the axis slices are taken across (implies per_slice)\n"
     "  local labels, n = mask:label{connectivity=6}"},
    {NULL, NULL, NULL}};

static const MdLuaReg functions[] = {
    {"regionprops", l_regionprops,
     "vol.regionprops(labels [, intensity]) -> {region, ...}\n"
     "Measures each label > 0 present in labels (an integer volume, any values; cost grows\n"
     "with the voxels and the number of labels, not their values), by increasing label:\n"
     "  label, count (voxels), volume_mm3 (count * spacing product),\n"
     "  bbox {i0, j0, k0, i1, j1, k1} (1-based, inclusive; 4 numbers in 2-D),\n"
     "  centroid {i, j, k} (1-based mean index), centroid_world {x, y, z} (LPS mm),\n"
     "  and with an intensity volume (the labels' shape, any dtype): mean, min, max.\n"
     "Errors: float labels, an intensity volume of another shape.\n"
     "  local labels = mask:label()\n"
     "  for _, r in ipairs(vol.regionprops(labels, ct)) do print(r.label, r.volume_mm3, r.mean) end"},
    {NULL, NULL, NULL}};

void md_open_label(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    md_lua_register(L, functions);
    md_push_methods(L, module);
    md_lua_register(L, methods);
    lua_pop(L, 1);
}
