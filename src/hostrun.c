/* Running a chunk as the standard lua program does: a traceback message
 * handler, and Ctrl-C turned into a Lua error at the next instruction and
 * into the kernels' cancel flag. Shared by main.c and repl.c (declared in
 * host.h), so neither calls into the other. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "core/ctx.h"
#include "host.h"

void md_host_print_version(void)
{
    printf("medula %s (%s)\n", MD_VERSION, LUA_COPYRIGHT);
    fflush(stdout);
}

/* ---- running chunks: traceback handler and Ctrl-C ---------------------- */

static lua_State *running_L; /* the state a Ctrl-C interrupts */
static int interactive;      /* the REPL: every Ctrl-C interrupts the call */

void md_host_set_interactive(int on)
{
    interactive = on;
    if (!on) signal(SIGINT, SIG_DFL);
}

/* Hook set by the signal handler: raises at the next Lua instruction. */
static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

/* SIGINT handler (installed with SA_RESETHAND outside the REPL: a second
 * Ctrl-C ends the program, as in lua). Lua code stops at its next instruction through the hook; a
 * kernel running C code sees the cancel flag at its next slice and returns
 * MD_ECANCELLED, which its binding raises. Both calls are signal-safe. */
static void on_sigint(int sig)
{
    (void)sig;
    md_cancel_request();
    lua_sethook(running_L, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

static void catch_sigint(int on)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    /* between two REPL calls a Ctrl-C is ignored until the prompt catches it */
    sa.sa_handler = on ? on_sigint : interactive ? SIG_IGN : SIG_DFL;
    sa.sa_flags = on ? (interactive ? SA_RESTART : SA_RESETHAND | SA_RESTART) : 0;
    sigaction(SIGINT, &sa, NULL);
}

/* Whether a traceback line names a frame inside medula's own Lua library
 * (the bundled lua/ folder, or its tail after "..." when the name is long). */
static int library_frame(const char *line, size_t len, const char *libdir)
{
    size_t dl = strlen(libdir);
    const char *p = line;
    while (p < line + len && (*p == '\t' || *p == ' ')) p++;
    if (dl && (size_t)(line + len - p) > dl && strncmp(p, libdir, dl) == 0 && p[dl] == '/') return 1;
    if (strncmp(p, "...", 3) != 0) return 0;
    for (const char *q = p + 3; q + 9 <= line + len; q++)
        if (strncmp(q, "/lua/vol/", 9) == 0) return 1;
    return 0;
}

/* [traceback] -> [traceback without the library's frames]: a user reads
 * where the error is in their code, not the paths of the installation. A
 * "[C]: in function 'error'" just above a dropped frame goes with it. */
static void drop_library_frames(lua_State *L)
{
    char libdir[4096];
    if (!md_host_bundle_dir("lua", libdir, sizeof libdir)) return;
    size_t len;
    const char *s = lua_tolstring(L, -1, &len), *end = s + len;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char *pending = NULL; /* a held "[C]: in function 'error'" line */
    size_t pending_len = 0;
    for (const char *line = s; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);
        int drop = library_frame(line, n, libdir);
        if (pending && !drop) luaL_addlstring(&b, pending, pending_len);
        pending = NULL;
        if (!drop && n > 0 && strstr(line, "[C]: in function 'error'") && (size_t)(strstr(line, "[C]") - line) < n) {
            pending = line; /* decided by the next line */
            pending_len = n + (nl ? 1 : 0);
        } else if (!drop) {
            luaL_addlstring(&b, line, n + (nl ? 1 : 0));
        }
        line = nl ? nl + 1 : end;
    }
    if (pending) luaL_addlstring(&b, pending, pending_len);
    luaL_pushresult(&b);
    lua_remove(L, -2);
}

/* Message handler: adds a traceback to the error message. */
static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    drop_library_frames(L);
    return 1;
}

int md_host_docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    md_cancel_clear();
    running_L = L;
    catch_sigint(1);
    int status = lua_pcall(L, narg, nres, base);
    catch_sigint(0);
    /* a Ctrl-C that arrived while C code finished must not stop the next chunk */
    lua_sethook(L, NULL, 0, 0);
    md_cancel_clear();
    md_host_bar_end();
    lua_remove(L, base);
    return status;
}
