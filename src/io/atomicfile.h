/* Writing a file so that it is never seen half-written: the bytes go to a
 * temporary name in the target's folder, which is renamed over the target
 * only when everything was written, after fsync of the file (and of the
 * folder after the rename) unless syncing is off. A target that is a
 * symbolic link is written through: its target is replaced, the link
 * stays. Ctrl-C (the cancel flag) stops a write within one 8 MiB block and
 * removes the temporary. */
#ifndef MD_ATOMICFILE_H
#define MD_ATOMICFILE_H

#include <stdio.h>

#include "../core/err.h"

typedef struct MdAtomicFile {
    FILE *fp;
    char *tmp;   /* new: temporary path */
    char *final; /* new: target path */
} MdAtomicFile;

/* fsync before the rename (on by default); off for scratch output. */
void md_atomic_set_sync(int on);
int md_atomic_sync(void);

/* Opens "<dir>/.<name>.tmpXXXXXX" beside path (beside the end of its
 * chain of symbolic links when path is one). */
MdStatus md_atomic_open(MdAtomicFile *f, const char *path, MdError *err) MD_MUST_CHECK;
MdStatus md_atomic_write(MdAtomicFile *f, const void *p, size_t n, MdError *err) MD_MUST_CHECK;
/* Overwrites n bytes at offset off of what was already written (a header
 * whose contents are known only at the end); later writes still append. */
MdStatus md_atomic_patch(MdAtomicFile *f, long off, const void *p, size_t n,
                         MdError *err) MD_MUST_CHECK;
/* Flushes, syncs, closes and renames onto the target; fails with
 * MD_ECANCELLED when Ctrl-C came meanwhile. On failure the temporary is
 * removed. */
MdStatus md_atomic_commit(MdAtomicFile *f, MdError *err) MD_MUST_CHECK;
/* Closes and removes the temporary (safe to call after commit or on a zeroed f). */
void md_atomic_abort(MdAtomicFile *f);

#endif
