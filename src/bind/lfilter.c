/* Binding of the filters (kernels/filter, median, filter_edges): Gaussian,
 * median (the filter and, without a radius, numpy.median of the values),
 * uniform, minimum/maximum, correlate/convolve, the edge filters, Laplacian,
 * Laplacian of Gaussian and gradient magnitude. Option readers for sigmas
 * and radii in mm or voxels, border modes and per-slice filtering. */
#include <math.h>
#include <string.h>

#include "../kernels/ahe.h"
#include "../kernels/clahe.h"
#include "../kernels/filter_edges.h"
#include "../kernels/recursive.h"
#include "lintensity.h"
#include "lmorph.h"

#define MAX_TAPS 8001

static const char *const modes[] = {"reflect", "constant", "nearest", "mirror", "wrap", "grid-constant",
                                    "grid-mirror", "grid-wrap", NULL};

typedef struct FOpts {
    MdBorder mode;
    double cval;
    int naxes; /* 2: x and y (2-D volume or per_slice), 3: x, y and z */
} FOpts;

static void check_dims(lua_State *L, const MdVolume *v)
{
    if (v->ndim < 2 || v->ndim > 3)
        luaL_argerror(L, 1, lua_pushfstring(L, "expected a 2-D or 3-D volume (got %d-D)", v->ndim));
}

static FOpts read_fopts(lua_State *L, int idx, const MdVolume *v)
{
    static const MdBorder map[] = {MD_BORDER_REFLECT, MD_BORDER_CONSTANT, MD_BORDER_NEAREST, MD_BORDER_MIRROR,
                                   MD_BORDER_WRAP, MD_BORDER_CONSTANT, MD_BORDER_REFLECT, MD_BORDER_WRAP};
    FOpts f;
    check_dims(L, v);
    f.mode = map[md_lua_optchoice(L, idx, "mode", 0, modes)];
    f.cval = md_lua_optnumfield(L, idx, "cval", 0);
    f.naxes = v->ndim == 3 && !md_lua_optboolfield(L, idx, "per_slice", 0) ? 3 : 2;
    return f;
}

/* Per-axis numbers from option key (a number or a list of ndim numbers);
 * returns 0 when absent. */
static int per_axis(lua_State *L, int idx, const char *key, const MdVolume *v, double out[3])
{
    if (lua_type(L, idx) != LUA_TTABLE) return 0;
    lua_getfield(L, idx, key);
    int t = lua_type(L, -1);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    out[0] = out[1] = out[2] = 0;
    if (t == LUA_TNUMBER) {
        out[0] = out[1] = out[2] = lua_tonumber(L, -1);
    } else if (t == LUA_TTABLE && ((int)lua_rawlen(L, -1) == v->ndim ||
                                   (lua_rawlen(L, -1) == 2 && md_lua_optboolfield(L, idx, "per_slice", 0)))) {
        md_lua_argnumbers(L, idx, -1, out, (int)lua_rawlen(L, -1), key);
    } else {
        luaL_argerror(L, idx, lua_pushfstring(L, "option '%s' must be a number or a list of %d numbers", key, v->ndim));
    }
    lua_pop(L, 1);
    for (int a = 0; a < 3; a++)
        if (!(out[a] >= 0 && isfinite(out[a])))
            luaL_argerror(L, idx, lua_pushfstring(L, "option '%s' must be >= 0 (got %f)", key, out[a]));
    if (v->ndim == 2) out[2] = 0;
    return 1;
}

/* Sigmas in voxels from sigma_vox or sigma_mm (exactly one is required). */
static void read_sigma(lua_State *L, int idx, const MdVolume *v, const FOpts *f, double s[3])
{
    double mm[3];
    int has_vox = per_axis(L, idx, "sigma_vox", v, s), has_mm = per_axis(L, idx, "sigma_mm", v, mm);
    if (has_vox == has_mm) luaL_argerror(L, idx, "give one of the options 'sigma_mm' and 'sigma_vox'");
    if (has_mm)
        for (int a = 0; a < 3; a++) s[a] = mm[a] / v->spacing[a];
    if (f->naxes == 2) s[2] = 0;
    if (s[0] <= 1e-15 && s[1] <= 1e-15 && s[2] <= 1e-15) luaL_argerror(L, idx, "sigma must be > 0 on some axis");
}

