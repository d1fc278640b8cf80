/* Binding of structuring elements (vol.strel) and binary morphology
 * (m:erode, m:dilate, m:open, m:close). The mask clean-up methods are bound
 * in lfill.c; the mask argument helpers live in lutil.c. */
#include "lmorph.h"

#include <math.h>
#include <string.h>

#include "../kernels/arith.h"
#include "../kernels/morph.h"
#include "../kernels/strel.h"
#include "lfill.h"
#include "lvolume.h"

/* ---- vol.strel --------------------------------------------------------- */

static int check_radius(lua_State *L, int idx)
{
    lua_Integer r = luaL_checkinteger(L, idx);
    luaL_argcheck(L, r >= 0 && r <= 500, idx, "radius must be an integer 0 to 500");
    return (int)r;
}

/* Pushes a new uint8 element of ndim with sides n. */
static MdVolume *new_strel(lua_State *L, int ndim, const int64_t *n)
{
    MdVolume *v = md_lua_newvolume(L);
    md_volume_init(v, MD_UINT8, ndim, n);
    md_lua_alloc(L, v, 1);
    return v;
}

static int push_ball(lua_State *L, int ndim, int r)
{
    int64_t n[3] = {2 * r + 1, 2 * r + 1, 2 * r + 1};
    MdError err;
    if (md_strel_ball(new_strel(L, ndim, n), r, &err) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

static int l_ball(lua_State *L) { return push_ball(L, 3, check_radius(L, 1)); }
static int l_disk(lua_State *L) { return push_ball(L, 2, check_radius(L, 1)); }

static int l_box(lua_State *L)
{
    int64_t n[3] = {0, 0, 0};
    int ndim = 3;
    if (lua_type(L, 1) == LUA_TNUMBER) {
        n[0] = n[1] = n[2] = luaL_checkinteger(L, 1);
    } else {
        luaL_checktype(L, 1, LUA_TTABLE);
        ndim = (int)lua_rawlen(L, 1);
        luaL_argcheck(L, ndim == 2 || ndim == 3, 1, "box needs 2 or 3 sides");
        double d[3];
        md_lua_argnumbers(L, 1, 1, d, ndim, "box sides");
        for (int a = 0; a < ndim; a++) n[a] = (int64_t)d[a];
    }
    for (int a = 0; a < ndim; a++)
        luaL_argcheck(L, n[a] >= 1 && n[a] <= 1001, 1, "box sides must be integers 1 to 1001");
    MdVolume *v = new_strel(L, ndim, n);
    memset(md_volume_data(v), 1, md_volume_count(v));
    return 1;
}

static int l_cross(lua_State *L)
{
    lua_Integer c = luaL_optinteger(L, 1, 6);
    luaL_argcheck(L, c == 4 || c == 6, 1, "cross connectivity must be 4 (2-D) or 6 (3-D)");
    int64_t n[3] = {3, 3, 3};
    MdError err;
    if (md_strel_cross(new_strel(L, c == 4 ? 2 : 3, n), &err) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

static int l_ball_mm(lua_State *L)
{
    double r = luaL_checknumber(L, 1), sp[3] = {1, 1, 1};
    int ndim;
    luaL_argcheck(L, r >= 0 && isfinite(r), 1, "radius_mm must be >= 0");
    MdVolume *ref = md_lua_tovolume(L, 2);
    if (ref) {
        ndim = ref->ndim == 2 ? 2 : 3;
        memcpy(sp, ref->spacing, sizeof sp);
    } else {
        luaL_argexpected(L, lua_type(L, 2) == LUA_TTABLE, 2, "table of 2 or 3 spacings or Volume");
        ndim = (int)lua_rawlen(L, 2);
        luaL_argcheck(L, ndim == 2 || ndim == 3, 2, "spacing needs 2 or 3 numbers");
        md_lua_argnumbers(L, 2, 2, sp, ndim, "spacing");
    }
    for (int a = 0; a < ndim; a++)
        luaL_argcheck(L, sp[a] > 0 && isfinite(sp[a]), 2, "spacing must be > 0");
    int64_t h[3];
    md_strel_ball_mm_extent(r, sp, ndim, h);
    for (int a = 0; a < ndim; a++) luaL_argcheck(L, h[a] <= 500, 1, "radius_mm spans more than 500 voxels");
    int64_t n[3] = {2 * h[0] + 1, 2 * h[1] + 1, 2 * h[2] + 1};
    MdVolume *v = new_strel(L, ndim, n);
    memcpy(v->spacing, sp, sizeof sp);
    MdError err;
    if (md_strel_ball_mm(v, r, sp, &err) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

static int l_from_mask(lua_State *L)
{
    MdVolume *m = md_lua_checkmask(L, 1);
    MdVolume *v = md_lua_newlike(L, m, MD_UINT8, 0);
    MdError err;
    if (md_strel_from_mask(m, v, &err) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

/* ---- morphology --------------------------------------------------------- */

/* The element at idx: a Volume, or a radius (ball, or disk when flat). A
 * radius is replaced at idx by the element it names. Stack: unchanged. */
static MdVolume *check_strel(lua_State *L, int idx, int flat)
{
    if (lua_type(L, idx) == LUA_TNUMBER) {
        push_ball(L, flat ? 2 : 3, check_radius(L, idx));
        lua_replace(L, idx);
    }
    MdVolume *se = md_lua_tovolume(L, idx);
    if (!se) luaL_typeerror(L, idx, "Volume (structuring element) or radius");
    return md_lua_checkvolume(L, idx);
}

static int morph(lua_State *L, MdMorphOp op)
{
    static const char *const keys[] = {"per_slice", "axis", "border", "iterations", "method", NULL};
    static const char *const borders[] = {"scipy", "skimage", NULL};
    static const char *const methods[] = {"auto", "runs", "edt", NULL};
    MdVolume *m = md_lua_checkmask(L, 1);
    md_lua_checkopts(L, 3, keys);
    MdMorphOpts o;
    o.op = op;
    o.axis = md_lua_sliceaxis(L, 3, m);
    o.skimage = md_lua_optchoice(L, 3, "border", 0, borders);
    o.iterations = (int)md_lua_optintfield(L, 3, "iterations", 1, 1);
    o.method = (MdMorphMethod)md_lua_optchoice(L, 3, "method", 0, methods);
    luaL_argcheck(L, o.iterations <= 1000, 3, "iterations must be at most 1000");
    MdVolume *se = check_strel(L, 2, m->ndim == 2 || o.axis != 0);
    MdVolume *out = md_lua_newlike(L, m, MD_UINT8, 0);
    MdError err;
    if (md_morph(m, se, &o, out, &err) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

static int l_erode(lua_State *L) { return morph(L, MD_MORPH_ERODE); }
static int l_dilate(lua_State *L) { return morph(L, MD_MORPH_DILATE); }
static int l_open(lua_State *L) { return morph(L, MD_MORPH_OPEN); }
static int l_close(lua_State *L) { return morph(L, MD_MORPH_CLOSE); }

#define MORPH_OPTS                                                                                    \
    "  se    a structuring element (vol.strel.*, any 2-D/3-D volume: non-zero = member,\n"               \
    "        centre at index floor(size/2)+1), or a radius: ball(r) in 3-D, disk(r) per slice/2-D\n"   \
    "  opts  per_slice=true  apply a 2-D element in each slice (axis=3 unless given)\n"                \
    "        axis=1|2|3      the axis slices are taken across (implies per_slice)\n"                  \
    "        iterations=n    repeat each step n times (scipy's iterations=), default 1\n"             \
    "        method=\"auto\"|\"runs\"|\"edt\"  bit-parallel runs, or the distance transform (balls\n" \
    "                        and disks only); same result, auto picks the faster\n"
#define MORPH_BORDER                                                                       \
    "        border=\"scipy\"   outside voxels are background during erosion (scipy's\n"     \
    "                        border_value=0: objects erode from the faces); \"skimage\":\n" \
    "                        they are object (skimage.morphology.binary_*)\n"
#define MORPH_NOTE                                                                          \
    "A 2-D element on a 3-D mask acts in each z slice. The input may be any dtype\n"          \
    "(non-zero = object); the result is a new uint8 0/1 mask with the input's geometry.\n"    \
    "Errors: an empty element, a 3-D element per slice or on a 2-D mask, method \"edt\"\n"  \
    "with another element, unknown options.\n"

static const MdLuaReg methods[] = {
    {"erode", l_erode,
     "m:erode(se [, opts]) -> uint8 mask\n"
     "Binary erosion: 1 where every member of se, centred there, lies on the object.\n" MORPH_OPTS
     MORPH_BORDER MORPH_NOTE
     "  local core = lung:erode(vol.strel.ball(2))\n"
     "  local thin = lung:erode(2, {per_slice=true})     -- disk(2) in each z slice"},
    {"dilate", l_dilate,
     "m:dilate(se [, opts]) -> uint8 mask\n"
     "Binary dilation: 1 where se reflected, centred there, meets the object (scipy's\n"
     "binary_dilation; outside voxels are background).\n" MORPH_OPTS MORPH_NOTE
     "  local grown = m:dilate(vol.strel.ball_mm(5, m))   -- 5 mm, honouring spacing"},
    {"open", l_open,
     "m:open(se [, opts]) -> uint8 mask\n"
     "Binary opening: dilation of the erosion (scipy.ndimage.binary_opening).\n" MORPH_OPTS
     MORPH_BORDER MORPH_NOTE
     "  local smooth = m:open(1)"},
    {"close", l_close,
     "m:close(se [, opts]) -> uint8 mask\n"
     "Binary closing: erosion of the dilation, without padding (scipy.ndimage.binary_closing,\n"
     "so with border=\"scipy\" objects touching a face are eroded there; border=\"skimage\"\n"
     "gives skimage.morphology.binary_closing).\n" MORPH_OPTS MORPH_BORDER MORPH_NOTE
     "  local closed = lung:close(10, {per_slice=true, border=\"skimage\"})"},
    {NULL, NULL, NULL}};

static const MdLuaReg strel[] = {
    {"ball", l_ball,
     "vol.strel.ball(r) -> uint8 Volume\n"
     "The 3-D ball of integer radius r (sides 2r+1): offsets with dx^2+dy^2+dz^2 <= r^2,\n"
     "exactly skimage.morphology.ball(r).\n"
     "  print(vol.strel.ball(1):stats().sum)   -- 7"},
    {"disk", l_disk,
     "vol.strel.disk(r) -> uint8 Volume\n"
     "The 2-D disk of integer radius r: dx^2+dy^2 <= r^2, exactly skimage.morphology.disk(r).\n"
     "  local d = vol.strel.disk(10)   -- 21x21"},
    {"box", l_box,
     "vol.strel.box(n | {nx, ny [, nz]}) -> uint8 Volume\n"
     "A box of ones: n^3, or the given sides (2 sides: 2-D). Even sides are allowed;\n"
     "the centre is then at index floor(side/2)+1, as scipy's default origin.\n"
     "  local b = vol.strel.box{5, 5, 1}"},
    {"cross", l_cross,
     "vol.strel.cross([conn=6]) -> uint8 Volume\n"
     "The 3x3x3 cross of the 6 face neighbours (conn 6), or the 3x3 cross (conn 4):\n"
     "scipy.ndimage.generate_binary_structure(ndim, 1).\n"
     "  local c = vol.strel.cross(4)"},
    {"ball_mm", l_ball_mm,
     "vol.strel.ball_mm(radius_mm, spacing) -> uint8 Volume\n"
     "A ball in millimetres on an anisotropic grid: offsets (i, j, k) with\n"
     "(i*sx)^2 + (j*sy)^2 + (k*sz)^2 <= radius_mm^2 (relative slack 1e-9).\n"
     "spacing: {sx, sy, sz} (3-D), {sx, sy} (2-D), or a Volume whose spacing is used.\n"
     "  local se = vol.strel.ball_mm(3, ct)   -- 3 mm on ct's grid"},
    {"from_mask", l_from_mask,
     "vol.strel.from_mask(v) -> uint8 Volume\n"
     "A structuring element from any 2-D or 3-D volume: 1 where v is non-zero. The centre\n"
     "is at index floor(side/2)+1 on each axis.\n"
     "  local se = vol.strel.from_mask(vol.new{shape={3, 1, 1}, fill=1})"},
    {NULL, NULL, NULL}};

void md_open_morph(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    lua_newtable(L);
    md_lua_register(L, strel);
    lua_setfield(L, module, "strel");
    md_push_methods(L, module);
    md_lua_register(L, methods);
    lua_pop(L, 1);
    md_open_fill(L, module);
}
