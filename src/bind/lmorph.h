/* Argument helpers shared by the mask bindings (lmorph.c, llabel.c,
 * ledt.c): masks of any dtype, per-slice options, choice options. */
#ifndef MD_LMORPH_H
#define MD_LMORPH_H

#include "lutil.h"

/* Entry points of the mask areas (picked up by lvol.c as weak symbols;
 * md_open_morph also calls md_open_fill). */
void md_open_morph(lua_State *L, int module);
void md_open_fill(lua_State *L, int module);
void md_open_label(lua_State *L, int module);
void md_open_edt(lua_State *L, int module);

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

#endif
