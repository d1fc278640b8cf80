/* NumPy .npy reader and writer. The array (nz, ny, nx) in C order is our
 * x-fastest buffer byte for byte, so C-order files are read straight into the
 * volume; Fortran-order files are transposed. No geometry: npy has none.
 * Structured, object, complex and string dtypes are refused. */
#include "npy.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/ctx.h"
#include "../core/par.h"
#include "atomicfile.h"
#include "rawio.h"

#define MAGIC "\x93NUMPY"
#define MAGIC_LEN 6
/* numpy aligns the data to 64 bytes and leaves room for the growing axis to
 * reach 21 digits (GROWTH_AXIS_MAX_DIGITS) so headers can be edited in place. */
#define ALIGN 64
#define GROWTH_DIGITS 21
/* A header longer than this is not one numpy would write for our arrays. */
#define MAX_HEADER (1 << 20)
#define MAX_NDIM 4

/* How the stored elements become voxels. */
typedef enum { KIND_PLAIN, KIND_BOOL, KIND_I64, KIND_U64 } Kind;

typedef struct {
    char descr[32];
    int fortran;
    int ndim;
    int64_t shape[MAX_NDIM];
    MdDtype dtype;
    Kind kind;
    size_t esize; /* element size in the file (equal to the voxel size) */
    int swap;
} NpyHeader;

/* ---- header dict parsing: {'descr': '<i2', 'fortran_order': False, 'shape': (3, 4), } ---- */

typedef struct {
    const char *s, *p;
    MdError *err;
} Parser;

static MdStatus bad(Parser *ps, const char *what)
{
    return md_error(ps->err, MD_EFORMAT, "bad .npy header: expected %s at character %d of \"%.120s\"",
                    what, (int)(ps->p - ps->s) + 1, ps->s);
}

static void skip_ws(Parser *ps)
{
    while (isspace((unsigned char)*ps->p)) ps->p++;
}

/* A Python string literal (' or "), without escapes, into out. */
static MdStatus parse_str(Parser *ps, char *out, size_t cap)
{
    char q = *ps->p;
    if (q != '\'' && q != '"') return bad(ps, "a quoted string");
    const char *end = strchr(ps->p + 1, q);
    if (!end || memchr(ps->p + 1, '\\', (size_t)(end - ps->p - 1)))
        return bad(ps, "a simple quoted string");
    size_t n = (size_t)(end - ps->p - 1);
    if (n >= cap) return bad(ps, "a shorter string");
    memcpy(out, ps->p + 1, n);
    out[n] = '\0';
    ps->p = end + 1;
    return MD_OK;
}

static MdStatus parse_bool(Parser *ps, int *out)
{
    if (!strncmp(ps->p, "True", 4)) *out = 1;
    else if (!strncmp(ps->p, "False", 5)) *out = 0;
    else return bad(ps, "True or False");
    ps->p += *out ? 4 : 5;
    return MD_OK;
}

/* "(a, b, c)" with an optional trailing comma; Python 2 "10L" accepted. */
static MdStatus parse_shape(Parser *ps, NpyHeader *h)
{
    if (*ps->p != '(') return bad(ps, "a tuple for 'shape'");
    ps->p++;
    h->ndim = 0;
    for (;;) {
        skip_ws(ps);
        if (*ps->p == ')') break;
        if (!isdigit((unsigned char)*ps->p)) {
            if (*ps->p == '-') return md_error(ps->err, MD_EFORMAT, "bad .npy header: negative "
                                               "dimension in shape \"%.120s\"", ps->s);
            return bad(ps, "a non-negative integer in 'shape'");
        }
        char *end;
        errno = 0;
        unsigned long long x = strtoull(ps->p, &end, 10);
        if (errno || x > (unsigned long long)INT64_MAX)
            return md_error(ps->err, MD_ETOOBIG, "shape dimension %d is too large", h->ndim + 1);
        ps->p = end;
        if (*ps->p == 'L') ps->p++;
        if (h->ndim < MAX_NDIM) h->shape[h->ndim] = (int64_t)x;
        if (h->ndim++ > 64) return bad(ps, "at most 64 dimensions");
        skip_ws(ps);
        if (*ps->p == ',') ps->p++;
        else if (*ps->p != ')') return bad(ps, "',' or ')' in 'shape'");
    }
    ps->p++;
    return MD_OK;
}

