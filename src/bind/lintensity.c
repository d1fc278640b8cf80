/* Binding of the value statistics (kernels/histogram: v:histogram,
 * v:percentile, v:unique) and the intensity transforms (kernels/intensity:
 * window, rescale, normalize, zscore, clip_percentile, replace, the
 * log/power/exp transforms, equalize_hist). v:median lives in lfilter.c
 * (one name for the statistic and the filter). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/arith.h"
#include "../kernels/histogram.h"
#include "../kernels/intensity.h"
#include "lintensity.h"
#include "lmorph.h"

MdVolume *md_lua_optmask(lua_State *L, int opts, const MdVolume *v)
{
    if (lua_type(L, opts) != LUA_TTABLE) return NULL;
    lua_getfield(L, opts, "mask");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    if (!md_lua_tovolume(L, -1)) luaL_argerror(L, opts, "option 'mask' must be a Volume");
    MdVolume *m = md_lua_checkmask(L, lua_gettop(L));
    if (m->ndim != v->ndim || memcmp(m->dim, v->dim, sizeof m->dim) != 0)
        luaL_argerror(L, opts, lua_pushfstring(L, "mask shape %dx%dx%d differs from the volume's %dx%dx%d",
                                               (int)m->dim[0], (int)m->dim[1], (int)m->dim[2], (int)v->dim[0],
                                               (int)v->dim[1], (int)v->dim[2]));
    return m; /* stays on the stack for the call */
}

/* Raises err, naming the function: kernel messages are already complete. */
static int raise_ctx(lua_State *L, MdError *err) { return md_lua_raise(L, err); }

/* ---- statistics ---------------------------------------------------------- */

static int l_histogram(lua_State *L)
{
    static const char *const keys[] = {"bins", "range", "mask", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    MdSelection s = {v, md_lua_optmask(L, 2, v)};
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "histogram");
    int64_t nbins = 10;
    double *edges = NULL;
    int uniform = 1;
    if (lua_type(L, 2) == LUA_TTABLE) lua_getfield(L, 2, "bins");
    else lua_pushnil(L);
    if (lua_type(L, -1) == LUA_TTABLE) {
        nbins = (int64_t)lua_rawlen(L, -1) - 1;
        luaL_argcheck(L, nbins >= 1, 2, "option 'bins' as edges needs at least 2 numbers");
        edges = lua_newuserdatauv(L, (size_t)(nbins + 1) * sizeof *edges, 0);
        lua_insert(L, -2); /* the stack keeps the edges alive; the list is on top */
        md_lua_argnumbers(L, 2, -1, edges, (int)nbins + 1, "bins");
        for (int64_t i = 0; i < nbins; i++)
            if (!(edges[i] <= edges[i + 1]) || !isfinite(edges[i + 1]) || !isfinite(edges[0]))
                luaL_argerror(L, 2, "option 'bins': edges must be finite and increase monotonically");
        uniform = 0;
        lua_pushvalue(L, -1);
    } else if (!lua_isnil(L, -1)) {
        lua_Integer nb = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
        if (nb < 1 || nb > 100000000)
            luaL_argerror(L, 2, "option 'bins' must be an integer >= 1 or a list of edges");
        nbins = nb;
    }
    lua_pop(L, 1);
    if (uniform) {
        double lo, hi;
        if (lua_type(L, 2) == LUA_TTABLE) lua_getfield(L, 2, "range");
        else lua_pushnil(L);
        if (!lua_isnil(L, -1)) {
            double r[2];
            luaL_argcheck(L, lua_type(L, -1) == LUA_TTABLE && lua_rawlen(L, -1) == 2, 2,
                          "option 'range' must be {lo, hi}");
            md_lua_argnumbers(L, 2, -1, r, 2, "range");
            if (!(isfinite(r[0]) && isfinite(r[1]) && r[0] <= r[1]))
                luaL_argerror(L, 2, "option 'range' must be finite with lo <= hi");
            lo = r[0], hi = r[1];
        } else {
            size_t n;
            if (md_value_range(&s, &lo, &hi, &n, &ctx) != MD_OK) return raise_ctx(L, &err);
        }
        lua_pop(L, 1);
        edges = lua_newuserdatauv(L, (size_t)(nbins + 1) * sizeof *edges, 0);
        md_histogram_edges(v->dtype, lo, hi, nbins, edges);
    }
    int64_t *counts = lua_newuserdatauv(L, (size_t)nbins * sizeof *counts, 0);
    if (md_histogram(&s, edges, nbins, uniform, counts, &ctx) != MD_OK) return raise_ctx(L, &err);
    lua_createtable(L, (int)nbins, 0);
    for (int64_t i = 0; i < nbins; i++) {
        lua_pushinteger(L, counts[i]);
        lua_rawseti(L, -2, i + 1);
    }
    md_lua_pushnumbers(L, edges, (int)nbins + 1);
    return 2;
}

