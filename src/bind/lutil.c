/* Volume userdata plumbing, errors, options and docstrings. */
#include "lutil.h"

#include <math.h>
#include "../core/memwrap.h"

#include <stdio.h>
#include <string.h>

#include "../kernels/arith.h"

#define DOCS_KEY "medula.docs"
#define AREAS_KEY "medula.areas"

/* Pushes the weak-keyed registry table at key, creating it. Stack: +1. */
static void push_weak_table(lua_State *L, const char *key)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_newtable(L);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, key);
    }
}

void md_lua_pushdocs(lua_State *L) { push_weak_table(L, DOCS_KEY); }

static const char *current_area; /* a string literal or the host's copy */

void md_lua_set_area(const char *area)
{
    current_area = area;
}

void md_lua_pushareas(lua_State *L) { push_weak_table(L, AREAS_KEY); }

void md_lua_setarea(lua_State *L, int idx)
{
    if (!current_area) return;
    idx = lua_absindex(L, idx);
    md_lua_pushareas(L);
    lua_pushvalue(L, idx);
    lua_pushstring(L, current_area);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

void md_lua_setdoc(lua_State *L, int idx, const char *doc)
{
    idx = lua_absindex(L, idx);
    md_lua_pushdocs(L);
    lua_pushvalue(L, idx);
    lua_pushstring(L, doc);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    md_lua_setarea(L, idx);
}

void md_lua_register(lua_State *L, const MdLuaReg *regs)
{
    for (; regs->name; regs++) {
        lua_pushcfunction(L, regs->func);
        if (regs->doc) md_lua_setdoc(L, -1, regs->doc);
        lua_setfield(L, -2, regs->name);
    }
}

MdVolume *md_lua_newvolume(lua_State *L)
{
    MdVolume *v = lua_newuserdatauv(L, sizeof *v, 1);
    memset(v, 0, sizeof *v);
    luaL_setmetatable(L, MD_VOLUME_MT);
    return v;
}

void md_lua_account(lua_State *L, const MdVolume *v)
{
    if (v->buf) lua_gc(L, LUA_GCSTEP, (int)(v->buf->nbytes >> 10 > 1000000 ? 1000000 : v->buf->nbytes >> 10));
    size_t budget = md_memory_budget();
    if (budget && md_live_bytes() > budget / 10 * 9) lua_gc(L, LUA_GCCOLLECT);
}

void md_lua_alloc(lua_State *L, MdVolume *v, int zero)
{
    MdError err;
    if (md_volume_alloc(v, zero, 0, &err) != MD_OK) {
        lua_gc(L, LUA_GCCOLLECT); /* buffers waiting for the collector may free enough */
        if (md_volume_alloc(v, zero, 0, &err) != MD_OK) md_lua_raise(L, &err);
    }
    md_lua_account(L, v);
}

MdVolume *md_lua_tovolume(lua_State *L, int idx)
{
    return luaL_testudata(L, idx, MD_VOLUME_MT);
}

MdVolume *md_lua_checkvolume(lua_State *L, int idx)
{
    MdVolume *v = luaL_checkudata(L, idx, MD_VOLUME_MT);
    if (!v->buf) luaL_error(L, "attempt to use a released volume");
    return v;
}

MdVolume *md_lua_newlike(lua_State *L, const MdVolume *src, int dtype, int zero)
{
    MdVolume *v = md_lua_newvolume(L);
    md_volume_init(v, dtype >= 0 ? (MdDtype)dtype : src->dtype, src->ndim, src->dim);
    md_volume_copy_geometry(v, src);
    md_lua_alloc(L, v, zero);
    return v;
}

MdVolume *md_lua_newheader(lua_State *L, const MdVolume *h, int src)
{
    MdError err;
    if (md_volume_check_dims(h->ndim, h->dim, &err) != MD_OK) md_lua_raise(L, &err);
    if (src) src = lua_absindex(L, src);
    MdVolume *o = md_lua_newvolume(L);
    *o = *h;
    o->buf = NULL;
    o->offset = 0;
    md_lua_alloc(L, o, 0);
    if (src) {
        lua_getiuservalue(L, src, 1);
        lua_setiuservalue(L, -2, 1);
    }
    return o;
}

int md_lua_spatial(const MdVolume *v)
{
    return v->ndim == 2 ? 2 : 3;
}

int md_lua_raise(lua_State *L, const MdError *err)
{
    size_t asked, live, budget;
    if (md_budget_take_refusal(&asked, &live, &budget)) {
        char why[160];
        snprintf(why, sizeof why,
                 " (memory budget: %zu bytes of scratch asked for, %zu in use, budget %zu; "
                 "vol.set_memory_budget)",
                 asked, live, budget);
        return luaL_error(L, "%s%s", err->msg, why);
    }
    return luaL_error(L, "%s", err->msg);
}

void md_lua_checkopts(lua_State *L, int idx, const char *const valid[])
{
    if (lua_isnoneornil(L, idx)) return;
    luaL_checktype(L, idx, LUA_TTABLE);
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        int ok = 0;
        if (lua_type(L, -1) == LUA_TSTRING) {
            const char *k = lua_tostring(L, -1);
            for (int i = 0; valid[i]; i++)
                if (strcmp(valid[i], k) == 0) ok = 1;
        }
        if (!ok) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (int i = 0; valid[i]; i++) {
                if (i) luaL_addstring(&b, ", ");
                luaL_addstring(&b, valid[i]);
            }
            luaL_pushresult(&b);
            const char *k = luaL_tolstring(L, -2, NULL);
            luaL_argerror(L, idx,
                          lua_pushfstring(L, "unknown option '%s' (valid: %s)", k, lua_tostring(L, -2)));
        }
    }
}

