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
        return luaL_argerror(L, 2 + (nidx < v->ndim ? nidx : v->ndim),
                             lua_pushfstring(L, "get expects %d indices for a %dD volume (got %d)", v->ndim,
                                             v->ndim, nidx));
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
        return luaL_argerror(L, 2 + (nidx < v->ndim ? nidx + 1 : v->ndim + 1),
                             lua_pushfstring(L, "set expects %d indices and a value for a %dD volume (got %d "
                                                "arguments after v)", v->ndim, v->ndim, nidx + 1));
    size_t off = check_index(L, v, 2, nidx);
    double x = luaL_checknumber(L, 2 + nidx);
    md_store(md_volume_data(v), v->dtype, off, md_saturate(x, v->dtype));
    lua_settop(L, 1);
    return 1;
}

/* Reads a direction given as 3 rows of 3 numbers or 9 numbers row-major
 * (for a 2-D volume also 2 rows of 2 or 4 numbers), raising against
 * argument arg (0: a plain error, which vol.new words as its option's). */
static void check_direction(lua_State *L, int arg, int idx, double d[9], int ndim)
{
    md_lua_argmatrix3(L, arg, idx, d, ndim, "direction");
    double m[9];
    for (int i = 0; i < 9; i++) m[i] = d[i];
    double inv[9];
    if (!md_geom_inv3(m, inv)) md_lua_argfail(L, arg, "direction matrix is singular");
    for (int c = 0; c < 3; c++) {
        double n = sqrt(d[c] * d[c] + d[3 + c] * d[3 + c] + d[6 + c] * d[6 + c]);
        if (fabs(n - 1) > 1e-3)
            md_lua_argfail(L, arg, lua_pushfstring(L, "direction column %d must have unit length (got %f)", c + 1, n));
        for (int r = 0; r < 3; r++) d[r * 3 + c] /= n;
    }
}

/* s holds the current (or default) spacing: a 2-D volume may give 2 numbers. */
static void check_spacing(lua_State *L, int arg, int idx, double s[3], int ndim)
{
    md_lua_argspatial(L, arg, idx, s, ndim, "spacing");
    for (int i = 0; i < 3; i++)
        if (!(s[i] > 0) || !isfinite(s[i]))
            md_lua_argfail(L, arg, lua_pushfstring(L, "spacing must be > 0 (got %f on axis %d)", s[i], i + 1));
}

static void check_origin(lua_State *L, int arg, int idx, double o[3], int ndim)
{
    md_lua_argspatial(L, arg, idx, o, ndim, "origin");
    for (int i = 0; i < 3; i++)
        if (!isfinite(o[i]))
            md_lua_argfail(L, arg, lua_pushfstring(L, "origin must be finite (got %f on axis %d)", o[i], i + 1));
}
/* vol.new's geometry options, checked in protected mode so that a bad one
 * reads "bad argument #1 to 'new' (option 'spacing': ...)". */
typedef struct {
    double *out;
    int ndim, which; /* 0 spacing, 1 origin, 2 direction */
} GeomOption;

static int check_geom_option(lua_State *L)
{
    const GeomOption *g = lua_touserdata(L, 2);
    if (g->which == 0) check_spacing(L, 0, 1, g->out, g->ndim);
    else if (g->which == 1) check_origin(L, 0, 1, g->out, g->ndim);
    else check_direction(L, 0, 1, g->out, g->ndim);
    return 0;
}

