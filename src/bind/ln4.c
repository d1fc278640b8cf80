/* Binding of N4 bias-field correction (kernels/n4): v:n4{...}. Reads the
 * options, converts the mask and weight to the types the kernel takes,
 * allocates both outputs, prints the verbose summary after the kernel. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../kernels/arith.h"
#include "../kernels/n4.h"
#include "lmorph.h"
#include "lvolume.h"

void md_open_n4(lua_State *L, int module);

/* An integer option given as a number (all axes) or a list of 3. */
static void opt_ints3(lua_State *L, int arg, const char *key, int *out, int lo, int hi)
{
    int t = lua_getfield(L, arg, key);
    double d[3];
    if (t == LUA_TNUMBER) {
        d[0] = d[1] = d[2] = lua_tonumber(L, -1);
    } else if (t == LUA_TTABLE && lua_rawlen(L, -1) == 3) {
        md_lua_argnumbers(L, arg, -1, d, 3, key);
    } else {
        luaL_argerror(L, arg, lua_pushfstring(L, "option '%s' must be a number or a list of 3 numbers", key));
        return;
    }
    for (int a = 0; a < 3; a++) {
        if (d[a] != floor(d[a]) || d[a] < lo || d[a] > hi)
            luaL_argerror(L, arg, lua_pushfstring(L, "option '%s' must hold integers %d to %d (got %f)", key, lo, hi,
                                                  d[a]));
        out[a] = (int)d[a];
    }
    lua_pop(L, 1);
}

