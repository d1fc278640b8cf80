/* DICOM files and folders to one Volume: a single file (one frame,
 * multi-frame with per-frame positions, RT dose grids, Siemens mosaics), or
 * one series of a folder scan decoded on all threads. Nothing is returned
 * half-made: any failing slice fails the whole read, naming its file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/ctx.h"
#include "dicom.h"
#include "dicom_fgroups.h"
#include "dicom_image.h"
#include "dicom_parse.h"
#include "dicom_siemens.h"

#define TAG MD_DCM_TAG
#define DECODE_BATCH 16 /* slices decoded between two progress reports */

/* A failed md_meta_set* (it writes no message) as an error. */
static MdStatus meta_status(MdStatus st, MdError *err)
{
    return st == MD_OK ? st : md_error(err, st, "out of memory for metadata");
}

/* Frame origins of a multi-frame file: per-frame PlanePositionSequence, or
 * the RT dose GridFrameOffsetVector along the normal. pos is new (NULL when
 * the file gives no positions). */
static MdStatus frame_positions(const MdDcm *d, int frames, const double iop[6], double (**pos)[3],
                                MdError *err)
{
    *pos = NULL;
    double ipp[3], nrm[3] = {iop[1] * iop[5] - iop[2] * iop[4], iop[2] * iop[3] - iop[0] * iop[5],
                             iop[0] * iop[4] - iop[1] * iop[3]};
    int32_t pf = md_dcm_find(d, -1, TAG(0x5200, 0x9230));
    int32_t gfo = md_dcm_find(d, -1, TAG(0x3004, 0x000C));
    int have_ipp = md_dcm_numbers(d, md_dcm_find(d, -1, TAG(0x0020, 0x0032)), ipp, 3) == 3;
    if (frames < 2 || (pf < 0 && (gfo < 0 || !have_ipp))) return MD_OK;
    double(*p)[3] = malloc((size_t)frames * sizeof *p), *off = NULL;
    if (!p) return md_error(err, MD_ENOMEM, "out of memory");
    if (pf >= 0) {
        for (int f = 0; f < frames; f++) {
            int32_t it = md_dcm_item(d, pf, f);
            int32_t e = md_dcm_find_in_first_item(d, it, TAG(0x0020, 0x9113), TAG(0x0020, 0x0032));
            if (md_dcm_numbers(d, e, p[f], 3) != 3) {
                free(p);
                return MD_OK; /* incomplete: fall back to SpacingBetweenSlices */
            }
        }
    } else {
        off = malloc((size_t)frames * sizeof *off);
        if (!off || md_dcm_numbers(d, gfo, off, frames) != frames) {
            free(p);
            free(off);
            return off ? md_error(err, MD_EFORMAT, "GridFrameOffsetVector does not have %d values",
                                  frames)
                       : md_error(err, MD_ENOMEM, "out of memory");
        }
        for (int f = 0; f < frames; f++) /* relative or absolute: only differences matter */
            for (int i = 0; i < 3; i++) p[f][i] = ipp[i] + (off[f] - off[0]) * nrm[i];
        free(off);
    }
    *pos = p;
    return MD_OK;
}