static MdStatus parse_dict(const char *text, NpyHeader *h, MdError *err)
{
    Parser ps = {text, text, err};
    int seen[3] = {0, 0, 0};
    MdStatus st;
    skip_ws(&ps);
    if (*ps.p != '{') return bad(&ps, "'{'");
    ps.p++;
    for (;;) {
        skip_ws(&ps);
        if (*ps.p == '}') break;
        char key[32];
        if ((st = parse_str(&ps, key, sizeof key))) return st;
        skip_ws(&ps);
        if (*ps.p != ':') return bad(&ps, "':'");
        ps.p++;
        skip_ws(&ps);
        int k = !strcmp(key, "descr") ? 0 : !strcmp(key, "fortran_order") ? 1
              : !strcmp(key, "shape") ? 2 : -1;
        if (k < 0)
            return md_error(err, MD_EFORMAT, "bad .npy header: unexpected key '%s' (expected "
                            "'descr', 'fortran_order' and 'shape')", key);
        if (seen[k]++) return md_error(err, MD_EFORMAT, "bad .npy header: key '%s' twice", key);
        if (k == 0 && *ps.p == '[')
            return md_error(err, MD_EUNSUPPORTED, "structured dtypes are not supported "
                            "(descr is a list of fields)");
        st = k == 0 ? parse_str(&ps, h->descr, sizeof h->descr)
           : k == 1 ? parse_bool(&ps, &h->fortran) : parse_shape(&ps, h);
        if (st) return st;
        skip_ws(&ps);
        if (*ps.p == ',') ps.p++;
        else if (*ps.p != '}') return bad(&ps, "',' or '}'");
    }
    ps.p++;
    skip_ws(&ps);
    if (*ps.p) return bad(&ps, "the end of the header after '}'");
    for (int k = 0; k < 3; k++)
        if (!seen[k])
            return md_error(err, MD_EFORMAT, "bad .npy header: no '%s' key in \"%.120s\"",
                            k == 0 ? "descr" : k == 1 ? "fortran_order" : "shape", text);
    return MD_OK;
}

/* descr -> dtype. Byte order '<' '>' '|' '=' or none (native). */
static MdStatus parse_descr(NpyHeader *h, MdError *err)
{
    const char *d = h->descr;
    int big = md_host_big_endian();
    if (*d == '<') big = 0, d++;
    else if (*d == '>') big = 1, d++;
    else if (*d == '|' || *d == '=') d++;
    static const struct {
        const char *code;
        MdDtype dtype;
        Kind kind;
    } map[] = {
        {"u1", MD_UINT8, KIND_PLAIN},   {"i1", MD_INT8, KIND_PLAIN},
        {"u2", MD_UINT16, KIND_PLAIN},  {"i2", MD_INT16, KIND_PLAIN},
        {"u4", MD_UINT32, KIND_PLAIN},  {"i4", MD_INT32, KIND_PLAIN},
        {"f4", MD_FLOAT32, KIND_PLAIN}, {"f8", MD_FLOAT64, KIND_PLAIN},
        {"i8", MD_FLOAT64, KIND_I64},   {"u8", MD_FLOAT64, KIND_U64},
        {"b1", MD_UINT8, KIND_BOOL},    {"?", MD_UINT8, KIND_BOOL},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(d, map[i].code)) {
            h->dtype = map[i].dtype;
            h->kind = map[i].kind;
            h->esize = md_dtype_size(map[i].dtype);
            h->swap = h->esize > 1 && big != md_host_big_endian();
            return MD_OK;
        }
    return md_error(err, MD_EUNSUPPORTED, "dtype '%s' is not supported (expected u1 i1 u2 i2 u4 "
                    "i4 i8 u8 f4 f8 or b1, either byte order)", h->descr);
}

/* "(a, b, c)" as Python writes a tuple ("(a,)" for one element). */
static void shape_text(const int64_t *shape, int n, char *out, size_t cap)
{
    size_t k = (size_t)snprintf(out, cap, "(");
    for (int i = 0; i < n && k < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < cap) snprintf(out + k, cap - k, n == 1 ? ",)" : ")");
}

/* ---- reading ---- */

