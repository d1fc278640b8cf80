/* Binding of the pictures (kernels/render): v:png, v:picture, vol.montage,
 * vol.ortho, vol.compare, v:project, v:show. Reads the shared slice
 * options into an MdSliceStyle, lays out panels, calls the kernel. */
#include "lrender.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../io/png.h"
#include "../kernels/arith.h"
#include "../kernels/colormap.h"
#include "../kernels/render.h"
#include "lmorph.h"
#include "lvolume.h"

#define SLICE_KEYS "axis", "index", "window", "range", "cmap", "overlay", "overlay_alpha", "contour", \
                   "scale", "flip", "convention"

static const char *const conventions[] = {"radiological", "neurological", "voxel", NULL};

/* The voxel axis (0..2) named by option axis at idx (default z). */
static int opt_axis(lua_State *L, int idx, const MdVolume *v, const MdSliceStyle *s)
{
    int t = lua_istable(L, idx) ? lua_getfield(L, idx, "axis") : LUA_TNIL;
    int axis = 2;
    if (t == LUA_TNUMBER) {
        lua_Integer a = lua_tointeger(L, -1);
        if (!lua_isinteger(L, -1) && lua_tonumber(L, -1) != (double)a) a = 0;
        if (a < 1 || a > 3) luaL_argerror(L, idx, "option 'axis' must be 1, 2, 3, \"x\", \"y\", \"z\", \"axial\", \"coronal\" or \"sagittal\"");
        axis = (int)a - 1;
    } else if (t == LUA_TSTRING) {
        static const char *const names[] = {"x", "y", "z", "sagittal", "coronal", "axial", NULL};
        int k = md_lua_optchoice(L, idx, "axis", 2, names);
        if (k < 3) {
            axis = k;
        } else {
            /* the voxel axis nearest the anatomical normal (L, P or S) */
            int want = k - 3, best = 0;
            (void)s;
            for (int a = 1; a < 3; a++)
                if (fabs(v->direction[3 * want + a]) > fabs(v->direction[3 * want + best])) best = a;
            axis = best;
        }
    } else if (t != LUA_TNIL) {
        luaL_argerror(L, idx, "option 'axis' must be a number or a name");
    }
    if (lua_istable(L, idx)) lua_pop(L, 1);
    if (v->ndim == 2 && axis != 2) luaL_argerror(L, idx, "a 2-D volume has only axis z (3)");
    return axis;
}

/* Reads the style options of the table at idx for image v. The overlay
 * volume, when given, is left on the stack (+1, else +0); returns whether. */
