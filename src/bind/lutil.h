/* Binding helpers shared by every l*.c file: the Volume userdata, raising
 * C errors, option tables, registration with docstrings. Holds no algorithm. */
#ifndef MD_LUTIL_H
#define MD_LUTIL_H

#include <lauxlib.h>
#include <lua.h>

#include "../core/volume.h"

#define MD_VOLUME_MT "Volume"

/* A function, its Lua name and its docstring (first line: signature). */
typedef struct MdLuaReg {
    const char *name;
    lua_CFunction func;
    const char *doc;
} MdLuaReg;

/* Sets each function of regs into the table at the top of the stack and
 * records its docstring. Stack: unchanged. */
void md_lua_register(lua_State *L, const MdLuaReg *regs);
/* Pushes the weak-keyed table function -> docstring (REGISTRY["medula.docs"]),
 * creating it when needed. Stack: +1. */
void md_lua_pushdocs(lua_State *L);
/* Records doc for the value at idx (any function), and the current area
 * (md_lua_set_area) for help()'s grouping. Stack: unchanged. */
void md_lua_setdoc(lua_State *L, int idx, const char *doc);
/* Names the area whose functions are being registered ("morph"), or NULL. */
void md_lua_set_area(const char *area);
/* Records the current area for the function at idx, when one is set.
 * Stack: unchanged. */
void md_lua_setarea(lua_State *L, int idx);
/* Pushes the weak-keyed table function -> area name. Stack: +1. */
void md_lua_pushareas(lua_State *L);

/* Pushes a new Volume userdata with an empty header (no buffer) and
 * returns the header. Stack: +1. */
MdVolume *md_lua_newvolume(lua_State *L);
/* Allocates v's buffer (dtype and dims already set), raising on failure,
 * and nudges the collector by the bytes allocated. */
void md_lua_alloc(lua_State *L, MdVolume *v, int zero);
/* Tells the collector that a reader allocated v's buffer. */
void md_lua_account(lua_State *L, const MdVolume *v);
/* The Volume at idx; raises "Volume expected" or "attempt to use a released volume". */
MdVolume *md_lua_checkvolume(lua_State *L, int idx);
/* The Volume at idx, or NULL when it is not a Volume. */
MdVolume *md_lua_tovolume(lua_State *L, int idx);
/* Pushes a new volume with v's dtype (or dtype >= 0), dims and geometry,
 * allocated. Stack: +1. */
MdVolume *md_lua_newlike(lua_State *L, const MdVolume *v, int dtype, int zero);

/* Raises err's message (never returns). */
int md_lua_raise(lua_State *L, const MdError *err);

/* Raises when the table at idx has a key not in valid (NULL-terminated),
 * naming the function's argument and listing the valid keys. */
void md_lua_checkopts(lua_State *L, int idx, const char *const valid[]);
/* Field helpers on an option table at idx (absent or nil -> default). */
double md_lua_optnumfield(lua_State *L, int idx, const char *key, double def);
int md_lua_optboolfield(lua_State *L, int idx, const char *key, int def);
const char *md_lua_optstrfield(lua_State *L, int idx, const char *key, const char *def);
/* Reads a list of n numbers from the table at idx (raises naming what). */
void md_lua_checknumbers(lua_State *L, int idx, double *out, int n, const char *what);
/* Reads per-axis numbers (spacing, origin) at idx for a volume of ndim
 * axes: 3 numbers, or for a 2-D volume 2 as well (out[2] then keeps its
 * value). Raises naming what. Returns how many were read. */
int md_lua_checkaxes(lua_State *L, int idx, double out[3], int ndim, const char *what);

/* Argument readers: each failure raises through luaL_argerror, so every
 * message reads "bad argument #arg to 'f' (...)". idx is the stack slot of
 * the value: the argument itself, or a field of the option table at arg.
 *   md_lua_argnumbers  a list of exactly n numbers ("spacing must have 3
 *                      numbers (got 2)")
 *   md_lua_argaxes     one number for every axis, or a list of n
 *   md_lua_argchoice   a string among names (NULL-terminated); returns its index
 *   md_lua_argshape    b has a's shape (masks, second operands) */
void md_lua_argnumbers(lua_State *L, int arg, int idx, double *out, int n, const char *what);
void md_lua_argaxes(lua_State *L, int arg, int idx, double *out, int n, const char *what);
int md_lua_argchoice(lua_State *L, int arg, int idx, const char *const names[], const char *what);
void md_lua_argshape(lua_State *L, int arg, const MdVolume *a, const MdVolume *b);
/* Reads a dtype name at idx, or def when absent. */
MdDtype md_lua_checkdtype(lua_State *L, int idx, int def);
/* Reads option dtype of the table at idx (absent or no table: def), raising
 * against that argument with the option's name: "option 'dtype': unknown
 * dtype ...". */
MdDtype md_lua_optdtype(lua_State *L, int idx, MdDtype def);

/* Pushes x as a Lua integer when integral is set and x is a whole number
 * that an integer holds exactly, else as a float: counts, sums and extremes
 * of integer volumes print as 48, not 48.0. Stack: +1. */
void md_lua_pushexact(lua_State *L, double x, int integral);
/* Pushes a Lua list of n whole numbers as integers (indices, boxes). Stack: +1. */
void md_lua_pushintegers(lua_State *L, const double *x, int n);
/* ---- mask arguments, shared by the mask bindings and any other ---- */

/* The 2-D or 3-D Volume at idx as a uint8 mask (non-zero = object). A
 * volume of another dtype is converted and the copy replaces it at idx
 * (so it lives as long as the call). Stack: unchanged. */
MdVolume *md_lua_checkmask(lua_State *L, int idx);

/* Reads per_slice and axis from the option table at idx (absent: 0 = the
 * whole volume; per_slice=true: axis 3; axis=k alone implies per_slice).
 * Raises on an axis outside 1..3, or 1..2 for a 2-D volume. */
int md_lua_sliceaxis(lua_State *L, int idx, const MdVolume *v);

/* Index of the string option key among choices (NULL-terminated), def
 * when absent; raises listing the choices. */
int md_lua_optchoice(lua_State *L, int idx, const char *key, int def, const char *const choices[]);

/* An integer option >= lo (def when absent); raises otherwise. */
lua_Integer md_lua_optintfield(lua_State *L, int idx, const char *key, lua_Integer def, lua_Integer lo);

/* Pushes a Lua list of n numbers. Stack: +1. */
void md_lua_pushnumbers(lua_State *L, const double *x, int n);

#endif
