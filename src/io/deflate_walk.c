/* Finds the final block of a raw deflate stream by decoding its block
 * structure (RFC 1951 section 3.2) and discarding the symbols. It checks
 * what it must to stay in bounds and to terminate, not everything an
 * inflater checks (distances are not compared with the history). */
#include "deflate_walk.h"

#include <stdlib.h>
#include <string.h>

#define MAXBITS 15

/* Little-endian bit reader. pos counts the bytes loaded into buf, including
 * the zeros supplied past the end of the input, so that running past the
 * end is noticed by comparing pos with n rather than by a branch per bit. */
typedef struct Bits {
    const unsigned char *p;
    size_t n, pos;
    uint64_t buf;
    unsigned cnt;
} Bits;

/* Tops buf up to at least 56 bits; every decoding step below needs <= 48. */
static inline void refill(Bits *b)
{
    if (b->pos + 8 <= b->n) {
        uint64_t w;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(&w, b->p + b->pos, 8);
#else
        w = 0;
        for (int i = 7; i >= 0; i--) w = w << 8 | b->p[b->pos + (size_t)i];
#endif
        b->buf |= w << b->cnt;
        b->pos += (63 - b->cnt) >> 3;
        b->cnt |= 56;
        return;
    }
    while (b->cnt < 56) {
        uint64_t byte = b->pos < b->n ? b->p[b->pos] : 0;
        b->buf |= byte << b->cnt;
        b->pos++;
        b->cnt += 8;
    }
}

static inline unsigned take(Bits *b, unsigned k)
{
    unsigned v = (unsigned)(b->buf & ((1u << k) - 1));
    b->buf >>= k;
    b->cnt -= k;
    return v;
}

static inline uint64_t bit_pos(const Bits *b)
{
    return (uint64_t)b->pos * 8 - b->cnt;
}

/* Restarts reading at byte offset at. */
static void seek_byte(Bits *b, size_t at)
{
    b->pos = at;
    b->buf = 0;
    b->cnt = 0;
}

/* A single-level decoding table indexed by the next `bits` input bits:
 * entry = symbol << 4 | code length, 0 where no code matches. */
typedef struct Table {
    unsigned bits;
    uint16_t e[1 << MAXBITS];
} Table;

/* Builds the canonical Huffman code for lengths len[0..n). Returns 0 for an
 * over-subscribed code; an incomplete one is accepted (unused entries stay
 * 0 and fail when met). */
static int build(Table *t, const unsigned char *len, unsigned n)
{
    unsigned count[MAXBITS + 1] = {0}, next[MAXBITS + 1];
    for (unsigned i = 0; i < n; i++) count[len[i]]++;
    count[0] = 0;
    int left = 1;
    unsigned maxlen = 0, code = 0;
    for (unsigned l = 1; l <= MAXBITS; l++) {
        left = 2 * left - (int)count[l];
        if (left < 0) return 0;
        if (count[l]) maxlen = l;
        code = (code + count[l - 1]) << 1;
        next[l] = code;
    }
    t->bits = maxlen ? maxlen : 1;
    size_t size = (size_t)1 << t->bits;
    memset(t->e, 0, size * sizeof t->e[0]);
    for (unsigned sym = 0; sym < n; sym++) {
        unsigned l = len[sym];
        if (!l) continue;
        unsigned c = next[l]++, rev = 0;
        for (unsigned i = 0; i < l; i++) rev |= ((c >> i) & 1u) << (l - 1 - i);
        for (size_t i = rev; i < size; i += (size_t)1 << l) t->e[i] = (uint16_t)(sym << 4 | l);
    }
    return 1;
}

/* Next symbol, or -1 where no code matches. */
static inline int decode(Bits *b, const Table *t)
{
    unsigned e = t->e[b->buf & ((1u << t->bits) - 1)];
    if (!(e & 15)) return -1;
    take(b, e & 15);
    return (int)(e >> 4);
}

typedef struct Scratch {
    Table lit, dist, cl;
    unsigned char lens[320];
} Scratch;