static int read_style(lua_State *L, int idx, const MdVolume *v, MdSliceStyle *s)
{
    memset(s, 0, sizeof *s);
    const char *cm = md_lua_optstrfield(L, idx, "cmap", "gray");
    s->cmap = md_colormap(cm);
    if (!s->cmap) {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (int i = 0; md_colormap_names[i]; i++) {
            if (i) luaL_addstring(&b, ", ");
            luaL_addstring(&b, md_colormap_names[i]);
        }
        luaL_pushresult(&b);
        luaL_argerror(L, idx, lua_pushfstring(L, "unknown cmap '%s' (known: %s)", cm, lua_tostring(L, -1)));
    }
    s->conv = (MdConvention)md_lua_optchoice(L, idx, "convention", 0, conventions);
    s->scale = md_lua_optnumfield(L, idx, "scale", 1);
    luaL_argcheck(L, s->scale > 0 && s->scale <= 64, idx, "option 'scale' must be > 0 and <= 64");
    static const char *const flips[] = {"none", "h", "v", "hv", NULL};
    int f = md_lua_optchoice(L, idx, "flip", 0, flips);
    s->flip_h = f & 1;
    s->flip_v = f >> 1 & 1;
    int has_window = lua_istable(L, idx) && lua_getfield(L, idx, "window") != LUA_TNIL;
    int has_range = lua_istable(L, idx) && lua_getfield(L, idx, "range") != LUA_TNIL;
    double w[2];
    if (has_window && has_range) luaL_argerror(L, idx, "give window={level, width} or range={lo, hi}, not both");
    if (has_window) {
        md_lua_argnumbers(L, idx, -2, w, 2, "window");
        luaL_argcheck(L, isfinite(w[0]) && isfinite(w[1]) && w[1] > 0, idx, "window must be {level, width} with width > 0");
        s->lo = w[0] - w[1] / 2;
        s->hi = w[0] + w[1] / 2;
    } else if (has_range) {
        md_lua_argnumbers(L, idx, -1, w, 2, "range");
        luaL_argcheck(L, isfinite(w[0]) && isfinite(w[1]) && w[0] <= w[1], idx, "range must be {lo, hi} with lo <= hi");
        s->lo = w[0];
        s->hi = w[1];
    } else {
        MdStats st;
        MdError err;
        if (md_stats(v, NULL, &st, &err) != MD_OK) md_lua_raise(L, &err);
        s->lo = st.count ? st.min : 0;
        s->hi = st.count ? st.max : 0;
    }
    if (lua_istable(L, idx)) lua_pop(L, 2);
    s->contour = md_lua_optboolfield(L, idx, "contour", 0);
    s->alpha = md_lua_optnumfield(L, idx, "overlay_alpha", s->contour ? 0 : 0.4);
    luaL_argcheck(L, s->alpha >= 0 && s->alpha <= 1, idx, "option 'overlay_alpha' must be between 0 and 1");
    if (lua_istable(L, idx) && lua_getfield(L, idx, "overlay") != LUA_TNIL) {
        MdVolume *o = md_lua_tovolume(L, -1);
        if (!o) luaL_argerror(L, idx, "option 'overlay' must be a Volume");
        s->overlay = md_lua_checkvolume(L, -1);
        return 1;
    }
    if (lua_istable(L, idx)) lua_pop(L, 1);
    return 0;
}

/* Index option (1-based, default the middle n // 2 + 1) as 0-based. */
static int64_t opt_index(lua_State *L, int idx, const MdVolume *v, int axis)
{
    int64_t n = v->dim[axis];
    lua_Integer i = md_lua_optintfield(L, idx, "index", n / 2 + 1, 1);
    if (i > n)
        luaL_argerror(L, idx, lua_pushfstring(L, "option 'index' is %I, out of range 1..%I on axis %d",
                                              (LUAI_UACINT)i, (LUAI_UACINT)n, axis + 1));
    return (int64_t)i - 1;
}

/* Renders n panels in cols columns into a new picture. Stack: +1. */
static MdVolume *push_grid(lua_State *L, const MdPanel *p, int n, int cols, int argidx)
{
    int64_t w, h;
    MdError err;
    if (md_render_grid_size(p, n, cols, &w, &h, &err) != MD_OK) luaL_argerror(L, argidx, err.msg);
    MdVolume *pic = md_lua_newvolume(L);
    int64_t dim[4] = {w, h, 1, 3};
    md_volume_init(pic, MD_UINT8, 4, dim);
    md_lua_alloc(L, pic, 0);
    MdCtx ctx = md_ctx_init(&err, "picture");
    if (md_render_grid(p, n, cols, pic, &ctx) != MD_OK) md_lua_raise(L, &err);
    return pic;
}

/* Writes the picture at the top of the stack to path (8-bit RGB PNG). */
static void write_picture(lua_State *L, const char *path)
{
    MdVolume *pic = md_lua_checkvolume(L, -1);
    MdWriteOpts wo;
    memset(&wo, 0, sizeof wo);
    wo.level = PICTURE_PNG_LEVEL;
    MdError err;
    if (md_png_write(path, pic, &wo, &err) != MD_OK) md_lua_raise(L, &err);
}

/* One slice of v (at 1) with the options at optidx. Stack: +1 (picture). */
static void push_slice_picture(lua_State *L, int optidx)
{
    static const char *const keys[] = {SLICE_KEYS, NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, optidx, keys);
    MdPanel p;
    memset(&p, 0, sizeof p);
    p.v = v;
    read_style(L, optidx, v, &p.style);
    p.axis = opt_axis(L, optidx, v, &p.style);
    p.index = opt_index(L, optidx, v, p.axis);
    push_grid(L, &p, 1, 1, optidx);
}

