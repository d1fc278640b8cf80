/* Mask clean-up on the component engine. Each function transposes to
 * slices when asked (morph_slices.h), builds the components, decides per
 * component, and writes runs back. */
#include "fill.h"

#include <stdlib.h>
#include <string.h>

#include "label.h"
#include "morph_slices.h"

/* The working layout: the volume's own buffers, or transposed copies. */
typedef struct Work {
    int t, planar;
    int64_t n[3], m[3];
    size_t esize;
    void *src, *dst;
} Work;

static MdStatus work_new(Work *w, const MdVolume *in, const MdVolume *out, int axis, int *conn, int full,
                         MdError *err)
{
    if (in->ndim < 2 || in->ndim > 3) return md_error(err, MD_EINVAL, "expected a 2-D or 3-D volume");
    if (md_volume_count(out) != md_volume_count(in)) return md_error(err, MD_EINVAL, "output shape differs");
    if (axis < 0 || axis > 3) return md_error(err, MD_EINVAL, "axis must be 1, 2 or 3 (got %d)", axis);
    w->n[0] = in->dim[0], w->n[1] = in->dim[1], w->n[2] = in->ndim == 3 ? in->dim[2] : 1;
    w->t = in->ndim == 3 && (axis == 1 || axis == 2) ? axis : 3;
    w->planar = in->ndim == 2 || axis != 0;
    if (*conn == 0) *conn = w->planar ? (full ? 8 : 4) : (full ? 26 : 6);
    md_slices_dims(w->n, w->t, w->m);
    w->esize = md_dtype_size(in->dtype);
    w->src = md_volume_data(in);
    w->dst = md_volume_data(out);
    if (w->t == 3) return MD_OK;
    size_t count = md_volume_count(in);
    w->src = malloc(count * w->esize);
    w->dst = malloc(count * md_dtype_size(out->dtype));
    if (!w->src || !w->dst) {
        free(w->src), free(w->dst);
        return md_error(err, MD_ENOMEM, "out of memory");
    }
    md_slices_gather(md_volume_data(in), w->esize, w->n, w->t, w->src);
    return MD_OK;
}

/* Scatters the result back (on success) and frees the copies. */
static MdStatus work_end(Work *w, MdVolume *out, MdStatus st)
{
    if (w->t == 3) return st;
    if (st == MD_OK) md_slices_scatter(w->dst, md_dtype_size(out->dtype), w->n, w->t, md_volume_data(out));
    free(w->src), free(w->dst);
    return st;
}

static MdStatus check_mask(const MdVolume *mask, const MdVolume *out, MdError *err)
{
    if (mask->dtype != MD_UINT8 || out->dtype != MD_UINT8)
        return md_error(err, MD_EINVAL, "expected a uint8 mask and a uint8 output");
    return MD_OK;
}

MdStatus md_fill_holes(const MdVolume *mask, int axis, int conn, MdVolume *out, MdCtx *ctx)
{
    MdError *err = ctx->err;
    Work w;
    MdStatus st = check_mask(mask, out, err);
    if (st == MD_OK) st = work_new(&w, mask, out, axis, &conn, 0, err);
    if (st != MD_OK) return st;
    MdComps c;
    st = md_comps_build(w.src, MD_UINT8, w.m, MD_RUNS_ZERO, 0, conn, w.planar, &c, ctx);
    if (st == MD_OK) {
        uint8_t *keep = malloc((size_t)c.ncomp + 1);
        if (keep) {
            md_comps_touching(&c, 0, keep);
            for (int64_t k = 1; k <= c.ncomp; k++) keep[k] = !keep[k];
            md_comps_write_mask(&c, keep, w.src, w.dst);
        } else {
            st = md_error(err, MD_ENOMEM, "out of memory filling holes");
        }
        free(keep);
        md_comps_free(&c);
    }
    return work_end(&w, out, st);
}

MdStatus md_clear_border(const MdVolume *in, int axis, int conn, int64_t buffer, MdVolume *out, MdCtx *ctx)
{
    MdError *err = ctx->err;
    if (out->dtype != in->dtype) return md_error(err, MD_EINVAL, "clear_border: output dtype differs");
    Work w;
    MdStatus st = work_new(&w, in, out, axis, &conn, 1, err);
    if (st != MD_OK) return st;
    for (int a = 0; a < (w.planar ? 2 : 3); a++)
        if (buffer < 0 || buffer >= w.m[a])
            st = md_error(err, MD_EINVAL, "buffer must be 0 to %lld (below every side; got %lld)",
                          (long long)w.m[a] - 1, (long long)buffer);
    MdComps c;
    if (st == MD_OK) st = md_comps_build(w.src, in->dtype, w.m, MD_RUNS_EQUAL, 0, conn, w.planar, &c, ctx);
    if (st == MD_OK) {
        uint8_t *touch = malloc((size_t)c.ncomp + 1);
        if (touch) {
            md_comps_touching(&c, buffer, touch);
            memcpy(w.dst, w.src, md_volume_count(in) * w.esize);
            md_comps_clear(&c, touch, w.dst, w.esize);
        } else {
            st = md_error(err, MD_ENOMEM, "out of memory clearing the border");
        }
        free(touch);
        md_comps_free(&c);
    }
    return work_end(&w, out, st);
}

