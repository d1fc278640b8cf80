/* Fuzz target: the CSV reader (lua/util/csv.lua), run by the Lua 5.4
 * interpreter medula embeds. The first byte picks the separator, the rest
 * is the text. For any input, csv.parse must either return records or
 * raise its own error ("fuzz:LINE: ..."); anything else (an index of nil,
 * a non-string error) is a bug. Whatever it parses must come back the same
 * through csv.format and csv.parse again. Run from the project root (the
 * Lua files are found under lua/). */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lua_State *L;

/* The check, in Lua: returns nothing, or raises "BUG: ..." */
static const char *CHECK =
    "local csv, text, sep = ...\n"
    "local ok, rows = pcall(csv.parse, text, {header=false, sep=sep, name='fuzz'})\n"
    "if not ok then\n"
    "  if type(rows) ~= 'string' or not rows:match('^fuzz:%d+: ') then\n"
    "    error('BUG: unexpected error: ' .. tostring(rows), 0)\n"
    "  end\n"
    "  return\n"
    "end\n"
    "local again = csv.parse(csv.format(rows, nil, sep), {header=false, sep=sep, name='again'})\n"
    "if #again ~= #rows then error(('BUG: %d records, %d after formatting'):format(#rows, #again), 0) end\n"
    "for i, r in ipairs(rows) do\n"
    "  if #r ~= #again[i] then error(('BUG: record %d: %d fields, %d after formatting'):format(i, #r, #again[i]), 0) end\n"
    "  for j, v in ipairs(r) do\n"
    "    if type(v) ~= 'string' then error('BUG: a field is not a string', 0) end\n"
    "    if v ~= again[i][j] then error(('BUG: record %d field %d: %q became %q'):format(i, j, v, again[i][j]), 0) end\n"
    "  end\n"
    "end\n";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    L = luaL_newstate();
    luaL_openlibs(L);
    /* csv.lua attaches docstrings through vol.help, which needs the host:
     * a do-nothing doc is enough here. */
    if (luaL_dostring(L, "package.path = 'lua/?.lua;' .. package.path\n"
                         "package.loaded['vol.help'] = {doc = function() end}\n"
                         "return (require 'util.csv')") != LUA_OK) { /* one value: require gives two */
        fprintf(stderr, "fuzz_csv: %s (run from the project root)\n", lua_tostring(L, -1));
        abort();
    }
    lua_setglobal(L, "CSV");
    if (luaL_loadstring(L, CHECK) != LUA_OK) abort();
    lua_setglobal(L, "CHECK");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char seps[] = {',', ';', '\t', '|'};
    if (size == 0) return 0;
    const char sep[2] = {seps[data[0] % 4], 0};
    lua_getglobal(L, "CHECK");
    lua_getglobal(L, "CSV");
    lua_pushlstring(L, (const char *)data + 1, size - 1);
    lua_pushstring(L, sep);
    if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
        fprintf(stderr, "fuzz_csv: %s\n", lua_tostring(L, -1));
        abort();
    }
    lua_settop(L, 0);
    lua_gc(L, LUA_GCSTEP, 0);
    return 0;
}
