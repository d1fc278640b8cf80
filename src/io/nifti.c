/* NIfTI-1/2 reading and writing, .nii and .nii.gz: file access, voxel
 * conversion (byte swap, 64-bit integers, scl_slope/scl_inter), geometry and
 * metadata. The header layout, datatype table and affine rules are in
 * nifti_header.c; gzip is in gz.c. The .hdr/.img pair form (magic "ni1")
 * is read and written uncompressed. */
#include "nifti.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/geom.h"
#include "../core/par.h"
#include "atomicfile.h"
#include "gz.h"
#include "nifti_header.h"
#include "rawio.h"


/* ---- file access ------------------------------------------------------ */

/* Reads up to n bytes at off; *got says how many there were. */
static MdStatus pread_all(int fd, void *p, size_t n, int64_t off, size_t *got, MdError *err)
{
    errno = 0;
    *got = n >= ((size_t)32 << 20) ? md_pread_array(fd, p, n, (off_t)off)
                                   : md_pread_full(fd, p, n, (off_t)off);
    if (*got < n && errno != 0) return md_error(err, MD_EIO, "read failed (%s)", strerror(errno));
    return MD_OK;
}

static MdStatus meta_fail(MdError *err)
{
    return md_error(err, MD_ENOMEM, "out of memory storing metadata");
}

/* ---- header -> volume ------------------------------------------------- */

/* Sets out's dtype and dims from h and computes the bytes of voxel data on
 * disk; fails on an unsupported datatype or dims whose size overflows. */
static MdStatus plan_volume(const MdNiftiHeader *h, MdVolume *out, size_t *nbytes, MdError *err)
{
    MdDtype t;
    MdStatus st = md_nifti_type_to_dtype(h->datatype, &t, err);
    if (st != MD_OK) return st;
    int nd = h->dim[0] > 4 ? 4 : (int)h->dim[0];
    int64_t dim[4] = {1, 1, 1, 1};
    for (int i = 0; i < nd; i++) dim[i] = h->dim[i + 1];
    if (nd == 1) nd = 2; /* a 1-D file becomes one row */
    size_t n = md_nifti_type_size(h->datatype);
    for (int i = 0; i < nd; i++)
        if (md_checked_mul(&n, n, (size_t)dim[i], NULL) != MD_OK || n > (size_t)INT64_MAX / 2)
            return md_error(err, MD_ETOOBIG,
                            "dimensions %lld x %lld x %lld x %lld of %s overflow the address space",
                            (long long)dim[0], (long long)dim[1], (long long)dim[2],
                            (long long)dim[3], md_nifti_type_name(h->datatype));
    md_volume_init(out, t, nd, dim);
    *nbytes = n;
    return MD_OK;
}

static MdStatus short_data(const MdNiftiHeader *h, size_t nbytes, size_t have, const char *what,
                           MdError *err)
{
    return md_error(err, MD_EFORMAT, "data needs %zu bytes after offset %lld, %s %zu", nbytes,
                    (long long)h->vox_offset, what, have);
}

/* ---- voxel conversion ------------------------------------------------- */

/* int64/uint64 -> float64 in place (same width), as get_fdata's cast. */
static void int64_to_double(void *data, size_t count, int is_signed)
{
    int64_t n = (int64_t)count;
    #pragma omp parallel for schedule(static) if (md_par_worth((double)n))
    for (int64_t i = 0; i < n; i++) {
        uint64_t u;
        memcpy(&u, (char *)data + 8 * i, 8);
        double d = is_signed ? (double)(int64_t)u : (double)u;
        memcpy((char *)data + 8 * i, &d, 8);
    }
}

/* The type scaled values are stored in. nibabel's get_fdata gives float64
 * x*slope+inter computed in double; float32 holds exactly the same values
 * when the stored type is an integer of <= 16 bits, slope and inter are
 * integers, and every result is an integer of magnitude <= 2^24. */
