/* Binding of the patch grid (kernels/patch): vol.patch_grid and the grid's
 * methods for boxes and crops, and vol.sample_patches. Mergers are bound in
 * lpatch_merge.c; grid:map and grid:save_patches are written in Lua
 * (lua/vol/patch.lua). */
#include "lpatch.h"

#include <math.h>
#include <string.h>

#include "../core/geom.h"
#include "../kernels/arith.h"
#include "../kernels/patch_merge.h"
#include "lpatch_merge.h"
#include "lvolume.h"

static const char *const mode_names[] = {"cover", "pad", "drop", NULL};

MdGridUd *md_lua_checkgrid(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, MD_GRID_MT);
}

/* Reads option key of the table at idx as one integer for every axis or a
 * list of ndim integers >= lo. Returns 0 when absent. */
static int opt_sizes(lua_State *L, int idx, const char *key, int ndim, int64_t lo, int64_t out[3])
{
    int t = lua_getfield(L, idx, key);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    for (int a = 0; a < 3; a++) {
        int ok = 0;
        lua_Integer x = 0;
        if (t == LUA_TNUMBER) {
            x = lua_tointegerx(L, -1, &ok);
        } else if (t == LUA_TTABLE && (int)lua_rawlen(L, -1) == ndim) {
            if (a >= ndim) {
                out[a] = 1;
                continue;
            }
            lua_rawgeti(L, -1, a + 1);
            x = lua_tointegerx(L, -1, &ok);
            lua_pop(L, 1);
        }
        if (!ok || x < lo)
            luaL_argerror(L, idx, lua_pushfstring(L, "'%s' must be an integer >= %d or a list of %d of them",
                                                  key, (int)lo, ndim));
        out[a] = a < ndim ? (int64_t)x : 1;
    }
    lua_pop(L, 1);
    return 1;
}

/* The spatial axes named by shape (2 or 3 sizes). */
static int check_shape(lua_State *L, int idx, int64_t size[3])
{
    if (lua_getfield(L, idx, "shape") != LUA_TTABLE)
        luaL_argerror(L, idx, "'shape' (a list of 2 or 3 sizes, e.g. v.shape) is required");
    int ndim = (int)lua_rawlen(L, -1);
    lua_pop(L, 1);
    if (ndim != 2 && ndim != 3)
        luaL_argerror(L, idx, lua_pushfstring(L, "shape must have 2 or 3 sizes (got %d; for a "
                                                 "volume with channels give its spatial sizes)", ndim));
    opt_sizes(L, idx, "shape", ndim, 1, size);
    return ndim;
}

static int l_patch_grid(lua_State *L)
{
    static const char *const keys[] = {"shape", "patch", "overlap", "stride", "mode", "pad_value", NULL};
    luaL_checktype(L, 1, LUA_TTABLE);
    md_lua_checkopts(L, 1, keys);
    int64_t size[3], patch[3], overlap[3] = {0, 0, 0}, stride[3];
    int ndim = check_shape(L, 1, size);
    if (!opt_sizes(L, 1, "patch", ndim, 1, patch)) luaL_argerror(L, 1, "'patch' is required");
    int has_overlap = opt_sizes(L, 1, "overlap", ndim, 0, overlap);
    if (opt_sizes(L, 1, "stride", ndim, 1, stride)) {
        if (has_overlap) luaL_argerror(L, 1, "give 'overlap' or 'stride', not both");
    } else {
        for (int a = 0; a < 3; a++) {
            if (a < ndim && overlap[a] >= patch[a])
                luaL_argerror(L, 1, lua_pushfstring(L, "overlap %d must be smaller than the patch %d on axis %d",
                                                    (int)overlap[a], (int)patch[a], a + 1));
            stride[a] = patch[a] - overlap[a];
        }
    }
    lua_getfield(L, 1, "mode");
    int mode = luaL_checkoption(L, -1, "cover", mode_names);
    lua_pop(L, 1);
    MdGridUd *u = lua_newuserdatauv(L, sizeof *u, 0);
    memset(u, 0, sizeof *u);
    luaL_setmetatable(L, MD_GRID_MT);
    u->pad = md_lua_optnumfield(L, 1, "pad_value", 0);
    MdError err;
    if (md_patch_grid_init(&u->g, ndim, size, patch, stride, (MdPatchMode)mode, &err) != MD_OK)
        return md_lua_raise(L, &err);
    return 1;
}

