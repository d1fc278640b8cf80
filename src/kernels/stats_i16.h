/* The int16 masked statistics of one block with AVX2 (stats_i16.c), used by
 * stats.c when the processor has it. Exact integer results. */
#ifndef MD_STATS_I16_H
#define MD_STATS_I16_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int32_t min, max; /* meaningful when count > 0 */
    int64_t sum, sumsq;
    size_t count;
} MdI16Part;

/* 1 when md_stats_i16_masked can run here. */
int md_stats_i16_available(void);

/* Min, max, sum, sum of squares and count of x[i] where mk[i] != 0, for a
 * block of at most 4096 voxels; 0 (nothing done) when not available. */
int md_stats_i16_masked(const int16_t *x, const uint8_t *mk, size_t n, MdI16Part *p);

#endif
