/* DICOM SEG (binary and fractional segmentation objects) to labels on a
 * reference grid: each frame is one plane of one segment, placed by its
 * per-frame ImagePositionPatient; frames the writer left out (empty ones)
 * are simply zero. Resampling a SEG that is not aligned with its reference
 * is deliberately not done here (the resample kernels do that). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/geom.h"
#include "dicom.h"
#include "dicom_image.h"
#include "dicom_parse.h"

#define TAG MD_DCM_TAG
#define ALIGN_TOL 1e-3 /* direction cosines and relative spacing */
#define SLICE_TOL 0.1  /* a frame must lie within this fraction of a voxel of a slice */

typedef struct Seg {
    const MdDcm *d;
    MdDcmImage im;
    MdGeom g;
    double (*pos)[3]; /* new: frame origins */
    int *segno;       /* new: ReferencedSegmentNumber of each frame */
    uint8_t *px;      /* new: frames x rows x cols, 0/1 or fractions 0..max */
    double maxfrac;
} Seg;

static MdStatus read_segments(const MdDcm *d, MdSegInfo *info, MdError *err)
{
    int32_t sq = md_dcm_find(d, -1, TAG(0x0062, 0x0002));
    int n = md_dcm_nitems(d, sq);
    if (n < 1) return md_error(err, MD_EFORMAT, "SEG without SegmentSequence (0062,0002)");
    if (n > 256) return md_error(err, MD_EUNSUPPORTED, "SEG with %d segments (at most 256)", n);
    info->nsegments = n;
    for (int i = 0; i < n; i++) {
        int32_t it = md_dcm_item(d, sq, i);
        info->numbers[i] = (int)md_dcm_num(d, it, TAG(0x0062, 0x0004), i + 1);
        md_dcm_str(d, it, TAG(0x0062, 0x0005), info->labels[i], sizeof info->labels[i]);
    }
    char type[32];
    md_dcm_str(d, -1, TAG(0x0062, 0x0001), type, sizeof type);
    info->fractional = !strcmp(type, "FRACTIONAL");
    return MD_OK;
}

/* Orientation, spacing, frame positions and segment numbers. */
static MdStatus read_frames(Seg *s, MdSegInfo *info, MdError *err)
{
    const MdDcm *d = s->d;
    int n = s->im.frames;
    int32_t sh = md_dcm_item(d, md_dcm_find(d, -1, TAG(0x5200, 0x9229)), 0);
    int32_t pf = md_dcm_find(d, -1, TAG(0x5200, 0x9230));
    int32_t f0 = md_dcm_item(d, pf, 0);
    if (md_dcm_nitems(d, pf) < n) /* more groups than frames: a cut-down file keeps the first */
        return md_error(err, MD_EFORMAT, "SEG has %d frames but %d per-frame functional groups", n,
                        md_dcm_nitems(d, pf));
    for (int k = 0; k < 2; k++) { /* shared groups first, then the first frame's */
        int32_t g = k ? f0 : sh;
        if (g < 0) continue;
        if (!s->g.iop[0] && !s->g.iop[1] && !s->g.iop[2])
            md_dcm_numbers(
                d, md_dcm_find_in_first_item(d, g, TAG(0x0020, 0x9116), TAG(0x0020, 0x0037)),
                s->g.iop, 6);
        int32_t pm = md_dcm_item(d, md_dcm_find(d, g, TAG(0x0028, 0x9110)), 0);
        if (pm >= 0 && !s->g.ps[0])
            md_dcm_numbers(d, md_dcm_find(d, pm, TAG(0x0028, 0x0030)), s->g.ps, 2);
        if (pm >= 0 && !s->g.dz) {
            s->g.dz = md_dcm_num(d, pm, TAG(0x0018, 0x0088), 0);
            if (s->g.dz <= 0) s->g.dz = md_dcm_num(d, pm, TAG(0x0018, 0x0050), 0);
        }
    }
    if (!s->g.ps[0] || (!s->g.iop[0] && !s->g.iop[1] && !s->g.iop[2]))
        return md_error(
            err, MD_EFORMAT,
            "SEG without PixelSpacing or ImageOrientationPatient in its functional groups");
    s->pos = malloc((size_t)n * sizeof *s->pos);
    s->segno = malloc((size_t)n * sizeof *s->segno);
    if (!s->pos || !s->segno) return md_error(err, MD_ENOMEM, "out of memory");
    for (int f = 0; f < n; f++) {
        int32_t it = md_dcm_item(d, pf, f);
        int32_t e = md_dcm_find_in_first_item(d, it, TAG(0x0020, 0x9113), TAG(0x0020, 0x0032));
        if (md_dcm_numbers(d, e, s->pos[f], 3) != 3)
            return md_error(err, MD_EFORMAT, "SEG frame %d has no PlanePositionSequence position",
                            f + 1);
        s->segno[f] =
            (int)md_dcm_num(d, md_dcm_item(d, md_dcm_find(d, it, TAG(0x0062, 0x000A)), 0),
                            TAG(0x0062, 0x000B), info->nsegments == 1 ? info->numbers[0] : -1);
        int known = 0;
        for (int i = 0; i < info->nsegments; i++) known |= info->numbers[i] == s->segno[f];
        if (!known)
            return md_error(err, MD_EFORMAT,
                            "SEG frame %d refers to segment %d, which SegmentSequence "
                            "does not define",
                            f + 1, s->segno[f]);
    }
    return MD_OK;
}

