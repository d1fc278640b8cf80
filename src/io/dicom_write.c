/* DICOM CT series writer: the file meta group, a dataset in explicit VR
 * little endian with its elements in tag order, and the pixel data. UIDs
 * are "2.25." followed by a 128-bit number drawn from the seed, so the same
 * call writes the same bytes. */
#include "dicom_write.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/rng.h"
#include "atomicfile.h"

#define CT_IMAGE_STORAGE "1.2.840.10008.5.1.4.1.1.2"
#define EXPLICIT_LE "1.2.840.10008.1.2.1"
#define IMPLEMENTATION_UID "2.25.296305713311931712843157335931232459311"

/* A growing byte buffer. */
typedef struct Buf {
    unsigned char *p;
    size_t n, cap;
    int oom;
} Buf;

static void put(Buf *b, const void *src, size_t n)
{
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + n) cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q, b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put16(Buf *b, unsigned v)
{
    unsigned char c[2] = {(unsigned char)(v & 255), (unsigned char)(v >> 8)};
    put(b, c, 2);
}

static void put32(Buf *b, uint32_t v)
{
    unsigned char c[4] = {(unsigned char)(v & 255), (unsigned char)(v >> 8 & 255), (unsigned char)(v >> 16 & 255),
                          (unsigned char)(v >> 24)};
    put(b, c, 4);
}

/* One element with a short (2-byte) length VR; the value padded to even
 * length with pad (space for text, NUL for UIDs). */
static void elem_short(Buf *b, unsigned group, unsigned el, const char *vr, const void *val, size_t n, char pad)
{
    put16(b, group), put16(b, el), put(b, vr, 2);
    put16(b, (unsigned)(n + (n & 1)));
    put(b, val, n);
    if (n & 1) put(b, &pad, 1);
}

static void elem_text(Buf *b, unsigned group, unsigned el, const char *vr, const char *s)
{
    elem_short(b, group, el, vr, s, strlen(s), strcmp(vr, "UI") == 0 ? '\0' : ' ');
}

static void elem_us(Buf *b, unsigned group, unsigned el, unsigned v)
{
    unsigned char c[2] = {(unsigned char)(v & 255), (unsigned char)(v >> 8)};
    elem_short(b, group, el, "US", c, 2, 0);
}

/* A long-length VR (OB, OW): 2 reserved bytes and a 4-byte length. */
static void elem_long(Buf *b, unsigned group, unsigned el, const char *vr, const void *val, uint32_t n)
{
    put16(b, group), put16(b, el), put(b, vr, 2), put16(b, 0), put32(b, n);
    put(b, val, n);
}

/* A decimal string of at most 16 characters for x (DS's limit). */
static void ds(char *out, double x)
{
    for (int prec = 10; prec > 0; prec--) {
        snprintf(out, 17, "%.*g", prec, x);
        char check[64];
        snprintf(check, sizeof check, "%.*g", prec, x);
        if (strcmp(check, out) == 0) return;
    }
}

