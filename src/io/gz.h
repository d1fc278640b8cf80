/* Compression shared by the readers and writers: whole-buffer gzip and zlib
 * inflate/deflate. gzip output may be produced in parallel blocks. */
#ifndef MD_GZ_H
#define MD_GZ_H

#include <stddef.h>

#include "../core/err.h"

/* Reads a whole file into a new malloc'd buffer (*data, caller frees). */
MdStatus md_file_read_all(const char *path, void **data, size_t *n, MdError *err) MD_MUST_CHECK;

/* Inflates zlib-format (RFC 1950) data into out[0..cap); *got = bytes produced.
 * Fails when the stream is corrupt or produces more than cap bytes. */
MdStatus md_zlib_inflate(const void *in, size_t n, void *out, size_t cap, size_t *got,
                         MdError *err) MD_MUST_CHECK;
/* Deflates into a new zlib-format buffer (*out, caller frees). level -1 = default. */
MdStatus md_zlib_deflate(const void *in, size_t n, int level, void **out, size_t *outn,
                         MdError *err) MD_MUST_CHECK;

#endif
