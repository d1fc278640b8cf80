/* Temporary-then-rename file writing, with fsync of the file and its
 * folder, symbolic links followed to their target, and the cancel flag
 * polled between blocks. */
#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/ctx.h"

#define WRITE_BLOCK ((size_t)8 << 20) /* bytes written between two looks at the cancel flag */
#define MAX_LINKS 40                  /* as the kernel's ELOOP limit */

static int sync_writes = 1;

void md_atomic_set_sync(int on) { sync_writes = on != 0; }
int md_atomic_sync(void) { return sync_writes; }

/* The file a write to path lands on: path itself, or the end of its chain
 * of symbolic links (a relative target is relative to the link's folder),
 * as cp writes through a link. New; NULL when out of memory. */
static char *resolve_links(const char *path, MdError *err, MdStatus *st)
{
    char *cur = strdup(path);
    *st = MD_OK;
    for (int hops = 0; cur; hops++) {
        struct stat sb;
        if (lstat(cur, &sb) != 0 || !S_ISLNK(sb.st_mode)) return cur;
        if (hops == MAX_LINKS) {
            *st = md_error(err, MD_EIO, "too many levels of symbolic links");
            free(cur);
            return NULL;
        }
        char target[PATH_MAX];
        ssize_t n = readlink(cur, target, sizeof target - 1);
        if (n < 0) {
            *st = md_error(err, MD_EIO, "cannot read the symbolic link (%s)", strerror(errno));
            free(cur);
            return NULL;
        }
        target[n] = 0;
        const char *slash = strrchr(cur, '/');
        size_t dirlen = target[0] != '/' && slash ? (size_t)(slash - cur + 1) : 0;
        char *next = malloc(dirlen + (size_t)n + 1);
        if (next) {
            memcpy(next, cur, dirlen);
            memcpy(next + dirlen, target, (size_t)n + 1);
        }
        free(cur);
        cur = next;
    }
    *st = md_error(err, MD_ENOMEM, "out of memory");
    return NULL;
}

MdStatus md_atomic_open(MdAtomicFile *f, const char *path, MdError *err)
{
    memset(f, 0, sizeof *f);
    MdStatus st;
    f->final = resolve_links(path, err, &st);
    if (!f->final) return st;
    size_t n = strlen(f->final);
    const char *slash = strrchr(f->final, '/');
    size_t dirlen = slash ? (size_t)(slash - f->final + 1) : 0;
    f->tmp = malloc(n + 32);
    if (!f->tmp) {
        md_atomic_abort(f);
        return md_error(err, MD_ENOMEM, "out of memory");
    }
    memcpy(f->tmp, f->final, dirlen);
    snprintf(f->tmp + dirlen, n + 32 - dirlen, ".%s.tmpXXXXXX", f->final + dirlen);
    int fd = mkstemp(f->tmp);
    if (fd < 0) {
        int e = errno;
        free(f->tmp);
        f->tmp = NULL;
        md_atomic_abort(f);
        return md_error(err, MD_EIO, "cannot create a file in the target folder (%s)", strerror(e));
    }
    /* mkstemp creates 0600; give the file the mode open() would have. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    f->fp = fdopen(fd, "wb");
    if (!f->fp) {
        close(fd);
        md_atomic_abort(f);
        return md_error(err, MD_EIO, "cannot open temporary file");
    }
    return MD_OK;
}

MdStatus md_atomic_write(MdAtomicFile *f, const void *p, size_t n, MdError *err)
{
    const char *b = p;
    while (n > 0) {
        if (md_cancel_requested()) return md_error(err, MD_ECANCELLED, "interrupted while writing");
        size_t k = n < WRITE_BLOCK ? n : WRITE_BLOCK;
        if (fwrite(b, 1, k, f->fp) != k)
            return md_error(err, MD_EIO, "write failed (%s)", strerror(errno));
        b += k, n -= k;
    }
    return MD_OK;
}

MdStatus md_atomic_patch(MdAtomicFile *f, long off, const void *p, size_t n, MdError *err)
{
    long end = ftell(f->fp);
    if (end < 0 || off < 0 || off > end || (size_t)(end - off) < n || fseek(f->fp, off, SEEK_SET) != 0)
        return md_error(err, MD_EIO, "cannot seek in the temporary file (%s)", strerror(errno));
    MdStatus st = md_atomic_write(f, p, n, err);
    if (fseek(f->fp, end, SEEK_SET) != 0 && st == MD_OK)
        st = md_error(err, MD_EIO, "cannot seek in the temporary file (%s)", strerror(errno));
    return st;
}

/* fsync of the folder holding path, so that a rename in it survives a crash. */
static int sync_folder(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

MdStatus md_atomic_commit(MdAtomicFile *f, MdError *err)
{
    int bad = fflush(f->fp) != 0 || ferror(f->fp);
    int e = errno;
    if (!bad && sync_writes && fsync(fileno(f->fp)) != 0) bad = 1, e = errno;
    bad |= fclose(f->fp) != 0;
    f->fp = NULL;
    if (bad) {
        md_atomic_abort(f);
        return md_error(err, MD_EIO, "write failed (%s)", strerror(e));
    }
    if (md_cancel_requested()) {
        md_atomic_abort(f);
        return md_error(err, MD_ECANCELLED, "interrupted while writing");
    }
    if (rename(f->tmp, f->final) != 0) {
        e = errno;
        md_atomic_abort(f);
        return md_error(err, MD_EIO, "cannot rename into place (%s)", strerror(e));
    }
    /* The data is durable; a folder that cannot be synced (some network
     * file systems refuse fsync on a directory) does not undo the write. */
    if (sync_writes) (void)sync_folder(f->final);
    free(f->tmp);
    free(f->final);
    f->tmp = f->final = NULL;
    return MD_OK;
}

void md_atomic_abort(MdAtomicFile *f)
{
    if (f->fp) fclose(f->fp);
    if (f->tmp) unlink(f->tmp);
    free(f->tmp);
    free(f->final);
    memset(f, 0, sizeof *f);
}
