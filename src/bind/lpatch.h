/* Shared between the two halves of the patch binding: lpatch.c (grids,
 * patch copies, sampling) and lpatch_merge.c (mergers). */
#ifndef MD_LPATCH_H
#define MD_LPATCH_H

#include "../kernels/patch.h"
#include "lutil.h"

#define MD_GRID_MT "PatchGrid"
#define MD_MERGER_MT "PatchMerger"

/* The grid userdata: the kernel's grid plus the value that pads patches
 * reaching outside the volume. */
typedef struct MdGridUd {
    MdPatchGrid g;
    double pad;
} MdGridUd;

/* The grid at idx (raises "PatchGrid expected"). */
MdGridUd *md_lua_checkgrid(lua_State *L, int idx);

/* Pushes a new volume with the patch's layout: the grid's patch extent,
 * `channels` channels (axis 4) and dtype t, positioned at 0-based start
 * within like's geometry (like may be NULL: identity geometry). Stack: +1. */
MdVolume *md_lua_newpatch(lua_State *L, const MdPatchGrid *g, int64_t channels, MdDtype t,
                          const MdVolume *like, const int64_t start[3]);

/* Pushes the box of patch n (0-based) as {lo={...}, hi={...}}, 1-based
 * inclusive. Stack: +1. */
void md_lua_pushbox(lua_State *L, const MdPatchGrid *g, size_t n);

/* Reads option sigma_scale of the table at idx (a number or one per axis,
 * each > 0; default 0.125). */
void md_lua_sigma_scale(lua_State *L, int idx, int ndim, double sigma[3]);
/* Reads option weight of the table at idx: 0 for 'mean'/'constant' (the
 * default), 1 for 'gaussian'; raises on anything else. */
int md_lua_weightkind(lua_State *L, int idx);


/* The area's entry point, called from lvol.c's table of areas. */
void md_open_patch(lua_State *L, int module);

#endif