/* Sorts the frames of v (and rs, pos) ascending along the normal. */
static MdStatus sort_frames(MdVolume *v, MdRescale *rs, double (*pos)[3], const double iop[6],
                            int *nonuniform, MdError *err)
{
    int n = (int)v->dim[2];
    double nrm[3] = {iop[1] * iop[5] - iop[2] * iop[4], iop[2] * iop[3] - iop[0] * iop[5],
                     iop[0] * iop[4] - iop[1] * iop[3]};
    size_t slice = (size_t)(v->dim[0] * v->dim[1]) * md_dtype_size(v->dtype);
    int *ord = malloc((size_t)n * sizeof *ord);
    double *z = malloc((size_t)n * sizeof *z);
    char *tmp = malloc(slice * (size_t)n);
    MdRescale *rs2 = malloc((size_t)n * sizeof *rs2);
    double(*p2)[3] = malloc((size_t)n * sizeof *p2);
    MdStatus st = MD_OK;
    if (!ord || !z || !tmp || !rs2 || !p2)
        st = md_error(err, MD_ENOMEM, "out of memory sorting frames");
    for (int f = 0; st == MD_OK && f < n; f++) {
        z[f] = pos[f][0] * nrm[0] + pos[f][1] * nrm[1] + pos[f][2] * nrm[2];
        int k = f; /* insertion sort: frames are usually in order already */
        while (k > 0 && z[ord[k - 1]] > z[f]) ord[k] = ord[k - 1], k--;
        ord[k] = f;
    }
    for (int k = 1; st == MD_OK && k < n; k++)
        if (z[ord[k]] - z[ord[k - 1]] < 1e-3)
            st = md_error(err, MD_EUNSUPPORTED,
                          "frames %d and %d are at the same position (%.4f mm "
                          "along the normal): several volumes in one file are not stacked",
                          ord[k - 1] + 1, ord[k] + 1, z[ord[k]]);
    double mean = n > 1 && st == MD_OK ? (z[ord[n - 1]] - z[ord[0]]) / (n - 1) : 0;
    for (int k = 1; st == MD_OK && k < n; k++)
        if (fabs(z[ord[k]] - z[ord[k - 1]] - mean) > fmax(0.01, 0.01 * mean)) *nonuniform = 1;
    if (st == MD_OK) {
        char *data = md_volume_data(v);
        memcpy(tmp, data, slice * (size_t)n);
        for (int k = 0; k < n; k++) {
            memcpy(data + (size_t)k * slice, tmp + (size_t)ord[k] * slice, slice);
            rs2[k] = rs[ord[k]];
            memcpy(p2[k], pos[ord[k]], sizeof p2[k]);
        }
        memcpy(rs, rs2, (size_t)n * sizeof *rs);
        memcpy(pos, p2, (size_t)n * sizeof *p2);
    }
    free(ord), free(z), free(tmp), free(rs2), free(p2);
    return st;
}


/* [frame][sample][row][col] -> [sample][frame][row][col] (x, y, z, channel). */
static MdStatus planes_last(MdVolume *v, int frames, MdError *err)
{
    size_t plane = (size_t)(v->dim[0] * v->dim[1]) * md_dtype_size(v->dtype);
    char *data = md_volume_data(v), *tmp = malloc(plane * (size_t)frames * 3);
    if (!tmp) return md_error(err, MD_ENOMEM, "out of memory");
    memcpy(tmp, data, plane * (size_t)frames * 3);
    for (int f = 0; f < frames; f++)
        for (int s = 0; s < 3; s++)
            memcpy(data + ((size_t)s * (size_t)frames + (size_t)f) * plane,
                   tmp + ((size_t)f * 3 + (size_t)s) * plane, plane);
    free(tmp);
    return MD_OK;
}

/* The geometry attributes of a file (enhanced objects keep them in the
 * shared or per-frame functional groups; frames must agree). */
static MdStatus file_geom(const MdDcm *d, MdGeom *g, int frames, MdError *err)
{
    static const double ident[6] = {1, 0, 0, 0, 1, 0};
    int has_iop, has_ps;
    MdStatus st = md_dcm_fg_plane(d, frames, g->iop, &has_iop, g->ps, &has_ps, err);
    if (!has_iop) memcpy(g->iop, ident, sizeof ident);
    if (!has_ps && md_dcm_numbers(d, md_dcm_find(d, -1, TAG(0x0018, 0x1164)), g->ps, 2) != 2)
        g->ps[0] = g->ps[1] = 1;
    double thick = md_dcm_num(d, -1, TAG(0x0018, 0x0050), 0);
    double between = md_dcm_num(d, -1, TAG(0x0018, 0x0088), 0);
    if (thick <= 0 && between <= 0) { /* enhanced: PixelMeasuresSequence */
        int32_t e = md_dcm_fg_find(d, 0, TAG(0x0028, 0x9110), TAG(0x0018, 0x0050));
        if (e >= 0) md_dcm_numbers(d, e, &thick, 1);
        e = md_dcm_fg_find(d, 0, TAG(0x0028, 0x9110), TAG(0x0018, 0x0088));
        if (e >= 0) md_dcm_numbers(d, e, &between, 1);
    }
    if (frames > 1 || md_dcm_find(d, -1, TAG(0x0019, 0x100A)) >= 0)
        g->dz = between > 0 ? between : thick; /* frames are spaced, a lone slice is thick */
    else
        g->dz = thick > 0 ? thick : between;
    return st;
}