/* Box half-widths from radius_vox or radius_mm (at least one voxel). */
static void read_radius(lua_State *L, int idx, const MdVolume *v, const FOpts *f, int r[3])
{
    double d[3], mm[3];
    int has_vox = per_axis(L, idx, "radius_vox", v, d), has_mm = per_axis(L, idx, "radius_mm", v, mm);
    if (has_vox == has_mm) luaL_argerror(L, idx, "give one of the options 'radius_mm' and 'radius_vox'");
    for (int a = 0; a < 3; a++) {
        if (has_mm) d[a] = floor(mm[a] / v->spacing[a] + 1e-9);
        if (d[a] != floor(d[a]) || d[a] > 1000) luaL_argerror(L, idx, "option 'radius_vox' must hold integers 0 to 1000");
        r[a] = (int)d[a];
    }
    if (f->naxes == 2) r[2] = 0;
    if (r[0] + r[1] + r[2] == 0) luaL_argerror(L, idx, "radius must be >= 1 voxel on some axis (got 0)");
}

static MdVolume *new_float_out(lua_State *L, const MdVolume *v, int idx)
{
    MdDtype t = md_lua_optdtype(L, idx, MD_FLOAT32);
    if (t != MD_FLOAT32 && t != MD_FLOAT64) luaL_argerror(L, idx, "option 'dtype' must be float32 or float64");
    return md_lua_newlike(L, v, t, 0);
}

static int finish(lua_State *L, MdStatus st, MdError *err)
{
    if (st != MD_OK) return md_lua_raise(L, err);
    return 1;
}

/* ---- Gaussian family ------------------------------------------------------ */

/* Fills the kernels of a Gaussian with derivative orders ord[] into w
 * (3 * MAX_TAPS doubles). The sigmas come from the options at argument 2. */
static void gauss_kernels(lua_State *L, const double s[3], const int ord[3], double truncate, double *w, MdKernel1 k[3])
{
    for (int a = 0; a < 3; a++) {
        k[a] = (MdKernel1){NULL, 0, 0};
        if (s[a] <= 1e-15) continue;
        int r = md_gaussian_kernel(s[a], ord[a], truncate, w + a * MAX_TAPS, MAX_TAPS);
        if (r < 0)
            luaL_argerror(L, 2, lua_pushfstring(L, "sigma too large: %f voxels on axis %d would need more than %d taps",
                                                s[a], a + 1, MAX_TAPS));
        k[a] = (MdKernel1){w + a * MAX_TAPS, 2 * r + 1, r};
    }
}

static double read_truncate(lua_State *L, int idx)
{
    double t = md_lua_optnumfield(L, idx, "truncate", 4);
    luaL_argcheck(L, t > 0 && isfinite(t), idx, "option 'truncate' must be > 0");
    return t;
}

static int l_gaussian(lua_State *L)
{
    static const char *const keys[] = {"sigma_mm", "sigma_vox", "truncate", "mode", "cval", "per_slice", "dtype",
                                       "method", NULL};
    static const char *const methods[] = {"exact", "recursive", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    md_lua_checkopts(L, 2, keys);
    FOpts f = read_fopts(L, 2, v);
    double s[3], *w = lua_newuserdatauv(L, 3 * MAX_TAPS * sizeof *w, 0);
    read_sigma(L, 2, v, &f, s);
    if (md_lua_optchoice(L, 2, "method", 0, methods) == 1) {
        if (md_lua_optstrfield(L, 2, "mode", NULL) || md_lua_optstrfield(L, 2, "truncate", NULL))
            luaL_argerror(L, 2, "options 'mode' and 'truncate' apply to method \"exact\" only");
        MdVolume *out = new_float_out(L, v, 2);
        MdError err;
        MdCtx ctx = md_ctx_init(&err, "gaussian");
        return finish(L, md_filter_recursive_gaussian(v, s, out, &ctx), &err);
    }
    MdKernel1 k[3];
    gauss_kernels(L, s, (int[3]){0, 0, 0}, read_truncate(L, 2), w, k);
    MdVolume *out = new_float_out(L, v, 2);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "gaussian");
    return finish(L, md_filter_separable(v, k, f.mode, f.cval, out, &ctx), &err);
}

