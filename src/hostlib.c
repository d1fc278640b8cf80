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
    md_lua_setarea(L, 1);
    md_lua_pushdocs(L);
    lua_insert(L, 1);
    lua_rawset(L, 1);
    return 0;
}

/* docstore.area(fn) -> string | nil: the area that registered fn. */
static int l_doc_area(lua_State *L)
{
    luaL_checkany(L, 1);
    md_lua_pushareas(L);
    lua_pushvalue(L, 1);
    lua_rawget(L, -2);
    return 1;
}

/* docstore.set_area(name | nil): the area the next docstore.set calls record. */
static int l_doc_set_area(lua_State *L)
{
    static char name[64];
    const char *s = luaL_optstring(L, 1, NULL);
    if (s) snprintf(name, sizeof name, "%s", s);
    md_lua_set_area(s ? name : NULL);
    return 0;
}

static int open_docstore(lua_State *L)
{
    static const luaL_Reg f[] = {{"get", l_doc_get},   {"set", l_doc_set},
                                 {"area", l_doc_area}, {"set_area", l_doc_set_area},
                                 {NULL, NULL}};
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

/* term.bar(label, done, total): draws the progress bar (stderr terminal only). */
static int l_bar(lua_State *L)
{
    const char *label = luaL_checkstring(L, 1);
    lua_Number done = luaL_checknumber(L, 2), total = luaL_checknumber(L, 3);
    if (total < 0) total = 0;
    if (done < 0) done = 0;
    md_host_bar(label, (uint64_t)done, (uint64_t)total);
    return 0;
}

static int open_term(lua_State *L)
{
    static const luaL_Reg f[] = {{"isatty", l_isatty}, {"columns", l_columns}, {"bar", l_bar}, {NULL, NULL}};
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

/* The description at the top of the file at path ("" when there is none),
 * in line (of size n): the opening comment lines ("--", after any "#!"
 * line) joined with spaces up to the end of the first sentence, a blank
 * comment line or a "Usage:" line. */
static void first_comment(const char *path, char *line, size_t n)
{
    char buf[512];
    size_t len = 0;
    line[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL) return;
    for (int i = 0; i < 12 && fgets(buf, sizeof buf, f) != NULL; i++) {
        if (i == 0 && buf[0] == '#') continue;
        if (strncmp(buf, "--", 2) != 0) break;
        const char *s = buf + 2;
        while (*s == '-' || *s == ' ' || *s == '\t') s++;
        size_t m = strcspn(s, "\r\n");
        if (m == 0 || strncmp(s, "Usage:", 6) == 0) break;
        /* the sentence ends at a period followed by a space or the line's end */
        size_t end = m;
        int done = 0;
        for (size_t k = 0; k < m; k++)
            if (s[k] == '.' && (k + 1 == m || s[k + 1] == ' ')) {
                end = k + 1;
                done = 1;
                break;
            }
        if (len && len + 1 < n) line[len++] = ' ';
        if (end > n - 1 - len) end = n - 1 - len;
        memcpy(line + len, s, end);
        len += end;
        line[len] = '\0';
        if (done || len + 1 >= n) break;
    }
    fclose(f);
}

/* Prints text wrapped at 79 columns, continuation lines indented by indent. */
static void print_wrapped(const char *text, int col, int indent)
{
    while (*text) {
        size_t room = col < 79 ? (size_t)(79 - col) : 20, len = strlen(text);
        size_t cut = len;
        if (len > room) {
            cut = room;
            while (cut > 0 && text[cut] != ' ') cut--;
            if (cut == 0) cut = strcspn(text, " ");
        }
        printf("%.*s\n", (int)cut, text);
        text += cut;
        while (*text == ' ') text++;
        if (*text) printf("%*s", indent, "");
        col = indent;
    }
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
        char path[PATH_MAX + 300], line[1024];
        snprintf(path, sizeof path, "%s/%s.lua", dir, names[i]);
        first_comment(path, line, sizeof line);
        int col = printf("  %-16s ", names[i]);
        if (line[0])
            print_wrapped(line, col, 19);
        else
            printf("\n");
        free(names[i]);
    }
    fflush(stdout);
    return 1;
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
}
