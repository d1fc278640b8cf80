/* Run-time context shared by kernels.
 *
 * Process-wide: the cancel flag (set by the host's SIGINT handler, polled by
 * kernels once per slice) and the thread count; progress goes to
 * core/progress.h's sink (the host draws a bar when stderr is a terminal).
 *
 * Per call: an MdCtx bundles what one kernel call needs beside its data: the
 * error slot, the thread count, and a throttled progress reporter. Kernels
 * written from now on take `MdCtx *ctx` instead of `MdError *err`. */
#ifndef MD_CTX_H
#define MD_CTX_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Set to 1 by the host on Ctrl-C; kernels return MD_ECANCELLED when they see it. */
void md_cancel_request(void);
void md_cancel_clear(void);
int md_cancel_requested(void);

/* Threads used by OpenMP kernels (1 when built without OpenMP). */
void md_set_threads(int n);
int md_threads(void);

/* Seconds on a monotonic clock (for timing; the origin is arbitrary). */
double md_now_seconds(void);

/* Progress: done of total units of the call labelled `label`; done == total
 * ends the bar. Called from the calling thread only, never inside a parallel
 * region's other threads. Must not raise (it is plain C). md_ctx_init
 * reports through core/progress.h, whose sink the host installs. */
typedef void (*MdProgressFn)(void *ud, const char *label, size_t done, size_t total);

typedef struct MdCtx {
    MdError *err;          /* borrowed error slot (may be NULL) */
    int threads;           /* threads for this call (>= 1) */
    const char *label;     /* what the progress bar says, e.g. "gaussian" */
    MdProgressFn progress; /* NULL: silent */
    void *progress_ud;
    uint64_t last_ns;      /* time of the last report, for throttling */
    int shown;             /* a bar is on the screen */
} MdCtx;

/* A context for one call: the process thread count, progress to the bar.
 * err is borrowed; label must outlive the call (a string literal). */
MdCtx md_ctx_init(MdError *err, const char *label);

/* True when the user asked to cancel. */
static inline int md_ctx_cancelled(const MdCtx *ctx)
{
    (void)ctx;
    return md_cancel_requested();
}

/* Reports done of total (at most ~10 times a second, and always the final
 * done == total). Call from the calling thread (thread 0 in a region). */
void md_ctx_progress(MdCtx *ctx, size_t done, size_t total);

/* Ends the bar if one was started (same as md_ctx_progress(ctx, total, total)
 * when something was shown). */
void md_ctx_finish(MdCtx *ctx, size_t total);

#endif
