/* Binding of the patch merger (kernels/patch_merge): grid:merger, the
 * merger's methods, grid:merge. The merger's accumulators and an open
 * output file live in the userdata, so an error anywhere (a bad patch, a
 * failing callback) leaves nothing behind once it is closed or collected.
 * Lua callbacks (a function sink) run here, between kernel calls. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/geom.h"
#include "../io/npy_stream.h"
#include "../kernels/patch_merge.h"
#include "lpatch.h"
#include "lpatch_merge.h"
#include "lvolume.h"

typedef enum { SINK_NONE, SINK_VOLUME, SINK_FUNCTION, SINK_FILE } SinkKind;

/* Uservalue 1: the sink (Volume, function or path); 2: the result. */
typedef struct MergerUd {
    MdPatchMerger m;
    int live;        /* m holds resources */
    MdDtype dtype;   /* of the result */
    double fill;     /* for voxels no patch reached */
    SinkKind sink;
    MdNpyStream npy; /* SINK_FILE, once the channel count is known */
    int npy_open;
    int has_geom;
    MdVolume geom;   /* geometry of the merged volume (no buffer) */
    int keep_z;      /* 2-D grid, like= given as (x, y, 1): the result keeps that axis */
    int done;        /* result() ran */
} MergerUd;

static MergerUd *check_merger(lua_State *L, int idx)
{
    MergerUd *u = luaL_checkudata(L, idx, MD_MERGER_MT);
    if (!u->live) luaL_error(L, "attempt to use a closed merger");
    return u;
}

static int l_merger_close(lua_State *L)
{
    MergerUd *u = luaL_checkudata(L, 1, MD_MERGER_MT);
    if (u->npy_open) md_npy_stream_abort(&u->npy);
    u->npy_open = 0;
    if (u->live) md_merge_free(&u->m);
    u->live = 0;
    return 0;
}

/* Sets up the header of the merged planes [p0, p0 + planes): the grid's
 * spatial shape, c channels, dtype t and the merged volume's geometry. */
static void planes_header(const MergerUd *u, MdVolume *v, int64_t p0, int64_t planes, MdDtype t,
                          int64_t c)
{
    const MdPatchGrid *g = &u->m.grid;
    int64_t dim[4] = {g->size[0], g->size[1], g->size[2], c};
    dim[g->ndim - 1] = planes;
    md_volume_init(v, t, c > 1 ? 4 : u->keep_z ? 3 : g->ndim, dim);
    if (u->has_geom) {
        md_volume_copy_geometry(v, &u->geom);
        double ijk[3] = {0, 0, 0};
        ijk[g->ndim - 1] = (double)p0;
        md_geom_index_to_world(&u->geom, ijk, v->origin);
    }
}

/* The same with the result's dtype and the merger's channels. */
static void result_header(const MergerUd *u, MdVolume *v, int64_t p0, int64_t planes)
{
    planes_header(u, v, p0, planes, u->dtype, u->m.channels ? u->m.channels : 1);
}

/* Opens the .npy of a file sink once the channel count is known. The
 * path is at idx. */
static void open_file_sink(lua_State *L, MergerUd *u, int idx)
{
    MdVolume whole;
    MdError err;
    result_header(u, &whole, 0, u->m.nplanes);
    if (md_npy_stream_open(&u->npy, lua_tostring(L, idx), &whole, u->m.grid.ndim - 1, &err) != MD_OK) {
        md_error_prefix(&err, lua_tostring(L, idx));
        md_lua_raise(L, &err);
    }
    u->npy_open = 1;
}

/* Writes planes [lo, p_end) to the sink and moves the window on. A
 * function sink is called here with the slab, first and last plane. */
static void flush_slab(lua_State *L, MergerUd *u, int self, int64_t p_end)
{
    MdPatchMerger *m = &u->m;
    int64_t p0 = m->lo;
    if (p_end <= p0) return;
    MdError err;
    int top = lua_gettop(L);
    lua_getiuservalue(L, self, 1); /* the sink */
    if (u->sink == SINK_VOLUME) {
        if (md_merge_emit(m, p0, p_end, u->fill, md_lua_checkvolume(L, -1), p0, &err) != MD_OK)
            md_lua_raise(L, &err);
    } else {
        MdVolume *slab = md_lua_newvolume(L);
        result_header(u, slab, p0, p_end - p0);
        md_lua_alloc(L, slab, 0);
        if (md_merge_emit(m, p0, p_end, u->fill, slab, 0, &err) != MD_OK) md_lua_raise(L, &err);
        if (u->sink == SINK_FUNCTION) {
            lua_pushvalue(L, -2);
            lua_pushvalue(L, -2);
            lua_pushinteger(L, (lua_Integer)p0 + 1);
            lua_pushinteger(L, (lua_Integer)p_end);
            lua_call(L, 3, 0);
        } else {
            if (!u->npy_open) open_file_sink(L, u, -2);
            if (md_npy_stream_write(&u->npy, slab, p0, &err) != MD_OK) md_lua_raise(L, &err);
            md_volume_release(slab);
        }
    }
    lua_settop(L, top);
    md_merge_advance(m, p_end);
}

