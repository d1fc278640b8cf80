/* Whole-buffer zlib inflate/deflate and file slurping. */
#include "gz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

MdStatus md_file_read_all(const char *path, void **data, size_t *n, MdError *err)
{
    *data = NULL;
    *n = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return md_error(err, MD_EIO, "cannot open (%s)", strerror(errno));
    MdStatus st = MD_OK;
    char *buf = NULL;
    long len;
    if (fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        st = md_error(err, MD_EIO, "cannot determine file size");
        goto out;
    }
    buf = malloc((size_t)len + 1);
    if (!buf) {
        st = md_error(err, MD_ENOMEM, "out of memory reading %ld bytes", len);
        goto out;
    }
    if (fread(buf, 1, (size_t)len, fp) != (size_t)len) {
        st = md_error(err, MD_EIO, "read failed");
        goto out;
    }
    buf[len] = 0;
    *data = buf;
    *n = (size_t)len;
    buf = NULL;
out:
    free(buf);
    fclose(fp);
    return st;
}

MdStatus md_zlib_inflate(const void *in, size_t n, void *out, size_t cap, size_t *got,
                         MdError *err)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit(&s) != Z_OK) return md_error(err, MD_ENOMEM, "cannot start zlib inflate");
    const unsigned char *ip = in;
    unsigned char *op = out;
    size_t inleft = n, outleft = cap;
    int rc = Z_OK;
    while (rc == Z_OK) {
        unsigned ichunk = inleft > (1u << 30) ? (1u << 30) : (unsigned)inleft;
        unsigned ochunk = outleft > (1u << 30) ? (1u << 30) : (unsigned)outleft;
        s.next_in = (unsigned char *)ip;
        s.avail_in = ichunk;
        s.next_out = op;
        s.avail_out = ochunk;
        rc = inflate(&s, Z_NO_FLUSH);
        ip += ichunk - s.avail_in;
        inleft -= ichunk - s.avail_in;
        op += ochunk - s.avail_out;
        outleft -= ochunk - s.avail_out;
        if (rc == Z_OK && outleft == 0) {
            rc = Z_BUF_ERROR;
            break;
        }
        if (rc == Z_BUF_ERROR && inleft == 0) break;
        if (rc == Z_BUF_ERROR) rc = Z_OK;
    }
    inflateEnd(&s);
    *got = cap - outleft;
    if (rc != Z_STREAM_END) {
        if (outleft == 0)
            return md_error(err, MD_EFORMAT, "compressed data expands past the expected %zu bytes", cap);
        return md_error(err, MD_EFORMAT, "corrupt or truncated zlib data (%zu bytes decoded)", *got);
    }
    return MD_OK;
}

MdStatus md_zlib_deflate(const void *in, size_t n, int level, void **out, size_t *outn,
                         MdError *err)
{
    uLong cap = compressBound((uLong)n);
    unsigned char *buf = malloc(cap ? cap : 1);
    if (!buf) return md_error(err, MD_ENOMEM, "out of memory compressing %zu bytes", n);
    uLongf len = cap;
    if (compress2(buf, &len, in, (uLong)n, level < 0 ? Z_DEFAULT_COMPRESSION : level) != Z_OK) {
        free(buf);
        return md_error(err, MD_ENOMEM, "zlib compression failed");
    }
    *out = buf;
    *outn = len;
    return MD_OK;
}
