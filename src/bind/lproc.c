/* Binding of io/proc as the table vol.proc: worker processes for the case
 * runner (start, wait with a timeout, signal) and what a runner must know
 * about this process (usable CPUs, a monotonic clock, its executable). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../io/proc.h"
#include "lvolume.h"

void md_open_proc(lua_State *L, int module);

/* Collects the strings of the list at idx into a NULL-terminated array in a
 * new userdata (the strings stay on the caller's stack-held table). Stack: +1. */
static const char **string_list(lua_State *L, int idx, int arg, const char *what, size_t *n)
{
    size_t len = lua_rawlen(L, idx);
    const char **out = lua_newuserdatauv(L, (len + 1) * sizeof *out, 0);
    for (size_t i = 0; i < len; i++) {
        lua_rawgeti(L, idx, (lua_Integer)i + 1);
        if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
            luaL_argerror(L, arg, lua_pushfstring(L, "%s[%d] must be a string", what, (int)i + 1));
        out[i] = lua_tostring(L, -1);
        lua_pop(L, 1); /* the table keeps the string alive */
    }
    out[len] = NULL;
    *n = len;
    return out;
}

static int l_spawn(lua_State *L)
{
    static const char *const keys[] = {"env", "stdout", "stderr", NULL};
    luaL_checktype(L, 1, LUA_TTABLE);
    md_lua_checkopts(L, 2, keys);
    size_t argc, n_env = 0;
    const char **argv = string_list(L, 1, 1, "argv", &argc);
    luaL_argcheck(L, argc >= 1, 1, "argv must name the program");
    const char **env = NULL;
    if (lua_istable(L, 2) && lua_getfield(L, 2, "env") != LUA_TNIL) {
        luaL_argcheck(L, lua_istable(L, -1), 2, "option 'env' must be a table {NAME=value}");
        int t = lua_gettop(L);
        lua_newtable(L); /* the "NAME=value" strings, kept alive here */
        int strings = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, t)) {
            if (lua_type(L, -2) != LUA_TSTRING || !lua_isstring(L, -1))
                luaL_argerror(L, 2, "option 'env' must map names to strings");
            const char *name = lua_tostring(L, -2);
            luaL_argcheck(L, name[0] && !strchr(name, '='), 2, "option 'env': bad variable name");
            lua_pushfstring(L, "%s=%s", name, lua_tostring(L, -1));
            lua_rawseti(L, strings, (lua_Integer)++n_env);
            lua_pop(L, 1);
        }
        env = string_list(L, strings, 2, "env", &n_env);
    }
    const char *out = md_lua_optstrfield(L, 2, "stdout", NULL);
    const char *errp = md_lua_optstrfield(L, 2, "stderr", NULL);
    int pid;
    MdError err;
    if (md_proc_spawn(argv, env, n_env, out, errp, &pid, &err) != MD_OK) return md_lua_raise(L, &err);
    lua_pushinteger(L, pid);
    return 1;
}

/* Private to the runner (util/runner.lua decides when it is safe). The
 * child calls fn under lua_pcall and ends in C right after it, so no Lua
 * code of the parent's call stack (and no late Ctrl-C) ever runs there. */
static int l_fork(lua_State *L)
{
    static const char *const keys[] = {"stdout", "stderr", NULL};
    luaL_checktype(L, 1, LUA_TFUNCTION);
    md_lua_checkopts(L, 2, keys);
    const char *out = md_lua_optstrfield(L, 2, "stdout", NULL);
    const char *errp = md_lua_optstrfield(L, 2, "stderr", NULL);
    int pid;
    MdError err;
    if (md_proc_fork(out, errp, &pid, &err) != MD_OK) return md_lua_raise(L, &err);
    if (pid == 0) {
        lua_settop(L, 1);
        int status = lua_pcall(L, 0, 0, 0);
        if (status != LUA_OK) {
            const char *msg = lua_tostring(L, -1);
            fprintf(stderr, "%s\n", msg ? msg : "(error object is not a string)");
        }
        fflush(stdout);
        fflush(stderr);
        _exit(status == LUA_OK ? 0 : 1);
    }
    lua_pushinteger(L, pid);
    return 1;
}