static MdStatus read_single(const char *path, const MdDicomOpts *opts, MdVolume *out, MdMeta *meta,
                            MdError *err)
{
    MdDcm d;
    uint8_t *buf;
    MdDcmImage im;
    MdRescale *rs = NULL;
    double(*pos)[3] = NULL, pos0[3] = {0, 0, 0};
    MdGeom g = {0};
    MdStatus st = md_dcm_load(path, 0, &d, &buf, err);
    if (st != MD_OK) return st;
    st = md_dcm_image(&d, &im, err);
    if (st == MD_OK) st = md_dcm_check_pixels(&d, &im, err);
    if (st == MD_OK && meta) st = md_dcm_fill_meta(&d, meta, err);
    int64_t dim[4] = {im.cols, im.rows, im.frames, im.samples};
    if (st == MD_OK) {
        md_volume_init(out, md_dcm_stored_dtype(&im), im.samples > 1 ? 4 : 3, dim);
        st = md_volume_alloc(out, 0, 0, err);
    }
    if (st == MD_OK) st = file_geom(&d, &g, im.frames, err);
    if (st == MD_OK) st = md_dcm_decode(&d, &im, md_volume_data(out), err);
    if (st == MD_OK && im.samples > 1 && im.frames > 1) st = planes_last(out, im.frames, err);
    int have_ipp = md_dcm_fg_first_position(&d, pos0);
    int mosaic = md_dcm_find(&d, -1, TAG(0x0019, 0x100A)) >= 0 && im.frames == 1 && im.samples == 1;
    if (st == MD_OK && mosaic) {
        char type[128];
        mosaic =
            strstr(md_dcm_str(&d, -1, TAG(0x0008, 0x0008), type, sizeof type), "MOSAIC") != NULL;
        if (mosaic) st = md_dcm_unmosaic(&d, out, &g, pos0, err);
    }
    int nz = (int)out->dim[2];
    if (st == MD_OK && !(rs = malloc((size_t)nz * sizeof *rs)))
        st = md_error(err, MD_ENOMEM, "out of memory");
    for (int f = 0; st == MD_OK && f < nz; f++) md_dcm_rescale(&d, &im, mosaic ? 0 : f, &rs[f]);
    if (st == MD_OK && !mosaic) st = frame_positions(&d, im.frames, g.iop, &pos, err);
    if (st == MD_OK && pos && im.samples == 1)
        st = sort_frames(out, rs, pos, g.iop, &g.nonuniform, err);
    if (st == MD_OK && g.nonuniform && !opts->allow_nonuniform)
        st = md_error(err, MD_EFORMAT,
                      "frame spacing is not uniform; read it anyway with allow_nonuniform=true");
    g.pos = pos ? (const double(*)[3])pos : have_ipp ? (const double(*)[3]) & pos0 : NULL;
    g.npos = pos ? nz : have_ipp;
    if (st == MD_OK) st = md_dcm_geometry(out, &g, meta, err);
    if (st == MD_OK && im.samples == 1 && !opts->raw)
        st = md_dcm_convert(out, rs, NULL, opts, meta, err);
    free(rs);
    free(pos);
    md_dcm_free(&d);
    free(buf);
    return st;
}

/* Decodes file f of a stack into slice k of v; checks it matches slice 0.
 * Uncompressed data goes from the file straight into the slice at the
 * offset the scan found (no second parse); anything else is read whole into
 * *buf (*cap bytes, the calling thread's reused buffer) and decoded. */
