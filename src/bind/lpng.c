/* Binding of the PNG writer's windowed mode (io/png): v:write_png. Plain
 * reading and writing go through vol.read and v:write (io/formats). */
#include <math.h>

#include "../io/png.h"
#include "../kernels/arith.h"
#include "lvolume.h"

void md_open_png(lua_State *L, int module);

static int l_write_png(lua_State *L)
{
    static const char *const keys[] = {"window", "bits", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    const char *path = luaL_checkstring(L, 2);
    md_lua_checkopts(L, 3, keys);
    int bits = (int)md_lua_optnumfield(L, 3, "bits", v->dtype == MD_UINT16 ? 16 : 8);
    luaL_argcheck(L, bits == 8 || bits == 16, 3, "bits must be 8 or 16");
    double w[2];
    MdError err;
    int has_window = lua_istable(L, 3) && lua_getfield(L, 3, "window") != LUA_TNIL;
    if (has_window) {
        md_lua_argnumbers(L, 3, -1, w, 2, "window");
        luaL_argcheck(L, isfinite(w[0]) && isfinite(w[1]) && w[0] <= w[1], 3,
                      "window must be {lo, hi} with lo <= hi");
    } else if ((v->dtype == MD_UINT8 && bits == 8) || (v->dtype == MD_UINT16 && bits == 16)) {
        w[0] = 0; /* stored samples as they are */
        w[1] = bits == 16 ? 65535 : 255;
    } else {
        MdStats s; /* default window: the finite value range */
        if (md_stats(v, NULL, &s, &err) != MD_OK) return md_lua_raise(L, &err);
        w[0] = s.count ? s.min : 0;
        w[1] = s.count ? s.max : 0;
    }
    if (md_png_write_window(path, v, bits, w[0], w[1], &err) != MD_OK) return md_lua_raise(L, &err);
    lua_settop(L, 1);
    return 1;
}

static const MdLuaReg methods[] = {
    {"write_png", l_write_png,
     "v:write_png(path [, {window={lo, hi}, bits=8}]) -> v\n"
     "Writes a 2-D image ((x, y), (x, y, 1) or (x, y, 1, C) with C = 1..4: grey,\n"
     "grey+alpha, RGB, RGBA) of any dtype as an 8- or 16-bit PNG: lo maps to 0, hi to\n"
     "255 (65535), linearly, rounded and clamped; NaN becomes 0. Without window:\n"
     "uint8 (uint16 with bits=16) samples are written as stored, other dtypes are\n"
     "stretched over their finite min..max. Row y=1 is the top of the picture.\n"
     "v:write(\"x.png\") writes uint8/uint16 as stored and refuses other dtypes.\n"
     "Errors: more than 4 channels, a 3-D volume, bad window or bits.\n"
     "  slice:write_png(\"slice.png\", {window={-1000, 400}})"},
    {NULL, NULL, NULL}};

void md_open_png(lua_State *L, int module)
{
    md_push_methods(L, module);
    md_lua_register(L, methods);
    lua_pop(L, 1);
}