static int fixed_tables(Scratch *s)
{
    unsigned char *l = s->lens;
    memset(l, 8, 144);
    memset(l + 144, 9, 112);
    memset(l + 256, 7, 24);
    memset(l + 280, 8, 8);
    if (!build(&s->lit, l, 288)) return 0;
    memset(l, 5, 32);
    return build(&s->dist, l, 32);
}

/* Reads a dynamic block's code-length header and builds its tables. */
static int dynamic_tables(Bits *b, Scratch *s)
{
    static const unsigned char order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
                                            11, 4, 12, 3, 13, 2, 14, 1, 15};
    refill(b);
    unsigned hlit = take(b, 5) + 257, hdist = take(b, 5) + 1, hclen = take(b, 4) + 4;
    if (hlit > 286 || hdist > 30) return 0;
    unsigned char cl[19] = {0};
    for (unsigned i = 0; i < hclen; i++) {
        refill(b);
        cl[order[i]] = (unsigned char)take(b, 3);
    }
    if (!build(&s->cl, cl, 19)) return 0;
    unsigned total = hlit + hdist, i = 0;
    while (i < total) {
        refill(b);
        if (b->pos > b->n + 16) return 0;
        int sym = decode(b, &s->cl);
        if (sym < 0) return 0;
        if (sym < 16) {
            s->lens[i++] = (unsigned char)sym;
            continue;
        }
        unsigned char fill = 0;
        unsigned reps;
        if (sym == 16) {
            if (i == 0) return 0;
            fill = s->lens[i - 1];
            reps = 3 + take(b, 2);
        } else if (sym == 17) {
            reps = 3 + take(b, 3);
        } else {
            reps = 11 + take(b, 7);
        }
        if (reps > total - i) return 0;
        memset(s->lens + i, fill, reps);
        i += reps;
    }
    if (s->lens[256] == 0) return 0; /* no end-of-block code */
    return build(&s->lit, s->lens, hlit) && build(&s->dist, s->lens + hlit, hdist);
}

/* Skips the symbols of a Huffman block up to and including end-of-block. */
static int skip_symbols(Bits *b, const Scratch *s)
{
    /* Extra bits of length symbols 257..285 and distance symbols 0..29. */
    static const unsigned char lext[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                           2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    static const unsigned char dext[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                           6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
    for (;;) {
        refill(b);
        if (b->pos > b->n + 16) return 0; /* decoding the zeros past the end */
        int sym = decode(b, &s->lit);
        if (sym < 256) {
            if (sym < 0) return 0;
            continue;
        }
        if (sym == 256) return 1;
        if (sym > 285) return 0;
        take(b, lext[sym - 257]);
        int d = decode(b, &s->dist);
        if (d < 0 || d > 29) return 0;
        take(b, dext[d]);
    }
}

int md_deflate_walk(const unsigned char *p, size_t n, uint64_t *final_bit, uint64_t *end_bit)
{
    Scratch *s = malloc(sizeof *s);
    if (!s) return 0;
    Bits b = {p, n, 0, 0, 0};
    int ok = 0, last = 0, fixed_built = 0;
    while (!last) {
        refill(&b);
        uint64_t start = bit_pos(&b);
        last = (int)take(&b, 1);
        unsigned type = take(&b, 2);
        if (type == 0) {
            take(&b, b.cnt & 7); /* to a byte boundary */
            unsigned len = take(&b, 16), nlen = take(&b, 16);
            size_t at = (size_t)(bit_pos(&b) / 8);
            if ((len ^ 0xffffu) != nlen || at > n || len > n - at) break;
            seek_byte(&b, at + len);
        } else if (type == 1) {
            if (!fixed_built && !fixed_tables(s)) break;
            fixed_built = 1;
            if (!skip_symbols(&b, s)) break;
        } else if (type == 2) {
            fixed_built = 0;
            if (!dynamic_tables(&b, s) || !skip_symbols(&b, s)) break;
        } else {
            break;
        }
        if (last) {
            *final_bit = start;
            *end_bit = bit_pos(&b);
            ok = *end_bit <= (uint64_t)n * 8;
        }
    }
    free(s);
    return ok;
}