static int l_png(lua_State *L)
{
    const char *path = luaL_checkstring(L, 2);
    push_slice_picture(L, 3);
    write_picture(L, path);
    lua_settop(L, 1);
    return 1;
}

static int l_picture(lua_State *L)
{
    push_slice_picture(L, 2);
    return 1;
}

/* Writes the picture on top when option path of the table at idx is set. */
static void maybe_write(lua_State *L, int idx)
{
    const char *path = md_lua_optstrfield(L, idx, "path", NULL);
    if (path) write_picture(L, path);
}

static int l_montage(lua_State *L)
{
    static const char *const keys[] = {SLICE_KEYS, "every", "count", "cols", "labels", "path", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    MdPanel base;
    memset(&base, 0, sizeof base);
    base.v = v;
    read_style(L, 2, v, &base.style);
    base.axis = opt_axis(L, 2, v, &base.style);
    luaL_argcheck(L, !(lua_istable(L, 2) && lua_getfield(L, 2, "index") != LUA_TNIL), 2,
                  "a montage takes every= or count=, not index=");
    if (lua_istable(L, 2)) lua_pop(L, 1);
    int64_t n = v->dim[base.axis];
    lua_Integer every = md_lua_optintfield(L, 2, "every", 0, 0);
    lua_Integer count = md_lua_optintfield(L, 2, "count", 0, 0);
    luaL_argcheck(L, !(every && count), 2, "give every= or count=, not both");
    if (!every && !count) count = n < 16 ? n : 16;
    if (every) count = (n + every - 1) / every;
    luaL_argcheck(L, count <= n && count <= 4096, 2, "option 'count' exceeds the number of slices");
    lua_Integer cols = md_lua_optintfield(L, 2, "cols", (lua_Integer)ceil(sqrt((double)count)), 1);
    int labels = md_lua_optboolfield(L, 2, "labels", 1);
    MdPanel *p = lua_newuserdatauv(L, (size_t)count * sizeof *p, 0);
    char (*titles)[32] = lua_newuserdatauv(L, (size_t)count * 32, 0);
    static const char axis_name[3] = {'i', 'j', 'k'};
    for (lua_Integer i = 0; i < count; i++) {
        p[i] = base;
        p[i].index = every ? i * every : (int64_t)floor(((double)i + 0.5) * (double)n / (double)count);
        snprintf(titles[i], 32, "%c=%lld", axis_name[base.axis], (long long)p[i].index + 1);
        p[i].title = labels ? titles[i] : NULL;
    }
    push_grid(L, p, (int)count, (int)cols, 2);
    maybe_write(L, 2);
    return 1;
}

static void read_point(lua_State *L, int idx, const MdVolume *v, int64_t pt[3])
{
    double d[3];
    for (int a = 0; a < 3; a++) pt[a] = v->dim[a] / 2;
    if (!lua_istable(L, idx) || lua_getfield(L, idx, "point") == LUA_TNIL) {
        if (lua_istable(L, idx)) lua_pop(L, 1);
        return;
    }
    md_lua_argnumbers(L, idx, -1, d, 3, "point");
    for (int a = 0; a < 3; a++) {
        double r = floor(d[a] + 0.5);
        if (!(r >= 1 && r <= (double)v->dim[a]))
            luaL_argerror(L, idx, lua_pushfstring(L, "option 'point' is outside the volume on axis %d (%f, size %I)",
                                                  a + 1, d[a], (LUAI_UACINT)v->dim[a]));
        pt[a] = (int64_t)r - 1;
    }
    lua_pop(L, 1);
}

static int l_ortho(lua_State *L)
{
    static const char *const keys[] = {"window", "range", "cmap", "overlay", "overlay_alpha", "contour",
                                       "scale", "convention", "point", "cross", "labels", "path", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    luaL_argcheck(L, v->ndim >= 3, 1, "the three-view needs a 3-D volume");
    md_lua_checkopts(L, 2, keys);
    MdPanel *p = lua_newuserdatauv(L, 3 * sizeof *p, 0);
    int64_t *pt = lua_newuserdatauv(L, 3 * sizeof(int64_t), 0);
    memset(p, 0, 3 * sizeof *p);
    read_style(L, 2, v, &p[0].style);
    read_point(L, 2, v, pt);
    int cross = md_lua_optboolfield(L, 2, "cross", 1), labels = md_lua_optboolfield(L, 2, "labels", 1);
    static const char *const names[3] = {"axial", "coronal", "sagittal"};
    static const int normal[3] = {2, 1, 0}; /* S, P, L */
    for (int i = 0; i < 3; i++) {
        p[i].v = v;
        p[i].style = p[0].style;
        int best = 0;
        if (p[0].style.conv == MD_CONV_VOXEL) {
            best = normal[i];
        } else {
            for (int a = 1; a < 3; a++)
                if (fabs(v->direction[3 * normal[i] + a]) > fabs(v->direction[3 * normal[i] + best])) best = a;
        }
        p[i].axis = best;
        p[i].index = pt[best];
        p[i].cross = cross ? pt : NULL;
        p[i].cross_rgb[1] = 255;
        p[i].title = labels ? names[i] : NULL;
    }
    push_grid(L, p, 3, 3, 2);
    maybe_write(L, 2);
    return 1;
}

static int l_compare(lua_State *L)
{
    static const char *const keys[] = {"axis", "index", "window", "range", "cmap", "overlay_alpha", "contour",
                                       "scale", "flip", "convention", "cols", "labels", "path", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    MdVolume *pred = md_lua_checkvolume(L, 2);
    MdVolume *truth = md_lua_checkvolume(L, 3);
    md_lua_checkopts(L, 4, keys);
    luaL_argcheck(L, md_render_same_grid(v, pred), 2, "prediction is on another grid than the image");
    luaL_argcheck(L, md_render_same_grid(v, truth), 3, "truth is on another grid than the image");
    MdPanel base;
    memset(&base, 0, sizeof base);
    base.v = v;
    read_style(L, 4, v, &base.style);
    if (!(lua_istable(L, 4) && lua_getfield(L, 4, "overlay_alpha") != LUA_TNIL) && !base.style.contour)
        base.style.alpha = 0.5;
    if (lua_istable(L, 4)) lua_pop(L, 1);
    base.axis = opt_axis(L, 4, v, &base.style);
    base.index = opt_index(L, 4, v, base.axis);
    lua_Integer cols = md_lua_optintfield(L, 4, "cols", 4, 1);
    int labels = md_lua_optboolfield(L, 4, "labels", 1);
    MdPanel p[4];
    static const char *const names[4] = {"image", "prediction", "truth", "overlap"};
    static const int show[4] = {0, 1 | 4, 2 | 4, 1 | 2 | 4};
    for (int i = 0; i < 4; i++) {
        p[i] = base;
        if (i) {
            p[i].style.overlay = pred;
            p[i].style.truth = truth;
            p[i].style.agree_show = show[i];
        }
        p[i].title = labels ? names[i] : NULL;
    }
    push_grid(L, p, 4, (int)cols, 4);
    maybe_write(L, 4);
    return 1;
}

static int l_project(lua_State *L)
{
    static const char *const keys[] = {"axis", "mode", NULL};
    static const char *const modes[] = {"max", "min", "mean", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    MdSliceStyle dummy = {0};
    int axis = opt_axis(L, 2, v, &dummy);
    int mode = md_lua_optchoice(L, 2, "mode", 0, modes);
    luaL_argcheck(L, v->ndim <= 3 || v->dim[3] == 1, 1, "projections need a 2-D or 3-D volume");
    MdVolume *out = md_lua_newvolume(L);
    int64_t dim[3] = {v->dim[0], v->dim[1], v->dim[2]};
    dim[axis] = 1;
    md_volume_init(out, mode == 2 ? MD_FLOAT32 : v->dtype, 3, dim);
    md_volume_copy_geometry(out, v);
    md_lua_alloc(L, out, 0);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "projection");
    if (md_project(v, axis, mode, out, &ctx) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

static int l_show(lua_State *L)
{
    static const char *const keys[] = {SLICE_KEYS, "width", "mode", NULL};
    static const char *const modes[] = {"24bit", "256", "grey", NULL};
    md_lua_checkopts(L, 2, keys);
    int deflt = 2;
    const char *ct = getenv("COLORTERM"), *term = getenv("TERM");
    if (ct && (strstr(ct, "truecolor") || strstr(ct, "24bit"))) deflt = 0;
    else if (term && strstr(term, "256")) deflt = 1;
    int mode = md_lua_optchoice(L, 2, "mode", deflt, modes);
    const char *cols = getenv("COLUMNS");
    lua_Integer width = md_lua_optintfield(L, 2, "width", cols && atoi(cols) > 0 ? atoi(cols) : 80, 1);
    if (lua_istable(L, 2)) {
        /* the slice options without width and mode */
        lua_newtable(L);
        lua_pushnil(L);
        while (lua_next(L, 2)) {
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
            if (strcmp(k, "width") && strcmp(k, "mode")) {
                lua_pushvalue(L, -2);
                lua_insert(L, -2);
                lua_rawset(L, -4);
            } else {
                lua_pop(L, 1);
            }
        }
        lua_replace(L, 2);
    }
    push_slice_picture(L, 2);
    MdVolume *pic = md_lua_checkvolume(L, -1);
    int64_t ow, oh;
    md_render_fit_size(pic, width, mode == 2, &ow, &oh);
    MdVolume *fit = md_lua_newvolume(L);
    int64_t dim[4] = {ow, oh, 1, 3};
    md_volume_init(fit, MD_UINT8, 4, dim);
    md_lua_alloc(L, fit, 0);
    MdError err;
    if (md_render_fit(pic, width, mode == 2, fit, &err) != MD_OK) return md_lua_raise(L, &err);
    char *text;
    size_t len;
    if (md_render_ansi(fit, mode, &text, &len, &err) != MD_OK) return md_lua_raise(L, &err);
    lua_pushlstring(L, text, len);
    free(text);
    /* through io.write, so io.output() redirects it */
    lua_getglobal(L, "io");
    lua_getfield(L, -1, "write");
    lua_pushvalue(L, -3);
    lua_call(L, 1, 0);
    return 0;
}

#define SLICE_DOC                                                                                   \
    "  axis      \"z\" (default), \"y\", \"x\", 1..3, or \"axial\", \"coronal\", \"sagittal\" (the voxel\n" \
    "            axis nearest that anatomical normal)\n"                                            \
    "  index     1-based slice, default n // 2 + 1\n"                                               \
    "  window    {level, width}: level - width/2 is black, level + width/2 white; or\n"            \
    "  range     {lo, hi}; default the volume's finite min..max. Colour entry\n"                   \
    "            floor((x - lo) / (hi - lo) * 255 + 0.5), clamped; NaN is entry 0\n"                \
    "  cmap      gray (default), bone, hot, jet, cool, viridis\n"                                   \
    "  overlay   a mask or label volume on the same grid: label k gets colour k (1 red,\n"        \
    "            2 green, 3 blue, 4 yellow, 5 cyan, 6 magenta, then golden-angle hues)\n"          \
    "  overlay_alpha  fill opacity 0..1 (default 0.4, or 0 with contour=true):\n"                \
    "            (pixel * (255 - a) + colour * a + 127) // 255 with a = round(alpha * 255)\n"     \
    "  contour   true: outline each region one picture pixel wide, opaque\n"                      \
    "  scale     picture pixels per finest in-plane spacing step (default 1): the other\n"        \
    "            axis is stretched by its spacing ratio, so slices are never squashed\n"           \
    "  convention  \"radiological\" (default: patient's right on the left), \"neurological\",\n" \
    "            or \"voxel\" (columns = lower voxel axis, rows = higher, no flips)\n"               \
    "  flip      \"h\", \"v\" or \"hv\": mirror the picture further\n"

static const MdLuaReg methods[] = {
    {"png", l_png,
     "v:png(path [, opts]) -> v\n"
     "Draws one slice of a 2-D or 3-D volume as an 8-bit RGB PNG (see v:picture for\n"
     "the picture itself). The same input gives the same bytes. Options:\n" SLICE_DOC
     "Errors: unknown options or cmap, index out of range, an overlay on another grid.\n"
     "  ct:png(\"ax.png\", {window={40, 400}, overlay=lungs, contour=true})"},
    {"picture", l_picture,
     "v:picture([opts]) -> Volume\n"
     "The slice v:png would write, as a uint8 RGB volume of shape (w, h, 1, 3): row 1 is\n"
     "the top of the picture. Takes v:png's options.\n"
     "  local pic = ct:picture{axis=\"coronal\", cmap=\"bone\"}  print(pic:get(1, 1, 1, 1))"},
    {"project", l_project,
     "v:project{axis=\"z\", mode=\"max\"} -> Volume\n"
     "Intensity projection along axis (as in v:png): mode \"max\" (MIP), \"min\" (MinIP) or\n"
     "\"mean\". The result has v's geometry with that axis of length 1; max and min keep\n"
     "the dtype and skip NaN, mean is float32 (summed in double). Show it with\n"
     "v:png(path, {axis=...}) along the same axis.\n"
     "  ct:project{axis=\"y\", mode=\"max\"}:png(\"mip.png\", {axis=\"y\"})"},
    {"show", l_show,
     "v:show([opts])\n"
     "Draws a slice in the terminal (through io.write): two pixels per character with\n"
     "24-bit colour half blocks, or the 256-colour palette, or grey characters. Takes\n"
     "v:png's options plus width (characters, default $COLUMNS or 80) and mode\n"
     "(\"24bit\", \"256\" or \"grey\"; default 24bit when $COLORTERM says truecolor,\n"
     "256 when $TERM mentions 256, else grey).\n"
     "  ct:show{window={40, 400}, width=60}"},
    {NULL, NULL, NULL}};

static const MdLuaReg functions[] = {
    {"montage", l_montage,
     "vol.montage(v [, opts]) -> Volume\n"
     "Slices of v side by side on a grid, as a uint8 RGB picture (w, h, 1, 3). Options:\n"
     "v:png's (but not index), plus every=k (slices 1, 1+k, ...) or count=n (n slices at\n"
     "the middles of n equal parts; default 16 or all if fewer), cols (default\n"
     "ceil(sqrt(count))), labels=true (slice number in each corner), path= (also\n"
     "writes the PNG). Slices are drawn in parallel; the bytes never depend on it.\n"
     "  vol.montage(ct, {every=5, cols=8, window={-600, 1500}, overlay=mask, path=\"m.png\"})"},
    {"ortho", l_ortho,
     "vol.ortho(v [, opts]) -> Volume\n"
     "The orthogonal three-view through a voxel: axial, coronal and sagittal slices\n"
     "side by side with a green cross-hair at the point. Options: point={i, j, k}\n"
     "(1-based, default the middle voxel n // 2 + 1), cross=true, labels=true (titles),\n"
     "path=, and v:png's window, range, cmap, overlay, overlay_alpha, contour, scale,\n"
     "convention (\"voxel\" takes axes z, y, x).\n"
     "  vol.ortho(ct, {point={200, 240, 90}, window={40, 400}, path=\"ortho.png\"})"},
    {"compare", l_compare,
     "vol.compare(image, prediction, truth [, opts]) -> Volume\n"
     "Four panels of one slice: the image, the prediction over it, the truth over it,\n"
     "and both, coloured by agreement: both yellow, prediction only red, truth only\n"
     "green (non-zero voxels are the object). Options: v:png's (overlay_alpha default\n"
     "0.5), cols=4, labels=true, path=. Masks must be on the image's grid.\n"
     "  vol.compare(ct, pred, gt, {window={-600, 1500}, path=\"cmp.png\"})"},
    {NULL, NULL, NULL}};

void md_open_render(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    md_lua_register(L, functions);
    md_push_methods(L, module);
    md_lua_register(L, methods);
    lua_pop(L, 1);
}
