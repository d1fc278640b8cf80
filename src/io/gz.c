/* Whole-buffer zlib inflate/deflate and file slurping (zlib), and gzip for
 * .nii.gz: libdeflate inflates whole members in one call (zlib only decodes
 * the partial member at the end of a bounded read and explains failures);
 * writing compresses fixed-size blocks as independent members in parallel.
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

/* Members written by md_gz_write: header with only FEXTRA, one 12-byte
 * extra field "Md" holding the member's total size and inflated size. */
#define MEMBER_HDR 24
#define MEMBER_TRL 8

static int indexed_member(const unsigned char *p, size_t n, uint32_t *csize, uint32_t *usize)
{
    if (n < MEMBER_HDR + MEMBER_TRL) return 0;
    if (p[0] != 0x1f || p[1] != 0x8b || p[2] != 8 || p[3] != 4) return 0;
    if (p[10] != 12 || p[11] != 0 || p[12] != 'M' || p[13] != 'd' || p[14] != 8 || p[15] != 0)
        return 0;
    *csize = (uint32_t)p[16] | (uint32_t)p[17] << 8 | (uint32_t)p[18] << 16 | (uint32_t)p[19] << 24;
    *usize = (uint32_t)p[20] | (uint32_t)p[21] << 8 | (uint32_t)p[22] << 16 | (uint32_t)p[23] << 24;
    return *csize >= MEMBER_HDR + MEMBER_TRL && *csize <= n;
}

/* Counts the indexed members tiling in[0..n) exactly (0 when it is not such
 * a file) and fills pos/outpos when given room. */
static size_t index_members(const unsigned char *in, size_t n, size_t *pos, size_t *outpos,
                            size_t room)
{
    size_t p = 0, o = 0, k = 0;
    while (p < n) {
        uint32_t cs, us;
        if (!indexed_member(in + p, n - p, &cs, &us)) return 0;
        if (k < room) {
            pos[k] = p;
            outpos[k] = o;
        }
        p += cs;
        o += us;
        k++;
    }
    return k;
}

/* Inflates indexed members in parallel; returns 0 (and the caller decodes
 * serially, which also explains any failure) when anything is off. */
