/* The medula host: a command line compatible with the standard `lua` 5.4
 * program (options -e -l -i -v -E -W -- -, the `arg` table, LUA_INIT, exit
 * status, error messages) plus `-s NAME` to run a bundled script. All the
 * work runs inside one function called with lua_pcall. The REPL lives in
 * repl.c, running a chunk (traceback, Ctrl-C) in hostrun.c, the preloaded
 * host modules and bundle folders in hostlib.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core/ctx.h"
#include "host.h"
#include "repl.h"

#define INIT_VAR "LUA_INIT"
#define INIT_VAR_VERSIONED INIT_VAR "_" LUA_VERSION_MAJOR "_" LUA_VERSION_MINOR

/* Flags collected from the options. */
enum {
    OPT_ERROR = 1, /* bad option: print usage and fail */
    OPT_I = 2,     /* -i */
    OPT_V = 4,     /* -v (also set by -i) */
    OPT_E = 8,     /* -E */
    OPT_EXEC = 16, /* at least one -e */
    OPT_S = 32,    /* -s NAME: the script is a bundled one */
    OPT_LIST = 64  /* -s alone: list the bundled scripts */
};

static const char *progname = "medula";

/* ---- messages ---------------------------------------------------------- */

static void message(const char *msg)
{
    if (progname) fprintf(stderr, "%s: ", progname);
    fprintf(stderr, "%s\n", msg);
    fflush(stderr);
}

/* Prints the error on top of the stack (if status is an error) and pops it. */
static int report(lua_State *L, int status)
{
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        message(msg ? msg : "(error object is not a string)");
        lua_pop(L, 1);
    }
    return status;
}

static void print_usage(const char *badoption)
{
    if (badoption[1] == 'e' || badoption[1] == 'l' || badoption[1] == 's')
        fprintf(stderr, "%s: '%s' needs argument\n", progname, badoption);
    else
        fprintf(stderr, "%s: unrecognized option '%s'\n", progname, badoption);
    fprintf(stderr,
            "usage: %s [options] [script [args]]\n"
            "Available options are:\n"
            "  -e stat   execute string 'stat'\n"
            "  -i        enter interactive mode after executing 'script'\n"
            "  -l mod    require library 'mod' into global 'mod'\n"
            "  -l g=mod  require library 'mod' into global 'g'\n"
            "  -s name   run the bundled script 'name' (alone: list the bundled scripts)\n"
            "  -v        show version information\n"
            "  -E        ignore environment variables\n"
            "  -W        turn warnings on\n"
            "  --        stop handling options\n"
            "  -         stop handling options and execute stdin\n",
            progname);
    fflush(stderr);
}

static int dochunk(lua_State *L, int status)
{
    if (status == LUA_OK) status = md_host_docall(L, 0, 0);
    return report(L, status);
}

static int dofile(lua_State *L, const char *name)
{
    return dochunk(L, luaL_loadfile(L, name));
}

static int dostring(lua_State *L, const char *s, const char *chunkname)
{
    return dochunk(L, luaL_loadbuffer(L, s, strlen(s), chunkname));
}

/* -l [g=]mod: global g (default mod) = require(mod). */
static int dolibrary(lua_State *L, const char *spec)
{
    const char *eq = strchr(spec, '=');
    lua_pushglobaltable(L);
    lua_pushlstring(L, spec, eq ? (size_t)(eq - spec) : strlen(spec));
    lua_getglobal(L, "require");
    lua_pushstring(L, eq ? eq + 1 : spec);
    int status = md_host_docall(L, 1, 1);
    if (status == LUA_OK)
        lua_settable(L, -3);
    else
        lua_remove(L, -2); /* the global's name; the message stays on top */
    status = report(L, status);
    lua_pop(L, 1);
    return status;
}

/* LUA_INIT_5_4 or else LUA_INIT: "@file" runs file, anything else is code. */
static int run_luainit(lua_State *L)
{
    const char *name = "=" INIT_VAR_VERSIONED;
    const char *init = getenv(name + 1);
    if (init == NULL) {
        name = "=" INIT_VAR;
        init = getenv(name + 1);
    }
    if (init == NULL) return LUA_OK;
    if (init[0] == '@') return dofile(L, init + 1);
    return dostring(L, init, name);
}

/* ---- options and the arg table ---------------------------------------- */

/* Scans the options as lua does. *script is set to the index of the script
 * (for -s NAME: of "-s"), or 0 when there is none; on an error, to the bad
 * option. Returns the OPT_ flags. */
static int collect_args(char **argv, int *script)
{
    int flags = 0;
    int i;
    for (i = 1; argv[i] != NULL; i++) {
        const char *a = argv[i];
        *script = i;
        if (a[0] != '-') return flags; /* the script */
        switch (a[1]) {
        case '-': /* "--" */
            if (a[2] != '\0') return OPT_ERROR;
            *script = argv[i + 1] ? i + 1 : 0;
            return flags;
        case '\0': /* "-": stdin is the script */
            return flags;
        case 'E':
        case 'W':
            if (a[2] != '\0') return OPT_ERROR;
            if (a[1] == 'E') flags |= OPT_E;
            break;
        case 'i':
            flags |= OPT_I; /* -i implies -v */
            /* fall through */
        case 'v':
            if (a[2] != '\0') return OPT_ERROR;
            flags |= OPT_V;
            break;
        case 'e':
            flags |= OPT_EXEC;
            /* fall through */
        case 'l': /* both take an argument, attached or next */
            if (a[2] == '\0') {
                i++;
                if (argv[i] == NULL || argv[i][0] == '-') return OPT_ERROR;
            }
            break;
        case 's':
            if (a[2] != '\0') return OPT_ERROR;
            if (argv[i + 1] == NULL) {
                flags |= OPT_LIST;
                break;
            }
            if (argv[i + 1][0] == '-') return OPT_ERROR;
            return flags | OPT_S;
        default:
            return OPT_ERROR;
        }
    }
    *script = 0;
    return flags;
}