static const char *const qmethods[] = {"linear", "lower", "higher", "midpoint", "nearest", "inverted_cdf",
                                       "averaged_inverted_cdf", "closest_observation",
                                       "interpolated_inverted_cdf", "hazen", "weibull", "median_unbiased",
                                       "normal_unbiased", NULL};

/* Percentiles of v (opts at idx: mask, method) for the numbers q[0..n). */
static void percentiles(lua_State *L, MdVolume *v, int opts, const double *q, int n, double *out)
{
    MdSelection s = {v, md_lua_optmask(L, opts, v)};
    MdQuantileMethod m = (MdQuantileMethod)md_lua_optchoice(L, opts, "method", 0, qmethods);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "percentile");
    if (md_percentiles(&s, q, n, m, out, &ctx) != MD_OK) raise_ctx(L, &err);
}

static int l_percentile(lua_State *L)
{
    static const char *const keys[] = {"q", "mask", "method", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    int qidx = 2, opts = 3;
    if (lua_type(L, 2) == LUA_TTABLE && lua_rawlen(L, 2) == 0) { /* v:percentile{q=..., mask=...} */
        lua_getfield(L, 2, "q");
        qidx = lua_gettop(L);
        opts = 2;
        if (lua_isnil(L, qidx)) luaL_argerror(L, 2, "option 'q' (percentile or list of percentiles) is required");
    }
    md_lua_checkopts(L, opts, keys);
    int list = lua_type(L, qidx) == LUA_TTABLE;
    int n = list ? (int)lua_rawlen(L, qidx) : 1;
    luaL_argcheck(L, n >= 1 && n <= 10000, qidx, "expected 1 to 10000 percentiles");
    double *q = lua_newuserdatauv(L, (size_t)n * 2 * sizeof *q, 0);
    if (list) md_lua_argnumbers(L, qidx, qidx, q, n, "percentiles");
    else q[0] = luaL_checknumber(L, qidx);
    for (int i = 0; i < n; i++)
        luaL_argcheck(L, q[i] >= 0 && q[i] <= 100, qidx, "percentiles must be in [0, 100]");
    percentiles(L, v, opts, q, n, q + n);
    if (!list) {
        lua_pushnumber(L, q[n]);
        return 1;
    }
    md_lua_pushnumbers(L, q + n, n);
    return 1;
}

static int l_unique(lua_State *L)
{
    static const char *const keys[] = {"counts", "mask", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    int want = md_lua_optboolfield(L, 2, "counts", 0);
    MdSelection s = {v, md_lua_optmask(L, 2, v)};
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "unique");
    double *vals;
    int64_t *counts;
    size_t n;
    if (md_unique(&s, &vals, &counts, &n, &ctx) != MD_OK) return raise_ctx(L, &err);
    if (n > 100000000) {
        free(vals);
        free(counts);
        return luaL_error(L, "unique: %zu distinct values are too many for a Lua table", n);
    }
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        if (v->dtype != MD_FLOAT32 && v->dtype != MD_FLOAT64) lua_pushinteger(L, (lua_Integer)vals[i]);
        else lua_pushnumber(L, vals[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    if (want) {
        lua_createtable(L, (int)n, 0);
        for (size_t i = 0; i < n; i++) {
            lua_pushinteger(L, counts[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
    }
    free(vals);
    free(counts);
    return want ? 2 : 1;
}

int md_lua_median_value(lua_State *L)
{
    static const char *const keys[] = {"mask", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    MdSelection s = {v, md_lua_optmask(L, 2, v)};
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "median");
    double m;
    if (md_median_value(&s, &m, &ctx) != MD_OK) return raise_ctx(L, &err);
    lua_pushnumber(L, m);
    return 1;
}

/* ---- transforms ------------------------------------------------------------- */

/* Pushes the output volume (like v, dtype from opts at idx or def). */
static MdVolume *new_out(lua_State *L, const MdVolume *v, int opts, MdDtype def)
{
    MdDtype t = md_lua_optdtype(L, opts, def);
    return md_lua_newlike(L, v, t, 0);
}

static MdDtype float_of(const MdVolume *v) { return v->dtype == MD_FLOAT64 ? MD_FLOAT64 : MD_FLOAT32; }

static int run_map(lua_State *L, const MdVolume *v, const MdMapOpts *o, MdVolume *out)
{
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "intensity");
    if (md_intensity_map(v, o, out, &ctx) != MD_OK) return raise_ctx(L, &err);
    return 1;
}

static MdMapOpts linear(double a, double b)
{
    MdMapOpts o = {MD_MAP_LINEAR, a, b, 1, -INFINITY, INFINITY, 0, NULL, NAN};
    return o;
}

static void value_range(lua_State *L, const MdVolume *v, const MdVolume *mask, double *lo, double *hi)
{
    MdSelection s = {v, mask};
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "range");
    size_t n;
    if (md_value_range(&s, lo, hi, &n, &ctx) != MD_OK) raise_ctx(L, &err);
}

static int l_window(lua_State *L)
{
    static const char *const keys[] = {"min", "max", "dtype", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    double level = luaL_checknumber(L, 2), width = luaL_checknumber(L, 3);
    luaL_argcheck(L, isfinite(level), 2, "level must be finite");
    luaL_argcheck(L, width > 0 && isfinite(width), 3, "width must be > 0");
    md_lua_checkopts(L, 4, keys);
    double omin = md_lua_optnumfield(L, 4, "min", 0), omax = md_lua_optnumfield(L, 4, "max", 255);
    luaL_argcheck(L, isfinite(omin) && isfinite(omax) && omin < omax, 4, "min must be < max");
    double lo = level - width / 2, hi = level + width / 2, a = (omax - omin) / (hi - lo);
    MdMapOpts o = linear(a, omin - lo * a);
    o.lo = omin, o.hi = omax;
    return run_map(L, v, &o, new_out(L, v, 4, float_of(v)));
}

static int l_rescale(lua_State *L)
{
    static const char *const keys[] = {"min", "max", "dtype", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    double omin = md_lua_optnumfield(L, 2, "min", 0), omax = md_lua_optnumfield(L, 2, "max", 255);
    luaL_argcheck(L, isfinite(omin) && isfinite(omax) && omin <= omax, 2, "min must be <= max");
    double lo, hi;
    value_range(L, v, NULL, &lo, &hi);
    /* ITK's RescaleIntensityImageFilter: scale and shift in double */
    double a = hi > lo ? (omax - omin) / (hi - lo) : 0, b = omin - lo * a;
    return run_map(L, v, &(MdMapOpts){MD_MAP_LINEAR, a, b, 1, -INFINITY, INFINITY, 0, NULL, NAN},
                   new_out(L, v, 2, float_of(v)));
}

static int l_normalize(lua_State *L)
{
    static const char *const keys[] = {"lo", "hi", "clip", "center", "dtype", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    luaL_checktype(L, 2, LUA_TTABLE);
    double lo = md_lua_optnumfield(L, 2, "lo", NAN), hi = md_lua_optnumfield(L, 2, "hi", NAN);
    luaL_argcheck(L, isfinite(lo) && isfinite(hi) && lo < hi, 2, "options 'lo' and 'hi' must be finite with lo < hi");
    MdMapOpts o = linear(1 / (hi - lo), -lo / (hi - lo));
    if (md_lua_optboolfield(L, 2, "clip", 1)) o.lo = 0, o.hi = 1;
    o.post = -md_lua_optnumfield(L, 2, "center", 0);
    return run_map(L, v, &o, new_out(L, v, 2, float_of(v)));
}

/* mean and std (ddof 0) of v inside mask (NULL: all); std 0 becomes 1. */
static void mean_std(lua_State *L, const MdVolume *v, const MdVolume *mask, double *mean, double *sd)
{
    MdStats s;
    MdError err;
    if (md_stats(v, mask, &s, &err) != MD_OK) raise_ctx(L, &err);
    if (s.count == 0) luaL_error(L, "the selection is empty (no voxel in the mask, or none finite)");
    *mean = s.mean;
    *sd = s.std > 0 ? s.std : 1;
}

/* The mask of zscore-like methods: opts.mask, and opts.nonzero (v ~= 0). */
static MdVolume *zmask(lua_State *L, MdVolume *v, int opts)
{
    MdVolume *m = md_lua_optmask(L, opts, v);
    if (!md_lua_optboolfield(L, opts, "nonzero", 0)) return m;
    MdVolume *nz = md_lua_newlike(L, v, MD_UINT8, 0);
    MdOperand a = {v, 0}, zero = {NULL, 0};
    MdError err;
    if (md_arith_binary(a, zero, MD_OP_NE, nz, &err) != MD_OK) raise_ctx(L, &err);
    if (m) {
        MdOperand x = {nz, 0}, y = {m, 0};
        if (md_arith_binary(x, y, MD_OP_AND, nz, &err) != MD_OK) raise_ctx(L, &err);
    }
    return nz;
}

static int zscore_map(lua_State *L, MdMapOp op, double power)
{
    static const char *const keys[] = {"mask", "nonzero", "dtype", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    int opts = op == MD_MAP_POW ? 3 : 2;
    md_lua_checkopts(L, opts, keys);
    MdVolume *m = zmask(L, v, opts);
    double mean, sd;
    mean_std(L, v, m, &mean, &sd);
    MdMapOpts o = linear(1 / sd, -mean / sd);
    o.op = op, o.power = power, o.mask = m, o.outside = 0;
    return run_map(L, v, &o, new_out(L, v, opts, float_of(v)));
}

static int l_zscore(lua_State *L) { return zscore_map(L, MD_MAP_LINEAR, 1); }
static int l_exp_transform(lua_State *L) { return zscore_map(L, MD_MAP_EXP, 1); }
static int l_power_transform(lua_State *L)
{
    double p = luaL_checknumber(L, 2);
    luaL_argcheck(L, isfinite(p), 2, "power must be finite");
    return zscore_map(L, MD_MAP_POW, p);
}

static int l_log_transform(lua_State *L)
{
    static const char *const keys[] = {"dtype", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    double lo, hi;
    value_range(L, v, NULL, &lo, &hi);
    MdMapOpts o = linear(1, -lo);
    o.op = MD_MAP_LOG1P;
    return run_map(L, v, &o, new_out(L, v, 2, float_of(v)));
}

static int l_clip_percentile(lua_State *L)
{
    static const char *const keys[] = {"lo", "hi", "mask", "method", "dtype", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    double q[4] = {md_lua_optnumfield(L, 2, "lo", 0.5), md_lua_optnumfield(L, 2, "hi", 99.5)};
    luaL_argcheck(L, q[0] >= 0 && q[0] <= q[1] && q[1] <= 100, 2, "options 'lo' and 'hi' must satisfy 0 <= lo <= hi <= 100");
    percentiles(L, v, 2, q, 2, q + 2);
    MdMapOpts o = linear(1, 0);
    o.lo = q[2], o.hi = q[3];
    return run_map(L, v, &o, new_out(L, v, 2, float_of(v)));
}

static int l_replace(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    double *from, *to;
    int n;
    if (lua_type(L, 2) == LUA_TTABLE) {
        n = 0;
        lua_pushnil(L);
        while (lua_next(L, 2)) {
            n++;
            lua_pop(L, 1);
        }
        luaL_argcheck(L, n >= 1 && n <= 4096, 2, "expected a table of 1 to 4096 value = replacement pairs");
        from = lua_newuserdatauv(L, 2 * (size_t)n * sizeof *from, 0);
        to = from + n;
        int i = 0;
        lua_pushnil(L);
        while (lua_next(L, 2)) {
            if (!lua_isnumber(L, -2) || !lua_isnumber(L, -1))
                luaL_argerror(L, 2, "pairs must map numbers to numbers");
            from[i] = lua_tonumber(L, -2);
            to[i++] = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
    } else {
        n = 1;
        from = lua_newuserdatauv(L, 2 * sizeof *from, 0);
        to = from + 1;
        from[0] = luaL_checknumber(L, 2);
        to[0] = luaL_checknumber(L, 3);
    }
    MdVolume *out = md_lua_newlike(L, v, -1, 0);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "replace");
    if (md_intensity_replace(v, from, to, n, out, &ctx) != MD_OK) return raise_ctx(L, &err);
    return 1;
}

/* skimage.exposure.equalize_hist: the cumulative histogram (per integer
 * value for integer volumes, nbins equal bins otherwise) interpolated. */
static int l_equalize_hist(lua_State *L)
{
    static const char *const keys[] = {"nbins", "mask", "dtype", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    int64_t nbins = (int64_t)md_lua_optintfield(L, 2, "nbins", 256, 1);
    MdSelection s = {v, md_lua_optmask(L, 2, v)};
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "equalize_hist");
    double *xp, *fp;
    size_t n;
    if (!md_dtype_is_float(v->dtype)) {
        int64_t *counts;
        if (md_unique(&s, &xp, &counts, &n, &ctx) != MD_OK) return raise_ctx(L, &err);
        /* skimage bins every integer from min to max: an absent value takes
         * the cumulative count of the value below, so each gap gets a
         * second point that holds the step flat */
        double *x2 = malloc((2 * n + 1) * sizeof *x2);
        fp = malloc((2 * n + 1) * sizeof *fp);
        double cum = 0;
        size_t m = 0;
        for (size_t i = 0; fp && x2 && i < n; i++) {
            if (i > 0 && xp[i] > xp[i - 1] + 1) {
                x2[m] = xp[i] - 1;
                fp[m++] = cum;
            }
            x2[m] = xp[i];
            fp[m++] = (cum += (double)counts[i]);
        }
        free(counts);
        free(xp);
        xp = x2;
        if (!fp || !xp || n == 0) {
            free(xp);
            free(fp);
            return luaL_error(L, n ? "equalize_hist: out of memory" : "equalize_hist: the selection is empty");
        }
        n = m;
    } else {
        double lo, hi;
        size_t cnt;
        if (md_value_range(&s, &lo, &hi, &cnt, &ctx) != MD_OK) return raise_ctx(L, &err);
        double *e = malloc((size_t)(nbins + 1) * sizeof *e);
        int64_t *h = malloc((size_t)nbins * sizeof *h);
        xp = malloc((size_t)nbins * sizeof *xp);
        fp = malloc((size_t)nbins * sizeof *fp);
        if (!e || !h || !xp || !fp) {
            free(e), free(h), free(xp), free(fp);
            return luaL_error(L, "equalize_hist: out of memory");
        }
        md_histogram_edges(v->dtype, lo, hi, nbins, e);
        MdStatus st = md_histogram(&s, e, nbins, 1, h, &ctx);
        double cum = 0;
        for (int64_t i = 0; i < nbins; i++) {
            /* bin centres in the edges' precision, as numpy computes them */
            xp[i] = v->dtype == MD_FLOAT32 ? (double)(((float)e[i] + (float)e[i + 1]) / 2.0f) : (e[i] + e[i + 1]) / 2;
            fp[i] = (cum += (double)h[i]);
        }
        free(e), free(h);
        n = (size_t)nbins;
        if (st) {
            free(xp), free(fp);
            return raise_ctx(L, &err);
        }
    }
    for (size_t i = 0; i < n; i++) fp[i] /= fp[n - 1];
    MdVolume *out = new_out(L, v, 2, float_of(v));
    MdStatus st = md_intensity_interp(v, xp, fp, n, out, &ctx);
    free(xp), free(fp);
    if (st) return raise_ctx(L, &err);
    return 1;
}

#define MASK_OPT "  mask  a Volume of v's shape: only voxels where it is non-zero count\n"

static const MdLuaReg methods[] = {
    {"histogram", l_histogram,
     "v:histogram([opts]) -> counts, edges\n"
     "numpy.histogram of the voxel values: counts (integers, one per bin) and the bin\n"
     "edges (one more). Bins are [edges[i], edges[i+1]) except the last, which also\n"
     "takes its right edge. NaN voxels are never counted.\n"
     "  bins   number of equal bins (default 10, as numpy), or a list of edges\n"
     "  range  {lo, hi} of the equal bins (default: the selected values' min and max;\n"
     "         values outside are not counted)\n" MASK_OPT
     "Edges are numpy's: linspace in double, kept in float32 for float32 volumes.\n"
     "  local counts, edges = ct:histogram{bins=80, range={-1000, 600}, mask=body}"},
    {"percentile", l_percentile,
     "v:percentile(q [, opts]) | v:percentile{q=, mask=, method=} -> number | list\n"
     "numpy.percentile of the voxel values: q a number in [0, 100] or a list of them\n"
     "(a list gives a list). NaN voxels are left out (numpy.nanpercentile).\n" MASK_OPT
     "  method  numpy's method name: linear (default), lower, higher, midpoint, nearest,\n"
     "          inverted_cdf, averaged_inverted_cdf, closest_observation,\n"
     "          interpolated_inverted_cdf, hazen, weibull, median_unbiased, normal_unbiased\n"
     "Errors: an empty selection, q outside [0, 100].\n"
     "  local p = ct:percentile({0.5, 99.5}, {mask=body})"},
    {"unique", l_unique,
     "v:unique([opts]) -> values [, counts]\n"
     "numpy.unique: the distinct voxel values ascending (integers for integer volumes),\n"
     "and with counts=true how many voxels hold each. NaN is left out; -0.0 counts as 0.\n"
     "  counts  also return the counts (default false)\n" MASK_OPT
     "  local labels, sizes = seg:unique{counts=true}"},
    {"window", l_window,
     "v:window(level, width [, opts]) -> Volume\n"
     "Display windowing: [level - width/2, level + width/2] maps linearly onto\n"
     "[min, max], values outside are clipped (SimpleITK IntensityWindowing).\n"
     "  min, max  output range (default 0, 255)\n"
     "  dtype     output dtype (default float32; float64 for a float64 volume)\n"
     "  local lung = ct:window(-600, 1500)"},
    {"rescale", l_rescale,
     "v:rescale([opts]) -> Volume\n"
     "SimpleITK RescaleIntensity: the volume's minimum maps to min and its maximum to\n"
     "max, linearly (a constant volume maps to min).\n"
     "  min, max  output range (default 0, 255)\n"
     "  dtype     output dtype (default float32; integer outputs round to nearest)\n"
     "  local u8 = mri:rescale{min=0, max=255, dtype=\"uint8\"}"},
    {"normalize", l_normalize,
     "v:normalize{lo=, hi= [, clip=true] [, center=0]} -> Volume\n"
     "(x - lo) / (hi - lo), clipped to [0, 1] unless clip=false, minus center (the\n"
     "DSB2017 normalisation and zero-centring: lo=-1000, hi=400, center=0.25).\n"
     "  dtype  output dtype (default float32)\n"
     "  local n = ct:normalize{lo=-1000, hi=400, center=0.25}"},
    {"zscore", l_zscore,
     "v:zscore([opts]) -> Volume\n"
     "(x - mean) / std over the selected voxels (population std; std 0 counts as 1),\n"
     "as nnU-Net's ZScoreNormalization and MONAI's NormalizeIntensity. Voxels outside\n"
     "the selection become 0.\n" MASK_OPT
     "  nonzero  select only non-zero voxels (MONAI's nonzero=True); with mask: both\n"
     "  dtype    output dtype (default float32)\n"
     "  local z = mri:zscore{nonzero=true}"},
    {"clip_percentile", l_clip_percentile,
     "v:clip_percentile([opts]) -> Volume\n"
     "Values clipped to the lo-th and hi-th percentiles (numpy.percentile, linear) of\n"
     "the selected voxels, as nnU-Net's CT normalisation does before z-scoring.\n"
     "  lo, hi  percentiles (default 0.5, 99.5)\n" MASK_OPT
     "  method  numpy's percentile method (default linear)\n"
     "  dtype   output dtype (default float32)\n"
     "  local c = ct:clip_percentile{lo=0.5, hi=99.5, mask=fg}"},
    {"replace", l_replace,
     "v:replace(a, b) | v:replace{[a]=b, ...} -> Volume\n"
     "A copy (same dtype) where voxels equal to a become b (0/0 matches NaN); b is\n"
     "rounded and saturated for integer volumes.\n"
     "  local seg2 = seg:replace{[2]=1, [4]=3}"},
    {"log_transform", l_log_transform,
     "v:log_transform([opts]) -> Volume\n"
     "log1p(x - min): the SimpleITK recipe's log transform (min over the volume).\n"
     "  dtype  output dtype (default float32)\n"
     "  local l = mri:log_transform()"},
    {"power_transform", l_power_transform,
     "v:power_transform(n [, opts]) -> Volume\n"
     "((x - mean) / std)^n, std the population standard deviation: the SimpleITK\n"
     "recipe's power transform (pow of a negative base to a fractional n gives NaN).\n" MASK_OPT
     "  nonzero, dtype  as v:zscore\n"
     "  local p = mri:power_transform(2)"},
    {"exp_transform", l_exp_transform,
     "v:exp_transform([opts]) -> Volume\n"
     "exp((x - mean) / std): the exponential of the z-scored volume.\n" MASK_OPT
     "  nonzero, dtype  as v:zscore\n"
     "  local e = mri:exp_transform()"},
    {"equalize_hist", l_equalize_hist,
     "v:equalize_hist([opts]) -> Volume\n"
     "skimage.exposure.equalize_hist: each value becomes its place in the cumulative\n"
     "histogram, in [0, 1]. Integer volumes use one bin per integer value (as skimage);\n"
     "float volumes nbins equal bins with linear interpolation between bin centres.\n"
     "  nbins  bins for float volumes (default 256)\n" MASK_OPT
     "  dtype  output dtype (default float32)\n"
     "  local eq = ct:equalize_hist()"},
    {NULL, NULL, NULL}};

void md_open_intensity(lua_State *L, int module)
{
    md_push_methods(L, module);
    md_lua_register(L, methods);
    lua_pop(L, 1);
}
