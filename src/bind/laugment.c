/* Binding of augmentation's kernels: the counter-based generator (vol.rng),
 * the fused warp (v:warp) and the in-place intensity transforms (vol.aug.*).
 * The pipeline that draws parameters and composes them is lua/vol/augment.lua. */
#include <math.h>
#include <string.h>

#include "../core/rng.h"
#include "../kernels/augment.h"
#include "../kernels/warp.h"
#include "lvolume.h"

#define MD_RNG_MT "Rng"

void md_open_augment(lua_State *L, int module);

/* ---- vol.rng ------------------------------------------------------------ */

static MdRng *check_rng(lua_State *L, int idx) { return luaL_checkudata(L, idx, MD_RNG_MT); }

static MdRng *push_rng(lua_State *L, uint64_t key)
{
    MdRng *r = lua_newuserdatauv(L, sizeof *r, 0);
    r->key = key, r->next = 0;
    luaL_setmetatable(L, MD_RNG_MT);
    return r;
}

static uint64_t check_word(lua_State *L, int idx, const char *what)
{
    int ok;
    lua_Integer x = lua_tointegerx(L, idx, &ok);
    if (!ok || x < 0)
        luaL_argerror(L, idx, lua_pushfstring(L, "%s must be an integer >= 0", what));
    return (uint64_t)x;
}

static int l_rng(lua_State *L)
{
    uint64_t seed = check_word(L, 1, "seed");
    int n = lua_gettop(L);
    uint64_t key = md_rng_key(seed, n >= 2 ? check_word(L, 2, "stream") : 0);
    for (int i = 3; i <= n; i++) key = md_rng_derive(key, check_word(L, i, "key part"));
    push_rng(L, key);
    return 1;
}

static int l_rng_uniform(lua_State *L)
{
    MdRng *r = check_rng(L, 1);
    double a = luaL_optnumber(L, 2, 0.0), b = luaL_optnumber(L, 3, 1.0);
    luaL_argcheck(L, a <= b, 3, "upper bound must be >= lower bound");
    lua_pushnumber(L, a + (b - a) * md_rng_next_uniform(r));
    return 1;
}

static int l_rng_normal(lua_State *L)
{
    MdRng *r = check_rng(L, 1);
    double m = luaL_optnumber(L, 2, 0.0), s = luaL_optnumber(L, 3, 1.0);
    luaL_argcheck(L, s >= 0, 3, "standard deviation must be >= 0");
    lua_pushnumber(L, m + s * md_rng_next_normal(r));
    return 1;
}

static int l_rng_integer(lua_State *L)
{
    MdRng *r = check_rng(L, 1);
    lua_Integer lo = luaL_checkinteger(L, 2), hi = luaL_checkinteger(L, 3);
    luaL_argcheck(L, lo <= hi && hi - lo < ((lua_Integer)1 << 53), 3, "need lo <= hi (and a range below 2^53)");
    lua_pushinteger(L, lo + (lua_Integer)md_rng_below(r->key, r->next++, (uint64_t)(hi - lo) + 1));
    return 1;
}

static int l_rng_derive(lua_State *L)
{
    MdRng *r = check_rng(L, 1);
    uint64_t key = r->key;
    for (int i = 2; i <= lua_gettop(L); i++) key = md_rng_derive(key, check_word(L, i, "key part"));
    push_rng(L, key);
    return 1;
}

static int l_rng_tostring(lua_State *L)
{
    MdRng *r = check_rng(L, 1);
    lua_pushfstring(L, "Rng(key %p, next %d)", (void *)(uintptr_t)r->key, (int)r->next);
    return 1;
}

/* ---- v:warp ------------------------------------------------------------- */

/* Reads opts.key as a list of exactly n numbers into out; absent keeps out. */
static int opt_list(lua_State *L, int idx, const char *key, double *out, int n)
{
    int present = lua_getfield(L, idx, key) != LUA_TNIL;
    if (present) {
        if (!lua_istable(L, -1) || (int)lua_rawlen(L, -1) != n)
            luaL_argerror(L, idx, lua_pushfstring(L, "'%s' must be a list of %d numbers", key, n));
        md_lua_argnumbers(L, idx, -1, out, n, key);
    }
    lua_pop(L, 1);
    return present;
}