static MdDtype scaled_type(MdDtype t, double slope, double inter)
{
    if (t != MD_UINT8 && t != MD_INT8 && t != MD_UINT16 && t != MD_INT16) return MD_FLOAT64;
    if (slope != floor(slope) || inter != floor(inter)) return MD_FLOAT64;
    double big = fmax(fabs(md_dtype_min(t)), fabs(md_dtype_max(t)));
    return fabs(slope) * big + fabs(inter) <= 16777216.0 ? MD_FLOAT32 : MD_FLOAT64;
}

/* Replaces v's voxels by x*slope+inter (in double, as nibabel: multiply only
 * when slope != 1, add only when inter != 0). */
static MdStatus apply_scaling(MdVolume *v, double slope, double inter, MdError *err)
{
    MdVolume w = *v;
    w.buf = NULL;
    w.offset = 0;
    w.dtype = scaled_type(v->dtype, slope, inter);
    MdStatus st = md_volume_alloc(&w, 0, 0, err);
    if (st != MD_OK) return st;
    const void *src = md_volume_data(v);
    void *dst = md_volume_data(&w);
    int64_t n = (int64_t)md_volume_count(v);
    int mul = slope != 1.0, add = inter != 0.0, f32 = w.dtype == MD_FLOAT32;
#define SCALE_LOOP(ctype)                                                 \
    do {                                                                  \
        const ctype *s = src;                                             \
        _Pragma("omp parallel for schedule(static) if (md_par_worth((double)n))") \
        for (int64_t i = 0; i < n; i++) {                                 \
            double y = (double)s[i];                                      \
            if (mul) y *= slope;                                          \
            if (add) y += inter;                                          \
            if (f32)                                                      \
                ((float *)dst)[i] = (float)y;                             \
            else                                                          \
                ((double *)dst)[i] = y;                                   \
        }                                                                 \
    } while (0)
    switch (v->dtype) {
#define MD_X(tag, name, ctype, isf) \
    case MD_##tag: SCALE_LOOP(ctype); break;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: break;
    }
#undef SCALE_LOOP
    md_volume_release(v);
    *v = w;
    return MD_OK;
}

/* Byte order, 64-bit integers, then scaling (unless raw); *scaled says
 * whether values changed. */
static MdStatus convert_voxels(const MdNiftiHeader *h, MdVolume *v, int raw, int *scaled,
                               MdError *err)
{
    *scaled = 0;
    size_t esize = md_nifti_type_size(h->datatype), n = md_volume_count(v);
    void *data = md_volume_data(v);
    if (h->swapped && esize > 1) md_swap_bytes(data, n, esize);
    if (h->datatype == 1024 || h->datatype == 1280) int64_to_double(data, n, h->datatype == 1024);
    double slope = h->scl_slope, inter = h->scl_inter;
    /* nibabel: slope 0 or not finite means unscaled; (1, 0) changes nothing. */
    if (raw || slope == 0 || !isfinite(slope) || (slope == 1 && inter == 0)) return MD_OK;
    if (!isfinite(inter))
        return md_error(err, MD_EFORMAT, "scl_slope is %g but scl_inter is %g (not finite)", slope,
                        inter);
    *scaled = 1;
    return apply_scaling(v, slope, inter, err);
}

/* ---- geometry and metadata ------------------------------------------- */

static double unit_to_mm(int xyzt_units)
{
    switch (xyzt_units & 7) {
    case 1: return 1000.0; /* meters */
    case 3: return 0.001;  /* microns */
    default: return 1.0;   /* mm, or unknown: taken as mm like every reader */
    }
}

static const char *time_unit_name(int xyzt_units)
{
    switch (xyzt_units & 0x38) {
    case 8: return "s";
    case 16: return "ms";
    case 24: return "us";
    case 32: return "Hz";
    case 40: return "ppm";
    case 48: return "rad/s";
    default: return "unknown";
    }
}

/* RAS affine (in the file's units) -> LPS mm geometry of v. A degenerate
 * sform (zero column, NaN) falls back to the qform, then to pixdim. */
