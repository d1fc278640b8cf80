/* Shared by the fuzz targets: a private folder (in /dev/shm when it
 * exists: no disk traffic per input) made once per process, and helpers
 * to put bytes in a file of it and read it back through md_read. */
#ifndef MD_FUZZ_UTIL_H
#define MD_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/core/meta.h"
#include "../../src/io/formats.h"

/* Made once: the folder, and a 4 MiB budget for voxel buffers, so that a
 * few bytes claiming a huge image fail at allocation (as they would with a
 * user's budget) instead of every input filling hundreds of megabytes. */
static const char *fuzz_dir(void)
{
    static char dir[64];
    if (!dir[0]) {
        md_set_memory_budget((size_t)4 << 20);
        snprintf(dir, sizeof dir, "%s/mdfuzzXXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(dir)) abort();
    }
    return dir;
}

/* Path of name inside the folder (a static buffer per call site is enough). */
static void fuzz_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", fuzz_dir(), name);
}

static void fuzz_put(const char *name, const uint8_t *data, size_t size)
{
    char path[128];
    fuzz_path(path, sizeof path, name);
    FILE *fp = fopen(path, "wb");
    if (!fp) abort();
    if (size) fwrite(data, 1, size, fp);
    fclose(fp);
}

/* md_read of name; a failure is fine, a crash, leak or sanitizer report is not. */
static void fuzz_read(const char *name)
{
    char path[128];
    fuzz_path(path, sizeof path, name);
    MdVolume v = {0};
    MdMeta meta;
    md_meta_init(&meta);
    MdError err;
    if (md_read(path, NULL, &v, &meta, &err) == MD_OK) (void)md_volume_count(&v);
    md_volume_release(&v);
    md_meta_free(&meta);
}

/* Splits data at the first occurrence of sep: *a, *an before it, *b, *bn after
 * (all of data and nothing when sep is absent). */
static void fuzz_split(const uint8_t *data, size_t size, const char *sep, const uint8_t **b,
                       size_t *an, size_t *bn)
{
    size_t k = strlen(sep);
    *an = size, *b = data + size, *bn = 0;
    for (size_t i = 0; k && i + k <= size; i++)
        if (memcmp(data + i, sep, k) == 0) {
            *an = i, *b = data + i + k, *bn = size - i - k;
            return;
        }
}

#endif
