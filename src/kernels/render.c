/* Slice pictures on a grid of panels. Each panel gathers its slice once
 * into colour indices and labels (slice resolution), then fills picture
 * pixels by nearest sampling of precomputed column and row maps, blends
 * the overlay, outlines its regions and adds marks and a title. */
#include "render.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"
#include "../core/rows.h"
#include "colormap.h"
#include "font.h"

#define MAX_PIXELS ((int64_t)1 << 28)

static void dominant(const MdVolume *v, int a, int *dom, int *pos)
{
    int best = 0;
    for (int r = 1; r < 3; r++)
        if (fabs(v->direction[3 * r + a]) > fabs(v->direction[3 * best + a])) best = r;
    *dom = best;
    *pos = v->direction[3 * best + a] > 0;
}

void md_render_layout(const MdVolume *v, int axis, const MdSliceStyle *s, MdPanelLayout *l)
{
    int u = axis == 0 ? 1 : 0, w = axis == 2 ? 1 : 2;
    l->col_axis = u;
    l->row_axis = w;
    l->col_flip = l->row_flip = 0;
    if (s->conv != MD_CONV_VOXEL) {
        int ds, dpos, du, upos, dw, wpos;
        dominant(v, axis, &ds, &dpos);
        dominant(v, u, &du, &upos);
        dominant(v, w, &dw, &wpos);
        /* wanted LPS component of columns and rows for this view */
        int want_col = ds == 0 ? 1 : 0, want_row = ds == 2 ? 1 : 2;
        int ok = 1;
        if (du == want_col && dw == want_row) {
            l->col_axis = u, l->row_axis = w;
        } else if (dw == want_col && du == want_row) {
            l->col_axis = w, l->row_axis = u;
            int t = upos;
            upos = wpos;
            wpos = t;
        } else {
            ok = 0; /* oblique beyond recognition: voxel order */
        }
        if (ok) {
            int col_pos = upos, row_pos = wpos;
            /* columns run toward L (radiological) or R; sagittal toward P */
            if (ds == 0) l->col_flip = !col_pos;
            else l->col_flip = s->conv == MD_CONV_RADIOLOGICAL ? !col_pos : col_pos;
            /* rows run toward P (axial) or I (coronal, sagittal) */
            l->row_flip = ds == 2 ? !row_pos : row_pos;
        }
    }
    l->col_flip ^= s->flip_h;
    l->row_flip ^= s->flip_v;
}

int md_render_same_grid(const MdVolume *a, const MdVolume *b)
{
    for (int i = 0; i < 3; i++) {
        if (a->dim[i] != b->dim[i]) return 0;
        if (fabs(a->spacing[i] - b->spacing[i]) > 1e-6 * fabs(a->spacing[i])) return 0;
        if (fabs(a->origin[i] - b->origin[i]) > 1e-4 + 1e-6 * fabs(a->origin[i])) return 0;
    }
    for (int i = 0; i < 9; i++)
        if (fabs(a->direction[i] - b->direction[i]) > 1e-6) return 0;
    return 1;
}

static MdStatus check_overlay(const MdVolume *v, const MdVolume *o, const char *what, MdError *err)
{
    if (!o) return MD_OK;
    if (!md_render_same_grid(v, o) || (o->ndim > 3 && o->dim[3] != 1))
        return md_error(err, MD_EINVAL,
                        "%s is on another grid (shape %lldx%lldx%lld, image %lldx%lldx%lld; spacing, origin "
                        "and direction must also agree): resample it onto the image first",
                        what, (long long)o->dim[0], (long long)o->dim[1], (long long)o->dim[2],
                        (long long)v->dim[0], (long long)v->dim[1], (long long)v->dim[2]);
    return MD_OK;
}

MdStatus md_render_panel_size(const MdPanel *p, int64_t *w, int64_t *h, MdError *err)
{
    const MdVolume *v = p->v;
    if (v->ndim > 3 && v->dim[3] != 1)
        return md_error(err, MD_EINVAL, "pictures need a 2-D or 3-D volume (got 4-D with %lld volumes)",
                        (long long)v->dim[3]);
    if (p->axis < 0 || p->axis > 2) return md_error(err, MD_EINVAL, "axis must be 1, 2 or 3");
    if (p->index < 0 || p->index >= v->dim[p->axis])
        return md_error(err, MD_EINVAL, "slice index %lld is out of range 1..%lld on axis %d",
                        (long long)p->index + 1, (long long)v->dim[p->axis], p->axis + 1);
    if (!(p->style.scale > 0) || !isfinite(p->style.scale))
        return md_error(err, MD_EINVAL, "scale must be > 0 (got %g)", p->style.scale);
    MdStatus st = check_overlay(v, p->style.overlay, p->style.truth ? "prediction" : "overlay", err);
    if (st == MD_OK) st = check_overlay(v, p->style.truth, "truth", err);
    if (st != MD_OK) return st;
    MdPanelLayout l;
    md_render_layout(v, p->axis, &p->style, &l);
    double sc = v->spacing[l.col_axis], sr = v->spacing[l.row_axis];
    double pix = (sc < sr ? sc : sr) / p->style.scale;
    double fw = floor((double)v->dim[l.col_axis] * sc / pix + 0.5), fh = floor((double)v->dim[l.row_axis] * sr / pix + 0.5);
    if (fw * fh > (double)MAX_PIXELS)
        return md_error(err, MD_ETOOBIG, "picture of %.0fx%.0f pixels is too large (scale %g)", fw, fh, p->style.scale);
    *w = fw < 1 ? 1 : (int64_t)fw;
    *h = fh < 1 ? 1 : (int64_t)fh;
    return MD_OK;
}

