/* Folder scanning: which files are DICOM images, grouped by
 * SeriesInstanceUID, then by orientation and size, each group ordered by
 * ImagePositionPatient along the slice normal (never by file name or
 * InstanceNumber), with its gaps, duplicates and gantry tilt checked.
 * Pixels are not read here (dicom_read.c does). */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "../core/ctx.h"
#include "../core/par.h"
#include "dicom.h"
#include "dicom_image.h"
#include "dicom_fgroups.h"
#include "dicom_parse.h"

#define TAG MD_DCM_TAG
#define MAX_DEPTH_DIRS 32
#define IOP_TOL 1e-3 /* orientation cosines closer than this are one orientation */
#define SCAN_BATCH 64 /* headers read between two progress reports */
#define DUP_TOL 1e-3 /* mm: two slices closer than this along the normal are at one position */

typedef struct Paths {
    char **p;
    size_t n, cap;
} Paths;

static MdStatus add_path(Paths *ps, const char *path, MdError *err)
{
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 64;
        char **p = realloc(ps->p, cap * sizeof *p);
        if (!p) return md_error(err, MD_ENOMEM, "out of memory listing files");
        ps->p = p, ps->cap = cap;
    }
    if (!(ps->p[ps->n] = strdup(path)))
        return md_error(err, MD_ENOMEM, "out of memory listing files");
    ps->n++;
    return MD_OK;
}

/* Folders entered so far (device, inode): a symbolic link back to one of
 * them (a loop, or a second path to the same folder) is not entered again. */
typedef struct Visited {
    dev_t *dev;
    ino_t *ino;
    size_t n, cap;
} Visited;

/* 1 when (dev, ino) was visited already; else records it (0). -1: no memory. */
static int visit(Visited *vs, dev_t dev, ino_t ino)
{
    for (size_t i = 0; i < vs->n; i++)
        if (vs->dev[i] == dev && vs->ino[i] == ino) return 1;
    if (vs->n == vs->cap) {
        size_t cap = vs->cap ? vs->cap * 2 : 16;
        dev_t *d = realloc(vs->dev, cap * sizeof *d);
        if (d) vs->dev = d;
        ino_t *i = realloc(vs->ino, cap * sizeof *i);
        if (i) vs->ino = i;
        if (!d || !i) return -1;
        vs->cap = cap;
    }
    vs->dev[vs->n] = dev, vs->ino[vs->n++] = ino;
    return 0;
}

/* Lists the regular files of dir (hidden ones too: they are sniffed and
 * listed as skipped, never dropped unseen), and of its sub-folders when
 * recursive (hidden sub-folders excepted). */
static MdStatus list_dir(const char *dir, int recursive, int depth, Visited *vs, Paths *ps,
                         MdError *err)
{
    DIR *dp = opendir(dir);
    if (!dp) return md_error(err, MD_EIO, "cannot open folder %s", dir);
    struct dirent *de;
    MdStatus st = MD_OK;
    while (st == MD_OK && (de = readdir(dp))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        char *full = malloc(len);
        if (!full) {
            st = md_error(err, MD_ENOMEM, "out of memory listing files");
            break;
        }
        snprintf(full, len, "%s/%s", dir, de->d_name);
        struct stat sb;
        if (stat(full, &sb) == 0) {
            if (S_ISDIR(sb.st_mode) && recursive && depth < MAX_DEPTH_DIRS &&
                de->d_name[0] != '.') { /* hidden folders (.git, .Trash) are not entered */
                int seen = visit(vs, sb.st_dev, sb.st_ino);
                if (seen < 0) st = md_error(err, MD_ENOMEM, "out of memory listing files");
                if (seen == 0) st = list_dir(full, recursive, depth + 1, vs, ps, err);
            } else if (S_ISREG(sb.st_mode)) {
                st = add_path(ps, full, err);
            }
        }
        free(full);
    }
    closedir(dp);
    return st;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int md_dicom_is_candidate(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return 0;
    if (S_ISDIR(sb.st_mode)) return 1;
    unsigned char b[160] = {0};
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    size_t n = fread(b, 1, sizeof b, fp);
    fclose(fp);
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) { /* gzip-wrapped: look inside */
        gzFile gz = gzopen(path, "rb");
        int got = gz ? gzread(gz, b, sizeof b) : -1;
        if (gz) gzclose(gz);
        n = got > 0 ? (size_t)got : 0;
    }
    return md_dcm_sniff(b, n);
}

