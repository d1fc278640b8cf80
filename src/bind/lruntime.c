/* Run-time settings exposed to Lua: threads, memory budget, and the
 * debug counters leak specs read. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/ctx.h"
#include "../io/atomicfile.h"
#include "lvolume.h"

static int l_set_threads(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 1 && n <= 1024, 1, "thread count must be 1 to 1024");
    md_set_threads((int)n);
    return 0;
}

static int l_threads(lua_State *L)
{
    lua_pushinteger(L, md_threads());
    return 1;
}

static int l_set_memory_budget(lua_State *L)
{
    lua_Number mb = luaL_checknumber(L, 1);
    luaL_argcheck(L, mb >= 0, 1, "budget must be >= 0 MiB (0 = none)");
    md_set_memory_budget((size_t)(mb * 1048576.0));
    return 0;
}

static int l_live_bytes(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)md_live_bytes());
    return 1;
}

static int l_kept_bytes(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)md_buffer_reuse_bytes());
    return 1;
}

static int l_drop_kept(lua_State *L)
{
    (void)L;
    md_buffer_reuse_drop();
    return 0;
}

static int l_reuse_hits(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)md_buffer_reuse_hits());
    return 1;
}

static int l_clock(lua_State *L)
{
    lua_pushnumber(L, md_now_seconds());
    return 1;
}

static int l_set_fsync(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TBOOLEAN);
    md_atomic_set_sync(lua_toboolean(L, 1));
    return 0;
}

/* vol._mkdir_p(path): creates path and its missing parents (mkdir -p)
 * without a shell, so no name is ever parsed as a command. */
static int l_mkdir_p(lua_State *L)
{
    size_t n;
    const char *path = luaL_checklstring(L, 1, &n);
    luaL_argcheck(L, n > 0 && strlen(path) == n, 1, "a folder name without NUL bytes");
    char *p = lua_newuserdatauv(L, n + 1, 0);
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != 0) continue;
        char c = p[i];
        p[i] = 0;
        struct stat sb;
        if (mkdir(p, 0777) != 0 && (errno != EEXIST || stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode)))
            return luaL_error(L, "cannot create folder %s (%s)", p,
                              errno == EEXIST ? "a file of that name exists" : strerror(errno));
        p[i] = c;
    }
    return 0;
}

static const MdLuaReg functions[] = {
    {"set_threads", l_set_threads,
     "vol.set_threads(n)\nUse n threads in the kernels (default: OMP_NUM_THREADS or all cores).\n"
     "Results are identical whatever n is."},
    {"threads", l_threads, "vol.threads() -> integer\nThe number of threads the kernels use."},
    {"set_memory_budget", l_set_memory_budget,
     "vol.set_memory_budget(mib)\nRefuse to allocate memory beyond mib MiB in total (0 = no budget): voxel\n"
     "buffers and every scratch block of 1 MiB or more that readers and kernels take.\n"
     "An allocation past it raises a Lua error naming the bytes asked for, the bytes\n"
     "in use and the budget, instead of exhausting the machine."},
    {"live_bytes", l_live_bytes,
     "vol.live_bytes() -> integer\nBytes held by all live voxel buffers (for leak checks and budgets)."},
    {"kept_bytes", l_kept_bytes,
     "vol.kept_bytes() -> integer\nBytes of released voxel buffers (8 MiB or more, at most two) kept for the\n"
     "next volume of the same size, so a chain of steps reuses touched memory. They\n"
     "are freed as soon as any other voxel buffer or scratch block of 1 MiB or more\n"
     "is asked for, or the budget is set; they are not part of vol.live_bytes()."},
    {"drop_kept", l_drop_kept,
     "vol.drop_kept()\nFrees the kept buffers now (see vol.kept_bytes), e.g. before measuring the\n"
     "process's memory: collectgarbage(); vol.drop_kept()"},
    {"_reuse_hits", l_reuse_hits,
     "vol._reuse_hits() -> integer\nHow many new buffers were served from kept ones (internal: specs)."},
    {"clock", l_clock,
     "vol.clock() -> number\nWall-clock seconds from a monotonic clock (the origin is arbitrary): the\n"
     "difference of two calls times the work between them, whatever the thread count\n"
     "(os.clock adds up the processor time of all threads).\n"
     "Example: local t = vol.clock(); ct:lt(-320); print(vol.clock() - t)"},
    {"_mkdir_p", l_mkdir_p,
     "vol._mkdir_p(path)\nCreates the folder path and its missing parents, without a shell\n"
     "(internal: the scripts' output folders)."},
    {"set_fsync", l_set_fsync,
     "vol.set_fsync(on)\nWhether writers fsync each file and its folder before and after the\n"
     "rename that puts it in place (default true: a finished write survives a power cut).\n"
     "false is faster for scratch output; v:write(path, {fsync=false}) does it for one write."},
    {NULL, NULL, NULL}};

void md_open_runtime(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    md_lua_register(L, functions);
}
