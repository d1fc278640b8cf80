/* Progress of long work, for a bar on the terminal. The code doing the
 * work reports (label, done, total) from the calling thread, never from
 * inside a parallel region; whoever runs the program installs the sink that
 * draws it (the host: a bar on stderr when it is a terminal). Without a
 * sink, reports cost one test. */
#ifndef MD_PROGRESS_H
#define MD_PROGRESS_H

#include <stdint.h>

/* Draws one report; done == total completes the bar. ud: the sink's own. */
typedef void (*MdProgressSink)(void *ud, const char *label, uint64_t done, uint64_t total);

/* Installs fn (NULL: none) for every later report. Not thread-safe: the
 * host sets it once at start. */
void md_progress_set_sink(MdProgressSink fn, void *ud);

/* Reports that done of total steps of the work named label are finished. */
void md_progress_report(const char *label, uint64_t done, uint64_t total);

#endif
