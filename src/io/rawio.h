/* Raw-array helpers shared by the MetaImage and NumPy readers and writers:
 * whole-range positioned reads, in-place byte swapping, writing an array
 * little-endian whatever the host. No format knowledge lives here. */
#ifndef MD_RAWIO_H
#define MD_RAWIO_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "../core/ctx.h"
#include "atomicfile.h"

static inline int md_host_big_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 0;
}

/* Reads n bytes at offset off of fd into dst with pread (no stdio buffer
 * in between, so the bytes land straight in their final memory). Returns
 * the number of bytes read: less than n at end of file or on error (errno
 * set). */
static inline size_t md_pread_full(int fd, void *dst, size_t n, off_t off)
{
    size_t done = 0;
    while (done < n) {
        size_t chunk = n - done > ((size_t)1 << 30) ? ((size_t)1 << 30) : n - done;
        ssize_t r = pread(fd, (char *)dst + done, chunk, off + (off_t)done);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        done += (size_t)r;
    }
    return done;
}

/* md_pread_full for large arrays: 8 MiB pieces read by several threads,
 * because filling fresh memory (page faults plus the copy out of the page
 * cache) is what bounds a read from a cached file, and it scales with cores.
 * Returns n, or the offset of the first piece that came up short. */
static inline size_t md_pread_array(int fd, void *dst, size_t n, off_t off)
{
    const size_t piece = (size_t)8 << 20;
    size_t npieces = (n + piece - 1) / piece, got = n;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(md_threads()) if (npieces >= 4)
#endif
    for (size_t i = 0; i < npieces; i++) {
        size_t at = i * piece, k = n - at < piece ? n - at : piece;
        size_t r = md_pread_full(fd, (char *)dst + at, k, off + (off_t)at);
        if (r != k) {
#ifdef _OPENMP
#pragma omp critical(md_pread_array)
#endif
            if (at + r < got) got = at + r;
        }
    }
    return got;
}

/* Reverses the bytes of each of the n elements of esize bytes at p, on all
 * threads for large arrays. */
static inline void md_swap_bytes(void *p, size_t n, size_t esize)
{
    unsigned char *b = p;
    const int64_t m = (int64_t)n;
#define MD_SWAP_LOOP(T, SWAP)                                                        \
    {                                                                                \
        _Pragma("omp parallel for schedule(static) if (m > 65536)")                  \
        for (int64_t i = 0; i < m; i++) {                                            \
            T x;                                                                     \
            memcpy(&x, b + (size_t)i * sizeof x, sizeof x);                          \
            x = SWAP(x);                                                             \
            memcpy(b + (size_t)i * sizeof x, &x, sizeof x);                          \
        }                                                                            \
    }
    switch (esize) {
    case 2: MD_SWAP_LOOP(uint16_t, __builtin_bswap16) break;
    case 4: MD_SWAP_LOOP(uint32_t, __builtin_bswap32) break;
    case 8: MD_SWAP_LOOP(uint64_t, __builtin_bswap64) break;
    default: break;
    }
#undef MD_SWAP_LOOP
}

/* Writes n elements of esize bytes in little-endian order. On a big-endian
 * host the bytes go through a small swapped copy, so p is never modified. */
static inline MdStatus md_write_le(MdAtomicFile *f, const void *p, size_t n, size_t esize,
                                   MdError *err)
{
    if (!md_host_big_endian() || esize == 1) return md_atomic_write(f, p, n * esize, err);
    unsigned char tmp[1 << 16];
    const unsigned char *src = p;
    size_t per = sizeof tmp / esize;
    while (n > 0) {
        size_t k = n < per ? n : per;
        memcpy(tmp, src, k * esize);
        md_swap_bytes(tmp, k, esize);
        MdStatus st = md_atomic_write(f, tmp, k * esize, err);
        if (st != MD_OK) return st;
        src += k * esize;
        n -= k;
    }
    return MD_OK;
}

#endif
