/* Child processes: fork + exec with a pipe per child whose write end the
 * child holds, so poll() on the read ends wakes the parent when any child
 * ends, however it ends. Reaping is wait4() for the peak memory. A forked
 * child gets a socket pair instead of the pipe: the same wake-up on its
 * end, plus a channel for short lines both ways (a worker told which case
 * to run next answers when it is done). */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_CHILDREN 1024

#define LINE_MAX_BYTES 256

static struct {
    int pid;
    int fd;      /* read end of the child's wake pipe (or our end of its socket pair) */
    int n_buf;   /* bytes of an unfinished line from the child */
    char buf[LINE_MAX_BYTES];
} children[MAX_CHILDREN];
static int n_children;

/* In a forked child: its end of the socket pair to the parent, or -1. */
static int parent_fd = -1;

int md_proc_running(void)
{
    return n_children;
}

/* The environment for the child: ours minus the names env overrides, plus env. new */
static char **child_environ(const char *const *env, size_t n_env)
{
    size_t n = 0;
    while (environ[n]) n++;
    char **out = malloc((n + n_env + 1) * sizeof *out);
    if (!out) return NULL;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        int overridden = 0;
        for (size_t k = 0; k < n_env && !overridden; k++)
            overridden = strncmp(env[k], environ[i], len) == 0 && env[k][len] == '=';
        if (!overridden) out[w++] = environ[i];
    }
    for (size_t k = 0; k < n_env; k++) out[w++] = (char *)env[k];
    out[w] = NULL;
    return out;
}

static int open_append(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
}

MdStatus md_proc_spawn(const char *const *argv, const char *const *env, size_t n_env, const char *out_path,
                       const char *err_path, int *pid, MdError *err)
{
    if (n_children >= MAX_CHILDREN) return md_error(err, MD_EINVAL, "too many child processes (%d)", MAX_CHILDREN);
    for (size_t k = 0; k < n_env; k++)
        if (!strchr(env[k], '=')) return md_error(err, MD_EINVAL, "environment entry '%s' has no '='", env[k]);
    int wake[2];
    if (pipe2(wake, O_CLOEXEC) != 0) return md_error(err, MD_EIO, "cannot create a pipe (%s)", strerror(errno));
    int outfd = -1, errfd = -1;
    if (out_path && (outfd = open_append(out_path)) < 0) {
        int e = errno;
        close(wake[0]), close(wake[1]);
        return md_error(err, MD_EIO, "%s: %s", out_path, strerror(e));
    }
    if (err_path && out_path && strcmp(err_path, out_path) == 0) {
        errfd = outfd;
    } else if (err_path && (errfd = open_append(err_path)) < 0) {
        int e = errno;
        close(wake[0]), close(wake[1]);
        if (outfd >= 0) close(outfd);
        return md_error(err, MD_EIO, "%s: %s", err_path, strerror(e));
    }
    char **envp = child_environ(env, n_env);
    int parent = (int)getpid();
    pid_t p = envp ? fork() : -1;
    if (p == 0) {
        /* the child: only async-signal-safe calls until exec */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if ((int)getppid() != parent) _exit(127);
        fcntl(wake[1], F_SETFD, 0);
        if (outfd >= 0) dup2(outfd, 1);
        if (errfd >= 0) dup2(errfd, 2);
        execve(argv[0], (char *const *)argv, envp);
        _exit(127);
    }
    int e = errno;
    free(envp);
    close(wake[1]);
    if (outfd >= 0) close(outfd);
    if (errfd >= 0 && errfd != outfd) close(errfd);
    if (p < 0) {
        close(wake[0]);
        return md_error(err, MD_EIO, "cannot start %s (%s)", argv[0], strerror(envp ? e : ENOMEM));
    }
    children[n_children].pid = (int)p;
    children[n_children].fd = wake[0];
    children[n_children].n_buf = 0;
    n_children++;
    *pid = (int)p;
    return MD_OK;
}

