/* libFuzzer target for the DICOM reader: the input is parsed from memory
 * (element walker, image module, pixel decoding of every transfer syntax
 * the header names: native, encapsulated, RLE, the JPEG family) and,
 * written to a file, read as a file (Part 10, raw dataset or gzip-wrapped),
 * as a folder (series scanning), as a header and as a SEG. A read may fail;
 * it must not crash, hang or leak. Build and run: make fuzz FUZZ_SECONDS=60. */
#include "fuzz_util.h"

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
        md_dcm_frame_size(&im, &values, &bytes, &err) == MD_OK && bytes < ((size_t)4 << 20)) {
        void *dst = malloc(bytes ? bytes : 1);
        if (dst && md_dcm_decode(&d, &im, dst, &err) == MD_OK) (void)((volatile uint8_t *)dst)[0];
        free(dst);
    }
    md_dcm_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fuzz_dir();
    from_memory(data, size);
    char dir[128], path[160];
    fuzz_path(dir, sizeof dir, "series");
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/f.dcm", dir);
    FILE *fp = fopen(path, "wb");
    if (!fp) abort();
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
    MdMeta hmeta;
    md_meta_init(&hmeta);
    MdError err;
    (void)md_dicom_header(path, &hmeta, &err);
    md_meta_free(&hmeta);
    MdVolume s = {0};
    MdSegInfo info;
    if (md_dicom_read_seg(path, NULL, 0, &s, &info, NULL, &err) == MD_OK)
        (void)md_volume_count(&s);
    md_volume_release(&s);
    return 0;
}
