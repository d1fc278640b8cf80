/* Binding of marching cubes (v:mesh) and of the Mesh userdata: fields
 * (area, volume, counts, bounds), mesh:write, mesh:smooth, mesh:decimate,
 * mesh:vertices, mesh:faces. The renderer's mesh:png is bound in lrender.c. */
#include "lmesh.h"
#include "lrender.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../io/mesh_write.h"
#include "../kernels/mcubes.h"
#include "../kernels/meshrender.h"
#include "../io/png.h"
#include "lmorph.h"
#include "lvolume.h"

typedef struct LMesh {
    MdMesh m;
    int released;
} LMesh;

MdMesh *md_lua_newmesh(lua_State *L)
{
    LMesh *u = lua_newuserdatauv(L, sizeof *u, 0);
    memset(u, 0, sizeof *u);
    luaL_setmetatable(L, MD_MESH_MT);
    return &u->m;
}

MdMesh *md_lua_checkmesh(lua_State *L, int idx)
{
    LMesh *u = luaL_checkudata(L, idx, MD_MESH_MT);
    if (u->released) luaL_error(L, "attempt to use a released mesh");
    return &u->m;
}

/* Tells the collector about the bytes a new mesh holds. */
static void account(lua_State *L, const MdMesh *m)
{
    size_t kb = ((m->vbuf ? m->vbuf->nbytes : 0) + (m->fbuf ? m->fbuf->nbytes : 0)) >> 10;
    if (kb) lua_gc(L, LUA_GCSTEP, (int)(kb > 1 << 20 ? 1 << 20 : kb));
}

static int l_gc(lua_State *L)
{
    LMesh *u = luaL_checkudata(L, 1, MD_MESH_MT);
    md_mesh_release(&u->m);
    u->released = 1;
    return 0;
}

static const char *const fields[] = {"area", "volume", "vertex_count", "face_count", "bounds", NULL};

static int l_index(lua_State *L)
{
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
    lua_pop(L, 1);
    const char *k = lua_tostring(L, 2);
    if (!k) return 0;
    MdMesh *m = md_lua_checkmesh(L, 1);
    if (strcmp(k, "area") == 0) {
        lua_pushnumber(L, md_mesh_area(m));
    } else if (strcmp(k, "volume") == 0) {
        lua_pushnumber(L, md_mesh_volume(m));
    } else if (strcmp(k, "vertex_count") == 0) {
        lua_pushinteger(L, (lua_Integer)m->nverts);
    } else if (strcmp(k, "face_count") == 0) {
        lua_pushinteger(L, (lua_Integer)m->nfaces);
    } else if (strcmp(k, "bounds") == 0) {
        double lo[3], hi[3];
        md_mesh_bounds(m, lo, hi);
        lua_createtable(L, 2, 0);
        md_lua_pushnumbers(L, lo, 3);
        lua_rawseti(L, -2, 1);
        md_lua_pushnumbers(L, hi, 3);
        lua_rawseti(L, -2, 2);
    } else {
        return 0;
    }
    return 1;
}

static int l_newindex(lua_State *L)
{
    const char *k = lua_tostring(L, 2);
    return luaL_error(L, "cannot assign field '%s' of a Mesh (fields are read-only)", k ? k : "?");
}

static int l_tostring(lua_State *L)
{
    LMesh *u = luaL_checkudata(L, 1, MD_MESH_MT);
    if (u->released) {
        lua_pushliteral(L, "Mesh (released)");
    } else {
        lua_pushfstring(L, "Mesh %I vertices, %I faces, area %f mm^2, volume %f mm^3",
                        (LUAI_UACINT)u->m.nverts, (LUAI_UACINT)u->m.nfaces, md_mesh_area(&u->m),
                        md_mesh_volume(&u->m));
    }
    return 1;
}

