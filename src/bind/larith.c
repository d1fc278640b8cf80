/* Binding of the element-wise kernels (kernels/arith): metamethods,
 * in-place arithmetic, comparisons, logic, where, astype, fill, stats. */
#include <math.h>
#include <string.h>

#include "../kernels/arith.h"
#include "lvolume.h"

/* An operand at idx: a Volume or a number. */
static MdOperand check_operand(lua_State *L, int idx)
{
    MdOperand o = {NULL, 0};
    MdVolume *v = md_lua_tovolume(L, idx);
    if (v) {
        if (!v->buf) luaL_error(L, "attempt to use a released volume");
        o.vol = v;
    } else if (lua_isnumber(L, idx)) {
        o.scalar = lua_tonumber(L, idx);
    } else {
        luaL_typeerror(L, idx, "Volume or number");
    }
    return o;
}

static int is_integral(double x) { return x == floor(x) && fabs(x) < 9007199254740992.0; }


/* New volume = a op b, shaped like the first volume operand. */
static int binary_new(lua_State *L, MdBinaryOp op)
{
    MdOperand a = check_operand(L, 1), b = check_operand(L, 2);
    const MdVolume *shape = a.vol ? a.vol : b.vol;
    if (!shape) return luaL_argerror(L, 1, "at least one operand must be a Volume (got two numbers)");
    if (a.vol && b.vol) md_lua_argshape(L, 2, a.vol, b.vol);
    MdDtype t;
    if (a.vol && b.vol)
        t = md_arith_result_dtype(a.vol->dtype, b.vol->dtype, 0, op);
    else
        t = md_arith_result_dtype(shape->dtype, -1, is_integral(a.vol ? b.scalar : a.scalar), op);
    MdVolume *out = md_lua_newlike(L, shape, t, 0);
    MdError err;
    if (md_arith_binary(a, b, op, out, &err) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

/* In place: self = self op b, keeping self's dtype. */
static int binary_inplace(lua_State *L, MdBinaryOp op)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    MdOperand a = {v, 0}, b = check_operand(L, 2);
    if (b.vol) md_lua_argshape(L, 2, v, b.vol);
    MdError err;
    if (md_arith_binary(a, b, op, v, &err) != MD_OK) return md_lua_raise(L, &err);
    lua_settop(L, 1);
    return 1;
}

static int unary_new(lua_State *L, MdUnaryOp op, double p1, double p2, int dtype)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    MdVolume *out = md_lua_newlike(L, v, dtype, 0);
    MdError err;
    if (md_arith_unary(v, op, p1, p2, out, &err) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

static int l_mm_add(lua_State *L) { return binary_new(L, MD_OP_ADD); }
static int l_mm_sub(lua_State *L) { return binary_new(L, MD_OP_SUB); }
static int l_mm_mul(lua_State *L) { return binary_new(L, MD_OP_MUL); }
static int l_mm_div(lua_State *L) { return binary_new(L, MD_OP_DIV); }
static int l_mm_pow(lua_State *L) { return binary_new(L, MD_OP_POW); }
static int l_mm_unm(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    int t = v->dtype;
    if (t == MD_UINT8 || t == MD_UINT16) t = MD_INT32;
    if (t == MD_UINT32) t = MD_FLOAT64;
    return unary_new(L, MD_UN_NEG, 0, 0, t);
}

static int l_add(lua_State *L) { return binary_inplace(L, MD_OP_ADD); }
static int l_sub(lua_State *L) { return binary_inplace(L, MD_OP_SUB); }
static int l_mul(lua_State *L) { return binary_inplace(L, MD_OP_MUL); }
static int l_div(lua_State *L) { return binary_inplace(L, MD_OP_DIV); }

/* v:min() / v:max() without argument: the extreme value; with one: element-wise. */
static int extreme(lua_State *L, MdBinaryOp op)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    if (lua_isnoneornil(L, 2)) {
        MdStats s;
        MdError err;
        if (md_stats(v, NULL, &s, &err) != MD_OK) return md_lua_raise(L, &err);
        md_lua_pushexact(L, op == MD_OP_MIN ? s.min : s.max, !md_dtype_is_float(v->dtype));
        return 1;
    }
    return binary_new(L, op);
}
static int l_min(lua_State *L) { return extreme(L, MD_OP_MIN); }
static int l_max(lua_State *L) { return extreme(L, MD_OP_MAX); }

static int l_abs(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    return unary_new(L, MD_UN_ABS, 0, 0, v->dtype);
}

static int l_clamp(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    double lo = luaL_optnumber(L, 2, -INFINITY), hi = luaL_optnumber(L, 3, INFINITY);
    luaL_argcheck(L, !(lo > hi), 3, "upper bound is below the lower bound");
    return unary_new(L, MD_UN_CLAMP, lo, hi, v->dtype);
}

static int l_gt(lua_State *L) { md_lua_checkvolume(L, 1); return binary_new(L, MD_OP_GT); }
static int l_lt(lua_State *L) { md_lua_checkvolume(L, 1); return binary_new(L, MD_OP_LT); }
static int l_ge(lua_State *L) { md_lua_checkvolume(L, 1); return binary_new(L, MD_OP_GE); }
static int l_le(lua_State *L) { md_lua_checkvolume(L, 1); return binary_new(L, MD_OP_LE); }
static int l_eq(lua_State *L) { md_lua_checkvolume(L, 1); return binary_new(L, MD_OP_EQ); }
static int l_ne(lua_State *L) { md_lua_checkvolume(L, 1); return binary_new(L, MD_OP_NE); }
static int l_band(lua_State *L) { md_lua_checkvolume(L, 1); return binary_new(L, MD_OP_AND); }
static int l_bor(lua_State *L) { md_lua_checkvolume(L, 1); return binary_new(L, MD_OP_OR); }
static int l_bxor(lua_State *L) { md_lua_checkvolume(L, 1); return binary_new(L, MD_OP_XOR); }
static int l_bnot(lua_State *L) { return unary_new(L, MD_UN_NOT, 0, 0, MD_UINT8); }

static int l_between(lua_State *L)
{
    md_lua_checkvolume(L, 1);
    double lo = luaL_checknumber(L, 2), hi = luaL_checknumber(L, 3);
    return unary_new(L, MD_UN_BETWEEN, lo, hi, MD_UINT8);
}

static int l_sqrt(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    return unary_new(L, MD_UN_SQRT, 0, 0, v->dtype == MD_FLOAT64 ? MD_FLOAT64 : MD_FLOAT32);
}
static int l_exp(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    return unary_new(L, MD_UN_EXP, 0, 0, v->dtype == MD_FLOAT64 ? MD_FLOAT64 : MD_FLOAT32);
}
static int l_log(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    return unary_new(L, MD_UN_LOG, 0, 0, v->dtype == MD_FLOAT64 ? MD_FLOAT64 : MD_FLOAT32);
}

static int l_astype(lua_State *L)
{
    static const char *const keys[] = {"rounding", NULL};
    static const char *const modes[] = {"nearest", "trunc", "floor", "ceil", NULL};
    md_lua_checkvolume(L, 1);
    MdDtype t = md_lua_checkdtype(L, 2, -1);
    md_lua_checkopts(L, 3, keys);
    int mode = 0;
    if (lua_istable(L, 3) && lua_getfield(L, 3, "rounding") != LUA_TNIL) mode = md_lua_argchoice(L, 3, -1, modes, "rounding");
    return unary_new(L, MD_UN_COPY, mode, 0, t);
}

static int l_fill(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    double x = luaL_checknumber(L, 2);
    MdError err;
    if (md_arith_unary(v, MD_UN_FILL, md_saturate(x, v->dtype), 0, v, &err) != MD_OK) return md_lua_raise(L, &err);
    lua_settop(L, 1);
    return 1;
}

/* v:where(mask, a, b): a where mask, b elsewhere; nil stands for v itself. */
static int l_where(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    MdVolume *mask = md_lua_checkvolume(L, 2);
    md_lua_argshape(L, 2, v, mask);
    MdOperand a = {v, 0}, b = {v, 0};
    if (!lua_isnoneornil(L, 3)) a = check_operand(L, 3);
    if (!lua_isnoneornil(L, 4)) b = check_operand(L, 4);
    MdDtype t = v->dtype;
    for (int k = 0; k < 2; k++) {
        MdOperand o = k ? b : a;
        if (o.vol) {
            md_lua_argshape(L, 3 + k, v, o.vol);
            t = md_arith_result_dtype(t, o.vol->dtype, 0, MD_OP_ADD);
        } else {
            t = md_arith_result_dtype(t, -1, is_integral(o.scalar), MD_OP_ADD);
        }
    }
    MdVolume *out = md_lua_newlike(L, v, t, 0);
    MdError err;
    if (md_arith_where(mask, a, b, out, &err) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

static void setnum(lua_State *L, const char *k, double x, int integral)
{
    md_lua_pushexact(L, x, integral);
    lua_setfield(L, -2, k);
}

static int l_stats(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    MdVolume *mask = lua_isnoneornil(L, 2) ? NULL : md_lua_checkvolume(L, 2);
    if (mask) md_lua_argshape(L, 2, v, mask);
    MdStats s;
    MdError err;
    if (md_stats(v, mask, &s, &err) != MD_OK) return md_lua_raise(L, &err);
    lua_createtable(L, 0, 7);
    int integral = !md_dtype_is_float(v->dtype); /* integer voxels: min, max and sum are whole */
    setnum(L, "min", s.min, integral);
    setnum(L, "max", s.max, integral);
    setnum(L, "mean", s.mean, 0);
    setnum(L, "std", s.std, 0);
    setnum(L, "sum", s.sum, integral);
    lua_pushinteger(L, (lua_Integer)s.count);
    lua_setfield(L, -2, "count");
    lua_pushinteger(L, (lua_Integer)s.nonfinite);
    lua_setfield(L, -2, "nonfinite");
    return 1;
}

#define CMP_DOC(name, sym) \
    "v:" name "(x) -> uint8 mask\n1 where v " sym " x, else 0; x a number or a Volume of the same shape."

static const MdLuaReg methods[] = {
    {"add", l_add, "v:add(x) -> v\nIn place: v = v + x (x a number or a same-shaped Volume); keeps v's dtype\n(integer results rounded to nearest and saturated)."},
    {"sub", l_sub, "v:sub(x) -> v\nIn place: v = v - x; keeps v's dtype (rounded, saturated)."},
    {"mul", l_mul, "v:mul(x) -> v\nIn place: v = v * x; keeps v's dtype (rounded, saturated)."},
    {"div", l_div, "v:div(x) -> v\nIn place: v = v / x; keeps v's dtype (rounded, saturated; x/0 on an integer\nvolume saturates, 0/0 gives 0)."},
    {"min", l_min, "v:min([x]) -> number | Volume\nWithout x: the smallest finite value. With x (number or Volume): a new\nvolume of the element-wise minimum."},
    {"max", l_max, "v:max([x]) -> number | Volume\nWithout x: the largest finite value. With x: element-wise maximum (new volume)."},
    {"abs", l_abs, "v:abs() -> Volume\nA new volume of absolute values, same dtype (saturated: int16 -32768 -> 32767)."},
    {"clamp", l_clamp, "v:clamp(lo, hi) -> Volume\nA new volume with values limited to [lo, hi] (nil = unbounded), same dtype.\nExample: ct:clamp(-1000, 400)"},
    {"sqrt", l_sqrt, "v:sqrt() -> Volume\nSquare root, float32 (float64 for a float64 input)."},
    {"exp", l_exp, "v:exp() -> Volume\nExponential, float32 (float64 for a float64 input)."},
    {"log", l_log, "v:log() -> Volume\nNatural logarithm, float32 (float64 for a float64 input)."},
    {"gt", l_gt, CMP_DOC("gt", ">")},
    {"lt", l_lt, CMP_DOC("lt", "<")},
    {"ge", l_ge, CMP_DOC("ge", ">=")},
    {"le", l_le, CMP_DOC("le", "<=")},
    {"eq", l_eq, CMP_DOC("eq", "==")},
    {"ne", l_ne, CMP_DOC("ne", "~=")},
    {"between", l_between, "v:between(a, b) -> uint8 mask\n1 where a <= v <= b.\nExample: local lung = ct:between(-1000, -400)"},
    {"band", l_band, "m:band(x) -> uint8 mask\n1 where both m and x are non-zero."},
    {"bor", l_bor, "m:bor(x) -> uint8 mask\n1 where m or x is non-zero."},
    {"bxor", l_bxor, "m:bxor(x) -> uint8 mask\n1 where exactly one of m and x is non-zero."},
    {"bnot", l_bnot, "m:bnot() -> uint8 mask\n1 where m is zero."},
    {"where", l_where,
     "v:where(mask, a, b) -> Volume\nA new volume: a where mask is non-zero, b elsewhere. a and b are numbers,\n"
     "same-shaped volumes, or nil meaning v itself. dtype: v's, promoted to hold a and b.\n"
     "Example: ct:where(body:bnot(), -1024)  -- outside the body becomes -1024"},
    {"astype", l_astype,
     "v:astype(dtype [, {rounding=\"nearest\"}]) -> Volume\nA converted copy. To an integer dtype values are rounded (nearest: half away\n"
     "from zero; or trunc, floor, ceil) then saturated to the type's range; NaN\n"
     "becomes 0. To float32, values round to the nearest float32."},
    {"fill", l_fill, "v:fill(x) -> v\nIn place: every voxel = x (rounded and saturated for integer dtypes)."},
    {"stats", l_stats,
     "v:stats([mask]) -> {min, max, mean, std, sum, count, nonfinite}\nStatistics over the finite values (where mask is non-zero, if given).\n"
     "std is the population standard deviation (numpy's default, ddof=0).\nNaN and inf are skipped and counted in nonfinite."},
    {NULL, NULL, NULL}};

/* vol._arith_reference(on): every element-wise kernel takes the double path
 * (for specs comparing the fast paths with it). Not public. */
static int l_arith_reference(lua_State *L)
{
    md_arith_use_reference(lua_toboolean(L, 1));
    return 0;
}

/* vol._same_bytes(a, b) -> true | false, first differing voxel (1-based
 * linear index): the specs' bit-for-bit comparison (NaN payloads, -0). */
static int l_same_bytes(lua_State *L)
{
    MdVolume *a = md_lua_checkvolume(L, 1), *b = md_lua_checkvolume(L, 2);
    if (a->dtype != b->dtype || md_volume_count(a) != md_volume_count(b)) {
        lua_pushboolean(L, 0);
        lua_pushliteral(L, "dtype or voxel count differs");
        return 2;
    }
    const size_t es = md_dtype_size(a->dtype), n = md_volume_count(a);
    const char *x = md_volume_data(a), *y = md_volume_data(b);
    for (size_t i = 0; i < n; i++)
        if (memcmp(x + i * es, y + i * es, es) != 0) {
            lua_pushboolean(L, 0);
            lua_pushinteger(L, (lua_Integer)i + 1);
            return 2;
        }
    lua_pushboolean(L, 1);
    return 1;
}

/* vol.where: its own function value, so that it carries its own docstring. */
static int l_vol_where(lua_State *L) { return l_where(L); }

static const MdLuaReg functions[] = {
    {"where", l_vol_where, "vol.where(v, mask, a, b) -> Volume\nSame as v:where(mask, a, b)."},
    {"_same_bytes", l_same_bytes,
     "vol._same_bytes(a, b) -> true | false, index\nFor specs: whether two volumes hold the same dtype and the same bytes;\n"
     "otherwise the 1-based linear index of the first voxel that differs."},
    {"_arith_reference", l_arith_reference,
     "vol._arith_reference(on)\nFor specs: element-wise kernels take the plain double path that defines\n"
     "their results (on = true) or their typed fast paths (on = false, the default)."},
    {NULL, NULL, NULL}};

void md_open_arith(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    md_lua_register(L, functions);
    md_push_methods(L, module);
    md_lua_register(L, methods);
    lua_pop(L, 1);
    luaL_getmetatable(L, MD_VOLUME_MT);
    static const luaL_Reg meta[] = {{"__add", l_mm_add}, {"__sub", l_mm_sub}, {"__mul", l_mm_mul},
                                    {"__div", l_mm_div}, {"__pow", l_mm_pow}, {"__unm", l_mm_unm},
                                    {NULL, NULL}};
    luaL_setfuncs(L, meta, 0);
    lua_pop(L, 1);
}