/* Reads the magic, version and header dict; *data_at = first data byte. */
static MdStatus read_header(FILE *fp, int64_t fsize, NpyHeader *h, int64_t *data_at, char ver[8],
                            MdError *err)
{
    unsigned char pre[12];
    if (fread(pre, 1, 10, fp) != 10 || memcmp(pre, MAGIC, MAGIC_LEN) != 0)
        return md_error(err, MD_EFORMAT, "not a NumPy .npy file (no \\x93NUMPY magic in the "
                        "first 10 bytes)");
    int major = pre[6], minor = pre[7];
    snprintf(ver, 8, "%d.%d", major, minor);
    if (major < 1 || major > 3)
        return md_error(err, MD_EUNSUPPORTED, ".npy format version %d.%d (expected 1.0, 2.0 "
                        "or 3.0)", major, minor);
    size_t hlen = pre[8] | (size_t)pre[9] << 8, start = 10;
    if (major >= 2) {
        if (fread(pre + 10, 1, 2, fp) != 2)
            return md_error(err, MD_EFORMAT, "truncated header (file has %lld bytes)",
                            (long long)fsize);
        hlen |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        start = 12;
    }
    if (hlen > MAX_HEADER)
        return md_error(err, MD_EFORMAT, "header length %zu is absurd (at most %d)", hlen,
                        MAX_HEADER);
    if ((int64_t)(start + hlen) > fsize)
        return md_error(err, MD_EFORMAT, "truncated header: it needs %zu bytes, the file has %lld",
                        start + hlen, (long long)fsize);
    char *text = malloc(hlen + 1);
    if (!text) return md_error(err, MD_ENOMEM, "out of memory");
    MdStatus st = MD_OK;
    if (fread(text, 1, hlen, fp) != hlen) {
        st = md_error(err, MD_EIO, "read failed (%s)", strerror(errno));
    } else if (memchr(text, 0, hlen)) {
        st = md_error(err, MD_EFORMAT, "bad .npy header: it contains a NUL byte");
    } else {
        text[hlen] = '\0';
        st = parse_dict(text, h, err);
    }
    free(text);
    if (st) return st;
    *data_at = (int64_t)(start + hlen);
    return parse_descr(h, err);
}

/* Fortran order: the file holds the array with its FIRST axis fastest.
 * With dims (d0..d3) = shape reversed (x fastest in memory), the file is a
 * d0 x R matrix (R = d1*d2*d3): row x, column r = t + d3*(z + d2*y). Column
 * r is our row (y, z, t); it goes to the output as a blocked transpose, so
 * both sides stay in cache (a plain strided loop is 30x slower on a CT).
 * A moved element counts a sixteenth of core/par.h's unit of work. */
#define NPY_TRANSPOSE_CHEAP 16.0

static void from_fortran(const void *src, void *dst, const int64_t d[4], size_t esize)
{
    const size_t d0 = (size_t)d[0], d1 = (size_t)d[1], d2 = (size_t)d[2], d3 = (size_t)d[3];
    const size_t R = d1 * d2 * d3, B = 64;
    const long nblocks = (long)((R + B - 1) / B);
#define BLOCK(T)                                                              \
    {                                                                         \
        const T *in = src;                                                    \
        T *out = dst;                                                         \
        for (size_t x0 = 0; x0 < d0; x0 += B) {                               \
            size_t x1 = x0 + B < d0 ? x0 + B : d0;                            \
            for (size_t r = r0; r < r1; r++) {                                \
                size_t t = r % d3, z = r / d3 % d2, y = r / (d3 * d2);        \
                T *o = out + d0 * (y + d1 * (z + d2 * t));                    \
                for (size_t x = x0; x < x1; x++) o[x] = in[r + R * x];        \
            }                                                                 \
        }                                                                     \
    }
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(md_threads()) if (md_par_worth((double)(R * d0) / NPY_TRANSPOSE_CHEAP))
#endif
    for (long b = 0; b < nblocks; b++) {
        size_t r0 = (size_t)b * B, r1 = r0 + B < R ? r0 + B : R;
        switch (esize) {
        case 1: BLOCK(uint8_t) break;
        case 2: BLOCK(uint16_t) break;
        case 4: BLOCK(uint32_t) break;
        default: BLOCK(uint64_t) break;
        }
    }
#undef BLOCK
}

/* Stored elements -> voxel values, in place (same width). */
static void convert(void *p, size_t n, Kind kind)
{
    unsigned char *b = p;
    if (kind == KIND_BOOL) {
        for (size_t i = 0; i < n; i++) b[i] = b[i] != 0;
        return;
    }
    if (kind == KIND_PLAIN) return;
    for (size_t i = 0; i < n; i++, b += 8) {
        double d;
        if (kind == KIND_U64) {
            uint64_t x;
            memcpy(&x, b, 8);
            d = (double)x;
        } else {
            int64_t x;
            memcpy(&x, b, 8);
            d = (double)x;
        }
        memcpy(b, &d, 8);
    }
}