/* Copies src into a new Mesh userdata. Stack: +1. */
static MdMesh *push_copy(lua_State *L, const MdMesh *src)
{
    MdMesh *m = md_lua_newmesh(L);
    MdError err;
    if (md_mesh_alloc(m, src->nverts, src->nfaces, &err) != MD_OK) md_lua_raise(L, &err);
    memcpy(md_mesh_verts(m), md_mesh_verts(src), (size_t)src->nverts * 3 * sizeof(float));
    memcpy(md_mesh_faces(m), md_mesh_faces(src), (size_t)src->nfaces * 3 * sizeof(int32_t));
    account(L, m);
    return m;
}

/* Applies the smooth= and decimate= options of the table at idx to m. */
static void post_process(lua_State *L, int idx, MdMesh *m)
{
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "mesh");
    if (lua_istable(L, idx) && lua_getfield(L, idx, "decimate") != LUA_TNIL) {
        double cell = luaL_checknumber(L, -1);
        luaL_argcheck(L, cell > 0 && isfinite(cell), idx, "option 'decimate' must be a cell size in mm > 0");
        if (md_mesh_decimate(m, cell, &ctx) != MD_OK) md_lua_raise(L, &err);
    }
    if (lua_istable(L, idx)) lua_pop(L, 1);
    lua_Integer it = lua_istable(L, idx) ? md_lua_optintfield(L, idx, "smooth", 0, 0) : 0;
    if (it > 0) {
        double lambda = md_lua_optnumfield(L, idx, "lambda", 0.5);
        double mu = md_lua_optnumfield(L, idx, "mu", -0.53);
        luaL_argcheck(L, lambda > 0 && lambda < 1, idx, "option 'lambda' must be between 0 and 1");
        luaL_argcheck(L, mu < -lambda && mu > -1, idx, "option 'mu' must be between -1 and -lambda");
        if (md_mesh_smooth(m, (int)it, lambda, mu, &ctx) != MD_OK) md_lua_raise(L, &err);
    }
}

static int l_mesh(lua_State *L)
{
    static const char *const keys[] = {"level", "step", "label", "smooth", "lambda", "mu",
                                       "decimate", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    MdMcubesOpts o = {0};
    o.step = (int)md_lua_optintfield(L, 2, "step", 1, 1);
    int has_label = lua_istable(L, 2) && lua_getfield(L, 2, "label") != LUA_TNIL;
    if (has_label) {
        o.label_mode = 1;
        o.label = luaL_checknumber(L, -1);
        lua_pop(L, 1);
    } else {
        if (lua_istable(L, 2)) lua_pop(L, 1);
        int has_level = lua_istable(L, 2) && lua_getfield(L, 2, "level") != LUA_TNIL;
        if (has_level) {
            o.level = luaL_checknumber(L, -1);
            lua_pop(L, 1);
        } else {
            if (lua_istable(L, 2)) lua_pop(L, 1);
            luaL_argcheck(L, v->dtype == MD_UINT8, 2,
                          "option 'level' is needed (only a uint8 mask has a default, 0.5)");
            o.level = 0.5;
        }
        luaL_argcheck(L, isfinite(o.level), 2, "option 'level' must be a finite number");
    }
    MdMesh *m = md_lua_newmesh(L);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "mesh");
    if (md_mcubes(v, &o, m, &ctx) != MD_OK) return md_lua_raise(L, &err);
    account(L, m);
    post_process(L, 2, m);
    return 1;
}

static int l_rows_gc(lua_State *L)
{
    md_label_rows_free(lua_touserdata(L, 1));
    return 0;
}

