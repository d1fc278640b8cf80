/* libFuzzer target for the deflate walker: the input itself is walked (it
 * may fail, it must not crash or hang), and its compression by libdeflate
 * at a level taken from the first byte must walk to exactly its end, with
 * the final block's header inside the stream. Build: make fuzz (clang).
 * The 13 compressors are made once: allocating one per input (about a
 * megabyte each at the high levels) was most of an execution's time. */
#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../src/io/deflate_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct libdeflate_compressor *compressor(int level)
{
    static struct libdeflate_compressor *made[13];
    if (!made[level]) made[level] = libdeflate_alloc_compressor(level);
    return made[level];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t fin, end;
    (void)md_deflate_walk(data, size, &fin, &end);
    if (size == 0) return 0;
    struct libdeflate_compressor *c = compressor(data[0] % 13);
    if (!c) return 0;
    size_t cap = libdeflate_deflate_compress_bound(c, size - 1);
    unsigned char *out = malloc(cap);
    if (out) {
        size_t n = libdeflate_deflate_compress(c, data + 1, size - 1, out, cap);
        if (n && (!md_deflate_walk(out, n, &fin, &end) || (end + 7) / 8 != n || fin >= end))
            abort();
    }
    free(out);
    return 0;
}
