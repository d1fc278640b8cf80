/* Binding of the DICOM readers (io/dicom.h): vol.read_dicom,
 * vol.dicom_series, vol.dicom_header, vol.read_dicom_seg. Option tables to
 * C structs, C results to volumes and tables; no algorithm here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/dicom.h"
#include "../io/dicom_parse.h"
#include "lvolume.h"

/* Scratch that must be freed even when a function raises. */
typedef struct DicomBox {
    MdMeta meta;
    MdDicomScan scan;
} DicomBox;

static int box_gc(lua_State *L)
{
    DicomBox *b = lua_touserdata(L, 1);
    md_meta_free(&b->meta);
    md_dicom_scan_free(&b->scan);
    return 0;
}

/* Pushes a new box. Stack: +1. */
static DicomBox *push_box(lua_State *L)
{
    DicomBox *b = lua_newuserdatauv(L, sizeof *b, 0);
    memset(b, 0, sizeof *b);
    md_meta_init(&b->meta);
    if (luaL_newmetatable(L, "medula.DicomBox")) {
        lua_pushcfunction(L, box_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, box_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_setmetatable(L, -2);
    return b;
}

/* Pushes meta as a table of strings. Stack: +1. */
static void push_meta(lua_State *L, const MdMeta *m)
{
    lua_createtable(L, 0, (int)m->n);
    for (size_t i = 0; i < m->n; i++) {
        lua_pushstring(L, m->vals[i]);
        lua_setfield(L, -2, m->keys[i]);
    }
}

/* The Lua progress function at stack index fn, called in protected mode:
 * an error in it cancels the scan and is raised once the scan is freed. */
typedef struct ScanProgress {
    lua_State *L;
    int fn, failed;
} ScanProgress;

static int call_progress(void *ud, size_t done, size_t total)
{
    ScanProgress *p = ud;
    lua_pushvalue(p->L, p->fn);
    lua_pushinteger(p->L, (lua_Integer)done);
    lua_pushinteger(p->L, (lua_Integer)total);
    if (lua_pcall(p->L, 2, 0, 0) != LUA_OK) {
        p->failed = 1; /* the message stays on the stack */
        return 1;
    }
    return 0;
}

static void read_opts(lua_State *L, int idx, MdDicomOpts *o)
{
    static const char *const keys[] = {"recursive",        "series",       "dtype",
                                       "raw",              "keep_padding", "allow_nonuniform",
                                       "skip_damaged",     "progress",     "padding",
                                       NULL};
    static const char *const dtypes[] = {"auto", "int16", "float32", NULL};
    md_lua_checkopts(L, idx, keys);
    memset(o, 0, sizeof *o);
    o->recursive = md_lua_optboolfield(L, idx, "recursive", 0);
    o->series = md_lua_optstrfield(L, idx, "series", NULL);
    o->raw = md_lua_optboolfield(L, idx, "raw", 0);
    o->keep_padding = md_lua_optboolfield(L, idx, "keep_padding", 0);
    o->allow_nonuniform = md_lua_optboolfield(L, idx, "allow_nonuniform", 0);
    o->skip_damaged = md_lua_optboolfield(L, idx, "skip_damaged", 0);
    o->dtype = -1;
    const char *dt = md_lua_optstrfield(L, idx, "dtype", "auto");
    int k = 0;
    while (dtypes[k] && strcmp(dtypes[k], dt)) k++;
    if (!dtypes[k])
        luaL_argerror(L, idx,
                      lua_pushfstring(
                          L, "dtype must be \"auto\", \"int16\" or \"float32\" (got \"%s\")", dt));
    o->dtype = k == 1 ? MD_INT16 : k == 2 ? MD_FLOAT32 : -1;
    static const char *const pads[] = {"air", "keep", "intercept", NULL}; /* MD_PAD_* order */
    const char *pad = md_lua_optstrfield(L, idx, "padding", NULL);
    if (pad) {
        k = 0;
        while (pads[k] && strcmp(pads[k], pad)) k++;
        if (!pads[k])
            luaL_argerror(L, idx,
                          lua_pushfstring(L, "padding must be \"air\", \"keep\" or \"intercept\" (got \"%s\")",
                                          pad));
        if (o->keep_padding && k != MD_PAD_KEEP)
            luaL_argerror(L, idx, "keep_padding=true contradicts padding (give one of them)");
        o->keep_padding = k;
    }
}

/* The file list at idx as a C array living in a userdata. Stack: +1. */
static const char **check_paths(lua_State *L, int idx, size_t *n)
{
    *n = lua_rawlen(L, idx);
    luaL_argcheck(L, *n > 0, idx, "the list of files is empty");
    const char **p = lua_newuserdatauv(L, *n * sizeof *p, 0);
    for (size_t i = 0; i < *n; i++) {
        lua_rawgeti(L, idx, (lua_Integer)i + 1);
        if (!lua_isstring(L, -1)) luaL_argerror(L, idx, "a list of file names expected");
        p[i] = lua_tostring(L, -1); /* the list keeps the string alive */
        lua_pop(L, 1);
    }
    return p;
}

/* Also vol.read's entry for DICOM files and folders (lio.c). */
int md_lua_read_dicom(lua_State *L);
int md_lua_read_dicom(lua_State *L)
{
    lua_settop(L, 2); /* the option table stays at 2 whatever is pushed later */
    int list = lua_istable(L, 1);
    const char *path = list ? NULL : luaL_checkstring(L, 1);
    size_t n = 0;
    const char **paths = list ? check_paths(L, 1, &n) : NULL; /* at 3 for a list */
    MdDicomOpts o;
    read_opts(L, 2, &o);
    ScanProgress prog = {L, 0, 0};
    if (lua_istable(L, 2) && lua_getfield(L, 2, "progress") != LUA_TNIL) {
        luaL_argcheck(L, lua_isfunction(L, -1), 2, "progress must be a function(done, total)");
        prog.fn = lua_gettop(L);
        o.progress = call_progress, o.progress_ud = &prog;
    }
    DicomBox *box = push_box(L);
    MdVolume *v = md_lua_newvolume(L);
    MdError err;
    MdStatus st = list ? md_dicom_read_files(paths, n, &o, v, &box->meta, &err)
                       : md_dicom_read_ex(path, &o, v, &box->meta, &err);
    if (st != MD_OK || prog.failed) { /* a progress error after the last slice too */
        md_volume_release(v);
        if (prog.failed) return lua_error(L); /* the progress function's own error */
        return md_lua_raise(L, &err);
    }
    md_lua_account(L, v);
    push_meta(L, &box->meta);
    lua_setiuservalue(L, -2, 1);
    return 1;
}

static void set_num(lua_State *L, const char *k, double x)
{
    lua_pushnumber(L, x);
    lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *s)
{
    lua_pushstring(L, s);
    lua_setfield(L, -2, k);
}

/* Pushes one series entry. Stack: +1. */
static void push_series(lua_State *L, const MdDicomScan *scan, const MdDicomSeries *s)
{
    const MdDicomFile *f0 = &scan->files[s->files[0]];
    lua_createtable(L, 0, 16);
    set_str(L, "id", s->id);
    set_str(L, "uid", s->uid);
    set_str(L, "description", f0->description);
    set_str(L, "modality", f0->modality);
    set_str(L, "study_uid", f0->study_uid);
    lua_pushinteger(L, s->nfiles);
    lua_setfield(L, -2, "nfiles");
    lua_createtable(L, 3, 0);
    for (int i = 0; i < 3; i++) {
        lua_pushinteger(L, (lua_Integer)s->dim[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "dims");
    set_str(L, "orientation", f0->has_iop ? s->orientation : "");
    md_lua_pushnumbers(L, s->iop, 6);
    lua_setfield(L, -2, "iop");
    if (s->problem[0]) set_str(L, "problem", s->problem);
    if (s->nonuniform[0]) set_str(L, "warning", s->nonuniform);
    if (s->tilt_deg > 0) set_num(L, "tilt_deg", s->tilt_deg);
    lua_pushboolean(L, !s->problem[0] && !s->nonuniform[0]);
    lua_setfield(L, -2, "stackable");
    lua_createtable(L, s->nfiles, 0);
    for (int k = 0; k < s->nfiles; k++) {
        lua_pushstring(L, scan->files[s->files[k]].path);
        lua_rawseti(L, -2, k + 1);
    }
    lua_setfield(L, -2, "files");
}

static int l_dicom_series(lua_State *L)
{
    static const char *const keys[] = {"recursive", "progress", NULL};
    const char *path = luaL_checkstring(L, 1);
    lua_settop(L, 2);
    md_lua_checkopts(L, 2, keys);
    int rec = md_lua_optboolfield(L, 2, "recursive", 0);
    ScanProgress prog = {L, 0, 0};
    if (lua_istable(L, 2) && lua_getfield(L, 2, "progress") != LUA_TNIL) {
        luaL_argcheck(L, lua_isfunction(L, -1), 2, "progress must be a function(done, total)");
        prog.fn = lua_gettop(L);
    }
    DicomBox *box = push_box(L);
    MdError err;
    if (md_dicom_scan_ex(path, rec, prog.fn ? call_progress : NULL, &prog, &box->scan, &err) !=
            MD_OK ||
        prog.failed) {
        if (prog.failed) return lua_error(L); /* the progress function's own error */
        md_error_prefix(&err, path);
        return md_lua_raise(L, &err);
    }
    lua_createtable(L, (int)box->scan.nseries, 1);
    for (size_t i = 0; i < box->scan.nseries; i++) {
        push_series(L, &box->scan, &box->scan.series[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_pushinteger(L, (lua_Integer)box->scan.skipped);
    lua_setfield(L, -2, "skipped");
    lua_createtable(L, (int)box->scan.skipped, 0);
    for (size_t i = 0; i < box->scan.skipped; i++) {
        lua_pushstring(L, box->scan.skipped_paths[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "skipped_files");
    lua_createtable(L, (int)box->scan.ndamaged, 0);
    for (size_t i = 0; i < box->scan.ndamaged; i++) {
        lua_createtable(L, 0, 2);
        set_str(L, "path", box->scan.damaged[i].path);
        set_str(L, "error", box->scan.damaged[i].why);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "damaged");
    return 1;
}

static int l_dicom_header(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    DicomBox *box = push_box(L);
    MdError err;
    if (md_dicom_header(path, &box->meta, &err) != MD_OK) return md_lua_raise(L, &err);
    push_meta(L, &box->meta);
    return 1;
}

/* Pushes the SEG info table. Stack: +1. */
static void push_seg_info(lua_State *L, const MdSegInfo *in)
{
    lua_createtable(L, 0, 6);
    lua_createtable(L, in->nsegments, 0);
    for (int i = 0; i < in->nsegments; i++) {
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, in->numbers[i]);
        lua_setfield(L, -2, "number");
        set_str(L, "label", in->labels[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "segments");
    md_lua_pushexact(L, (double)in->overlap_voxels, 1);
    lua_setfield(L, -2, "overlap_voxels");
    lua_pushboolean(L, in->fractional);
    lua_setfield(L, -2, "fractional");
    lua_pushinteger(L, in->frames);
    lua_setfield(L, -2, "frames");
    lua_pushinteger(L, in->frames_placed);
    lua_setfield(L, -2, "frames_placed");
}

/* Reads the CT a SEG refers to from folder dir (its ReferencedSeriesSequence
 * picks the series). Stack: +1 (the Volume). */
static MdVolume *read_reference(lua_State *L, const char *seg, const char *dir)
{
    char uid[68];
    MdError err;
    if (md_dicom_seg_referenced_series(seg, uid, sizeof uid, &err) != MD_OK) md_lua_raise(L, &err);
    MdDicomOpts o = {.recursive = 1, .series = uid[0] ? uid : NULL, .dtype = -1};
    DicomBox *box = push_box(L);
    MdVolume *v = md_lua_newvolume(L);
    if (md_dicom_read_ex(dir, &o, v, &box->meta, &err) != MD_OK) {
        md_volume_release(v);
        md_lua_raise(L, &err);
    }
    md_lua_account(L, v);
    push_meta(L, &box->meta);
    lua_setiuservalue(L, -2, 1);
    lua_remove(L, -2); /* the box */
    return v;
}

static int l_read_dicom_seg(lua_State *L)
{
    static const char *const keys[] = {"masks", NULL};
    const char *path = luaL_checkstring(L, 1);
    lua_settop(L, 3);
    md_lua_checkopts(L, 3, keys);
    int masks = md_lua_optboolfield(L, 3, "masks", 0);
    const MdVolume *ref = NULL;
    int from_dir = lua_type(L, 2) == LUA_TSTRING;
    if (from_dir) {
        ref = read_reference(L, path, lua_tostring(L, 2));
        lua_replace(L, 2);
    } else if (!lua_isnil(L, 2)) {
        ref = md_lua_checkvolume(L, 2);
    }
    DicomBox *box = push_box(L);
    MdSegInfo *info = lua_newuserdatauv(L, sizeof *info, 0);
    memset(info, 0, sizeof *info);
    MdVolume *v = md_lua_newvolume(L);
    MdError err;
    if (md_dicom_read_seg(path, ref, masks, v, info, &box->meta, &err) != MD_OK) {
        md_volume_release(v);
        return md_lua_raise(L, &err);
    }
    md_lua_account(L, v);
    push_meta(L, &box->meta);
    lua_setiuservalue(L, -2, 1);
    push_seg_info(L, info);
    if (!from_dir) return 2;
    lua_pushvalue(L, 2);
    return 3;
}

static int l_dicom_keyword(lua_State *L)
{
    unsigned g, e;
    const char *s = luaL_checkstring(L, 1);
    const char *kw = NULL;
    if (sscanf(s, "%4x,%4x", &g, &e) == 2)
        kw = md_dcm_keyword(MD_DCM_TAG(g, e), NULL);
    else if (md_dcm_tag_of(s)) {
        char buf[16];
        snprintf(buf, sizeof buf, "%04X,%04X", (unsigned)(md_dcm_tag_of(s) >> 16),
                 (unsigned)(md_dcm_tag_of(s) & 0xFFFF));
        kw = buf;
        lua_pushstring(L, kw);
        return 1;
    }
    if (kw)
        lua_pushstring(L, kw);
    else
        lua_pushnil(L);
    return 1;
}

static const MdLuaReg functions[] = {
    {"read_dicom", md_lua_read_dicom,
     "vol.read_dicom(path [, opts]) -> Volume\n"
     "Reads one DICOM file, the series in a folder, or the files of a list (e.g. a\n"
     "series' .files from vol.dicom_series), in Hounsfield units.\n"
     "A folder is scanned (sub-folders with recursive=true), files are grouped by\n"
     "SeriesInstanceUID (then orientation and size) and slices ordered along the\n"
     "slice normal by ImagePositionPatient; spacing comes from the positions.\n"
     "opts: series=id (required when the folder holds several; see vol.dicom_series),\n"
     "  dtype=\"auto\"|\"int16\"|\"float32\" (auto: int16 when every slice's\n"
     "  RescaleSlope and RescaleIntercept are whole numbers (within 1e-6) and every\n"
     "  stored x slope + intercept fits int16, else float32, even when a fractional\n"
     "  slope happens to give whole values; a forced int16 rounds), raw=false\n"
     "  (stored values),\n"
     "  keep_padding=false (CT: PixelPaddingValue and -2000 become -1024 HU),\n"
     "  padding=\"air\" (that -1024 HU; \"keep\" as keep_padding=true; \"intercept\":\n"
     "  the DSB2017 tutorial's get_pixels_hu, stored -2000 set to 0 before the\n"
     "  rescale so it becomes RescaleIntercept, any modality, PixelPaddingValue\n"
     "  not special),\n"
     "  allow_nonuniform=false (stack uneven gaps with the first gap as spacing),\n"
     "  recursive=false, skip_damaged=false (a folder file that starts like DICOM but\n"
     "  cannot be read fails the read, naming it; true: read without it),\n"
     "  progress=nil (a function(done, total) called as the slices of a series are\n"
     "  decoded, every 16 files; an error in it stops the read).\n"
     "Geometry is LPS as ITK gives it: axis 1 along a row (columns), axis 2 down the\n"
     "columns (rows), axis 3 along the normal. v.meta holds every top-level tag by\n"
     "keyword and as \"GGGG,EEEE\", plus slice_spacing_mm, gantry_tilt_deg, dicom_files,\n"
     "and, one per line, dicom_skipped_files (not DICOM images: README, DICOMDIR, ...)\n"
     "and dicom_damaged_files (\"path: problem\", with skip_damaged=true).\n"
     "Errors: gaps, duplicates, several series, unsupported transfer syntaxes and\n"
     "damaged files raise a message naming the file.\n"
     "Example: local ct = vol.read_dicom(\"patient01/\")\n"
     "         print(ct.meta.PatientID, ct:stats().min)"},
    {"dicom_series", l_dicom_series,
     "vol.dicom_series(path [, {recursive=false, progress=nil}]) -> {series...}\n"
     "Lists the series of a folder without reading pixels: one table per group with\n"
     "id (pass it as read_dicom's series), uid, description, modality, study_uid,\n"
     "nfiles, dims {x, y, z}, orientation (e.g. \"LPS\"), iop, stackable, problem /\n"
     "warning (why it cannot be stacked as is), tilt_deg, files (sorted along the\n"
     "normal). .skipped counts files that are not DICOM images, .skipped_files lists\n"
     "them; .damaged lists {path, error} of files that start like DICOM but cannot be\n"
     "read (vol.read_dicom on the folder refuses them unless skip_damaged=true).\n"
     "Sub-folders are entered once: a link back to a folder already visited is not\n"
     "followed again. progress: a function(done, total) called as headers are read\n"
     "(files read so far of those listed); an error in it stops the scan.\n"
     "Example: for _, s in ipairs(vol.dicom_series(\"study/\")) do print(s.id, s.nfiles) end"},
    {"dicom_header", l_dicom_header,
     "vol.dicom_header(path) -> table\n"
     "The top-level attributes of one DICOM file (pixels are not read), by keyword\n"
     "where medula knows it and always as \"GGGG,EEEE\" (hexadecimal group,element).\n"
     "Example: print(vol.dicom_header(\"slice.dcm\")[\"0018,0050\"])"},
    {"read_dicom_seg", l_read_dicom_seg,
     "vol.read_dicom_seg(path [, ref] [, {masks=false}]) -> Volume, info [, ref]\n"
     "Reads a DICOM SEG file onto the grid of ref: the CT Volume it segments, or a\n"
     "folder holding that CT (the series named by the SEG's ReferencedSeriesSequence\n"
     "is read and returned third); nil: the grid the SEG's own frames span. Frames\n"
     "are placed by their per-frame positions; the empty frames the file leaves out\n"
     "stay 0. masks=false: an int32 label volume of segment numbers (a voxel in\n"
     "several segments keeps the highest); masks=true: a 4-D volume, one mask per\n"
     "segment along axis 4 (uint8, or float32 fractions 0..1 for FRACTIONAL\n"
     "segmentations). info = {segments = {{number, label}...}, overlap_voxels,\n"
     "fractional, frames, frames_placed}.\n"
     "Example: local ct = vol.read_dicom(\"ct/\")\n"
     "         local seg, info = vol.read_dicom_seg(\"seg.dcm\", ct)"},
    {"dicom_keyword", l_dicom_keyword,
     "vol.dicom_keyword(tag) -> string | nil\n"
     "The keyword of a tag given as \"GGGG,EEEE\", or the tag of a keyword, from\n"
     "medula's dictionary of the attributes it interprets (nil when unknown).\n"
     "Example: vol.dicom_keyword(\"0018,0050\")  --> \"SliceThickness\""},
    {NULL, NULL, NULL}};

/* Picked up by lvol.c's weak reference. */
void md_open_dicom(lua_State *L, int module);
void md_open_dicom(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    lua_pushvalue(L, module);
    md_lua_register(L, functions);
    lua_pop(L, 1);
}