static MdStatus set_geometry(const MdNiftiHeader *h, MdVolume *v, const char **source,
                             MdError *err)
{
    double A[16], scale = unit_to_mm(h->xyzt_units);
    md_nifti_header_affine(h, A, source);
    for (int attempt = 0; attempt < 3; attempt++) {
        double L[16];
        int finite = 1;
        for (int i = 0; i < 16; i++) {
            L[i] = i < 12 ? A[i] * scale * (i < 8 ? -1 : 1) : A[i];
            if (L[i] == 0) L[i] = 0; /* no -0 in the geometry */
            finite &= isfinite(L[i]);
        }
        if (finite && md_geom_from_affine(v, L, NULL) == MD_OK) break;
        if (attempt == 2) return md_error(err, MD_EFORMAT, "no usable affine in the header");
        if (strcmp(*source, "sform") == 0 && h->qform_code > 0 && h->qform_code <= 5) {
            md_nifti_qform_affine(h, A);
            *source = "qform (sform unusable)";
        } else {
            md_nifti_base_affine(h, A);
            *source = "pixdim (sform/qform unusable)";
        }
    }
    if (h->dim[0] >= 4) v->tstep = h->pixdim[4];
    return MD_OK;
}

static MdStatus set_meta(const MdNiftiHeader *h, const char *source, int raw, int scaled,
                         MdMeta *m, MdError *err)
{
    static const char *const su[] = {"unknown (taken as mm)", "m (converted to mm)", "mm",
                                     "um (converted to mm)"};
    int bad = 0;
    bad |= md_meta_set(m, "format", h->version == 1 ? "NIfTI-1" : "NIfTI-2");
    bad |= md_meta_set(m, "datatype", md_nifti_type_name(h->datatype));
    bad |= md_meta_set(m, "byte_order", h->swapped ? "swapped" : "native");
    bad |= md_meta_set(m, "descrip", h->descrip);
    bad |= md_meta_setf(m, "intent_code", "%d", h->intent_code);
    if (h->intent_name[0]) bad |= md_meta_set(m, "intent_name", h->intent_name);
    bad |= md_meta_setf(m, "qform_code", "%d", h->qform_code);
    bad |= md_meta_setf(m, "sform_code", "%d", h->sform_code);
    bad |= md_meta_set(m, "affine_source", source);
    bad |= md_meta_setf(m, "scl_slope", "%.17g", h->scl_slope);
    bad |= md_meta_setf(m, "scl_inter", "%.17g", h->scl_inter);
    bad |= md_meta_set(m, "scaled", scaled ? "yes" : raw ? "no (raw)" : "no");
    bad |= md_meta_setf(m, "xyzt_units", "%d", h->xyzt_units);
    bad |= md_meta_set(m, "spatial_unit", (h->xyzt_units & 7) <= 3 ? su[h->xyzt_units & 7] : su[0]);
    bad |= md_meta_set(m, "time_unit", time_unit_name(h->xyzt_units));
    bad |= md_meta_setf(m, "vox_offset", "%lld", (long long)h->vox_offset);
    return bad ? meta_fail(err) : MD_OK;
}

/* ---- reading ---------------------------------------------------------- */

static MdStatus read_plain(int fd, int64_t fsize, const unsigned char *head, size_t headn,
                           MdNiftiHeader *h, MdVolume *out, MdError *err)
{
    size_t nbytes, got;
    MdStatus st = md_nifti_header_decode(head, headn, h, err);
    if (st == MD_OK) st = plan_volume(h, out, &nbytes, err);
    if (st != MD_OK) return st;
    /* Checked before allocating: a small file cannot claim a huge volume. */
    if (h->vox_offset > fsize || (uint64_t)(fsize - h->vox_offset) < nbytes)
        return short_data(h, nbytes, (size_t)fsize, "file has", err);
    if ((st = md_volume_alloc(out, 0, 0, err)) != MD_OK) return st;
    if ((st = pread_all(fd, md_volume_data(out), nbytes, h->vox_offset, &got, err)) != MD_OK)
        return st;
    if (got < nbytes) return short_data(h, nbytes, (size_t)h->vox_offset + got, "file has", err);
    return MD_OK;
}

/* The compressed file, mapped (no copy) or, failing that, read. */
typedef struct Slurp {
    unsigned char *p;
    size_t n;
    int mapped;
} Slurp;