/* The grid the frames span when there is no reference: positions along
 * the normal from the lowest to the highest, SpacingBetweenSlices apart
 * (or the smallest gap), so left-out frames come back as empty slices. */
static MdStatus own_grid(Seg *s, MdVolume *grid, MdError *err)
{
    int n = s->im.frames, lo = 0;
    const double *o = s->g.iop;
    double nrm[3] = {o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5],
                     o[0] * o[4] - o[1] * o[3]};
    double zmin = INFINITY, zmax = -INFINITY, gap = INFINITY;
    for (int f = 0; f < n; f++) {
        double z = s->pos[f][0] * nrm[0] + s->pos[f][1] * nrm[1] + s->pos[f][2] * nrm[2];
        if (z < zmin) zmin = z, lo = f;
        zmax = fmax(zmax, z);
        for (int h = 0; h < f; h++) {
            double zh = s->pos[h][0] * nrm[0] + s->pos[h][1] * nrm[1] + s->pos[h][2] * nrm[2];
            if (fabs(z - zh) > 1e-3) gap = fmin(gap, fabs(z - zh));
        }
    }
    double dz = s->g.dz > 0 ? s->g.dz : isfinite(gap) ? gap : 1;
    double nz = nearbyint((zmax - zmin) / dz) + 1;
    if (nz > 100000) return md_error(err, MD_EFORMAT, "SEG frames span %g slices", nz);
    int64_t dim[3] = {s->im.cols, s->im.rows, (int64_t)nz};
    md_volume_init(grid, MD_UINT8, 3, dim);
    MdGeom g = s->g;
    g.pos = (const double(*)[3]) & s->pos[lo];
    g.npos = 1;
    g.dz = dz;
    return md_dcm_geometry(grid, &g, NULL, err);
}

/* Checks the SEG plane is the grid's axial plane with the same spacing. */
static MdStatus check_aligned(const Seg *s, const MdVolume *grid, MdError *err)
{
    for (int i = 0; i < 3; i++)
        if (fabs(grid->direction[3 * i] - s->g.iop[i]) > ALIGN_TOL ||
            fabs(grid->direction[3 * i + 1] - s->g.iop[3 + i]) > ALIGN_TOL)
            return md_error(err, MD_EUNSUPPORTED,
                            "SEG orientation differs from the reference grid's; "
                            "resample the reference or the SEG first");
    if (fabs(grid->spacing[0] - s->g.ps[1]) > ALIGN_TOL * grid->spacing[0] ||
        fabs(grid->spacing[1] - s->g.ps[0]) > ALIGN_TOL * grid->spacing[1])
        return md_error(err, MD_EUNSUPPORTED,
                        "SEG pixel spacing %g x %g differs from the reference's "
                        "%g x %g",
                        s->g.ps[1], s->g.ps[0], grid->spacing[0], grid->spacing[1]);
    return MD_OK;
}