static int l_wait(lua_State *L)
{
    double timeout = luaL_optnumber(L, 1, -1);
    MdProcExit ex;
    int r = md_proc_wait(timeout, &ex);
    if (r <= 0) {
        luaL_pushfail(L);
        lua_pushstring(L, r < 0 ? "interrupted" : md_proc_running() ? "timeout" : "no child");
        return 2;
    }
    if (r == 2) {
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, ex.pid);
        lua_setfield(L, -2, "pid");
        lua_pushstring(L, ex.message);
        lua_setfield(L, -2, "message");
        return 1;
    }
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, ex.pid);
    lua_setfield(L, -2, "pid");
    lua_pushinteger(L, ex.code);
    lua_setfield(L, -2, "code");
    if (ex.signal) {
        lua_pushinteger(L, ex.signal);
        lua_setfield(L, -2, "signal");
        lua_pushstring(L, sigabbrev_np(ex.signal) ? sigabbrev_np(ex.signal) : "?");
        lua_setfield(L, -2, "signal_name");
    }
    lua_pushinteger(L, (lua_Integer)ex.maxrss_kb);
    lua_setfield(L, -2, "maxrss_kb");
    return 1;
}

/* The channel of a forked child (private to the runner and its workers). */
static int l_send(lua_State *L)
{
    int pid = (int)luaL_checkinteger(L, 1);
    const char *line = luaL_checkstring(L, 2);
    lua_pushboolean(L, md_proc_send(pid, line));
    return 1;
}

static int l_close_send(lua_State *L)
{
    lua_pushboolean(L, md_proc_close_send((int)luaL_checkinteger(L, 1)));
    return 1;
}

static int l_recv(lua_State *L)
{
    char buf[256];
    int n = md_proc_recv_parent(buf, sizeof buf);
    if (n < 0) return 0;
    lua_pushlstring(L, buf, (size_t)n);
    return 1;
}

static int l_reply(lua_State *L)
{
    lua_pushboolean(L, md_proc_send_parent(luaL_checkstring(L, 1)));
    return 1;
}

static int l_redirect(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    if (!md_proc_redirect(path)) return luaL_error(L, "%s: cannot open for output", path);
    return 0;
}

static int l_kill(lua_State *L)
{
    static const char *const names[] = {"TERM", "INT", "KILL", "HUP", NULL};
    static const int sigs[] = {SIGTERM, SIGINT, SIGKILL, SIGHUP};
    int pid = (int)luaL_checkinteger(L, 1);
    int sig = sigs[luaL_checkoption(L, 2, "TERM", names)];
    MdError err;
    if (md_proc_kill(pid, sig, &err) != MD_OK) return md_lua_raise(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_running(lua_State *L)
{
    lua_pushinteger(L, md_proc_running());
    return 1;
}

static int l_cpus(lua_State *L)
{
    lua_pushinteger(L, md_proc_cpus());
    return 1;
}

static int l_now(lua_State *L)
{
    static const char *const clocks[] = {"monotonic", "wall", NULL};
    if (luaL_checkoption(L, 1, "monotonic", clocks) == 1) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        lua_pushnumber(L, (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec);
    } else {
        lua_pushnumber(L, md_proc_now());
    }
    return 1;
}

/* SIGTERM handler: turned into the host's Ctrl-C (SIGINT) handling. */
static void on_sigterm(int sig)
{
    (void)sig;
    kill(getpid(), SIGINT);
}

static int l_trap_term(lua_State *L)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_sigterm;
    sigaction(SIGTERM, &sa, NULL);
    return 0;
}

static int l_exe(lua_State *L)
{
    char buf[4096];
    if (!md_proc_exe(buf, sizeof buf)) return luaL_error(L, "cannot find the running executable");
    lua_pushstring(L, buf);
    return 1;
}

static int l_pid(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)getpid());
    return 1;
}

