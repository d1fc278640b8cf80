/* Walking a raw deflate stream (RFC 1951) block by block without producing
 * output, to find where its final block starts and ends. The gzip writer
 * uses it to chain independently compressed blocks into one stream. */
#ifndef MD_DEFLATE_WALK_H
#define MD_DEFLATE_WALK_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the block structure of the raw deflate stream p[0..n) (borrowed)
 * up to the end of the block marked final: stored blocks are skipped, the
 * code lengths and symbols of Huffman blocks are decoded and discarded.
 * On success returns 1 with *final_bit = bit offset of the final block's
 * BFINAL bit and *end_bit = bit offset just past that block (its
 * end-of-block code, or its stored data). Returns 0 for a stream that is
 * invalid or runs past n. Bits are numbered from the least significant
 * bit of p[0]. Cost: about that of inflating the stream, without writing. */
int md_deflate_walk(const unsigned char *p, size_t n, uint64_t *final_bit, uint64_t *end_bit);

#endif