static void push_sizes(lua_State *L, const int64_t *x, int n)
{
    lua_createtable(L, n, 0);
    for (int a = 0; a < n; a++) {
        lua_pushinteger(L, (lua_Integer)x[a]);
        lua_rawseti(L, -2, a + 1);
    }
}

void md_lua_pushbox(lua_State *L, const MdPatchGrid *g, size_t n)
{
    int64_t s[3], e[3];
    md_patch_start(g, n, s);
    for (int a = 0; a < 3; a++) {
        e[a] = s[a] + g->patch[a]; /* 1-based inclusive end = 0-based start + patch */
        s[a] += 1;
    }
    lua_createtable(L, 0, 2);
    push_sizes(L, s, g->ndim);
    lua_setfield(L, -2, "lo");
    push_sizes(L, e, g->ndim);
    lua_setfield(L, -2, "hi");
}

/* The 0-based patch index at idx, checked against the grid. */
static size_t check_n(lua_State *L, const MdPatchGrid *g, int idx)
{
    lua_Integer n = luaL_checkinteger(L, idx);
    size_t total = md_patch_count(g);
    if (n < 1 || (size_t)n > total)
        luaL_argerror(L, idx, lua_pushfstring(L, "patch %I out of range 1..%I", (LUAI_UACINT)n,
                                              (LUAI_UACINT)total));
    return (size_t)n - 1;
}

static int l_count(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)md_patch_count(&md_lua_checkgrid(L, 1)->g));
    return 1;
}

static int l_box(lua_State *L)
{
    MdGridUd *u = md_lua_checkgrid(L, 1);
    md_lua_pushbox(L, &u->g, check_n(L, &u->g, 2));
    return 1;
}

/* Iterator step of grid:boxes(): upvalues grid, next index. */
static int boxes_step(lua_State *L)
{
    MdGridUd *u = lua_touserdata(L, lua_upvalueindex(1));
    lua_Integer n = lua_tointeger(L, lua_upvalueindex(2));
    if ((size_t)n >= md_patch_count(&u->g)) return 0;
    lua_pushinteger(L, n + 1);
    lua_copy(L, -1, lua_upvalueindex(2));
    md_lua_pushbox(L, &u->g, (size_t)n);
    return 2;
}

static int l_boxes(lua_State *L)
{
    md_lua_checkgrid(L, 1);
    lua_settop(L, 1);
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, boxes_step, 2);
    return 1;
}

MdVolume *md_lua_newpatch(lua_State *L, const MdPatchGrid *g, int64_t channels, MdDtype t,
                          const MdVolume *like, const int64_t start[3])
{
    int64_t dim[4] = {g->patch[0], g->patch[1], g->patch[2], channels};
    int ndim = channels > 1 ? 4 : g->ndim;
    MdVolume *p = md_lua_newvolume(L);
    md_volume_init(p, t, ndim, dim);
    if (like) {
        md_volume_copy_geometry(p, like);
        double ijk[3] = {(double)start[0], (double)start[1], (double)start[2]};
        md_geom_index_to_world(like, ijk, p->origin);
    }
    md_lua_alloc(L, p, 0);
    return p;
}

/* Checks v against the grid's volume; returns its channels. */
static int64_t check_volume(lua_State *L, const MdGridUd *u, int idx)
{
    MdVolume *v = md_lua_checkvolume(L, idx);
    int64_t c;
    MdError err;
    if (md_patch_layout(&u->g, v, u->g.size, "the volume", &c, &err) != MD_OK) md_lua_raise(L, &err);
    return c;
}

