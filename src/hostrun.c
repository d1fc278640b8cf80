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

static lua_State *running_L; /* the state a Ctrl-C interrupts */

/* Hook set by the signal handler: raises at the next Lua instruction. */
static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

/* SIGINT handler (installed with SA_RESETHAND: a second Ctrl-C ends the
 * program). Lua code stops at its next instruction through the hook; a
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
    sa.sa_handler = on ? on_sigint : SIG_DFL;
    sa.sa_flags = on ? (SA_RESETHAND | SA_RESTART) : 0;
    sigaction(SIGINT, &sa, NULL);
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
    lua_remove(L, base);
    return status;
}
