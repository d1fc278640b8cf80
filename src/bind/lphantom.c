/* vol.phantom: synthetic volumes for the demo and the specs (a chest CT,
 * spheres, boxes). Argument checking and geometry only; the voxels are drawn
 * by kernels/phantom.c. */
#include "../kernels/phantom.h"
#include <string.h>

#include "lutil.h"

/* Called by md_open_vol_core (lvol.c). */
void md_open_phantom(lua_State *L, int module);

/* Reads opts.shape (a list of lo..hi positive integers) into dim; returns
 * the count, or def_n with def copied when the key is absent. */
static int check_shape(lua_State *L, int lo, int hi, int64_t dim[3], const int64_t *def, int def_n)
{
    dim[0] = dim[1] = dim[2] = 1;
    if (lua_getfield(L, 1, "shape") == LUA_TNIL) {
        lua_pop(L, 1);
        if (!def) luaL_argerror(L, 1, "'shape' (a table of sizes) is required");
        for (int a = 0; a < def_n; a++) dim[a] = def[a];
        return def_n;
    }
    if (!lua_istable(L, -1)) luaL_argerror(L, 1, "'shape' must be a table of sizes");
    int n = (int)lua_rawlen(L, -1);
    if (n < lo || n > hi)
        luaL_argerror(L, 1, lo == hi ? lua_pushfstring(L, "shape must have %d sizes (got %d)", lo, n)
                                     : lua_pushfstring(L, "shape must have %d to %d sizes (got %d)", lo, hi, n));
    for (int a = 0; a < n; a++) {
        lua_rawgeti(L, -1, a + 1);
        int ok;
        lua_Integer x = lua_tointegerx(L, -1, &ok);
        if (!ok || x < 1) luaL_argerror(L, 1, lua_pushfstring(L, "shape[%d] must be a positive integer", a + 1));
        dim[a] = x;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return n;
}

/* Reads opts[key] (n numbers) into out, keeping out when absent. */
static void opt_numbers(lua_State *L, const char *key, double *out, int n)
{
    if (lua_getfield(L, 1, key) != LUA_TNIL) md_lua_argnumbers(L, 1, -1, out, n, key);
    lua_pop(L, 1);
}

/* Pushes a new allocated volume of dtype t and dims; spacing checked > 0. */
static MdVolume *new_volume(lua_State *L, MdDtype t, int ndim, const int64_t dim[3], const double sp[3])
{
    MdError err;
    for (int a = 0; a < 3; a++)
        if (!(sp[a] > 0))
            luaL_argerror(L, 1, lua_pushfstring(L, "spacing must be > 0 (got %f on axis %d)", sp[a], a + 1));
    if (md_volume_check_dims(ndim, dim, &err) != MD_OK) md_lua_raise(L, &err);
    MdVolume *v = md_lua_newvolume(L);
    md_volume_init(v, t, ndim, dim);
    for (int a = 0; a < 3; a++) v->spacing[a] = sp[a];
    md_lua_alloc(L, v, 0);
    return v;
}

static int l_chest(lua_State *L)
{
    static const char *const keys[] = {"shape", "spacing", "seed", "table", "joined_lungs", "open_dome", "truth", NULL};
    static const char *const tables[] = {"none", "narrow", "sides", NULL};
    static const int64_t def_shape[3] = {256, 256, 120};
    if (lua_isnoneornil(L, 1)) lua_settop(L, 0), lua_newtable(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    md_lua_checkopts(L, 1, keys);
    int64_t dim[3];
    check_shape(L, 3, 3, dim, def_shape, 3);
    double sp[3] = {1.4, 1.4, 2.5};
    opt_numbers(L, "spacing", sp, 3);
    lua_Integer seed = 1;
    if (lua_getfield(L, 1, "seed") != LUA_TNIL) {
        int ok;
        seed = lua_tointegerx(L, -1, &ok);
        if (!ok) luaL_argerror(L, 1, "option 'seed' must be an integer");
    }
    lua_pop(L, 1);
    MdChestOpts o = {.seed = (uint64_t)seed, .table = MD_PH_TABLE_SIDES};
    const char *table = md_lua_optstrfield(L, 1, "table", "sides");
    int t = -1;
    for (int i = 0; tables[i]; i++)
        if (strcmp(table, tables[i]) == 0) t = i;
    if (t < 0) luaL_argerror(L, 1, lua_pushfstring(L, "option 'table' must be none, narrow or sides (got '%s')", table));
    o.table = t;
    o.joined_lungs = md_lua_optboolfield(L, 1, "joined_lungs", 0);
    o.open_dome = md_lua_optboolfield(L, 1, "open_dome", 0);
    int want_truth = md_lua_optboolfield(L, 1, "truth", 0);
    MdVolume *v = new_volume(L, MD_INT16, 3, dim, sp);
    for (int a = 0; a < 3; a++) v->origin[a] = -(double)(dim[a] / 2) * sp[a];
    MdVolume *truth = NULL;
    if (want_truth) {
        truth = md_lua_newlike(L, v, MD_UINT8, 0);
        md_volume_copy_geometry(truth, v);
    }
    MdError err;
    if (md_phantom_chest_ex(v, truth, &o, &err) != MD_OK) return md_lua_raise(L, &err);
    return want_truth ? 2 : 1;
}

/* Shared options of sphere and box: shape, spacing, dtype, value, background.
 * Pushes the new volume. Stack: +1. */
static MdVolume *shape_volume(lua_State *L, const char *const keys[], double *value, double *bg)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    md_lua_checkopts(L, 1, keys);
    int64_t dim[3];
    int ndim = check_shape(L, 2, 3, dim, NULL, 0);
    double sp[3] = {1, 1, 1};
    if (lua_getfield(L, 1, "spacing") != LUA_TNIL) md_lua_argspatial(L, 1, -1, sp, ndim, "spacing");
    lua_pop(L, 1);
    MdDtype t = md_lua_optdtype(L, 1, MD_UINT8);
    *value = md_lua_optnumfield(L, 1, "value", 1);
    *bg = md_lua_optnumfield(L, 1, "background", 0);
    return new_volume(L, t, ndim, dim, sp);
}

static int l_sphere(lua_State *L)
{
    static const char *const keys[] = {"shape", "spacing", "dtype", "center", "radius_mm", "value",
                                       "background", NULL};
    double value, bg;
    MdVolume *v = shape_volume(L, keys, &value, &bg);
    double c[3] = {(double)(v->dim[0] + 1) / 2, (double)(v->dim[1] + 1) / 2, (double)(v->dim[2] + 1) / 2};
    opt_numbers(L, "center", c, v->ndim);
    for (int a = 0; a < 3; a++) c[a] -= 1; /* 1-based -> 0-based */
    if (lua_getfield(L, 1, "radius_mm") == LUA_TNIL) luaL_argerror(L, 1, "'radius_mm' is required");
    lua_pop(L, 1);
    double r = md_lua_optnumfield(L, 1, "radius_mm", 0);
    MdError err;
    if (md_phantom_sphere(v, c, r, value, bg, &err) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

static int l_box(lua_State *L)
{
    static const char *const keys[] = {"shape", "spacing", "dtype", "lo", "hi", "value", "background", NULL};
    double value, bg;
    MdVolume *v = shape_volume(L, keys, &value, &bg);
    double lo[3] = {1, 1, 1}, hi[3] = {(double)v->dim[0], (double)v->dim[1], (double)v->dim[2]};
    opt_numbers(L, "lo", lo, v->ndim);
    opt_numbers(L, "hi", hi, v->ndim);
    int64_t ilo[3], ihi[3];
    for (int a = 0; a < 3; a++) ilo[a] = (int64_t)lo[a] - 1, ihi[a] = (int64_t)hi[a] - 1;
    MdError err;
    if (md_phantom_box(v, ilo, ihi, value, bg, &err) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

static const MdLuaReg functions[] = {
    {"chest", l_chest,
     "vol.phantom.chest{[shape=], [spacing=], [seed=], [table=\"sides\"], [joined_lungs=false],\n"
     "                  [open_dome=false], [truth=false]} -> Volume [, lung mask]\n"
     "A synthetic chest CT in Hounsfield units (int16): body with a fat layer, two lungs\n"
     "with vessels and two nodules, airways, heart and aorta, spine, ribs, sternum, a\n"
     "patient table crossing the whole image width, and -2000 outside the scanner circle.\n"
     "  shape    {nx, ny, nz}, default {256, 256, 120}; the anatomy scales to the field of view\n"
     "  spacing  mm, default {1.4, 1.4, 2.5}\n"
     "  seed     integer, default 1: the noise of soft tissue, fat and heart (+-10 HU)\n"
     "  table    \"sides\" (the base crosses the whole width, cutting the air below it off\n"
     "           from the rest), \"narrow\" (a base inside the image) or \"none\"\n"
     "  joined_lungs  the lungs touch in an anterior junction (one air component)\n"
     "  open_dome     the diaphragm rises across each lung from side to side (no axial\n"
     "           slice shows lung all around it, as in patients)\n"
     "  truth    also return the lung mask (uint8): parenchyma with its vessels and\n"
     "           nodules, no airways, heart or bone\n"
     "Geometry: LPS, identity direction, voxel (nx//2+1, ny//2+1, nz//2+1) at world (0, 0, 0).\n"
     "Deterministic: the same arguments give the same voxels on any thread count.\n"
     "Errors: bad shape or spacing, unknown options.\n"
     "  local ct = vol.phantom.chest{seed=7}\n"
     "  print(ct:get(129, 129, 61))"},
    {"sphere", l_sphere,
     "vol.phantom.sphere{shape=, radius_mm=, [center=], [spacing=], [dtype=], [value=], [background=]} -> Volume\n"
     "A 2-D or 3-D volume holding value inside a sphere (disc) and background elsewhere.\n"
     "  center     1-based voxel coordinates (fractions allowed), default the middle\n"
     "  radius_mm  distance through spacing (default spacing 1, so mm = voxels)\n"
     "  spacing    mm per axis: {sx, sy, sz}, or {sx, sy} for a 2-D shape\n"
     "  dtype      default uint8; value 1 and background 0 by default\n"
     "A voxel is inside when the distance from its centre to center is <= radius_mm.\n"
     "  local s = vol.phantom.sphere{shape={32, 32, 32}, radius_mm=8}\n"
     "  print(s:stats().sum)"},
    {"box", l_box,
     "vol.phantom.box{shape=, [lo=], [hi=], [spacing=], [dtype=], [value=], [background=]} -> Volume\n"
     "A 2-D or 3-D volume holding value in the box lo..hi (1-based, inclusive, clipped to\n"
     "the volume; default the whole volume) and background elsewhere. dtype default uint8.\n"
     "  local b = vol.phantom.box{shape={10, 10, 10}, lo={3, 3, 3}, hi={5, 6, 7}}\n"
     "  print(b:stats().sum)  -- 3 * 4 * 5 = 60"},
    {NULL, NULL, NULL}};

void md_open_phantom(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    lua_newtable(L);
    md_lua_register(L, functions);
    lua_setfield(L, module, "phantom");
}