/* Writes the frames into out (labels or masks). */
static MdStatus place(Seg *s, const MdVolume *grid, int masks, MdVolume *out, MdSegInfo *info,
                      MdError *err)
{
    int64_t nx = grid->dim[0], ny = grid->dim[1], nz = grid->dim[2];
    size_t plane = (size_t)(nx * ny), nvox = plane * (size_t)nz;
    uint8_t *hit = masks ? NULL : calloc(nvox ? nvox : 1, 1);
    if (!masks && !hit) return md_error(err, MD_ENOMEM, "out of memory");
    MdStatus st = MD_OK;
    for (int f = 0; f < s->im.frames && st == MD_OK; f++) {
        double ijk[3];
        st = md_geom_world_to_index(grid, s->pos[f], ijk, err);
        if (st != MD_OK) break;
        double k = nearbyint(ijk[2]), i0 = nearbyint(ijk[0]), j0 = nearbyint(ijk[1]);
        if (fabs(ijk[2] - k) > SLICE_TOL || fabs(ijk[0] - i0) > SLICE_TOL ||
            fabs(ijk[1] - j0) > SLICE_TOL || k < 0 || k >= (double)nz) {
            st = md_error(err, MD_EFORMAT,
                          "SEG frame %d (segment %d) falls at index (%.2f, %.2f, %.2f) of "
                          "the %lldx%lldx%lld reference grid, not on one of its voxels",
                          f + 1, s->segno[f], ijk[0] + 1, ijk[1] + 1, ijk[2] + 1, (long long)nx,
                          (long long)ny, (long long)nz);
            break;
        }
        int si = 0;
        while (info->numbers[si] != s->segno[f]) si++;
        const uint8_t *src = s->px + (size_t)f * (size_t)s->im.rows * (size_t)s->im.cols;
        for (int r = 0; r < s->im.rows; r++) {
            int64_t y = (int64_t)j0 + r;
            if (y < 0 || y >= ny) continue;
            for (int c = 0; c < s->im.cols; c++) {
                int64_t x = (int64_t)i0 + c;
                uint8_t v = src[(size_t)r * (size_t)s->im.cols + (size_t)c];
                if (x < 0 || x >= nx || !v) continue;
                size_t at = (size_t)k * plane + (size_t)(y * nx + x);
                if (masks) {
                    if (out->dtype == MD_FLOAT32)
                        ((float *)md_volume_data(out))[(size_t)si * nvox + at] =
                            (float)(v / s->maxfrac);
                    else
                        ((uint8_t *)md_volume_data(out))[(size_t)si * nvox + at] = 1;
                    continue;
                }
                if (info->fractional && v < s->maxfrac / 2) continue; /* labels: at least half */
                int32_t *lab = (int32_t *)md_volume_data(out) + at;
                if (*lab && *lab != s->segno[f] && hit[at] == 1)
                    info->overlap_voxels++, hit[at] = 2;
                if (!hit[at]) hit[at] = 1;
                if (s->segno[f] > *lab) *lab = s->segno[f];
            }
        }
        info->frames_placed++;
    }
    free(hit);
    return st;
}

static MdStatus overlap_meta(const MdSegInfo *info, MdMeta *meta, MdError *err)
{
    char labels[2048] = "";
    size_t k = 0;
    for (int i = 0; i < info->nsegments && k < sizeof labels; i++)
        k += (size_t)snprintf(labels + k, sizeof labels - k, "%s%d=%s", i ? ";" : "",
                              info->numbers[i], info->labels[i]);
    MdStatus st = md_meta_set(meta, "segment_labels", labels);
    if (st == MD_OK)
        st = md_meta_setf(meta, "overlap_voxels", "%lld", (long long)info->overlap_voxels);
    return st == MD_OK ? MD_OK : md_error(err, st, "out of memory for metadata");
}