static int getfield(lua_State *L, int idx, const char *key)
{
    if (lua_type(L, idx) != LUA_TTABLE) {
        lua_pushnil(L);
        return LUA_TNIL;
    }
    return lua_getfield(L, idx, key);
}

double md_lua_optnumfield(lua_State *L, int idx, const char *key, double def)
{
    idx = lua_absindex(L, idx);
    int t = getfield(L, idx, key);
    double r = def;
    if (t != LUA_TNIL) {
        if (!lua_isnumber(L, -1))
            luaL_argerror(L, idx, lua_pushfstring(L, "option '%s' must be a number (got %s)", key,
                                                  luaL_typename(L, -1)));
        r = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
    return r;
}

int md_lua_optboolfield(lua_State *L, int idx, const char *key, int def)
{
    idx = lua_absindex(L, idx);
    int t = getfield(L, idx, key);
    int r = def;
    if (t != LUA_TNIL) {
        if (t != LUA_TBOOLEAN)
            luaL_argerror(L, idx, lua_pushfstring(L, "option '%s' must be a boolean (got %s)", key,
                                                  luaL_typename(L, -1)));
        r = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    return r;
}

const char *md_lua_optstrfield(lua_State *L, int idx, const char *key, const char *def)
{
    idx = lua_absindex(L, idx);
    int t = getfield(L, idx, key);
    const char *r = def;
    if (t != LUA_TNIL) {
        if (t != LUA_TSTRING)
            luaL_argerror(L, idx, lua_pushfstring(L, "option '%s' must be a string (got %s)", key,
                                                  luaL_typename(L, -1)));
        r = lua_tostring(L, -1); /* stays valid: the option table holds it */
    }
    lua_pop(L, 1);
    return r;
}

int md_lua_argfail(lua_State *L, int arg, const char *msg)
{
    return arg > 0 ? luaL_argerror(L, arg, msg) : luaL_error(L, "%s", msg);
}

void md_lua_argnumbers(lua_State *L, int arg, int idx, double *out, int n, const char *what)
{
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE)
        md_lua_argfail(L, arg, lua_pushfstring(L, "%s must be a table of %d numbers (got %s)", what, n, luaL_typename(L, idx)));
    if ((int)lua_rawlen(L, idx) != n)
        md_lua_argfail(L, arg, lua_pushfstring(L, "%s must have %d numbers (got %d)", what, n, (int)lua_rawlen(L, idx)));
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, idx, i + 1);
        if (!lua_isnumber(L, -1))
            md_lua_argfail(L, arg, lua_pushfstring(L, "%s[%d] must be a number (got %s)", what, i + 1, luaL_typename(L, -1)));
        out[i] = lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
}

void md_lua_argintegers(lua_State *L, int arg, int idx, int64_t *out, int n, const char *what)
{
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE)
        md_lua_argfail(L, arg, lua_pushfstring(L, "%s must be a table of %d integers (got %s)", what, n, luaL_typename(L, idx)));
    if ((int)lua_rawlen(L, idx) != n)
        md_lua_argfail(L, arg, lua_pushfstring(L, "%s must have %d integers (got %d)", what, n, (int)lua_rawlen(L, idx)));
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, idx, i + 1);
        int ok;
        lua_Integer x = lua_tointegerx(L, -1, &ok);
        if (!ok)
            md_lua_argfail(L, arg, lua_pushfstring(L, "%s[%d] must be an integer (got %s)", what, i + 1,
                                                   lua_type(L, -1) == LUA_TNUMBER ? lua_pushfstring(L, "%f", lua_tonumber(L, -1))
                                                                                  : luaL_typename(L, -1)));
        out[i] = x;
        lua_pop(L, 1);
    }
}

