/* libFuzzer target for the NIfTI reader: the input read as a .nii (plain
 * or, when it starts with the gzip magic, compressed) and as a .hdr/.img
 * pair (the first 352 bytes the header, the rest the image).
 * Build and run: make fuzz FUZZ_SECONDS=60. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_put("f.nii", data, size);
    fuzz_read("f.nii");
    size_t h = size < 352 ? size : 352;
    fuzz_put("p.hdr", data, h);
    fuzz_put("p.img", data + h, size - h);
    fuzz_read("p.hdr");
    return 0;
}
