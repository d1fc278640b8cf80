/* The memory budget for scratch memory: the main binary is linked with
 * -Wl,--wrap for malloc, calloc, realloc and free, so every block of
 * MD_SCRATCH_MIN bytes or more that the C layers allocate (readers' file
 * buffers, kernels' scratch) is counted and refused past the budget
 * (md_set_memory_budget), like voxel buffers. Smaller blocks are not
 * counted. Builds without the wrap (fuzz targets) count nothing. */
#ifndef MD_MEMWRAP_H
#define MD_MEMWRAP_H

#include <stddef.h>

#define MD_SCRATCH_MIN ((size_t)1 << 20)

/* Bytes in counted scratch blocks now. */
size_t md_scratch_bytes(void);

/* The last allocation the budget refused since the previous call: returns
 * 1 and fills asked (bytes), live (voxel + scratch bytes then) and budget;
 * 0 when there was none. */
int md_budget_take_refusal(size_t *asked, size_t *live, size_t *budget);
/* Records a refusal (md_buffer_new uses it too). */
void md_budget_note_refusal(size_t asked, size_t live, size_t budget);

/* Voxel buffers are counted by volume.c, so their storage bypasses the
 * scratch count. */
void *md_raw_malloc(size_t n);
void *md_raw_calloc(size_t a, size_t b);
void md_raw_free(void *p);

#endif