static MdStatus slurp_open(Slurp *s, int fd, size_t n, MdError *err)
{
    s->n = n;
    s->mapped = 0;
    s->p = n ? mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    if (s->p != MAP_FAILED) {
        s->mapped = 1;
        return MD_OK;
    }
    size_t got;
    if (!(s->p = malloc(n ? n : 1)))
        return md_error(err, MD_ENOMEM, "out of memory reading %zu compressed bytes", n);
    MdStatus st = pread_all(fd, s->p, n, 0, &got, err);
    if (st == MD_OK && got < n) st = md_error(err, MD_EIO, "file shrank while being read");
    return st;
}

static void slurp_close(Slurp *s)
{
    if (s->mapped)
        munmap(s->p, s->n);
    else
        free(s->p);
    s->p = NULL;
}

static MdStatus read_gz(int fd, int64_t fsize, MdNiftiHeader *h, MdVolume *out, MdError *err)
{
    size_t n = (size_t)fsize, got, nbytes;
    unsigned char head[MD_NIFTI_PEEK];
    Slurp comp;
    MdStatus st = slurp_open(&comp, fd, n, err);
    if (st == MD_OK) st = md_gz_peek(comp.p, n, head, sizeof head, &got, err);
    if (st == MD_OK) st = md_nifti_header_decode(head, got, h, err);
    if (st == MD_OK) st = plan_volume(h, out, &nbytes, err);
    if (st != MD_OK) goto out;
    size_t off = (size_t)h->vox_offset;
    if (off + nbytes > md_gz_max_inflated(n) || off + nbytes < off) {
        st = md_error(err, MD_EFORMAT,
                      "data needs %zu bytes after offset %zu, more than %zu bytes of gzip data "
                      "can hold",
                      nbytes, off, n);
        goto out;
    }
    /* Header, extensions and voxels inflate into one buffer in one call;
     * voxel 0 lands at a 16-byte aligned offset. */
    size_t extra = (off + 15) & ~(size_t)15;
    if ((st = md_volume_alloc(out, 0, extra, err)) != MD_OK) goto out;
    unsigned char *dst = (unsigned char *)out->buf->data + (extra - off);
    if ((st = md_gz_inflate(comp.p, n, dst, off + nbytes, &got, err)) != MD_OK) goto out;
    if (got < off + nbytes)
        st = short_data(h, nbytes, got, "the decompressed file has", err);
out:
    if (comp.p) slurp_close(&comp);
    return st;
}

/* ---- .hdr/.img pairs ---------------------------------------------------- */

/* 1 when path names one file of a pair (.hdr or .img, any case). */
static int is_pair_path(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && (strcasecmp(path + n - 4, ".hdr") == 0 || strcasecmp(path + n - 4, ".img") == 0);
}

/* The path of the pair's other file, new (same case as the suffix given). */
static char *pair_partner(const char *path, const char *suffix)
{
    size_t n = strlen(path);
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, path, n + 1);
    int upper = path[n - 3] >= 'A' && path[n - 3] <= 'Z';
    for (int i = 0; i < 3; i++) p[n - 3 + i] = (char)(upper ? suffix[i] - 32 : suffix[i]);
    return p;
}

/* Header from hdr, voxels from img at vox_offset (same checks as .nii). */
static MdStatus read_pair(const char *path, MdNiftiHeader *h, MdVolume *out, MdError *err)
{
    char *hdr = pair_partner(path, "hdr"), *img = pair_partner(path, "img");
    unsigned char head[MD_NIFTI_PEEK];
    size_t headn = 0, nbytes, got;
    struct stat sb;
    MdStatus st = MD_OK;
    int fd = -1;
    if (!hdr || !img) {
        st = md_error(err, MD_ENOMEM, "out of memory");
        goto out;
    }
    fd = open(hdr, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        st = md_error(err, MD_EIO, "cannot open the pair's header %s (%s)", hdr, strerror(errno));
        goto out;
    }
    st = pread_all(fd, head, sizeof head, 0, &headn, err);
    close(fd);
    if (st == MD_OK) st = md_nifti_header_decode_pair(head, headn, h, err);
    if (st == MD_OK) st = plan_volume(h, out, &nbytes, err);
    if (st != MD_OK) goto out;
    fd = open(img, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        st = md_error(err, MD_EIO, "cannot open the pair's image %s (%s)", img, strerror(errno));
        goto out;
    }
    if (h->vox_offset > (int64_t)sb.st_size || (uint64_t)(sb.st_size - h->vox_offset) < nbytes) {
        st = short_data(h, nbytes, (size_t)sb.st_size, "the .img file has", err);
        goto out;
    }
    if ((st = md_volume_alloc(out, 0, 0, err)) != MD_OK) goto out;
    st = pread_all(fd, md_volume_data(out), nbytes, h->vox_offset, &got, err);
    if (st == MD_OK && got < nbytes)
        st = short_data(h, nbytes, (size_t)h->vox_offset + got, "the .img file has", err);
out:
    if (fd >= 0) close(fd);
    free(hdr);
    free(img);
    return st;
}

