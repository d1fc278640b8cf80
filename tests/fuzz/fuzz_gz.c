/* libFuzzer target for the gzip and zlib inflaters (gz.c): the input
 * inflated as gzip (whole and header peek) and as zlib into a bounded
 * buffer. Any result is fine; reading or writing out of bounds is not.
 * Build and run: make fuzz FUZZ_SECONDS=60. */
#include <stdint.h>
#include <stdlib.h>

#include "../../src/io/gz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cap = size * 8 + 352, got; /* at least the 352 bytes peeked below */
    if (cap > ((size_t)16 << 20)) cap = (size_t)16 << 20;
    uint8_t *out = malloc(cap);
    if (!out) return 0;
    MdError err;
    (void)md_gz_inflate(data, size, out, cap, &got, &err);
    (void)md_gz_peek(data, size, out, 352, &got, &err);
    (void)md_zlib_inflate(data, size, out, cap, &got, &err);
    free(out);
    return 0;
}
