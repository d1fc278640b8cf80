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

/* A two-level decoding table: the primary part is indexed by the next
 * `root` input bits (at most ROOT, so that it stays in the L1 cache);
 * codes longer than that continue in a subtable. An entry packs
 *   bits 0-5    input bits to consume (0: no code matches)
 *   SUB         a subtable follows: consume `root` bits, then index the
 *               subtable at offset (bits 16-31) with the next (bits 10-13) bits
 *   bits 16-31  the symbol (until the entry is annotated, see walk_tables)
 * and, in the literal/length table once annotated, LIT (literals only),
 * LEN (a length: a distance code follows) or EOB. */
#define ROOT 11
#define NBITS 63u
#define SUB 0x40u
#define LEN 0x80u
#define EOB 0x100u
#define LIT 0x200u
#define SUBBITS(e) (((e) >> 10) & 15u)
/* Primary part, plus at most 16 entries per symbol longer than ROOT. */
#define TABLE_CAP ((1u << ROOT) + 288u * 16u)

typedef struct Table {
    unsigned root, used; /* used: entries in use, subtables included */
    uint32_t e[TABLE_CAP];
} Table;

/* Builds the canonical Huffman code for lengths len[0..n), n <= 320.
 * Returns 0 for an over-subscribed code; an incomplete one is accepted
 * (unused entries stay 0 and fail when met). */
static int build(Table *t, const unsigned char *len, unsigned n)
{
    unsigned count[MAXBITS + 1] = {0}, next[MAXBITS + 1], rev[320];
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
    unsigned root = maxlen < ROOT ? (maxlen ? maxlen : 1) : ROOT, psize = 1u << root;
    t->root = root;
    memset(t->e, 0, psize * sizeof t->e[0]);
    /* Codes, bit-reversed (deflate sends them most significant bit first);
     * for long ones, the primary slots first record the subtable bits. */
    for (unsigned sym = 0; sym < n; sym++) {
        unsigned l = len[sym], c, r = 0;
        if (!l) continue;
        c = next[l]++;
        for (unsigned i = 0; i < l; i++) r |= ((c >> i) & 1u) << (l - 1 - i);
        rev[sym] = r;
        if (l > root && t->e[r & (psize - 1)] < l - root) t->e[r & (psize - 1)] = l - root;
    }
    unsigned off = psize;
    for (unsigned p = 0; p < psize && maxlen > root; p++) {
        unsigned sb = t->e[p];
        if (!sb) continue;
        if (off + (1u << sb) > TABLE_CAP) return 0;
        t->e[p] = off << 16 | sb << 10 | SUB;
        memset(t->e + off, 0, ((size_t)1 << sb) * sizeof t->e[0]);
        off += 1u << sb;
    }
    t->used = off;
    for (unsigned sym = 0; sym < n; sym++) {
        unsigned l = len[sym];
        if (!l) continue;
        if (l <= root) {
            for (unsigned i = rev[sym]; i < psize; i += 1u << l) t->e[i] = sym << 16 | l;
            continue;
        }
        uint32_t e = t->e[rev[sym] & (psize - 1)];
        unsigned base = e >> 16, sb = SUBBITS(e), l2 = l - root;
        for (unsigned i = rev[sym] >> root; i < 1u << sb; i += 1u << l2)
            t->e[base + i] = sym << 16 | l2;
    }
    return 1;
}

/* The entry for the next code (the subtable's when there is one). */
static inline uint32_t lookup(Bits *b, const Table *t)
{
    uint32_t e = t->e[b->buf & ((1u << t->root) - 1)];
    if (e & SUB) {
        take(b, t->root);
        e = t->e[(e >> 16) + (b->buf & ((1u << SUBBITS(e)) - 1))];
    }
    return e;
}

/* Prepares the literal/length and distance tables for skip_symbols, which
 * needs no symbol values: the extra bits of lengths and distances are
 * counted into their codes' bits, and a primary entry whose code is a
 * literal covers as many whole literal codes as its root bits hold. */
static void walk_tables(Table *lit, Table *dist)
{
    static const unsigned char lext[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                           2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    static const unsigned char dext[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                           6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
    for (unsigned i = 0; i < lit->used; i++) {
        uint32_t e = lit->e[i], sym = e >> 16;
        if (!(e & NBITS) || (e & SUB)) continue;
        e &= NBITS;
        lit->e[i] = sym < 256 ? e | LIT : sym == 256 ? e | EOB : sym <= 285 ? (e + lext[sym - 257]) | LEN : 0;
    }
    for (unsigned i = 0; i < dist->used; i++) {
        uint32_t e = dist->e[i], sym = e >> 16;
        if (!(e & NBITS) || (e & SUB)) continue;
        dist->e[i] = sym < 30 ? (e & NBITS) + dext[sym] : 0;
    }
    /* Literal runs: each primary entry reads root bits, so a literal code
     * of l bits leaves root - l bits that may hold further whole literals.
     * Single-literal entries are looked up in one pass, runs written in a
     * second so that the lookups see the originals. */
    unsigned root = lit->root, psize = 1u << root;
    uint32_t run[1u << ROOT];
    for (unsigned i = 0; i < psize; i++) {
        uint32_t e = lit->e[i], used = e & NBITS;
        run[i] = e;
        if (!(e & LIT)) continue;
        for (;;) {
            uint32_t f = lit->e[(i >> used) & (psize - 1)];
            if (!(f & LIT) || used + (f & NBITS) > root) break;
            used += f & NBITS;
        }
        run[i] = used | LIT;
    }
    memcpy(lit->e, run, psize * sizeof run[0]);
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
    if (!build(&s->dist, l, 32)) return 0;
    walk_tables(&s->lit, &s->dist);
    return 1;
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
        uint32_t e = lookup(b, &s->cl);
        if (!(e & NBITS)) return 0;
        take(b, e & NBITS);
        unsigned sym = e >> 16;
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
    if (!build(&s->lit, s->lens, hlit) || !build(&s->dist, s->lens + hlit, hdist)) return 0;
    walk_tables(&s->lit, &s->dist);
    return 1;
}

/* Skips the codes of a Huffman block up to and including end-of-block. A
 * step consumes at most 15 + 5 + 15 + 13 = 48 bits, within one refill. */
static int skip_symbols(Bits *b, const Scratch *s)
{
    for (;;) {
        refill(b);
        if (b->pos > b->n + 16) return 0; /* decoding the zeros past the end */
        uint32_t e = lookup(b, &s->lit);
        if (!(e & NBITS)) return 0;
        take(b, e & NBITS);
        if (e & LIT) continue;
        if (e & EOB) return 1;
        e = lookup(b, &s->dist);
        if (!(e & NBITS)) return 0;
        take(b, e & NBITS);
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