static const MdLuaReg functions[] = {
    {"spawn", l_spawn,
     "vol.proc.spawn(argv [, {env={NAME=value}, stdout=path, stderr=path}]) -> pid\n"
     "Starts the program argv[1] (a path, not searched in PATH) with arguments argv[2..]\n"
     "and this process's environment plus env. stdout and stderr append to the named\n"
     "files (the same name: one file); otherwise they are inherited. The child gets\n"
     "SIGTERM if this process dies. Errors: the program cannot be started.\n"
     "  local pid = vol.proc.spawn({vol.proc.exe(), \"-e\", \"print(1)\"}, {stdout=\"log.txt\"})"},
    {"wait", l_wait,
     "vol.proc.wait([timeout]) -> {pid=, code=, signal=, signal_name=, maxrss_kb=} | nil, why\n"
     "Waits up to timeout seconds (default: no limit) for any child started by\n"
     "vol.proc.spawn to end and reaps it: its exit code, or the signal that ended it,\n"
     "and its peak resident memory in KiB. nil and \"timeout\", \"no child\" or\n"
     "\"interrupted\" (a signal such as Ctrl-C arrived) otherwise. (A runner's forked\n"
     "worker may also send a line: then {pid=, message=}.)\n"
     "  local ended = vol.proc.wait(1.0)"},
    {"kill", l_kill,
     "vol.proc.kill(pid [, signal=\"TERM\"]) -> true\n"
     "Sends \"TERM\", \"INT\", \"KILL\" or \"HUP\" to a running child started by vol.proc.spawn.\n"
     "Errors: pid is not such a child.\n"
     "  vol.proc.kill(pid, \"INT\")"},
    {"running", l_running,
     "vol.proc.running() -> integer\nChildren started by vol.proc.spawn and not yet reaped by vol.proc.wait.\n"
     "  while vol.proc.running() > 0 do vol.proc.wait() end"},
    {"cpus", l_cpus,
     "vol.proc.cpus() -> integer\nThe CPUs this process may run on (its affinity mask, as nproc prints).\n"
     "  print(vol.proc.cpus())"},
    {"now", l_now,
     "vol.proc.now([clock=\"monotonic\"]) -> seconds\n"
     "Seconds on a monotonic clock (for durations and rates), or with \"wall\" since\n"
     "1970-01-01 UTC; both with sub-microsecond resolution.\n"
     "  local t0 = vol.proc.now(); work(); print(vol.proc.now() - t0)"},
    {"trap_term", l_trap_term,
     "vol.proc.trap_term()\nFrom now on SIGTERM (kill, scancel, a job's time limit) interrupts this process\n"
     "as Ctrl-C does: Lua code raises \"interrupted!\" and kernels stop at the next slice,\n"
     "so a runner can stop its workers and record where it was.\n"
     "  vol.proc.trap_term()"},
    {"exe", l_exe,
     "vol.proc.exe() -> path\nThe absolute path of the running medula executable (to start workers).\n"
     "  print(vol.proc.exe())"},
    {"pid", l_pid, "vol.proc.pid() -> integer\nThe process id of this process.\n  print(vol.proc.pid())"},
    {"_send", l_send,
     "vol.proc._send(pid, line) -> ok\n"
     "Sends a line (no newline, < 255 bytes) to a child made by vol.proc._fork; false when\n"
     "it is gone. vol.proc.wait returns {pid=, message=} for a line the child sends back.\n"
     "Private to the runner."},
    {"_close_send", l_close_send,
     "vol.proc._close_send(pid) -> ok\n"
     "No more lines for the forked child pid: its vol.proc._recv returns nil. Private to the runner."},
    {"_recv", l_recv,
     "vol.proc._recv() -> line | nil\n"
     "In a child made by vol.proc._fork: the next line from the parent, nil when there is\n"
     "none to come (the parent closed, died, or a signal arrived). Private to the runner."},
    {"_reply", l_reply,
     "vol.proc._reply(line) -> ok\n"
     "In a child made by vol.proc._fork: sends a line to the parent. Private to the runner."},
    {"_redirect", l_redirect,
     "vol.proc._redirect(path)\n"
     "Appends this process's stdout and stderr to the file path from now on (a worker's\n"
     "log for each case). Private to the runner."},
    {"_fork", l_fork,
     "vol.proc._fork(fn [, {stdout=, stderr=}]) -> pid\n"
     "Forks without exec and calls fn in the child, which then ends (status 0, or 1\n"
     "when fn raised). Private to the runner: safe only while one thread runs."},
    {NULL, NULL, NULL}};

void md_open_proc(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    lua_newtable(L);
    md_lua_register(L, functions);
    lua_setfield(L, module, "proc");
}