static int l_meshes(lua_State *L)
{
    static const char *const keys[] = {"step", "smooth", "lambda", "mu", "decimate", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    md_lua_checkopts(L, 2, keys);
    MdMcubesOpts o = {0};
    o.step = (int)md_lua_optintfield(L, 2, "step", 1, 1);
    o.label_mode = 1;
    luaL_argcheck(L, v->ndim == 3 || (v->ndim == 4 && v->dim[3] == 1), 1, "label surfaces need a 3-D volume");
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "label surfaces");
    double *labels;
    int64_t *boxes, n;
    /* the row lists live in a userdata whose __gc frees them, so an error below leaks nothing */
    MdLabelRows *rows = lua_newuserdatauv(L, sizeof *rows, 0);
    memset(rows, 0, sizeof *rows);
    lua_newtable(L);
    lua_pushcfunction(L, l_rows_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    if (md_mcubes_label_rows(v, rows, &labels, &boxes, &n, &ctx) != MD_OK) return md_lua_raise(L, &err);
    double *lab = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof(double), 0);
    int64_t *box = lua_newuserdatauv(L, (size_t)(n + 1) * 6 * sizeof(int64_t), 0);
    memcpy(lab, labels, (size_t)n * sizeof(double));
    memcpy(box, boxes, (size_t)n * 6 * sizeof(int64_t));
    free(labels);
    free(boxes);
    o.rows = rows;
    lua_createtable(L, 0, (int)n);
    for (int64_t i = 0; i < n; i++) {
        o.label = lab[i];
        for (int a = 0; a < 3; a++) o.box_lo[a] = box[6 * i + a], o.box_hi[a] = box[6 * i + 3 + a];
        MdMesh *m = md_lua_newmesh(L);
        int64_t k = 0;
        for (int a = 0; a < 3; a++) k += o.box_hi[a] - o.box_lo[a] >= o.step;
        if (k == 3) {
            MdCtx c2 = md_ctx_init(&err, "label surfaces");
            if (md_mcubes(v, &o, m, &c2) != MD_OK) return md_lua_raise(L, &err);
        } else if (md_mesh_alloc(m, 0, 0, &err) != MD_OK) {
            return md_lua_raise(L, &err); /* a box too thin for a cube */
        }
        account(L, m);
        post_process(L, 2, m);
        lua_rawseti(L, -2, (lua_Integer)lab[i]);
    }
    return 1;
}

static int l_write(lua_State *L)
{
    MdMesh *m = md_lua_checkmesh(L, 1);
    const char *path = luaL_checkstring(L, 2);
    MdError err;
    if (md_mesh_write(path, m, &err) != MD_OK) return md_lua_raise(L, &err);
    lua_settop(L, 1);
    return 1;
}

static int l_smooth(lua_State *L)
{
    static const char *const keys[] = {"iterations", "lambda", "mu", NULL};
    MdMesh *src = md_lua_checkmesh(L, 1);
    md_lua_checkopts(L, 2, keys);
    lua_Integer it = lua_istable(L, 2) ? md_lua_optintfield(L, 2, "iterations", 10, 1) : 10;
    lua_newtable(L);
    lua_pushinteger(L, it);
    lua_setfield(L, -2, "smooth");
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "lambda");
        lua_setfield(L, -2, "lambda");
        lua_getfield(L, 2, "mu");
        lua_setfield(L, -2, "mu");
    }
    int opts = lua_gettop(L);
    MdMesh *m = push_copy(L, src);
    post_process(L, opts, m);
    return 1;
}

static int l_decimate(lua_State *L)
{
    MdMesh *src = md_lua_checkmesh(L, 1);
    double cell = luaL_checknumber(L, 2);
    luaL_argcheck(L, cell > 0 && isfinite(cell), 2, "cell size in mm must be > 0");
    MdMesh *m = push_copy(L, src);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "decimate");
    if (md_mesh_decimate(m, cell, &ctx) != MD_OK) return md_lua_raise(L, &err);
    return 1;
}

/* mesh:vertices() / mesh:faces(): the arrays as (3, n) volumes. */
static int l_vertices(lua_State *L)
{
    MdMesh *m = md_lua_checkmesh(L, 1);
    MdVolume *v = md_lua_newvolume(L);
    int64_t dim[2] = {3, m->nverts > 0 ? m->nverts : 1};
    md_volume_init(v, MD_FLOAT32, 2, dim);
    md_lua_alloc(L, v, 1);
    if (m->nverts) memcpy(md_volume_data(v), md_mesh_verts(m), (size_t)m->nverts * 3 * sizeof(float));
    return 1;
}

