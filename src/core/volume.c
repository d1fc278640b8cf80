/* Buffers with live-byte accounting, and volume headers. */
#include "volume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "memwrap.h"

static size_t live_bytes;  /* atomic via __atomic builtins */
static size_t budget_bytes;

size_t md_live_bytes(void) { return __atomic_load_n(&live_bytes, __ATOMIC_RELAXED); }
void md_set_memory_budget(size_t bytes)
{
    budget_bytes = bytes;
    md_buffer_reuse_drop();
}
size_t md_memory_budget(void) { return budget_bytes; }

MdStatus md_checked_mul(size_t *n, size_t a, size_t b, MdError *err)
{
    if (a != 0 && b > SIZE_MAX / a)
        return md_error(err, MD_ETOOBIG, "size overflow (%zu x %zu)", a, b);
    *n = a * b;
    return MD_OK;
}

enum { HUGE_PAGE = 2u << 20, LARGE = 4 * HUGE_PAGE };

/* Large buffers are aligned to 2 MiB and offered to transparent huge pages:
 * filling a CT-sized buffer then takes 512 times fewer page faults, which
 * is most of the cost of reading an uncompressed file. */
static void *alloc_large(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, n) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, n, MADV_HUGEPAGE);
#endif
    return p;
}

/* The last released large buffers, kept for the next request of the same
 * size: a chain of element-wise steps then writes into memory it has
 * touched before, instead of paying the kernel's zeroing of fresh pages
 * (about half the time of a step like m:bnot()). Any other request of
 * 1 MiB or more, voxel buffer or scratch block (md_buffer_reuse_drop),
 * frees them all first, so none of our allocations of 1 MiB or more sees
 * more memory held than without the reuse (libraries' own are not
 * counted). Off under AddressSanitizer, whose quarantine must see every
 * free. */
#if defined(__SANITIZE_ADDRESS__)
#define REUSE_SLOTS 0
#else
#define REUSE_SLOTS 2
#endif
static struct { void *p; size_t n; } reuse[REUSE_SLOTS ? REUSE_SLOTS : 1];
static int reuse_lock; /* a spin lock: held only to move a few pointers */
static int reuse_held; /* buffers kept now (read without the lock as a hint) */
static size_t reuse_hits; /* requests served from a kept buffer */

static void lock(void) { while (__atomic_exchange_n(&reuse_lock, 1, __ATOMIC_ACQUIRE)) {} }
static void unlock(void) { __atomic_store_n(&reuse_lock, 0, __ATOMIC_RELEASE); }

/* Takes the kept buffer of exactly n bytes, or frees every kept buffer and
 * returns NULL. */
static void *reuse_take(size_t n)
{
    void *hit = NULL, *drop[REUSE_SLOTS ? REUSE_SLOTS : 1];
    int ndrop = 0;
    lock();
    for (int i = 0; i < REUSE_SLOTS; i++) {
        if (!reuse[i].p) continue;
        if (!hit && reuse[i].n == n) hit = reuse[i].p;
        else drop[ndrop++] = reuse[i].p;
        reuse[i].p = NULL;
    }
    __atomic_store_n(&reuse_held, 0, __ATOMIC_RELAXED);
    unlock();
    for (int i = 0; i < ndrop; i++) md_raw_free(drop[i]);
    if (hit) __atomic_add_fetch(&reuse_hits, 1, __ATOMIC_RELAXED);
    return hit;
}

/* Keeps p (n bytes) when a slot is free; 0 when the caller must free it. */
static int reuse_keep(void *p, size_t n)
{
    int kept = 0;
    lock();
    for (int i = 0; i < REUSE_SLOTS && !kept; i++)
        if (!reuse[i].p) reuse[i].p = p, reuse[i].n = n, kept = 1;
    if (kept) __atomic_add_fetch(&reuse_held, 1, __ATOMIC_RELAXED);
    unlock();
    return kept;
}

void md_buffer_reuse_drop(void)
{
    if (REUSE_SLOTS && __atomic_load_n(&reuse_held, __ATOMIC_RELAXED)) (void)reuse_take(0);
}

size_t md_buffer_reuse_bytes(void)
{
    size_t b = 0;
    lock();
    for (int i = 0; i < REUSE_SLOTS; i++)
        if (reuse[i].p) b += reuse[i].n;
    unlock();
    return b;
}

size_t md_buffer_reuse_hits(void) { return __atomic_load_n(&reuse_hits, __ATOMIC_RELAXED); }

static void *alloc_voxels(size_t n, int zero)
{
    if (n < LARGE) {
        if (n >= MD_SCRATCH_MIN) md_buffer_reuse_drop(); /* as a scratch block of this size would */
        return zero ? md_raw_calloc(1, n) : md_raw_malloc(n);
    }
    void *p = REUSE_SLOTS ? reuse_take(n) : NULL;
    if (!p) p = alloc_large(n);
    if (p && zero) memset(p, 0, n);
    return p;
}

