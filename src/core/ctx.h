/* Run-time context shared by kernels: the cancel flag (set by the host's
 * SIGINT handler, polled by kernels once per slice) and the thread count. */
#ifndef MD_CTX_H
#define MD_CTX_H

/* Set to 1 by the host on Ctrl-C; kernels return MD_ECANCELLED when they see it. */
void md_cancel_request(void);
void md_cancel_clear(void);
int md_cancel_requested(void);

/* Threads used by OpenMP kernels (1 when built without OpenMP). */
void md_set_threads(int n);
int md_threads(void);

#endif
