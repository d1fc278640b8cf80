/* libFuzzer target for the DICOM reader: the input is parsed from memory
 * (element walker, image module, pixel decoding of every transfer syntax
 * the header names) and, written to a file, read as a file, a folder and a
 * SEG. A read may fail; it must not crash, hang or leak.
 * Build: clang ... -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_dicom.c src/core/*.c
 * src/io/*.c (as the Makefile's fuzz target builds fuzz_read.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../src/io/dicom.h"
#include "../../src/io/dicom_parse.h"
#include "../../src/io/dicom_pixels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void from_memory(const uint8_t *data, size_t size)
{
    MdDcm d;
    MdError err;
    MdDcmImage im;
    if (md_dcm_parse(&d, data, size, 0, &err) != MD_OK) return;
    size_t values, bytes;
    if (md_dcm_image(&d, &im, &err) == MD_OK && md_dcm_check_pixels(&d, &im, &err) == MD_OK &&
        md_dcm_frame_size(&im, &values, &bytes, &err) == MD_OK && bytes < ((size_t)64 << 20)) {
        void *dst = malloc(bytes ? bytes : 1);
        if (dst && md_dcm_decode(&d, &im, dst, &err) == MD_OK) (void)((volatile uint8_t *)dst)[0];
        free(dst);
    }
    md_dcm_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    from_memory(data, size);
    char dir[] = "/tmp/mddcmfuzzXXXXXX";
    if (!mkdtemp(dir)) return 0;
    char path[64];
    snprintf(path, sizeof path, "%s/f.dcm", dir);
    FILE *fp = fopen(path, "wb");
    if (fp) {
        fwrite(data, 1, size, fp);
        fclose(fp);
        MdDicomOpts opts = {0, NULL, -1, 0, 0, 1};
        const char *targets[2] = {path, dir};
        for (int t = 0; t < 2; t++) {
            MdVolume v = {0};
            MdMeta meta;
            md_meta_init(&meta);
            MdError err;
            if (md_dicom_read_ex(targets[t], &opts, &v, &meta, &err) == MD_OK)
                (void)md_volume_count(&v);
            md_volume_release(&v);
            md_meta_free(&meta);
        }
        MdVolume s = {0};
        MdSegInfo info;
        MdError err;
        if (md_dicom_read_seg(path, NULL, 0, &s, &info, NULL, &err) == MD_OK)
            (void)md_volume_count(&s);
        md_volume_release(&s);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}