static MdStatus read_impl(const char *path, MdVolume *out, MdMeta *meta, MdError *err)
{
    NpyHeader h;
    memset(&h, 0, sizeof h);
    void *tmp = NULL;
    char ver[8];
    int64_t data_at = 0;
    struct stat sb;
    MdStatus st;
    FILE *fp = fopen(path, "rb");
    if (!fp) return md_error(err, MD_EIO, "cannot open (%s)", strerror(errno));
    if (fstat(fileno(fp), &sb) != 0) {
        st = md_error(err, MD_EIO, "cannot get the file size (%s)", strerror(errno));
        goto out;
    }
    if ((st = read_header(fp, (int64_t)sb.st_size, &h, &data_at, ver, err))) goto out;
    if (h.ndim < 1 || h.ndim > MAX_NDIM) {
        st = md_error(err, MD_EUNSUPPORTED, "array has %d dimensions (expected 1 to 4)", h.ndim);
        goto out;
    }
    int64_t dim[4] = {1, 1, 1, 1};
    for (int i = 0; i < h.ndim; i++) {
        if (h.shape[i] < 1) {
            st = md_error(err, MD_EFORMAT, "empty array: shape axis %d has size 0", i);
            goto out;
        }
        dim[h.ndim - 1 - i] = h.shape[i];
    }
    int ndim = h.ndim < 2 ? 2 : h.ndim; /* 1-D becomes one row */
    if (md_volume_check_dims(ndim, dim, err) != MD_OK) {
        st = md_error(err, MD_ETOOBIG, "shape is too large to address");
        goto out;
    }
    md_volume_init(out, h.dtype, ndim, dim);
    size_t count = md_volume_count(out), need = count * h.esize;
    int64_t avail = (int64_t)sb.st_size - data_at;
    char shape[200];
    shape_text(h.shape, h.ndim, shape, sizeof shape);
    if (avail < (int64_t)need) {
        st = md_error(err, MD_EFORMAT, "file has %lld bytes of data, header needs %zu (shape %s, "
                      "dtype '%s')", (long long)avail, need, shape, h.descr);
        goto out;
    }
    if ((st = md_volume_alloc(out, 0, 0, err))) goto out;
    /* C order goes straight into the volume; Fortran order via a scratch copy. */
    int transpose = h.fortran && h.ndim > 1;
    void *dst = md_volume_data(out);
    if (transpose && !(dst = tmp = malloc(need))) {
        st = md_error(err, MD_ENOMEM, "out of memory (%zu bytes to transpose)", need);
        goto out;
    }
    size_t got = md_pread_array(fileno(fp), dst, need, (off_t)data_at);
    if (got != need) {
        st = md_error(err, MD_EIO, "read %zu of %zu data bytes (%s)", got, need, strerror(errno));
        goto out;
    }
    if (h.swap) md_swap_bytes(dst, count, h.esize);
    convert(dst, count, h.kind);
    if (transpose) {
        from_fortran(tmp, md_volume_data(out), out->dim, h.esize);
    }
    if (meta) {
        if (md_meta_set(meta, "format", "NumPy") || md_meta_set(meta, "npy_version", ver) ||
            md_meta_set(meta, "descr", h.descr) ||
            md_meta_set(meta, "fortran_order", h.fortran ? "True" : "False") ||
            md_meta_set(meta, "shape", shape))
            st = md_error(err, MD_ENOMEM, "out of memory");
    }
out:
    free(tmp);
    fclose(fp);
    return st;
}

MdStatus md_npy_read(const char *path, const MdReadOpts *opts, MdVolume *out, MdMeta *meta,
                     MdError *err)
{
    (void)opts;
    MdStatus st = read_impl(path, out, meta, err);
    if (st != MD_OK) md_error_prefix(err, path);
    return st;
}

/* ---- writing ---- */

static const char *descr_of(MdDtype t)
{
    switch (t) {
    case MD_UINT8: return "|u1";
    case MD_INT8: return "|i1";
    case MD_UINT16: return "<u2";
    case MD_INT16: return "<i2";
    case MD_UINT32: return "<u4";
    case MD_INT32: return "<i4";
    case MD_FLOAT32: return "<f4";
    case MD_FLOAT64: return "<f8";
    default: return NULL;
    }
}

/* Writes magic, version and the header dict exactly as numpy 1.24's
 * np.save does: version 1.0 unless the header needs more than 65535 bytes,
 * growth room after the dict, spaces to a multiple of 64, then '\n'. */
