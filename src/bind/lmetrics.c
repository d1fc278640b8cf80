/* Binding of the segmentation metrics (kernels/metrics): vol.metrics and
 * vol.metrics_per_label. Argument checks, conversions to the mask / label
 * types, and the result tables; the definitions live in the kernel. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/metrics.h"
#include "lmorph.h"
#include "lvolume.h"

void md_open_metrics(lua_State *L, int module);

static const char *const DEFINITIONS[] = {"deepmind", "monai", "medpy", NULL};

/* Spacing of the pair: opts.spacing, else pred's (truth's must agree). */
static void pair_spacing(lua_State *L, const MdVolume *p, const MdVolume *t, int opts, double sp[3])
{
    sp[0] = sp[1] = sp[2] = 1;
    if (lua_type(L, opts) == LUA_TTABLE && lua_getfield(L, opts, "spacing") != LUA_TNIL) {
        if (!lua_istable(L, -1)) luaL_argerror(L, opts, "option 'spacing' must be a table of numbers");
        md_lua_argnumbers(L, opts, -1, sp, p->ndim, "spacing");
        lua_pop(L, 1);
        for (int a = 0; a < p->ndim; a++)
            if (!(sp[a] > 0) || !isfinite(sp[a]))
                luaL_argerror(L, opts, lua_pushfstring(L, "spacing must be > 0 (got %f on axis %d)", sp[a], a + 1));
        return;
    }
    if (lua_type(L, opts) == LUA_TTABLE) lua_pop(L, 1);
    for (int a = 0; a < p->ndim; a++) {
        if (fabs(p->spacing[a] - t->spacing[a]) > 1e-6 * fabs(p->spacing[a]))
            luaL_argerror(L, 2,
                          lua_pushfstring(L,
                                          "spacing %f mm on axis %d differs from pred's %f mm; resample, or pass "
                                          "spacing= to choose",
                                          t->spacing[a], a + 1, p->spacing[a]));
        sp[a] = p->spacing[a];
    }
}

static void check_shapes(lua_State *L, const MdVolume *p, const MdVolume *t)
{
    luaL_argcheck(L, p->ndim >= 2 && p->ndim <= 3, 1, "expected a 2-D or 3-D volume");
    if (t->ndim != p->ndim)
        luaL_argerror(L, 2, lua_pushfstring(L, "expected a %d-D volume like pred (got %d-D)", p->ndim, t->ndim));
    for (int a = 0; a < p->ndim; a++)
        if (t->dim[a] != p->dim[a])
            luaL_argerror(L, 2, lua_pushfstring(L, "shape differs from pred's on axis %d (%d, pred has %d)", a + 1,
                                                (int)t->dim[a], (int)p->dim[a]));
}

static void read_opts(lua_State *L, int idx, const MdVolume *p, const MdVolume *t, MdMetricsOpts *o)
{
    static const char *const keys[] = {"spacing", "tolerance_mm", "percent", "definition", NULL};
    md_lua_checkopts(L, idx, keys);
    pair_spacing(L, p, t, idx, o->spacing);
    o->tolerance_mm = md_lua_optnumfield(L, idx, "tolerance_mm", 1.0);
    o->percent = md_lua_optnumfield(L, idx, "percent", 95.0);
    o->def = (MdMetricsDef)md_lua_optchoice(L, idx, "definition", 0, DEFINITIONS);
    luaL_argcheck(L, o->tolerance_mm >= 0 && isfinite(o->tolerance_mm), idx, "tolerance_mm must be >= 0");
    luaL_argcheck(L, o->percent >= 0 && o->percent <= 100, idx, "percent must be 0 to 100");
}

static void set_num(lua_State *L, const char *k, double x)
{
    lua_pushnumber(L, x);
    lua_setfield(L, -2, k);
}

