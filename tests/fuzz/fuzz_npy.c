/* libFuzzer target for the NumPy reader: the input read as a .npy file.
 * Build and run: make fuzz FUZZ_SECONDS=60. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_put("f.npy", data, size);
    fuzz_read("f.npy");
    return 0;
}
