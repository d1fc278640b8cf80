/* Binding of resampling (kernels/resample): v:resample onto a spacing, a
 * shape, another volume's grid or an affine; v:zoom as scipy.ndimage.zoom;
 * v:transform about a centre. Reads options and picks the grid helper; the
 * grids and the interpolation live in the kernels. */
#include <math.h>
#include <string.h>

#include "../core/geom.h"
#include "../kernels/resample.h"
#include "lresample.h"
#include "lvolume.h"

static MdBoundary check_mode(lua_State *L, int arg, const char *def)
{
    const char *s = md_lua_optstrfield(L, arg, "mode", def);
    int m = md_boundary_from_name(s);
    if (m < 0)
        luaL_argerror(L, arg, lua_pushfstring(L, "mode must be constant, grid-constant, nearest, "
                                                 "mirror, reflect, grid-mirror, grid-wrap or wrap "
                                                 "(got '%s')", s));
    return (MdBoundary)m;
}

/* interpolation name -> order (label: -1). */
static int check_interp(lua_State *L, int arg, const char *def)
{
    static const char *const names[] = {"nearest", "linear", "cubic", "label", NULL};
    static const int orders[] = {0, 1, 3, -1};
    const char *s = md_lua_optstrfield(L, arg, "interpolation", def);
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0) return orders[i];
    return luaL_argerror(L, arg, lua_pushfstring(L, "interpolation must be nearest, linear, cubic or "
                                                    "label (got '%s')", s));
}

/* Options shared by resample and transform: interpolation, mode, fill. */
static void common_opts(lua_State *L, int arg, const char *mode_def, MdResampleOpts *o)
{
    memset(o, 0, sizeof *o);
    int order = check_interp(L, arg, "linear");
    o->vote = order < 0;
    for (int a = 0; a < 3; a++) o->order[a] = order < 0 ? 1 : order;
    o->mode = check_mode(L, arg, mode_def);
    o->fill = md_lua_optnumfield(L, arg, "fill", 0);
}

/* Allocates the output described by h and resamples into it. Stack: +1. */
static int run(lua_State *L, const MdVolume *v, const MdVolume *h, const MdIndexMap *map,
               const MdResampleOpts *o)
{
    MdVolume *out = md_lua_newheader(L, h, 1);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "resample");
    if (md_resample(v, map, o, out, &ctx) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

/* The target header for {affine=A, shape=...}. */
static void affine_target(lua_State *L, const MdVolume *v, MdVolume *h)
{
    double A[16];
    int64_t shape[3] = {1, 1, 1};
    int ns = md_lua_spatial(v);
    lua_getfield(L, 2, "affine");
    md_lua_argrows(L, 2, -1, A, 4, 4, "affine");
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "shape") == LUA_TNIL) luaL_argerror(L, 2, "affine needs shape too");
    md_lua_argintegers(L, 2, -1, shape, ns, "shape");
    lua_pop(L, 1);
    if (md_lua_optboolfield(L, 2, "ras", 0))
        for (int c = 0; c < 4; c++) A[c] = -A[c], A[4 + c] = -A[4 + c];
    int64_t dim[4] = {shape[0], shape[1], shape[2], v->dim[3]};
    for (int a = 0; a < ns; a++)
        if (shape[a] < 1) luaL_argerror(L, 2, lua_pushfstring(L, "shape[%d] must be >= 1", a + 1));
    md_volume_init(h, v->dtype, v->ndim, dim);
    MdError err;
    if (md_geom_from_affine(h, A, &err) != MD_OK) md_lua_raise(L, &err);
}