double *md_lua_arglist(lua_State *L, int arg, int idx, const char *what, int64_t *n)
{
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE)
        md_lua_argfail(L, arg, lua_pushfstring(L, "%s must be a list of numbers (got %s)", what, luaL_typename(L, idx)));
    *n = (int64_t)lua_rawlen(L, idx);
    double *d = lua_newuserdatauv(L, (size_t)(*n + 1) * sizeof(double), 0);
    for (int64_t i = 0; i < *n; i++) {
        lua_rawgeti(L, idx, (lua_Integer)i + 1);
        int ok;
        d[i] = lua_tonumberx(L, -1, &ok);
        if (!ok)
            md_lua_argfail(L, arg, lua_pushfstring(L, "%s[%d] must be a number (got %s)", what, (int)i + 1,
                                             luaL_typename(L, -1)));
        lua_pop(L, 1);
    }
    return d;
}

int md_lua_argspatial(lua_State *L, int arg, int idx, double out[3], int ndim, const char *what)
{
    idx = lua_absindex(L, idx);
    int n = lua_type(L, idx) == LUA_TTABLE ? (int)lua_rawlen(L, idx) : 3;
    if (ndim == 2 && n == 2) {
        md_lua_argnumbers(L, arg, idx, out, 2, what);
        return 2;
    }
    if (ndim == 2 && n != 3)
        md_lua_argfail(L, arg, lua_pushfstring(L, "%s must have 2 or 3 numbers for a 2-D volume (got %d)", what, n));
    md_lua_argnumbers(L, arg, idx, out, 3, what);
    return 3;
}

void md_lua_argrows(lua_State *L, int arg, int idx, double *out, int rows, int cols, const char *what)
{
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE || (int)lua_rawlen(L, idx) != rows)
        md_lua_argfail(L, arg, lua_pushfstring(L, "%s must be %d rows of %d numbers", what, rows, cols));
    char row[64];
    snprintf(row, sizeof row, "%s row", what);
    for (int r = 0; r < rows; r++) {
        lua_rawgeti(L, idx, r + 1);
        md_lua_argnumbers(L, arg, -1, out + (size_t)r * (size_t)cols, cols, row);
        lua_pop(L, 1);
    }
}

void md_lua_argmatrix3(lua_State *L, int arg, int idx, double M[9], int ndim, const char *what)
{
    idx = lua_absindex(L, idx);
    size_t n = lua_type(L, idx) == LUA_TTABLE ? lua_rawlen(L, idx) : 0;
    if (ndim == 2 && (n == 2 || n == 4)) {
        double m[4];
        if (n == 4) md_lua_argnumbers(L, arg, idx, m, 4, what);
        else md_lua_argrows(L, arg, idx, m, 2, 2, what);
        double full[9] = {m[0], m[1], 0, m[2], m[3], 0, 0, 0, 1};
        memcpy(M, full, sizeof full);
    } else if (n == 9) {
        md_lua_argnumbers(L, arg, idx, M, 9, what);
    } else if (n == 3) {
        md_lua_argrows(L, arg, idx, M, 3, 3, what);
    } else {
        const char *got = lua_type(L, idx) == LUA_TTABLE ? lua_pushfstring(L, "a list of %d", (int)n)
                                                         : luaL_typename(L, idx);
        md_lua_argfail(L, arg, lua_pushfstring(L, ndim == 2 ? "%s must be 2 rows of 2 numbers, 4 numbers, 3 rows of 3 or "
                                                        "9 numbers (got %s)"
                                                      : "%s must be 3 rows of 3 numbers or 9 numbers (got %s)",
                                         what, got));
    }
}

void md_lua_argaxes(lua_State *L, int arg, int idx, double *out, int n, const char *what)
{
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) == LUA_TNUMBER) {
        for (int i = 0; i < n; i++) out[i] = lua_tonumber(L, idx);
        return;
    }
    if (lua_type(L, idx) != LUA_TTABLE)
        md_lua_argfail(L, arg, lua_pushfstring(L, "%s must be a number or a table of %d numbers (got %s)", what, n,
                                         luaL_typename(L, idx)));
    md_lua_argnumbers(L, arg, idx, out, n, what);
}

int md_lua_argchoice(lua_State *L, int arg, int idx, const char *const names[], const char *what)
{
    idx = lua_absindex(L, idx);
    const char *s = lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx) : NULL;
    if (s)
        for (int i = 0; names[i]; i++)
            if (strcmp(names[i], s) == 0) return i;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; names[i]; i++) {
        if (i) luaL_addstring(&b, ", ");
        luaL_addstring(&b, names[i]);
    }
    luaL_pushresult(&b);
    return md_lua_argfail(L, arg, lua_pushfstring(L, "%s must be one of %s (got %s%s%s)", what, lua_tostring(L, -1),
                                            s ? "'" : "", s ? s : luaL_typename(L, idx), s ? "'" : ""));
}