static MdStatus stack_slice(const MdDicomFile *f, const MdDcmImage *im0, MdVolume *v, size_t k,
                            MdRescale *r, uint8_t **buf, size_t *cap, MdError *err)
{
    const MdDcmImage *im = &f->im;
    if (im->rows != im0->rows || im->cols != im0->cols || im->frames != 1 || im->samples != 1 ||
        md_dcm_stored_dtype(im) != md_dcm_stored_dtype(im0))
        return md_error(err, MD_EFORMAT,
                        "pixel format differs from the first slice (%dx%d %s, first "
                        "slice %dx%d %s)",
                        im->cols, im->rows, md_dtype_name(md_dcm_stored_dtype(im)), im0->cols,
                        im0->rows, md_dtype_name(md_dcm_stored_dtype(im0)));
    char *dst = (char *)md_volume_data(v) +
                k * (size_t)(v->dim[0] * v->dim[1]) * md_dtype_size(v->dtype);
    *r = f->rescale;
    if (f->direct) return md_dcm_read_direct(f->path, f->pixel_off, f->pixel_len, im, dst, err);
    MdDcm d;
    MdDcmImage imf;
    MdStatus st = md_dcm_load_into(f->path, 0, &d, buf, cap, err);
    if (st != MD_OK) return st;
    st = md_dcm_image(&d, &imf, err);
    if (st == MD_OK) st = md_dcm_decode(&d, &imf, dst, err);
    md_dcm_free(&d);
    return st;
}

/* Decodes every file of s into its slice of out, on all threads: files
 * are independent, each thread reads whole files into its own reused buffer
 * (dynamic schedule: sizes and codecs vary). The first failure in slice
 * order is reported, naming its file. */
static MdStatus decode_stack(const MdDicomScan *scan, const MdDicomSeries *s,
                             const MdDcmImage *im0, const MdDicomOpts *opts, MdVolume *out,
                             MdRescale *rs, uint8_t *done, MdError *err)
{
    int n = s->nfiles;
    MdError *errs = malloc((size_t)n * sizeof *errs);
    MdStatus *sts = malloc((size_t)n * sizeof *sts), st = MD_OK;
    if (!errs || !sts) st = md_error(err, MD_ENOMEM, "out of memory");
    for (int k = 0; st == MD_OK && k < n; k++) sts[k] = MD_ECANCELLED; /* until decoded */
    /* with a progress function: batches, reported from this thread between them */
    int batch = opts->progress ? DECODE_BATCH : n;
    for (int b0 = 0; st == MD_OK && b0 < n; b0 += batch) {
        int b1 = n - b0 > batch ? b0 + batch : n;
#pragma omp parallel num_threads(md_threads()) if (b1 - b0 > 2)
        {
            uint8_t *fbuf = NULL;
            size_t fcap = 0;
#pragma omp for schedule(dynamic, 1)
            for (int k = b0; k < b1; k++) {
                sts[k] = md_cancel_requested()
                             ? MD_ECANCELLED
                             : stack_slice(&scan->files[s->files[k]], im0, out, (size_t)k,
                                           &rs[k], &fbuf, &fcap, &errs[k]);
                /* to HU while the slice is in cache, when that is exact */
                done[k] = sts[k] == MD_OK && (uint8_t)md_dcm_convert_early(out, (size_t)k, &rs[k], opts);
            }
            free(fbuf);
        }
        if (opts->progress && opts->progress(opts->progress_ud, (size_t)b1, (size_t)n)) break;
    }
    for (int k = 0; k < n && st == MD_OK; k++) {
        if (sts[k] == MD_OK) continue;
        st = sts[k];
        if (st == MD_ECANCELLED) {
            md_error(err, st, "interrupted");
        } else {
            *err = errs[k];
            md_error_prefix(err, scan->files[s->files[k]].path);
        }
    }
    free(errs), free(sts);
    return st;
}

/* The first file's image module, metadata and geometry attributes. */
static MdStatus stack_header(const char *path, MdDcmImage *im0, MdGeom *g, MdMeta *meta,
                             MdError *err)
{
    MdDcm d;
    uint8_t *buf;
    MdStatus st = md_dcm_load(path, 0, &d, &buf, err);
    if (st == MD_OK) {
        st = md_dcm_image(&d, im0, err);
        if (st == MD_OK && im0->samples != 1)
            st = md_error(err, MD_EUNSUPPORTED, "a series of colour images is not stacked");
        if (st == MD_OK && meta) st = md_dcm_fill_meta(&d, meta, err);
        if (st == MD_OK) st = file_geom(&d, g, 1, err);
        md_dcm_free(&d);
        free(buf);
    }
    if (st != MD_OK) md_error_prefix(err, path);
    return st;
}

