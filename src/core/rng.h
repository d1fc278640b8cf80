/* Counter-based random numbers: every value is a pure function of a key and
 * an index, so results never depend on the thread count, on which worker
 * asked first, or on call order. No global state; never rand().
 *
 * Keys chain: md_rng_key(seed, stream) and md_rng_derive(key, x) give the key
 * for (seed, case, epoch, transform, ...); md_rng_u64(key, i) is the i-th
 * value of that stream. The mixer is splitmix64's finaliser, which passes
 * BigCrush on consecutive counters. */
#ifndef MD_RNG_H
#define MD_RNG_H

#include <math.h>
#include <stdint.h>

#define MD_RNG_GOLDEN 0x9E3779B97F4A7C15ull

/* splitmix64's output function: a bijection on 64-bit words. */
static inline uint64_t md_rng_mix(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* A new key from a parent key and one more coordinate (case, epoch, ...). */
static inline uint64_t md_rng_derive(uint64_t key, uint64_t x)
{
    return md_rng_mix(key ^ md_rng_mix(x + MD_RNG_GOLDEN));
}

/* The key of stream `stream` under `seed`. */
static inline uint64_t md_rng_key(uint64_t seed, uint64_t stream)
{
    return md_rng_derive(md_rng_mix(seed + 0x632BE59BD9B4E019ull), stream);
}

/* The index-th 64-bit value of the stream with this key. */
static inline uint64_t md_rng_u64(uint64_t key, uint64_t index)
{
    return md_rng_mix(key + (index + 1) * MD_RNG_GOLDEN);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double md_rng_uniform(uint64_t key, uint64_t index)
{
    return (double)(md_rng_u64(key, index) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n), n >= 1 (exact for n up to 2^53). */
static inline uint64_t md_rng_below(uint64_t key, uint64_t index, uint64_t n)
{
    return (uint64_t)(md_rng_uniform(key, index) * (double)n);
}

/* Standard normal: Box-Muller on the values 2*index and 2*index+1, so normal
 * number i uses two counters of its own and never a cached spare. */
static inline double md_rng_normal(uint64_t key, uint64_t index)
{
    double u1 = 1.0 - md_rng_uniform(key, 2 * index); /* (0, 1]: log is finite */
    double u2 = md_rng_uniform(key, 2 * index + 1);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* A sequential cursor for code that wants "the next number": same values as
 * md_rng_u64(key, 0), (key, 1), ... */
typedef struct MdRng {
    uint64_t key;
    uint64_t next;
} MdRng;

static inline MdRng md_rng_stream(uint64_t seed, uint64_t stream)
{
    MdRng r = {md_rng_key(seed, stream), 0};
    return r;
}
static inline uint64_t md_rng_next_u64(MdRng *r) { return md_rng_u64(r->key, r->next++); }
static inline double md_rng_next_uniform(MdRng *r) { return md_rng_uniform(r->key, r->next++); }
static inline double md_rng_next_normal(MdRng *r) { return md_rng_normal(r->key, r->next++); }

#endif