/* Components of a mask with their sizes; keep is allocated (zeroed). */
static MdStatus sized(const Work *w, int conn, MdComps *c, int64_t **sizes, uint8_t **keep, MdCtx *ctx)
{
    MdError *err = ctx->err;
    *sizes = NULL;
    *keep = NULL;
    MdStatus st = md_comps_build(w->src, MD_UINT8, w->m, MD_RUNS_NONZERO, 0, conn, w->planar, c, ctx);
    if (st != MD_OK) return st;
    if ((st = md_comps_sizes(c, sizes, err)) == MD_OK && !(*keep = calloc((size_t)c->ncomp + 1, 1)))
        st = md_error(err, MD_ENOMEM, "out of memory");
    if (st != MD_OK) {
        free(*sizes);
        md_comps_free(c);
    }
    return st;
}

MdStatus md_remove_small(const MdVolume *mask, int axis, int conn, int64_t min_size, MdVolume *out, MdCtx *ctx)
{
    MdError *err = ctx->err;
    Work w;
    MdStatus st = check_mask(mask, out, err);
    if (st == MD_OK) st = work_new(&w, mask, out, axis, &conn, 0, err);
    if (st != MD_OK) return st;
    MdComps c;
    int64_t *size;
    uint8_t *keep;
    if ((st = sized(&w, conn, &c, &size, &keep, ctx)) == MD_OK) {
        for (int64_t k = 1; k <= c.ncomp; k++) keep[k] = size[k] >= min_size;
        md_comps_write_mask(&c, keep, NULL, w.dst);
        free(size), free(keep);
        md_comps_free(&c);
    }
    return work_end(&w, out, st);
}

typedef struct Ranked {
    int64_t size;
    int32_t id;
} Ranked;

static int by_size(const void *pa, const void *pb)
{
    const Ranked *a = pa, *b = pb;
    if (a->size != b->size) return a->size > b->size ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* Marks the n largest of components lo..hi-1. */
static void keep_top(const int64_t *size, Ranked *r, int64_t lo, int64_t hi, int64_t n, uint8_t *keep)
{
    int64_t k = hi - lo;
    for (int64_t i = 0; i < k; i++) r[i] = (Ranked){size[lo + i], (int32_t)(lo + i)};
    qsort(r, (size_t)k, sizeof *r, by_size);
    for (int64_t i = 0; i < k && i < n; i++) keep[r[i].id] = 1;
}

MdStatus md_keep_largest(const MdVolume *mask, int axis, int conn, int64_t n, MdVolume *out, MdCtx *ctx)
{
    MdError *err = ctx->err;
    Work w;
    MdStatus st = check_mask(mask, out, err);
    if (st == MD_OK) st = work_new(&w, mask, out, axis, &conn, 1, err);
    if (st != MD_OK) return st;
    MdComps c;
    int64_t *size, *first = NULL;
    uint8_t *keep;
    if ((st = sized(&w, conn, &c, &size, &keep, ctx)) != MD_OK) return work_end(&w, out, st);
    Ranked *ids = malloc(((size_t)c.ncomp + 1) * sizeof *ids);
    if (!ids) st = md_error(err, MD_ENOMEM, "out of memory");
    if (st == MD_OK && w.planar) st = md_comps_first_slice(&c, &first, err);
    if (st == MD_OK) {
        /* per slice, components of one slice have consecutive ids */
        for (int64_t lo = 1, hi; lo <= c.ncomp; lo = hi) {
            for (hi = lo + 1; first && hi <= c.ncomp && first[hi] == first[lo]; hi++) continue;
            if (!first) hi = c.ncomp + 1;
            keep_top(size, ids, lo, hi, n, keep);
        }
        md_comps_write_mask(&c, keep, NULL, w.dst);
    }
    free(ids), free(first), free(size), free(keep);
    md_comps_free(&c);
    return work_end(&w, out, st);
}