/* Reads an interpolation name into an order and the vote flag. */
static void check_interp(lua_State *L, const char *key, const char *def, int *order, int *vote)
{
    static const char *const interps[] = {"nearest", "linear", "cubic", "label", NULL};
    const char *interp = md_lua_optstrfield(L, 2, key, def);
    int which = -1;
    for (int i = 0; interps[i]; i++)
        if (strcmp(interp, interps[i]) == 0) which = i;
    if (which < 0)
        luaL_argerror(L, 2, lua_pushfstring(L, "%s must be nearest, linear, cubic or label (got '%s')", key, interp));
    *order = which == 0 ? 0 : which == 2 ? 3 : 1;
    *vote = which == 3;
}

/* Box for the displacement coefficients (freed by the collector). */
static double *push_doubles(lua_State *L, size_t n)
{
    return lua_newuserdatauv(L, n * sizeof(double), 0);
}

static int l_warp(lua_State *L)
{
    static const char *const keys[] = {"matrix", "offset", "shape", "interpolation", "mode", "fill",
                                       "lattice", "displacement", "dtype", "labels",
                                       "label_interpolation", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    md_lua_checkopts(L, 2, keys);
    MdWarpSpec s;
    memset(&s, 0, sizeof s);
    s.M[0] = s.M[4] = s.M[8] = 1.0;
    opt_list(L, 2, "matrix", s.M, 9);
    opt_list(L, 2, "offset", s.b, 3);
    check_interp(L, "interpolation", "linear", &s.order, &s.vote);
    const char *mode = md_lua_optstrfield(L, 2, "mode", "constant");
    int m = md_boundary_from_name(mode);
    if (m < 0) luaL_argerror(L, 2, lua_pushfstring(L, "unknown mode '%s' (scipy.ndimage's names)", mode));
    s.mode = (MdBoundary)m;
    s.fill = md_lua_optnumfield(L, 2, "fill", 0);
    MdVolume h = *v;
    int ns = md_lua_spatial(v);
    if (lua_getfield(L, 2, "shape") != LUA_TNIL) {
        int64_t shape[3] = {1, 1, 1};
        md_lua_argintegers(L, 2, -1, shape, ns, "shape");
        for (int a = 0; a < ns; a++) {
            if (shape[a] < 1) luaL_argerror(L, 2, "shape sizes must be >= 1");
            h.dim[a] = shape[a];
        }
    }
    lua_pop(L, 1);
    double K[3] = {0, 0, 0};
    if (opt_list(L, 2, "lattice", K, 3)) {
        size_t nk = 1;
        for (int a = 0; a < 3; a++) {
            if (K[a] != floor(K[a]) || K[a] < 4 || K[a] > 4096)
                luaL_argerror(L, 2, "lattice sizes must be integers from 4 to 4096");
            s.K[a] = (int)K[a];
            nk *= (size_t)s.K[a];
        }
        if (lua_getfield(L, 2, "displacement") == LUA_TNIL || !lua_istable(L, -1) ||
            lua_rawlen(L, -1) != 3 * nk)
            luaL_argerror(L, 2, lua_pushfstring(L, "'displacement' must list 3 x %d numbers (one lattice per axis)", (int)nk));
        double *d = push_doubles(L, 3 * nk);
        for (size_t i = 0; i < 3 * nk; i++) {
            lua_rawgeti(L, -2, (lua_Integer)i + 1);
            int ok;
            d[i] = lua_tonumberx(L, -1, &ok);
            if (!ok || !isfinite(d[i])) luaL_argerror(L, 2, "displacement values must be finite numbers");
            lua_pop(L, 1);
        }
        s.disp = d; /* the box stays on the stack for the call */
    }
    /* labels: more volumes on v's grid, warped in the same pass */
    int nlab = 0, lorder = 0, lvote = 0;
    check_interp(L, "label_interpolation", "nearest", &lorder, &lvote);
    if (lua_getfield(L, 2, "labels") != LUA_TNIL) {
        if (!lua_istable(L, -1)) luaL_argerror(L, 2, "'labels' must be a list of Volumes");
        nlab = (int)lua_rawlen(L, -1);
        if (nlab > 64) luaL_argerror(L, 2, "at most 64 label volumes");
    }
    int labs = lua_gettop(L);
    MdWarpLayer *layers = lua_newuserdatauv(L, (size_t)(nlab + 1) * sizeof *layers, 0);
    h.dtype = md_lua_optdtype(L, 2, v->dtype);
    MdVolume *out = md_lua_newheader(L, &h, 1);
    int first_out = lua_gettop(L);
    layers[0] = (MdWarpLayer){v, out, s.order, s.vote, s.fill};
    for (int i = 0; i < nlab; i++) {
        lua_rawgeti(L, labs, i + 1);
        MdVolume *l = md_lua_tovolume(L, -1);
        if (!l || !l->buf) luaL_argerror(L, 2, lua_pushfstring(L, "labels[%d] is not a Volume", i + 1));
        for (int a = 0; a < 4; a++)
            if (l->dim[a] != v->dim[a])
                luaL_argerror(L, 2, lua_pushfstring(L, "labels[%d] is not on the volume's grid", i + 1));
        MdVolume lh = h;
        lh.dtype = l->dtype;
        MdVolume *lo = md_lua_newheader(L, &lh, -1);
        lua_remove(L, -2); /* the label itself stays alive in the list */
        layers[i + 1] = (MdWarpLayer){l, lo, lorder, lvote, 0.0};
    }
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "warp");
    if (md_warp_many(&s, layers, nlab + 1, &ctx) != MD_OK) return md_lua_raise(L, &err);
    if (nlab == 0) {
        lua_settop(L, first_out);
        return 1;
    }
    lua_createtable(L, nlab, 0);
    for (int i = 0; i < nlab; i++) {
        lua_pushvalue(L, first_out + 1 + i);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushvalue(L, first_out);
    lua_insert(L, -2);
    return 2;
}

/* ---- vol.aug: in-place intensity transforms ------------------------------ */

static MdVolume *check_f32(lua_State *L, int idx)
{
    MdVolume *v = md_lua_checkvolume(L, idx);
    if (v->dtype != MD_FLOAT32)
        luaL_argerror(L, idx, lua_pushfstring(L, "float32 volume expected (got %s; use astype)", md_dtype_name(v->dtype)));
    return v;
}

static int run(lua_State *L, MdStatus st, const MdError *err)
{
    if (st != MD_OK) return md_lua_raise(L, err);
    lua_settop(L, 1);
    return 1;
}

static int l_noise(lua_State *L)
{
    MdVolume *v = check_f32(L, 1);
    double sd = luaL_checknumber(L, 2);
    luaL_argcheck(L, sd >= 0 && isfinite(sd), 2, "standard deviation must be >= 0");
    MdRng *r = check_rng(L, 3);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "noise");
    return run(L, md_aug_noise(v, r->key, sd, &ctx), &err);
}

