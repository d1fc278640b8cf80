/* Binding of the charts (kernels/plot, kernels/binning): vol.plot and
 * v:histogram_png. Lua tables of numbers become C arrays in scratch
 * userdata; the kernels draw. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../io/png.h"
#include "../kernels/binning.h"
#include "../kernels/plot.h"
#include "lmorph.h"
#include "lrender.h"
#include "lvolume.h"

static const unsigned char palette[6][3] = {{0, 90, 200},  {230, 80, 0},   {0, 150, 70},
                                            {200, 0, 120}, {120, 80, 200}, {110, 110, 110}};

/* Reads option key of the table at idx as an {r, g, b} colour (0..255);
 * errors name argument arg and the value as what ("color", "series[2].color"). */
static void opt_color(lua_State *L, int arg, int idx, const char *key, const char *what, unsigned char rgb[3])
{
    if (lua_getfield(L, idx, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    double c[3];
    md_lua_argnumbers(L, arg, -1, c, 3, what);
    for (int i = 0; i < 3; i++) {
        if (!(c[i] >= 0 && c[i] <= 255))
            luaL_argerror(L, arg, lua_pushfstring(L, "%s must be {r, g, b} with values 0 to 255 (got %f)", what, c[i]));
        rgb[i] = (unsigned char)floor(c[i] + 0.5);
    }
    lua_pop(L, 1);
}

static void opt_range(lua_State *L, int idx, const char *key, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (lua_getfield(L, idx, key) != LUA_TNIL) {
        double r[2];
        md_lua_argnumbers(L, idx, -1, r, 2, key);
        if (!(isfinite(r[0]) && isfinite(r[1]) && r[0] < r[1]))
            luaL_argerror(L, idx, lua_pushfstring(L, "option '%s' must be {lo, hi} with lo < hi", key));
        *lo = r[0], *hi = r[1];
    }
    lua_pop(L, 1);
}

/* Pushes a new white picture of the size options (default 640 x 400). */
static MdVolume *push_canvas(lua_State *L, int idx)
{
    lua_Integer w = md_lua_optintfield(L, idx, "width", 640, 120), h = md_lua_optintfield(L, idx, "height", 400, 80);
    luaL_argcheck(L, w <= 8192 && h <= 8192, idx, "plots are at most 8192 pixels on a side");
    MdVolume *pic = md_lua_newvolume(L);
    int64_t dim[4] = {w, h, 1, 3};
    md_volume_init(pic, MD_UINT8, 4, dim);
    md_lua_alloc(L, pic, 0);
    return pic;
}

static void write_if(lua_State *L, int idx, MdVolume *pic, const char *path)
{
    if (!path) path = md_lua_optstrfield(L, idx, "path", NULL);
    if (!path) return;
    MdWriteOpts wo;
    memset(&wo, 0, sizeof wo);
    wo.level = PICTURE_PNG_LEVEL;
    MdError err;
    if (md_png_write(path, pic, &wo, &err) != MD_OK) md_lua_raise(L, &err);
}

static int l_plot(lua_State *L)
{
    static const char *const keys[] = {"series", "title", "xlabel", "ylabel", "xrange", "yrange", "legend",
                                       "width", "height", "path", NULL};
    static const char *const skeys[] = {"x", "y", "kind", "label", "color", NULL};
    static const char *const kinds[] = {"line", "bar", NULL};
    luaL_checktype(L, 1, LUA_TTABLE);
    md_lua_checkopts(L, 1, keys);
    if (lua_getfield(L, 1, "series") != LUA_TTABLE) luaL_argerror(L, 1, "'series' must be a list of series tables");
    int series = lua_gettop(L);
    int ns = (int)lua_rawlen(L, series);
    luaL_argcheck(L, ns >= 1 && ns <= 64, 1, "'series' needs 1 to 64 series");
    MdSeries *s = lua_newuserdatauv(L, (size_t)ns * sizeof *s, 0);
    memset(s, 0, (size_t)ns * sizeof *s);
    int any_label = 0;
    lua_newtable(L); /* anchors the arrays' userdata */
    int anchor = lua_gettop(L), nref = 0;
    for (int k = 0; k < ns; k++) {
        lua_rawgeti(L, series, k + 1);
        int t = lua_gettop(L);
        if (!lua_istable(L, t))
            luaL_argerror(L, 1, lua_pushfstring(L, "series[%d] must be a table (got %s)", k + 1, luaL_typename(L, t)));
        char what[48];
        md_lua_checkopts(L, t, skeys);
        s[k].kind = md_lua_optchoice(L, t, "kind", 0, kinds) ? MD_PLOT_BAR : MD_PLOT_LINE;
        lua_getfield(L, t, "y");
        snprintf(what, sizeof what, "series[%d].y", k + 1);
        s[k].y = md_lua_arglist(L, 1, -1, what, &s[k].n);
        lua_rawseti(L, anchor, ++nref);
        if (s[k].n < 1) luaL_argerror(L, 1, lua_pushfstring(L, "series[%d] has no y values", k + 1));
        if (lua_getfield(L, t, "x") != LUA_TNIL) {
            int64_t nx;
            snprintf(what, sizeof what, "series[%d].x", k + 1);
            s[k].x = md_lua_arglist(L, 1, -1, what, &nx);
            if (nx != s[k].n)
                luaL_argerror(L, 1, lua_pushfstring(L, "series[%d] has %d x values and %d y values", k + 1, (int)nx,
                                                    (int)s[k].n));
        } else {
            double *x = lua_newuserdatauv(L, (size_t)s[k].n * sizeof(double), 0);
            for (int64_t i = 0; i < s[k].n; i++) x[i] = (double)(i + 1);
            s[k].x = x;
        }
        lua_rawseti(L, anchor, ++nref);
        memcpy(s[k].rgb, palette[k % 6], 3);
        snprintf(what, sizeof what, "series[%d].color", k + 1);
        opt_color(L, 1, t, "color", what, s[k].rgb);
        s[k].label = md_lua_optstrfield(L, t, "label", NULL);
        any_label |= s[k].label != NULL;
        lua_settop(L, anchor);
    }
    MdPlot p = {md_lua_optstrfield(L, 1, "title", NULL), md_lua_optstrfield(L, 1, "xlabel", NULL),
                md_lua_optstrfield(L, 1, "ylabel", NULL), NAN, NAN, NAN, NAN, md_lua_optboolfield(L, 1, "legend", any_label)};
    opt_range(L, 1, "xrange", &p.xlo, &p.xhi);
    opt_range(L, 1, "yrange", &p.ylo, &p.yhi);
    MdVolume *pic = push_canvas(L, 1);
    MdError err;
    if (md_plot_draw(&p, s, ns, pic, NULL, &err) != MD_OK) return md_lua_raise(L, &err);
    write_if(L, 1, pic, NULL);
    return 1;
}

static int l_histogram_png(lua_State *L)
{
    static const char *const keys[] = {"bins", "range", "mask", "color", "title", "xlabel", "ylabel",
                                       "width", "height", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    const char *path = luaL_checkstring(L, 2);
    md_lua_checkopts(L, 3, keys);
    lua_Integer bins = md_lua_optintfield(L, 3, "bins", 80, 1);
    luaL_argcheck(L, bins <= 100000, 3, "option 'bins' must be at most 100000");
    MdVolume *mask = NULL;
    double lo = NAN, hi = NAN;
    if (lua_istable(L, 3)) {
        if (lua_getfield(L, 3, "mask") != LUA_TNIL) mask = md_lua_checkvolume(L, -1); /* stays on the stack */
        if (lua_getfield(L, 3, "range") != LUA_TNIL) {
            double r[2];
            md_lua_argnumbers(L, 3, -1, r, 2, "range");
            luaL_argcheck(L, isfinite(r[0]) && isfinite(r[1]) && r[0] <= r[1], 3, "range must be {lo, hi} with lo <= hi");
            lo = r[0], hi = r[1];
        }
        lua_pop(L, 1);
    }
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "histogram");
    if (isnan(lo) && md_binning_range(v, mask, &lo, &hi, &ctx) != MD_OK) return md_lua_raise(L, &err);
    double *edges = lua_newuserdatauv(L, (size_t)(bins + 1) * sizeof(double), 0);
    int64_t *counts = lua_newuserdatauv(L, (size_t)bins * sizeof(int64_t), 0);
    double *y = lua_newuserdatauv(L, (size_t)bins * sizeof(double), 0);
    if (md_binning_counts(v, mask, bins, lo, hi, edges, counts, &ctx) != MD_OK) return md_lua_raise(L, &err);
    for (lua_Integer i = 0; i < bins; i++) y[i] = (double)counts[i];
    MdSeries s = {MD_PLOT_HIST, edges, y, bins, NULL, {0, 90, 200}};
    if (lua_istable(L, 3)) opt_color(L, 3, 3, "color", "option 'color'", s.rgb);
    MdPlot p = {md_lua_optstrfield(L, 3, "title", NULL), md_lua_optstrfield(L, 3, "xlabel", "value"),
                md_lua_optstrfield(L, 3, "ylabel", "count"), NAN, NAN, NAN, NAN, 0};
    MdVolume *pic = push_canvas(L, 3);
    if (md_plot_draw(&p, &s, 1, pic, NULL, &err) != MD_OK) return md_lua_raise(L, &err);
    write_if(L, 3, pic, path);
    lua_createtable(L, (int)bins, 0);
    for (lua_Integer i = 0; i < bins; i++) {
        lua_pushinteger(L, (lua_Integer)counts[i]);
        lua_rawseti(L, -2, i + 1);
    }
    md_lua_pushnumbers(L, edges, (int)bins + 1);
    return 2;
}

static const MdLuaReg functions[] = {
    {"plot", l_plot,
     "vol.plot{series={{x=, y=, kind=\"line\", label=, color=}, ...}, title=, xlabel=,\n"
     "         ylabel=, xrange=, yrange=, legend=, width=640, height=400, path=} -> Volume\n"
     "A small chart drawn by medula: line or bar series on axes with ticks at 1, 2 or 5\n"
     "times a power of ten, tick labels, axis labels, a title and a legend (shown when a\n"
     "series has a label), on white, as a uint8 RGB picture; path= also writes the PNG.\n"
     "x defaults to 1..n; bars are centred on x, 0.8 of the spacing wide, from 0.\n"
     "Ranges default to the data's (bars include 0). Colours {r, g, b} 0..255; the\n"
     "default cycle is blue, orange, green, purple, violet, grey.\n"
     "  vol.plot{series={{y=losses, label=\"loss\"}}, xlabel=\"epoch\", path=\"loss.png\"}"},
    {NULL, NULL, NULL}};

static const MdLuaReg methods[] = {
    {"histogram_png", l_histogram_png,
     "v:histogram_png(path [, {bins=80, range={lo, hi}, mask=, color=, title=, xlabel=,\n"
     "                 ylabel=, width=640, height=400}]) -> counts, edges\n"
     "Writes the histogram of v's values as a bar chart PNG and returns the counts (a\n"
     "list of bins integers) and the bins + 1 edges, equal to numpy.histogram(a,\n"
     "bins, range) (for float32 volumes within one float32 step of an edge). Default\n"
     "range: the finite min..max; NaN and values outside the range are not counted;\n"
     "mask= counts only its non-zero voxels.\n"
     "  local counts, edges = ct:histogram_png(\"hu.png\", {bins=80, range={-1100, 700}})"},
    {NULL, NULL, NULL}};

void md_open_plot(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    md_lua_register(L, functions);
    md_push_methods(L, module);
    md_lua_register(L, methods);
    lua_pop(L, 1);
}
