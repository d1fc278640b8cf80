/* OpenMP helpers every kernel shares: one size threshold for the `if`
 * clauses, and one record of the first failure (or cancel) inside a parallel
 * loop. Inside a parallel region a kernel never raises, prints or returns
 * early: it records the failure here, the other iterations skip their work,
 * and the calling thread turns the record into the kernel's status.
 *
 *   int fail = MD_OK;
 *   #pragma omp parallel for schedule(static) if (md_par_worth((double)n))
 *   for (int64_t z = 0; z < nz; z++) {
 *       if (md_par_stopped(&fail) || md_par_poll_cancel(&fail)) continue;
 *       ...
 *   }
 *   if (fail) return md_par_status(fail, "gaussian", err);
 */
#ifndef MD_PAR_H
#define MD_PAR_H

#include "ctx.h"
#include "err.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Asks the compiler to vectorise the next loop (OpenMP's simd construct; a
 * no-op when built without OpenMP). */
#define MD_SIMD _Pragma("omp simd")

/* Hot loops may also be compiled for AVX2 and chosen at run time when the
 * processor has it (GCC on x86-64): integer min/max and widening moves make
 * the 8- and 16-bit paths several times shorter. The results are the same
 * bits: the same operations in the same order, without contraction into FMA
 * (the build is ISO C, where GCC does not contract). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(MD_NO_CLONES)
#define MD_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MD_VECTOR_CLONES
#endif

/* Voxels (or work items of similar cost) below which a loop stays on one thread. */
#define MD_PAR_MIN_WORK 65536.0

static inline int md_par_worth(double work) { return work > MD_PAR_MIN_WORK; }

/* The threshold is the only one: a loop whose voxels cost less or more than
 * the usual few arithmetic operations scales its count instead of keeping a
 * threshold of its own. Copies, gathers and short interpolations (cropad,
 * the separable resampling passes) count a quarter: md_par_worth(n / MD_PAR_CHEAP). */
#define MD_PAR_CHEAP 4.0

/* Records st in *fail unless a failure is already recorded. */
static inline void md_par_fail(int *fail, MdStatus st)
{
    int expected = MD_OK;
    __atomic_compare_exchange_n(fail, &expected, (int)st, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* True once any iteration recorded a failure: skip the remaining work. */
static inline int md_par_stopped(const int *fail) { return __atomic_load_n(fail, __ATOMIC_RELAXED) != MD_OK; }

/* Records MD_ECANCELLED when the user asked to cancel; true when stopped. */
static inline int md_par_poll_cancel(int *fail)
{
    if (md_cancel_requested()) md_par_fail(fail, MD_ECANCELLED);
    return md_par_stopped(fail);
}

/* The status for a recorded failure, with a message for the cases the loop
 * body could not word itself (cancel, allocation). what names the kernel. */
static inline MdStatus md_par_status(int fail, const char *what, MdError *err)
{
    switch ((MdStatus)fail) {
    case MD_OK: return MD_OK;
    case MD_ECANCELLED: return md_error(err, MD_ECANCELLED, "%s cancelled", what);
    case MD_ENOMEM: return md_error(err, MD_ENOMEM, "%s: out of memory for per-thread scratch", what);
    default: return (MdStatus)fail; /* the body wrote its own message */
    }
}

/* This thread's number inside a parallel region (0 outside or without OpenMP). */
static inline int md_par_thread(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Progress from a parallel loop: every finished iteration adds one to
 * *done, and thread 0 (the calling thread) reports done of total through
 * ctx (throttled there; NULL ctx: silent). */
static inline void md_par_progress(MdCtx *ctx, size_t *done, size_t total)
{
    size_t d = __atomic_add_fetch(done, 1, __ATOMIC_RELAXED);
    if (ctx && md_par_thread() == 0) md_ctx_progress(ctx, d, total);
}

#endif