void md_lua_argshape(lua_State *L, int arg, const MdVolume *a, const MdVolume *b)
{
    if (a->ndim == b->ndim && memcmp(a->dim, b->dim, sizeof a->dim) == 0) return;
    char sa[96], sb[96]; /* the real shapes, not padded to 4-D */
    md_lua_argfail(L, arg, lua_pushfstring(L, "shapes differ (%s and %s)", md_volume_shape_text(a, sa, sizeof sa),
                                     md_volume_shape_text(b, sb, sizeof sb)));
}

#define DTYPE_LIST "uint8, int8, uint16, int16, uint32, int32, float32, float64"

MdDtype md_lua_checkdtype(lua_State *L, int idx, int def)
{
    if (lua_isnoneornil(L, idx) && def >= 0) return (MdDtype)def;
    const char *s = luaL_checkstring(L, idx);
    int t = md_dtype_from_name(s);
    if (t < 0) luaL_argerror(L, idx, lua_pushfstring(L, "unknown dtype '%s'; expected one of " DTYPE_LIST, s));
    return (MdDtype)t;
}

MdDtype md_lua_optdtype(lua_State *L, int idx, MdDtype def)
{
    const char *s = md_lua_optstrfield(L, idx, "dtype", NULL);
    if (!s) return def;
    int t = md_dtype_from_name(s);
    if (t < 0)
        luaL_argerror(L, idx,
                      lua_pushfstring(L, "option 'dtype': unknown dtype '%s'; expected one of " DTYPE_LIST, s));
    return (MdDtype)t;
}

void md_lua_pushexact(lua_State *L, double x, int integral)
{
    /* 2^53: above it a double no longer tells neighbouring integers apart */
    if (integral && x == floor(x) && fabs(x) <= 9007199254740992.0)
        lua_pushinteger(L, (lua_Integer)x);
    else
        lua_pushnumber(L, x);
}

void md_lua_pushintegers(lua_State *L, const double *x, int n)
{
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        md_lua_pushexact(L, x[i], 1);
        lua_rawseti(L, -2, i + 1);
    }
}

void md_lua_pushnumbers(lua_State *L, const double *x, int n)
{
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushnumber(L, x[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

/* ---- mask arguments (morphology, labels, distances, fills) ---- */

MdVolume *md_lua_checkmask(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    MdVolume *v = md_lua_checkvolume(L, idx);
    if (v->ndim < 2 || v->ndim > 3)
        luaL_argerror(L, idx, lua_pushfstring(L, "expected a 2-D or 3-D volume (got %d-D)", v->ndim));
    if (v->dtype == MD_UINT8) return v;
    MdVolume *m = md_lua_newlike(L, v, MD_UINT8, 0);
    MdOperand a = {v, 0}, zero = {NULL, 0};
    MdError err;
    if (md_arith_binary(a, zero, MD_OP_NE, m, &err) != MD_OK) md_lua_raise(L, &err);
    lua_replace(L, idx);
    return m;
}

int md_lua_sliceaxis(lua_State *L, int idx, const MdVolume *v)
{
    int per = md_lua_optboolfield(L, idx, "per_slice", 0);
    double a = md_lua_optnumfield(L, idx, "axis", -1);
    if (a == -1) return per ? 3 : 0;
    int lo = v->ndim == 2 ? 3 : 1;
    if (a != floor(a) || a < lo || a > 3)
        luaL_argerror(L, idx, v->ndim == 2 ? "axis must be 3 for a 2-D volume"
                                           : lua_pushfstring(L, "axis must be 1, 2 or 3 (got %f)", a));
    return (int)a;
}

int md_lua_optchoice(lua_State *L, int idx, const char *key, int def, const char *const choices[])
{
    const char *s = md_lua_optstrfield(L, idx, key, NULL);
    if (!s) return def;
    for (int i = 0; choices[i]; i++)
        if (strcmp(choices[i], s) == 0) return i;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; choices[i]; i++) {
        if (i) luaL_addstring(&b, ", ");
        luaL_addstring(&b, choices[i]);
    }
    luaL_pushresult(&b);
    return luaL_argerror(L, idx, lua_pushfstring(L, "option '%s' must be one of %s (got '%s')", key,
                                                 lua_tostring(L, -1), s));
}

lua_Integer md_lua_optintfield(lua_State *L, int idx, const char *key, lua_Integer def, lua_Integer lo)
{
    double x = md_lua_optnumfield(L, idx, key, (double)def);
    if (x != floor(x) || x < (double)lo || x > 9.0e15)
        luaL_argerror(L, idx, lua_pushfstring(L, "option '%s' must be an integer >= %I (got %f)", key,
                                              (LUAI_UACINT)lo, x));
    return (lua_Integer)x;
}