/* Pushes the result table of r. Stack: +1. */
static void push_metrics(lua_State *L, const MdMetrics *r, MdMetricsDef def)
{
    lua_createtable(L, 0, 32);
    set_num(L, "dice", r->dice);
    set_num(L, "jaccard", r->jaccard);
    set_num(L, "precision", r->precision);
    set_num(L, "recall", r->recall);
    set_num(L, "specificity", r->specificity);
    set_num(L, "volume_pred", r->volume_pred);
    set_num(L, "volume_truth", r->volume_truth);
    set_num(L, "ravd", r->ravd);
    set_num(L, "hausdorff", r->hausdorff);
    set_num(L, "hd95", r->hd95);
    set_num(L, "assd", r->assd);
    set_num(L, "asd_pred_to_truth", r->asd_pred_to_truth);
    set_num(L, "asd_truth_to_pred", r->asd_truth_to_pred);
    set_num(L, "surface_overlap_pred", r->surface_overlap_pred);
    set_num(L, "surface_overlap_truth", r->surface_overlap_truth);
    set_num(L, "surface_dice", r->surface_dice);
    set_num(L, "surface_pred", r->surface_pred);
    set_num(L, "surface_truth", r->surface_truth);
    lua_pushinteger(L, (lua_Integer)r->tp), lua_setfield(L, -2, "tp");
    lua_pushinteger(L, (lua_Integer)r->fp), lua_setfield(L, -2, "fp");
    lua_pushinteger(L, (lua_Integer)r->fn), lua_setfield(L, -2, "fn");
    lua_pushinteger(L, (lua_Integer)r->tn), lua_setfield(L, -2, "tn");
    lua_pushboolean(L, r->empty_pred), lua_setfield(L, -2, "empty_pred");
    lua_pushboolean(L, r->empty_truth), lua_setfield(L, -2, "empty_truth");
    lua_pushstring(L, DEFINITIONS[def]), lua_setfield(L, -2, "definition");
}

/* Raises err, as an argument error when the kernel named one of the inputs. */
static int raise_input(lua_State *L, const MdError *err)
{
    if (strncmp(err->msg, "pred ", 5) == 0) return luaL_argerror(L, 1, err->msg);
    if (strncmp(err->msg, "truth ", 6) == 0) return luaL_argerror(L, 2, err->msg);
    return md_lua_raise(L, err);
}

/* The volume at idx as a uint8 0/1 mask (converted, and checked, when it
 * has another dtype; uint8 masks are checked by the kernel). */
static MdVolume *as_mask(lua_State *L, int idx, const char *what)
{
    MdVolume *v = md_lua_checkvolume(L, idx);
    if (v->dtype == MD_UINT8) return v;
    MdVolume *m = md_lua_newlike(L, v, MD_UINT8, 0);
    MdError err;
    if (md_metrics_binary(v, what, m, &err) != MD_OK) raise_input(L, &err);
    lua_replace(L, idx);
    return m;
}

static int l_metrics(lua_State *L)
{
    MdVolume *p = as_mask(L, 1, "pred");
    MdVolume *t = as_mask(L, 2, "truth");
    check_shapes(L, p, t);
    MdMetricsOpts o;
    read_opts(L, 3, p, t, &o);
    MdMetrics r;
    memset(&r, 0, sizeof r);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "metrics");
    if (md_metrics(p, t, &o, &r, &ctx) != MD_OK) return raise_input(L, &err);
    push_metrics(L, &r, o.def);
    return 1;
}

static MdVolume *as_labels(lua_State *L, int idx, const char *what)
{
    MdVolume *v = md_lua_checkvolume(L, idx);
    if (v->dtype == MD_INT32) return v;
    MdVolume *m = md_lua_newlike(L, v, MD_INT32, 0);
    MdError err;
    if (md_metrics_int_labels(v, what, m, &err) != MD_OK) raise_input(L, &err);
    lua_replace(L, idx);
    return m;
}

/* The labels argument (a list of integers, or nil: every non-zero label of
 * either map) as a userdata array. Stack: +1 (the array). */
static int32_t *read_labels(lua_State *L, int idx, const MdVolume *p, const MdVolume *t, size_t *n)
{
    if (lua_isnil(L, idx)) {
        int32_t *found = NULL;
        MdError err;
        if (md_metrics_label_set(p, t, &found, n, &err) != MD_OK) return md_lua_raise(L, &err), NULL;
        int32_t *arr = lua_newuserdatauv(L, (*n ? *n : 1) * sizeof *arr, 0);
        memcpy(arr, found, *n * sizeof *arr);
        free(found);
        return arr;
    }
    luaL_checktype(L, idx, LUA_TTABLE);
    *n = (size_t)lua_rawlen(L, idx);
    int32_t *arr = lua_newuserdatauv(L, (*n ? *n : 1) * sizeof *arr, 0);
    for (size_t i = 0; i < *n; i++) {
        lua_rawgeti(L, idx, (lua_Integer)i + 1);
        int ok;
        lua_Integer x = lua_tointegerx(L, -1, &ok);
        if (!ok || x < INT32_MIN || x > INT32_MAX)
            luaL_argerror(L, idx, lua_pushfstring(L, "labels[%d] must be an int32 integer", (int)i + 1));
        arr[i] = (int32_t)x;
        lua_pop(L, 1);
        for (size_t k = 0; k < i; k++)
            if (arr[k] == arr[i]) luaL_argerror(L, idx, lua_pushfstring(L, "label %d is listed twice", (int)x));
    }
    return arr;
}

