/* Binding of the file readers and writers (io/formats): vol.read,
 * v:write, vol.save_npy_stack. */
#include <stdlib.h>
#include <string.h>

#include "../io/atomicfile.h"
#include "../io/dicom.h"
#include "../io/formats.h"
#include "../io/npy.h"
#include "../io/npy_stack.h"
#include "lvolume.h"

/* Frees the metadata a reader collected, even when the reader raises. */
typedef struct MetaBox {
    MdMeta meta;
} MetaBox;

static int metabox_gc(lua_State *L)
{
    MetaBox *b = lua_touserdata(L, 1);
    md_meta_free(&b->meta);
    return 0;
}

static MetaBox *push_metabox(lua_State *L)
{
    MetaBox *b = lua_newuserdatauv(L, sizeof *b, 0);
    md_meta_init(&b->meta);
    if (luaL_newmetatable(L, "medula.MetaBox")) {
        lua_pushcfunction(L, metabox_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return b;
}

/* vol.read_dicom (ldicom.c): vol.read hands DICOM files and folders to it. */
int md_lua_read_dicom(lua_State *L);

static int l_read(lua_State *L)
{
    static const char *const keys[] = {"raw", NULL};
    const char *path = luaL_checkstring(L, 1);
    if (md_format_from_path(path) == MD_FMT_UNKNOWN && md_dicom_is_candidate(path))
        return md_lua_read_dicom(L); /* a folder or DICOM file: read_dicom's options */
    md_lua_checkopts(L, 2, keys);
    MdReadOpts opts = {0};
    opts.raw = md_lua_optboolfield(L, 2, "raw", 0);
    MetaBox *box = push_metabox(L);
    MdVolume *v = md_lua_newvolume(L);
    MdError err;
    if (md_read(path, &opts, v, &box->meta, &err) != MD_OK) {
        md_volume_release(v);
        return md_lua_raise(L, &err);
    }
    md_lua_account(L, v);
    lua_createtable(L, 0, (int)box->meta.n);
    for (size_t i = 0; i < box->meta.n; i++) {
        lua_pushstring(L, box->meta.vals[i]);
        lua_setfield(L, -2, box->meta.keys[i]);
    }
    lua_setiuservalue(L, -2, 1);
    return 1;
}

static int l_write(lua_State *L)
{
    static const char *const keys[] = {"level", "compress", "nifti2", "fsync", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    const char *path = luaL_checkstring(L, 2);
    md_lua_checkopts(L, 3, keys);
    MdWriteOpts opts;
    opts.level = (int)md_lua_optnumfield(L, 3, "level", -1);
    opts.compress = md_lua_optboolfield(L, 3, "compress", 0);
    opts.nifti2 = md_lua_optboolfield(L, 3, "nifti2", 0);
    int sync = md_atomic_sync();
    md_atomic_set_sync(md_lua_optboolfield(L, 3, "fsync", sync));
    MdError err;
    MdStatus st = md_write(path, v, &opts, &err);
    md_atomic_set_sync(sync);
    if (st != MD_OK) return md_lua_raise(L, &err);
    lua_settop(L, 1);
    return 1;
}

static int l_save_npy_stack(lua_State *L)
{
    static const char *const keys[] = {"layout", NULL};
    static const struct {
        const char *name;
        MdNpyLayout layout;
        int spatial;
    } layouts[] = {{"NDHWC", MD_NPY_CHANNELS_LAST, 3}, {"NCDHW", MD_NPY_CHANNELS_FIRST, 3},
                   {"NHWC", MD_NPY_CHANNELS_LAST, 2},  {"NCHW", MD_NPY_CHANNELS_FIRST, 2}};
    const char *path = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    md_lua_checkopts(L, 3, keys);
    const char *name = md_lua_optstrfield(L, 3, "layout", NULL);
    MdNpyLayout layout = MD_NPY_PLAIN;
    int spatial = 0;
    if (name) {
        size_t k = 0, nl = sizeof layouts / sizeof *layouts;
        while (k < nl && strcmp(layouts[k].name, name) != 0) k++;
        if (k == nl)
            return luaL_argerror(L, 3, lua_pushfstring(L, "option 'layout': unknown layout '%s'; expected one "
                                                          "of NDHWC, NCDHW, NHWC, NCHW", name));
        layout = layouts[k].layout;
        spatial = layouts[k].spatial;
    }
    size_t n = lua_rawlen(L, 2);
    luaL_argcheck(L, n > 0, 2, "the list of volumes is empty");
    const MdVolume **vols = lua_newuserdatauv(L, n * sizeof *vols, 0);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, 2, (lua_Integer)i + 1);
        MdVolume *v = md_lua_tovolume(L, -1);
        if (!v)
            return luaL_argerror(L, 2, lua_pushfstring(L, "item %d is not a Volume (got %s)", (int)i + 1,
                                                       luaL_typename(L, -1)));
        if (!v->buf) return luaL_error(L, "attempt to use a released volume");
        vols[i] = v;
        lua_pop(L, 1); /* the list keeps it alive */
    }
    MdError err;
    if (md_npy_write_layout(path, vols, n, layout, spatial, &err) != MD_OK) return md_lua_raise(L, &err);
    return 0;
}

static int l_format_of(lua_State *L)
{
    MdFormat f = md_format_from_path(luaL_checkstring(L, 1));
    if (f == MD_FMT_UNKNOWN)
        lua_pushnil(L);
    else
        lua_pushstring(L, md_format_name(f));
    return 1;
}

static const MdLuaReg functions[] = {
    {"read", l_read,
     "vol.read(path [, {raw=false}]) -> Volume\n"
     "Reads a NIfTI (.nii, .nii.gz, .hdr/.img pair), MetaImage (.mhd, .mha) or NumPy (.npy) file,\n"
     "or a DICOM file or folder as vol.read_dicom(path, opts) does (all its options:\n"
     "recursive, series, dtype, raw, keep_padding, padding, allow_nonuniform,\n"
     "skip_damaged);\n"
     "exactly the file named (x.nii.gz never falls back to x.nii). Geometry is\n"
     "converted to LPS; NIfTI scl_slope/scl_inter are applied as nibabel's\n"
     "get_fdata does unless raw=true. v.meta holds the header fields.\n"
     "Errors: a message naming the file and what is wrong (missing, truncated,\n"
     "corrupt, absurd dimensions).\n"
     "Example: local ct = vol.read(\"scan.nii.gz\")"},
    {"save_npy_stack", l_save_npy_stack,
     "vol.save_npy_stack(path, {v1, v2, ...} [, {layout=nil}]) -> nil\n"
     "Writes volumes of equal dtype and shape as one NumPy array, C order.\n"
     "Without layout: shape (N, nz, ny, nx) (a 4-D volume's channels first,\n"
     "(N, C, nz, ny, nx)): np.load(path)[n] is volume n+1 as SimpleITK's\n"
     "GetArrayFromImage would give it. layout names the framework's order, the\n"
     "channels being a volume's 4th axis (C = 1 without one):\n"
     "  \"NDHWC\" (Keras, channels last)    (N, nz, ny, nx, C)\n"
     "  \"NCDHW\" (PyTorch, channels first) (N, C, nz, ny, nx)\n"
     "  \"NHWC\", \"NCHW\" for 2-D volumes    (N, ny, nx, C), (N, C, ny, nx)\n"
     "Errors: an empty list, a non-Volume item, shapes or dtypes that differ\n"
     "(naming the volume), a volume of the wrong rank for the layout.\n"
     "Example: vol.save_npy_stack(\"x.npy\", vols, {layout=\"NDHWC\"})  -- (N, 96, 128, 160, 1)"},
    {"format_of", l_format_of,
     "vol.format_of(path) -> string | nil\nThe format medula would use for path, judged by its suffix."},
    {NULL, NULL, NULL}};

static const MdLuaReg methods[] = {
    {"write", l_write,
     "v:write(path [, {level=n, compress=false, nifti2=false, fsync=true}]) -> v\n"
     "Writes v; the format follows the suffix: .nii, .nii.gz, .hdr (+ .img), .mhd (+ .raw, or\n"
     ".zraw with compress=true), .mha, .npy (shape (nz, ny, nx), C order).\n"
     "The file appears complete or not at all (written under a temporary name,\n"
     "then renamed). level: compression level, 0-12 for .nii.gz (default: chosen per\n"
     "1 MB block, level 1 or 2, so the file is no larger than nibabel's), zlib's 0-9\n"
     "for compressed MetaImage. fsync=false skips the fsync of file and folder\n"
     "(scratch output; default from vol.set_fsync). A path that is a symbolic link\n"
     "is written through (its target is replaced, as cp does); Ctrl-C stops the\n"
     "write within one block and leaves nothing behind."},
    {NULL, NULL, NULL}};

void md_open_io(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    md_lua_register(L, functions);
    md_push_methods(L, module);
    md_lua_register(L, methods);
    lua_pop(L, 1);
}
