/* Temporary-then-rename file writing. */
#include "atomicfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

MdStatus md_atomic_open(MdAtomicFile *f, const char *path, MdError *err)
{
    memset(f, 0, sizeof *f);
    size_t n = strlen(path);
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
    f->final = strdup(path);
    f->tmp = malloc(n + 32);
    if (!f->final || !f->tmp) {
        md_atomic_abort(f);
        return md_error(err, MD_ENOMEM, "out of memory");
    }
    memcpy(f->tmp, path, dirlen);
    snprintf(f->tmp + dirlen, n + 32 - dirlen, ".%s.tmpXXXXXX", path + dirlen);
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
    if (n && fwrite(p, 1, n, f->fp) != n)
        return md_error(err, MD_EIO, "write failed (%s)", strerror(errno));
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

MdStatus md_atomic_commit(MdAtomicFile *f, MdError *err)
{
    int bad = fflush(f->fp) != 0 || ferror(f->fp);
    int e = errno;
    bad |= fclose(f->fp) != 0;
    f->fp = NULL;
    if (bad) {
        md_atomic_abort(f);
        return md_error(err, MD_EIO, "write failed (%s)", strerror(e));
    }
    if (rename(f->tmp, f->final) != 0) {
        e = errno;
        md_atomic_abort(f);
        return md_error(err, MD_EIO, "cannot rename into place (%s)", strerror(e));
    }
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