static int l_faces(lua_State *L)
{
    MdMesh *m = md_lua_checkmesh(L, 1);
    MdVolume *v = md_lua_newvolume(L);
    int64_t dim[2] = {3, m->nfaces > 0 ? m->nfaces : 1};
    md_volume_init(v, MD_INT32, 2, dim);
    md_lua_alloc(L, v, 1);
    int32_t *d = md_volume_data(v);
    const int32_t *f = md_mesh_faces(m);
    for (int64_t i = 0; i < 3 * m->nfaces; i++) d[i] = f[i] + 1;
    return 1;
}

/* Reads an {r, g, b} option (0..255) of the table at idx into rgb. */
static void opt_rgb(lua_State *L, int idx, const char *key, unsigned char rgb[3])
{
    if (!lua_istable(L, idx) || lua_getfield(L, idx, key) == LUA_TNIL) {
        if (lua_istable(L, idx)) lua_pop(L, 1);
        return;
    }
    double c[3];
    md_lua_argnumbers(L, idx, -1, c, 3, key);
    for (int i = 0; i < 3; i++) {
        if (!(c[i] >= 0 && c[i] <= 255))
            luaL_argerror(L, idx, lua_pushfstring(L, "option '%s' must be {r, g, b} with values 0 to 255", key));
        rgb[i] = (unsigned char)floor(c[i] + 0.5);
    }
    lua_pop(L, 1);
}

/* Renders the mesh at 1 with the options at idx. Stack: +1 (picture). */
static void push_render(lua_State *L, int idx)
{
    static const char *const keys[] = {"view", "azimuth", "elevation", "color", "background", "size", NULL};
    static const char *const views[] = {"front", "left", "back", "right", "top", "bottom", "iso", NULL};
    static const double az[] = {0, 90, 180, 270, 0, 0, 45}, el[] = {0, 0, 0, 0, 90, -90, 30};
    MdMesh *m = md_lua_checkmesh(L, 1);
    md_lua_checkopts(L, idx, keys);
    int vw = md_lua_optchoice(L, idx, "view", 0, views);
    MdMeshView view = {md_lua_optnumfield(L, idx, "azimuth", az[vw]), md_lua_optnumfield(L, idx, "elevation", el[vw]),
                       {230, 215, 190}, {0, 0, 0}, 0.05};
    luaL_argcheck(L, isfinite(view.azimuth) && fabs(view.elevation) <= 90, idx,
                  "option 'elevation' must be between -90 and 90 degrees");
    opt_rgb(L, idx, "color", view.rgb);
    opt_rgb(L, idx, "background", view.background);
    int64_t size[2] = {512, 512};
    if (lua_istable(L, idx) && lua_getfield(L, idx, "size") != LUA_TNIL) {
        double s[2];
        if (lua_isnumber(L, -1)) {
            s[0] = s[1] = lua_tonumber(L, -1);
        } else {
            md_lua_argnumbers(L, idx, -1, s, 2, "size");
        }
        for (int i = 0; i < 2; i++) {
            if (!(s[i] >= 8 && s[i] <= 8192 && s[i] == floor(s[i])))
                luaL_argerror(L, idx, "option 'size' must be an integer or {w, h} from 8 to 8192");
            size[i] = (int64_t)s[i];
        }
    }
    if (lua_istable(L, idx)) lua_pop(L, 1);
    MdVolume *pic = md_lua_newvolume(L);
    int64_t dim[4] = {size[0], size[1], 1, 3};
    md_volume_init(pic, MD_UINT8, 4, dim);
    md_lua_alloc(L, pic, 0);
    MdError err;
    MdCtx ctx = md_ctx_init(&err, "mesh picture");
    if (md_mesh_render(m, &view, pic, &ctx) != MD_OK) md_lua_raise(L, &err);
}

