/* Child processes for the case runner: start a program with extra
 * environment variables and redirected output, wait for any child with a
 * timeout (woken as soon as one ends, also by kill -9), signal one, and a
 * few facts about this process (CPUs it may use, monotonic clock, its own
 * executable). Children get SIGTERM when this process dies. No Lua. */
#ifndef MD_PROC_H
#define MD_PROC_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

typedef struct MdProcExit {
    int pid;
    int signal;       /* the signal that ended it, or 0 */
    int code;         /* exit status when signal is 0 */
    int64_t maxrss_kb; /* peak resident memory */
    char message[256]; /* a line from a forked child (md_proc_wait returned 2) */
} MdProcExit;

/* Starts argv[0] (a path) with argv, the environment of this process plus
 * env ("NAME=value" strings, n_env of them, overriding), stdout appended to
 * out_path and stderr to err_path (NULL: inherited; the same path: one
 * file). Sets *pid. MD_EIO when the program cannot be started. */
MdStatus md_proc_spawn(const char *const *argv, const char *const *env, size_t n_env, const char *out_path,
                       const char *err_path, int *pid, MdError *err) MD_MUST_CHECK;

/* Forks this process without exec, for a worker that continues in the
 * same (already initialised) program: only safe while this process runs a
 * single thread (an OpenMP pool would hang in the child). In the child,
 * which gets SIGTERM when this process dies and forgets the other
 * children, returns MD_OK with *pid = 0, stdout and stderr appended to
 * out_path and err_path (NULL: inherited). */
MdStatus md_proc_fork(const char *out_path, const char *err_path, int *pid, MdError *err) MD_MUST_CHECK;

/* Waits up to timeout seconds (< 0: no limit) for a child started by
 * md_proc_spawn to end, or for a line from a forked child. Returns 1 and
 * fills ex when one ended, 2 with ex->pid and ex->message for a line (the
 * lines a child sent come before its end), 0 on timeout or when there is
 * no child, -1 when a signal interrupted the wait. */
int md_proc_wait(double timeout, MdProcExit *ex);

/* Parent side of a forked child's channel: sends line (no newline, < 255
 * bytes) to child pid; shuts our sending side (the child then reads end of
 * file). 1 on success, 0 when the child is gone or the line is bad. */
int md_proc_send(int pid, const char *line);
int md_proc_close_send(int pid);

/* Child side: reads the next line from the parent into out (n bytes,
 * truncated), its length; -1 at end of file (the parent closed or died) or
 * when a signal interrupted. Sends line to the parent: 1, or 0 on failure. */
int md_proc_recv_parent(char *out, size_t n);
int md_proc_send_parent(const char *line);

/* Appends this process's stdout and stderr to the file path from now on
 * (created when missing); 0 when it cannot be opened. */
int md_proc_redirect(const char *path);

/* Number of children started and not yet reaped. */
int md_proc_running(void);

/* kill(2); MD_EINVAL for a pid that is not our running child. */
MdStatus md_proc_kill(int pid, int sig, MdError *err) MD_MUST_CHECK;

/* CPUs this process may run on (its affinity mask), at least 1. */
int md_proc_cpus(void);

/* Seconds on a monotonic clock (for rates and durations). */
double md_proc_now(void);

/* Writes the absolute path of the running executable into out (n bytes);
 * returns 0 when it cannot be found. */
int md_proc_exe(char *out, size_t n);

#endif