static void cross(const double a[3], const double b[3], double c[3])
{
    c[0] = a[1] * b[2] - a[2] * b[1];
    c[1] = a[2] * b[0] - a[0] * b[2];
    c[2] = a[0] * b[1] - a[1] * b[0];
}

/* 1 when the SOP class (or the meta group's MediaStorageSOPClassUID) is one
 * of the common image storage classes: such a file without Pixel Data was
 * cut short, it is not a report or a DICOMDIR. */
static int image_class(const MdDcm *d)
{
    static const char *const img[] = {"1", "1.1", "1.1.1", "2", "2.1", "2.2", "3.1", "4", "4.1",
                                      "6.1", "7", "12.1", "20", "128", "130", "481.1", "481.2"};
    char uid[68];
    md_dcm_str(d, -1, TAG(0x0008, 0x0016), uid, sizeof uid);
    if (!uid[0]) md_dcm_str(d, -1, TAG(0x0002, 0x0002), uid, sizeof uid);
    static const char root[] = "1.2.840.10008.5.1.4.1.1.";
    if (strncmp(uid, root, sizeof root - 1)) return 0;
    for (size_t i = 0; i < sizeof img / sizeof img[0]; i++)
        if (!strcmp(uid + sizeof root - 1, img[i])) return 1;
    return 0;
}

/* Fills f from a parsed header. Returns 1 for an image, 0 when the file is
 * not an image (DICOMDIR, reports), -1 when it is a damaged one (err says
 * why): an image module without Pixel Data, an invalid image module, or
 * native Pixel Data shorter than the image or than the file. */
static int file_info(const MdDcm *d, MdDicomFile *f, MdError *err)
{
    char sop_class[68], type[128];
    md_dcm_str(d, -1, TAG(0x0008, 0x0016), sop_class, sizeof sop_class);
    if (!strcmp(sop_class, "1.2.840.10008.1.3.10")) return 0; /* DICOMDIR */
    if (d->pixel < 0) {
        if (md_dcm_find(d, -1, TAG(0x0028, 0x0010)) < 0 && !image_class(d)) return 0;
        md_error(err, MD_EFORMAT, "an image (SOP class %s) without Pixel Data (truncated?)",
                 sop_class[0] ? sop_class : "?");
        return -1;
    }
    if (md_dcm_image(d, &f->im, err) != MD_OK) return -1;
    const MdDcmElem *pe = &d->el[d->pixel];
    size_t fsize = d->deflated || !d->file_size ? d->size : d->file_size; /* inflated: d->size */
    if (pe->len != MD_DCM_UNDEF &&
        md_dcm_check_native_length(&f->im, pe->len, fsize > pe->off ? fsize - pe->off : 0,
                                   err) != MD_OK)
        return -1;
    md_dcm_str(d, -1, TAG(0x0020, 0x000E), f->series_uid, sizeof f->series_uid);
    md_dcm_str(d, -1, TAG(0x0008, 0x0018), f->sop_uid, sizeof f->sop_uid);
    md_dcm_str(d, -1, TAG(0x0020, 0x000D), f->study_uid, sizeof f->study_uid);
    md_dcm_str(d, -1, TAG(0x0008, 0x103E), f->description, sizeof f->description);
    md_dcm_str(d, -1, TAG(0x0008, 0x0060), f->modality, sizeof f->modality);
    md_dcm_str(d, -1, TAG(0x0008, 0x0008), type, sizeof type);
    f->rows = (int)md_dcm_num(d, -1, TAG(0x0028, 0x0010), 0);
    f->cols = (int)md_dcm_num(d, -1, TAG(0x0028, 0x0011), 0);
    f->frames = f->im.frames;
    f->instance = (int)md_dcm_num(d, -1, TAG(0x0020, 0x0013), 0);
    f->has_ipp = md_dcm_fg_first_position(d, f->ipp);
    if (md_dcm_fg_plane(d, f->im.frames, f->iop, &f->has_iop, f->pixel_spacing, &f->has_spacing,
                        err) != MD_OK)
        return -1;
    f->mosaic = strstr(type, "MOSAIC") ? (int)md_dcm_num(d, -1, TAG(0x0019, 0x100A), 0) : 0;
    if (!f->series_uid[0]) snprintf(f->series_uid, sizeof f->series_uid, "(no SeriesInstanceUID)");
    md_dcm_rescale(d, &f->im, 0, &f->rescale);
    f->direct = md_dcm_direct(d, &f->im, &f->pixel_off, &f->pixel_len);
    return 1;
}