static void new_geom_option(lua_State *L, const char *key, int which, double *out, int ndim)
{
    if (lua_getfield(L, 1, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    GeomOption g = {out, ndim, which};
    lua_pushcfunction(L, check_geom_option);
    lua_insert(L, -2);
    lua_pushlightuserdata(L, &g);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK)
        luaL_argerror(L, 1, lua_pushfstring(L, "option '%s': %s", key, lua_tostring(L, -1)));
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
    MdDtype t = md_lua_optdtype(L, 1, MD_FLOAT32);
    MdVolume *v = md_lua_newvolume(L);
    md_volume_init(v, t, ndim, dim);
    new_geom_option(L, "spacing", 0, v->spacing, ndim);
    new_geom_option(L, "origin", 1, v->origin, ndim);
    new_geom_option(L, "direction", 2, v->direction, ndim);
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

/* Reads the new shape for reshape (one size may be -1: inferred). */
static int check_new_shape(lua_State *L, const MdVolume *v, int64_t dim[4])
{
    luaL_checktype(L, 2, LUA_TTABLE);
    int ndim = (int)lua_rawlen(L, 2), infer = -1;
    if (ndim < 2 || ndim > 4)
        luaL_argerror(L, 2, lua_pushfstring(L, "the shape must have 2 to 4 sizes (got %d)", ndim));
    int64_t known = 1, total = (int64_t)md_volume_count(v);
    for (int a = 0; a < ndim; a++) {
        lua_rawgeti(L, 2, a + 1);
        int ok;
        lua_Integer n = lua_tointegerx(L, -1, &ok);
        lua_pop(L, 1);
        if (ok && n == -1 && infer < 0) {
            infer = a;
            dim[a] = 1;
            continue;
        }
        if (!ok || n < 1)
            luaL_argerror(L, 2, lua_pushfstring(L, "size %d must be a positive integer (or one -1)", a + 1));
        dim[a] = n;
        known *= n;
    }
    if (infer >= 0 && known > 0 && total % known == 0) dim[infer] = total / known;
    char was[96];
    if ((infer >= 0 ? dim[infer] * known : known) != total)
        luaL_argerror(L, 2, lua_pushfstring(L, "cannot reshape %s (%I voxels) to %I voxels",
                                            md_volume_shape_text(v, was, sizeof was), (LUAI_UACINT)total,
                                            (LUAI_UACINT)known));
    return ndim;
}

static int l_reshape(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    int64_t dim[4] = {1, 1, 1, 1};
    int ndim = check_new_shape(L, v, dim);
    MdVolume *r = md_lua_newvolume(L);
    md_volume_init(r, v->dtype, ndim, dim);
    md_volume_copy_geometry(r, v);
    md_lua_alloc(L, r, 0);
    memcpy(md_volume_data(r), md_volume_data(v), md_volume_nbytes(v));
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
        if (st.count)
            snprintf(s, sizeof s, ") range [%.6g, %.6g]", st.min, st.max);
        else
            snprintf(s, sizeof s, ") no finite values");
        luaL_addstring(&b, s);
        /* the range skips NaN and inf; say how many there are, by kind */
        const char *kind[3] = {"-inf", "inf", "nan"};
        size_t cnt[3] = {st.neg_inf, st.pos_inf, st.nan};
        for (int i = 0; i < 3; i++) {
            if (!cnt[i]) continue;
            snprintf(s, sizeof s, ", %zu %s", cnt[i], kind[i]);
            luaL_addstring(&b, s);
        }
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
    memcpy(s, v->spacing, sizeof s);
    check_spacing(L, 2, 2, s, v->ndim);
    memcpy(v->spacing, s, sizeof s);
    lua_settop(L, 1);
    return 1;
}

static int l_set_origin(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    double o[3];
    memcpy(o, v->origin, sizeof o);
    check_origin(L, 2, 2, o, v->ndim);
    memcpy(v->origin, o, sizeof o);
    lua_settop(L, 1);
    return 1;
}

static int l_set_direction(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    double d[9];
    check_direction(L, 2, 2, d, v->ndim);
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
    md_lua_argrows(L, 2, 2, A, 4, 4, "affine");
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
    if (v->ndim == 2 && lua_isnoneornil(L, 4)) { /* (x, y) -> (i, j) in the image's plane */
        double xy[2] = {luaL_checknumber(L, 2), luaL_checknumber(L, 3)}, ij[2];
        MdError err;
        if (md_geom_world_to_index_2d(v, xy, ij, &err) != MD_OK) return md_lua_raise(L, &err);
        lua_pushnumber(L, ij[0] + 1);
        lua_pushnumber(L, ij[1] + 1);
        return 2;
    }
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
    {"reshape", l_reshape,
     "v:reshape{n1, n2 [, n3 [, n4]]} -> Volume\n"
     "A copy with the same voxels in the same memory order (x fastest) and a new\n"
     "shape of 2 to 4 sizes with the same product; one size may be -1 (inferred).\n"
     "numpy's a.reshape(n4, n3, n2, n1) on the array SimpleITK/np.load give.\n"
     "Adding a length-1 axis: v:reshape{nx, ny, nz, 1} makes a one-channel\n"
     "volume ((x, y, z, C) as patches and vol.save_npy_stack's layouts take);\n"
     "v:reshape{nx, ny, 1} puts a 2-D image in a 3-D grid. Spacing, origin,\n"
     "direction and metadata are kept.\n"
     "Errors: sizes < 1, more than one -1, a product that differs.\n"
     "Example: local c = ct:reshape{-1, 1}  -- (nx*ny*nz, 1)"},
    {"release", l_release,
     "v:release()\nFrees the voxel buffer now (as __gc and __close do); using v afterwards\n"
     "raises \"attempt to use a released volume\"."},
    {"set_spacing", l_set_spacing,
     "v:set_spacing{sx, sy [, sz]} -> v\nIn place: sets the voxel spacing in mm (each > 0); a 2-D volume may\n"
     "give 2 numbers (sz is kept)."},
    {"set_origin", l_set_origin,
     "v:set_origin{x, y [, z]} -> v\nIn place: sets the LPS world position (mm) of voxel (1, 1, 1); a 2-D\n"
     "volume may give 2 numbers (z is kept)."},
    {"set_direction", l_set_direction,
     "v:set_direction(d) -> v\nIn place: sets the direction cosines, given as 3 rows of 3 numbers\n"
     "(column c = LPS direction of axis c) or 9 numbers row-major; a 2-D volume\n"
     "may give 2 rows of 2 (or 4 numbers): the in-plane part, the rest identity.\n"
     "Columns must have unit length (1e-3) and the matrix must be invertible."},
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
     "v:world_to_index(x, y [, z]) -> i, j [, k]\nContinuous 1-based index of the LPS world point (x, y, z) mm;\n"
     "round to get the nearest voxel. A 2-D volume also takes (x, y) alone and\n"
     "gives (i, j) in its plane (the upper-left 2x2 of its geometry, as a\n"
     "SimpleITK 2-D image)."},
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
     "(3 rows of 3, column c = axis c, default identity); a 2-D shape takes 2-D\n"
     "geometry too: spacing={sx, sy}, origin={x, y}, direction={{a, b}, {c, d}}.\n"
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