/* The target header for {reference=other}: its grid, v's dtype and frames. */
static void reference_target(lua_State *L, const MdVolume *v, MdVolume *h)
{
    lua_getfield(L, 2, "reference");
    MdVolume *r = md_lua_tovolume(L, -1);
    if (!r)
        luaL_argerror(L, 2, lua_pushfstring(L, "reference must be a Volume (got %s)", luaL_typename(L, -1)));
    if (!r->buf) luaL_argerror(L, 2, "reference is a released volume");
    if (md_lua_spatial(r) != md_lua_spatial(v))
        luaL_argerror(L, 2, lua_pushfstring(L, "reference is %dD but the volume is %dD", md_lua_spatial(r),
                                            md_lua_spatial(v)));
    int64_t dim[4] = {r->dim[0], r->dim[1], r->dim[2], v->dim[3]};
    md_volume_init(h, v->dtype, v->ndim, dim);
    md_volume_copy_geometry(h, r);
    h->tstep = v->tstep;
    lua_pop(L, 1);
}

/* separate_z (default on for spacing grids): the thick axis (nnU-Net's
 * rule) interpolates with order_z. */
static void anisotropic(lua_State *L, const MdVolume *v, const MdVolume *h, int def, MdResampleOpts *o)
{
    int on = md_lua_optboolfield(L, 2, "separate_z", def);
    double thr = md_lua_optnumfield(L, 2, "anisotropy_threshold", 3);
    double oz = md_lua_optnumfield(L, 2, "order_z", 0);
    /* a ratio of spacings: below 1 it would mean the same as 1 */
    if (!(thr >= 1) || !isfinite(thr))
        luaL_argerror(L, 2, lua_pushfstring(L, "anisotropy_threshold must be a finite number >= 1 "
                                               "(got %f)", thr));
    if (oz != 0 && oz != 1) luaL_argerror(L, 2, "order_z must be 0 or 1");
    if (!on) return;
    int axis = md_resample_thick_axis(v->spacing, h->spacing, thr);
    if (axis >= 0) o->order[axis] = (int)oz;
}

static int present(lua_State *L, const char *key)
{
    int t = lua_getfield(L, 2, key);
    lua_pop(L, 1);
    return t != LUA_TNIL;
}