/* "2.25.<decimal of a 128-bit value>" from two words of the stream. */
static void make_uid(char *out, uint64_t key, uint64_t index)
{
    uint64_t hi = md_rng_u64(key, 2 * index), lo = md_rng_u64(key, 2 * index + 1);
    /* decimal of hi:lo by repeated division by 10 */
    char digits[48];
    int n = 0;
    while (hi || lo) {
        unsigned __int128 v = ((unsigned __int128)hi << 64) | lo;
        digits[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
        hi = (uint64_t)(v >> 64), lo = (uint64_t)v;
    }
    if (n == 0) digits[n++] = '0';
    int k = sprintf(out, "2.25.");
    while (n) out[k++] = digits[--n];
    out[k] = 0;
}

static double slice_slope(const MdDicomWriteOpts *o, int64_t k) { return o->slope ? o->slope[k] : 1.0; }
static double slice_intercept(const MdDicomWriteOpts *o, int64_t k) { return o->intercept ? o->intercept[k] : -1024.0; }

/* The stored int16 values of slice k, checked. */
static MdStatus stored_slice(const MdVolume *v, int64_t k, double slope, double icpt, int16_t *dst, MdError *err)
{
    const size_t plane = (size_t)(v->dim[0] * v->dim[1]);
    const int isf = md_dtype_is_float(v->dtype);
    for (size_t i = 0; i < plane; i++) {
        double x = md_load(md_volume_data(v), v->dtype, (size_t)k * plane + i);
        double s = (x - icpt) / slope;
        double r = isf ? round(s) : s;
        if (!(r >= -32768 && r <= 32767) || (!isf && fabs(r - round(r)) > 1e-6 * fabs(r) + 1e-9))
            return md_error(err, MD_EINVAL,
                            "slice %lld: value %g does not store as int16 with slope %g and intercept %g",
                            (long long)k + 1, x, slope, icpt);
        dst[i] = (int16_t)round(r);
    }
    return MD_OK;
}

typedef struct Series {
    char study[68], series[68], frame[68];
    int64_t *instance; /* InstanceNumber of slice k */
} Series;

static void dataset(Buf *b, const MdVolume *v, const MdDicomWriteOpts *o, const Series *s, int64_t k,
                    const char *sop, const int16_t *px)
{
    char t[64], u[160];
    const double *d = v->direction;
    elem_text(b, 0x0008, 0x0008, "CS", "ORIGINAL\\PRIMARY\\AXIAL");
    elem_text(b, 0x0008, 0x0016, "UI", CT_IMAGE_STORAGE);
    elem_text(b, 0x0008, 0x0018, "UI", sop);
    elem_text(b, 0x0008, 0x0060, "CS", "CT");
    elem_text(b, 0x0008, 0x103E, "LO", o->description ? o->description : "medula");
    elem_text(b, 0x0010, 0x0010, "PN", o->patient_name ? o->patient_name : "Anonymous");
    elem_text(b, 0x0010, 0x0020, "LO", o->patient_id ? o->patient_id : "ANONYMOUS");
    ds(t, v->spacing[2]);
    elem_text(b, 0x0018, 0x0050, "DS", t);
    elem_text(b, 0x0020, 0x000D, "UI", s->study);
    elem_text(b, 0x0020, 0x000E, "UI", s->series);
    snprintf(t, sizeof t, "%d", o->series_number > 0 ? o->series_number : 1);
    elem_text(b, 0x0020, 0x0011, "IS", t);
    snprintf(t, sizeof t, "%lld", (long long)s->instance[k]);
    elem_text(b, 0x0020, 0x0013, "IS", t);
    double pos[3];
    for (int a = 0; a < 3; a++) pos[a] = v->origin[a] + (double)k * v->spacing[2] * d[a * 3 + 2];
    char p0[20], p1[20], p2[20];
    ds(p0, pos[0]), ds(p1, pos[1]), ds(p2, pos[2]);
    snprintf(u, sizeof u, "%s\\%s\\%s", p0, p1, p2);
    elem_text(b, 0x0020, 0x0032, "DS", u);
    char r[6][20];
    for (int a = 0; a < 3; a++) ds(r[a], d[a * 3 + 0]), ds(r[3 + a], d[a * 3 + 1]);
    snprintf(u, sizeof u, "%s\\%s\\%s\\%s\\%s\\%s", r[0], r[1], r[2], r[3], r[4], r[5]);
    elem_text(b, 0x0020, 0x0037, "DS", u);
    elem_text(b, 0x0020, 0x0052, "UI", s->frame);
    ds(p0, pos[2]);
    elem_text(b, 0x0020, 0x1041, "DS", p0); /* SliceLocation */
    elem_us(b, 0x0028, 0x0002, 1);
    elem_text(b, 0x0028, 0x0004, "CS", "MONOCHROME2");
    elem_us(b, 0x0028, 0x0010, (unsigned)v->dim[1]);
    elem_us(b, 0x0028, 0x0011, (unsigned)v->dim[0]);
    ds(p0, v->spacing[1]), ds(p1, v->spacing[0]); /* row spacing (y), then column spacing (x) */
    snprintf(u, sizeof u, "%s\\%s", p0, p1);
    elem_text(b, 0x0028, 0x0030, "DS", u);
    elem_us(b, 0x0028, 0x0100, 16);
    elem_us(b, 0x0028, 0x0101, 16);
    elem_us(b, 0x0028, 0x0102, 15);
    elem_us(b, 0x0028, 0x0103, 1);
    ds(t, slice_intercept(o, k));
    elem_text(b, 0x0028, 0x1052, "DS", t);
    ds(t, slice_slope(o, k));
    elem_text(b, 0x0028, 0x1053, "DS", t);
    elem_text(b, 0x0028, 0x1054, "LO", "HU");
    elem_long(b, 0x7FE0, 0x0010, "OW", px, (uint32_t)(v->dim[0] * v->dim[1] * 2));
}

static void meta_group(Buf *b, const char *sop)
{
    Buf g = {0};
    unsigned char version[2] = {0, 1};
    elem_long(&g, 0x0002, 0x0001, "OB", version, 2);
    elem_text(&g, 0x0002, 0x0002, "UI", CT_IMAGE_STORAGE);
    elem_text(&g, 0x0002, 0x0003, "UI", sop);
    elem_text(&g, 0x0002, 0x0010, "UI", EXPLICIT_LE);
    elem_text(&g, 0x0002, 0x0012, "UI", IMPLEMENTATION_UID);
    elem_text(&g, 0x0002, 0x0013, "SH", "MEDULA");
    unsigned char pre[128] = {0};
    put(b, pre, 128);
    put(b, "DICM", 4);
    unsigned char len[4] = {(unsigned char)(g.n & 255), (unsigned char)(g.n >> 8 & 255), (unsigned char)(g.n >> 16 & 255),
                            (unsigned char)(g.n >> 24)};
    elem_short(b, 0x0002, 0x0000, "UL", len, 4, 0);
    put(b, g.p, g.n);
    b->oom |= g.oom;
    free(g.p);
}

static MdStatus check(const MdVolume *v, const char *folder, const MdDicomWriteOpts *o, MdError *err)
{
    if (v->ndim > 3 && v->dim[3] > 1)
        return md_error(err, MD_EINVAL, "a DICOM series holds one 3-D volume (got %lld frames)", (long long)v->dim[3]);
    if (v->dim[0] > 65535 || v->dim[1] > 65535)
        return md_error(err, MD_EINVAL, "slices are at most 65535 x 65535 (got %lld x %lld)", (long long)v->dim[0],
                        (long long)v->dim[1]);
    if (v->dim[2] > 1000000) return md_error(err, MD_EINVAL, "too many slices (%lld)", (long long)v->dim[2]);
    for (int64_t k = 0; k < v->dim[2]; k++) {
        double s = slice_slope(o, k), c = slice_intercept(o, k);
        if (!(s != 0 && isfinite(s) && isfinite(c)))
            return md_error(err, MD_EINVAL, "slice %lld: slope must be finite and non-zero, intercept finite",
                            (long long)k + 1);
    }
    if (mkdir(folder, 0777) != 0 && errno != EEXIST)
        return md_error(err, MD_EIO, "%s: cannot create the folder (%s)", folder, strerror(errno));
    return MD_OK;
}

MdStatus md_dicom_write_series(const MdVolume *v, const char *folder, const MdDicomWriteOpts *o, int *count,
                               MdError *err)
{
    MdStatus st = check(v, folder, o, err);
    if (st != MD_OK) return st;
    const int64_t nz = v->dim[2];
    const size_t plane = (size_t)(v->dim[0] * v->dim[1]);
    const uint64_t key = md_rng_key(o->seed, 0xD1C0);
    Series s;
    make_uid(s.study, key, 0), make_uid(s.series, key, 1), make_uid(s.frame, key, 2);
    s.instance = malloc((size_t)nz * sizeof *s.instance);
    int16_t *px = malloc(plane * sizeof *px);
    char *path = malloc(strlen(folder) + 64);
    Buf b = {0};
    *count = 0;
    if (!s.instance || !px || !path) {
        st = md_error(err, MD_ENOMEM, "out of memory for a slice of %zu voxels", plane);
        goto done;
    }
    for (int64_t k = 0; k < nz; k++) s.instance[k] = k + 1;
    if (o->shuffle_instances) { /* Fisher-Yates from the seed's stream */
        uint64_t skey = md_rng_derive(key, 7);
        for (int64_t k = nz - 1; k > 0; k--) {
            int64_t j = (int64_t)md_rng_below(skey, (uint64_t)k, (uint64_t)k + 1), t = s.instance[k];
            s.instance[k] = s.instance[j], s.instance[j] = t;
        }
    }
    for (int64_t k = 0; k < nz && st == MD_OK; k++) {
        char sop[68];
        make_uid(sop, key, 16 + (uint64_t)k);
        st = stored_slice(v, k, slice_slope(o, k), slice_intercept(o, k), px, err);
        if (st != MD_OK) break;
        b.n = 0;
        meta_group(&b, sop);
        dataset(&b, v, o, &s, k, sop, px);
        if (b.oom) {
            st = md_error(err, MD_ENOMEM, "out of memory for a DICOM file");
            break;
        }
        if (o->random_names)
            sprintf(path, "%s/%016llx.dcm", folder, (unsigned long long)md_rng_u64(md_rng_derive(key, 9), (uint64_t)k));
        else
            sprintf(path, "%s/IM%05lld.dcm", folder, (long long)k + 1);
        MdAtomicFile f = {0};
        if ((st = md_atomic_open(&f, path, err)) == MD_OK && (st = md_atomic_write(&f, b.p, b.n, err)) == MD_OK)
            st = md_atomic_commit(&f, err);
        if (st != MD_OK) md_atomic_abort(&f);
        else (*count)++;
    }
done:
    free(b.p);
    free(s.instance);
    free(px);
    free(path);
    return st;
}
