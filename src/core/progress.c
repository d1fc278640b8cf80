/* The progress sink: one process-wide function pointer set by the host. */
#include "progress.h"

#include <stddef.h>

static MdProgressSink sink;
static void *sink_ud;

void md_progress_set_sink(MdProgressSink fn, void *ud)
{
    sink = fn;
    sink_ud = ud;
}

void md_progress_report(const char *label, uint64_t done, uint64_t total)
{
    if (sink) sink(sink_ud, label ? label : "", done, total);
}