static int same_group(const MdDicomFile *a, const MdDicomFile *b)
{
    if (strcmp(a->series_uid, b->series_uid) || a->rows != b->rows || a->cols != b->cols ||
        a->has_iop != b->has_iop)
        return 0;
    for (int i = 0; i < 6 && a->has_iop; i++)
        if (fabs(a->iop[i] - b->iop[i]) > IOP_TOL) return 0;
    return 1;
}

/* Orientation code of the (row, column, normal) axes, ITK/nibabel "towards" letters. */
static void orientation_code(const double iop[6], char code[4])
{
    double n[3], ax[3][3] = {{iop[0], iop[1], iop[2]}, {iop[3], iop[4], iop[5]}};
    cross(ax[0], ax[1], n);
    memcpy(ax[2], n, sizeof n);
    static const char pos[] = "LPS", neg[] = "RAI";
    for (int a = 0; a < 3; a++) {
        int best = 0;
        for (int k = 1; k < 3; k++)
            if (fabs(ax[a][k]) > fabs(ax[a][best])) best = k;
        code[a] = ax[a][best] >= 0 ? pos[best] : neg[best];
    }
    code[3] = 0;
}

static const MdDicomFile *g_files; /* qsort has no context argument in C11 */

static int cmp_pos(const void *a, const void *b)
{
    const MdDicomFile *fa = &g_files[*(const int *)a], *fb = &g_files[*(const int *)b];
    if (fa->pos != fb->pos) return fa->pos < fb->pos ? -1 : 1;
    return strcmp(fa->path, fb->path);
}

/* Checks a sorted group: duplicates, uneven gaps (missing slices), tilt. */
static void check_stack(MdDicomScan *scan, MdDicomSeries *s)
{
    const MdDicomFile *f = scan->files;
    int n = s->nfiles;
    if (n < 2) return;
    for (int k = 0; k < n; k++)
        if (!f[s->files[k]].has_ipp || !f[s->files[k]].has_iop) {
            snprintf(s->problem, sizeof s->problem,
                     "%s has no ImagePositionPatient/ImageOrientationPatient, "
                     "so %d files cannot be ordered into a volume",
                     f[s->files[k]].path, n);
            return;
        }
    for (int k = 0; k < n; k++)
        if (f[s->files[k]].frames > 1 || f[s->files[k]].mosaic) {
            snprintf(s->problem, sizeof s->problem,
                     "the series has %d multi-frame or mosaic files; "
                     "read them one at a time",
                     n);
            return;
        }
    double first = f[s->files[0]].pos, span = f[s->files[n - 1]].pos - first, mean = span / (n - 1);
    for (int k = 1; k < n; k++) {
        const MdDicomFile *a = &f[s->files[k - 1]], *b = &f[s->files[k]];
        if (b->pos - a->pos < DUP_TOL) {
            snprintf(s->problem, sizeof s->problem,
                     "%s and %s are at the same position along the "
                     "normal (%.4f mm): duplicate slices, or several acquisitions in one series",
                     a->path, b->path, a->pos);
            return;
        }
    }
    double tol = fmax(0.01, 0.01 * mean); /* mm: rounding of written positions */
    int uneven = 0;
    for (int k = 1; k < n; k++)
        uneven |= fabs(f[s->files[k]].pos - f[s->files[k - 1]].pos - mean) > tol;
    if (uneven) {
        size_t k0 = (size_t)snprintf(s->nonuniform, sizeof s->nonuniform,
                                     "slice spacing is not uniform (gaps:");
        for (int k = 1; k < n && k0 < sizeof s->nonuniform; k++)
            k0 += (size_t)snprintf(s->nonuniform + k0, sizeof s->nonuniform - k0, " %.4g",
                                   f[s->files[k]].pos - f[s->files[k - 1]].pos);
        if (k0 < sizeof s->nonuniform)
            snprintf(s->nonuniform + k0, sizeof s->nonuniform - k0,
                     " mm): missing slices or uneven sampling");
    }
    /* tilt: the line through the slice origins leaves the normal */
    const double *p0 = f[s->files[0]].ipp, *p1 = f[s->files[n - 1]].ipp;
    double v[3] = {p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]}, nrm[3];
    cross(s->iop, s->iop + 3, nrm);
    double len = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    double nl = sqrt(nrm[0] * nrm[0] + nrm[1] * nrm[1] + nrm[2] * nrm[2]);
    if (len > 0 && nl > 0) {
        double c = (v[0] * nrm[0] + v[1] * nrm[1] + v[2] * nrm[2]) / (len * nl);
        double deg = acos(fmin(1.0, fabs(c))) * 180.0 / M_PI;
        if (deg > 0.05) s->tilt_deg = deg;
    }
}