static int l_gaussian_laplace(lua_State *L)
{
    static const char *const keys[] = {"sigma_mm", "sigma_vox", "truncate", "mode", "cval", "per_slice", "dtype", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    md_lua_checkopts(L, 2, keys);
    FOpts f = read_fopts(L, 2, v);
    double s[3], truncate = read_truncate(L, 2);
    read_sigma(L, 2, v, &f, s);
    /* scipy: for each axis, the second derivative along it and smoothing along the others */
    double *w = lua_newuserdatauv(L, 9 * MAX_TAPS * sizeof *w, 0);
    MdKernel1 sets[3][3];
    for (int a = 0; a < f.naxes; a++) {
        int ord[3] = {0, 0, 0};
        ord[a] = 2;
        gauss_kernels(L, s, ord, truncate, w + 3 * a * MAX_TAPS, sets[a]);
    }
    MdVolume *out = new_float_out(L, v, 2);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "gaussian_laplace");
    return finish(L, md_filter_combined(v, (const MdKernel1(*)[3])sets, f.naxes, MD_COMBINE_SUM, 1, f.mode, f.cval, out, &ctx), &err);
}

static int l_gradient_magnitude(lua_State *L)
{
    static const char *const keys[] = {"sigma_mm", "sigma_vox", "truncate", "spacing", "mode", "cval",
                                       "per_slice", "dtype", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    check_dims(L, v);
    /* ITK's GradientMagnitudeImageFilter borders (zero flux: nearest) unless told */
    FOpts f = read_fopts(L, 2, v);
    if (lua_type(L, 2) != LUA_TTABLE || md_lua_optstrfield(L, 2, "mode", NULL) == NULL) f.mode = MD_BORDER_NEAREST;
    int use_sp = md_lua_optboolfield(L, 2, "spacing", 1);
    double sv[3], smm[3];
    int gauss = per_axis(L, 2, "sigma_vox", v, sv) | per_axis(L, 2, "sigma_mm", v, smm);
    double *w = lua_newuserdatauv(L, 9 * MAX_TAPS * sizeof *w, 0);
    MdKernel1 sets[3][3];
    static const double central[3] = {-0.5, 0, 0.5};
    double *cd = lua_newuserdatauv(L, 9 * sizeof *cd, 0);
    double s[3] = {0, 0, 0};
    if (gauss) read_sigma(L, 2, v, &f, s);
    for (int a = 0; a < f.naxes; a++) {
        double sc = use_sp ? 1 / v->spacing[a] : 1;
        if (gauss) {
            int ord[3] = {0, 0, 0};
            ord[a] = 1;
            gauss_kernels(L, s, ord, read_truncate(L, 2), w + 3 * a * MAX_TAPS, sets[a]);
            double *wa = (double *)sets[a][a].w;
            for (int i = 0; wa && i < sets[a][a].len; i++) wa[i] *= sc;
        } else {
            for (int b = 0; b < 3; b++) sets[a][b] = (MdKernel1){NULL, 0, 0};
            for (int i = 0; i < 3; i++) cd[3 * a + i] = central[i] * sc;
            sets[a][a] = (MdKernel1){cd + 3 * a, 3, 1};
        }
    }
    MdVolume *out = new_float_out(L, v, 2);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "gradient_magnitude");
    return finish(L, md_filter_combined(v, (const MdKernel1(*)[3])sets, f.naxes, MD_COMBINE_HYPOT, 1, f.mode, f.cval, out, &ctx), &err);
}

/* ---- derivative stencils ------------------------------------------------------ */

static const double DIFF[3] = {-1, 0, 1}, LAPL[3] = {1, -2, 1};

static int l_laplace(lua_State *L)
{
    static const char *const keys[] = {"mode", "cval", "per_slice", "dtype", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    FOpts f = read_fopts(L, 2, v);
    MdKernel1 sets[3][3];
    memset(sets, 0, sizeof sets);
    for (int a = 0; a < f.naxes; a++) sets[a][a] = (MdKernel1){LAPL, 3, 1};
    MdVolume *out = new_float_out(L, v, 2);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "laplace");
    return finish(L, md_filter_combined(v, (const MdKernel1(*)[3])sets, f.naxes, MD_COMBINE_SUM, 1, f.mode, f.cval, out, &ctx), &err);
}