static int inflate_parallel(const unsigned char *in, size_t n, unsigned char *out, size_t cap,
                            size_t *got)
{
    size_t k = index_members(in, n, NULL, NULL, 0);
    if (k < 2 || md_threads() < 2) return 0;
    size_t *pos = malloc(2 * k * sizeof *pos);
    if (!pos) return 0;
    size_t *opos = pos + k;
    index_members(in, n, pos, opos, k);
    /* Only members that fit whole in out go in parallel; a member cut by
     * cap, and any failure, are left to the serial path. */
    size_t whole = 0;
    while (whole < k) {
        uint32_t cs, us;
        indexed_member(in + pos[whole], n - pos[whole], &cs, &us);
        if (opos[whole] + us > cap) break;
        whole++;
    }
    int ok = 1;
    if (whole >= 2) {
        #pragma omp parallel if (whole > 1)
        {
            struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
            if (!d) {
                #pragma omp atomic write
                ok = 0;
            }
            #pragma omp for schedule(dynamic, 1)
            for (size_t i = 0; i < whole; i++) {
                uint32_t cs, us;
                size_t outn = 0;
                indexed_member(in + pos[i], n - pos[i], &cs, &us);
                if (!d || libdeflate_gzip_decompress(d, in + pos[i], cs, out + opos[i], us,
                                                     &outn) != LIBDEFLATE_SUCCESS ||
                    outn != us) {
                    #pragma omp atomic write
                    ok = 0;
                }
            }
            libdeflate_free_decompressor(d);
        }
    } else {
        ok = 0;
    }
    size_t done = ok ? opos[whole - 1] : 0;
    if (ok) {
        uint32_t cs, us;
        indexed_member(in + pos[whole - 1], n - pos[whole - 1], &cs, &us);
        done += us;
        if (whole < k && done < cap) {
            size_t rest = 0;
            MdError ignored;
            if (inflate_serial(in + pos[whole], n - pos[whole], out + done, cap - done, 0, &rest,
                               &ignored) != MD_OK)
                ok = 0;
            done += rest;
        }
    }
    free(pos);
    *got = done;
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

/* Bytes of input per member: large enough that the 32 KB of history each
 * member starts without costs little, small enough to spread over threads. */
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

static void put32(unsigned char *p, uint32_t x)
{
    p[0] = (unsigned char)x, p[1] = (unsigned char)(x >> 8);
    p[2] = (unsigned char)(x >> 16), p[3] = (unsigned char)(x >> 24);
}

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

/* Compresses one block into a complete member at out with c, or when c2 is
 * given (automatic level), with c or c2 as the probe decides. Returns the
 * member's size, 0 on failure. */
static size_t compress_member(struct libdeflate_compressor *c, struct libdeflate_compressor *c2,
                              const unsigned char *in, size_t len, unsigned char *out, size_t cap)
{
    static const unsigned char hdr[16] = {0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3, 12, 0, 'M', 'd', 8, 0};
    unsigned char *body = out + MEMBER_HDR;
    size_t room = cap - MEMBER_HDR - MEMBER_TRL, clen = 0;
    if (c2) {
        size_t probe = len < GZ_PROBE ? len : GZ_PROBE;
        clen = libdeflate_deflate_compress(c, in, probe, body, room);
        if (clen == 0 || (double)clen > GZ_PROBE_RATIO * (double)probe) c = c2;
        if (probe < len || c == c2) clen = 0; /* else the probe was the whole block */
    }
    if (clen == 0) clen = libdeflate_deflate_compress(c, in, len, body, room);
    if (clen == 0) return 0;
    size_t total = MEMBER_HDR + clen + MEMBER_TRL;
    memcpy(out, hdr, sizeof hdr);
    put32(out + 16, (uint32_t)total);
    put32(out + 20, (uint32_t)len);
    put32(body + clen, libdeflate_crc32(0, in, len));
    put32(body + clen + 4, (uint32_t)len);
    return total;
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
    int nt = md_threads();
    if ((size_t)nt > nblocks) nt = (int)nblocks;
    size_t batch = (size_t)nt * 4;
    if (batch > nblocks) batch = nblocks;

    MdStatus st = MD_OK;
    struct libdeflate_compressor **comp = calloc(2 * (size_t)nt, sizeof *comp);
    unsigned char **stage = calloc((size_t)nt, sizeof *stage);
    unsigned char **obuf = calloc(batch, sizeof *obuf);
    size_t *olen = calloc(batch, sizeof *olen);
    size_t cap = 0;
    if (!comp || !stage || !obuf || !olen) goto nomem;
    for (int t = 0; t < nt; t++) {
        if (!(comp[t] = libdeflate_alloc_compressor(level))) goto nomem;
        if (autolevel && !(comp[nt + t] = libdeflate_alloc_compressor(2))) goto nomem;
        if (!(stage[t] = malloc(GZ_BLOCK))) goto nomem;
    }
    cap = libdeflate_deflate_compress_bound(NULL, GZ_BLOCK) + MEMBER_HDR + MEMBER_TRL;
    for (size_t b = 0; b < batch; b++)
        if (!(obuf[b] = malloc(cap))) goto nomem;

    for (size_t b0 = 0; b0 < nblocks && st == MD_OK; b0 += batch) {
        size_t nb = nblocks - b0 < batch ? nblocks - b0 : batch;
        int failed = 0;
        #pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nb > 1)
        for (size_t k = 0; k < nb; k++) {
            int t = 0;
#ifdef _OPENMP
            t = omp_get_thread_num();
#endif
            size_t start = (b0 + k) * GZ_BLOCK;
            size_t len = total - start < GZ_BLOCK ? total - start : GZ_BLOCK;
            const unsigned char *src = gather(parts, nparts, start, len, stage[t]);
            olen[k] = compress_member(comp[t], comp[nt + t], src, len, obuf[k], cap);
            if (olen[k] == 0) {
                #pragma omp atomic write
                failed = 1;
            }
        }
        if (failed) {
            st = md_error(err, MD_ENOMEM, "gzip compression failed");
            break;
        }
        for (size_t k = 0; k < nb && st == MD_OK; k++) st = md_atomic_write(f, obuf[k], olen[k], err);
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
    return st;
}