/* Names, orders and checks group g (its files already listed). */
static void finish_group(MdDicomScan *scan, size_t g)
{
    MdDicomSeries *s = &scan->series[g];
    const MdDicomFile *f0 = &scan->files[s->files[0]];
    int part = 1;
    for (size_t h = 0; h < g; h++)
        if (!strcmp(scan->series[h].uid, f0->series_uid)) part++;
    snprintf(s->uid, sizeof s->uid, "%s", f0->series_uid);
    if (part == 1)
        snprintf(s->id, sizeof s->id, "%s", f0->series_uid);
    else
        snprintf(s->id, sizeof s->id, "%s#%d", f0->series_uid, part);
    memcpy(s->iop, f0->iop, sizeof s->iop);
    if (!f0->has_iop) memcpy(s->iop, (double[6]){1, 0, 0, 0, 1, 0}, sizeof s->iop);
    double nrm[3];
    cross(s->iop, s->iop + 3, nrm);
    for (int k = 0; k < s->nfiles; k++) {
        MdDicomFile *f = &scan->files[s->files[k]];
        f->pos = f->has_ipp ? f->ipp[0] * nrm[0] + f->ipp[1] * nrm[1] + f->ipp[2] * nrm[2] : 0;
    }
    g_files = scan->files;
    qsort(s->files, (size_t)s->nfiles, sizeof *s->files, cmp_pos);
    f0 = &scan->files[s->files[0]];
    s->dim[0] = f0->cols;
    s->dim[1] = f0->rows;
    s->dim[2] = s->nfiles == 1 ? f0->frames : s->nfiles;
    if (s->nfiles == 1 && f0->mosaic > 0) { /* the tiles, as the read gives them */
        int grid = (int)ceil(sqrt((double)f0->mosaic));
        s->dim[0] = f0->cols / grid, s->dim[1] = f0->rows / grid, s->dim[2] = f0->mosaic;
    }
    orientation_code(s->iop, s->orientation);
    check_stack(scan, s);
}

/* Groups scan->files into series (first-seen order), then orders each.
 * The group of the previous file is tried first: files of one series sit
 * together, so a tree of thousands of series groups in near-linear time. */
static MdStatus group(MdDicomScan *scan, MdError *err)
{
    size_t nf = scan->nfiles, ng = 0;
    int *gid = malloc((nf ? nf : 1) * sizeof *gid), *first = malloc((nf ? nf : 1) * sizeof *first);
    scan->series = calloc(nf ? nf : 1, sizeof *scan->series);
    MdStatus st = MD_OK;
    if (!gid || !first || !scan->series) st = md_error(err, MD_ENOMEM, "out of memory grouping files");
    for (size_t i = 0; st == MD_OK && i < nf; i++) {
        gid[i] = -1;
        if (i > 0 && same_group(&scan->files[first[gid[i - 1]]], &scan->files[i])) gid[i] = gid[i - 1];
        for (size_t g = 0; g < ng && gid[i] < 0; g++)
            if (same_group(&scan->files[first[g]], &scan->files[i])) gid[i] = (int)g;
        if (gid[i] < 0) first[ng] = (int)i, gid[i] = (int)ng++;
        scan->series[gid[i]].nfiles++;
    }
    for (size_t g = 0; st == MD_OK && g < ng; g++) {
        scan->series[g].files = malloc((size_t)scan->series[g].nfiles * sizeof(int));
        if (!scan->series[g].files) st = md_error(err, MD_ENOMEM, "out of memory grouping files");
        scan->series[g].nfiles = 0;
        scan->nseries = g + 1;
    }
    for (size_t i = 0; st == MD_OK && i < nf; i++) {
        MdDicomSeries *s = &scan->series[gid[i]];
        s->files[s->nfiles++] = (int)i;
    }
    free(gid), free(first);
    if (st != MD_OK) return st;
    for (size_t g = 0; g < scan->nseries; g++) finish_group(scan, g);
    for (size_t g = 0; g < scan->nseries; g++) {
        int n = 0;
        for (size_t h = 0; h < scan->nseries; h++)
            n += !strcmp(scan->series[h].uid, scan->series[g].uid);
        scan->series[g].nsplit = n;
    }
    return MD_OK;
}