static int l_resample(lua_State *L)
{
    static const char *const keys[] = {"spacing", "shape", "reference", "affine", "ras",
                                       "interpolation", "mode", "fill", "antialias", "align",
                                       "separate_z", "anisotropy_threshold", "order_z", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    md_lua_checkopts(L, 2, keys);
    int sp = present(L, "spacing"), aff = present(L, "affine"), ref = present(L, "reference");
    int shp = present(L, "shape") && !aff;
    if (sp + shp + aff + ref != 1)
        luaL_argerror(L, 2, "give exactly one of spacing, shape, reference or affine (with shape)");
    int ns = md_lua_spatial(v);
    MdResampleOpts o;
    common_opts(L, 2, sp || shp ? "nearest" : "constant", &o);
    o.antialias = md_lua_optboolfield(L, 2, "antialias", 0);
    MdVolume h;
    MdIndexMap map;
    MdError err;
    MdStatus st = MD_OK;
    if (sp) {
        double s[3] = {1, 1, 1};
        const char *align = md_lua_optstrfield(L, 2, "align", "center");
        if (strcmp(align, "center") != 0 && strcmp(align, "origin") != 0)
            luaL_argerror(L, 2, lua_pushfstring(L, "align must be center or origin (got '%s')", align));
        lua_getfield(L, 2, "spacing");
        md_lua_argaxes(L, 2, -1, s, ns, "spacing"); /* one number for every axis, as v:zoom takes */
        lua_pop(L, 1);
        if (ns == 2) s[2] = v->spacing[2];
        st = md_resample_plan_spacing(v, s, strcmp(align, "origin") == 0, &h, &map, &err);
    } else if (shp) {
        int64_t shape[3] = {1, 1, 1};
        lua_getfield(L, 2, "shape");
        md_lua_argintegers(L, 2, -1, shape, ns, "shape");
        lua_pop(L, 1);
        st = md_resample_plan_shape(v, shape, &h, &map, &err);
    } else {
        if (aff) affine_target(L, v, &h);
        else reference_target(L, v, &h);
        st = md_resample_plan_grid(v, &h, &map, &err);
    }
    if (st != MD_OK) return md_lua_raise(L, &err);
    anisotropic(L, v, &h, sp, &o);
    return run(L, v, &h, &map, &o);
}

static int l_zoom(lua_State *L)
{
    static const char *const keys[] = {"order", "mode", "fill", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    int ns = md_lua_spatial(v);
    double f[3] = {1, 1, 1};
    md_lua_argaxes(L, 2, 2, f, ns, "zoom factors");
    md_lua_checkopts(L, 3, keys);
    MdResampleOpts o;
    memset(&o, 0, sizeof o);
    double order = md_lua_optnumfield(L, 3, "order", 3);
    if (order != 0 && order != 1 && order != 3)
        luaL_argerror(L, 3, lua_pushfstring(L, "order must be 0, 1 or 3 (got %f)", order));
    for (int a = 0; a < 3; a++) o.order[a] = (int)order;
    o.mode = check_mode(L, 3, "constant");
    o.fill = md_lua_optnumfield(L, 3, "fill", 0);
    MdVolume h;
    MdIndexMap map;
    MdError err;
    if (md_resample_plan_zoom(v, f, &h, &map, &err) != MD_OK) return md_lua_raise(L, &err);
    return run(L, v, &h, &map, &o);
}

/* Reads opts[key] (3 numbers; 2 for a 2-D volume, out[2] kept) into out when present. */
static void opt_vec3(lua_State *L, const char *key, double out[3], int ndim)
{
    if (lua_getfield(L, 2, key) != LUA_TNIL) md_lua_argspatial(L, 2, -1, out, ndim, key);
    lua_pop(L, 1);
}

static int l_transform(lua_State *L)
{
    static const char *const keys[] = {"matrix", "translation", "center", "space", "interpolation",
                                       "mode", "fill", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    md_lua_checkopts(L, 2, keys);
    double M[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, t[3] = {0, 0, 0}, c[3];
    if (lua_getfield(L, 2, "matrix") != LUA_TNIL) md_lua_argmatrix3(L, 2, -1, M, v->ndim, "matrix");
    lua_pop(L, 1);
    opt_vec3(L, "translation", t, v->ndim);
    const char *space = md_lua_optstrfield(L, 2, "space", "world");
    int index = strcmp(space, "index") == 0;
    if (!index && strcmp(space, "world") != 0)
        luaL_argerror(L, 2, lua_pushfstring(L, "space must be world or index (got '%s')", space));
    /* default centre: the middle of the grid */
    double mid[3];
    for (int a = 0; a < 3; a++) mid[a] = (double)(v->dim[a] - 1) / 2;
    if (index) {
        for (int a = 0; a < 3; a++) c[a] = mid[a] + 1;
        opt_vec3(L, "center", c, v->ndim);
        for (int a = 0; a < 3; a++) c[a] -= 1;
    } else {
        md_geom_index_to_world(v, mid, c);
        opt_vec3(L, "center", c, v->ndim);
    }
    MdResampleOpts o;
    common_opts(L, 2, "constant", &o);
    MdIndexMap map;
    MdError err;
    if (index) {
        /* c_in = M (o - c) + c + t, in 0-based indices */
        memset(&map, 0, sizeof map);
        memcpy(map.M, M, sizeof map.M);
        for (int r = 0; r < 3; r++)
            map.b[r] = t[r] + c[r] - (M[r * 3] * c[0] + M[r * 3 + 1] * c[1] + M[r * 3 + 2] * c[2]);
    } else if (md_resample_plan_transform(v, M, t, c, &map, &err) != MD_OK) {
        return md_lua_raise(L, &err);
    }
    MdVolume h = *v;
    h.buf = NULL;
    return run(L, v, &h, &map, &o);
}

static const MdLuaReg methods[] = {
    {"resample", l_resample,
     "v:resample{spacing={..} | shape={..} | reference=vol | affine=A, shape={..},\n"
     "           interpolation=\"linear\", mode=.., fill=0, antialias=false, ...} -> Volume\n"
     "Resamples onto a new grid; world positions stay put (the output's geometry\n"
     "says where each voxel is). Grids:\n"
     "  spacing={sx, sy, sz} mm ({sx, sy} in 2-D; one number for all axes):\n"
     "    shape round(n * s / s') (half to even), centred\n"
     "    on the input grid (align=\"origin\" keeps voxel 1 in place instead);\n"
     "  shape={nx, ny, nz}: the same extent, spacing s * n / n' (the mapping of\n"
     "    skimage.transform.resize);\n"
     "  reference=vol: vol's grid (dims, spacing, origin, direction);\n"
     "  affine=A (4x4, 0-based index -> LPS mm; RAS with ras=true), shape={..}:\n"
     "    nilearn's resample_img(target_affine=A, target_shape=shape) grid.\n"
     "interpolation: nearest, linear, cubic (B-spline with scipy.ndimage's\n"
     "  prefilter), label (per-label linear voting: each output voxel takes the\n"
     "  label whose linearly interpolated indicator is largest; ties go to the\n"
     "  smaller label). Output dtype = input dtype, integers rounded to nearest\n"
     "  (halves away from zero; nearest and linear sum as scipy does, so integer\n"
     "  results equal scipy's, halves included).\n"
     "mode: what lies outside the input, scipy.ndimage's names (constant,\n"
     "  grid-constant, nearest, mirror, reflect, grid-mirror, grid-wrap, wrap);\n"
     "  default nearest for spacing/shape, constant (with fill) otherwise.\n"
     "antialias=true: Gaussian prefilter on shrinking axes, sigma = (f - 1) / 2\n"
     "  input voxels for a size ratio f (skimage.transform.resize's).\n"
     "separate_z (default true for spacing grids, false for the others): when\n"
     "  one axis is thicker than anisotropy_threshold (3) times the thinnest\n"
     "  (input spacing, else target spacing: nnU-Net's rule), it is interpolated\n"
     "  with order_z (0 nearest, default; or 1 linear); the others use\n"
     "  interpolation. Isotropic-ish data (ratio <= 3) is not affected.\n"
     "Errors: unknown options, none or several grids, sizes < 1, a reference\n"
     "  that is not a Volume, anisotropy_threshold < 1, order_z not 0 or 1;\n"
     "  antialias and label voting need an axis-aligned target grid (they\n"
     "  refuse reference/affine grids rotated or sheared against the input).\n"
     "Example: local iso = ct:resample{spacing={1, 1, 1}, interpolation=\"cubic\"}"},
    {"zoom", l_zoom,
     "v:zoom(factors [, {order=3, mode=\"constant\", fill=0}]) -> Volume\n"
     "scipy.ndimage.zoom: shape round(n * f) (half to even), output index o\n"
     "reads input index o * (n - 1) / (n' - 1), so the first and last voxel\n"
     "centres stay where they were. factors: one number or one per axis.\n"
     "order 0, 1 or 3 (cubic with scipy's spline prefilter); mode and fill\n"
     "(scipy's cval) as in v:resample. The result's spacing is the grid zoom\n"
     "really makes, s * (n - 1) / (n' - 1); the origin stays.\n"
     "Example: local z = ct:zoom({0.5, 0.5, 1}, {order=1})"},
    {"transform", l_transform,
     "v:transform{matrix=3x3, translation={..}, center={..}, space=\"world\",\n"
     "            interpolation=\"linear\", mode=\"constant\", fill=0} -> Volume\n"
     "Applies an affine transform on the same grid: the output voxel at p reads\n"
     "the input at matrix * (p - center) + center + translation (the pull\n"
     "convention of scipy's affine_transform; to rotate the content by R pass\n"
     "its inverse). space=\"world\": LPS mm, center defaults to the grid's\n"
     "centre; space=\"index\": 1-based voxel indices (x, y, z order).\n"
     "A 2-D volume takes 2-D values: matrix 2 rows of 2 (or 4 numbers),\n"
     "translation and center {x, y} (3-D forms are accepted too).\n"
     "Example: local r = v:transform{matrix={{c, -s, 0}, {s, c, 0}, {0, 0, 1}}}"},
    {NULL, NULL, NULL}};

void md_open_resample(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    md_push_methods(L, module);
    md_lua_register(L, methods);
    lua_pop(L, 1);
}
