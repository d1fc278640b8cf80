/* The host's side of the `vol` module: the preloaded modules only the host
 * can provide (vol.core from the binding, vol.docstore over the docstring
 * registry, vol.term for terminal checks, vol.repl for completion) and the
 * bundled folders (lua/, scripts/) found relative to the running binary. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "bind/lvol.h"
#include "host.h"
#include "bind/lutil.h"
#include "repl.h"
#include "core/ctx.h"

/* ---- vol.docstore ------------------------------------------------------ */

/* docstore.get(fn) -> string | nil */
static int l_doc_get(lua_State *L)
{
    luaL_checkany(L, 1);
    md_lua_pushdocs(L);
    lua_pushvalue(L, 1);
    lua_rawget(L, -2);
    return 1;
}

/* docstore.set(fn, text | nil) */
static int l_doc_set(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    if (!lua_isnil(L, 2)) luaL_checktype(L, 2, LUA_TSTRING);
    lua_settop(L, 2);
    md_lua_pushdocs(L);
    lua_insert(L, 1);
    lua_rawset(L, 1);
    return 0;
}

static int open_docstore(lua_State *L)
{
    static const luaL_Reg f[] = {{"get", l_doc_get}, {"set", l_doc_set}, {NULL, NULL}};
    luaL_newlib(L, f);
    return 1;
}

/* ---- vol.term ---------------------------------------------------------- */

/* term.isatty(fd) -> boolean */
static int l_isatty(lua_State *L)
{
    lua_Integer fd = luaL_checkinteger(L, 1);
    lua_pushboolean(L, fd >= 0 && fd <= INT_MAX && isatty((int)fd));
    return 1;
}

/* term.columns(fd) -> integer | nil: the terminal's width. */
static int l_columns(lua_State *L)
{
    lua_Integer fd = luaL_checkinteger(L, 1);
    struct winsize ws;
    if (fd < 0 || fd > INT_MAX || ioctl((int)fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
        lua_pushnil(L);
    else
        lua_pushinteger(L, ws.ws_col);
    return 1;
}

static int open_term(lua_State *L)
{
    static const luaL_Reg f[] = {{"isatty", l_isatty}, {"columns", l_columns}, {NULL, NULL}};
    luaL_newlib(L, f);
    return 1;
}

/* ---- bundled folders ---------------------------------------------------- */

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int md_host_bundle_dir(const char *sub, char *out, size_t n)
{
    char exe[PATH_MAX], cand[PATH_MAX + 64], real[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return 0;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL) return 0;
    *slash = '\0';
    static const char *const layouts[] = {"%s/../share/medula/%s", "%s/../%s"};
    for (size_t i = 0; i < sizeof layouts / sizeof *layouts; i++) {
        snprintf(cand, sizeof cand, layouts[i], exe, sub);
        if (is_dir(cand) && realpath(cand, real) != NULL && strlen(real) < n) {
            strcpy(out, real);
            return 1;
        }
    }
    return 0;
}

/* The first comment line of the file at path ("" when there is none), in
 * line (of size n): the text after "--" on the first line starting with
 * "--", skipping a "#!" line. */
static void first_comment(const char *path, char *line, size_t n)
{
    char buf[512];
    line[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL) return;
    for (int i = 0; i < 5 && fgets(buf, sizeof buf, f) != NULL; i++) {
        if (buf[0] == '#') continue;
        if (strncmp(buf, "--", 2) != 0) break;
        const char *s = buf + 2;
        while (*s == '-' || *s == ' ' || *s == '\t') s++;
        size_t len = strcspn(s, "\r\n");
        if (len >= n) len = n - 1; /* a long first line is cut */
        memcpy(line, s, len);
        line[len] = '\0';
        break;
    }
    fclose(f);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int md_host_list_scripts(void)
{
    char dir[PATH_MAX];
    if (!md_host_bundle_dir("scripts", dir, sizeof dir)) {
        fprintf(stderr, "medula: the bundled scripts folder is missing (expected beside the "
                        "binary, in ../share/medula/scripts or ../scripts)\n");
        return 0;
    }
    DIR *d = opendir(dir);
    if (d == NULL) return 0;
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < sizeof names / sizeof *names) {
        size_t len = strlen(e->d_name);
        if (len > 4 && e->d_name[0] != '.' && strcmp(e->d_name + len - 4, ".lua") == 0)
            if ((names[n] = strndup(e->d_name, len - 4)) != NULL) n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    printf("Bundled scripts (run one with: medula -s NAME [args]):\n");
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX + 300], line[200];
        snprintf(path, sizeof path, "%s/%s.lua", dir, names[i]);
        first_comment(path, line, sizeof line);
        printf("  %-16s %s\n", names[i], line);
        free(names[i]);
    }
    fflush(stdout);
    return 1;
}

/* ---- the kernels' progress bar ------------------------------------------ */

/* The progress sink for kernels (core/ctx.h): a bar on stderr, installed only
 * when stderr is a terminal, so logs and pipes stay clean. Plain C: kernels
 * call it from their calling thread and it must not raise. */
static void draw_bar(void *ud, const char *label, size_t done, size_t total)
{
    (void)ud;
    struct winsize ws;
    int cols = ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
    int pct = total ? (int)(100.0 * (double)done / (double)total) : 100;
    int width = cols - (int)strlen(label) - 20;
    if (width > 40) width = 40;
    if (width < 10) width = 10;
    int filled = total ? (int)((double)width * (double)done / (double)total) : width;
    char fill[64];
    for (int i = 0; i < width; i++) fill[i] = i < filled ? '#' : '.';
    fill[width] = 0;
    fprintf(stderr, "\r%s [%s] %3d%%", label, fill, pct);
    if (done >= total) fputs("\r\033[K", stderr); /* a finished call leaves no bar behind */
    fflush(stderr);
}

/* ---- installing it all -------------------------------------------------- */

/* package.path = <lua>/?.lua;<lua>/?/init.lua;<old path>. Stack: unchanged. */
static void prepend_lua_path(lua_State *L)
{
    char dir[PATH_MAX];
    if (!md_host_bundle_dir("lua", dir, sizeof dir)) return; /* require "vol" will say what is missing */
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", dir, dir, lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
}

void md_host_openlibs(lua_State *L)
{
    static const luaL_Reg preload[] = {{"vol.core", md_open_vol_core},
                                       {"vol.docstore", open_docstore},
                                       {"vol.term", open_term},
                                       {"vol.repl", md_repl_open},
                                       {NULL, NULL}};
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    luaL_setfuncs(L, preload, 0);
    lua_pop(L, 1);
    prepend_lua_path(L);
    if (isatty(2)) md_set_progress_sink(draw_bar, NULL);
}