/* Sobel-like edges: smooth = the smoothing stencil (unnormalised); norm = its sum. */
static int edge_filter(lua_State *L, const double smooth[3], double norm, const char *name)
{
    static const char *const keys[] = {"axis", "volume", "mode", "cval", "dtype", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    FOpts f = read_fopts(L, 2, v);
    double axis = md_lua_optnumfield(L, 2, "axis", 0);
    int whole = md_lua_optboolfield(L, 2, "volume", 0);
    MdKernel1 sets[3][3];
    memset(sets, 0, sizeof sets);
    double *sm = lua_newuserdatauv(L, 3 * sizeof *sm, 0);
    MdVolume *out = new_float_out(L, v, 2);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, name);
    if (axis != 0) { /* scipy.ndimage.sobel/prewitt: one derivative, unnormalised smoothing */
        if (axis != floor(axis) || axis < 1 || axis > v->ndim)
            luaL_argerror(L, 2, lua_pushfstring(L, "option 'axis' must be 1 to %d", v->ndim));
        int a = (int)axis - 1;
        for (int b = 0; b < v->ndim; b++) sets[0][b] = (MdKernel1){b == a ? DIFF : smooth, 3, 1};
        return finish(L, md_filter_combined(v, (const MdKernel1(*)[3])sets, 1, MD_COMBINE_SUM, 1, f.mode, f.cval, out, &ctx), &err);
    }
    /* skimage: per axis, the derivative along it and normalised smoothing
     * along the others; magnitude sqrt(sum of squares / ndim) */
    int nd = whole ? v->ndim : 2;
    for (int i = 0; i < 3; i++) sm[i] = smooth[i] / norm;
    for (int a = 0; a < nd; a++)
        for (int b = 0; b < nd; b++) sets[a][b] = (MdKernel1){b == a ? DIFF : sm, 3, 1};
    return finish(L, md_filter_combined(v, (const MdKernel1(*)[3])sets, nd, MD_COMBINE_HYPOT, 1 / sqrt((double)nd),
                                        f.mode, f.cval, out, &ctx), &err);
}

static int l_sobel(lua_State *L) { return edge_filter(L, (const double[3]){1, 2, 1}, 4, "sobel"); }
static int l_prewitt(lua_State *L) { return edge_filter(L, (const double[3]){1, 1, 1}, 3, "prewitt"); }
static int l_scharr(lua_State *L) { return edge_filter(L, (const double[3]){3, 10, 3}, 16, "scharr"); }

static int l_roberts(lua_State *L)
{
    static const char *const keys[] = {"dtype", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    check_dims(L, v);
    MdVolume *out = new_float_out(L, v, 2);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "roberts");
    return finish(L, md_filter_roberts(v, out, &ctx), &err);
}

/* ---- box filters ------------------------------------------------------------------ */

static int l_uniform(lua_State *L)
{
    static const char *const keys[] = {"radius_vox", "radius_mm", "size", "mode", "cval", "per_slice", "dtype", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    md_lua_checkopts(L, 2, keys);
    FOpts f = read_fopts(L, 2, v);
    double size[3];
    if (!per_axis(L, 2, "size", v, size)) {
        int r[3];
        read_radius(L, 2, v, &f, r);
        for (int a = 0; a < 3; a++) size[a] = 2 * r[a] + 1;
    } else {
        for (int a = 0; a < 3; a++)
            if (size[a] != floor(size[a]) || size[a] > 2001 || (size[a] < 1 && a < v->ndim))
                luaL_argerror(L, 2, "option 'size' must hold integers 1 to 2001");
    }
    if (f.naxes == 2) size[2] = 1;
    double *w = lua_newuserdatauv(L, 3 * 2001 * sizeof *w, 0);
    MdKernel1 k[3];
    for (int a = 0; a < 3; a++) {
        int n = (int)size[a];
        k[a] = (MdKernel1){NULL, 0, 0};
        if (n <= 1) continue;
        for (int i = 0; i < n; i++) w[a * 2001 + i] = 1.0 / n;
        k[a] = (MdKernel1){w + a * 2001, n, n / 2}; /* scipy's centre for even sizes */
    }
    MdVolume *out = new_float_out(L, v, 2);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "uniform");
    return finish(L, md_filter_separable(v, k, f.mode, f.cval, out, &ctx), &err);
}

