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

/* Pushes a new volume with header h (dims, dtype, geometry; its buffer
 * ignored), allocated, carrying the metadata of the volume at index src
 * (0: none). Raises on bad dims or no memory. Stack: +1. */
MdVolume *md_lua_newheader(lua_State *L, const MdVolume *h, int src);
/* Spatial axes of v: 2 for a 2-D volume, else 3. */
int md_lua_spatial(const MdVolume *v);

/* Raises err's message (never returns). */
int md_lua_raise(lua_State *L, const MdError *err);

/* Raises when the table at idx has a key not in valid (NULL-terminated),
 * naming the function's argument and listing the valid keys. */
void md_lua_checkopts(lua_State *L, int idx, const char *const valid[]);
/* Field helpers on an option table at idx (absent or nil -> default). */
double md_lua_optnumfield(lua_State *L, int idx, const char *key, double def);
int md_lua_optboolfield(lua_State *L, int idx, const char *key, int def);
const char *md_lua_optstrfield(lua_State *L, int idx, const char *key, const char *def);
/* Raises msg against argument arg: "bad argument #arg to 'f' (msg)", or
 * plainly when arg is 0 (a value that is no argument of its own). */
int md_lua_argfail(lua_State *L, int arg, const char *msg);

/* Argument readers: each failure raises through luaL_argerror, so every
 * message reads "bad argument #arg to 'f' (...)". idx is the stack slot of
 * the value: the argument itself, or a field of the option table at arg.
 *   md_lua_argnumbers  a list of exactly n numbers ("spacing must have 3
 *                      numbers (got 2)")
 *   md_lua_argaxes     one number for every axis, or a list of n
 *   md_lua_argchoice   a string among names (NULL-terminated); returns its index
 *   md_lua_argintegers a list of exactly n integers (shapes, boxes, axis orders)
 *   md_lua_arglist     a list of numbers of any length, copied into a scratch
 *                      userdata that is pushed (Stack: +1); *n gets its length
 *   md_lua_argspatial  per-axis numbers (spacing, origin) for a volume of ndim
 *                      axes: 3 numbers, or for a 2-D volume 2 as well (out[2]
 *                      then keeps its value); returns how many were read
 *   md_lua_argrows     rows lists of cols numbers (a 4x4 affine), row-major
 *   md_lua_argmatrix3  a 3x3 matrix as 3 rows of 3 or 9 numbers row-major;
 *                      for a 2-D volume also 2 rows of 2 or 4 numbers (the
 *                      in-plane part; the third axis stays put)
 *   md_lua_argshape    b has a's shape (masks, second operands)
 * arg 0 names no argument (a plain error), for values that are not one. */
void md_lua_argnumbers(lua_State *L, int arg, int idx, double *out, int n, const char *what);
void md_lua_argintegers(lua_State *L, int arg, int idx, int64_t *out, int n, const char *what);
double *md_lua_arglist(lua_State *L, int arg, int idx, const char *what, int64_t *n);
int md_lua_argspatial(lua_State *L, int arg, int idx, double out[3], int ndim, const char *what);
void md_lua_argrows(lua_State *L, int arg, int idx, double *out, int rows, int cols, const char *what);
void md_lua_argmatrix3(lua_State *L, int arg, int idx, double M[9], int ndim, const char *what);
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