/* True when the value at idx is an option table (string keys, no list). */
static int is_options(lua_State *L, int idx)
{
    if (!lua_istable(L, idx) || lua_rawlen(L, idx) != 0) return 0;
    lua_pushnil(L);
    if (!lua_next(L, idx)) return 0;
    int named = lua_type(L, -2) == LUA_TSTRING;
    lua_pop(L, 2);
    return named;
}

static int l_metrics_per_label(lua_State *L)
{
    if (lua_isnoneornil(L, 4) && is_options(L, 3)) { /* (pred, truth, opts): no labels */
        lua_settop(L, 3);
        lua_pushnil(L);
        lua_insert(L, 3);
    }
    lua_settop(L, 4);
    MdVolume *p = as_labels(L, 1, "pred");
    MdVolume *t = as_labels(L, 2, "truth");
    check_shapes(L, p, t);
    MdMetricsOpts o;
    read_opts(L, 4, p, t, &o);
    size_t n = 0;
    int32_t *labels = read_labels(L, 3, p, t, &n);
    MdMetrics *r = lua_newuserdatauv(L, (n ? n : 1) * sizeof *r, 0);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "metrics");
    if (md_metrics_labels(p, t, labels, n, &o, r, &ctx) != MD_OK) return raise_input(L, &err);
    lua_createtable(L, 0, (int)n);
    for (size_t i = 0; i < n; i++) {
        push_metrics(L, &r[i], o.def);
        lua_pushinteger(L, labels[i]);
        lua_setfield(L, -2, "label");
        lua_rawseti(L, -2, labels[i]);
    }
    return 1;
}

#define FIELDS_DOC                                                                                  \
    "Returns a table: dice, jaccard, precision, recall, specificity; volume_pred,\n"              \
    "volume_truth (mm^3; mm^2 in 2-D), ravd ((Vpred - Vtruth) / Vtruth); hausdorff, hd95 (at\n"   \
    "percent), assd, asd_pred_to_truth, asd_truth_to_pred (mm); surface_overlap_pred,\n"         \
    "surface_overlap_truth, surface_dice (at tolerance_mm); surface_pred, surface_truth\n"        \
    "(surface area in mm^2 for deepmind, boundary voxel counts otherwise); tp, fp, fn, tn;\n"     \
    "empty_pred, empty_truth (booleans); definition.\n"                                           \
    "  opts  definition=\"deepmind\" (default): surface elements of the 2x2x2 neighbour codes\n"  \
    "          on the half-voxel grid weighted by area, area-weighted directed percentiles\n"     \
    "          (the surface-distance library); \"monai\": boundary voxels, hd95 the larger\n"     \
    "          directed numpy percentile; \"medpy\": boundary voxels, hd95 of both directions\n"  \
    "          pooled, assd the mean of the two directed means\n"                                 \
    "        tolerance_mm=1   surface Dice / overlap tolerance\n"                                 \
    "        percent=95       the percentile reported as hd95\n"                                  \
    "        spacing={sx, sy [, sz]}  instead of the volumes' (which must agree)\n"               \
    "Empty masks: Dice, Jaccard of two empty masks are NaN (empty_pred and empty_truth\n"        \
    "tell why); one empty mask gives inf distances and surface Dice 0; see docs/metrics.md.\n"

static const MdLuaReg functions[] = {
    {"metrics", l_metrics,
     "vol.metrics(pred, truth [, opts]) -> table\n"
     "Segmentation metrics of a predicted mask against a reference, every surface value\n"
     "under a named definition. pred and truth: same shape, 2-D or 3-D, values 0 and 1\n"
     "(any dtype). " FIELDS_DOC "Errors: shapes or spacings that differ, a value other than 0/1, bad options.\n"
     "  local m = vol.metrics(seg, ref, {tolerance_mm=2})\n"
     "  print(m.dice, m.hd95, m.surface_dice)"},
    {"metrics_per_label", l_metrics_per_label,
     "vol.metrics_per_label(pred, truth [, labels] [, opts]) -> {[label] = table}\n"
     "vol.metrics for each label of two integer label maps (pred == label against truth ==\n"
     "label), counted in one pass over the volumes; each label's surfaces are computed in\n"
     "its own bounding box. labels: a list of integers, default every non-zero value found\n"
     "in either map. Each table also has `label`. Options and fields as vol.metrics.\n"
     "Errors: shapes or spacings that differ, non-integer values, labels spanning 2^24 values.\n"
     "  local per = vol.metrics_per_label(seg, ref, {1, 2}, {definition=\"monai\"})\n"
     "  print(per[1].dice, per[2].hd95)"},
    {NULL, NULL, NULL}};

void md_open_metrics(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    lua_pushvalue(L, module);
    md_lua_register(L, functions);
    lua_pop(L, 1);
}
