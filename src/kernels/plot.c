/* The chart: ranges from the data, "nice" tick steps (1, 2 or 5 times a
 * power of ten), frame and ticks in black, series in their colours, text
 * in the built-in font. */
#include "plot.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "font.h"

static const unsigned char black[3] = {0, 0, 0}, grid_rgb[3] = {225, 225, 225};

int64_t md_plot_px(const MdPlotFrame *f, double x)
{
    return f->left + (int64_t)floor((x - f->xlo) / (f->xhi - f->xlo) * (double)(f->right - f->left) + 0.5);
}

int64_t md_plot_py(const MdPlotFrame *f, double y)
{
    return f->bottom - (int64_t)floor((y - f->ylo) / (f->yhi - f->ylo) * (double)(f->bottom - f->top) + 0.5);
}

static void fill(const MdCanvas *c, int64_t x0, int64_t y0, int64_t x1, int64_t y1, const unsigned char rgb[3])
{
    if (x0 > x1) { int64_t t = x0; x0 = x1; x1 = t; }
    if (y0 > y1) { int64_t t = y0; y0 = y1; y1 = t; }
    /* absolute coordinates, clipped to the canvas's region */
    if (x0 < c->x0) x0 = c->x0;
    if (y0 < c->y0) y0 = c->y0;
    if (x1 >= c->x0 + c->cw) x1 = c->x0 + c->cw - 1;
    if (y1 >= c->y0 + c->ch) y1 = c->y0 + c->ch - 1;
    size_t plane = (size_t)(c->w * c->h);
    for (int64_t y = y0; y <= y1; y++)
        for (int64_t x = x0; x <= x1; x++) {
            size_t i = (size_t)(y * c->w + x);
            c->px[i] = rgb[0];
            c->px[plane + i] = rgb[1];
            c->px[2 * plane + i] = rgb[2];
        }
}

static void line(const MdCanvas *c, int64_t x0, int64_t y0, int64_t x1, int64_t y1, const unsigned char rgb[3])
{
    int64_t dx = llabs(x1 - x0), dy = -llabs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, e = dx + dy;
    for (;;) {
        fill(c, x0, y0, x0, y0, rgb);
        if (x0 == x1 && y0 == y1) break;
        int64_t e2 = 2 * e;
        if (e2 >= dy) e += dy, x0 += sx;
        if (e2 <= dx) e += dx, y0 += sy;
    }
}

