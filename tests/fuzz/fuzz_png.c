/* libFuzzer target for the PNG reader: the input read as a .png file.
 * Build and run: make fuzz FUZZ_SECONDS=60. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_put("f.png", data, size);
    fuzz_read("f.png");
    return 0;
}
