/* Maximum, minimum and mean intensity projections along one axis, and the
 * terminal rendering of pictures (24-bit colour, 256 colours, grey text). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/rows.h"
#include "render.h"

MdStatus md_project(const MdVolume *v, int axis, int mode, MdVolume *out, MdCtx *ctx)
{
    MdError *err = ctx->err;
    if (v->ndim > 3 && v->dim[3] != 1)
        return md_error(err, MD_EINVAL, "projections need a 2-D or 3-D volume");
    if (axis < 0 || axis > 2 || v->dim[axis] < 1) return md_error(err, MD_EINVAL, "axis must be 1, 2 or 3");
    int64_t nx = v->dim[0], ny = v->dim[1], nz = v->dim[2];
    int64_t n_out = (axis == 1 ? 1 : ny) * (axis == 2 ? 1 : nz); /* output rows */
    int64_t len = axis == 0 ? 1 : nx;                          /* output row length */
    int64_t depth = v->dim[axis];
    const void *src = md_volume_data(v);
    void *dst = md_volume_data(out);
    int fail = MD_OK;
#pragma omp parallel if (md_par_worth((double)md_volume_count(v))) num_threads(ctx->threads)
    {
        double *acc = malloc((size_t)nx * sizeof(double)), *row = malloc((size_t)nx * sizeof(double));
        int64_t *cnt = malloc((size_t)nx * sizeof(int64_t));
        if (!acc || !row || !cnt) md_par_fail(&fail, MD_ENOMEM);
#pragma omp for schedule(static)
        for (int64_t o = 0; o < n_out; o++) {
            if (md_par_stopped(&fail) || md_par_poll_cancel(&fail)) continue;
            int64_t y = axis == 1 ? 0 : o % ny, z = axis == 2 ? 0 : (axis == 1 ? o : o / ny);
            for (int64_t i = 0; i < len; i++) {
                acc[i] = mode == 0 ? -INFINITY : mode == 1 ? INFINITY : 0;
                cnt[i] = 0;
            }
            for (int64_t d = 0; d < (axis == 0 ? 1 : depth); d++) {
                int64_t yy = axis == 1 ? d : y, zz = axis == 2 ? d : z;
                md_rows_to_f64(src, v->dtype, (size_t)((zz * ny + yy) * nx), (size_t)nx, row);
                if (axis == 0) {
                    for (int64_t i = 0; i < nx; i++) {
                        double x = row[i];
                        if (mode == 2) acc[0] += x;
                        else if (!isnan(x)) acc[0] = mode == 0 ? fmax(acc[0], x) : fmin(acc[0], x), cnt[0]++;
                    }
                } else {
                    for (int64_t i = 0; i < nx; i++) {
                        double x = row[i];
                        if (mode == 2) acc[i] += x;
                        else if (!isnan(x)) acc[i] = mode == 0 ? fmax(acc[i], x) : fmin(acc[i], x), cnt[i]++;
                    }
                }
            }
            for (int64_t i = 0; i < len; i++) {
                if (mode == 2) acc[i] /= (double)depth;
                else if (!cnt[i]) acc[i] = NAN;
            }
            md_rows_from_f64(dst, out->dtype, (size_t)(o * len), (size_t)len, acc, MD_ROUND_NEAREST);
        }
        free(acc);
        free(row);
        free(cnt);
    }
    return md_par_status(fail, "projection", err);
}

/* ---- terminal ----------------------------------------------------------- */

MdStatus md_render_fit_size(const MdVolume *pic, int64_t w, int cells, int64_t *ow, int64_t *oh)
{
    int64_t pw = pic->dim[0], ph = pic->dim[1];
    if (w > pw) w = pw;
    if (w < 1) w = 1;
    double h = (double)ph * (double)w / (double)pw / (cells ? 2.0 : 1.0);
    *ow = w;
    *oh = h < 1 ? 1 : (int64_t)floor(h + 0.5);
    return MD_OK;
}

