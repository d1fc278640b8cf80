/* Binding of the byte-moving kernels (kernels/cropad): crop, pad,
 * centre crop-or-pad, the non-zero box, slices, flips, permutations,
 * reorientation, stacks. Converts 1-based Lua indices to 0-based ones and
 * checks arguments; the copying and the geometry live in the kernel. */
#include <string.h>

#include "../kernels/cropad.h"
#include "lcropad.h"
#include "lvolume.h"

/* Reads opts[key] as n integers into out when present; returns 1 if so. */
static int opt_ints(lua_State *L, int opts, const char *key, int64_t *out, int n)
{
    int present = 0;
    if (lua_type(L, opts) == LUA_TTABLE && lua_getfield(L, opts, key) != LUA_TNIL) {
        md_lua_argintegers(L, opts, -1, out, n, key);
        present = 1;
    }
    if (lua_type(L, opts) == LUA_TTABLE) lua_pop(L, 1);
    return present;
}

static MdPadMode check_pad_mode(lua_State *L, int arg, const char *s)
{
    int m = md_pad_mode_from_name(s);
    if (m < 0)
        luaL_argerror(L, arg, lua_pushfstring(L, "mode must be constant, edge, reflect, symmetric or "
                                                 "wrap (got '%s')", s));
    return (MdPadMode)m;
}

