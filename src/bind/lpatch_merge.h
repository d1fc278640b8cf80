/* Binding of the patch mergers (kernels/patch_merge): grid:merger and
 * grid:merge, added to the grid methods by md_open_patch. */
#ifndef MD_LPATCH_MERGE_H
#define MD_LPATCH_MERGE_H

#include "lutil.h"

/* Adds the merger functions: grid:merger, grid:merge (to the grid methods
 * table at idx). Stack: unchanged. */
void md_open_patch_merge(lua_State *L, int methods);

#endif
