/* Binding of the mask clean-up kernels (kernels/fill): fill_holes,
 * clear_border, remove_small_objects, keep_largest. */
#ifndef MD_LFILL_H
#define MD_LFILL_H

#include "lutil.h"

/* Registers the fill methods (called by md_open_morph). */
void md_open_fill(lua_State *L, int module);

#endif