/* Slabs handed out at most this many planes at a time, so that the slab
 * itself stays small beside the accumulators (a 100-class 384^2 slab of 8
 * planes is 0.47 GB of float32). */
enum { SLAB_PLANES = 8 };

static void flush(lua_State *L, MergerUd *u, int self, int64_t p_end)
{
    while (u->m.lo < p_end) {
        int64_t q = u->m.lo + SLAB_PLANES;
        flush_slab(L, u, self, q < p_end ? q : p_end);
    }
}

/* Remembers the merged volume's geometry from the first patch: the patch's
 * origin moved back by its start. */
static void learn_geometry(MergerUd *u, const MdVolume *patch, size_t n)
{
    if (u->has_geom) return;
    int64_t s[3];
    md_patch_start(&u->m.grid, n, s);
    double ijk[3] = {-(double)s[0], -(double)s[1], -(double)s[2]};
    u->geom = *patch;
    u->geom.buf = NULL;
    md_geom_index_to_world(patch, ijk, u->geom.origin);
    u->has_geom = 1;
}

/* Adds patch n (0-based), first writing out the planes it makes final. */
static void add_patch(lua_State *L, MergerUd *u, int self, size_t n, const MdVolume *patch)
{
    MdError err;
    int64_t end;
    if (u->done) luaL_error(L, "the merger is finished (result() was called)");
    if (md_merge_pending(&u->m, n, &end, &err) != MD_OK) md_lua_raise(L, &err);
    if (!u->m.acc) { /* the first patch sizes the accumulators */
        int64_t c;
        char what[48];
        snprintf(what, sizeof what, "patch %zu", n + 1);
        if (md_patch_layout(&u->m.grid, patch, u->m.grid.patch, what, &c, &err) != MD_OK)
            md_lua_raise(L, &err);
        u->m.channels = c;
    }
    flush(L, u, self, end);
    learn_geometry(u, patch, n);
    MdStatus st = md_merge_add(&u->m, n, patch, &err);
    if (st == MD_ENOMEM) { /* accumulators may fit once dead volumes are collected */
        lua_gc(L, LUA_GCCOLLECT);
        st = md_merge_add(&u->m, n, patch, &err);
    }
    if (st != MD_OK) md_lua_raise(L, &err);
}

static int l_add(lua_State *L)
{
    MergerUd *u = check_merger(L, 1);
    lua_Integer n = luaL_checkinteger(L, 2);
    MdVolume *p = md_lua_checkvolume(L, 3);
    size_t total = md_patch_count(&u->m.grid);
    if (n < 1 || (size_t)n > total)
        luaL_argerror(L, 2, lua_pushfstring(L, "patch %I out of range 1..%I", (LUAI_UACINT)n, (LUAI_UACINT)total));
    add_patch(L, u, 1, (size_t)n - 1, p);
    lua_settop(L, 1);
    return 1;
}

/* The merged volume of a non-streaming merger: the float accumulator
 * itself when the dtype allows, otherwise a converted copy. Stack: +1. */
static void push_result(lua_State *L, MergerUd *u)
{
    MdVolume *r = md_lua_newvolume(L);
    result_header(u, r, 0, u->m.nplanes);
    MdError err;
    MdDtype acc_t = u->m.dbl ? MD_FLOAT64 : MD_FLOAT32;
    if (r->dtype == acc_t) {
        if (md_merge_take(&u->m, u->fill, r, &err) != MD_OK) md_lua_raise(L, &err);
        md_lua_account(L, r);
        return;
    }
    md_lua_alloc(L, r, 0);
    if (md_merge_emit(&u->m, 0, u->m.nplanes, u->fill, r, 0, &err) != MD_OK) md_lua_raise(L, &err);
}