/* 1 when the meta group at the start of path names the DICOMDIR SOP class:
 * a damaged DICOMDIR is an index, not a damaged image. */
static int is_dicomdir(const char *path)
{
    static const char uid[] = "1.2.840.10008.1.3.10";
    unsigned char b[512];
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    size_t n = fread(b, 1, sizeof b, fp);
    fclose(fp);
    for (size_t i = 0; i + sizeof uid <= n; i++) { /* the whole UID, not a longer one */
        unsigned char next = b[i + sizeof uid - 1];
        if (!memcmp(b + i, uid, sizeof uid - 1) && next != '.' && (next < '0' || next > '9'))
            return 1;
    }
    return 0;
}

/* Reads one header into f: 1 for an image, 0 when the file is not a DICOM
 * image, -1 when it starts like DICOM but is damaged (err says why). */
static int read_one(const char *path, MdDicomFile *f, uint8_t **buf, size_t *cap, MdError *err)
{
    MdDcm d;
    if (md_dcm_load_into(path, 1, &d, buf, cap, err) != MD_OK)
        return md_dicom_is_candidate(path) && !is_dicomdir(path) ? -1 : 0;
    int r = file_info(&d, f, err);
    md_dcm_free(&d);
    if (r == 0) md_error(err, MD_EFORMAT, "the file holds no image (no Pixel Data)");
    return r;
}

/* Moves the paths of files that are not images (ok 0) into
 * scan->skipped_paths and the damaged ones (ok -1, why[i]) into
 * scan->damaged; takes both strings. */
static MdStatus sort_out(MdDicomScan *scan, char **paths, char **why, const signed char *ok,
                         size_t n, MdError *err)
{
    size_t nskip = 0, ndam = 0;
    for (size_t i = 0; i < n; i++) nskip += ok[i] == 0, ndam += ok[i] < 0;
    scan->skipped_paths = calloc(nskip ? nskip : 1, sizeof *scan->skipped_paths);
    scan->damaged = calloc(ndam ? ndam : 1, sizeof *scan->damaged);
    if (!scan->skipped_paths || !scan->damaged)
        return md_error(err, MD_ENOMEM, "out of memory scanning files");
    for (size_t i = 0; i < n; i++) {
        if (ok[i] > 0) {
            scan->files[scan->nfiles] = scan->files[i];
            scan->files[scan->nfiles++].path = paths[i];
        } else if (ok[i] == 0) {
            scan->skipped_paths[scan->skipped++] = paths[i];
        } else {
            scan->damaged[scan->ndamaged++] = (MdDicomDamaged){paths[i], why[i]};
            why[i] = NULL;
        }
        paths[i] = NULL;
    }
    return MD_OK;
}

/* Reads the headers of paths into scan->files (on all threads: a study tree
 * may hold many thousand files), keeping file order; a folder scan lists
 * what is not a DICOM image and what is damaged, a single file must be an
 * image. Takes the strings of paths. */
static MdStatus read_headers(MdDicomScan *scan, char **paths, size_t n, int single,
                             MdDicomProgress prog, void *ud, MdError *err)
{
    scan->files = calloc(n ? n : 1, sizeof *scan->files);
    signed char *ok = calloc(n ? n : 1, 1);
    char **why = calloc(n ? n : 1, sizeof *why);
    MdStatus st = MD_OK;
    if (!scan->files || !ok || !why) st = md_error(err, MD_ENOMEM, "out of memory scanning files");
    if (st == MD_OK && single) {
        uint8_t *buf = NULL;
        size_t cap = 0;
        ok[0] = (signed char)read_one(paths[0], &scan->files[0], &buf, &cap, err);
        free(buf);
        if (ok[0] <= 0) st = MD_EFORMAT; /* err holds read_one's message */
    }
    int fail = MD_OK;
    /* batches, so that progress is reported (and may cancel) from this thread
     * between parallel regions */
    for (size_t b0 = 0; st == MD_OK && !single && b0 < n; b0 += SCAN_BATCH) {
        size_t b1 = n - b0 > SCAN_BATCH ? b0 + SCAN_BATCH : n;
#pragma omp parallel num_threads(md_threads()) if (b1 - b0 > 16)
        {
            uint8_t *buf = NULL;
            size_t cap = 0;
            MdError e2;
#pragma omp for schedule(dynamic, 16)
            for (size_t i = b0; i < b1; i++) {
                ok[i] = (signed char)read_one(paths[i], &scan->files[i], &buf, &cap, &e2);
                if (ok[i] < 0 && !(why[i] = strdup(e2.msg))) md_par_fail(&fail, MD_ENOMEM);
            }
            free(buf);
        }
        if (fail) st = md_error(err, MD_ENOMEM, "out of memory scanning files");
        if (st == MD_OK && (md_cancel_requested() || (prog && prog(ud, b1, n))))
            st = md_error(err, MD_ECANCELLED, "interrupted");
    }
    if (st == MD_OK) st = sort_out(scan, paths, why, ok, n, err);
    for (size_t i = 0; i < n; i++) free(why ? why[i] : NULL);
    free(why);
    free(ok);
    return st;
}