static int l_gamma(lua_State *L)
{
    MdVolume *v = check_f32(L, 1);
    double g = luaL_checknumber(L, 2);
    luaL_argcheck(L, g > 0 && isfinite(g), 2, "gamma must be > 0");
    static const char *const keys[] = {"invert", "retain_stats", NULL};
    md_lua_checkopts(L, 3, keys);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "gamma");
    return run(L, md_aug_gamma(v, g, md_lua_optboolfield(L, 3, "invert", 0), md_lua_optboolfield(L, 3, "retain_stats", 0), &ctx), &err);
}

static int l_contrast(lua_State *L)
{
    MdVolume *v = check_f32(L, 1);
    double f = luaL_checknumber(L, 2);
    luaL_argcheck(L, isfinite(f), 2, "factor must be finite");
    static const char *const keys[] = {"preserve_range", NULL};
    md_lua_checkopts(L, 3, keys);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "contrast");
    return run(L, md_aug_contrast(v, f, md_lua_optboolfield(L, 3, "preserve_range", 1), &ctx), &err);
}

static int l_brightness(lua_State *L)
{
    MdVolume *v = check_f32(L, 1);
    double f = luaL_checknumber(L, 2);
    luaL_argcheck(L, isfinite(f), 2, "factor must be finite");
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "brightness");
    return run(L, md_aug_brightness(v, f, &ctx), &err);
}

static int l_bias(lua_State *L)
{
    MdVolume *v = check_f32(L, 1);
    lua_Integer order = luaL_checkinteger(L, 2);
    luaL_argcheck(L, order >= 0 && order <= 8, 2, "order must be 0 to 8");
    luaL_checktype(L, 3, LUA_TTABLE);
    int want = md_aug_bias_ncoef((int)order, v->ndim < 3 ? 2 : 3);
    luaL_argcheck(L, (int)lua_rawlen(L, 3) == want, 3,
                  lua_pushfstring(L, "order %d needs %d coefficients", (int)order, want));
    double c[256];
    md_lua_argnumbers(L, 3, 3, c, want, "coefficients");
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "bias");
    return run(L, md_aug_bias(v, (int)order, c, want, &ctx), &err);
}

static int l_bias_ncoef(lua_State *L)
{
    lua_Integer order = luaL_checkinteger(L, 1), nd = luaL_optinteger(L, 2, 3);
    luaL_argcheck(L, order >= 0 && order <= 8, 1, "order must be 0 to 8");
    lua_pushinteger(L, md_aug_bias_ncoef((int)order, (int)nd));
    return 1;
}