static int l_extract(lua_State *L)
{
    static const char *const keys[] = {"first", "count", NULL};
    MdGridUd *u = md_lua_checkgrid(L, 1);
    MdVolume *v = md_lua_checkvolume(L, 2);
    check_volume(L, u, 2);
    md_lua_checkopts(L, 3, keys);
    size_t total = md_patch_count(&u->g);
    double first = md_lua_optnumfield(L, 3, "first", 1);
    double count = md_lua_optnumfield(L, 3, "count", (double)total - first + 1);
    if (first != floor(first) || first < 1 || first > (double)total || count != floor(count) ||
        count < 1 || first + count - 1 > (double)total)
        luaL_argerror(L, 3, lua_pushfstring(L, "first/count must select patches within 1..%I",
                                            (LUAI_UACINT)total));
    int64_t dim[4] = {u->g.patch[0], u->g.patch[1], u->g.patch[2], 1};
    dim[u->g.ndim] = (int64_t)count;
    MdVolume *s = md_lua_newvolume(L);
    md_volume_init(s, v->dtype, u->g.ndim + 1, dim);
    md_volume_copy_geometry(s, v);
    int64_t start[3];
    md_patch_start(&u->g, (size_t)first - 1, start);
    double ijk[3] = {(double)start[0], (double)start[1], (double)start[2]};
    md_geom_index_to_world(v, ijk, s->origin);
    MdError err;
    if (md_volume_check_dims(s->ndim, s->dim, &err) != MD_OK) return md_lua_raise(L, &err);
    md_lua_alloc(L, s, 0);
    if (md_patch_extract_stack(v, &u->g, (size_t)first - 1, (size_t)count, u->pad, s, &err) != MD_OK)
        return md_lua_raise(L, &err);
    return 1;
}

/* Iterator step of grid:patches(v): upvalues grid, volume, next index. */
static int patches_step(lua_State *L)
{
    MdGridUd *u = lua_touserdata(L, lua_upvalueindex(1));
    MdVolume *v = md_lua_checkvolume(L, lua_upvalueindex(2));
    lua_Integer n = lua_tointeger(L, lua_upvalueindex(3));
    if ((size_t)n >= md_patch_count(&u->g)) return 0;
    int64_t c = check_volume(L, u, lua_upvalueindex(2)), start[3];
    md_patch_start(&u->g, (size_t)n, start);
    lua_pushinteger(L, n + 1);
    lua_copy(L, -1, lua_upvalueindex(3));
    MdVolume *p = md_lua_newpatch(L, &u->g, c, v->dtype, v, start);
    MdError err;
    if (md_patch_extract(v, &u->g, (size_t)n, u->pad, p, &err) != MD_OK) return md_lua_raise(L, &err);
    md_lua_pushbox(L, &u->g, (size_t)n);
    return 3;
}

static int l_patches(lua_State *L)
{
    MdGridUd *u = md_lua_checkgrid(L, 1);
    check_volume(L, u, 2);
    lua_settop(L, 2);
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, patches_step, 3);
    return 1;
}

static int l_uncovered(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)md_patch_uncovered(&md_lua_checkgrid(L, 1)->g));
    return 1;
}