MdStatus md_nifti_read(const char *path, const MdReadOpts *opts, MdVolume *out, MdMeta *meta,
                       MdError *err)
{
    MdNiftiHeader h;
    struct stat sb;
    unsigned char head[MD_NIFTI_PEEK];
    size_t headn = 0;
    const char *source = "";
    int raw = opts && opts->raw, scaled = 0;
    MdStatus st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        st = md_error(err, MD_EIO, "cannot open (%s)", strerror(errno));
        goto fail;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = md_error(err, MD_EIO, "not a regular file");
        goto fail;
    }
    /* The content decides, not the suffix: a .nii.gz that is not gzip (or a
     * gzip .nii) is still read. */
    if ((st = pread_all(fd, head, sizeof head, 0, &headn, err)) != MD_OK) goto fail;
    if (is_pair_path(path))
        st = read_pair(path, &h, out, err);
    else if (md_gz_is_gzip(head, headn))
        st = read_gz(fd, (int64_t)sb.st_size, &h, out, err);
    else
        st = read_plain(fd, (int64_t)sb.st_size, head, headn, &h, out, err);
    if (st == MD_OK) st = convert_voxels(&h, out, raw, &scaled, err);
    if (st == MD_OK) st = set_geometry(&h, out, &source, err);
    if (st == MD_OK && meta) st = set_meta(&h, source, raw, scaled, meta, err);
    if (st != MD_OK) goto fail;
    close(fd);
    return MD_OK;
fail:
    if (fd >= 0) close(fd);
    md_volume_release(out);
    md_error_prefix(err, path);
    return st;
}

/* ---- writing ---------------------------------------------------------- */

static MdStatus check_writable(const MdVolume *v, const MdWriteOpts *opts, MdError *err)
{
    if (!v->buf) return md_error(err, MD_EINVAL, "attempt to use a released volume");
    if (v->ndim < 1 || v->ndim > 4)
        return md_error(err, MD_EINVAL, "cannot write %d dimensions (1 to 4)", v->ndim);
    for (int i = 0; i < 3; i++) {
        if (!(v->spacing[i] > 0) || !isfinite(v->spacing[i]))
            return md_error(err, MD_EINVAL, "spacing must be finite and > 0 (got %g on axis %d)",
                            v->spacing[i], i + 1);
        if (!isfinite(v->origin[i]))
            return md_error(err, MD_EINVAL, "origin is not finite (axis %d)", i + 1);
    }
    for (int i = 0; i < 9; i++)
        if (!isfinite(v->direction[i]))
            return md_error(err, MD_EINVAL, "direction matrix is not finite");
    if (opts->level > 12)
        return md_error(err, MD_EINVAL, "compression level must be 0 to 12 (got %d)", opts->level);
    return MD_OK;
}

