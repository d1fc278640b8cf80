/* Binding of io/fs and core/sha256 as the table vol.fs: listing, glob,
 * stat, mkdir -p, remove, rename, path strings and file digests, so scripts
 * and the runner never shell out. Holds no algorithm. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/sha256.h"
#include "../io/fs.h"
#include "lvolume.h"

void md_open_fs(lua_State *L, int module);

/* A box for a string list held across calls that may raise. Stack: +1. */
static int strlist_gc(lua_State *L)
{
    md_strlist_free(luaL_checkudata(L, 1, "medula.strlist"));
    return 0;
}

static MdStrList *new_strlist(lua_State *L)
{
    MdStrList *l = lua_newuserdatauv(L, sizeof *l, 0);
    memset(l, 0, sizeof *l);
    if (luaL_newmetatable(L, "medula.strlist")) {
        lua_pushcfunction(L, strlist_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return l;
}

/* Replaces the box at the top by a Lua list of its strings. Stack: 0. */
static int push_strlist(lua_State *L, MdStrList *l)
{
    lua_createtable(L, (int)l->n, 0);
    for (size_t i = 0; i < l->n; i++) {
        lua_pushstring(L, l->items[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    md_strlist_free(l);
    return 1;
}

static int l_list(lua_State *L)
{
    static const char *const keys[] = {"recursive", NULL};
    const char *dir = luaL_checkstring(L, 1);
    md_lua_checkopts(L, 2, keys);
    int recursive = md_lua_optboolfield(L, 2, "recursive", 0);
    MdStrList *l = new_strlist(L);
    MdError err;
    if (md_fs_list(dir, recursive, l, &err) != MD_OK) return md_lua_raise(L, &err);
    return push_strlist(L, l);
}

static int l_glob(lua_State *L)
{
    const char *pattern = luaL_checkstring(L, 1);
    MdStrList *l = new_strlist(L);
    MdError err;
    if (md_fs_glob(pattern, l, &err) != MD_OK) return md_lua_raise(L, &err);
    return push_strlist(L, l);
}

static int l_exists(lua_State *L)
{
    MdFsStat st;
    lua_pushboolean(L, md_fs_stat(luaL_checkstring(L, 1), 0, &st, NULL) == MD_OK);
    return 1;
}

static int l_stat(lua_State *L)
{
    static const char *const keys[] = {"follow", NULL};
    static const char *const kinds[] = {"none", "file", "dir", "link", "other"};
    const char *path = luaL_checkstring(L, 1);
    md_lua_checkopts(L, 2, keys);
    int follow = md_lua_optboolfield(L, 2, "follow", 1);
    MdFsStat st;
    MdError err;
    if (md_fs_stat(path, !follow, &st, &err) != MD_OK) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    lua_createtable(L, 0, 3);
    lua_pushstring(L, kinds[st.kind]);
    lua_setfield(L, -2, "kind");
    lua_pushinteger(L, (lua_Integer)st.size);
    lua_setfield(L, -2, "size");
    lua_pushnumber(L, st.mtime);
    lua_setfield(L, -2, "mtime");
    return 1;
}

static int l_mkdir(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    MdError err;
    if (md_fs_mkdir(path, &err) != MD_OK) return md_lua_raise(L, &err);
    lua_settop(L, 1);
    return 1;
}

static int l_remove(lua_State *L)
{
    static const char *const keys[] = {"recursive", "missing_ok", NULL};
    const char *path = luaL_checkstring(L, 1);
    md_lua_checkopts(L, 2, keys);
    int recursive = md_lua_optboolfield(L, 2, "recursive", 0);
    int missing_ok = md_lua_optboolfield(L, 2, "missing_ok", 0);
    luaL_argcheck(L, path[0] != 0, 1, "empty path");
    MdError err;
    if (md_fs_remove(path, recursive, missing_ok, &err) != MD_OK) return md_lua_raise(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_rename(lua_State *L)
{
    const char *from = luaL_checkstring(L, 1), *to = luaL_checkstring(L, 2);
    MdError err;
    if (md_fs_rename(from, to, &err) != MD_OK) return md_lua_raise(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

/* Pushes s (new) and frees it; raises when it is NULL (out of memory). */
static int push_owned(lua_State *L, char *s)
{
    if (!s) return luaL_error(L, "out of memory");
    lua_pushstring(L, s);
    free(s);
    return 1;
}

static int l_join(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_argcheck(L, n >= 1, 1, "at least one path part expected");
    const char **parts = lua_newuserdatauv(L, (size_t)n * sizeof *parts, 0);
    for (int i = 1; i <= n; i++) parts[i - 1] = luaL_checkstring(L, i);
    return push_owned(L, md_fs_join(parts, (size_t)n));
}

static int l_basename(lua_State *L)
{
    return push_owned(L, md_fs_basename(luaL_checkstring(L, 1)));
}

static int l_dirname(lua_State *L)
{
    return push_owned(L, md_fs_dirname(luaL_checkstring(L, 1)));
}

static int l_extension(lua_State *L)
{
    return push_owned(L, md_fs_extension(luaL_checkstring(L, 1)));
}

static int l_stem(lua_State *L)
{
    return push_owned(L, md_fs_stem(luaL_checkstring(L, 1)));
}

static int l_absolute(lua_State *L)
{
    MdError err;
    char *s = md_fs_absolute(luaL_checkstring(L, 1), &err);
    if (!s) return md_lua_raise(L, &err);
    return push_owned(L, s);
}

static int l_sha256(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char hex[65];
    int64_t size;
    MdError err;
    if (md_sha256_file(path, hex, &size, &err) != MD_OK) return md_lua_raise(L, &err);
    lua_pushstring(L, hex);
    lua_pushinteger(L, (lua_Integer)size);
    return 2;
}

static const MdLuaReg functions[] = {
    {"list", l_list,
     "vol.fs.list(dir [, {recursive=false}]) -> {name, ...}\n"
     "The entries of folder dir (files, folders, hidden ones too; not '.' or '..'),\n"
     "sorted by byte order. With recursive=true, the entries of every sub-folder follow\n"
     "as \"sub/name\" (symlinked folders are listed, not entered).\n"
     "Errors: dir is missing or not a folder.\n"
     "  for _, name in ipairs(vol.fs.list(\"scans\")) do print(name) end"},
    {"glob", l_glob,
     "vol.fs.glob(pattern) -> {path, ...}\n"
     "The paths matching pattern, sorted: '*', '?' and '[...]' within one path component\n"
     "(a leading '.' only by a literal '.'), and a component '**' for zero or more folders.\n"
     "No match gives an empty list.\n"
     "  local scans = vol.fs.glob(\"data/**/*.nii.gz\")"},
    {"exists", l_exists,
     "vol.fs.exists(path) -> boolean\nWhether path exists (a symlink counts when its target exists).\n"
     "  if not vol.fs.exists(out) then ... end"},
    {"stat", l_stat,
     "vol.fs.stat(path [, {follow=true}]) -> {kind=, size=, mtime=} | nil, message\n"
     "kind is \"file\", \"dir\", \"link\" (only with follow=false) or \"other\"; size in bytes;\n"
     "mtime in seconds since 1970 with the fraction. A missing path gives nil and a message.\n"
     "  local st = vol.fs.stat(\"scan.nii.gz\"); print(st.size)"},
    {"mkdir", l_mkdir,
     "vol.fs.mkdir(path) -> path\nCreates folder path and its missing parents (as mkdir -p); an existing\n"
     "folder is fine. Errors: path or a parent exists and is not a folder, no permission.\n"
     "  vol.fs.mkdir(\"out/masks\")"},
    {"remove", l_remove,
     "vol.fs.remove(path [, {recursive=false, missing_ok=false}]) -> true\n"
     "Removes a file, a symlink or an empty folder; recursive=true removes a folder and\n"
     "everything under it (symlinks are removed, never followed). Errors: path missing\n"
     "(unless missing_ok), a non-empty folder without recursive, no permission.\n"
     "  vol.fs.remove(\"out/tmp\", {recursive=true, missing_ok=true})"},
    {"rename", l_rename,
     "vol.fs.rename(from, to) -> true\nRenames (moves) from to to, replacing a file at to; atomic on one file system.\n"
     "Errors: from missing, to on another file system, no permission.\n"
     "  vol.fs.rename(\"out/.mask.tmp\", \"out/mask.nii.gz\")"},
    {"join", l_join,
     "vol.fs.join(part, ...) -> string\nJoins path parts with '/' (an absolute part restarts the path, as os.path.join).\n"
     "  vol.fs.join(\"out\", \"case1\", \"mask.nii.gz\")  --> \"out/case1/mask.nii.gz\""},
    {"basename", l_basename,
     "vol.fs.basename(path) -> string\nThe last component of path (trailing slashes ignored).\n"
     "  vol.fs.basename(\"a/b/scan.nii.gz\")  --> \"scan.nii.gz\""},
    {"dirname", l_dirname,
     "vol.fs.dirname(path) -> string\nEverything before the last component (\".\" when there is none, \"/\" at the root).\n"
     "  vol.fs.dirname(\"a/b/scan.nii.gz\")  --> \"a/b\""},
    {"extension", l_extension,
     "vol.fs.extension(path) -> string\nThe extension of the file name, with its dot; a compression suffix (.gz, .bz2,\n"
     ".xz, .zst) keeps the suffix before it. \"\" when there is none (also for \".bashrc\").\n"
     "  vol.fs.extension(\"scan.nii.gz\")  --> \".nii.gz\""},
    {"stem", l_stem,
     "vol.fs.stem(path) -> string\nThe file name without folder and extension (vol.fs.extension).\n"
     "  vol.fs.stem(\"data/1.3.6.1.mhd\")  --> \"1.3.6.1\"   vol.fs.stem(\"x/ab.nii.gz\")  --> \"ab\""},
    {"absolute", l_absolute,
     "vol.fs.absolute(path) -> string\nThe absolute form of path: joined to the working folder, '.' and '..' folded\n"
     "as text (symlinks are not resolved; path need not exist).\n"
     "  vol.fs.absolute(\"../data\")"},
    {"sha256", l_sha256,
     "vol.fs.sha256(path) -> hex, size\nThe SHA-256 digest of a file as 64 lowercase hex digits, and its size in bytes\n"
     "(the same digest as sha256sum). Errors: the file cannot be read.\n"
     "  print(vol.fs.sha256(\"mask.nii.gz\"))"},
    {NULL, NULL, NULL}};

void md_open_fs(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    lua_newtable(L);
    md_lua_register(L, functions);
    lua_setfield(L, module, "fs");
}