static int minmax(lua_State *L, int is_max)
{
    static const char *const keys[] = {"radius_vox", "radius_mm", "mode", "cval", "per_slice", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    md_lua_checkopts(L, 2, keys);
    FOpts f = read_fopts(L, 2, v);
    int r[3];
    read_radius(L, 2, v, &f, r);
    MdVolume *out = md_lua_newlike(L, v, -1, 0);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, is_max ? "maximum_filter" : "minimum_filter");
    return finish(L, md_filter_minmax(v, r, is_max, f.mode, f.cval, out, &ctx), &err);
}

static int l_minimum_filter(lua_State *L) { return minmax(L, 0); }
static int l_maximum_filter(lua_State *L) { return minmax(L, 1); }

static int l_median(lua_State *L)
{
    static const char *const keys[] = {"radius_vox", "radius_mm", "mode", "cval", "per_slice", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    if (lua_type(L, 2) == LUA_TNUMBER) { /* v:median(r) */
        lua_newtable(L);
        lua_pushvalue(L, 2);
        lua_setfield(L, -2, "radius_vox");
        lua_replace(L, 2);
    }
    int filter = lua_type(L, 2) == LUA_TTABLE && (lua_getfield(L, 2, "radius_vox") != LUA_TNIL ||
                                                  lua_getfield(L, 2, "radius_mm") != LUA_TNIL);
    lua_settop(L, lua_type(L, 2) == LUA_TNONE ? 1 : 2);
    if (!filter) return md_lua_median_value(L);
    md_lua_checkopts(L, 2, keys);
    FOpts f = read_fopts(L, 2, v);
    int r[3];
    read_radius(L, 2, v, &f, r);
    luaL_argcheck(L, r[0] <= 50 && r[1] <= 50 && r[2] <= 50, 2, "median radius must be at most 50 voxels");
    MdVolume *out = md_lua_newlike(L, v, -1, 0);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "median");
    return finish(L, md_filter_median(v, r, f.mode, f.cval, out, &ctx), &err);
}

/* ---- correlate / convolve ------------------------------------------------------------ */

static int correlate(lua_State *L, int flip)
{
    static const char *const keys[] = {"mode", "cval", "dtype", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    MdVolume *kv = md_lua_checkvolume(L, 2);
    md_lua_checkopts(L, 3, keys);
    FOpts f = read_fopts(L, 3, v);
    if (kv->ndim < 2 || kv->ndim > 3 || (kv->ndim == 3 && v->ndim == 2))
        luaL_argerror(L, 2, "kernel must be 2-D (applied in each slice of a 3-D volume) or 3-D");
    int kd[3] = {(int)kv->dim[0], (int)kv->dim[1], kv->ndim == 3 ? (int)kv->dim[2] : 1};
    size_t nk = md_volume_count(kv);
    luaL_argcheck(L, nk <= 1000000, 2, "kernel has more than 1000000 entries");
    double *w = lua_newuserdatauv(L, nk * sizeof *w, 0);
    for (size_t i = 0; i < nk; i++) w[i] = md_load(md_volume_data(kv), kv->dtype, flip ? nk - 1 - i : i);
    int ctr[3];
    for (int a = 0; a < 3; a++) {
        ctr[a] = kd[a] / 2;
        /* scipy's convolve flips the kernel and, for an even side, moves its centre down one */
        if (flip && kd[a] % 2 == 0) ctr[a] -= 1;
    }
    MdVolume *out = new_float_out(L, v, 3);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, flip ? "convolve" : "correlate");
    return finish(L, md_filter_correlate(v, w, kd, ctr, f.mode, f.cval, out, &ctx), &err);
}

static int l_correlate(lua_State *L) { return correlate(L, 0); }
static int l_convolve(lua_State *L) { return correlate(L, 1); }