MdStatus md_proc_fork(const char *out_path, const char *err_path, int *pid, MdError *err)
{
    if (n_children >= MAX_CHILDREN) return md_error(err, MD_EINVAL, "too many child processes (%d)", MAX_CHILDREN);
    int wake[2]; /* [0] ours, [1] the child's */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, wake) != 0)
        return md_error(err, MD_EIO, "cannot create a socket pair (%s)", strerror(errno));
    int outfd = -1, errfd = -1;
    if (out_path && (outfd = open_append(out_path)) < 0) {
        int e = errno;
        close(wake[0]), close(wake[1]);
        return md_error(err, MD_EIO, "%s: %s", out_path, strerror(e));
    }
    if (err_path && out_path && strcmp(err_path, out_path) == 0) {
        errfd = outfd;
    } else if (err_path && (errfd = open_append(err_path)) < 0) {
        int e = errno;
        close(wake[0]), close(wake[1]);
        if (outfd >= 0) close(outfd);
        return md_error(err, MD_EIO, "%s: %s", err_path, strerror(e));
    }
    fflush(stdout);
    fflush(stderr);
    int parent = (int)getpid();
    pid_t p = fork();
    if (p == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if ((int)getppid() != parent) _exit(127);
        for (int i = 0; i < n_children; i++)
            if (children[i].fd >= 0) close(children[i].fd);
        n_children = 0;
        close(wake[0]); /* the child's end stays open until this child ends */
        if (parent_fd >= 0) close(parent_fd);
        parent_fd = wake[1];
        if (outfd >= 0) dup2(outfd, 1);
        if (errfd >= 0) dup2(errfd, 2);
        if (outfd >= 0) close(outfd);
        if (errfd >= 0 && errfd != outfd) close(errfd);
        *pid = 0;
        return MD_OK;
    }
    int e = errno;
    close(wake[1]);
    if (outfd >= 0) close(outfd);
    if (errfd >= 0 && errfd != outfd) close(errfd);
    if (p < 0) {
        close(wake[0]);
        return md_error(err, MD_EIO, "cannot fork (%s)", strerror(e));
    }
    children[n_children].pid = (int)p;
    children[n_children].fd = wake[0];
    children[n_children].n_buf = 0;
    n_children++;
    *pid = (int)p;
    return MD_OK;
}

/* A whole line a child sent, if one is buffered: 2 with ex->pid and
 * ex->message set (the line without its newline), else 0. */
static int buffered_line(MdProcExit *ex)
{
    for (int i = 0; i < n_children; i++) {
        char *nl = memchr(children[i].buf, '\n', (size_t)children[i].n_buf);
        if (!nl) continue;
        size_t len = (size_t)(nl - children[i].buf);
        memset(ex, 0, sizeof *ex);
        ex->pid = children[i].pid;
        memcpy(ex->message, children[i].buf, len);
        ex->message[len] = 0;
        children[i].n_buf -= (int)(len + 1);
        memmove(children[i].buf, nl + 1, (size_t)children[i].n_buf);
        return 2;
    }
    return 0;
}

/* Reaps one ended child without blocking; 1 when found. */
static int reap(MdProcExit *ex)
{
    for (int i = 0; i < n_children; i++) {
        int status;
        struct rusage ru;
        pid_t r = wait4(children[i].pid, &status, WNOHANG, &ru);
        if (r != children[i].pid) continue;
        memset(ex, 0, sizeof *ex);
        ex->pid = (int)r;
        if (WIFSIGNALED(status)) ex->signal = WTERMSIG(status);
        else ex->code = WEXITSTATUS(status);
        ex->maxrss_kb = (int64_t)ru.ru_maxrss;
        if (children[i].fd >= 0) close(children[i].fd);
        children[i] = children[--n_children];
        return 1;
    }
    return 0;
}

