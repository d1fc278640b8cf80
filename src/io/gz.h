/* Compression shared by the readers and writers: whole-buffer zlib
 * inflate/deflate (MetaImage), and gzip (NIfTI .nii.gz): one-call inflate of
 * whole files with libdeflate, and gzip writing as one stream of independent
 * blocks compressed on all threads. */
#ifndef MD_GZ_H
#define MD_GZ_H

#include <stddef.h>

#include "../core/err.h"
#include "atomicfile.h"

/* Inflates zlib-format (RFC 1950) data into out[0..cap); *got = bytes produced.
 * Fails when the stream is corrupt or produces more than cap bytes. */
MdStatus md_zlib_inflate(const void *in, size_t n, void *out, size_t cap, size_t *got,
                         MdError *err) MD_MUST_CHECK;
/* Deflates into a new zlib-format buffer (*out, caller frees). level -1 = default. */
MdStatus md_zlib_deflate(const void *in, size_t n, int level, void **out, size_t *outn,
                         MdError *err) MD_MUST_CHECK;

/* 1 when p[0..n) starts with the gzip magic bytes 1f 8b. */
int md_gz_is_gzip(const void *p, size_t n);

/* The most bytes n bytes of gzip data can inflate to (deflate's best ratio
 * is 1032:1); readers check a header's claim against it before allocating. */
size_t md_gz_max_inflated(size_t n);

/* Inflates a gzip file held in in[0..n) (one or more members, RFC 1952) into
 * out[0..cap). Stops when out is full; the member in which that happens is
 * still decoded to its end (output discarded) so that its checksum is
 * checked, later members are not looked at. *got = bytes stored; a stream
 * ending before cap is not an error here (the caller compares *got with what
 * it needs). Bytes after the last member that are not a gzip member are
 * ignored, as gzip(1) does. Fails with MD_EFORMAT on corrupt or truncated
 * data, saying how far decoding got. Files written by md_gz_write (their
 * block index) are inflated on all threads when they fit in out. */
MdStatus md_gz_inflate(const void *in, size_t n, void *out, size_t cap, size_t *got,
                       MdError *err) MD_MUST_CHECK;
/* The first cap bytes only (a file header), without checking the rest. */
MdStatus md_gz_peek(const void *in, size_t n, void *out, size_t cap, size_t *got,
                    MdError *err) MD_MUST_CHECK;

/* Writes the concatenation of parts[0..nparts) to f as one gzip member:
 * 1 MB blocks compressed independently on all threads with libdeflate and
 * chained into one deflate stream (each block but the last ends with a sync
 * flush instead of a final block). level 0..12 is libdeflate's; -1 chooses
 * level 1 or 2 per block (see gz.c), so that files are no larger than zlib
 * level 1's. With two blocks or more, the header's extra field "MI" lists
 * the blocks' compressed sizes, which md_gz_inflate uses to inflate them in
 * parallel. The output does not depend on the thread count. f is borrowed;
 * its header is rewritten at the end (md_atomic_patch). */
typedef struct MdGzPart {
    const void *p; /* borrowed */
    size_t n;
} MdGzPart;
MdStatus md_gz_write(MdAtomicFile *f, const MdGzPart *parts, int nparts, int level,
                     MdError *err) MD_MUST_CHECK;

#endif
