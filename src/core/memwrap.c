/* Counting large scratch blocks against the memory budget (see memwrap.h).
 * With MD_WRAP_MALLOC the __wrap_* functions below replace malloc, calloc,
 * realloc and free for every object of the binary (-Wl,--wrap); shared
 * libraries (Lua, codecs) keep the C library's. */
#include "memwrap.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#include "volume.h"

static long long scratch;   /* __atomic; may dip below 0 when a big block we did not count is freed */
static int refused;         /* __atomic: a refusal is waiting to be reported */
static size_t refused_asked, refused_live, refused_budget;

size_t md_scratch_bytes(void)
{
    long long s = __atomic_load_n(&scratch, __ATOMIC_RELAXED);
    return s > 0 ? (size_t)s : 0;
}

void md_budget_note_refusal(size_t asked, size_t live, size_t budget)
{
    refused_asked = asked, refused_live = live, refused_budget = budget;
    __atomic_store_n(&refused, 1, __ATOMIC_RELEASE);
}

int md_budget_take_refusal(size_t *asked, size_t *live, size_t *budget)
{
    if (!__atomic_exchange_n(&refused, 0, __ATOMIC_ACQ_REL)) return 0;
    *asked = refused_asked, *live = refused_live, *budget = refused_budget;
    return 1;
}

#ifdef MD_WRAP_MALLOC
void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t a, size_t b);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

/* 1 (and the refusal recorded) when a block of size bytes, n of them new,
 * would pass the budget (blocks under MD_SCRATCH_MIN are not counted).
 * Called before every allocation that may grow, so it is also where kept
 * voxel buffers are freed before a counted block (volume.c says why). */
static int over_budget(size_t n, size_t size)
{
    if (size >= MD_SCRATCH_MIN) md_buffer_reuse_drop();
    size_t budget = md_memory_budget();
    if (!budget || size < MD_SCRATCH_MIN) return 0;
    size_t live = md_live_bytes() + md_scratch_bytes();
    if (live + n <= budget && live + n >= live) return 0;
    md_budget_note_refusal(n, live, budget);
    return 1;
}

static void count(void *p, int sign)
{
    size_t u = p ? malloc_usable_size(p) : 0;
    if (u >= MD_SCRATCH_MIN) __atomic_add_fetch(&scratch, sign * (long long)u, __ATOMIC_RELAXED);
}

void *__wrap_malloc(size_t n)
{
    if (over_budget(n, n)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __real_malloc(n);
    count(p, 1);
    return p;
}

void *__wrap_calloc(size_t a, size_t b)
{
    if (b && a > (size_t)-1 / b) return __real_calloc(a, b); /* the C library reports the overflow */
    if (over_budget(a * b, a * b)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __real_calloc(a, b);
    count(p, 1);
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    if (p && n == 0) { /* frees p (and may return NULL): count it as a free */
        count(p, -1);
        return __real_realloc(p, 0);
    }
    size_t old = p ? malloc_usable_size(p) : 0;
    if (n > old && over_budget(old >= MD_SCRATCH_MIN ? n - old : n, n)) {
        errno = ENOMEM;
        return NULL;
    }
    count(p, -1);
    void *q = __real_realloc(p, n);
    count(q ? q : p, 1); /* a failed realloc keeps the old block */
    return q;
}

void __wrap_free(void *p)
{
    count(p, -1);
    __real_free(p);
}

void *md_raw_malloc(size_t n) { return __real_malloc(n); }
void *md_raw_calloc(size_t a, size_t b) { return __real_calloc(a, b); }
void md_raw_free(void *p) { __real_free(p); }
#else
void *md_raw_malloc(size_t n) { return malloc(n); }
void *md_raw_calloc(size_t a, size_t b) { return calloc(a, b); }
void md_raw_free(void *p) { free(p); }
#endif
