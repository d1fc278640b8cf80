/* The Volume userdata: construction, fields, voxel access, geometry,
 * lifetime. Arithmetic methods live in larith.c, file I/O in lio.c. */
#include "lvolume.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/geom.h"
#include "../kernels/arith.h"

/* Reads the 1-based voxel index arguments starting at idx into a 0-based
 * linear offset, raising when one is outside the volume. */
static size_t check_index(lua_State *L, const MdVolume *v, int idx, int nidx)
{
    size_t off = 0, stride = 1;
    for (int a = 0; a < v->ndim; a++) {
        lua_Integer i = a < nidx ? luaL_checkinteger(L, idx + a) : 1;
        if (i < 1 || i > v->dim[a])
            luaL_argerror(L, idx + a,
                          lua_pushfstring(L, "index %I out of range 1..%I on axis %d", (LUAI_UACINT)i,
                                          (LUAI_UACINT)v->dim[a], a + 1));
        off += (size_t)(i - 1) * stride;
        stride *= (size_t)v->dim[a];
    }
    return off;
}

static int l_get(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    int nidx = lua_gettop(L) - 1;
    if (nidx != v->ndim)
        return luaL_error(L, "get expects %d indices for a %dD volume (got %d)", v->ndim, v->ndim, nidx);
    size_t off = check_index(L, v, 2, nidx);
    double x = md_load(md_volume_data(v), v->dtype, off);
    if (md_dtype_is_float(v->dtype))
        lua_pushnumber(L, x);
    else
        lua_pushinteger(L, (lua_Integer)x);
    return 1;
}

static int l_set(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    int nidx = lua_gettop(L) - 2;
    if (nidx != v->ndim)
        return luaL_error(L, "set expects %d indices and a value for a %dD volume", v->ndim, v->ndim);
    size_t off = check_index(L, v, 2, nidx);
    double x = luaL_checknumber(L, 2 + nidx);
    md_store(md_volume_data(v), v->dtype, off, md_saturate(x, v->dtype));
    lua_settop(L, 1);
    return 1;
}

/* The geometry readers raise against argument arg (the table of vol.new,
 * or the value of a setter); idx is the value's stack slot. */

/* Reads a direction given as 3 rows of 3 numbers or 9 numbers row-major. */
static void check_direction(lua_State *L, int arg, int idx, double d[9])
{
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE)
        luaL_argerror(L, arg, lua_pushfstring(L, "direction must be a table (got %s)", luaL_typename(L, idx)));
    if (lua_rawlen(L, idx) == 9) {
        md_lua_argnumbers(L, arg, idx, d, 9, "direction");
    } else {
        if (lua_rawlen(L, idx) != 3) luaL_argerror(L, arg, "direction must be 3 rows of 3 numbers or 9 numbers");
        for (int r = 0; r < 3; r++) {
            lua_rawgeti(L, idx, r + 1);
            md_lua_argnumbers(L, arg, -1, d + 3 * r, 3, "direction row");
            lua_pop(L, 1);
        }
    }
    double m[9];
    for (int i = 0; i < 9; i++) m[i] = d[i];
    double inv[9];
    if (!md_geom_inv3(m, inv)) luaL_argerror(L, arg, "direction matrix is singular");
    for (int c = 0; c < 3; c++) {
        double n = sqrt(d[c] * d[c] + d[3 + c] * d[3 + c] + d[6 + c] * d[6 + c]);
        if (fabs(n - 1) > 1e-3)
            luaL_argerror(L, arg, lua_pushfstring(L, "direction column %d must have unit length (got %f)", c + 1, n));
        for (int r = 0; r < 3; r++) d[r * 3 + c] /= n;
    }
}

static void check_spacing(lua_State *L, int arg, int idx, double s[3])
{
    md_lua_argnumbers(L, arg, idx, s, 3, "spacing");
    for (int i = 0; i < 3; i++)
        if (!(s[i] > 0) || !isfinite(s[i]))
            luaL_argerror(L, arg, lua_pushfstring(L, "spacing must be > 0 (got %f on axis %d)", s[i], i + 1));
}

static void check_origin(lua_State *L, int arg, int idx, double o[3])
{
    md_lua_argnumbers(L, arg, idx, o, 3, "origin");
    for (int i = 0; i < 3; i++)
        if (!isfinite(o[i]))
            luaL_argerror(L, arg, lua_pushfstring(L, "origin must be finite (got %f on axis %d)", o[i], i + 1));
}