static int l_clahe(lua_State *L)
{
    static const char *const keys[] = {"kernel_size", "clip_limit", "nbins", "per_slice", "dtype", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    check_dims(L, v);
    MdClaheOpts o = {{0, 0, 0}, 0.01, 256, 0};
    o.per_slice = v->ndim == 3 && md_lua_optboolfield(L, 2, "per_slice", 0);
    double k[3];
    if (per_axis(L, 2, "kernel_size", v, k))
        for (int a = 0; a < 3; a++) {
            if (k[a] != floor(k[a]) || k[a] > 100000 || (k[a] < 1 && a < (o.per_slice ? 2 : v->ndim)))
                luaL_argerror(L, 2, "option 'kernel_size' must hold integers >= 1");
            o.kernel[a] = (int)k[a];
        }
    o.clip_limit = md_lua_optnumfield(L, 2, "clip_limit", 0.01);
    luaL_argcheck(L, o.clip_limit >= 0 && o.clip_limit <= 1, 2, "option 'clip_limit' must be in [0, 1]");
    o.nbins = (int)md_lua_optintfield(L, 2, "nbins", 256, 1);
    luaL_argcheck(L, o.nbins <= 16384, 2, "option 'nbins' must be at most 16384");
    MdVolume *out = new_float_out(L, v, 2);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "clahe");
    return finish(L, md_clahe(v, &o, out, &ctx), &err);
}

static int l_adaptive_equalize(lua_State *L)
{
    static const char *const keys[] = {"alpha", "beta", "radius_vox", "radius_mm", "dtype", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    check_dims(L, v);
    double alpha = md_lua_optnumfield(L, 2, "alpha", 0.3), beta = md_lua_optnumfield(L, 2, "beta", 0.3);
    luaL_argcheck(L, alpha >= 0 && alpha <= 1 && beta >= 0 && beta <= 1, 2, "options 'alpha' and 'beta' must be in [0, 1]");
    int r[3] = {5, 5, v->ndim == 3 ? 5 : 0};
    double d[3];
    if (per_axis(L, 2, "radius_vox", v, d) || per_axis(L, 2, "radius_mm", v, d)) {
        FOpts f = {MD_BORDER_REFLECT, 0, v->ndim};
        read_radius(L, 2, v, &f, r);
    }
    MdVolume *out = md_lua_newlike(L, v, md_lua_optdtype(L, 2, v->dtype), 0);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "adaptive_equalize");
    return finish(L, md_ahe(v, r, alpha, beta, out, &ctx), &err);
}

static int l_laplacian_sharpen(lua_State *L)
{
    static const char *const keys[] = {"spacing", "dtype", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    check_dims(L, v);
    int use_sp = md_lua_optboolfield(L, 2, "spacing", 1);
    MdVolume *out = md_lua_newlike(L, v, md_lua_optdtype(L, 2, v->dtype), 0);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "laplacian_sharpen");
    return finish(L, md_laplacian_sharpen(v, use_sp, out, &ctx), &err);
}

#define MODE_OPT                                                                                   \
    "  mode   scipy's border: \"reflect\" (default), \"constant\" (with cval, default 0),\n"      \
    "         \"nearest\", \"mirror\", \"wrap\" (and the grid- names)\n"
#define SLICE_OPT "  per_slice  filter each z slice of a 3-D volume on its own (no z kernel)\n"
#define DTYPE_OPT "  dtype  float32 (default) or float64\n"
#define SIGMA_OPT                                                                                  \
    "  sigma_mm | sigma_vox  standard deviation in mm (divided by the spacing) or voxels:\n"      \
    "         a number or one per axis (x first); 0 leaves an axis alone\n"                        \
    "  truncate  kernel radius in sigmas (default 4, as scipy)\n"
#define RADIUS_OPT                                                                                 \
    "  radius_vox | radius_mm  box half-width in voxels, or in mm (floor(mm / spacing)):\n"      \
    "         a number or one per axis; the box is 2r+1 voxels wide\n"