static void opt_iterations(lua_State *L, int arg, MdN4Opts *o)
{
    if (lua_getfield(L, arg, "iterations") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    int n = lua_type(L, -1) == LUA_TTABLE ? (int)lua_rawlen(L, -1) : 0;
    if (n < 1 || n > MD_N4_MAX_LEVELS)
        luaL_argerror(L, arg, lua_pushfstring(L, "option 'iterations' must list 1 to %d iteration counts, one per "
                                                 "level (got %s)", MD_N4_MAX_LEVELS,
                                              lua_type(L, -1) == LUA_TTABLE ? lua_pushfstring(L, "%d entries", n)
                                                                            : luaL_typename(L, -1)));
    double d[MD_N4_MAX_LEVELS];
    md_lua_argnumbers(L, arg, -1, d, n, "iterations");
    for (int l = 0; l < n; l++) {
        if (d[l] != floor(d[l]) || d[l] < 1 || d[l] > 10000)
            luaL_argerror(L, arg, lua_pushfstring(L, "iterations must be integers 1 to 10000 (got %f)", d[l]));
        o->iterations[l] = (int)d[l];
    }
    o->levels = n;
    lua_pop(L, 1);
}

static double opt_positive(lua_State *L, int arg, const char *key, double def)
{
    double x = md_lua_optnumfield(L, arg, key, def);
    if (!(x > 0) || !isfinite(x))
        luaL_argerror(L, arg, lua_pushfstring(L, "option '%s' must be a number > 0 (got %f)", key, x));
    return x;
}

/* True when a and b share a grid (spacing, origin, direction within 1e-4). */
static int same_grid(const MdVolume *a, const MdVolume *b)
{
    for (int i = 0; i < 3; i++)
        if (fabs(a->spacing[i] - b->spacing[i]) > 1e-4 * fabs(a->spacing[i]) ||
            fabs(a->origin[i] - b->origin[i]) > 1e-4 * (1 + fabs(a->origin[i])))
            return 0;
    for (int i = 0; i < 9; i++)
        if (fabs(a->direction[i] - b->direction[i]) > 1e-4) return 0;
    return 1;
}

/* The volume option key as a Volume on v's grid, replaced at the top of the
 * stack by its conversion to dtype. Stack: +1 (nil when absent). */
static MdVolume *opt_grid_volume(lua_State *L, int arg, const char *key, const MdVolume *v, MdDtype dtype)
{
    lua_getfield(L, arg, key);
    if (lua_isnil(L, -1)) return NULL;
    MdVolume *m = md_lua_tovolume(L, -1);
    if (!m) luaL_argerror(L, arg, lua_pushfstring(L, "option '%s' must be a Volume%s (got %s)", key,
                                                  strcmp(key, "mask") == 0 ? " or \"otsu\"" : "",
                                                  luaL_typename(L, -1)));
    m = md_lua_checkvolume(L, -1);
    int shape = m->ndim == 3;
    for (int a = 0; a < 3; a++) shape = shape && m->dim[a] == v->dim[a];
    if (!shape)
        luaL_argerror(L, arg, lua_pushfstring(L, "%s must have the image's shape %dx%dx%d", key, (int)v->dim[0],
                                              (int)v->dim[1], (int)v->dim[2]));
    if (!same_grid(m, v))
        luaL_argerror(L, arg, lua_pushfstring(L, "%s is on another grid than the image (spacing, origin or "
                                                 "direction differ)", key));
    if (m->dtype == dtype) return m;
    MdVolume *c = md_lua_newlike(L, m, dtype, 0);
    MdOperand a = {m, 0}, zero = {NULL, 0};
    MdError err;
    MdStatus st = dtype == MD_UINT8 ? md_arith_binary(a, zero, MD_OP_NE, c, &err)
                                    : md_arith_unary(m, MD_UN_COPY, MD_ROUND_NEAREST, 0, c, &err);
    if (st != MD_OK) md_lua_raise(L, &err);
    lua_replace(L, -2);
    return c;
}

static void read_opts(lua_State *L, int arg, const MdVolume *v, MdN4Opts *o, int *verbose)
{
    static const char *const keys[] = {"mask", "shrink", "shrink_mm", "shrink_mode", "iterations", "convergence",
                                       "spline_distance_mm", "control_points", "spline_order", "bins", "fwhm",
                                       "wiener_noise", "weight", "verbose", NULL};
    static const char *const modes[] = {"sample", "average", NULL};
    md_n4_defaults(o);
    o->levels = 4;
    static const int its[4] = {50, 50, 50, 50};
    memcpy(o->iterations, its, sizeof its);
    md_lua_checkopts(L, arg, keys);
    lua_getfield(L, arg, "shrink_mm");
    int has_mm = !lua_isnil(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, arg, "shrink");
    int has_shrink = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (has_mm && has_shrink) luaL_argerror(L, arg, "give shrink or shrink_mm, not both");
    if (has_shrink) opt_ints3(L, arg, "shrink", o->shrink, 1, 64);
    if (has_mm) {
        double mm = opt_positive(L, arg, "shrink_mm", 1);
        for (int a = 0; a < 3; a++) {
            double f = floor(mm / v->spacing[a] + 0.5);
            o->shrink[a] = f < 1 ? 1 : f > 64 ? 64 : (int)f;
        }
    }
    o->average = md_lua_optchoice(L, arg, "shrink_mode", 0, modes);
    opt_iterations(L, arg, o);
    o->convergence = md_lua_optnumfield(L, arg, "convergence", 0.001);
    if (!(o->convergence >= 0)) luaL_argerror(L, arg, "option 'convergence' must be >= 0");
    o->order = (int)md_lua_optintfield(L, arg, "spline_order", 3, 0);
    luaL_argcheck(L, o->order <= 3, arg, "option 'spline_order' must be 0 to 3");
    lua_getfield(L, arg, "spline_distance_mm");
    int has_dist = !lua_isnil(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, arg, "control_points");
    int has_cp = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (has_dist && has_cp) luaL_argerror(L, arg, "give control_points or spline_distance_mm, not both");
    if (has_cp) opt_ints3(L, arg, "control_points", o->control_points, o->order + 1, 1000);
    if (has_dist) {
        double d = opt_positive(L, arg, "spline_distance_mm", 1);
        for (int a = 0; a < 3; a++) {
            double spans = ceil((double)(v->dim[a] - 1) * v->spacing[a] / d);
            o->control_points[a] = (int)(spans < 1 ? 1 : spans > 1000 ? 1000 : spans) + o->order;
        }
    }
    o->bins = (int)md_lua_optintfield(L, arg, "bins", 200, 2);
    luaL_argcheck(L, o->bins <= 100000, arg, "option 'bins' must be at most 100000");
    o->fwhm = opt_positive(L, arg, "fwhm", 0.15);
    o->noise = opt_positive(L, arg, "wiener_noise", 0.01);
    *verbose = md_lua_optboolfield(L, arg, "verbose", 0);
}

static int l_n4(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    if (v->ndim != 3) luaL_argerror(L, 1, lua_pushfstring(L, "expected a 3-D volume (got %d-D)", v->ndim));
    if (lua_isnoneornil(L, 2)) {
        lua_settop(L, 1);
        lua_newtable(L);
    }
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    MdN4Opts o;
    int verbose;
    read_opts(L, 2, v, &o, &verbose);
    MdVolume *mask = NULL;
    lua_getfield(L, 2, "mask");
    if (lua_type(L, -1) == LUA_TSTRING) {
        if (strcmp(lua_tostring(L, -1), "otsu") != 0)
            luaL_argerror(L, 2, lua_pushfstring(L, "option 'mask' must be a Volume or \"otsu\" (got '%s')",
                                                lua_tostring(L, -1)));
        o.otsu = 1;
        lua_pop(L, 1);
        lua_pushnil(L);
    } else {
        lua_pop(L, 1);
        mask = opt_grid_volume(L, 2, "mask", v, MD_UINT8); /* slot 3 */
    }
    MdVolume *weight = opt_grid_volume(L, 2, "weight", v, MD_FLOAT32); /* slot 4 */
    size_t total = 0;
    for (int l = 0; l < o.levels; l++) total += (size_t)o.iterations[l];
    double *trace = lua_newuserdatauv(L, total * sizeof *trace, 0); /* slot 5 */
    MdVolume *corrected = md_lua_newlike(L, v, MD_FLOAT32, 0);
    MdVolume *field = md_lua_newlike(L, v, MD_FLOAT32, 0);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "n4");
    MdN4Report rep;
    memset(&rep, 0, sizeof rep);
    rep.trace = trace;
    if (md_n4(v, mask, weight, &o, corrected, field, &rep, &ctx) != MD_OK) return md_lua_raise(L, &err);
    if (verbose) {
        fprintf(stderr, "n4: shrunk grid %dx%dx%d, %zu voxels used", rep.shrunk[0], rep.shrunk[1], rep.shrunk[2],
                rep.voxels);
        if (o.otsu) fprintf(stderr, ", Otsu threshold %g", rep.threshold);
        fprintf(stderr, "\n");
        size_t at = 0;
        for (int l = 0; l < o.levels; l++) {
            fprintf(stderr, "n4: level %d, lattice %dx%dx%d: %d of %d iterations, convergence", l + 1,
                    rep.lattice[l][0], rep.lattice[l][1], rep.lattice[l][2], rep.done[l], o.iterations[l]);
            for (int i = 0; i < rep.done[l]; i++) fprintf(stderr, " %.6f", trace[at + (size_t)i]);
            fprintf(stderr, "\n");
            at += (size_t)o.iterations[l];
        }
    }
    return 2;
}