MdStatus md_npy_write_header(MdAtomicFile *f, MdDtype dtype, const int64_t *shape, int n,
                             size_t *data_at, MdError *err)
{
    const char *descr = descr_of(dtype);
    if (!descr)
        return md_error(err, MD_EUNSUPPORTED, "dtype %s has no .npy descr", md_dtype_name(dtype));
    char tuple[400], first[24];
    shape_text(shape, n, tuple, sizeof tuple);
    int grow = GROWTH_DIGITS - snprintf(first, sizeof first, "%lld", (long long)shape[0]);
    char text[600 + ALIGN];
    int k = snprintf(text, sizeof text, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }%*s",
                     descr, tuple, grow > 0 ? grow : 0, "");
    size_t hlen = (size_t)k + 1;
    size_t prefix = 10, pad = ALIGN - (prefix + hlen) % ALIGN;
    if (hlen + pad > 65535) {
        prefix = 12;
        pad = ALIGN - (prefix + hlen) % ALIGN;
    }
    memset(text + k, ' ', pad);
    text[k + (int)pad] = '\n';
    size_t len = hlen + pad;
    unsigned char pre[12];
    memcpy(pre, MAGIC, MAGIC_LEN);
    pre[6] = prefix == 10 ? 1 : 2;
    pre[7] = 0;
    for (size_t i = 0; i < prefix - 8; i++) pre[8 + i] = (unsigned char)(len >> (8 * i));
    if (data_at) *data_at = prefix + len;
    MdStatus st = md_atomic_write(f, pre, prefix, err);
    return st ? st : md_atomic_write(f, text, len, err);
}

/* Volume number i (1-based, as in the Lua list) must hold data. */
static MdStatus check_volume(const MdVolume *v, size_t i, size_t n, MdError *err)
{
    char which[32] = "volume";
    if (n > 1) snprintf(which, sizeof which, "volume %zu", i);
    if (!v->buf) return md_error(err, MD_EINVAL, "%s has no voxel data", which);
    if (v->ndim < 1 || v->ndim > MD_MAXDIM)
        return md_error(err, MD_EINVAL, "%s has %d dimensions (expected 1 to 4)", which, v->ndim);
    return MD_OK;
}

static MdStatus write_impl(const char *path, const MdVolume *const *vols, size_t n, int stack,
                           MdError *err)
{
    MdStatus st;
    if (n == 0) return md_error(err, MD_EINVAL, "no volumes to write");
    const MdVolume *v0 = vols[0];
    for (size_t i = 0; i < n; i++) {
        const MdVolume *v = vols[i];
        if ((st = check_volume(v, i + 1, n, err))) return st;
        int same = v->dtype == v0->dtype && v->ndim == v0->ndim;
        for (int d = 0; d < MD_MAXDIM && same; d++) same = v->dim[d] == v0->dim[d];
        if (!same) {
            char a[96], b[96];
            return md_error(err, MD_EINVAL, "volume %zu has shape %s %s, volume 1 has %s %s (a stack "
                            "needs equal shapes and dtypes)", i + 1, md_volume_shape_text(v, a, sizeof a),
                            md_dtype_name(v->dtype), md_volume_shape_text(v0, b, sizeof b),
                            md_dtype_name(v0->dtype));
        }
    }
    /* x fastest in memory = last numpy axis: the shape is the dims reversed,
     * after the stack axis. */
    int64_t shape[MD_MAXDIM + 1];
    int nd = 0;
    if (stack) shape[nd++] = (int64_t)n;
    for (int i = v0->ndim - 1; i >= 0; i--) shape[nd++] = v0->dim[i];
    MdAtomicFile f;
    if ((st = md_atomic_open(&f, path, err))) return st;
    st = md_npy_write_header(&f, v0->dtype, shape, nd, NULL, err);
    size_t esize = md_dtype_size(v0->dtype);
    for (size_t i = 0; i < n && !st; i++)
        st = md_write_le(&f, md_volume_data(vols[i]), md_volume_count(vols[i]), esize, err);
    if (!st) st = md_atomic_commit(&f, err);
    md_atomic_abort(&f);
    return st;
}

MdStatus md_npy_write(const char *path, const MdVolume *v, const MdWriteOpts *opts, MdError *err)
{
    (void)opts; /* .npy is never compressed */
    MdStatus st = write_impl(path, &v, 1, 0, err);
    if (st != MD_OK) md_error_prefix(err, path);
    return st;
}

MdStatus md_npy_write_stack(const char *path, const MdVolume *const *vols, size_t n, MdError *err)
{
    MdStatus st = write_impl(path, vols, n, 1, err);
    if (st != MD_OK) md_error_prefix(err, path);
    return st;
}