int md_proc_wait(double timeout, MdProcExit *ex)
{
    double end = md_proc_now() + timeout;
    for (;;) {
        if (buffered_line(ex)) return 2;
        if (reap(ex)) return 1;
        if (n_children == 0) return 0;
        struct pollfd fds[MAX_CHILDREN];
        for (int i = 0; i < n_children; i++) fds[i] = (struct pollfd){.fd = children[i].fd, .events = POLLIN};
        double left = timeout < 0 ? 0.25 : end - md_proc_now();
        if (timeout >= 0 && left <= 0) return 0;
        /* a bounded slice: a child whose descendants keep its pipe open
         * still gets reaped by the waitpid above */
        int ms = left > 0.25 ? 250 : (int)(left * 1000) + 1;
        int r = poll(fds, (nfds_t)n_children, ms);
        if (r < 0 && errno == EINTR) return -1;
        if (r <= 0) continue;
        int ended = 0;
        for (int i = 0; i < n_children; i++) {
            if (!fds[i].revents || children[i].fd < 0) continue;
            int room = LINE_MAX_BYTES - children[i].n_buf;
            if (room == 0) children[i].n_buf = 0, room = LINE_MAX_BYTES; /* an overlong line: dropped */
            ssize_t got = read(children[i].fd, children[i].buf + children[i].n_buf, (size_t)room);
            if (got > 0) children[i].n_buf += (int)got;
            else if (got == 0 || (errno != EINTR && errno != EAGAIN)) fds[i].revents = POLLHUP, ended = 1;
            else fds[i].revents = 0;
        }
        if (buffered_line(ex)) return 2;
        if (!ended) continue;
        /* a wake pipe closed: the child is ending; give it a moment to become reapable */
        for (int spin = 0; spin < 200; spin++) {
            if (reap(ex)) return 1;
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        }
        /* a descendant of the child holds the pipe: forget the pipe, keep polling by waitpid */
        for (int i = 0; i < n_children; i++)
            if (fds[i].revents == POLLHUP && children[i].fd >= 0) {
                close(children[i].fd);
                children[i].fd = -1; /* poll() skips negative descriptors */
            }
    }
}

static int child_index(int pid)
{
    for (int i = 0; i < n_children; i++)
        if (children[i].pid == pid) return i;
    return -1;
}

/* line and a newline as one message on a stream socket: sent whole or not
 * at all (a line too long or holding a newline is refused); MSG_NOSIGNAL:
 * a peer that just ended is an error, not a SIGPIPE. */
static int send_line(int fd, const char *line)
{
    size_t len = strlen(line);
    char msg[LINE_MAX_BYTES];
    if (len + 1 > sizeof msg || memchr(line, '\n', len)) return 0;
    memcpy(msg, line, len);
    msg[len] = '\n';
    ssize_t r;
    do r = send(fd, msg, len + 1, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return r == (ssize_t)(len + 1);
}

int md_proc_send(int pid, const char *line)
{
    int i = child_index(pid);
    if (i < 0 || children[i].fd < 0) return 0;
    return send_line(children[i].fd, line);
}

int md_proc_close_send(int pid)
{
    int i = child_index(pid);
    if (i < 0 || children[i].fd < 0) return 0;
    return shutdown(children[i].fd, SHUT_WR) == 0;
}

int md_proc_recv_parent(char *out, size_t n)
{
    if (parent_fd < 0 || n == 0) return -1;
    size_t w = 0;
    for (;;) {
        char c;
        ssize_t r = read(parent_fd, &c, 1);
        if (r <= 0) return -1; /* an interrupted read ends the wait too */
        if (c == '\n') break;
        if (w + 1 < n) out[w++] = c;
    }
    out[w] = 0;
    return (int)w;
}

int md_proc_send_parent(const char *line)
{
    return parent_fd >= 0 && send_line(parent_fd, line);
}

int md_proc_redirect(const char *path)
{
    int fd = open_append(path);
    if (fd < 0) return 0;
    fflush(stdout);
    fflush(stderr);
    int ok = dup2(fd, 1) >= 0 && dup2(fd, 2) >= 0;
    close(fd);
    return ok;
}

MdStatus md_proc_kill(int pid, int sig, MdError *err)
{
    for (int i = 0; i < n_children; i++) {
        if (children[i].pid != pid) continue;
        if (kill(pid, sig) != 0 && errno != ESRCH)
            return md_error(err, MD_EIO, "cannot signal process %d (%s)", pid, strerror(errno));
        return MD_OK;
    }
    return md_error(err, MD_EINVAL, "process %d is not a running child", pid);
}

int md_proc_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

double md_proc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int md_proc_exe(char *out, size_t n)
{
    ssize_t r = readlink("/proc/self/exe", out, n - 1);
    if (r <= 0 || (size_t)r >= n - 1) return 0;
    out[r] = 0;
    return 1;
}