static void header_for(const MdVolume *v, int version, MdNiftiHeader *h)
{
    memset(h, 0, sizeof *h);
    h->version = version;
    h->hdr_size = version == 1 ? MD_NIFTI1_SIZE : MD_NIFTI2_SIZE;
    h->datatype = md_nifti_type_from_dtype(v->dtype);
    h->dim[0] = v->ndim;
    for (int i = 1; i < 8; i++) {
        h->dim[i] = i <= v->ndim ? v->dim[i - 1] : 1;
        h->pixdim[i] = 1;
    }
    if (v->ndim == 4 && isfinite(v->tstep)) h->pixdim[4] = v->tstep;
    /* Header + 4-byte extension flag, rounded up to 16 bytes. */
    h->vox_offset = (h->hdr_size + 4 + 15) / 16 * 16;
    h->scl_slope = 1;
    h->scl_inter = 0;
    h->xyzt_units = 2 | (v->ndim == 4 ? 8 : 0); /* mm, seconds */
    strcpy(h->descrip, "medula");
    md_nifti_header_set_geometry(h, v);
}

static int is_gz_path(const char *path)
{
    size_t n = strlen(path);
    return n >= 3 && strcasecmp(path + n - 3, ".gz") == 0;
}

/* A pair: the voxels go to the .img (vox_offset 0), the header (magic
 * "ni1") to the .hdr; both through temporaries, the .img renamed first so
 * that a header never names missing voxels. */
static MdStatus write_pair(const char *path, const MdVolume *v, MdNiftiHeader *h, MdError *err)
{
    char *hdr = pair_partner(path, "hdr"), *img = pair_partner(path, "img");
    MdAtomicFile fh, fi;
    memset(&fh, 0, sizeof fh);
    memset(&fi, 0, sizeof fi);
    MdStatus st = hdr && img ? MD_OK : md_error(err, MD_ENOMEM, "out of memory");
    unsigned char hb[MD_NIFTI_PEEK + 16];
    h->vox_offset = 0;
    md_nifti_header_encode(h, hb);
    md_nifti_header_set_pair_magic(h, hb);
    if (st == MD_OK) st = md_atomic_open(&fi, img, err);
    if (st == MD_OK) st = md_atomic_write(&fi, md_volume_data(v), md_volume_nbytes(v), err);
    if (st == MD_OK) st = md_atomic_open(&fh, hdr, err);
    if (st == MD_OK) st = md_atomic_write(&fh, hb, (size_t)h->hdr_size + 4, err);
    if (st == MD_OK) st = md_atomic_commit(&fi, err);
    if (st == MD_OK) st = md_atomic_commit(&fh, err);
    md_atomic_abort(&fi);
    md_atomic_abort(&fh);
    free(hdr);
    free(img);
    return st;
}

MdStatus md_nifti_write(const char *path, const MdVolume *v, const MdWriteOpts *opts,
                        MdError *err)
{
    static const MdWriteOpts defaults = {-1, 0, 0};
    if (!opts) opts = &defaults;
    MdAtomicFile f;
    memset(&f, 0, sizeof f);
    MdStatus st = check_writable(v, opts, err);
    if (st != MD_OK) goto fail;
    int version = opts->nifti2 ? 2 : 1;
    for (int i = 0; i < v->ndim; i++)
        if (v->dim[i] > 32767) version = 2; /* NIfTI-1 dims are int16 */
    MdNiftiHeader h;
    header_for(v, version, &h);
    if (is_pair_path(path)) {
        st = write_pair(path, v, &h, err);
        if (st == MD_OK) return MD_OK;
        goto fail;
    }
    unsigned char hb[MD_NIFTI_PEEK + 16];
    md_nifti_header_encode(&h, hb);
    size_t hlen = (size_t)h.vox_offset;
    memset(hb + h.hdr_size + 4, 0, hlen - (size_t)h.hdr_size - 4);
    if ((st = md_atomic_open(&f, path, err)) != MD_OK) goto fail;
    if (is_gz_path(path)) {
        MdGzPart parts[2] = {{hb, hlen}, {md_volume_data(v), md_volume_nbytes(v)}};
        st = md_gz_write(&f, parts, 2, opts->level, err);
    } else {
        st = md_atomic_write(&f, hb, hlen, err);
        if (st == MD_OK) st = md_atomic_write(&f, md_volume_data(v), md_volume_nbytes(v), err);
    }
    if (st == MD_OK) st = md_atomic_commit(&f, err);
    if (st == MD_OK) return MD_OK;
fail:
    md_atomic_abort(&f);
    md_error_prefix(err, path);
    return st;
}