static MdStatus read_stack(const MdDicomScan *scan, const MdDicomSeries *s, const MdDicomOpts *opts,
                           MdVolume *out, MdMeta *meta, MdError *err)
{
    int n = s->nfiles;
    MdDcmImage im0;
    MdGeom g = {0};
    MdStatus st = stack_header(scan->files[s->files[0]].path, &im0, &g, meta, err);
    if (st != MD_OK) return st;
    /* every file's Pixel Data length was checked against its dimensions by the
     * scan: absurd dimensions never reach this allocation */
    int64_t dim[3] = {im0.cols, im0.rows, n};
    md_volume_init(out, md_dcm_stored_dtype(&im0), 3, dim);
    st = md_volume_alloc(out, 0, 0, err);
    if (st == MD_ENOMEM || st == MD_ETOOBIG) {
        MdError why = *err;
        md_error(err, st, "cannot hold %d slices of %dx%d %s (%.3g GB): %s", n, im0.cols,
                 im0.rows, md_dtype_name(out->dtype),
                 (double)n * im0.cols * im0.rows * (double)md_dtype_size(out->dtype) / 1e9,
                 why.msg);
    }
    MdRescale *rs = malloc((size_t)n * sizeof *rs);
    double(*pos)[3] = malloc((size_t)n * sizeof *pos);
    uint8_t *done = malloc((size_t)n);
    if (st == MD_OK && (!rs || !pos || !done)) st = md_error(err, MD_ENOMEM, "out of memory");
    if (st == MD_OK) st = decode_stack(scan, s, &im0, opts, out, rs, done, err);
    for (int k = 0; st == MD_OK && k < n; k++)
        memcpy(pos[k], scan->files[s->files[k]].ipp, sizeof pos[k]);
    g.pos = (const double(*)[3])pos;
    g.npos = n;
    g.nonuniform = s->nonuniform[0] != 0;
    if (st == MD_OK) st = md_dcm_geometry(out, &g, meta, err);
    if (st == MD_OK && !opts->raw) st = md_dcm_convert(out, rs, done, opts, meta, err);
    if (st == MD_OK && meta) st = meta_status(md_meta_setf(meta, "dicom_files", "%d", n), err);
    if (st == MD_OK && meta && s->nonuniform[0])
        st = meta_status(md_meta_set(meta, "warning", s->nonuniform), err);
    free(rs), free(pos), free(done);
    return st;
}

MdStatus md_dicom_read_series(const MdDicomScan *scan, const MdDicomSeries *s,
                              const MdDicomOpts *opts, MdVolume *out, MdMeta *meta, MdError *err)
{
    if (s->problem[0]) return md_error(err, MD_EFORMAT, "series %s: %s", s->id, s->problem);
    if (s->nonuniform[0] && !opts->allow_nonuniform)
        return md_error(err, MD_EFORMAT,
                        "series %s: %s; read it anyway with allow_nonuniform=true "
                        "(spacing = first gap, as ITK and dcm2niix)",
                        s->id, s->nonuniform);
    MdStatus st;
    if (s->nfiles == 1) {
        const char *path = scan->files[s->files[0]].path;
        st = read_single(path, opts, out, meta, err);
        if (st != MD_OK) md_error_prefix(err, path);
    } else {
        st = read_stack(scan, s, opts, out, meta, err);
    }
    if (st == MD_OK && meta) st = meta_status(md_meta_set(meta, "dicom_series_id", s->id), err);
    if (st == MD_OK && meta && s->tilt_deg > 0)
        st = meta_status(md_meta_setf(meta, "gantry_tilt_deg", "%.4f", s->tilt_deg), err);
    return st;
}

/* The series a read names: opts->series (an id, or a UID split into
 * groups: then it must say which), or the only one. */
static MdStatus pick(const MdDicomScan *scan, const MdDicomOpts *opts, const MdDicomSeries **out,
                     MdError *err)
{
    *out = NULL;
    for (size_t i = 0; i < scan->nseries; i++) {
        const MdDicomSeries *s = &scan->series[i];
        if (opts->series && strcmp(opts->series, s->id)) continue;
        if (opts->series || scan->nseries == 1) {
            *out = s;
            return MD_OK;
        }
    }
    char list[300] = "";
    size_t k = 0;
    for (size_t i = 0; i < scan->nseries && k < sizeof list; i++)
        k += (size_t)snprintf(list + k, sizeof list - k, "%s%s (%d files)", i ? ", " : "",
                              scan->series[i].id, scan->series[i].nfiles);
    if (opts->series)
        return md_error(err, MD_EINVAL, "no series %s here (found: %s)", opts->series, list);
    int split = scan->series[0].nsplit > 1 && (size_t)scan->series[0].nsplit == scan->nseries;
    return md_error(err, MD_EINVAL,
                    "%zu %s here: %s; choose one with {series=id} "
                    "(vol.dicom_series lists them)",
                    scan->nseries,
                    split ? "groups of one series with different orientations or sizes" : "series",
                    list);
}