static int l_mesh_png(lua_State *L)
{
    const char *path = luaL_checkstring(L, 2);
    push_render(L, 3);
    MdWriteOpts wo;
    memset(&wo, 0, sizeof wo);
    wo.level = PICTURE_PNG_LEVEL;
    MdError err;
    if (md_png_write(path, md_lua_checkvolume(L, -1), &wo, &err) != MD_OK) return md_lua_raise(L, &err);
    lua_settop(L, 1);
    return 1;
}

static int l_mesh_picture(lua_State *L)
{
    push_render(L, 2);
    return 1;
}

static int l_release(lua_State *L)
{
    return l_gc(L);
}

static int l_case_triangles(lua_State *L)
{
    lua_Integer c = luaL_checkinteger(L, 1);
    luaL_argcheck(L, c >= 0 && c <= 255, 1, "case must be 0 to 255");
    lua_pushinteger(L, md_mcubes_case_triangles((int)c));
    return 1;
}

static const MdLuaReg volume_methods[] = {
    {"mesh", l_mesh,
     "v:mesh{level=, step=1, label=, smooth=0, decimate=} -> Mesh\n"
     "Marching cubes: the surface where v crosses level, as a Mesh with vertices in\n"
     "LPS world millimetres (spacing, origin and direction applied), one vertex per\n"
     "crossed grid edge (shared by its faces), faces wound so normals point outward\n"
     "(toward values below level). A sample is inside when value >= level. level is\n"
     "needed except for uint8 masks (0.5). label=k: the surface of the voxels equal\n"
     "to k (vertices at edge middles). step=s samples every s-th voxel on each axis.\n"
     "An ambiguous cube face keeps its inside corners apart, in both cubes sharing\n"
     "it, so closed objects give watertight surfaces with every edge in exactly two\n"
     "faces; triangle counts equal VTK's flying edges. smooth=n runs n Taubin steps (lambda=0.5,\n"
     "mu=-0.53); decimate=mm merges vertices on a grid of that size (mesh:decimate).\n"
     "Objects touching the volume's border are left open there: pad first.\n"
     "Errors: not 3-D, fewer than 2 samples on an axis, no level for a non-mask.\n"
     "  local bone = ct:mesh{level=400}  print(bone.area, bone.volume)"},
    {"meshes", l_meshes,
     "v:meshes{step=1, smooth=0, decimate=} -> {[label] = Mesh}\n"
     "One surface per label of a label volume (integer values, 0 = background): one\n"
     "pass lists the labels of every row (and so each label's bounding box), then\n"
     "each surface is extracted from its box, reading only the rows that hold the\n"
     "label, as v:mesh{label=k} would (vertices at edge middles, so two labels\n"
     "that touch give two coincident surfaces). Returns a table keyed by label.\n"
     "Errors: non-integer values, not 3-D.\n"
     "  for k, m in pairs(aal:meshes()) do m:write((\"label%d.stl\"):format(k)) end"},
    {NULL, NULL, NULL}};

