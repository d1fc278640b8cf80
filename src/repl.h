/* The interactive loop (lua 5.4's REPL behaviour, with libedit line editing,
 * history and completion) and the "vol.repl" module exposing completion. */
#ifndef MD_REPL_H
#define MD_REPL_H

#include <lua.h>

/* Reads, runs and prints until end of input. Uses libedit when stdin is a
 * terminal (and the build has it), plain lines otherwise. Stack: unchanged. */
void md_repl_run(lua_State *L);

/* Opens "vol.repl": { complete(text) -> sorted list of candidates }. */
int md_repl_open(lua_State *L);

#endif