static double nice_step(double span, int want)
{
    double raw = span / want, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void tick_text(char *buf, size_t n, double v, double step)
{
    if (fabs(v) < step * 1e-9) v = 0;
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (fabs(v) >= 1e6 || (fabs(v) < 1e-4 && v != 0)) snprintf(buf, n, "%.2g", v);
    else snprintf(buf, n, "%.*f", dec > 6 ? 6 : dec, v);
}

static void data_range(const MdPlot *p, const MdSeries *s, int ns, MdPlotFrame *f)
{
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    int bars = 0;
    for (int k = 0; k < ns; k++) {
        int64_t nx = s[k].kind == MD_PLOT_HIST ? s[k].n + 1 : s[k].n;
        for (int64_t i = 0; i < nx; i++)
            if (isfinite(s[k].x[i])) xlo = fmin(xlo, s[k].x[i]), xhi = fmax(xhi, s[k].x[i]);
        for (int64_t i = 0; i < s[k].n; i++)
            if (isfinite(s[k].y[i])) ylo = fmin(ylo, s[k].y[i]), yhi = fmax(yhi, s[k].y[i]);
        if (s[k].kind != MD_PLOT_LINE) bars = 1;
        if (s[k].kind == MD_PLOT_BAR && s[k].n > 1) {
            /* room for half a bar at each end */
            double w = (s[k].x[s[k].n - 1] - s[k].x[0]) / (double)(s[k].n - 1) / 2;
            xlo = fmin(xlo, s[k].x[0] - w), xhi = fmax(xhi, s[k].x[s[k].n - 1] + w);
        }
    }
    if (bars) ylo = fmin(ylo, 0), yhi = fmax(yhi, 0);
    if (!(xlo <= xhi)) xlo = 0, xhi = 1;
    if (!(ylo <= yhi)) ylo = 0, yhi = 1;
    if (xlo == xhi) xlo -= 0.5, xhi += 0.5;
    if (ylo == yhi) ylo -= 0.5, yhi += 0.5;
    if (!bars || yhi > 0) yhi += (yhi - ylo) * 0.05; /* headroom above the top value */
    f->xlo = isnan(p->xlo) ? xlo : p->xlo;
    f->xhi = isnan(p->xhi) ? xhi : p->xhi;
    f->ylo = isnan(p->ylo) ? ylo : p->ylo;
    f->yhi = isnan(p->yhi) ? yhi : p->yhi;
}

static void draw_ticks(const MdCanvas *c, const MdPlotFrame *f)
{
    char buf[32];
    double xs = nice_step(f->xhi - f->xlo, (int)((f->right - f->left) / 70 + 2));
    for (double t = ceil(f->xlo / xs - 1e-9) * xs; t <= f->xhi + xs * 1e-9; t += xs) {
        int64_t x = md_plot_px(f, t);
        fill(c, x, f->top, x, f->bottom - 1, grid_rgb);
        fill(c, x, f->bottom, x, f->bottom + 3, black);
        tick_text(buf, sizeof buf, t, xs);
        md_font_draw(c, x - md_font_width(buf, 1) / 2, f->bottom + 6, buf, black, 1);
    }
    double ys = nice_step(f->yhi - f->ylo, (int)((f->bottom - f->top) / 40 + 2));
    for (double t = ceil(f->ylo / ys - 1e-9) * ys; t <= f->yhi + ys * 1e-9; t += ys) {
        int64_t y = md_plot_py(f, t);
        fill(c, f->left + 1, y, f->right, y, grid_rgb);
        fill(c, f->left - 3, y, f->left, y, black);
        tick_text(buf, sizeof buf, t, ys);
        md_font_draw(c, f->left - 6 - md_font_width(buf, 1), y - 3, buf, black, 1);
    }
}

static void draw_series(const MdCanvas *c, const MdPlotFrame *f, const MdSeries *s)
{
    if (s->kind == MD_PLOT_LINE) {
        for (int64_t i = 0; i + 1 < s->n; i++)
            if (isfinite(s->y[i]) && isfinite(s->y[i + 1]))
                line(c, md_plot_px(f, s->x[i]), md_plot_py(f, s->y[i]), md_plot_px(f, s->x[i + 1]),
                     md_plot_py(f, s->y[i + 1]), s->rgb);
        if (s->n == 1) fill(c, md_plot_px(f, s->x[0]) - 1, md_plot_py(f, s->y[0]) - 1, md_plot_px(f, s->x[0]) + 1,
                            md_plot_py(f, s->y[0]) + 1, s->rgb);
        return;
    }
    int64_t base = md_plot_py(f, f->ylo > 0 ? f->ylo : f->yhi < 0 ? f->yhi : 0);
    for (int64_t i = 0; i < s->n; i++) {
        if (!isfinite(s->y[i])) continue;
        double a, b;
        if (s->kind == MD_PLOT_HIST) {
            a = s->x[i], b = s->x[i + 1];
        } else {
            double w = s->n > 1 ? (s->x[s->n - 1] - s->x[0]) / (double)(s->n - 1) : 1;
            a = s->x[i] - 0.4 * w, b = s->x[i] + 0.4 * w;
        }
        int64_t x0 = md_plot_px(f, a), x1 = md_plot_px(f, b);
        if (s->kind == MD_PLOT_HIST) x1 -= x1 - x0 >= 4 ? 2 : 1; /* a one-pixel gap between wide bars */
        if (x1 < x0) x1 = x0;
        int64_t y = md_plot_py(f, s->y[i]);
        if (y != base) fill(c, x0, y, x1, y < base ? base - 1 : base + 1, s->rgb);
    }
}

MdStatus md_plot_draw(const MdPlot *p, const MdSeries *s, int ns, MdVolume *pic, MdPlotFrame *frame, MdError *err)
{
    int64_t w = pic->dim[0], h = pic->dim[1];
    if (pic->dtype != MD_UINT8 || pic->dim[3] != 3 || w < 120 || h < 80)
        return md_error(err, MD_EINVAL, "a plot needs an RGB picture of at least 120x80 pixels");
    MdPlotFrame f;
    data_range(p, s, ns, &f);
    if (!(isfinite(f.xlo) && isfinite(f.xhi) && f.xlo < f.xhi && isfinite(f.ylo) && isfinite(f.yhi) && f.ylo < f.yhi))
        return md_error(err, MD_EINVAL, "plot ranges must be finite with lo < hi (x %g..%g, y %g..%g)", f.xlo, f.xhi,
                        f.ylo, f.yhi);
    MdCanvas c = {md_volume_data(pic), w, h, 0, 0, w, h};
    static const unsigned char white[3] = {255, 255, 255};
    fill(&c, 0, 0, w - 1, h - 1, white);
    f.left = 62 + (p->ylabel ? 12 : 0);
    f.top = p->title ? 22 : 10;
    f.right = w - 12;
    f.bottom = h - 22 - (p->xlabel ? 12 : 0);
    draw_ticks(&c, &f);
    MdCanvas inner = {c.px, w, h, f.left + 1, f.top, f.right - f.left, f.bottom - f.top}; /* clips series */
    for (int k = 0; k < ns; k++) draw_series(&inner, &f, &s[k]);
    fill(&c, f.left, f.top, f.left, f.bottom, black);
    fill(&c, f.left, f.bottom, f.right, f.bottom, black);
    if (p->title) md_font_draw(&c, (w - md_font_width(p->title, 1)) / 2, 6, p->title, black, 1);
    if (p->xlabel)
        md_font_draw(&c, f.left + (f.right - f.left - md_font_width(p->xlabel, 1)) / 2, h - 12, p->xlabel, black, 1);
    if (p->ylabel)
        md_font_draw_up(&c, 4, f.top + (f.bottom - f.top + md_font_width(p->ylabel, 1)) / 2, p->ylabel, black, 1);
    if (p->legend) {
        int64_t wmax = 0, n = 0;
        for (int k = 0; k < ns; k++)
            if (s[k].label) {
                int64_t tw = md_font_width(s[k].label, 1);
                wmax = tw > wmax ? tw : wmax;
                n++;
            }
        if (n) {
            int64_t x1 = f.right - 6, x0 = x1 - wmax - 22, y = f.top + 6;
            fill(&c, x0, y, x1, y + 10 * n + 4, white);
            line(&c, x0, y, x1, y, black), line(&c, x0, y + 10 * n + 4, x1, y + 10 * n + 4, black);
            line(&c, x0, y, x0, y + 10 * n + 4, black), line(&c, x1, y, x1, y + 10 * n + 4, black);
            for (int k = 0, row = 0; k < ns; k++)
                if (s[k].label) {
                    int64_t ly = y + 4 + 10 * row++;
                    fill(&c, x0 + 4, ly + 1, x0 + 14, ly + 6, s[k].rgb);
                    md_font_draw(&c, x0 + 18, ly, s[k].label, black, 1);
                }
        }
    }
    if (frame) *frame = f;
    return MD_OK;
}
