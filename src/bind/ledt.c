/* Binding of the Euclidean distance transform (kernels/edt): m:edt. */
#include <string.h>

#include "../kernels/edt.h"
#include "lmorph.h"
#include "lvolume.h"

/* Spacing option: true (default) = the volume's, false = voxel units, or a
 * table of ndim numbers. */
static void check_spacing(lua_State *L, int idx, const MdVolume *m, double sp[3])
{
    sp[0] = sp[1] = sp[2] = 1;
    int t = LUA_TNIL;
    if (lua_type(L, idx) == LUA_TTABLE)
        t = lua_getfield(L, idx, "spacing");
    else
        lua_pushnil(L);
    if (t == LUA_TNIL || (t == LUA_TBOOLEAN && lua_toboolean(L, -1))) {
        memcpy(sp, m->spacing, 3 * sizeof *sp);
    } else if (t == LUA_TTABLE) {
        md_lua_argnumbers(L, idx, -1, sp, m->ndim, "spacing");
    } else if (t != LUA_TBOOLEAN) {
        luaL_argerror(L, idx, "option 'spacing' must be true, false or a table of numbers");
    }
    if (m->ndim == 2) sp[2] = 1; /* unused in 2-D */
    lua_pop(L, 1);
}

static int l_edt(lua_State *L)
{
    static const char *const keys[] = {"spacing", "squared", "signed", "indices", "dtype", "per_slice", "axis", NULL};
    static const char *const dtypes[] = {"float32", "float64", NULL};
    MdVolume *m = md_lua_checkmask(L, 1);
    md_lua_checkopts(L, 2, keys);
    MdEdtOpts o;
    check_spacing(L, 2, m, o.spacing);
    o.squared = md_lua_optboolfield(L, 2, "squared", 0);
    o.sign = md_lua_optboolfield(L, 2, "signed", 0);
    o.axis = md_lua_sliceaxis(L, 2, m);
    int indices = md_lua_optboolfield(L, 2, "indices", 0);
    int f64 = md_lua_optchoice(L, 2, "dtype", 0, dtypes);
    luaL_argcheck(L, !(indices && o.sign), 2, "indices are not available with signed=true");
    MdVolume *out = md_lua_newlike(L, m, f64 ? MD_FLOAT64 : MD_FLOAT32, 0);
    MdVolume *idx[3] = {NULL, NULL, NULL};
    for (int a = 0; indices && a < m->ndim; a++) idx[a] = md_lua_newlike(L, m, MD_INT32, 0);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "distance transform");
    if (md_edt(m, &o, out, indices ? idx : NULL, &ctx) != MD_OK) return md_lua_raise(L, &err);
    return indices ? 1 + m->ndim : 1;
}

static const MdLuaReg methods[] = {
    {"edt", l_edt,
     "m:edt([opts]) -> float32 distances [, ix, iy [, iz]]\n"
     "Exact Euclidean distance transform, as scipy.ndimage.distance_transform_edt(m,\n"
     "sampling=spacing): each non-zero voxel gets its distance to the nearest zero voxel,\n"
     "zero voxels get 0. Distances are in mm by default.\n"
     "  opts  spacing=true     the volume's spacing (default); false: voxel units;\n"
     "                         or {sx, sy [, sz]}\n"
     "        squared=true     squared distances\n"
     "        signed=true      signed map: -distance to the nearest zero voxel inside the\n"
     "                         object, +distance to the nearest object voxel outside\n"
     "                         (edt(not m) - edt(m); never 0)\n"
     "        indices=true     also return int32 volumes of the 1-based x, y [, z] index of\n"
     "                         each voxel's nearest zero voxel (ties may differ from scipy)\n"
     "        dtype=\"float64\"  double-precision output\n"
     "        per_slice=true   2-D transform in each slice (axis=3 unless given); axis=1|2|3\n"
     "A mask (per slice: a slice) with no zero voxel gives +inf there (indices 0).\n"
     "  local d = brain:edt()                     -- mm to the brain's outside\n"
     "  local sdf = lung:edt{signed=true}"},
    {NULL, NULL, NULL}};

void md_open_edt(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    md_push_methods(L, module);
    md_lua_register(L, methods);
    lua_pop(L, 1);
}
