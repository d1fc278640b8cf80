/* libFuzzer target for the MetaImage reader: the input is a header and,
 * after a line "--DATA--", the bytes of a detached data file (written as
 * d.raw and d.zraw, so ElementDataFile may name either), read as .mhd and
 * as .mha (where data may also be LOCAL).
 * Build and run: make fuzz FUZZ_SECONDS=60. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *rest;
    size_t hn, rn;
    fuzz_split(data, size, "\n--DATA--\n", &rest, &hn, &rn);
    fuzz_put("d.raw", rest, rn);
    fuzz_put("d.zraw", rest, rn);
    fuzz_put("f.mhd", data, hn);
    fuzz_read("f.mhd");
    fuzz_put("f.mha", data, size);
    fuzz_read("f.mha");
    return 0;
}