/* Runs the box kernel into a new volume of size size starting at lo. */
static int push_box(lua_State *L, const MdVolume *v, const int64_t lo[3], const int64_t size[3],
                    MdPadMode mode, double value)
{
    MdVolume h;
    md_cropad_box_header(v, lo, size, &h);
    MdVolume *o = md_lua_newheader(L, &h, 1);
    MdError err;
    if (md_cropad_box(v, lo, mode, value, o, &err) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

static int l_crop(lua_State *L)
{
    static const char *const keys[] = {"lo", "hi", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    md_lua_checkopts(L, 2, keys);
    int ns = md_lua_spatial(v);
    int64_t lo[3] = {1, 1, 1}, hi[3] = {v->dim[0], v->dim[1], v->dim[2]}, size[3] = {1, 1, 1};
    opt_ints(L, 2, "lo", lo, ns);
    opt_ints(L, 2, "hi", hi, ns);
    for (int a = 0; a < ns; a++) {
        if (lo[a] < 1 || hi[a] > v->dim[a] || lo[a] > hi[a])
            luaL_argerror(L, 2, lua_pushfstring(L, "crop box %I..%I on axis %d must lie within 1..%I "
                                                   "with lo <= hi", (LUAI_UACINT)lo[a], (LUAI_UACINT)hi[a],
                                                a + 1, (LUAI_UACINT)v->dim[a]));
        size[a] = hi[a] - lo[a] + 1;
        lo[a] -= 1;
    }
    return push_box(L, v, lo, size, MD_PAD_CONSTANT, 0);
}

static int l_pad(lua_State *L)
{
    static const char *const keys[] = {"width", "before", "after", "mode", "value", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    md_lua_checkopts(L, 2, keys);
    int ns = md_lua_spatial(v);
    int64_t before[3] = {0, 0, 0}, after[3] = {0, 0, 0}, lo[3] = {0, 0, 0}, size[3] = {1, 1, 1};
    lua_getfield(L, 2, "width");
    if (lua_type(L, -1) == LUA_TNUMBER) {
        /* a whole-valued float (4/2) is an integer here, as in the table form */
        int ok;
        lua_Integer w = lua_tointegerx(L, -1, &ok);
        if (!ok)
            luaL_argerror(L, 2, lua_pushfstring(L, "width must be an integer (got %f)", lua_tonumber(L, -1)));
        for (int a = 0; a < ns; a++) before[a] = after[a] = w;
    } else if (!lua_isnil(L, -1)) {
        md_lua_argintegers(L, 2, -1, before, ns, "width");
        memcpy(after, before, sizeof after);
    }
    lua_pop(L, 1);
    opt_ints(L, 2, "before", before, ns);
    opt_ints(L, 2, "after", after, ns);
    MdPadMode mode = check_pad_mode(L, 2, md_lua_optstrfield(L, 2, "mode", "constant"));
    double value = md_lua_optnumfield(L, 2, "value", 0);
    for (int a = 0; a < ns; a++) {
        if (before[a] < 0 || after[a] < 0)
            luaL_argerror(L, 2, lua_pushfstring(L, "pad widths must be >= 0 (got %I and %I on axis %d)",
                                                (LUAI_UACINT)before[a], (LUAI_UACINT)after[a], a + 1));
        lo[a] = -before[a];
        size[a] = v->dim[a] + before[a] + after[a];
    }
    return push_box(L, v, lo, size, mode, value);
}

static int l_center_crop_or_pad(lua_State *L)
{
    static const char *const keys[] = {"mode", "value", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    int ns = md_lua_spatial(v);
    int64_t shape[3] = {1, 1, 1}, lo[3] = {0, 0, 0};
    md_lua_argintegers(L, 2, 2, shape, ns, "shape");
    md_lua_checkopts(L, 3, keys);
    MdPadMode mode = check_pad_mode(L, 3, md_lua_optstrfield(L, 3, "mode", "constant"));
    double value = md_lua_optnumfield(L, 3, "value", 0);
    for (int a = 0; a < ns; a++) {
        if (shape[a] < 1)
            luaL_argerror(L, 2, lua_pushfstring(L, "shape[%d] must be >= 1", a + 1));
        /* the odd voxel goes to the far side, cropping or padding */
        int64_t d = v->dim[a] - shape[a];
        lo[a] = d >= 0 ? d / 2 : -((-d) / 2);
    }
    return push_box(L, v, lo, shape, mode, value);
}

static void push_index_list(lua_State *L, const int64_t *x, int n)
{
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushinteger(L, (lua_Integer)x[i] + 1);
        lua_rawseti(L, -2, i + 1);
    }
}

static int l_nonzero_box(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    int64_t lo[3], hi[3];
    int r = md_cropad_nonzero_box(v, lo, hi);
    if (r < 0) return luaL_error(L, "out of memory for the non-zero box");
    if (r == 0) {
        lua_pushnil(L);
        return 1;
    }
    push_index_list(L, lo, md_lua_spatial(v));
    push_index_list(L, hi, md_lua_spatial(v));
    return 2;
}

static int check_axis(lua_State *L, int arg, const MdVolume *v, int n)
{
    lua_Integer a = luaL_checkinteger(L, arg);
    if (a < 1 || a > n)
        luaL_argerror(L, arg, lua_pushfstring(L, "axis must be 1..%d (got %I)", n, (LUAI_UACINT)a));
    return (int)a - 1;
}

static int l_slice(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    int axis = check_axis(L, 2, v, v->ndim);
    lua_Integer index = luaL_checkinteger(L, 3);
    MdVolume h;
    MdError err;
    if (md_cropad_slice_header(v, axis, (int64_t)index - 1, &h, &err) != MD_OK) return md_lua_raise(L, &err);
    MdVolume *o = md_lua_newheader(L, &h, 1);
    md_cropad_slice(v, axis, (int64_t)index - 1, o);
    return 1;
}

/* Pushes v reordered (order and flips 0-based). */
static int push_reorder(lua_State *L, const MdVolume *v, const int order[3], const int flip[3])
{
    MdVolume h;
    MdError err;
    if (md_cropad_reorder_header(v, order, flip, &h, &err) != MD_OK) return md_lua_raise(L, &err);
    MdVolume *o = md_lua_newheader(L, &h, 1);
    md_cropad_reorder(v, order, flip, o);
    return 1;
}

static int l_flip(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    int ns = md_lua_spatial(v), order[3] = {0, 1, 2}, flip[3] = {0, 0, 0};
    if (lua_type(L, 2) == LUA_TTABLE) {
        int n = (int)lua_rawlen(L, 2);
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(L, 2, i);
            lua_Integer a = lua_tointeger(L, -1);
            if (a < 1 || a > ns)
                luaL_argerror(L, 2, lua_pushfstring(L, "axes must be 1..%d (item %d)", ns, i));
            flip[a - 1] ^= 1;
            lua_pop(L, 1);
        }
    } else {
        flip[check_axis(L, 2, v, ns)] = 1;
    }
    return push_reorder(L, v, order, flip);
}

static int l_permute(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    int ns = md_lua_spatial(v), order[3] = {0, 1, 2}, flip[3] = {0, 0, 0};
    int64_t o[3];
    md_lua_argintegers(L, 2, 2, o, ns, "order");
    for (int k = 0; k < ns; k++) order[k] = (int)(o[k] - 1);
    return push_reorder(L, v, order, flip);
}

static int l_reorient(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    const char *code = luaL_checkstring(L, 2);
    int order[3], flip[3];
    MdError err;
    if (md_cropad_reorient_plan(v, code, order, flip, &err) != MD_OK) return md_lua_raise(L, &err);
    return push_reorder(L, v, order, flip);
}

static int l_stack(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int n = (int)lua_rawlen(L, 1);
    if (n < 1) luaL_argerror(L, 1, "a list of at least one volume expected");
    /* borrowed pointers: the list keeps the volumes alive during the call */
    const MdVolume **list = lua_newuserdatauv(L, (size_t)n * sizeof *list, 0);
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, 1, i + 1);
        if (!md_lua_tovolume(L, -1))
            luaL_argerror(L, 1, lua_pushfstring(L, "item %d is not a Volume", i + 1));
        list[i] = md_lua_checkvolume(L, -1);
        lua_pop(L, 1);
    }
    MdVolume h;
    MdError err;
    if (md_cropad_stack_header(list, n, &h, &err) != MD_OK) return md_lua_raise(L, &err);
    lua_rawgeti(L, 1, 1);
    MdVolume *o = md_lua_newheader(L, &h, -1);
    md_cropad_stack(list, n, o);
    return 1;
}

static int l_unstack(lua_State *L)
{
    MdVolume *v = md_lua_checkvolume(L, 1);
    int axis = v->ndim - 1;
    if (v->ndim < 3) return luaL_argerror(L, 1, "unstack needs a 3-D or 4-D volume");
    lua_createtable(L, (int)v->dim[axis], 0);
    for (int64_t i = 0; i < v->dim[axis]; i++) {
        MdVolume h;
        MdError err;
        if (md_cropad_slice_header(v, axis, i, &h, &err) != MD_OK) return md_lua_raise(L, &err);
        MdVolume *o = md_lua_newheader(L, &h, 1);
        md_cropad_slice(v, axis, i, o);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static const MdLuaReg methods[] = {
    {"crop", l_crop,
     "v:crop{lo={i, j, k}, hi={i, j, k}} -> Volume\n"
     "A copy of the box lo..hi (1-based, inclusive; default the whole axis). The\n"
     "origin moves to the world position of voxel lo, so every voxel keeps its\n"
     "world position. 2-D volumes take two indices.\n"
     "Errors: a box outside the volume or with lo > hi (use pad to grow).\n"
     "Example: local roi = ct:crop{lo={100, 120, 40}, hi={355, 375, 200}}"},
    {"pad", l_pad,
     "v:pad{width=n | {i, j, k}, before={..}, after={..}, mode=\"constant\", value=0} -> Volume\n"
     "A copy grown by voxels before and after each axis (width sets both).\n"
     "mode, as numpy.pad: constant (value, rounded and saturated to the dtype),\n"
     "edge (a a | a b c), reflect (c b | a b c | b a), symmetric (b a | a b c | c b),\n"
     "wrap (b c | a b c | a b). The origin moves back by the padding before.\n"
     "Widths are whole numbers >= 0 (2.0 counts as 2).\n"
     "Example: local p = ct:pad{width={16, 16, 0}, value=-1024}"},
    {"center_crop_or_pad", l_center_crop_or_pad,
     "v:center_crop_or_pad(shape [, {mode=\"constant\", value=0}]) -> Volume\n"
     "The centred box of the given shape, cropping axes that are larger and\n"
     "padding (as v:pad) axes that are smaller. With an odd difference the\n"
     "extra voxel is removed (or added) at the far end: index 1 of the result\n"
     "is input index 1 + floor((n - shape) / 2).\n"
     "Example: local c = t1:center_crop_or_pad{160, 192, 160}"},
    {"nonzero_box", l_nonzero_box,
     "v:nonzero_box() -> lo, hi | nil\n"
     "The smallest box (1-based, inclusive) holding every voxel that is not 0\n"
     "(in any frame of a 4-D volume), or nil when all voxels are 0.\n"
     "Example: local lo, hi = mask:nonzero_box()"},
    {"slice", l_slice,
     "v:slice(axis, index) -> Volume\n"
     "The 2-D slice at index (1-based) of axis 1, 2 or 3 of a 3-D volume, or\n"
     "frame index (axis 4) of a 4-D volume as a 3-D one. The slice keeps its\n"
     "place in the world: its origin is the world position of its first voxel,\n"
     "its axes are the two remaining ones in order, and the removed axis becomes\n"
     "its third geometric axis (direction and spacing), so vol.stack of the\n"
     "slices of axis 3 rebuilds the volume's geometry.\n"
     "Example: local axial = ct:slice(3, 150)"},
    {"flip", l_flip,
     "v:flip(axis | {axes}) -> Volume\n"
     "A copy reversed along the axis (1-based) or each listed axis. The\n"
     "direction column of the axis is negated and the origin moves to the\n"
     "other end, so world positions stay put.\n"
     "Example: local f = v:flip(1)"},
    {"permute", l_permute,
     "v:permute(order) -> Volume\n"
     "A copy whose axis k is input axis order[k] (1-based, e.g. {3, 1, 2}),\n"
     "with spacing and direction columns following their axes; world\n"
     "positions stay put. A 4-D volume permutes its three spatial axes.\n"
     "Example: local p = v:permute{2, 1, 3}"},
    {"reorient", l_reorient,
     "v:reorient(code) -> Volume\n"
     "A copy whose axes point towards the three letters of code (one of L/R,\n"
     "P/A, S/I each; the v:orientation() convention): \"RAS\" is nibabel's\n"
     "as_closest_canonical, \"LPS\" ITK's identity. Only flips and permutations:\n"
     "each axis goes to the world axis it is closest to, voxels are not\n"
     "resampled and world positions stay put.\n"
     "Errors: a code that is not a permutation of one letter per world axis.\n"
     "Example: local ras = v:reorient(\"RAS\")"},
    {"unstack", l_unstack,
     "v:unstack() -> {Volume, ...}\n"
     "The slices along the last axis (a 3-D volume gives 2-D slices as\n"
     "v:slice(3, k), a 4-D volume its frames): the inverse of vol.stack."},
    {NULL, NULL, NULL}};

static const MdLuaReg functions[] = {
    {"stack", l_stack,
     "vol.stack(list) -> Volume\n"
     "Stacks 2-D volumes into a 3-D one, or 3-D volumes into a 4-D one, along a\n"
     "new last axis. All must have the same shape and dtype; the geometry is\n"
     "the first volume's (a 2-D slice carries its third axis, so slices from\n"
     "v:slice(3, k), k = 1..n, stack back onto v's grid).\n"
     "Example: local v2 = vol.stack(v:unstack())"},
    {NULL, NULL, NULL}};

void md_open_cropad(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    md_lua_register(L, functions);
    md_push_methods(L, module);
    md_lua_register(L, methods);
    lua_pop(L, 1);
}
