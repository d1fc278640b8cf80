/* SHA-256 (FIPS 180-4) of bytes and of files, for the run ledger: each
 * output is recorded with its digest so a copy can be checked bit for bit. */
#ifndef MD_SHA256_H
#define MD_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct MdSha256 {
    uint32_t h[8];
    uint64_t bytes;
    unsigned char block[64];
    size_t fill;
} MdSha256;

void md_sha256_init(MdSha256 *s);
void md_sha256_update(MdSha256 *s, const void *p, size_t n);
/* Writes the 64 lowercase hex digits and a NUL into hex. */
void md_sha256_final(MdSha256 *s, char hex[65]);

/* The digest of a whole file, and its size in bytes; MD_EIO naming path. */
MdStatus md_sha256_file(const char *path, char hex[65], int64_t *size, MdError *err) MD_MUST_CHECK;

#endif
