/* Cancel flag, thread count and the per-call context. */
#include "ctx.h"

#include "progress.h"

#include <signal.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static volatile sig_atomic_t cancel_flag;

void md_cancel_request(void) { cancel_flag = 1; }
void md_cancel_clear(void) { cancel_flag = 0; }
int md_cancel_requested(void) { return cancel_flag != 0; }

void md_set_threads(int n)
{
#ifdef _OPENMP
    omp_set_num_threads(n < 1 ? 1 : n);
#else
    (void)n;
#endif
}

int md_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* The per-call reporter: hands the report to the process's progress sink. */
static void report(void *ud, const char *label, size_t done, size_t total)
{
    (void)ud;
    md_progress_report(label, (uint64_t)done, (uint64_t)total);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double md_now_seconds(void) { return (double)now_ns() * 1e-9; }

MdCtx md_ctx_init(MdError *err, const char *label)
{
    MdCtx c = {.err = err, .threads = md_threads(), .label = label ? label : "working",
               .progress = report, .progress_ud = NULL, .last_ns = 0, .shown = 0};
    return c;
}

/* The first report waits 0.3 s so quick calls draw nothing; then 10 per second. */
void md_ctx_progress(MdCtx *ctx, size_t done, size_t total)
{
    if (!ctx || !ctx->progress) return;
    uint64_t t = now_ns();
    if (ctx->last_ns == 0) {
        ctx->last_ns = t + 200000000u; /* start of the call, shifted: first draw after 0.3 s */
        return;
    }
    if (done < total && t < ctx->last_ns + 100000000u) return;
    ctx->last_ns = t;
    ctx->shown = done < total;
    ctx->progress(ctx->progress_ud, ctx->label, done, total);
}

void md_ctx_finish(MdCtx *ctx, size_t total)
{
    if (!ctx || !ctx->progress || !ctx->shown) return; /* nothing was drawn, or already ended */
    ctx->shown = 0;
    ctx->progress(ctx->progress_ud, ctx->label, total, total);
}