MdStatus md_render_fit(const MdVolume *pic, int64_t w, int cells, MdVolume *out, MdError *err)
{
    int64_t ow, oh;
    md_render_fit_size(pic, w, cells, &ow, &oh);
    if (out->dim[0] != ow || out->dim[1] != oh || out->dim[3] != 3 || out->dtype != MD_UINT8 || pic->dtype != MD_UINT8)
        return md_error(err, MD_EINVAL, "picture buffers do not match");
    int64_t pw = pic->dim[0], ph = pic->dim[1];
    const unsigned char *s = md_volume_data(pic);
    unsigned char *d = md_volume_data(out);
    for (int c = 0; c < 3; c++)
        for (int64_t y = 0; y < oh; y++) {
            int64_t sy = (int64_t)(((double)y + 0.5) * (double)ph / (double)oh);
            for (int64_t x = 0; x < ow; x++) {
                int64_t sx = (int64_t)(((double)x + 0.5) * (double)pw / (double)ow);
                d[(c * oh + y) * ow + x] = s[(c * ph + (sy < ph ? sy : ph - 1)) * pw + (sx < pw ? sx : pw - 1)];
            }
        }
    return MD_OK;
}

static int cube_level(int v) { return (v * 5 + 127) / 255; }

/* The 256-colour palette index nearest in the 6x6x6 cube or the grey ramp. */
static int xterm256(const unsigned char *p)
{
    int r = p[0], g = p[1], b = p[2];
    if (r == g && g == b) {
        if (r < 4) return 16;
        if (r > 246) return 231;
        int k = (r - 3) / 10; /* the ramp's levels are 8 + 10 k */
        return 232 + (k > 23 ? 23 : k);
    }
    return 16 + 36 * cube_level(r) + 6 * cube_level(g) + cube_level(b);
}

MdStatus md_render_ansi(const MdVolume *pic, int mode, char **out, size_t *len, MdError *err)
{
    int64_t w = pic->dim[0], h = pic->dim[1];
    if (pic->dtype != MD_UINT8 || pic->dim[3] != 3) return md_error(err, MD_EINVAL, "expected an RGB picture");
    size_t plane = (size_t)(w * h);
    const unsigned char *s = md_volume_data(pic);
    size_t cap = (size_t)(w * (h / 2 + 1)) * 48 + (size_t)h * 8 + 16;
    char *buf = malloc(cap), *p = buf;
    if (!buf) return md_error(err, MD_ENOMEM, "out of memory for the terminal picture");
    static const char ramp[] = " .:-=+*#%@";
    int64_t step = mode == 2 ? 1 : 2;
    for (int64_t y = 0; y < h; y += step) {
        for (int64_t x = 0; x < w; x++) {
            size_t i = (size_t)(y * w + x), j = i + (size_t)w;
            unsigned char top[3] = {s[i], s[plane + i], s[2 * plane + i]}, bot[3] = {0, 0, 0};
            int has_bot = y + 1 < h;
            if (has_bot) bot[0] = s[j], bot[1] = s[plane + j], bot[2] = s[2 * plane + j];
            if (mode == 0) {
                p += sprintf(p, "\x1b[38;2;%d;%d;%dm", top[0], top[1], top[2]);
                p += has_bot ? sprintf(p, "\x1b[48;2;%d;%d;%dm", bot[0], bot[1], bot[2]) : sprintf(p, "\x1b[49m");
                p += sprintf(p, "\xe2\x96\x80");
            } else if (mode == 1) {
                p += sprintf(p, "\x1b[38;5;%dm", xterm256(top));
                p += has_bot ? sprintf(p, "\x1b[48;5;%dm", xterm256(bot)) : sprintf(p, "\x1b[49m");
                p += sprintf(p, "\xe2\x96\x80");
            } else {
                int lum = (299 * top[0] + 587 * top[1] + 114 * top[2]) / 1000;
                *p++ = ramp[lum * 10 / 256];
            }
        }
        p += sprintf(p, mode == 2 ? "\n" : "\x1b[0m\n");
    }
    *p = 0;
    *out = buf;
    *len = (size_t)(p - buf);
    return MD_OK;
}
