/* libFuzzer target for every reader: the input is written to a temporary
 * file under each suffix medula knows and read back. A reader may fail;
 * it must not crash, hang or leak. Build: make fuzz (clang). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../src/core/meta.h"
#include "../../src/io/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const suffixes[] = {".nii", ".nii.gz", ".mha", ".npy"};
    char dir[] = "/tmp/mdfuzzXXXXXX";
    if (!mkdtemp(dir)) return 0;
    for (size_t s = 0; s < sizeof suffixes / sizeof suffixes[0]; s++) {
        char path[64];
        snprintf(path, sizeof path, "%s/f%s", dir, suffixes[s]);
        FILE *fp = fopen(path, "wb");
        if (!fp) continue;
        fwrite(data, 1, size, fp);
        fclose(fp);
        MdVolume v = {0};
        MdMeta meta;
        md_meta_init(&meta);
        MdError err;
        if (md_read(path, NULL, &v, &meta, &err) == MD_OK) (void)md_volume_count(&v);
        md_volume_release(&v);
        md_meta_free(&meta);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}
