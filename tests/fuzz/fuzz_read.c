/* libFuzzer target for format sniffing: the input is read under a name
 * with no known suffix (gzip, NIfTI, NumPy, PNG and DICOM told apart by
 * their first bytes) and as .nii.gz. A read may fail; it must not crash,
 * hang or leak. Build and run: make fuzz FUZZ_SECONDS=60. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_put("f.bin", data, size);
    fuzz_read("f.bin");
    fuzz_put("f.nii.gz", data, size);
    fuzz_read("f.nii.gz");
    return 0;
}