/* Runs the -e, -l and -W options in order, up to the script. Returns 0 on
 * the first failure (already reported). */
static int run_args(lua_State *L, char **argv, int optlim)
{
    for (int i = 1; i < optlim; i++) {
        char opt = argv[i][1];
        if (opt == 'W') {
            lua_warning(L, "@on", 0);
        } else if (opt == 'e' || opt == 'l') {
            const char *extra = argv[i] + 2;
            if (*extra == '\0') extra = argv[++i];
            int status = opt == 'e' ? dostring(L, extra, "=(command line)") : dolibrary(L, extra);
            if (status != LUA_OK) return 0;
        }
    }
    return 1;
}

/* Global arg: arg[0] = the script (the program when there is none), the
 * arguments before it at negative indices, those after it from 1. */
static void create_arg_table(lua_State *L, char **argv, int argc, int script)
{
    lua_createtable(L, argc - script - 1 > 0 ? argc - script - 1 : 0, script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

/* Pushes arg[1..#arg] for the main chunk's "...". Returns their number. */
static int push_script_args(lua_State *L)
{
    if (lua_getglobal(L, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
    int n = (int)luaL_len(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (int i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
    lua_remove(L, -n - 1);
    return n;
}

static int run_script(lua_State *L, char **argv, int script)
{
    const char *fname = argv[script];
    if (strcmp(fname, "-") == 0 && strcmp(argv[script - 1], "--") != 0) fname = NULL; /* stdin */
    int status = luaL_loadfile(L, fname);
    if (status == LUA_OK) {
        int n = push_script_args(L);
        status = md_host_docall(L, n, LUA_MULTRET);
    }
    return report(L, status);
}

/* For -s NAME: replaces the pair "-s" NAME in argv by the script's path, as
 * if the path had been given. Returns the new argv (in a userdata left on
 * the stack) or NULL after reporting that there is no such script. */
static char **bundled_argv(lua_State *L, char **argv, int *argc, int at)
{
    const char *name = argv[at + 1];
    char dir[4096];
    size_t len = strlen(name);
    if (strchr(name, '/') != NULL || !md_host_bundle_dir("scripts", dir, sizeof dir)) {
        lua_pushfstring(L, "no bundled script '%s' (run '%s -s' for the list)", name, progname);
        return NULL;
    }
    const char *path = lua_pushfstring(L, "%s/%s%s", dir, name,
                                       len > 4 && strcmp(name + len - 4, ".lua") == 0 ? "" : ".lua");
    if (access(path, R_OK) != 0) {
        lua_pushfstring(L, "no bundled script '%s' (run '%s -s' for the list)", name, progname);
        return NULL;
    }
    char **nv = lua_newuserdatauv(L, sizeof *nv * (size_t)*argc, 0);
    for (int i = 0, j = 0; i < *argc; i++) {
        if (i == at + 1) continue;
        nv[j++] = i == at ? (char *)path : argv[i];
    }
    nv[--*argc] = NULL;
    return nv;
}

/* ---- main --------------------------------------------------------------- */

/* Everything, under one lua_pcall: pushes true when all went well. */
static int pmain(lua_State *L)
{
    int argc = (int)lua_tointeger(L, 1);
    char **argv = lua_touserdata(L, 2);
    int script = 0;
    int flags = collect_args(argv, &script);
    luaL_checkversion(L);
    if (flags == OPT_ERROR) {
        print_usage(argv[script]);
        return 0;
    }
    if (flags & OPT_V) md_host_print_version();
    if (flags & OPT_LIST) {
        lua_pushboolean(L, md_host_list_scripts());
        return 1;
    }
    if (flags & OPT_S) {
        argv = bundled_argv(L, argv, &argc, script);
        if (argv == NULL) return lua_error(L);
    }
    if (flags & OPT_E) { /* tells the package library to ignore LUA_PATH and LUA_CPATH */
        lua_pushboolean(L, 1);
        lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
    }
    luaL_openlibs(L);
    create_arg_table(L, argv, argc, script);
    md_host_openlibs(L);
    md_host_bar_install();
    lua_getglobal(L, "require");
    lua_pushliteral(L, "vol");
    if (report(L, md_host_docall(L, 1, 1)) != LUA_OK) return 0;
    lua_setglobal(L, "vol");
    if (!(flags & OPT_E) && run_luainit(L) != LUA_OK) return 0;
    if (!run_args(L, argv, script > 0 ? script : argc)) return 0;
    if (script > 0 && run_script(L, argv, script) != LUA_OK) return 0;
    if (flags & OPT_I) {
        md_repl_run(L);
    } else if (script == 0 && !(flags & (OPT_EXEC | OPT_V))) {
        if (isatty(STDIN_FILENO)) {
            md_host_print_version();
            md_repl_run(L);
        } else if (dofile(L, NULL) != LUA_OK) {
            return 0;
        }
    }
    lua_pushboolean(L, 1);
    return 1;
}

int main(int argc, char **argv)
{
    if (argv[0] != NULL && argv[0][0] != '\0') progname = argv[0];
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        message("cannot create state: not enough memory");
        return EXIT_FAILURE;
    }
    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int status = lua_pcall(L, 2, 1, 0);
    int ok = lua_toboolean(L, -1);
    report(L, status);
    lua_close(L);
    return ok && status == LUA_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}