static const MdLuaReg mesh_methods[] = {
    {"write", l_write,
     "mesh:write(path) -> mesh\n"
     "Writes the mesh; the format comes from the suffix: .stl (binary STL with\n"
     "face normals), .ply (binary little-endian PLY), .obj (Wavefront text, 1-based\n"
     "faces), .vtk (legacy VTK polydata, binary). Coordinates are LPS mm as stored.\n"
     "The file appears complete or not at all (temporary name, then rename).\n"
     "Errors: another suffix, I/O failures (naming the path).\n"
     "  ct:mesh{level=400}:write(\"bone.stl\")"},
    {"smooth", l_smooth,
     "mesh:smooth{iterations=10, lambda=0.5, mu=-0.53} -> Mesh\n"
     "A Taubin-smoothed copy: each iteration moves every vertex by lambda, then by\n"
     "mu, times the offset to the mean of its neighbours (shrink, then inflate), so\n"
     "the staircase of a voxel mask is smoothed without the volume collapsing.\n"
     "Faces are unchanged. Errors: lambda outside (0, 1), mu not in (-1, -lambda).\n"
     "  local s = m:mesh():smooth{iterations=20}"},
    {"decimate", l_decimate,
     "mesh:decimate(cell_mm) -> Mesh\n"
     "A coarser copy by vertex clustering: vertices are merged per cube of cell_mm\n"
     "on a grid anchored at the mesh's lower bound (to their mean position), faces\n"
     "whose corners merge are dropped, as are repeated faces. Fast and\n"
     "deterministic; it can join nearby sheets, so use a cell below the thinnest\n"
     "structure. Errors: cell_mm <= 0.\n"
     "  local small = bone:decimate(3)"},
    {"vertices", l_vertices,
     "mesh:vertices() -> Volume\nThe vertices as a float32 (3, n) volume of LPS mm: column i is vertex i\n"
     "(an empty mesh gives one zero column).\n  local xyz = mesh:vertices()  print(xyz:get(1, 1))"},
    {"faces", l_faces,
     "mesh:faces() -> Volume\nThe faces as an int32 (3, n) volume of 1-based vertex numbers, wound\n"
     "counter-clockwise seen from outside (an empty mesh gives one zero column).\n"
     "  local f = mesh:faces()"},
    {"png", l_mesh_png,
     "mesh:png(path [, {view=\"front\", azimuth=, elevation=, color=, background=, size=512}])\n"
     "  -> mesh\n"
     "Writes a shaded picture of the mesh (software z-buffer, Lambert shading with\n"
     "the light at the camera, orthographic projection fitted to the picture).\n"
     "view: front (from anterior: the patient's left on the right, superior up), left,\n"
     "back, right, top, bottom or iso; or azimuth (degrees about the S axis, 90 = from\n"
     "the patient's left) and elevation (degrees, 90 = from above). color and\n"
     "background {r, g, b} (default bone {230, 215, 190} on black); size n or {w, h}.\n"
     "The same mesh and options give the same bytes.\n"
     "  ct:mesh{level=400}:png(\"bone.png\", {view=\"iso\"})"},
    {"picture", l_mesh_picture,
     "mesh:picture([opts]) -> Volume\nThe picture mesh:png would write, as a uint8 RGB volume (w, h, 1, 3).\n"
     "  local pic = mesh:picture{view=\"left\", size=256}"},
    {"release", l_release,
     "mesh:release()\nFrees the mesh's memory now; using it afterwards raises an error.\n"
     "  mesh:release()"},
    {NULL, NULL, NULL}};

static const MdLuaReg functions[] = {
    {"mcubes_case_triangles", l_case_triangles,
     "vol.mcubes_case_triangles(case) -> n\n"
     "The number of triangles marching cubes makes in one cube whose inside corners\n"
     "are the bits of case (0-255; corner i at (i & 1, i >> 1 & 1, i >> 2 & 1)).\n"
     "For comparing the case table with other tools'.\n"
     "  print(vol.mcubes_case_triangles(1))  --> 1"},
    {NULL, NULL, NULL}};

void md_open_mesh(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    md_lua_register(L, functions);
    md_push_methods(L, module);
    md_lua_register(L, volume_methods);
    lua_pop(L, 1);
    luaL_newmetatable(L, MD_MESH_MT);
    lua_newtable(L);
    md_lua_register(L, mesh_methods);
    lua_pushvalue(L, -1);
    lua_setfield(L, module, "Mesh");
    lua_pushcclosure(L, l_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, l_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, l_gc);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, l_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_newtable(L);
    for (int i = 0; fields[i]; i++) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, fields[i]);
    }
    lua_setfield(L, -2, "__fields");
    lua_pushliteral(L, "Mesh");
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
}
