/* libFuzzer target for the deflate walker: the input itself is walked (it
 * may fail, it must not crash or hang), and its compression by libdeflate
 * at a level taken from the first byte must walk to exactly its end, with
 * the final block's header inside the stream. Build: make fuzz (clang). */
#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../src/io/deflate_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t fin, end;
    (void)md_deflate_walk(data, size, &fin, &end);
    if (size == 0) return 0;
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(data[0] % 13);
    size_t cap = libdeflate_deflate_compress_bound(c, size - 1);
    unsigned char *out = malloc(cap);
    if (c && out) {
        size_t n = libdeflate_deflate_compress(c, data + 1, size - 1, out, cap);
        if (n && (!md_deflate_walk(out, n, &fin, &end) || (end + 7) / 8 != n || fin >= end))
            abort();
    }
    free(out);
    libdeflate_free_compressor(c);
    return 0;
}
