/* Whole-buffer zlib inflate/deflate and file slurping (zlib), and gzip for
 * .nii.gz: libdeflate inflates whole members in one call, or the blocks of
 * medula's own files in parallel (zlib only decodes the partial member at
 * the end of a bounded read and explains failures); writing compresses
 * fixed-size blocks in parallel and chains them into one deflate stream.
 * Streaming (a file larger than memory) is deliberately not offered. */
#include "gz.h"

#include <errno.h>
#include <libdeflate.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../core/ctx.h"
#include "../core/par.h"
#include "deflate_walk.h"

MdStatus md_zlib_inflate(const void *in, size_t n, void *out, size_t cap, size_t *got,
                         MdError *err)
{
    /* libdeflate inflates a whole buffer about twice as fast as zlib. */
    *got = 0;
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    if (!d) return md_error(err, MD_ENOMEM, "cannot start zlib inflate");
    size_t produced = 0;
    enum libdeflate_result r = libdeflate_zlib_decompress(d, in, n, out, cap, &produced);
    libdeflate_free_decompressor(d);
    *got = produced;
    if (r == LIBDEFLATE_INSUFFICIENT_SPACE)
        return md_error(err, MD_EFORMAT, "compressed data expands past the expected %zu bytes", cap);
    if (r != LIBDEFLATE_SUCCESS)
        return md_error(err, MD_EFORMAT, "corrupt or truncated zlib data (%zu compressed bytes)", n);
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

/* ---- gzip reading ----------------------------------------------------- */

int md_gz_is_gzip(const void *p, size_t n)
{
    const unsigned char *b = p;
    return n >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

size_t md_gz_max_inflated(size_t n)
{
    /* 1032:1 is deflate's limit (a 258-byte match per 2 bits); the slack
     * covers headers of tiny files. */
    return n > (SIZE_MAX - 4096) / 1032 ? SIZE_MAX : n * 1032 + 4096;
}

enum { Z_FULL, Z_END, Z_TRUNC, Z_CORRUPT };

/* Decodes one gzip member with zlib into out[0..cap). Returns Z_FULL (out
 * filled before the member ended), Z_END (member complete; *used = its
 * compressed bytes), Z_TRUNC (input ended first) or Z_CORRUPT (msg = zlib's
 * reason). *got = bytes stored either way. With verify, decoding goes on past
 * a full out (into a scratch buffer) to the member's end, so its checksum is
 * checked: Z_FULL is then never returned. */
static int zlib_member(const unsigned char *in, size_t n, unsigned char *out, size_t cap,
                       int verify, size_t *used, size_t *got, char *msg, size_t msgsz)
{
    unsigned char scratch[1 << 14];
    z_stream s;
    memset(&s, 0, sizeof s);
    *used = *got = 0;
    if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) {
        snprintf(msg, msgsz, "cannot start zlib");
        return Z_CORRUPT;
    }
    size_t inleft = n, outleft = cap;
    int kind;
    for (;;) {
        int spill = outleft == 0; /* only when verifying */
        unsigned ichunk = inleft > (1u << 30) ? (1u << 30) : (unsigned)inleft;
        unsigned ochunk = spill ? sizeof scratch : outleft > (1u << 30) ? (1u << 30) : (unsigned)outleft;
        s.next_in = (unsigned char *)in + (n - inleft);
        s.avail_in = ichunk;
        s.next_out = spill ? scratch : out + (cap - outleft);
        s.avail_out = ochunk;
        int rc = inflate(&s, Z_NO_FLUSH);
        inleft -= ichunk - s.avail_in;
        if (!spill) outleft -= ochunk - s.avail_out;
        if (rc == Z_STREAM_END) {
            kind = Z_END;
            break;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            snprintf(msg, msgsz, "%s", s.msg ? s.msg : "invalid data");
            kind = Z_CORRUPT;
            break;
        }
        if (outleft == 0 && !verify) {
            kind = Z_FULL;
            break;
        }
        if (inleft == 0 && (rc == Z_BUF_ERROR || s.avail_out > 0)) {
            kind = Z_TRUNC;
            break;
        }
    }
    inflateEnd(&s);
    *used = n - inleft;
    *got = cap - outleft;
    return kind;
}

/* One member at in[0..n) (more may follow) into out[0..cap): libdeflate for
 * the common case of a member that fits; zlib for the start of a member
 * larger than out (the rest is not needed, so not decoded), and to decode or
 * explain a member libdeflate rejects. *used: compressed bytes of the member
 * (0 when decoding stopped inside it). done: bytes before out, for messages. */
static MdStatus one_member(struct libdeflate_decompressor *d, const unsigned char *in, size_t n,
                           unsigned char *out, size_t cap, int peek, size_t *used, size_t *got,
                           size_t done, MdError *err)
{
    enum libdeflate_result r = libdeflate_gzip_decompress_ex(d, in, n, out, cap, used, got);
    if (r == LIBDEFLATE_SUCCESS) return MD_OK;
    char msg[128] = "";
    /* "Insufficient space" also comes from a member cut short (libdeflate
     * decodes the missing bytes as zeros), so only a peek skips checking the
     * member to its end. */
    int verify = !(peek && r == LIBDEFLATE_INSUFFICIENT_SPACE);
    int kind = zlib_member(in, n, out, cap, verify, used, got, msg, sizeof msg);
    if (kind == Z_FULL) *used = 0;
    if (kind == Z_FULL || kind == Z_END) return MD_OK;
    if (kind == Z_TRUNC)
        return md_error(err, MD_EFORMAT,
                        "gzip data ends early (file truncated?): the compressed stream stops "
                        "after %zu decompressed bytes",
                        done + *got);
    return md_error(err, MD_EFORMAT, "corrupt gzip data after %zu decompressed bytes (%s)",
                    done + *got, msg);
}

static MdStatus inflate_serial(const unsigned char *in, size_t n, unsigned char *out, size_t cap,
                               int peek, size_t *got, MdError *err)
{
    *got = 0;
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    if (!d) return md_error(err, MD_ENOMEM, "out of memory starting gzip decompression");
    MdStatus st = MD_OK;
    size_t pos = 0, off = 0;
    for (int member = 0; off < cap && pos < n; member++) {
        /* Trailing bytes that do not start a member (zero padding) are
         * ignored, as gzip(1) does; a first member must be there. */
        if (!md_gz_is_gzip(in + pos, n - pos)) {
            if (member == 0)
                st = md_error(err, MD_EFORMAT, "not gzip data (no 1f 8b magic bytes)");
            break;
        }
        size_t used, produced;
        st = one_member(d, in + pos, n - pos, out + off, cap - off, peek, &used, &produced, off,
                        err);
        off += produced;
        if (st != MD_OK || used == 0) break;
        pos += used;
    }
    libdeflate_free_decompressor(d);
    *got = off;
    return st;
}

/* ---- the block index ---------------------------------------------------- */

/* md_gz_write's files are one gzip member whose deflate stream is a chain of
 * independently compressed blocks, each but the last ended by an empty
 * stored block (a sync flush), so each starts on a byte boundary and refers
 * to nothing before it. When there are two blocks or more, the header's
 * FEXTRA holds one subfield "MI" (little-endian):
 *   uint64 total   uncompressed bytes of the whole member
 *   uint32 span    uncompressed bytes per entry (the last entry holds the rest)
 *   uint32 csize[] compressed bytes of each entry, sync flush included
 * An entry is one 1 MB block, or several consecutive blocks when a file has
 * more blocks than the 65535-byte FEXTRA can list. */
#define GZ_HDR 10
#define GZ_TRL 8
#define INDEX_FIXED 18 /* XLEN, subfield id and length, total, span */
#define INDEX_MAX ((65535 - 16) / 4)

typedef struct GzIndex {
    size_t hdr;                /* bytes before the deflate stream */
    uint64_t total;            /* uncompressed bytes */
    size_t span;               /* uncompressed bytes per entry */
    size_t k;                  /* entries */
    const unsigned char *csize; /* borrowed: k little-endian uint32 */
} GzIndex;

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(unsigned char *p, uint32_t x)
{
    p[0] = (unsigned char)x, p[1] = (unsigned char)(x >> 8);
    p[2] = (unsigned char)(x >> 16), p[3] = (unsigned char)(x >> 24);
}

/* 1 when in[0..n) is exactly one member with a consistent "MI" index. */
static int read_index(const unsigned char *in, size_t n, GzIndex *ix)
{
    if (n < GZ_HDR + 2 + GZ_TRL || in[0] != 0x1f || in[1] != 0x8b || in[2] != 8 || in[3] != 4)
        return 0;
    size_t xlen = (size_t)in[10] | (size_t)in[11] << 8, at = 12;
    ix->hdr = 12 + xlen;
    if (ix->hdr + GZ_TRL > n) return 0;
    for (;;) { /* find the subfield */
        if (at + 4 > ix->hdr) return 0;
        size_t len = (size_t)in[at + 2] | (size_t)in[at + 3] << 8;
        if (at + 4 + len > ix->hdr) return 0;
        if (in[at] == 'M' && in[at + 1] == 'I') {
            if (len < 12 || (len - 12) % 4) return 0;
            ix->total = get32(in + at + 4) | (uint64_t)get32(in + at + 8) << 32;
            ix->span = get32(in + at + 12);
            ix->k = (len - 12) / 4;
            ix->csize = in + at + 16;
            break;
        }
        at += 4 + len;
    }
    if (ix->span == 0 || ix->k < 2 || ix->total <= (uint64_t)(ix->k - 1) * ix->span ||
        ix->total > (uint64_t)ix->k * ix->span)
        return 0;
    uint64_t sum = 0;
    for (size_t i = 0; i < ix->k; i++) sum += get32(ix->csize + 4 * i);
    return sum == n - ix->hdr - GZ_TRL;
}

/* Inflates one entry into out[0..ulen): a middle entry ends in a sync flush,
 * so appending an empty final block (fixed Huffman, end-of-block: 03 00)
 * makes it a complete stream. scratch holds clen + 2 bytes. */
static int inflate_entry(struct libdeflate_decompressor *d, const unsigned char *src, size_t clen,
                         int last, unsigned char *scratch, unsigned char *out, size_t ulen)
{
    if (!last) {
        memcpy(scratch, src, clen);
        scratch[clen] = 3;
        scratch[clen + 1] = 0;
        src = scratch;
        clen += 2;
    }
    size_t used = 0, produced = 0;
    return libdeflate_deflate_decompress_ex(d, src, clen, out, ulen, &used, &produced) ==
               LIBDEFLATE_SUCCESS &&
           used == clen && produced == ulen;
}

/* Inflates an indexed member on all threads and checks its CRC and size;
 * returns 0 (and the caller decodes serially, which also explains any
 * failure) when the file has no index, does not fit in cap, or anything
 * is off. */
static int inflate_parallel(const unsigned char *in, size_t n, unsigned char *out, size_t cap,
                            size_t *got)
{
    GzIndex ix;
    if (md_threads() < 2 || !read_index(in, n, &ix) || ix.total > cap) return 0;
    size_t k = ix.k, maxc = 0;
    size_t *start = malloc(k * sizeof *start);
    uint32_t *crc = malloc(k * sizeof *crc);
    int ok = start && crc;
    for (size_t i = 0, pos = ix.hdr; ok && i < k; i++) {
        size_t c = get32(ix.csize + 4 * i);
        start[i] = pos;
        pos += c;
        if (c > maxc) maxc = c;
    }
    if (ok) {
        int fail = MD_OK; /* any failure: the caller decodes serially */
        #pragma omp parallel
        {
            struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
            unsigned char *scratch = malloc(maxc + 2);
            if (!d || !scratch) md_par_fail(&fail, MD_ENOMEM);
            #pragma omp for schedule(dynamic, 1)
            for (size_t i = 0; i < k; i++) {
                if (md_par_stopped(&fail)) continue;
                size_t off = i * ix.span, ulen = i + 1 < k ? ix.span : (size_t)ix.total - off;
                if (!inflate_entry(d, in + start[i], get32(ix.csize + 4 * i), i + 1 == k, scratch, out + off,
                                   ulen))
                    md_par_fail(&fail, MD_EFORMAT);
                else
                    crc[i] = (uint32_t)libdeflate_crc32(0, out + off, ulen);
            }
            free(scratch);
            libdeflate_free_decompressor(d);
        }
        ok = fail == MD_OK;
    }
    if (ok) {
        uLong all = crc[0];
        for (size_t i = 1; i < k; i++) {
            size_t ulen = i + 1 < k ? ix.span : (size_t)ix.total - i * ix.span;
            all = crc32_combine(all, crc[i], (z_off_t)ulen);
        }
        ok = get32(in + n - 8) == (uint32_t)all && get32(in + n - 4) == (uint32_t)ix.total;
    }
    free(start);
    free(crc);
    *got = ok ? (size_t)ix.total : 0;
    return ok;
}

MdStatus md_gz_inflate(const void *in, size_t n, void *out, size_t cap, size_t *got,
                       MdError *err)
{
    if (inflate_parallel(in, n, out, cap, got)) return MD_OK;
    return inflate_serial(in, n, out, cap, 0, got, err);
}

MdStatus md_gz_peek(const void *in, size_t n, void *out, size_t cap, size_t *got, MdError *err)
{
    return inflate_serial(in, n, out, cap, 1, got, err);
}

/* ---- gzip writing ----------------------------------------------------- */

/* Bytes of input per block: large enough that the 32 KB of history each
 * block starts without costs little, small enough to spread over threads. */
#define GZ_BLOCK ((size_t)1 << 20)
/* The default (level -1) chooses per block between libdeflate levels 1 and
 * 2 by compressing a 128 KB probe at level 1: below 30% (smooth images,
 * masks, lots of air) level 1 is both 2.5x faster than zlib level 1
 * (nibabel's default) and 3-12% smaller; above it (noisy CT and MR) level 1
 * is up to 1.3% larger than zlib level 1, while level 2 is 1-4% smaller at
 * about zlib level 1's speed. The probe costs ~1/8 of a level-1 pass; the
 * choice depends on the block's bytes only, so output is deterministic. */
#define GZ_PROBE ((size_t)128 << 10)
#define GZ_PROBE_RATIO 0.30
/* Room after a block's deflate data for the sync flush. */
#define GZ_FLUSH 6
/* Entries spanning more than this many blocks would overflow the index's
 * uint32 span; such files (over 32 TB) get no index. */
#define SPAN_MAX_BLOCKS 2048

/* Pointer to bytes [start, start+len) of the concatenated parts: direct when
 * they lie in one part, else copied into stage. */
static const unsigned char *gather(const MdGzPart *parts, int nparts, size_t start, size_t len,
                                   unsigned char *stage)
{
    size_t base = 0;
    int i = 0;
    while (i < nparts && start >= base + parts[i].n) base += parts[i++].n;
    if (i == nparts) return stage; /* len is 0 */
    if (start + len <= base + parts[i].n) return (const unsigned char *)parts[i].p + (start - base);
    size_t done = 0;
    for (; i < nparts && done < len; base += parts[i++].n) {
        size_t from = start + done - base, take = parts[i].n - from;
        if (take > len - done) take = len - done;
        memcpy(stage + done, (const unsigned char *)parts[i].p + from, take);
        done += take;
    }
    return stage;
}

/* Turns the complete raw deflate stream out[0..clen) into one that goes on:
 * the final block loses its BFINAL bit and is followed by an empty stored
 * block (header bits 000, zero padding to the byte, LEN 0000, NLEN ffff),
 * as zlib's Z_SYNC_FLUSH writes. Returns the new length (out needs
 * GZ_FLUSH more bytes), 0 when the stream does not walk. */
static size_t unfinish(unsigned char *out, size_t clen)
{
    uint64_t fin, end;
    if (!md_deflate_walk(out, clen, &fin, &end) || (end + 7) / 8 != clen) return 0;
    out[fin / 8] &= (unsigned char)~(1u << (fin % 8));
    if (end % 8) out[end / 8] &= (unsigned char)((1u << (end % 8)) - 1);
    size_t n = (size_t)((end + 3 + 7) / 8);
    if (n > clen) out[clen] = 0; /* the three header bits spill into a new byte */
    static const unsigned char lens[4] = {0, 0, 0xff, 0xff};
    memcpy(out + n, lens, sizeof lens);
    return n + sizeof lens;
}

/* Compresses one block into out with c, or when c2 is given (automatic
 * level), with c or c2 as the probe decides; unless last, ends it with a
 * sync flush. Returns its size, 0 on failure. */
static size_t compress_block(struct libdeflate_compressor *c, struct libdeflate_compressor *c2,
                             const unsigned char *in, size_t len, int last, unsigned char *out,
                             size_t cap)
{
    size_t room = cap - GZ_FLUSH, clen = 0;
    if (c2) {
        size_t probe = len < GZ_PROBE ? len : GZ_PROBE;
        clen = libdeflate_deflate_compress(c, in, probe, out, room);
        if (clen == 0 || (double)clen > GZ_PROBE_RATIO * (double)probe) c = c2;
        if (probe < len || c == c2) clen = 0; /* else the probe was the whole block */
    }
    if (clen == 0) clen = libdeflate_deflate_compress(c, in, len, out, room);
    if (clen == 0 || last) return clen;
    return unfinish(out, clen);
}

/* The member header, with room for the index when there is one (k >= 2). */
static size_t header_size(size_t k)
{
    return k >= 2 ? GZ_HDR + INDEX_FIXED + 4 * k : GZ_HDR;
}

static void fill_header(unsigned char *h, size_t k, uint64_t total, size_t span,
                        const uint32_t *csize)
{
    static const unsigned char fixed[GZ_HDR] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    memcpy(h, fixed, GZ_HDR);
    if (k < 2) return;
    size_t sub = 12 + 4 * k;
    h[3] = 4; /* FEXTRA */
    h[10] = (unsigned char)((sub + 4) & 0xff), h[11] = (unsigned char)((sub + 4) >> 8);
    h[12] = 'M', h[13] = 'I';
    h[14] = (unsigned char)(sub & 0xff), h[15] = (unsigned char)(sub >> 8);
    put32(h + 16, (uint32_t)total);
    put32(h + 20, (uint32_t)(total >> 32));
    put32(h + 24, (uint32_t)span);
    for (size_t i = 0; i < k; i++) put32(h + 28 + 4 * i, csize ? csize[i] : 0);
}

MdStatus md_gz_write(MdAtomicFile *f, const MdGzPart *parts, int nparts, int level, MdError *err)
{
    int autolevel = level < 0;
    if (autolevel) level = 1;
    if (level > 12)
        return md_error(err, MD_EINVAL, "compression level must be 0 to 12 (got %d)", level);
    size_t total = 0;
    for (int i = 0; i < nparts; i++) total += parts[i].n;
    size_t nblocks = total ? (total + GZ_BLOCK - 1) / GZ_BLOCK : 1;
    size_t per = (nblocks + INDEX_MAX - 1) / INDEX_MAX; /* blocks per index entry */
    size_t k = per > SPAN_MAX_BLOCKS ? 0 : (nblocks + per - 1) / per;
    size_t hlen = header_size(k);
    int nt = md_threads();
    if ((size_t)nt > nblocks) nt = (int)nblocks;
    size_t batch = (size_t)nt * 4;
    if (batch > nblocks) batch = nblocks;

    MdStatus st = MD_OK;
    long at = ftell(f->fp);
    struct libdeflate_compressor **comp = calloc(2 * (size_t)nt, sizeof *comp);
    unsigned char **stage = calloc((size_t)nt, sizeof *stage);
    unsigned char **obuf = calloc(batch, sizeof *obuf);
    size_t *olen = calloc(batch, sizeof *olen);
    uint32_t *bcrc = calloc(batch, sizeof *bcrc);
    uint32_t *csize = calloc(k ? k : 1, sizeof *csize);
    unsigned char *hdr = malloc(hlen);
    size_t cap = 0;
    if (at < 0) {
        st = md_error(err, MD_EIO, "cannot tell the position in the temporary file");
        goto out;
    }
    if (!comp || !stage || !obuf || !olen || !bcrc || !csize || !hdr) goto nomem;
    for (int t = 0; t < nt; t++) {
        if (!(comp[t] = libdeflate_alloc_compressor(level))) goto nomem;
        if (autolevel && !(comp[nt + t] = libdeflate_alloc_compressor(2))) goto nomem;
        if (!(stage[t] = malloc(GZ_BLOCK))) goto nomem;
    }
    cap = libdeflate_deflate_compress_bound(NULL, GZ_BLOCK) + GZ_FLUSH;
    for (size_t b = 0; b < batch; b++)
        if (!(obuf[b] = malloc(cap))) goto nomem;

    fill_header(hdr, k, total, per * GZ_BLOCK, NULL);
    st = md_atomic_write(f, hdr, hlen, err);
    uLong crc = crc32(0, NULL, 0);
    for (size_t b0 = 0; b0 < nblocks && st == MD_OK; b0 += batch) {
        size_t nb = nblocks - b0 < batch ? nblocks - b0 : batch;
        int fail = MD_OK;
        #pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nb > 1)
        for (size_t j = 0; j < nb; j++) {
            int t = 0;
#ifdef _OPENMP
            t = omp_get_thread_num();
#endif
            size_t start = (b0 + j) * GZ_BLOCK;
            size_t len = total - start < GZ_BLOCK ? total - start : GZ_BLOCK;
            const unsigned char *src = gather(parts, nparts, start, len, stage[t]);
            olen[j] = compress_block(comp[t], comp[nt + t], src, len, b0 + j + 1 == nblocks,
                                     obuf[j], cap);
            bcrc[j] = (uint32_t)libdeflate_crc32(0, src, len);
            if (olen[j] == 0) md_par_fail(&fail, MD_ENOMEM);
        }
        if (fail) {
            st = md_error(err, MD_ENOMEM, "gzip compression failed");
            break;
        }
        for (size_t j = 0; j < nb && st == MD_OK; j++) {
            size_t start = (b0 + j) * GZ_BLOCK;
            size_t len = total - start < GZ_BLOCK ? total - start : GZ_BLOCK;
            crc = crc32_combine(crc, bcrc[j], (z_off_t)len);
            if (k) csize[(b0 + j) / per] += (uint32_t)olen[j];
            st = md_atomic_write(f, obuf[j], olen[j], err);
        }
    }
    if (st == MD_OK) {
        unsigned char trl[GZ_TRL];
        put32(trl, (uint32_t)crc);
        put32(trl + 4, (uint32_t)total);
        st = md_atomic_write(f, trl, sizeof trl, err);
    }
    if (st == MD_OK && k >= 2) {
        fill_header(hdr, k, total, per * GZ_BLOCK, csize);
        st = md_atomic_patch(f, at, hdr, hlen, err);
    }
    goto out;
nomem:
    st = md_error(err, MD_ENOMEM, "out of memory setting up gzip compression");
out:
    for (int t = 0; comp && t < 2 * nt; t++) libdeflate_free_compressor(comp[t]);
    for (int t = 0; stage && t < nt; t++) free(stage[t]);
    for (size_t b = 0; obuf && b < batch; b++) free(obuf[b]);
    free(comp);
    free(stage);
    free(obuf);
    free(olen);
    free(bcrc);
    free(csize);
    free(hdr);
    return st;
}