MdStatus md_render_grid_size(const MdPanel *p, int n, int cols, int64_t *w, int64_t *h, MdError *err)
{
    if (n < 1 || cols < 1) return md_error(err, MD_EINVAL, "a picture needs at least one panel and column");
    int64_t cw = 0, ch = 0;
    for (int i = 0; i < n; i++) {
        int64_t pw, ph;
        MdStatus st = md_render_panel_size(&p[i], &pw, &ph, err);
        if (st != MD_OK) return st;
        if (pw > cw) cw = pw;
        if (ph > ch) ch = ph;
    }
    int c = cols < n ? cols : n, rows = (n + cols - 1) / cols;
    if ((double)cw * c * (double)ch * rows > (double)MAX_PIXELS)
        return md_error(err, MD_ETOOBIG, "picture of %lldx%lld pixels is too large", (long long)(cw * c),
                        (long long)(ch * rows));
    *w = cw * c;
    *h = ch * rows;
    return MD_OK;
}

/* Row r of the slice (voxels c = 0..nc-1 along the column axis) into dst. */
static void gather_row(const MdVolume *v, const MdPanelLayout *l, int axis, int64_t index, int64_t r, double *dst)
{
    int64_t st[3] = {1, v->dim[0], v->dim[0] * v->dim[1]};
    int64_t nc = v->dim[l->col_axis];
    const void *data = md_volume_data(v);
    size_t base = (size_t)(index * st[axis] + r * st[l->row_axis]);
    if (l->col_axis == 0) {
        md_rows_to_f64(data, v->dtype, base, (size_t)nc, dst);
    } else {
        for (int64_t c = 0; c < nc; c++) md_rows_to_f64(data, v->dtype, base + (size_t)(c * st[l->col_axis]), 1, dst + c);
    }
}

static unsigned char window_index(double x, double lo, double hi)
{
    if (isnan(x)) return 0;
    if (!(hi > lo)) return x >= lo ? 255 : 0;
    double t = floor((x - lo) / (hi - lo) * 255 + 0.5);
    return (unsigned char)(t < 0 ? 0 : t > 255 ? 255 : t);
}

static int64_t label_of(double x) { return isfinite(x) ? (int64_t)x : 0; }

/* Overlay colour of label value lab (agreement classes when truth is set). */
static void overlay_rgb(const MdSliceStyle *s, int64_t lab, unsigned char rgb[3])
{
    if (s->truth) {
        static const unsigned char agree[4][3] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {255, 255, 0}};
        memcpy(rgb, agree[lab & 3], 3);
    } else {
        md_label_color(lab, rgb);
    }
}

typedef struct Target {
    unsigned char *px;   /* plane 0 of the picture */
    int64_t w, h;        /* picture size */
    int64_t x0, y0;      /* panel's top left */
} Target;

static void put(const Target *t, int64_t x, int64_t y, const unsigned char rgb[3])
{
    size_t plane = (size_t)(t->w * t->h), i = (size_t)((t->y0 + y) * t->w + t->x0 + x);
    t->px[i] = rgb[0];
    t->px[plane + i] = rgb[1];
    t->px[2 * plane + i] = rgb[2];
}

