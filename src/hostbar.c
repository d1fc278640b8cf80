/* The terminal progress bar: the sink the host installs for the kernels'
 * reports (core/progress.h) and what vol.progress draws through
 * vol.term.bar, so every bar looks the same and the REPL knows when one is
 * left open (an interrupted call) and ends its line before printing. Drawn
 * only when stderr is a terminal; redrawn only when the percentage moves. */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/progress.h"
#include "host.h"

static struct {
    int open;       /* a bar is drawn and its line not ended */
    int shown;      /* the percentage drawn last */
    char label[64]; /* the label drawn last */
} bar = {0, -1, ""};

static int columns(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) return 80;
    return ws.ws_col;
}

void md_host_bar(const char *label, uint64_t done, uint64_t total)
{
    if (!isatty(STDERR_FILENO)) return;
    if (done > total) done = total;
    int pct = total ? (int)(done * 100 / total) : 100;
    int same_label = strncmp(bar.label, label, sizeof bar.label - 1) == 0;
    int same = bar.open && same_label;
    if (same && pct == bar.shown && done < total) return;
    if (!bar.open && same_label && bar.shown == 100 && done >= total) return; /* already completed */
    if (bar.open && !same) fputc('\n', stderr); /* another bar: keep the old line */
    char counts[64];
    snprintf(counts, sizeof counts, " %3d%% %llu/%llu", pct, (unsigned long long)done,
             (unsigned long long)total);
    int width = columns() - (int)strlen(label) - (int)strlen(counts) - 4;
    if (width > 40) width = 40;
    if (width < 10) width = 10;
    int filled = total ? (int)((double)width * (double)done / (double)total) : width;
    char cells[41];
    memset(cells, '#', (size_t)filled);
    memset(cells + filled, '.', (size_t)(width - filled));
    cells[width] = '\0';
    fprintf(stderr, "\r%s [%s]%s", label, cells, counts);
    bar.shown = pct;
    snprintf(bar.label, sizeof bar.label, "%s", label);
    bar.open = done < total;
    if (!bar.open) fputc('\n', stderr);
    fflush(stderr);
}

void md_host_bar_end(void)
{
    if (bar.open) {
        fputc('\n', stderr);
        fflush(stderr);
    }
    bar.open = 0;
    bar.shown = -1;
    bar.label[0] = '\0';
}

static void sink(void *ud, const char *label, uint64_t done, uint64_t total)
{
    (void)ud;
    md_host_bar(label, done, total);
}

void md_host_bar_install(void)
{
    md_progress_set_sink(sink, NULL);
}