static int l_coverage(lua_State *L)
{
    MdGridUd *u = md_lua_checkgrid(L, 1);
    const MdVolume *like = lua_isnoneornil(L, 2) ? NULL : md_lua_checkvolume(L, 2);
    if (like) check_volume(L, u, 2);
    MdVolume *m = md_lua_newvolume(L);
    md_volume_init(m, MD_UINT8, like && like->ndim == 3 ? 3 : u->g.ndim, u->g.size);
    if (like) md_volume_copy_geometry(m, like);
    md_lua_alloc(L, m, 0);
    MdError err;
    if (md_patch_coverage(&u->g, m, &err) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

void md_lua_sigma_scale(lua_State *L, int idx, int ndim, double sigma[3])
{
    sigma[0] = sigma[1] = sigma[2] = 0.125;
    int t = lua_istable(L, idx) ? lua_getfield(L, idx, "sigma_scale") : (lua_pushnil(L), LUA_TNIL);
    if (t == LUA_TNUMBER)
        sigma[0] = sigma[1] = sigma[2] = lua_tonumber(L, -1);
    else if (t == LUA_TTABLE)
        md_lua_argnumbers(L, idx, -1, sigma, ndim, "sigma_scale");
    else if (t != LUA_TNIL)
        luaL_argerror(L, idx, "sigma_scale must be a number or a list of numbers");
    lua_pop(L, 1);
    for (int a = 0; a < ndim; a++)
        if (!(sigma[a] > 0) || !isfinite(sigma[a]))
            luaL_argerror(L, idx, lua_pushfstring(L, "sigma_scale must be > 0 (got %f on axis %d)",
                                                  sigma[a], a + 1));
}

int md_lua_weightkind(lua_State *L, int idx)
{
    static const char *const kinds[] = {"mean", "constant", "gaussian", NULL};
    const char *kind = md_lua_optstrfield(L, idx, "weight", "mean");
    for (int k = 0; kinds[k]; k++)
        if (strcmp(kinds[k], kind) == 0) return k == 2;
    return luaL_argerror(L, idx, lua_pushfstring(L, "weight must be 'mean', 'constant' or 'gaussian' "
                                                    "(got '%s')", kind));
}

static int l_weights(lua_State *L)
{
    static const char *const keys[] = {"weight", "sigma_scale", NULL};
    MdGridUd *u = md_lua_checkgrid(L, 1);
    md_lua_checkopts(L, 2, keys);
    int gaussian = md_lua_weightkind(L, 2);
    lua_settop(L, 2);
    double sigma[3];
    md_lua_sigma_scale(L, 2, u->g.ndim, sigma);
    MdVolume *w = md_lua_newpatch(L, &u->g, 1, MD_FLOAT32, NULL, NULL);
    MdError err;
    if (gaussian)
        md_patch_gaussian(u->g.ndim, u->g.patch, sigma, md_volume_data(w));
    else if (md_arith_unary(w, MD_UN_FILL, 1, 0, w, &err) != MD_OK)
        return md_lua_raise(L, &err);
    return 1;
}

static int l_merge_memory(lua_State *L)
{
    static const char *const keys[] = {"channels", "dtype", "streaming", "weight", NULL};
    MdGridUd *u = md_lua_checkgrid(L, 1);
    md_lua_checkopts(L, 2, keys);
    double c = md_lua_optnumfield(L, 2, "channels", 1);
    luaL_argcheck(L, c >= 1 && c == floor(c), 2, "channels must be an integer >= 1");
    MdDtype t = md_lua_optdtype(L, 2, MD_FLOAT32);
    int streaming = md_lua_optboolfield(L, 2, "streaming", 0);
    int weighted = md_lua_weightkind(L, 2);
    lua_pushinteger(L, (lua_Integer)md_merge_bytes(&u->g, (int64_t)c, md_merge_needs_double(t),
                                                   streaming, weighted));
    return 1;
}

/* The image and label stacks of vol.sample_patches, filled box by box. */
static MdVolume *sample_stack(lua_State *L, const MdVolume *v, const MdPatchSampleOpts *o,
                              const int64_t *starts, double pad)
{
    int64_t dim[4] = {o->patch[0], o->patch[1], o->patch[2], 1};
    dim[o->ndim] = (int64_t)o->n;
    MdVolume *s = md_lua_newvolume(L);
    md_volume_init(s, v->dtype, o->ndim + 1, dim);
    md_volume_copy_geometry(s, v);
    MdError err;
    if (md_volume_check_dims(s->ndim, s->dim, &err) != MD_OK) md_lua_raise(L, &err);
    md_lua_alloc(L, s, 0);
    size_t bytes = md_volume_nbytes(s) / o->n;
    for (size_t k = 0; k < o->n; k++)
        if (md_patch_copy_box(v, starts + 3 * k, o->patch, pad,
                              (char *)md_volume_data(s) + k * bytes, &err) != MD_OK)
            md_lua_raise(L, &err);
    return s;
}

/* Reads the sampling options of vol.sample_patches (table at 1). */
static void sample_opts(lua_State *L, const MdVolume *img, MdPatchSampleOpts *o)
{
    memset(o, 0, sizeof *o);
    o->ndim = img->ndim;
    if (!opt_sizes(L, 1, "patch", o->ndim, 1, o->patch)) luaL_argerror(L, 1, "'patch' is required");
    double n = md_lua_optnumfield(L, 1, "n", 0);
    if (!(n >= 1) || n != floor(n)) luaL_argerror(L, 1, "'n' (the number of patches, >= 1) is required");
    o->n = (size_t)n;
    o->fg_fraction = md_lua_optnumfield(L, 1, "foreground_fraction", 0.33);
    if (!(o->fg_fraction >= 0 && o->fg_fraction <= 1))
        luaL_argerror(L, 1, "foreground_fraction must be within 0..1");
    double seed = md_lua_optnumfield(L, 1, "seed", 0);
    if (seed != floor(seed) || seed < 0) luaL_argerror(L, 1, "seed must be an integer >= 0");
    o->seed = (uint64_t)seed;
}

static int l_sample_patches(lua_State *L)
{
    static const char *const keys[] = {"image", "label", "patch", "n", "foreground_fraction", "seed",
                                       "classes", "pad_value", "label_pad_value", NULL};
    luaL_checktype(L, 1, LUA_TTABLE);
    md_lua_checkopts(L, 1, keys);
    lua_settop(L, 1);
    lua_getfield(L, 1, "image"); /* 2 */
    lua_getfield(L, 1, "label"); /* 3 */
    MdVolume *img = md_lua_checkvolume(L, 2), *lab = lua_isnil(L, 3) ? NULL : md_lua_checkvolume(L, 3);
    if (img->ndim != 2 && img->ndim != 3) luaL_argerror(L, 1, "image must be a 2-D or 3-D volume");
    if (lab && (lab->ndim != img->ndim || memcmp(lab->dim, img->dim, sizeof img->dim) != 0))
        luaL_argerror(L, 1, "label must have the image's shape");
    MdPatchSampleOpts o;
    sample_opts(L, img, &o);
    int64_t *cls = NULL;
    if (lua_getfield(L, 1, "classes") == LUA_TTABLE) { /* 4 */
        o.nclasses = lua_rawlen(L, 4);
        cls = lua_newuserdatauv(L, (o.nclasses ? o.nclasses : 1) * sizeof *cls, 0); /* 5 */
        for (size_t i = 0; i < o.nclasses; i++) {
            lua_rawgeti(L, 4, (lua_Integer)i + 1);
            cls[i] = (int64_t)luaL_checkinteger(L, -1);
            lua_pop(L, 1);
        }
        o.classes = cls;
    }
    lua_settop(L, 5);
    int64_t *starts = lua_newuserdatauv(L, 3 * o.n * sizeof *starts, 0); /* 6 */
    uint8_t *fg = lua_newuserdatauv(L, o.n, 0);                           /* 7 */
    MdError err;
    if (lab) {
        if (md_patch_sample(lab, &o, starts, fg, &err) != MD_OK) return md_lua_raise(L, &err);
    } else {
        md_patch_sample_uniform(img->dim, &o, starts);
        memset(fg, 0, o.n);
    }
    lua_createtable(L, 0, 4); /* 8: the result */
    sample_stack(L, img, &o, starts, md_lua_optnumfield(L, 1, "pad_value", 0));
    lua_setfield(L, 8, "image");
    if (lab) {
        sample_stack(L, lab, &o, starts, md_lua_optnumfield(L, 1, "label_pad_value", 0));
        lua_setfield(L, 8, "label");
    }
    lua_createtable(L, (int)o.n, 0);
    lua_createtable(L, (int)o.n, 0);
    for (size_t k = 0; k < o.n; k++) {
        int64_t lo[3], hi[3];
        for (int a = 0; a < 3; a++) lo[a] = starts[3 * k + a] + 1, hi[a] = starts[3 * k + a] + o.patch[a];
        lua_createtable(L, 0, 2);
        push_sizes(L, lo, o.ndim);
        lua_setfield(L, -2, "lo");
        push_sizes(L, hi, o.ndim);
        lua_setfield(L, -2, "hi");
        lua_rawseti(L, -3, (lua_Integer)k + 1);
        lua_pushboolean(L, fg[k]);
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    lua_setfield(L, 8, "foreground");
    lua_setfield(L, 8, "boxes");
    return 1;
}

/* __index: methods first, then the read-only fields. */
static int l_grid_index(lua_State *L)
{
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
    MdGridUd *u = md_lua_checkgrid(L, 1);
    const char *k = lua_tostring(L, 2);
    int64_t overlap[3];
    for (int a = 0; a < 3; a++) overlap[a] = u->g.patch[a] - u->g.stride[a];
    if (!k) return 0;
    if (strcmp(k, "shape") == 0) push_sizes(L, u->g.size, u->g.ndim);
    else if (strcmp(k, "patch") == 0) push_sizes(L, u->g.patch, u->g.ndim);
    else if (strcmp(k, "stride") == 0) push_sizes(L, u->g.stride, u->g.ndim);
    else if (strcmp(k, "overlap") == 0) push_sizes(L, overlap, u->g.ndim);
    else if (strcmp(k, "counts") == 0) push_sizes(L, u->g.count, u->g.ndim);
    else if (strcmp(k, "mode") == 0) lua_pushstring(L, mode_names[u->g.mode]);
    else if (strcmp(k, "ndim") == 0) lua_pushinteger(L, u->g.ndim);
    else if (strcmp(k, "pad_value") == 0) lua_pushnumber(L, u->pad);
    else return 0;
    return 1;
}

static int l_grid_tostring(lua_State *L)
{
    MdGridUd *u = md_lua_checkgrid(L, 1);
    const MdPatchGrid *g = &u->g;
    if (g->ndim == 3)
        lua_pushfstring(L, "PatchGrid %s %dx%dx%d, patch %dx%dx%d, stride %dx%dx%d: %d patches",
                        mode_names[g->mode], (int)g->size[0], (int)g->size[1], (int)g->size[2],
                        (int)g->patch[0], (int)g->patch[1], (int)g->patch[2], (int)g->stride[0],
                        (int)g->stride[1], (int)g->stride[2], (int)md_patch_count(g));
    else
        lua_pushfstring(L, "PatchGrid %s %dx%d, patch %dx%d, stride %dx%d: %d patches",
                        mode_names[g->mode], (int)g->size[0], (int)g->size[1], (int)g->patch[0],
                        (int)g->patch[1], (int)g->stride[0], (int)g->stride[1], (int)md_patch_count(g));
    return 1;
}

static const MdLuaReg grid_methods[] = {
    {"count", l_count, "grid:count() -> integer\nThe number of patches."},
    {"box", l_box,
     "grid:box(n) -> {lo={i, j[, k]}, hi={i, j[, k]}}\n"
     "The voxels of patch n (1-based): 1-based inclusive bounds. In 'pad' mode, and\n"
     "when the patch is larger than the volume, hi may lie beyond the volume (those\n"
     "voxels read as pad_value and are ignored by merging).\n"
     "  local b = grid:box(1)   -- b.lo = {1, 1, 1}, b.hi = {96, 96, 96}"},
    {"boxes", l_boxes,
     "grid:boxes() -> iterator\nfor n, box in grid:boxes() do ... end: every patch's box, in patch order\n"
     "(x fastest: the order of the classic loop \"for z: for y: for x\")."},
    {"extract", l_extract,
     "grid:extract(v [, {first=1, count=}]) -> Volume\n"
     "Crops patches of the single-channel volume v into one stack: (px, py, N) for a\n"
     "2-D grid, (px, py, pz, N) for 3-D, v's dtype; the stack's last axis is the\n"
     "patch index (np.stack order: written as .npy it is (N, pz, py, px)). first and\n"
     "count select a batch. Geometry: v's, with the origin of the first patch taken.\n"
     "Errors: v not of the grid's shape, v with channels (use grid:patches).\n"
     "  grid:extract(ct):write(\"patches.npy\")"},
    {"patches", l_patches,
     "grid:patches(v) -> iterator\n"
     "for n, patch, box in grid:patches(v) do ... end: one patch at a time, never all\n"
     "of them at once. Each patch is a new Volume (channels of v kept on axis 4) whose\n"
     "origin is the world position of its first voxel (spacing and direction of v),\n"
     "so patch:write(\"p.nii.gz\") places it correctly.\n"
     "  for n, p in grid:patches(ct) do p:write((\"p%03d.nii.gz\"):format(n)) end"},
    {"uncovered", l_uncovered,
     "grid:uncovered() -> integer\nThe number of voxels no patch covers: 0 in 'cover' and 'pad' modes, the far\n"
     "remainders the classic recipe drops in 'drop' mode."},
    {"coverage", l_coverage,
     "grid:coverage([like]) -> Volume (uint8)\n1 where some patch of the grid covers the voxel, 0 elsewhere. With like (a\n"
     "Volume of the grid's shape) the mask takes its geometry (and its (x, y, 1) layout).\n"
     "  local lost = grid:coverage(ct):eq(0)"},
    {"weights", l_weights,
     "grid:weights{[weight=\"mean\"], [sigma_scale=0.125]} -> Volume (float32)\n"
     "The per-voxel weight a merger gives each patch: 1 for \"mean\"/\"constant\"; for\n"
     "\"gaussian\", MONAI's importance map: the product over axes of\n"
     "exp(-(i - (p-1)/2)^2 / (2 sigma^2)), sigma = sigma_scale * p, clamped below at\n"
     "max(min, 1e-3), in float32.\n"
     "  local w = grid:weights{weight=\"gaussian\"}"},
    {"merge_memory", l_merge_memory,
     "grid:merge_memory{[channels=1], [dtype=\"float32\"], [streaming=false], [weight=\"mean\"]} -> bytes\n"
     "The accumulator bytes a merger of this grid holds: (channels * 4 + w) * planes *\n"
     "plane voxels, with 8 instead of 4 for dtype float64, int32 or uint32 (float64\n"
     "accumulators), w = 1 or 2 (patch counts, weight \"mean\") or 4 (8) for\n"
     "\"gaussian\"; planes = the whole volume, or the patch depth\n"
     "when streaming (out=). See docs/api/patch.md for the whole peak.\n"
     "  print(grid:merge_memory{channels=100, streaming=true} / 2^30, \"GiB\")"},
    {NULL, NULL, NULL}};

static const MdLuaReg functions[] = {
    {"patch_grid", l_patch_grid,
     "vol.patch_grid{shape=, patch=, [overlap=0 | stride=], [mode=\"cover\"], [pad_value=0]} -> PatchGrid\n"
     "Where overlapping patches of a 2-D or 3-D volume lie. shape: 2 or 3 sizes (e.g.\n"
     "v.shape); patch, overlap, stride: one integer or one per axis (stride = patch -\n"
     "overlap). Patches are numbered x fastest, then y, then z.\n"
     "  mode \"cover\"  starts at multiples of the stride; the last patch along an axis\n"
     "               is shifted to end flush with the far edge: every voxel covered\n"
     "       \"pad\"    starts at multiples of the stride; the volume is padded at the\n"
     "               far end (with pad_value) to a whole number of strides\n"
     "       \"drop\"   the classic recipe, starts = range(0, size - patch + 1, stride):\n"
     "               the far remainders are not covered\n"
     "A patch larger than the volume: one patch from voxel 1, the part outside padded\n"
     "with pad_value ('cover', 'pad'); an error in 'drop' mode.\n"
     "Errors: missing shape or patch, overlap >= patch, both overlap and stride, stride\n"
     "> patch in 'cover' or 'pad' mode, unknown options.\n"
     "  local grid = vol.patch_grid{shape=ct.shape, patch=96, overlap=32}\n"
     "  print(grid:count(), grid:box(1).hi[1])"},
    {"sample_patches", l_sample_patches,
     "vol.sample_patches{image=, [label=], patch=, n=, [foreground_fraction=0.33], [seed=0],\n"
     "                   [classes=], [pad_value=0], [label_pad_value=0]} -> table\n"
     "Random training patches with nnU-Net's foreground oversampling: of n samples, the\n"
     "last n - round(n * (1 - foreground_fraction)) (Python's round: halves to even,\n"
     "n=5, fraction 0.5 forces 3) are centred on a voxel of a class\n"
     "picked uniformly among the positive label values present (or among classes),\n"
     "the others start uniformly at random. A patch larger than the image is centred\n"
     "and padded. The same seed gives the same boxes on any machine.\n"
     "Returns {image=stack, label=stack, boxes={{lo=, hi=}, ...}, foreground={bool, ...}};\n"
     "stacks as grid:extract's; boxes 1-based inclusive (they may reach outside).\n"
     "Errors: image not 2-D/3-D, label of another shape or a float dtype.\n"
     "  local s = vol.sample_patches{image=ct, label=mask, patch=64, n=8, seed=1}"},
    {NULL, NULL, NULL}};

void md_open_patch(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    md_lua_register(L, functions);
    luaL_newmetatable(L, MD_GRID_MT);
    lua_newtable(L); /* methods, also reachable as vol.PatchGrid for the Lua half */
    md_lua_register(L, grid_methods);
    md_open_patch_merge(L, -1);
    lua_pushvalue(L, -1);
    lua_setfield(L, module, "PatchGrid");
    lua_pushcclosure(L, l_grid_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_grid_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, MD_GRID_MT);
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
    luaL_getmetatable(L, MD_MERGER_MT); /* the merger's methods, for help() and the docs */
    lua_getfield(L, -1, "__methods");
    lua_setfield(L, module, "PatchMerger");
    lua_pop(L, 1);
}