/* A damaged file fails the read unless opts->skip_damaged. */
static MdStatus check_damaged(const MdDicomScan *scan, const MdDicomOpts *opts, MdError *err)
{
    if (scan->ndamaged == 0 || opts->skip_damaged) return MD_OK;
    return md_error(err, MD_EFORMAT,
                    "%s is damaged: %s (%zu damaged of %zu DICOM files; read the others with "
                    "skip_damaged=true)",
                    scan->damaged[0].path, scan->damaged[0].why, scan->ndamaged,
                    scan->ndamaged + scan->nfiles);
}

/* Lists what the scan left out in meta, one file per line. */
static MdStatus meta_left_out(const MdDicomScan *scan, MdMeta *meta, MdError *err)
{
    MdStatus st = MD_OK;
    for (int kind = 0; kind < 2 && st == MD_OK; kind++) {
        size_t n = kind ? scan->ndamaged : scan->skipped, len = 1;
        for (size_t i = 0; i < n; i++)
            len += strlen(kind ? scan->damaged[i].path : scan->skipped_paths[i]) + 3 +
                   (kind ? strlen(scan->damaged[i].why) : 0);
        if (n == 0) continue;
        char *text = malloc(len), *q = text;
        if (!text) return md_error(err, MD_ENOMEM, "out of memory for metadata");
        for (size_t i = 0; i < n; i++)
            q += kind ? sprintf(q, "%s%s: %s", i ? "\n" : "", scan->damaged[i].path,
                                scan->damaged[i].why)
                      : sprintf(q, "%s%s", i ? "\n" : "", scan->skipped_paths[i]);
        st = meta_status(
            md_meta_set(meta, kind ? "dicom_damaged_files" : "dicom_skipped_files", text), err);
        free(text);
    }
    return st;
}

MdStatus md_dicom_read_ex(const char *path, const MdDicomOpts *opts, MdVolume *out, MdMeta *meta,
                          MdError *err)
{
    MdDicomScan scan;
    const MdDicomSeries *s;
    MdStatus st = md_dicom_scan(path, opts->recursive, &scan, err);
    if (st == MD_OK) st = check_damaged(&scan, opts, err);
    if (st == MD_OK) st = pick(&scan, opts, &s, err);
    int file_error = st == MD_OK && s->nfiles == 1 && !s->problem[0] && !s->nonuniform[0];
    if (st == MD_OK) st = md_dicom_read_series(&scan, s, opts, out, meta, err);
    if (st == MD_OK && meta) st = meta_left_out(&scan, meta, err);
    md_dicom_scan_free(&scan);
    if (st != MD_OK && !file_error) md_error_prefix(err, path);
    return st;
}

MdStatus md_dicom_read_files(const char *const *paths, size_t n, const MdDicomOpts *opts,
                             MdVolume *out, MdMeta *meta, MdError *err)
{
    MdDicomScan scan;
    const MdDicomSeries *s;
    MdStatus st = md_dicom_scan_files(paths, n, &scan, err);
    if (st == MD_OK) st = check_damaged(&scan, opts, err);
    if (st == MD_OK) st = pick(&scan, opts, &s, err);
    if (st == MD_OK) st = md_dicom_read_series(&scan, s, opts, out, meta, err);
    if (st == MD_OK && meta) st = meta_left_out(&scan, meta, err);
    md_dicom_scan_free(&scan);
    return st;
}

MdStatus md_dicom_read(const char *path, const MdReadOpts *ropts, MdVolume *out, MdMeta *meta,
                       MdError *err)
{
    MdDicomOpts opts = {.dtype = -1, .raw = ropts ? ropts->raw : 0};
    MdStatus st = md_dicom_read_ex(path, &opts, out, meta, err);
    if (st != MD_OK) md_volume_release(out);
    return st;
}