static int l_result(lua_State *L)
{
    MergerUd *u = check_merger(L, 1);
    if (u->done) {
        lua_getiuservalue(L, 1, 2);
        return 1;
    }
    if (!u->m.added) return luaL_error(L, "the merger has no patches yet (add some before result())");
    if (u->sink == SINK_NONE) {
        push_result(L, u);
    } else {
        flush(L, u, 1, u->m.nplanes);
        MdError err;
        if (u->sink == SINK_FILE) {
            lua_getiuservalue(L, 1, 1);
            if (md_npy_stream_commit(&u->npy, &err) != MD_OK) {
                md_error_prefix(&err, lua_tostring(L, -1));
                md_lua_raise(L, &err);
            }
            u->npy_open = 0;
        } else if (u->sink == SINK_VOLUME) {
            lua_getiuservalue(L, 1, 1);
        } else {
            lua_pushnil(L);
        }
    }
    u->done = 1;
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, 1, 2);
    return 1;
}

static int l_merger_coverage(lua_State *L)
{
    MergerUd *u = check_merger(L, 1);
    if (u->m.streaming)
        return luaL_error(L, "a streaming merger has written its planes out; grid:coverage() gives "
                             "the voxels the grid covers");
    MdVolume *c = md_lua_newvolume(L);
    planes_header(u, c, 0, u->m.nplanes, MD_UINT8, 1);
    md_lua_alloc(L, c, 0);
    MdError err;
    if (md_merge_coverage(&u->m, 0, u->m.nplanes, c, 0, &err) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

static int l_merger_index(lua_State *L)
{
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
    MergerUd *u = check_merger(L, 1);
    const char *k = lua_tostring(L, 2);
    if (!k) return 0;
    if (strcmp(k, "added") == 0) lua_pushinteger(L, (lua_Integer)u->m.added);
    else if (strcmp(k, "channels") == 0) lua_pushinteger(L, (lua_Integer)u->m.channels);
    else if (strcmp(k, "streaming") == 0) lua_pushboolean(L, u->m.streaming);
    else if (strcmp(k, "dtype") == 0) lua_pushstring(L, md_dtype_name(u->dtype));
    else if (strcmp(k, "bytes") == 0)
        lua_pushinteger(L, (lua_Integer)(u->m.acc ? u->m.acc->nbytes + u->m.wsum->nbytes : 0));
    else return 0;
    return 1;
}

/* Reads the sink (option out) into uservalue 1 of the merger at self. */
static void read_sink(lua_State *L, MergerUd *u, int self, int opts)
{
    int t = lua_istable(L, opts) ? lua_getfield(L, opts, "out") : (lua_pushnil(L), LUA_TNIL);
    MdVolume *v = md_lua_tovolume(L, -1);
    const MdPatchGrid *g = &u->m.grid;
    if (t == LUA_TNIL) {
        u->sink = SINK_NONE;
    } else if (v) {
        md_lua_checkvolume(L, -1);
        if (v->dim[0] != g->size[0] || v->dim[1] != g->size[1] || (g->ndim == 3 && v->dim[2] != g->size[2]))
            luaL_argerror(L, opts, "out must have the grid's shape");
        u->sink = SINK_VOLUME;
        u->dtype = v->dtype;
        if (!u->has_geom) {
            u->geom = *v;
            u->geom.buf = NULL;
            u->has_geom = 1;
        }
    } else if (t == LUA_TFUNCTION) {
        u->sink = SINK_FUNCTION;
    } else if (t == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        if (n < 4 || strcmp(s + n - 4, ".npy") != 0) luaL_argerror(L, opts, "an out file must be a .npy path");
        u->sink = SINK_FILE;
    } else {
        luaL_argerror(L, opts, "out must be a Volume, a function or a .npy path");
    }
    lua_setiuservalue(L, self, 1);
}

/* Reads weight and sigma_scale (or a weight map) into the merger. */
static void read_weights(lua_State *L, MergerUd *u, int opts)
{
    MdError err;
    int t = lua_istable(L, opts) ? lua_getfield(L, opts, "weight") : (lua_pushnil(L), LUA_TNIL);
    MdVolume *map = t == LUA_TUSERDATA ? md_lua_checkvolume(L, -1) : NULL;
    lua_pop(L, 1);
    if (map) {
        if (md_merge_set_map(&u->m, map, &err) != MD_OK) md_lua_raise(L, &err);
        return;
    }
    int gaussian = md_lua_weightkind(L, opts);
    double sigma[3];
    md_lua_sigma_scale(L, opts, u->m.grid.ndim, sigma);
    if (gaussian && md_merge_set_gaussian(&u->m, sigma, &err) != MD_OK) md_lua_raise(L, &err);
}

/* Pushes a new merger for the grid at 1 with the options at opts; def:
 * the result dtype when opts has none. */
static MergerUd *new_merger(lua_State *L, int opts, MdDtype def)
{
    static const char *const keys[] = {"dtype", "weight", "sigma_scale", "fill", "out", "like", NULL};
    MdGridUd *g = md_lua_checkgrid(L, 1);
    md_lua_checkopts(L, opts, keys);
    MdDtype t = md_lua_optdtype(L, opts, def);
    const MdVolume *like = NULL;
    if (lua_istable(L, opts)) {
        lua_getfield(L, opts, "like");
        if (!lua_isnil(L, -1)) like = md_lua_checkvolume(L, -1);
        lua_pop(L, 1); /* like stays alive in the options table */
    }
    MergerUd *u = lua_newuserdatauv(L, sizeof *u, 2);
    memset(u, 0, sizeof *u);
    luaL_setmetatable(L, MD_MERGER_MT);
    int self = lua_gettop(L);
    u->dtype = t;
    u->fill = md_lua_optnumfield(L, opts, "fill", 0);
    if (like) {
        u->geom = *like;
        u->geom.buf = NULL;
        u->has_geom = 1;
        u->keep_z = g->g.ndim == 2 && like->ndim == 3;
    }
    u->m.grid = g->g;
    read_sink(L, u, self, opts); /* a Volume sink decides the dtype */
    md_merge_init(&u->m, &g->g, md_merge_needs_double(u->dtype), u->sink != SINK_NONE);
    u->live = 1;
    read_weights(L, u, opts);
    return u;
}

static int l_merger(lua_State *L)
{
    new_merger(L, 2, MD_FLOAT32);
    return 1;
}

/* grid:merge(stack [, opts]): every patch of a stack through one merger. */
static int l_merge(lua_State *L)
{
    MdGridUd *g = md_lua_checkgrid(L, 1);
    MdVolume *s = md_lua_checkvolume(L, 2);
    size_t total = md_patch_count(&g->g);
    int ok = s->ndim == g->g.ndim + 1 && s->dim[g->g.ndim] == (int64_t)total;
    for (int a = 0; a < g->g.ndim; a++) ok = ok && s->dim[a] == g->g.patch[a];
    if (!ok)
        return luaL_argerror(L, 2, lua_pushfstring(L, "expected a stack of %I patches (grid:extract's "
                                                      "shape)", (LUAI_UACINT)total));
    lua_settop(L, 3);
    /* float32 unless the stack holds values float32 cannot (the merge of
     * an unmodified stack is then the volume itself) */
    MergerUd *u = new_merger(L, 3, md_merge_needs_double(s->dtype) ? MD_FLOAT64 : MD_FLOAT32);
    int self = lua_gettop(L);
    size_t bytes = md_volume_nbytes(s) / total;
    for (size_t n = 0; n < total; n++) {
        MdVolume view = *s; /* a borrowed header over patch n of the stack */
        view.ndim = g->g.ndim;
        view.dim[g->g.ndim] = 1;
        view.offset = s->offset + n * bytes;
        if (n == 0 && !u->has_geom) learn_geometry(u, &view, 0);
        add_patch(L, u, self, n, &view);
    }
    lua_pushcfunction(L, l_result);
    lua_pushvalue(L, self);
    lua_call(L, 1, 1);
    lua_pushcfunction(L, l_merger_close);
    lua_pushvalue(L, self);
    lua_call(L, 1, 0);
    return 1;
}

static const MdLuaReg merger_methods[] = {
    {"add", l_add,
     "m:add(n, patch) -> m\n"
     "Adds the network's output for patch n (1-based) to the running weighted mean.\n"
     "patch: the grid's patch shape, any dtype, channels on axis 4 ((px, py, pz, C) in\n"
     "3-D, (px, py, 1, C) in 2-D); every patch the same channel count. Parts of a patch\n"
     "outside the volume ('pad' mode, patches larger than the volume) are ignored.\n"
     "A streaming merger (out= given) takes patches in grid order: once a patch of a\n"
     "later slab row arrives, the finished planes are written out.\n"
     "Errors: n out of range, n already added, a patch of the wrong shape or channel\n"
     "count, a patch of a row already written out, the merger finished.\n"
     "  for n, p in grid:patches(v) do m:add(n, p) end"},
    {"result", l_result,
     "m:result() -> Volume | path | nil\n"
     "Finishes the merge. Without out=: the merged volume (the grid's shape, the\n"
     "patches' channels on axis 4 when more than one, dtype= of the merger); a float32\n"
     "or float64 result is the accumulator itself, not a copy. Voxels no patch reached\n"
     "hold fill. With out=: writes the remaining planes; returns the out Volume, the\n"
     ".npy path, or nil for a function. Calling it again returns the same value.\n"
     "  local merged = m:result()"},
    {"coverage", l_merger_coverage,
     "m:coverage() -> Volume (uint8)\n"
     "1 where some added patch reached the voxel, 0 elsewhere ('drop' mode loses the\n"
     "far remainders). Not available for a streaming merger (see grid:coverage()).\n"
     "  print(m:coverage():stats().sum)"},
    {"close", l_merger_close,
     "m:close()\nFrees the accumulators and removes an unfinished output file now (as the\n"
     "collector and a <close> variable do)."},
    {NULL, NULL, NULL}};

static const MdLuaReg grid_methods[] = {
    {"merger", l_merger,
     "grid:merger{[dtype=\"float32\"], [weight=\"mean\"], [sigma_scale=0.125], [fill=0], [out=], [like=]} -> Merger\n"
     "A merger for this grid: add patches with m:add(n, patch), finish with m:result().\n"
     "Each voxel gets the weighted mean of the patches covering it, kept as a running\n"
     "mean in float32, or in float64 when dtype is float64, int32 or uint32 (values\n"
     "float32 cannot hold), so merging identical copies gives the voxel back exactly.\n"
     "  weight       \"mean\" (every voxel weighs 1), \"constant\" (MONAI's name for the same),\n"
     "               \"gaussian\" (MONAI's importance map, sigma = sigma_scale * patch size),\n"
     "               or a patch-shaped Volume of weights > 0\n"
     "  sigma_scale  number or one per axis, default 0.125 (gaussian only)\n"
     "  dtype        of the result (integer types round and saturate), default float32\n"
     "  fill         value of voxels no patch covers ('drop' mode), default 0\n"
     "  out          stream finished slabs (up to 8 z-slices, rows in 2-D, at a time) as\n"
     "               patches arrive in grid order, holding only patch-depth planes of\n"
     "               accumulators:\n"
     "               a Volume of the grid's shape (written in place; its dtype wins),\n"
     "               a function(slab, first_plane, last_plane), or a \".npy\" path written\n"
     "               piecewise (shape (C, nz, ny, nx)) and renamed into place at the end\n"
     "  like         a Volume whose geometry the result takes (default: from the patches);\n"
     "               a 2-D grid's result is (x, y, 1) when like is\n"
     "Errors: unknown options, an unknown dtype or weight, sigma_scale <= 0.\n"
     "Memory: about (C + 1) * planes * plane voxels * 4 bytes (8 with float64\n"
     "accumulators), see grid:merge_memory.\n"
     "  local m <close> = grid:merger{weight=\"gaussian\"}"},
    {"merge", l_merge,
     "grid:merge(stack [, opts]) -> Volume | path | nil\n"
     "Merges a stack of every patch (grid:extract's layout: (px, py, N) in 2-D,\n"
     "(px, py, pz, N) in 3-D) through a merger with the options of grid:merger.\n"
     "dtype defaults to float64 for a float64, int32 or uint32 stack (float32 cannot\n"
     "hold its values), float32 otherwise.\n"
     "The result takes the stack's geometry (its origin is patch 1's, the volume's).\n"
     "  local back = grid:merge(grid:extract(v))   -- == v in 'cover' and 'pad' modes, any dtype"},
    {NULL, NULL, NULL}};

void md_open_patch_merge(lua_State *L, int methods)
{
    lua_pushvalue(L, methods);
    md_lua_register(L, grid_methods);
    lua_pop(L, 1);
    luaL_newmetatable(L, MD_MERGER_MT);
    lua_newtable(L);
    md_lua_register(L, merger_methods);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__methods"); /* md_open_patch publishes it as vol.PatchMerger */
    lua_pushcclosure(L, l_merger_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_merger_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, l_merger_close);
    lua_setfield(L, -2, "__close");
    lua_pushliteral(L, MD_MERGER_MT);
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
}