static int l_blur(lua_State *L)
{
    MdVolume *v = check_f32(L, 1);
    double sig[3] = {0, 0, 0};
    if (lua_istable(L, 2)) md_lua_argnumbers(L, 2, 2, sig, md_lua_spatial(v), "sigma");
    else sig[0] = sig[1] = sig[2] = luaL_checknumber(L, 2);
    if (v->dim[2] == 1) sig[2] = 0;
    for (int a = 0; a < 3; a++) luaL_argcheck(L, sig[a] >= 0 && sig[a] <= 1e4, 2, "sigma must be >= 0 (voxels)");
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "blur");
    return run(L, md_aug_blur(v, sig, &ctx), &err);
}

static int l_stats(lua_State *L)
{
    MdVolume *v = check_f32(L, 1);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "stats");
    MdAugStats s;
    if (md_aug_stats(v, &s, &ctx) != MD_OK) return md_lua_raise(L, &err);
    lua_createtable(L, 0, 5);
    lua_pushnumber(L, s.mean), lua_setfield(L, -2, "mean");
    lua_pushnumber(L, s.std), lua_setfield(L, -2, "std");
    lua_pushnumber(L, s.min), lua_setfield(L, -2, "min");
    lua_pushnumber(L, s.max), lua_setfield(L, -2, "max");
    lua_pushinteger(L, (lua_Integer)s.n), lua_setfield(L, -2, "n");
    return 1;
}

static const MdLuaReg rng_methods[] = {
    {"uniform", l_rng_uniform,
     "rng:uniform([a=0, b=1]) -> number\n"
     "The next number of the stream, uniform in [a, b).\n"
     "Example:\n"
     "  local r = vol.rng(42); print(r:uniform(-15, 15))"},
    {"normal", l_rng_normal,
     "rng:normal([mean=0, sd=1]) -> number\n"
     "The next number of the stream, normally distributed (Box-Muller on two\n"
     "counters of its own).\n"
     "Example:\n"
     "  local r = vol.rng(42); print(r:normal(0, 0.1))"},
    {"integer", l_rng_integer,
     "rng:integer(lo, hi) -> integer\n"
     "The next number of the stream, a uniform integer in [lo, hi].\n"
     "Example:\n"
     "  local r = vol.rng(42); print(r:integer(1, 6))"},
    {"derive", l_rng_derive,
     "rng:derive(k, ...) -> Rng\n"
     "A new, independent stream keyed by this stream's key and the integers\n"
     "k, ... (>= 0); its first number does not depend on how far this one went.\n"
     "Example:\n"
     "  local case_rng = vol.rng(42):derive(case_index, epoch)"},
    {NULL, NULL, NULL}};

static const MdLuaReg functions[] = {
    {"rng", l_rng,
     "vol.rng(seed [, stream, ...]) -> Rng\n"
     "A counter-based random stream keyed by integers >= 0 (seed, then any\n"
     "number of further key parts such as case, epoch, transform). Every value\n"
     "is a pure function of the key and its position in the stream: the same\n"
     "key gives the same numbers on any machine, thread count or worker, and\n"
     "in any order of cases. The family augmentation and the phantoms use.\n"
     "Methods: uniform, normal, integer, derive.\n"
     "Example:\n"
     "  local r = vol.rng(7, case, epoch)\n"
     "  local angle = r:uniform(-15, 15)"},
    {NULL, NULL, NULL}};

static const MdLuaReg methods[] = {
    {"warp", l_warp,
     "v:warp{[matrix=], [offset=], [shape=], [lattice=, displacement=],\n"
     "       [interpolation=\"linear\"], [mode=\"constant\"], [fill=0], [dtype=],\n"
     "       [labels={...}, label_interpolation=\"nearest\"]} -> Volume [, {labels...}]\n"
     "Resamples v once through the mapping c = M o + b + D(o): output voxel o\n"
     "(0-based x, y, z) reads the input at index c. matrix: 9 numbers, row a\n"
     "for input axis a (identity); offset: 3 numbers (0); shape: the output\n"
     "size (v's). lattice={Kx, Ky, Kz} (4..4096 each) and displacement (3 x\n"
     "Kx*Ky*Kz numbers, x fastest, the x components first, in input voxels)\n"
     "add a cubic B-spline displacement D whose control point i sits at output\n"
     "index (i - 1)(n - 1)/(K - 3). interpolation: nearest, linear, cubic\n"
     "(scipy.ndimage.map_coordinates' orders 0, 1, 3 with its modes) or label\n"
     "(per-label linear voting). Output: v's spacing, direction and origin,\n"
     "dtype v's unless dtype= (integers rounded half away from zero and\n"
     "saturated). labels: more volumes on v's grid warped in the same pass\n"
     "(coordinates computed once), each keeping its dtype, fill 0, with\n"
     "label_interpolation (nearest or label); they come back as a second result.\n"
     "vol.augment composes its draws into one such call.\n"
     "Example:\n"
     "  local flipped = v:warp{matrix={-1,0,0, 0,1,0, 0,0,1}, offset={v.shape[1]-1, 0, 0}}"},
    {NULL, NULL, NULL}};