static const MdLuaReg methods[] = {
    {"n4", l_n4,
     "v:n4([opts]) -> corrected float32 Volume, bias field float32 Volume\n"
     "N4 bias-field correction (Tustison et al. 2010) as ITK's N4BiasFieldCorrectionImageFilter\n"
     "computes it: on a shrunk copy, log intensities are sharpened (histogram deconvolved by a\n"
     "Gaussian with a Wiener filter) and the residual is fitted by a B-spline whose control\n"
     "lattice doubles at each level; the field is then evaluated at full resolution.\n"
     "Returns corrected = v / field and the multiplicative field, both on v's grid. Same\n"
     "result on any thread count. v: 3-D, any dtype.\n"
     "opts:\n"
     "  mask=Volume|\"otsu\"   voxels to use (non-zero; same grid as v), or those above Otsu's\n"
     "                       threshold (200 bins); default: every voxel, as ITK\n"
     "  weight=Volume         confidence per voxel (> 0 used; the fit's point weight)\n"
     "  shrink=1              voxel factor (or {fx, fy, fz}); shrink_mm= a size in mm instead\n"
     "  shrink_mode=\"sample\"  keep every n-th voxel as ITK, or \"average\" blocks\n"
     "  iterations={50,50,50,50}  per level; the number of entries is the number of levels\n"
     "  convergence=0.001     a level stops when the CV of the field update falls to this\n"
     "  control_points=4      initial lattice per axis (or {cx, cy, cz}), > spline_order;\n"
     "                        spline_distance_mm= the knot spacing in mm instead\n"
     "  spline_order=3, bins=200, fwhm=0.15, wiener_noise=0.01\n"
     "  verbose=false         print each level's lattice, iterations and convergence\n"
     "Errors: an empty mask, a mask on another grid, shrink < 1, no iterations, bad values.\n"
     "  local t1c, bias = t1:n4{mask=\"otsu\", shrink=3, iterations={20, 10, 10, 5}}"},
    {NULL, NULL, NULL}};

void md_open_n4(lua_State *L, int module)
{
    md_push_methods(L, module);
    md_lua_register(L, methods);
    lua_pop(L, 1);
}