static void free_voxels(void *p, size_t n)
{
    if (n >= LARGE && REUSE_SLOTS && reuse_keep(p, n)) return;
    md_raw_free(p);
}

MdStatus md_buffer_new(MdBuffer **out, size_t nbytes, int zero, MdError *err)
{
    *out = NULL;
    size_t live = md_live_bytes() + md_scratch_bytes();
    if (budget_bytes && (live + nbytes > budget_bytes || live + nbytes < live))
        return md_error(err, MD_ENOMEM,
                        "memory budget exceeded: %zu bytes asked for, %zu in use, budget %zu "
                        "(vol.set_memory_budget)",
                        nbytes, live, budget_bytes);
    MdBuffer *b = malloc(sizeof *b);
    if (!b) return md_error(err, MD_ENOMEM, "out of memory allocating a buffer header");
    b->data = alloc_voxels(nbytes ? nbytes : 1, zero);
    if (!b->data) {
        free(b);
        return md_error(err, MD_ENOMEM, "out of memory allocating %zu bytes", nbytes);
    }
    b->nbytes = nbytes;
    b->refs = 1;
    __atomic_add_fetch(&live_bytes, nbytes, __ATOMIC_RELAXED);
    *out = b;
    return MD_OK;
}

void md_buffer_retain(MdBuffer *b)
{
    if (b) __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
}

void md_buffer_release(MdBuffer *b)
{
    if (!b) return;
    if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        __atomic_sub_fetch(&live_bytes, b->nbytes, __ATOMIC_RELAXED);
        free_voxels(b->data, b->nbytes ? b->nbytes : 1);
        free(b);
    }
}

void md_volume_init(MdVolume *v, MdDtype dtype, int ndim, const int64_t *dim)
{
    memset(v, 0, sizeof *v);
    v->dtype = dtype;
    v->ndim = ndim;
    for (int i = 0; i < MD_MAXDIM; i++) v->dim[i] = (i < ndim && dim) ? dim[i] : 1;
    for (int i = 0; i < 3; i++) {
        v->spacing[i] = 1.0;
        v->direction[i * 3 + i] = 1.0;
    }
    v->tstep = 1.0;
}

size_t md_volume_count(const MdVolume *v)
{
    size_t n = 1;
    for (int i = 0; i < MD_MAXDIM; i++) n *= (size_t)v->dim[i];
    return n;
}

size_t md_volume_nbytes(const MdVolume *v)
{
    return md_volume_count(v) * md_dtype_size(v->dtype);
}

MdStatus md_volume_check_dims(int ndim, const int64_t *dim, MdError *err)
{
    if (ndim < 1 || ndim > MD_MAXDIM)
        return md_error(err, MD_EINVAL, "number of dimensions must be 1 to 4 (got %d)", ndim);
    size_t n = 8; /* room for the widest element */
    for (int i = 0; i < ndim; i++) {
        if (dim[i] < 1)
            return md_error(err, MD_EINVAL, "dimension %d must be >= 1 (got %lld)", i + 1,
                            (long long)dim[i]);
        if (md_checked_mul(&n, n, (size_t)dim[i], err) != MD_OK || n > (size_t)INT64_MAX)
            return md_error(err, MD_ETOOBIG, "dimensions too large (axis %d = %lld overflows)",
                            i + 1, (long long)dim[i]);
    }
    return MD_OK;
}

MdStatus md_volume_alloc(MdVolume *v, int zero, size_t extra, MdError *err)
{
    MdStatus st = md_volume_check_dims(v->ndim, v->dim, err);
    if (st != MD_OK) return st;
    size_t n = md_dtype_size(v->dtype);
    for (int i = 0; i < MD_MAXDIM; i++)
        if ((st = md_checked_mul(&n, n, (size_t)v->dim[i], err)) != MD_OK) return st;
    if (n > SIZE_MAX - extra) return md_error(err, MD_ETOOBIG, "size overflow");
    md_volume_release(v);
    st = md_buffer_new(&v->buf, n + extra, zero, err);
    v->offset = extra;
    return st;
}

void md_volume_release(MdVolume *v)
{
    md_buffer_release(v->buf);
    v->buf = NULL;
    v->offset = 0;
}

void md_volume_copy_geometry(MdVolume *dst, const MdVolume *src)
{
    memcpy(dst->spacing, src->spacing, sizeof dst->spacing);
    memcpy(dst->origin, src->origin, sizeof dst->origin);
    memcpy(dst->direction, src->direction, sizeof dst->direction);
    dst->tstep = src->tstep;
}

const char *md_volume_shape_text(const MdVolume *v, char *buf, size_t n)
{
    size_t len = 0;
    if (n == 0) return buf;
    buf[0] = '\0';
    for (int a = 0; a < v->ndim && len < n; a++) {
        int w = snprintf(buf + len, n - len, "%s%lld", a ? "x" : "", (long long)v->dim[a]);
        if (w < 0) break;
        len += (size_t)w;
    }
    return buf;
}
