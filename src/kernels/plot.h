/* Small charts drawn by medula itself: line and bar series and histograms
 * on axes with ticks, tick labels, axis labels, a title and a legend, into
 * a uint8 RGB picture (w, h, 1, 3) on a white background. */
#ifndef MD_PLOT_H
#define MD_PLOT_H

#include <stdint.h>

#include "../core/volume.h"

typedef enum { MD_PLOT_LINE, MD_PLOT_BAR, MD_PLOT_HIST } MdPlotKind;

typedef struct MdSeries {
    MdPlotKind kind;
    const double *x;       /* n points (LINE, BAR: bar centres), or n + 1 edges (HIST) */
    const double *y;       /* n values */
    int64_t n;
    const char *label;     /* legend text, or NULL */
    unsigned char rgb[3];
} MdSeries;

typedef struct MdPlot {
    const char *title, *xlabel, *ylabel; /* or NULL */
    double xlo, xhi, ylo, yhi;           /* NaN: from the data (y from 0 for bars) */
    int legend;
} MdPlot;

/* Where data coordinates land: the plot area in pixels (left, top, right,
 * bottom, inclusive) and the ranges; filled by md_plot_draw. */
typedef struct MdPlotFrame {
    int64_t left, top, right, bottom;
    double xlo, xhi, ylo, yhi;
} MdPlotFrame;

/* Pixel column and row of data point (x, y) in frame f: left + round((x -
 * xlo) / (xhi - xlo) * (right - left)), bottom - round((y - ylo) / (yhi -
 * ylo) * (bottom - top)). */
int64_t md_plot_px(const MdPlotFrame *f, double x);
int64_t md_plot_py(const MdPlotFrame *f, double y);

/* Draws the series into pic (uint8 (w, h, 1, 3), w >= 120, h >= 80). frame
 * may be NULL. Fails on an empty or non-finite range or too small a picture. */
MdStatus md_plot_draw(const MdPlot *p, const MdSeries *s, int ns, MdVolume *pic, MdPlotFrame *frame,
                      MdError *err) MD_MUST_CHECK;

#endif