static const MdLuaReg aug[] = {
    {"noise", l_noise,
     "vol.aug.noise(v, sd, rng) -> v\n"
     "In place: adds Gaussian noise of standard deviation sd to the float32\n"
     "volume v. Voxel i takes normal number i of rng's stream (rng is not\n"
     "advanced), so the result is the same on any thread count.\n"
     "Example:\n"
     "  vol.aug.noise(img, 0.1, vol.rng(1, case))"},
    {"gamma", l_gamma,
     "vol.aug.gamma(v, gamma [, {invert=false, retain_stats=false}]) -> v\n"
     "In place on float32: nnU-Net's gamma, x -> ((x - min)/(range + 1e-7))^gamma\n"
     "* range + min over v's own min and range. invert: the same on -x, negated\n"
     "back. retain_stats: then restore v's former mean and standard deviation.\n"
     "Example:\n"
     "  vol.aug.gamma(img, 1.3, {retain_stats=true})"},
    {"contrast", l_contrast,
     "vol.aug.contrast(v, factor [, {preserve_range=true}]) -> v\n"
     "In place on float32: x -> (x - mean) * factor + mean, clipped to the former\n"
     "min and max unless preserve_range=false (nnU-Net's contrast augmentation).\n"
     "Example:\n"
     "  vol.aug.contrast(img, 0.8)"},
    {"brightness", l_brightness,
     "vol.aug.brightness(v, factor) -> v\n"
     "In place on float32: multiplicative brightness, x -> x * factor.\n"
     "Example:\n"
     "  vol.aug.brightness(img, 1.1)"},
    {"bias", l_bias,
     "vol.aug.bias(v, order, coefficients) -> v\n"
     "In place on float32: multiplies v by exp(P), P the polynomial of degree\n"
     "<= order over coordinates normalised to [-1, 1] per axis (TorchIO's\n"
     "RandomBiasField), coefficients one per monomial u^i v^j w^k, i outer, k\n"
     "inner; vol.aug.bias_terms(order) tells how many.\n"
     "Example:\n"
     "  vol.aug.bias(img, 1, {0, 0.1, 0, 0})"},
    {"bias_terms", l_bias_ncoef,
     "vol.aug.bias_terms(order [, ndim=3]) -> integer\n"
     "The number of coefficients vol.aug.bias takes for this order (2-D: ndim=2).\n"
     "Example:\n"
     "  print(vol.aug.bias_terms(3))  --> 20"},
    {"blur", l_blur,
     "vol.aug.blur(v, sigma_vox) -> v\n"
     "In place on float32: Gaussian blur with scipy.ndimage.gaussian_filter's\n"
     "kernel (truncate 4, mode 'nearest'); sigma_vox one number or one per axis\n"
     "(voxels; 0 leaves an axis alone).\n"
     "Example:\n"
     "  vol.aug.blur(img, {1, 1, 0.5})"},
    {"stats", l_stats,
     "vol.aug.stats(v) -> {mean=, std=, min=, max=, n=}\n"
     "Mean, population standard deviation, min and max of a float32 volume,\n"
     "NaN skipped; the statistics the intensity transforms use.\n"
     "Example:\n"
     "  print(vol.aug.stats(img).std)"},
    {NULL, NULL, NULL}};

void md_open_augment(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    if (luaL_newmetatable(L, MD_RNG_MT)) {
        lua_newtable(L);
        md_lua_register(L, rng_methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_rng_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    lua_pushvalue(L, module);
    md_lua_register(L, functions);
    lua_pop(L, 1);
    lua_newtable(L);
    md_lua_register(L, aug);
    lua_setfield(L, module, "aug");
    md_push_methods(L, module);
    md_lua_register(L, methods);
    lua_pop(L, 1);
}