static int l_new(lua_State *L)
{
    static const char *const keys[] = {"shape", "dtype", "spacing", "origin", "direction", "fill", NULL};
    luaL_checktype(L, 1, LUA_TTABLE);
    md_lua_checkopts(L, 1, keys);
    if (lua_getfield(L, 1, "shape") != LUA_TTABLE) luaL_argerror(L, 1, "'shape' (a table of 2 to 4 sizes) is required");
    int ndim = (int)lua_rawlen(L, -1);
    if (ndim < 2 || ndim > 4) luaL_argerror(L, 1, lua_pushfstring(L, "shape must have 2 to 4 sizes (got %d)", ndim));
    int64_t dim[4];
    for (int i = 0; i < ndim; i++) {
        lua_rawgeti(L, -1, i + 1);
        int ok;
        lua_Integer n = lua_tointegerx(L, -1, &ok);
        if (!ok || n < 1) luaL_argerror(L, 1, lua_pushfstring(L, "shape[%d] must be a positive integer", i + 1));
        dim[i] = n;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_getfield(L, 1, "dtype");
    MdDtype t = md_lua_checkdtype(L, -1, MD_FLOAT32);
    lua_pop(L, 1);
    MdVolume *v = md_lua_newvolume(L);
    md_volume_init(v, t, ndim, dim);
    if (lua_getfield(L, 1, "spacing") != LUA_TNIL) check_spacing(L, 1, -1, v->spacing);
    if (lua_getfield(L, 1, "origin") != LUA_TNIL) check_origin(L, 1, -1, v->origin);
    if (lua_getfield(L, 1, "direction") != LUA_TNIL) check_direction(L, 1, -1, v->direction);
    lua_pop(L, 3);
    MdError err;
    if (md_volume_check_dims(ndim, dim, &err) != MD_OK) return md_lua_raise(L, &err);
    md_lua_alloc(L, v, 1);
    double fill = md_lua_optnumfield(L, 1, "fill", 0);
    if (fill != 0 && md_arith_unary(v, MD_UN_FILL, fill, 0, v, &err) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

static int l_copy(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    MdVolume *c = md_lua_newlike(L, v, -1, 0);
    memcpy(md_volume_data(c), md_volume_data(v), md_volume_nbytes(v));
    lua_getiuservalue(L, 1, 1);
    lua_setiuservalue(L, -2, 1);
    return 1;
}

static int l_release(lua_State *L)
{
    MdVolume *v = luaL_checkudata(L, 1, MD_VOLUME_MT);
    md_volume_release(v);
    return 0;
}

static int l_len(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    lua_pushinteger(L, (lua_Integer)md_volume_count(v));
    return 1;
}

static void fmt_numbers(luaL_Buffer *b, const double *x, int n, const char *sep)
{
    char s[64];
    for (int i = 0; i < n; i++) {
        snprintf(s, sizeof s, "%s%.6g", i ? sep : "", x[i]);
        luaL_addstring(b, s);
    }
}

static int l_tostring(lua_State *L)
{
    MdVolume *v = luaL_checkudata(L, 1, MD_VOLUME_MT);
    if (!v->buf) {
        lua_pushliteral(L, "Volume (released)");
        return 1;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char s[128];
    snprintf(s, sizeof s, "Volume %s ", md_dtype_name(v->dtype));
    luaL_addstring(&b, s);
    for (int i = 0; i < v->ndim; i++) {
        snprintf(s, sizeof s, "%s%lld", i ? "x" : "", (long long)v->dim[i]);
        luaL_addstring(&b, s);
    }
    luaL_addstring(&b, " spacing ");
    fmt_numbers(&b, v->spacing, 3, "x");
    luaL_addstring(&b, " origin (");
    fmt_numbers(&b, v->origin, 3, ", ");
    MdStats st;
    MdError err;
    if (md_stats(v, NULL, &st, &err) == MD_OK) {
        snprintf(s, sizeof s, ") range [%.6g, %.6g]", st.min, st.max);
        luaL_addstring(&b, s);
    } else {
        luaL_addstring(&b, ")");
    }
    luaL_pushresult(&b);
    return 1;
}

static void push_direction(lua_State *L, const double *d)
{
    lua_createtable(L, 3, 0);
    for (int r = 0; r < 3; r++) {
        md_lua_pushnumbers(L, d + 3 * r, 3);
        lua_rawseti(L, -2, r + 1);
    }
}

/* __index: methods first, then the read-only fields. */
static int l_index(lua_State *L)
{
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
    lua_pop(L, 1);
    const char *k = lua_tostring(L, 2);
    if (!k) return 0;
    MdVolume *v = md_lua_checkvolume(L, 1);
    if (strcmp(k, "shape") == 0) {
        lua_createtable(L, v->ndim, 0);
        for (int i = 0; i < v->ndim; i++) {
            lua_pushinteger(L, (lua_Integer)v->dim[i]);
            lua_rawseti(L, -2, i + 1);
        }
    } else if (strcmp(k, "dtype") == 0) {
        lua_pushstring(L, md_dtype_name(v->dtype));
    } else if (strcmp(k, "ndim") == 0) {
        lua_pushinteger(L, v->ndim);
    } else if (strcmp(k, "spacing") == 0) {
        md_lua_pushnumbers(L, v->spacing, 3);
    } else if (strcmp(k, "origin") == 0) {
        md_lua_pushnumbers(L, v->origin, 3);
    } else if (strcmp(k, "direction") == 0) {
        push_direction(L, v->direction);
    } else if (strcmp(k, "tstep") == 0) {
        lua_pushnumber(L, v->tstep);
    } else if (strcmp(k, "meta") == 0) {
        /* a fresh copy, so that changing it cannot alter the volume */
        lua_newtable(L);
        if (lua_getiuservalue(L, 1, 1) == LUA_TTABLE) {
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_pushvalue(L, -2);
                lua_insert(L, -2);
                lua_rawset(L, -5);
            }
        }
        lua_pop(L, 1);
    } else {
        return 0;
    }
    return 1;
}

static int l_newindex(lua_State *L)
{
    const char *k = lua_tostring(L, 2);
    return luaL_error(L, "cannot assign field '%s' of a Volume (fields are read-only; use the "
                         "set_ methods)", k ? k : "?");
}

/* The setters validate into a local copy first, so a rejected value leaves
 * the volume's geometry as it was. */
static int l_set_spacing(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    double s[3];
    check_spacing(L, 2, 2, s);
    memcpy(v->spacing, s, sizeof s);
    lua_settop(L, 1);
    return 1;
}

static int l_set_origin(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    double o[3];
    check_origin(L, 2, 2, o);
    memcpy(v->origin, o, sizeof o);
    lua_settop(L, 1);
    return 1;
}

static int l_set_direction(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    double d[9];
    check_direction(L, 2, 2, d);
    memcpy(v->direction, d, sizeof d);
    lua_settop(L, 1);
    return 1;
}

static int l_set_meta(lua_State *L)
{
    md_lua_checkvolume(L, 1);
    luaL_checkstring(L, 2);
    if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, 1, 1);
    }
    int t = lua_gettop(L);
    lua_pushvalue(L, 2);
    if (lua_isnoneornil(L, 3))
        lua_pushnil(L);
    else
        luaL_tolstring(L, 3, NULL);
    lua_rawset(L, t);
    lua_settop(L, 1);
    return 1;
}

static void push_matrix4(lua_State *L, const double A[16])
{
    lua_createtable(L, 4, 0);
    for (int r = 0; r < 4; r++) {
        md_lua_pushnumbers(L, A + 4 * r, 4);
        lua_rawseti(L, -2, r + 1);
    }
}

static int l_affine(lua_State *L)
{
    static const char *const keys[] = {"ras", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    double A[16];
    if (md_lua_optboolfield(L, 2, "ras", 0))
        md_geom_affine_ras(v, A);
    else
        md_geom_affine(v, A);
    push_matrix4(L, A);
    return 1;
}

static int l_set_affine(lua_State *L)
{
    static const char *const keys[] = {"ras", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    md_lua_checkopts(L, 3, keys);
    double A[16];
    for (int r = 0; r < 4; r++) {
        lua_rawgeti(L, 2, r + 1);
        md_lua_checknumbers(L, -1, A + 4 * r, 4, "affine row");
        lua_pop(L, 1);
    }
    if (md_lua_optboolfield(L, 3, "ras", 0))
        for (int c = 0; c < 4; c++) {
            A[c] = -A[c];
            A[4 + c] = -A[4 + c];
        }
    MdVolume tmp = *v;
    MdError err;
    if (md_geom_from_affine(&tmp, A, &err) != MD_OK) return md_lua_raise(L, &err);
    md_volume_copy_geometry(v, &tmp);
    lua_settop(L, 1);
    return 1;
}

static int l_index_to_world(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    double ijk[3], xyz[3];
    for (int i = 0; i < 3; i++) ijk[i] = (i < 2 || !lua_isnoneornil(L, 4)) ? luaL_checknumber(L, 2 + i) - 1 : 0;
    md_geom_index_to_world(v, ijk, xyz);
    for (int i = 0; i < 3; i++) lua_pushnumber(L, xyz[i]);
    return 3;
}

static int l_world_to_index(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    double ijk[3], xyz[3];
    for (int i = 0; i < 3; i++) xyz[i] = luaL_checknumber(L, 2 + i);
    MdError err;
    if (md_geom_world_to_index(v, xyz, ijk, &err) != MD_OK) return md_lua_raise(L, &err);
    for (int i = 0; i < 3; i++) lua_pushnumber(L, ijk[i] + 1);
    return 3;
}

static int l_orientation(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    char code[4];
    md_geom_orientation(v, code);
    lua_pushstring(L, code);
    return 1;
}

static int l_gc(lua_State *L)
{
    MdVolume *v = luaL_checkudata(L, 1, MD_VOLUME_MT);
    md_volume_release(v);
    return 0;
}

static const MdLuaReg methods[] = {
    {"get", l_get,
     "v:get(i, j, k [, t]) -> number\n"
     "The voxel at 1-based indices (one per axis: 2 for 2D, 3 for 3D, 4 for 4D).\n"
     "Integer dtypes give Lua integers, float dtypes floats.\n"
     "Errors: an index outside 1..shape[axis].\n"
     "Example: ct:get(256, 256, 150)  --> -812"},
    {"set", l_set,
     "v:set(i, j, k [, t], x) -> v\n"
     "In place: sets the voxel at 1-based indices to x, rounded to nearest and\n"
     "saturated to the dtype's range for integer dtypes (NaN becomes 0).\n"
     "Example: mask:set(10, 20, 30, 1)"},
    {"copy", l_copy,
     "v:copy() -> Volume\nA new volume with its own copy of the voxels, geometry and metadata."},
    {"release", l_release,
     "v:release()\nFrees the voxel buffer now (as __gc and __close do); using v afterwards\n"
     "raises \"attempt to use a released volume\"."},
    {"set_spacing", l_set_spacing,
     "v:set_spacing{sx, sy, sz} -> v\nIn place: sets the voxel spacing in mm (each > 0)."},
    {"set_origin", l_set_origin,
     "v:set_origin{x, y, z} -> v\nIn place: sets the LPS world position (mm) of voxel (1, 1, 1)."},
    {"set_direction", l_set_direction,
     "v:set_direction(d) -> v\nIn place: sets the direction cosines, given as 3 rows of 3 numbers\n"
     "(column c = LPS direction of axis c) or 9 numbers row-major. Columns must\n"
     "have unit length (1e-3) and the matrix must be invertible."},
    {"set_affine", l_set_affine,
     "v:set_affine(A [, {ras=true}]) -> v\nIn place: sets spacing, direction and origin from a 4x4 matrix\n"
     "mapping 0-based (i, j, k, 1) to LPS mm (RAS mm with ras=true)."},
    {"set_meta", l_set_meta,
     "v:set_meta(key, value) -> v\nIn place: sets (or with nil, removes) a metadata string."},
    {"affine", l_affine,
     "v:affine([{ras=true}]) -> 4x4 table\nThe matrix mapping 0-based voxel indices (i, j, k, 1) to LPS world mm,\n"
     "as rows. With ras=true, the RAS matrix nibabel shows as img.affine.\n"
     "Note: Lua indices are 1-based; the affine uses 0-based ones as NIfTI does."},
    {"index_to_world", l_index_to_world,
     "v:index_to_world(i, j, k) -> x, y, z\nLPS world mm of the continuous 1-based index (i, j, k)."},
    {"world_to_index", l_world_to_index,
     "v:world_to_index(x, y, z) -> i, j, k\nContinuous 1-based index of the LPS world point (x, y, z) mm;\n"
     "round to get the nearest voxel."},
    {"orientation", l_orientation,
     "v:orientation() -> string\nThe orientation code: for axes i, j, k, the world direction each points\n"
     "towards, e.g. \"LPS\" (ITK/DICOM identity) or \"RAS\" (nibabel's canonical)."},
    {NULL, NULL, NULL}};

static const MdLuaReg functions[] = {
    {"new", l_new,
     "vol.new{shape={nx, ny [, nz [, nt]]}, dtype=\"float32\", spacing={..}, origin={..},\n"
     "        direction=.., fill=0} -> Volume\n"
     "A new volume filled with zeros (or fill). x is the fastest axis in memory.\n"
     "dtype: uint8 int8 uint16 int16 uint32 int32 float32 float64 (default float32).\n"
     "spacing (mm, default 1), origin (LPS mm of voxel 1,1,1, default 0), direction\n"
     "(3 rows of 3, column c = axis c, default identity).\n"
     "Errors: unknown options, non-positive sizes, sizes whose product overflows,\n"
     "not enough memory.\n"
     "Example: local m = vol.new{shape={64, 64, 32}, dtype=\"uint8\", spacing={1, 1, 2.5}}"},
    {NULL, NULL, NULL}};

void md_open_volume(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    md_lua_register(L, functions);
    luaL_newmetatable(L, MD_VOLUME_MT);
    lua_newtable(L); /* methods */
    md_lua_register(L, methods);
    lua_pushvalue(L, -1);
    lua_setfield(L, module, "Volume");
    lua_pushcclosure(L, l_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, l_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, l_gc);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, l_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, l_len);
    lua_setfield(L, -2, "__len");
    lua_pushliteral(L, "Volume");
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
}

/* The methods table, for other binding files to add to. Stack: +1. */
void md_push_methods(lua_State *L, int module)
{
    lua_getfield(L, module, "Volume");
}