static const MdLuaReg methods[] = {
    {"gaussian", l_gaussian,
     "v:gaussian{sigma_mm= | sigma_vox= [, ...]} -> Volume\n"
     "Gaussian smoothing, separable, equal to scipy.ndimage.gaussian_filter (same kernel,\n"
     "truncation and borders). Any dtype in; float32 out unless dtype=\"float64\".\n" SIGMA_OPT MODE_OPT
     SLICE_OPT DTYPE_OPT
     "  method  \"exact\" (default, scipy's kernel) or \"recursive\": ITK's recursive Gaussian\n"
     "          (SmoothingRecursiveGaussianImageFilter), whose cost does not grow with sigma;\n"
     "          its border continues the edge value, and axes need 4 voxels or more\n"
     "Errors: negative or all-zero sigma, both or neither of sigma_mm and sigma_vox.\n"
     "  local s = ct:gaussian{sigma_mm=2}"},
    {"gaussian_laplace", l_gaussian_laplace,
     "v:gaussian_laplace{sigma_mm= | sigma_vox= [, ...]} -> Volume\n"
     "Laplacian of Gaussian: scipy.ndimage.gaussian_laplace (sum over the axes of the\n"
     "second Gaussian derivative along each). Options as v:gaussian.\n"
     "  local log = ct:gaussian_laplace{sigma_vox=2}"},
    {"gradient_magnitude", l_gradient_magnitude,
     "v:gradient_magnitude([opts]) -> Volume\n"
     "sqrt of the sum of squared central differences (f(x+1) - f(x-1)) / (2 spacing),\n"
     "as ITK's GradientMagnitudeImageFilter; border \"nearest\" (ITK's zero flux) unless\n"
     "mode is given. With sigma_mm/sigma_vox: scipy.ndimage.gaussian_gradient_magnitude\n"
     "(divided by the spacing when spacing=true).\n"
     "  spacing  divide by the voxel spacing (default true)\n" SIGMA_OPT MODE_OPT SLICE_OPT DTYPE_OPT
     "  local g = ct:gradient_magnitude()"},
    {"laplace", l_laplace,
     "v:laplace([opts]) -> Volume\n"
     "scipy.ndimage.laplace: the sum over the axes of the [1, -2, 1] stencil (voxel units).\n" MODE_OPT
     SLICE_OPT DTYPE_OPT
     "  local l = v:laplace{mode=\"nearest\"}"},
    {"sobel", l_sobel,
     "v:sobel([opts]) -> Volume\n"
     "Sobel edge magnitude as skimage.filters.sobel on each z slice (2-D volumes: the\n"
     "image): sqrt((Gx^2 + Gy^2) / 2) with [1, 2, 1] / 4 smoothing. Integer volumes are\n"
     "not rescaled (skimage divides them by the dtype's maximum first).\n"
     "  axis=1|2|3  scipy.ndimage.sobel along that axis instead ([-1, 0, 1] there,\n"
     "              [1, 2, 1] along every other axis, in 3-D)\n"
     "  volume=true skimage's magnitude over all three axes of a 3-D volume\n" MODE_OPT DTYPE_OPT
     "  local e = slice:sobel()"},
    {"prewitt", l_prewitt,
     "v:prewitt([opts]) -> Volume\n"
     "Prewitt edge magnitude (skimage.filters.prewitt per slice; [1, 1, 1] / 3 smoothing);\n"
     "axis=k: scipy.ndimage.prewitt along that axis. Options as v:sobel.\n"
     "  local e = v:prewitt{axis=3}"},
    {"scharr", l_scharr,
     "v:scharr([opts]) -> Volume\n"
     "Scharr edge magnitude (skimage.filters.scharr per slice; [3, 10, 3] / 16 smoothing);\n"
     "axis=k: the derivative along k with unnormalised [3, 10, 3] smoothing elsewhere.\n"
     "Options as v:sobel.\n"
     "  local e = v:scharr()"},
    {"roberts", l_roberts,
     "v:roberts([opts]) -> Volume\n"
     "Roberts cross edge magnitude, skimage.filters.roberts on each z slice:\n"
     "sqrt((d1^2 + d2^2) / 2) of the two diagonal differences (reflect border).\n" DTYPE_OPT
     "  local edges = lung_slice:roberts()"},
    {"uniform", l_uniform,
     "v:uniform{radius_vox= | radius_mm= | size= [, ...]} -> Volume\n"
     "Box mean, scipy.ndimage.uniform_filter (size= as scipy's, even sizes allowed).\n" RADIUS_OPT
     MODE_OPT SLICE_OPT DTYPE_OPT
     "  local m = v:uniform{radius_vox=2}"},
    {"minimum_filter", l_minimum_filter,
     "v:minimum_filter{radius_vox= | radius_mm= [, ...]} -> Volume\n"
     "Box minimum (grey erosion), scipy.ndimage.minimum_filter with size 2r+1; same dtype.\n" RADIUS_OPT
     MODE_OPT SLICE_OPT
     "  local e = ct:minimum_filter{radius_vox=1}"},
    {"maximum_filter", l_maximum_filter,
     "v:maximum_filter{radius_vox= | radius_mm= [, ...]} -> Volume\n"
     "Box maximum (grey dilation), scipy.ndimage.maximum_filter with size 2r+1; same dtype.\n" RADIUS_OPT
     MODE_OPT SLICE_OPT
     "  local d = ct:maximum_filter{radius_mm=2}"},
    {"median", l_median,
     "v:median([opts]) -> number | Volume\n"
     "Without a radius: numpy.median of the voxel values (NaN left out; opts.mask selects).\n"
     "With radius_vox / radius_mm (or a number r): the box median filter,\n"
     "scipy.ndimage.median_filter with size 2r+1; same dtype as v.\n" RADIUS_OPT MODE_OPT SLICE_OPT
     "  local m = ct:median()                    -- a number\n"
     "  local d = ct:median{radius_vox=1}        -- 3x3x3 median filter"},
    {"correlate", l_correlate,
     "v:correlate(kernel [, opts]) -> Volume\n"
     "scipy.ndimage.correlate with a kernel Volume (x first; centre at index\n"
     "floor(side/2)+1). A 2-D kernel on a 3-D volume acts in each z slice. Sums in double.\n"
     MODE_OPT DTYPE_OPT
     "  local k = vol.new{shape={3, 3}, fill=1 / 9}\n"
     "  local m = v:correlate(k)"},
    {"convolve", l_convolve,
     "v:convolve(kernel [, opts]) -> Volume\n"
     "scipy.ndimage.convolve: correlation with the kernel reversed on every axis (an even\n"
     "side's centre moves down one, as scipy's). Options as v:correlate.\n"
     "  local e = v:convolve(k)"},
    {"clahe", l_clahe,
     "v:clahe([opts]) -> Volume\n"
     "Contrast-limited adaptive histogram equalisation, skimage.exposure.equalize_adapthist:\n"
     "values scaled to 14 bits, clipped histograms per tile, maps blended between tile\n"
     "centres, result rescaled to [0, 1]. 3-D volumes are equalised in 3-D unless per_slice.\n"
     "  kernel_size  tile side in voxels, a number or one per axis (default: each side / 8)\n"
     "  clip_limit   fraction of a tile a bin may hold, in [0, 1] (default 0.01; 0: no limit)\n"
     "  nbins        grey bins (default 256)\n"
     "  per_slice    equalise each z slice as a 2-D image (skimage on each slice)\n" DTYPE_OPT
     "Float volumes are expected in [0, 1] as skimage requires; others are scaled from\n"
     "their min and max.\n"
     "  local eq = ct:clahe{clip_limit=0.02, per_slice=true}"},
    {"adaptive_equalize", l_adaptive_equalize,
     "v:adaptive_equalize([opts]) -> Volume\n"
     "SimpleITK's AdaptiveHistogramEqualization (ITK's power-law adaptive equalisation,\n"
     "not CLAHE): each voxel is mapped through the cumulative function of its box\n"
     "neighbourhood; alpha 0 is classical equalisation, 1 an unsharp mask; beta 0\n"
     "unsharp, 1 the original. Same dtype as v (integers truncate, as ITK's cast).\n"
     "  alpha, beta  in [0, 1] (default 0.3, 0.3, as ITK)\n"
     "  radius_vox | radius_mm  box half-width (default 5 voxels, as ITK)\n"
     "  dtype        output dtype\n"
     "Cost grows with the box: (2r+1)^3 powers per voxel.\n"
     "  local a = ct:adaptive_equalize{alpha=0.9, beta=0.9, radius_vox=3}"},
    {"laplacian_sharpen", l_laplacian_sharpen,
     "v:laplacian_sharpen([opts]) -> Volume\n"
     "ITK's LaplacianSharpeningImageFilter: the Laplacian (weights 1/spacing^2, zero-flux\n"
     "border) rescaled to the input's range and subtracted, the mean kept, clamped to the\n"
     "input's range. Same dtype as v (integers truncate, as ITK's cast).\n"
     "  spacing  use the voxel spacing (default true; false: unit weights. ITK 5.2 ignores\n"
     "           its own UseImageSpacing flag and always uses the spacing)\n"
     "  dtype    output dtype\n"
     "  local s = mri:laplacian_sharpen()"},
    {NULL, NULL, NULL}};

void md_open_filter(lua_State *L, int module)
{
    md_push_methods(L, module);
    md_lua_register(L, methods);
    lua_pop(L, 1);
}
