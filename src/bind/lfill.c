/* Binding of the mask clean-up kernels (kernels/fill): fill_holes,
 * clear_border, remove_small_objects, keep_largest. Registered by
 * md_open_morph. */
#include "../kernels/fill.h"
#include "lfill.h"
#include "lvolume.h"

/* Connectivity option (0 = the kernel's default). */
static int check_conn(lua_State *L, int idx)
{
    lua_Integer c = md_lua_optintfield(L, idx, "connectivity", 0, 0);
    luaL_argcheck(L, c == 0 || c == 4 || c == 6 || c == 8 || c == 18 || c == 26, idx,
                  "connectivity must be 4 or 8 (2-D, per slice) or 6, 18 or 26 (3-D)");
    return (int)c;
}

static int l_fill_holes(lua_State *L)
{
    static const char *const keys[] = {"per_slice", "axis", "connectivity", NULL};
    MdVolume *m = md_lua_checkmask(L, 1);
    md_lua_checkopts(L, 2, keys);
    int axis = md_lua_sliceaxis(L, 2, m), conn = check_conn(L, 2);
    MdVolume *out = md_lua_newlike(L, m, MD_UINT8, 0);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "fill_holes");
    if (md_fill_holes(m, axis, conn, out, &ctx) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

static int l_clear_border(lua_State *L)
{
    static const char *const keys[] = {"per_slice", "axis", "connectivity", "buffer", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    luaL_argcheck(L, v->ndim == 2 || v->ndim == 3, 1, "expected a 2-D or 3-D volume");
    md_lua_checkopts(L, 2, keys);
    int axis = md_lua_sliceaxis(L, 2, v), conn = check_conn(L, 2);
    lua_Integer buffer = md_lua_optintfield(L, 2, "buffer", 0, 0);
    MdVolume *out = md_lua_newlike(L, v, -1, 0);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "clear_border");
    if (md_clear_border(v, axis, conn, buffer, out, &ctx) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

static int l_remove_small_objects(lua_State *L)
{
    static const char *const keys[] = {"per_slice", "axis", "connectivity", NULL};
    MdVolume *m = md_lua_checkmask(L, 1);
    lua_Integer min_size = luaL_checkinteger(L, 2);
    luaL_argcheck(L, min_size >= 0, 2, "min_size must be >= 0");
    md_lua_checkopts(L, 3, keys);
    int axis = md_lua_sliceaxis(L, 3, m), conn = check_conn(L, 3);
    MdVolume *out = md_lua_newlike(L, m, MD_UINT8, 0);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "remove_small");
    if (md_remove_small(m, axis, conn, min_size, out, &ctx) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

static int l_keep_largest(lua_State *L)
{
    static const char *const keys[] = {"per_slice", "axis", "connectivity", NULL};
    MdVolume *m = md_lua_checkmask(L, 1);
    int opts = 2;
    lua_Integer n = 1;
    if (lua_type(L, 2) != LUA_TTABLE && !lua_isnoneornil(L, 2)) {
        n = luaL_checkinteger(L, 2);
        luaL_argcheck(L, n >= 0, 2, "the number of components must be >= 0");
        opts = 3;
    }
    md_lua_checkopts(L, opts, keys);
    int axis = md_lua_sliceaxis(L, opts, m), conn = check_conn(L, opts);
    MdVolume *out = md_lua_newlike(L, m, MD_UINT8, 0);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "keep_largest");
    if (md_keep_largest(m, axis, conn, n, out, &ctx) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

#define SLICE_OPTS                                                                 \
    "        per_slice=true  each slice alone (axis=3 unless given)\n"             \
    "        axis=1|2|3      the axis slices are taken across (implies per_slice)\n"

static const MdLuaReg methods[] = {
    {"fill_holes", l_fill_holes,
     "m:fill_holes([opts]) -> uint8 mask\n"
     "Fills every background region that does not reach the volume's faces, as\n"
     "scipy.ndimage.binary_fill_holes.\n"
     "  opts  connectivity=   of the background: 6 (3-D) or 4 (per slice, 2-D) by default,\n"
     "                        scipy's default structure; 18, 26 or 8 allowed\n" SLICE_OPTS
     "Input: any dtype, non-zero = object.\n"
     "  local solid = lung:fill_holes{per_slice=true}"},
    {"clear_border", l_clear_border,
     "v:clear_border([opts]) -> Volume (v's dtype)\n"
     "Sets to 0 every region touching the volume's faces, as\n"
     "skimage.segmentation.clear_border: regions are connected voxels of equal non-zero\n"
     "value, so a mask or a label volume both work.\n"
     "  opts  buffer=n        also clear regions within n voxels of a face (buffer_size=)\n"
     "        connectivity=   26 (3-D) or 8 (per slice, 2-D) by default, as skimage\n" SLICE_OPTS
     "  local inner = (ct:lt(-320)):clear_border{per_slice=true}"},
    {"remove_small_objects", l_remove_small_objects,
     "m:remove_small_objects(min_size [, opts]) -> uint8 mask\n"
     "Removes components with fewer than min_size voxels, as\n"
     "skimage.morphology.remove_small_objects on a boolean mask.\n"
     "  opts  connectivity=   6 (3-D) or 4 (per slice, 2-D) by default (skimage's\n"
     "                        connectivity=1); 18, 26 or 8 allowed\n" SLICE_OPTS
     "Input: any dtype, non-zero = object.\n"
     "  local clean = m:remove_small_objects(64)"},
    {"keep_largest", l_keep_largest,
     "m:keep_largest([n=1] [, opts]) -> uint8 mask\n"
     "Keeps the n largest components (per slice: the n largest of each slice). Equal\n"
     "sizes rank by label (raster order of the first voxel), so exactly n are kept.\n"
     "  opts  connectivity=   26 (3-D) or 8 (per slice, 2-D) by default, as skimage's label\n" SLICE_OPTS
     "  local lungs = air:keep_largest(2)"},
    {NULL, NULL, NULL}};

void md_open_fill(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    md_push_methods(L, module);
    md_lua_register(L, methods);
    lua_pop(L, 1);
}
