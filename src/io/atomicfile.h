/* Writing a file so that it is never seen half-written: the bytes go to a
 * temporary name in the target's folder, which is renamed over the target
 * only when everything was written. */
#ifndef MD_ATOMICFILE_H
#define MD_ATOMICFILE_H

#include <stdio.h>

#include "../core/err.h"

typedef struct MdAtomicFile {
    FILE *fp;
    char *tmp;   /* new: temporary path */
    char *final; /* new: target path */
} MdAtomicFile;

/* Opens "<dir>/.<name>.tmpXXXXXX" beside path. */
MdStatus md_atomic_open(MdAtomicFile *f, const char *path, MdError *err) MD_MUST_CHECK;
MdStatus md_atomic_write(MdAtomicFile *f, const void *p, size_t n, MdError *err) MD_MUST_CHECK;
/* Overwrites n bytes at offset off of what was already written (a header
 * whose contents are known only at the end); later writes still append. */
MdStatus md_atomic_patch(MdAtomicFile *f, long off, const void *p, size_t n,
                         MdError *err) MD_MUST_CHECK;
/* Flushes, closes and renames onto the target. On failure the temporary is removed. */
MdStatus md_atomic_commit(MdAtomicFile *f, MdError *err) MD_MUST_CHECK;
/* Closes and removes the temporary (safe to call after commit or on a zeroed f). */
void md_atomic_abort(MdAtomicFile *f);

#endif