static int render_panel(const MdPanel *p, const Target *t, int64_t pw, int64_t ph)
{
    const MdVolume *v = p->v;
    const MdSliceStyle *s = &p->style;
    MdPanelLayout l;
    md_render_layout(v, p->axis, s, &l);
    int64_t nc = v->dim[l.col_axis], nr = v->dim[l.row_axis], np = pw * ph;
    /* colour index and label of every picture pixel, from the voxel rows
     * the picture samples (each such row converted once) */
    double *row = malloc((size_t)nc * sizeof(double));
    unsigned char *ci = malloc((size_t)np);
    int64_t *lab = s->overlay ? malloc((size_t)np * sizeof(int64_t)) : NULL;
    int64_t *xs = malloc((size_t)pw * sizeof(int64_t)), *ys = malloc((size_t)ph * sizeof(int64_t));
    int ok = row && ci && xs && ys && (!s->overlay || lab);
    if (!ok) goto done;
    for (int64_t x = 0; x < pw; x++) {
        int64_t c = (int64_t)floor(((double)x + 0.5) * (double)nc / (double)pw);
        c = c >= nc ? nc - 1 : c;
        xs[x] = l.col_flip ? nc - 1 - c : c;
    }
    for (int64_t y = 0; y < ph; y++) {
        int64_t r = (int64_t)floor(((double)y + 0.5) * (double)nr / (double)ph);
        r = r >= nr ? nr - 1 : r;
        ys[y] = l.row_flip ? nr - 1 - r : r;
    }
    for (int64_t y = 0; y < ph; y++) {
        unsigned char *cy = ci + y * pw;
        int64_t *ly = lab ? lab + y * pw : NULL;
        if (y > 0 && ys[y] == ys[y - 1]) {
            memcpy(cy, cy - pw, (size_t)pw);
            if (ly) memcpy(ly, ly - pw, (size_t)pw * sizeof(int64_t));
            continue;
        }
        gather_row(v, &l, p->axis, p->index, ys[y], row);
        for (int64_t x = 0; x < pw; x++) cy[x] = window_index(row[xs[x]], s->lo, s->hi);
        if (!ly) continue;
        gather_row(s->overlay, &l, p->axis, p->index, ys[y], row);
        for (int64_t x = 0; x < pw; x++) ly[x] = label_of(row[xs[x]]);
        if (s->truth) {
            gather_row(s->truth, &l, p->axis, p->index, ys[y], row);
            for (int64_t x = 0; x < pw; x++) {
                int cls = (ly[x] != 0) | (label_of(row[xs[x]]) != 0) << 1;
                int bit = cls == 3 ? 4 : cls;
                ly[x] = s->agree_show & bit ? cls : 0;
            }
        }
    }
    int a8 = (int)floor(s->alpha * 255 + 0.5);
    for (int64_t y = 0; y < ph; y++)
        for (int64_t x = 0; x < pw; x++) {
            int64_t i = y * pw + x;
            unsigned char rgb[3];
            memcpy(rgb, s->cmap + 3 * ci[i], 3);
            int64_t lb = lab ? lab[i] : 0;
            if (lb) {
                unsigned char oc[3];
                overlay_rgb(s, lb, oc);
                int edge = 0;
                if (s->contour) {
                    edge = x == 0 || y == 0 || x == pw - 1 || y == ph - 1 || lab[i - 1] != lb || lab[i + 1] != lb ||
                           lab[i - pw] != lb || lab[i + pw] != lb;
                }
                if (edge) {
                    memcpy(rgb, oc, 3);
                } else if (a8) {
                    for (int k = 0; k < 3; k++) rgb[k] = (unsigned char)((rgb[k] * (255 - a8) + oc[k] * a8 + 127) / 255);
                }
            }
            put(t, x, y, rgb);
        }
    if (p->cross) {
        int64_t pc = p->cross[l.col_axis], pr = p->cross[l.row_axis];
        if (pc >= 0 && pc < nc && pr >= 0 && pr < nr) {
            int64_t dc = l.col_flip ? nc - 1 - pc : pc, dr = l.row_flip ? nr - 1 - pr : pr;
            int64_t cx = (int64_t)floor(((double)dc + 0.5) * (double)pw / (double)nc);
            int64_t cy = (int64_t)floor(((double)dr + 0.5) * (double)ph / (double)nr);
            for (int64_t y = 0; y < ph; y++) put(t, cx, y, p->cross_rgb);
            for (int64_t x = 0; x < pw; x++) put(t, x, cy, p->cross_rgb);
        }
    }
    if (p->title) {
        static const unsigned char white[3] = {255, 255, 255};
        MdCanvas cv = {t->px, t->w, t->h, t->x0, t->y0, pw, ph};
        md_font_draw(&cv, 2, 2, p->title, white, 1);
    }
done:
    free(row);
    free(ci);
    free(lab);
    free(xs);
    free(ys);
    return ok;
}

MdStatus md_render_grid(const MdPanel *p, int n, int cols, MdVolume *out, MdCtx *ctx)
{
    int64_t w, h;
    MdStatus st = md_render_grid_size(p, n, cols, &w, &h, ctx->err);
    if (st != MD_OK) return st;
    if (out->dtype != MD_UINT8 || out->dim[0] != w || out->dim[1] != h || out->dim[3] != 3)
        return md_error(ctx->err, MD_EINVAL, "picture buffer does not match the panels");
    int c = cols < n ? cols : n;
    int64_t cw = w / c, ch = h / ((n + cols - 1) / cols);
    unsigned char *px = md_volume_data(out);
    memset(px, 0, (size_t)(w * h * 3));
    int fail = MD_OK;
#pragma omp parallel for schedule(dynamic, 1) if (n > 1 && md_par_worth((double)w * (double)h)) num_threads(ctx->threads)
    for (int i = 0; i < n; i++) {
        if (md_par_stopped(&fail) || md_par_poll_cancel(&fail)) continue;
        int64_t pw, ph;
        MdError e;
        if (md_render_panel_size(&p[i], &pw, &ph, &e) != MD_OK) continue; /* checked above */
        Target t = {px, w, h, (i % cols) * cw, (i / cols) * ch};
        if (!render_panel(&p[i], &t, pw, ph)) md_par_fail(&fail, MD_ENOMEM);
    }
    if (fail) return md_par_status(fail, "picture", ctx->err);
    return MD_OK;
}
