/* Cancel flag and thread count. */
#include "ctx.h"

#include <signal.h>
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