/* Reads the headers of ps (sorted here), then groups; frees ps's strings. */
static MdStatus scan_paths(Paths *ps, int single, int recursive, MdDicomProgress prog, void *ud,
                           MdDicomScan *scan, MdError *err)
{
    MdStatus st = MD_OK;
    if (ps->n > 1) qsort(ps->p, ps->n, sizeof *ps->p, cmp_str);
    st = read_headers(scan, ps->p, ps->n, single, prog, ud, err);
    for (size_t i = 0; i < ps->n; i++) free(ps->p[i]);
    free(ps->p);
    if (st == MD_OK && scan->nfiles == 0 && scan->ndamaged > 0)
        st = md_error(err, MD_EFORMAT, "no readable DICOM image: %s is damaged: %s",
                      scan->damaged[0].path, scan->damaged[0].why);
    else if (st == MD_OK && scan->nfiles == 0)
        st =
            md_error(err, MD_EFORMAT, "no DICOM image found (%zu files looked at%s)", scan->skipped,
                     recursive ? "" : "; sub-folders are scanned with recursive=true");
    if (st == MD_OK) st = group(scan, err);
    return st;
}

MdStatus md_dicom_scan(const char *path, int recursive, MdDicomScan *scan, MdError *err)
{
    return md_dicom_scan_ex(path, recursive, NULL, NULL, scan, err);
}

MdStatus md_dicom_scan_ex(const char *path, int recursive, MdDicomProgress prog, void *ud,
                          MdDicomScan *scan, MdError *err)
{
    memset(scan, 0, sizeof *scan);
    Paths ps = {0};
    struct stat sb;
    MdStatus st;
    int single = 0;
    if (stat(path, &sb) != 0) {
        st = md_error(err, MD_EIO, "no such file or folder");
    } else if (S_ISDIR(sb.st_mode)) {
        Visited vs = {0};
        st = visit(&vs, sb.st_dev, sb.st_ino) < 0
                 ? md_error(err, MD_ENOMEM, "out of memory listing files")
                 : list_dir(path, recursive, 0, &vs, &ps, err);
        free(vs.dev), free(vs.ino);
    } else {
        single = 1;
        st = add_path(&ps, path, err);
    }
    if (st != MD_OK) {
        for (size_t i = 0; i < ps.n; i++) free(ps.p[i]);
        free(ps.p);
        return st;
    }
    return scan_paths(&ps, single, recursive, prog, ud, scan, err);
}

MdStatus md_dicom_scan_files(const char *const *paths, size_t n, MdDicomScan *scan, MdError *err)
{
    memset(scan, 0, sizeof *scan);
    Paths ps = {0};
    MdStatus st = MD_OK;
    for (size_t i = 0; i < n && st == MD_OK; i++) st = add_path(&ps, paths[i], err);
    if (st != MD_OK) {
        for (size_t i = 0; i < ps.n; i++) free(ps.p[i]);
        free(ps.p);
        return st;
    }
    return scan_paths(&ps, n == 1, 1, NULL, NULL, scan, err);
}

void md_dicom_scan_free(MdDicomScan *scan)
{
    for (size_t i = 0; i < scan->nfiles; i++) free(scan->files[i].path);
    for (size_t i = 0; i < scan->nseries; i++) free(scan->series[i].files);
    for (size_t i = 0; i < scan->skipped; i++) free(scan->skipped_paths[i]);
    for (size_t i = 0; i < scan->ndamaged; i++) free(scan->damaged[i].path), free(scan->damaged[i].why);
    free(scan->skipped_paths);
    free(scan->damaged);
    free(scan->files);
    free(scan->series);
    memset(scan, 0, sizeof *scan);
}