static MdStatus read_seg(const MdDcm *d, const MdVolume *ref, int masks, MdVolume *out,
                         MdSegInfo *info, MdMeta *meta, MdError *err)
{
    Seg s;
    memset(&s, 0, sizeof s);
    s.d = d;
    char sop[68];
    MdStatus st = MD_OK;
    if (strcmp(md_dcm_str(d, -1, TAG(0x0008, 0x0016), sop, sizeof sop),
               "1.2.840.10008.5.1.4.1.1.66.4"))
        st =
            md_error(err, MD_EFORMAT, "not a DICOM SEG (SOPClassUID %s)", sop[0] ? sop : "missing");
    if (st == MD_OK) st = read_segments(d, info, err);
    if (st == MD_OK) st = md_dcm_image(d, &s.im, err);
    if (st == MD_OK && (s.im.samples != 1 || (s.im.bits_alloc != 1 && s.im.bits_alloc != 8)))
        st = md_error(err, MD_EFORMAT,
                      "SEG pixels must be 1 or 8 bits, one sample (got %d bits, %d samples)",
                      s.im.bits_alloc, s.im.samples);
    if (st == MD_OK) st = md_dcm_check_pixels(d, &s.im, err);
    info->frames = s.im.frames;
    s.maxfrac = info->fractional ? md_dcm_num(d, -1, TAG(0x0062, 0x000E), 255) : 1;
    if (s.maxfrac <= 0) s.maxfrac = 1;
    if (st == MD_OK) st = read_frames(&s, info, err);
    size_t values, bytes;
    if (st == MD_OK) st = md_dcm_frame_size(&s.im, &values, &bytes, err);
    if (st == MD_OK && !(s.px = malloc(bytes ? bytes : 1)))
        st = md_error(err, MD_ENOMEM, "out of memory");
    if (st == MD_OK) st = md_dcm_decode(d, &s.im, s.px, err);
    MdVolume own;
    memset(&own, 0, sizeof own);
    if (st == MD_OK && !ref) st = own_grid(&s, &own, err);
    const MdVolume *grid = ref ? ref : &own;
    if (st == MD_OK) st = check_aligned(&s, grid, err);
    if (st == MD_OK) {
        int64_t dim[4] = {grid->dim[0], grid->dim[1], grid->dim[2], info->nsegments};
        MdDtype dt = !masks ? MD_INT32 : info->fractional ? MD_FLOAT32 : MD_UINT8;
        md_volume_init(out, dt, masks ? 4 : 3, dim);
        md_volume_copy_geometry(out, grid);
        st = md_volume_alloc(out, 1, 0, err);
    }
    if (st == MD_OK) st = place(&s, grid, masks, out, info, err);
    if (st == MD_OK && meta) st = md_dcm_fill_meta(d, meta, err);
    if (st == MD_OK && meta) st = overlap_meta(info, meta, err);
    free(s.pos), free(s.segno), free(s.px);
    return st;
}

MdStatus md_dicom_read_seg(const char *path, const MdVolume *ref, int masks, MdVolume *out,
                           MdSegInfo *info, MdMeta *meta, MdError *err)
{
    MdDcm d;
    uint8_t *buf;
    memset(info, 0, sizeof *info);
    MdStatus st = md_dcm_load(path, 0, &d, &buf, err);
    if (st == MD_OK) {
        st = read_seg(&d, ref, masks, out, info, meta, err);
        md_dcm_free(&d);
        free(buf);
    }
    if (st != MD_OK) md_error_prefix(err, path);
    return st;
}

MdStatus md_dicom_seg_referenced_series(const char *path, char *uid, size_t cap, MdError *err)
{
    MdDcm d;
    uint8_t *buf;
    uid[0] = 0;
    MdStatus st = md_dcm_load(path, 1, &d, &buf, err);
    if (st != MD_OK) {
        md_error_prefix(err, path);
        return st;
    }
    int32_t e = md_dcm_find_in_first_item(&d, -1, TAG(0x0008, 0x1115), TAG(0x0020, 0x000E));
    md_dcm_text(&d, e, uid, cap);
    md_dcm_free(&d);
    free(buf);
    return MD_OK;
}
