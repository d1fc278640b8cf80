/* MetaImage reader and writer: .mhd + .raw/.zraw and .mha (LOCAL data or a
 * detached data file), binary image objects only. ASCII data, file lists and
 * file patterns are refused with a message. Geometry follows ITK: LPS, and
 * each group of NDims numbers in TransformMatrix is one axis direction. */
#include "metaimage.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../core/geom.h"
#include "atomicfile.h"
#include "gz.h"
#include "rawio.h"

/* A header bigger than this, or a line longer, is not a MetaImage header
 * (most likely binary data with no ElementDataFile line before it). */
#define MAX_HEADER_BYTES (1 << 20)
#define MAX_LINE_BYTES (1 << 16)
/* zlib cannot expand data by more than about 1032:1; a header claiming more
 * is refused before the output is allocated. */
#define ZLIB_MAX_RATIO 1032

/* ElementType names. The first entry of each dtype is the one written. */
static const struct {
    const char *name;
    MdDtype dtype;
    char wide; /* 'i'/'u': 64-bit integers in the file, converted to float64 */
} etypes[] = {
    {"MET_UCHAR", MD_UINT8, 0},      {"MET_CHAR", MD_INT8, 0},
    {"MET_USHORT", MD_UINT16, 0},    {"MET_SHORT", MD_INT16, 0},
    {"MET_UINT", MD_UINT32, 0},      {"MET_INT", MD_INT32, 0},
    {"MET_FLOAT", MD_FLOAT32, 0},    {"MET_DOUBLE", MD_FLOAT64, 0},
    {"MET_ULONG", MD_UINT32, 0},     {"MET_LONG", MD_INT32, 0}, /* 4 bytes in MetaIO */
    {"MET_ULONG_LONG", MD_FLOAT64, 'u'}, {"MET_LONG_LONG", MD_FLOAT64, 'i'},
};

/* The header as interpreted. Strings are borrowed from the header list. */
typedef struct {
    int ndims;          /* NDims as written, 1..4 */
    int64_t dim[4];
    int64_t channels;   /* ElementNumberOfChannels */
    MdDtype dtype;      /* in memory */
    char wide;          /* see etypes */
    int msb;
    int compressed;
    int64_t csize;      /* CompressedDataSize, -1 when absent */
    int64_t hsize;      /* HeaderSize: 0 none, -1 data at the end, > 0 absolute offset */
    double spacing[4], origin[4], tm[16];
    int has_tm;
    const char *datafile;
    const char *dimsize; /* DimSize as written, for messages */
} Header;

/* ---- header text ---- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

/* Reads "Key = Value" lines into h up to and including ElementDataFile;
 * fp is left at the first byte after that line (the LOCAL data). */
static MdStatus read_header_lines(FILE *fp, MdMeta *h, MdError *err)
{
    char *line = malloc(MAX_LINE_BYTES + 1);
    if (!line) return md_error(err, MD_ENOMEM, "out of memory reading the header");
    MdStatus st = MD_OK;
    size_t total = 0;
    int lineno = 0, done = 0;
    while (!done) {
        size_t n = 0;
        int c, nul = 0;
        while ((c = getc(fp)) != EOF && c != '\n') {
            if (n == MAX_LINE_BYTES) {
                st = md_error(err, MD_EFORMAT, "header line %d is longer than %d bytes "
                              "(not a MetaImage header?)", lineno + 1, MAX_LINE_BYTES);
                goto out;
            }
            nul |= c == 0;
            line[n++] = (char)c;
        }
        if (c == EOF && n == 0) break;
        lineno++;
        total += n + 1;
        if (total > MAX_HEADER_BYTES || nul) {
            st = md_error(err, MD_EFORMAT, "no ElementDataFile line in the header (binary data "
                          "or a header over %d bytes by line %d)", MAX_HEADER_BYTES, lineno);
            goto out;
        }
        line[n] = '\0';
        char *s = trim(line);
        if (!*s) continue;
        char *eq = strchr(s, '=');
        if (!eq || eq == s) {
            for (char *p = s; *p; p++) /* quoted in the message: keep it readable */
                if (!isprint((unsigned char)*p)) *p = '?';
            st = md_error(err, MD_EFORMAT, "header line %d is not 'Key = Value' (got \"%.40s\")",
                          lineno, s);
            goto out;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        if (md_meta_set(h, key, val) != MD_OK) {
            st = md_error(err, MD_ENOMEM, "out of memory reading the header");
            goto out;
        }
        done = strcmp(key, "ElementDataFile") == 0;
    }
    if (!done)
        st = md_error(err, MD_EFORMAT, "no ElementDataFile line in the header (%d lines read)",
                      lineno);
out:
    free(line);
    return st;
}

/* ---- header values ---- */

/* First value among the synonyms keys[0..], or NULL; *which gets the key. */
static const char *get_any(const MdMeta *h, const char *const *keys, const char **which)
{
    for (; *keys; keys++) {
        const char *v = md_meta_get(h, *keys);
        if (v) {
            if (which) *which = *keys;
            return v;
        }
    }
    return NULL;
}

/* Parses exactly n finite numbers (whitespace separated) from key's value. */
static MdStatus get_numbers(const char *key, const char *s, double *out, int n, int ndims,
                            MdError *err)
{
    int k = 0;
    for (;;) {
        while (isspace((unsigned char)*s)) s++;
        if (!*s) break;
        char *end;
        double x = strtod(s, &end);
        if (end == s || (*end && !isspace((unsigned char)*end)) || !isfinite(x))
            return md_error(err, MD_EFORMAT, "%s must be a list of numbers (got \"%.40s\")", key,
                            s);
        if (k < n) out[k] = x;
        k++;
        s = end;
    }
    if (k != n)
        return md_error(err, MD_EFORMAT, "%s has %d numbers, NDims = %d needs %d", key, k, ndims,
                        n);
    return MD_OK;
}

static MdStatus get_bool(const char *key, const char *s, int *out, MdError *err)
{
    if (!strcasecmp(s, "True") || !strcmp(s, "1")) *out = 1;
    else if (!strcasecmp(s, "False") || !strcmp(s, "0")) *out = 0;
    else return md_error(err, MD_EFORMAT, "%s must be True or False (got \"%.40s\")", key, s);
    return MD_OK;
}

static MdStatus get_int(const char *key, const char *s, int64_t lo, int64_t *out, MdError *err)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    while (isspace((unsigned char)*end)) end++;
    if (end == s || *end || errno || x < lo)
        return md_error(err, MD_EFORMAT, "%s must be an integer >= %lld (got \"%.40s\")", key,
                        (long long)lo, s);
    *out = x;
    return MD_OK;
}

static MdStatus get_dims(const char *s, Header *hd, MdError *err)
{
    int k = 0;
    for (;;) {
        while (isspace((unsigned char)*s)) s++;
        if (!*s) break;
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (end == s || (*end && !isspace((unsigned char)*end)))
            return md_error(err, MD_EFORMAT, "DimSize must be a list of integers (got \"%.40s\")",
                            s);
        if (errno)
            return md_error(err, MD_ETOOBIG, "DimSize on axis %d is too large (%.24s)", k + 1, s);
        if (x < 1)
            return md_error(err, MD_EFORMAT, "DimSize must be integers >= 1 (got %lld on axis %d)",
                            x, k + 1);
        if (k < hd->ndims) hd->dim[k] = x;
        k++;
        s = end;
    }
    if (k != hd->ndims)
        return md_error(err, MD_EFORMAT, "DimSize has %d numbers, NDims = %d needs %d", k,
                        hd->ndims, hd->ndims);
    return MD_OK;
}

static const char *const origin_keys[] = {"Offset", "Origin", "Position", NULL};
static const char *const matrix_keys[] = {"TransformMatrix", "Rotation", "Orientation", NULL};
static const char *const msb_keys[] = {"BinaryDataByteOrderMSB", "ElementByteOrderMSB", NULL};
static const char *const spacing_keys[] = {"ElementSpacing", "ElementSize", NULL};

static MdStatus interpret(const MdMeta *h, Header *hd, MdError *err)
{
    memset(hd, 0, sizeof *hd);
    MdStatus st;
    const char *s, *which = NULL;
    int64_t x;
    if ((s = md_meta_get(h, "ObjectType")) && strcmp(s, "Image") != 0)
        return md_error(err, MD_EUNSUPPORTED, "ObjectType = %.40s (only Image is supported)", s);
    if (!(s = md_meta_get(h, "NDims"))) return md_error(err, MD_EFORMAT, "NDims is missing");
    if ((st = get_int("NDims", s, 1, &x, err)) != MD_OK) return st;
    if (x > 4)
        return md_error(err, MD_EUNSUPPORTED, "NDims = %lld (expected 1 to 4)", (long long)x);
    hd->ndims = (int)x;
    int n = hd->ndims;
    if (!(s = md_meta_get(h, "DimSize"))) return md_error(err, MD_EFORMAT, "DimSize is missing");
    hd->dimsize = s;
    if ((st = get_dims(s, hd, err)) != MD_OK) return st;

    if (!(s = md_meta_get(h, "ElementType")))
        return md_error(err, MD_EFORMAT, "ElementType is missing");
    size_t t = 0;
    while (t < sizeof etypes / sizeof etypes[0] && strcmp(etypes[t].name, s) != 0) t++;
    if (t == sizeof etypes / sizeof etypes[0])
        return md_error(err, MD_EUNSUPPORTED, "ElementType %.40s is not supported (expected "
                        "MET_UCHAR, MET_CHAR, MET_USHORT, MET_SHORT, MET_UINT, MET_INT, MET_LONG, "
                        "MET_ULONG, MET_LONG_LONG, MET_ULONG_LONG, MET_FLOAT or MET_DOUBLE)", s);
    hd->dtype = etypes[t].dtype;
    hd->wide = etypes[t].wide;

    hd->channels = 1;
    if ((s = md_meta_get(h, "ElementNumberOfChannels")) &&
        (st = get_int("ElementNumberOfChannels", s, 1, &hd->channels, err)) != MD_OK)
        return st;
    if (hd->channels > 1 && n == 4)
        return md_error(err, MD_EUNSUPPORTED, "ElementNumberOfChannels = %lld with NDims = 4 "
                        "(at most 4 axes including channels)", (long long)hd->channels);

    int flag = 1;
    if ((s = md_meta_get(h, "BinaryData")) && (st = get_bool("BinaryData", s, &flag, err)))
        return st;
    if (!flag)
        return md_error(err, MD_EUNSUPPORTED, "BinaryData = False (ASCII voxel data) is not "
                        "supported");
    if ((s = get_any(h, msb_keys, &which)) && (st = get_bool(which, s, &hd->msb, err))) return st;
    if ((s = md_meta_get(h, "CompressedData")) &&
        (st = get_bool("CompressedData", s, &hd->compressed, err)))
        return st;
    hd->csize = -1;
    if (hd->compressed && (s = md_meta_get(h, "CompressedDataSize")) &&
        (st = get_int("CompressedDataSize", s, 1, &hd->csize, err)))
        return st;
    if ((s = md_meta_get(h, "HeaderSize")) && (st = get_int("HeaderSize", s, -1, &hd->hsize, err)))
        return st;

    for (int i = 0; i < 4; i++) hd->spacing[i] = 1.0;
    if ((s = get_any(h, spacing_keys, &which)) &&
        (st = get_numbers(which, s, hd->spacing, n, n, err)))
        return st;
    for (int i = 0; i < n; i++)
        if (!(hd->spacing[i] > 0))
            return md_error(err, MD_EFORMAT, "%s must be > 0 (got %g on axis %d)", which,
                            hd->spacing[i], i + 1);
    if ((s = get_any(h, origin_keys, &which)) &&
        (st = get_numbers(which, s, hd->origin, n, n, err)))
        return st;
    if ((s = get_any(h, matrix_keys, &which))) {
        if ((st = get_numbers(which, s, hd->tm, n * n, n, err))) return st;
        hd->has_tm = 1;
    }

    hd->datafile = md_meta_get(h, "ElementDataFile");
    if (!strcmp(hd->datafile, "LIST") || !strncmp(hd->datafile, "LIST ", 5) ||
        strchr(hd->datafile, '%'))
        return md_error(err, MD_EUNSUPPORTED, "ElementDataFile = %.60s: file lists and patterns "
                        "are not supported (expected LOCAL or one file name)", hd->datafile);
    if (!*hd->datafile) return md_error(err, MD_EFORMAT, "ElementDataFile is empty");
    return MD_OK;
}

/* Sets out's dtype, dims and geometry from the header (not its buffer). */
static MdStatus setup_volume(const Header *hd, MdVolume *out, MdError *err)
{
    int n = hd->ndims;
    int64_t dim[4] = {1, 1, 1, 1};
    for (int i = 0; i < n; i++) dim[i] = hd->dim[i];
    /* 1-D becomes a 2-D row; channels become the 4th axis (z = 1 for 2-D). */
    int ndim = n < 2 ? 2 : n;
    if (hd->channels > 1) {
        dim[3] = hd->channels;
        ndim = 4;
    }
    if (md_volume_check_dims(ndim, dim, err) != MD_OK)
        return md_error(err, MD_ETOOBIG, "DimSize = %.60s with %lld channel(s) is too large "
                        "to address", hd->dimsize, (long long)hd->channels);
    md_volume_init(out, hd->dtype, ndim, dim);
    int g = n < 3 ? n : 3;
    for (int c = 0; c < g; c++) {
        out->spacing[c] = hd->spacing[c];
        out->origin[c] = hd->origin[c];
        if (hd->has_tm)
            for (int r = 0; r < g; r++) out->direction[r * 3 + c] = hd->tm[c * n + r];
    }
    if (n == 4) out->tstep = hd->spacing[3];
    return MD_OK;
}

/* ---- voxel data ---- */

/* New path of the data file: name taken relative to the header's folder. */
static char *data_path(const char *header, const char *name)
{
    const char *slash = strrchr(header, '/');
    size_t dirlen = (name[0] == '/' || !slash) ? 0 : (size_t)(slash - header + 1);
    char *p = malloc(dirlen + strlen(name) + 1);
    if (p) {
        memcpy(p, header, dirlen);
        strcpy(p + dirlen, name);
    }
    return p;
}

/* Channel-interleaved (c fastest) -> channel as the slowest axis. */
static void deinterleave(const void *src, void *dst, size_t nvox, size_t nch, size_t esize)
{
#define DEINT(T)                                                         \
    for (size_t c = 0; c < nch; c++) {                                   \
        const T *s = (const T *)src + c;                                 \
        T *d = (T *)dst + c * nvox;                                      \
        for (size_t v = 0; v < nvox; v++) d[v] = s[v * nch];             \
    }
    switch (esize) {
    case 1: DEINT(uint8_t) break;
    case 2: DEINT(uint16_t) break;
    case 4: DEINT(uint32_t) break;
    default: DEINT(uint64_t) break;
    }
#undef DEINT
}

/* 64-bit integers -> float64 in place (same width). */
static void widen64(void *p, size_t n, char kind)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++, b += 8) {
        double d;
        if (kind == 'u') {
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

/* Reads the stored bytes (raw or zlib) of hd into dst[0..need). what names
 * the data in messages; start/avail locate it in fd. */
static MdStatus read_payload(int fd, const Header *hd, const char *what, int64_t start,
                             int64_t avail, void *dst, size_t need, MdError *err)
{
    if (!hd->compressed) {
        size_t got = md_pread_array(fd, dst, need, (off_t)start);
        if (got != need)
            return md_error(err, MD_EIO, "%s: read %zu of %zu bytes (%s)", what, got, need,
                            strerror(errno));
        return MD_OK;
    }
    int64_t csize = hd->csize >= 0 ? hd->csize : avail;
    unsigned char *cbuf = malloc(csize ? (size_t)csize : 1);
    if (!cbuf)
        return md_error(err, MD_ENOMEM, "out of memory for %lld compressed bytes", (long long)csize);
    MdStatus st = MD_OK;
    size_t got = md_pread_full(fd, cbuf, (size_t)csize, (off_t)start);
    if (got != (size_t)csize) {
        st = md_error(err, MD_EIO, "%s: read %zu of %lld bytes (%s)", what, got, (long long)csize,
                      strerror(errno));
    } else if ((st = md_zlib_inflate(cbuf, (size_t)csize, dst, need, &got, err)) != MD_OK) {
        md_error_prefix(err, what);
    } else if (got != need) {
        st = md_error(err, MD_EFORMAT, "%s: compressed data decodes to %zu bytes, header needs %zu",
                      what, got, need);
    }
    free(cbuf);
    return st;
}

/* Checks that the data described by hd fits in what the file holds, before
 * anything is allocated. *start is where the stored bytes begin. */
static MdStatus locate_data(const Header *hd, const char *what, int64_t base, int64_t fsize,
                            size_t need, int64_t *start, MdError *err)
{
    int64_t stored = hd->compressed ? hd->csize : (int64_t)need; /* -1: unknown */
    *start = base;
    if (hd->hsize > 0) {
        *start = hd->hsize;
    } else if (hd->hsize == -1) {
        if (stored < 0)
            return md_error(err, MD_EFORMAT, "HeaderSize = -1 with compressed data needs "
                            "CompressedDataSize");
        *start = fsize - stored;
    }
    int64_t avail = *start >= 0 && *start <= fsize ? fsize - *start : -1;
    char after[64] = "";
    if (*start > 0 && *start == base) snprintf(after, sizeof after, " after the header");
    else if (*start > 0) snprintf(after, sizeof after, " after offset %lld", (long long)*start);
    if (avail < 0 && hd->hsize > 0)
        return md_error(err, MD_EFORMAT, "%s has %lld bytes, HeaderSize = %lld is past its end",
                        what, (long long)fsize, (long long)hd->hsize);
    if (avail < 0)
        return md_error(err, MD_EFORMAT, "%s has %lld bytes, header needs %lld", what,
                        (long long)fsize, (long long)stored);
    if (!hd->compressed && avail < (int64_t)need)
        return md_error(err, MD_EFORMAT, "%s has %lld bytes%s, header needs %zu", what,
                        (long long)avail, after, need);
    if (hd->compressed) {
        if (stored > avail)
            return md_error(err, MD_EFORMAT, "%s has %lld bytes%s, CompressedDataSize = %lld",
                            what, (long long)avail, after, (long long)stored);
        if (stored < 0) stored = avail;
        if (need / ZLIB_MAX_RATIO > (size_t)stored + 1)
            return md_error(err, MD_EFORMAT, "%s: %lld compressed bytes cannot expand to the "
                            "%zu bytes the header needs", what, (long long)stored, need);
    }
    return MD_OK;
}

static MdStatus copy_meta(const MdMeta *h, MdMeta *meta, MdError *err)
{
    if (!meta) return MD_OK;
    if (md_meta_set(meta, "format", "MetaImage") != MD_OK)
        return md_error(err, MD_ENOMEM, "out of memory");
    for (size_t i = 0; i < h->n; i++)
        if (md_meta_set(meta, h->keys[i], h->vals[i]) != MD_OK)
            return md_error(err, MD_ENOMEM, "out of memory");
    return MD_OK;
}

static MdStatus read_impl(const char *path, MdVolume *out, MdMeta *meta, MdError *err)
{
    MdMeta h;
    md_meta_init(&h);
    Header hd;
    FILE *fp = NULL, *dfp = NULL;
    char *dpath = NULL, what[300];
    void *tmp = NULL;
    MdStatus st;
    if (!(fp = fopen(path, "rb"))) {
        st = md_error(err, MD_EIO, "cannot open (%s)", strerror(errno));
        goto out;
    }
    if ((st = read_header_lines(fp, &h, err)) || (st = interpret(&h, &hd, err)) ||
        (st = setup_volume(&hd, out, err)))
        goto out;

    int64_t base = 0;
    if (!strcmp(hd.datafile, "LOCAL")) {
        dfp = fp;
        base = (int64_t)ftello(fp);
        snprintf(what, sizeof what, "the file");
    } else {
        snprintf(what, sizeof what, "data file %s", hd.datafile);
        if (!(dpath = data_path(path, hd.datafile))) {
            st = md_error(err, MD_ENOMEM, "out of memory");
            goto out;
        }
        if (!(dfp = fopen(dpath, "rb"))) {
            st = md_error(err, errno == ENOENT ? MD_EFORMAT : MD_EIO, "%s: cannot open (%s)",
                          what, strerror(errno));
            goto out;
        }
    }
    struct stat sb;
    if (fstat(fileno(dfp), &sb) != 0) {
        st = md_error(err, MD_EIO, "%s: cannot get its size (%s)", what, strerror(errno));
        goto out;
    }
    size_t esize = hd.wide ? 8 : md_dtype_size(hd.dtype);
    size_t count = md_volume_count(out), need = count * esize;
    int64_t start;
    if ((st = locate_data(&hd, what, base, (int64_t)sb.st_size, need, &start, err)) ||
        (st = md_volume_alloc(out, 0, 0, err)))
        goto out;
    /* Channels are stored interleaved and go through a scratch copy; a
     * plain image is read straight into the volume. */
    void *dst = md_volume_data(out);
    if (hd.channels > 1 && !(dst = tmp = malloc(need))) {
        st = md_error(err, MD_ENOMEM, "out of memory (%zu bytes for channel data)", need);
        goto out;
    }
    if ((st = read_payload(fileno(dfp), &hd, what, start, (int64_t)sb.st_size - start, dst, need,
                           err)))
        goto out;
    if (esize > 1 && hd.msb != md_host_big_endian()) md_swap_bytes(dst, count, esize);
    if (hd.wide) widen64(dst, count, hd.wide);
    if (tmp)
        deinterleave(tmp, md_volume_data(out), count / (size_t)hd.channels,
                     (size_t)hd.channels, esize);
    st = copy_meta(&h, meta, err);
out:
    free(tmp);
    free(dpath);
    if (dfp && dfp != fp) fclose(dfp);
    if (fp) fclose(fp);
    md_meta_free(&h);
    return st;
}

MdStatus md_metaimage_read(const char *path, const MdReadOpts *opts, MdVolume *out, MdMeta *meta,
                           MdError *err)
{
    (void)opts; /* MetaImage has no rescaling: values are always as stored */
    MdStatus st = read_impl(path, out, meta, err);
    if (st != MD_OK) md_error_prefix(err, path);
    return st;
}

/* ---- writing ---- */

/* Shortest of %.15g and %.17g that reads back as exactly x. */
static void fmt_num(char out[32], double x)
{
    if (x == 0) x = 0; /* no "-0" */
    snprintf(out, 32, "%.15g", x);
    if (strtod(out, NULL) != x) snprintf(out, 32, "%.17g", x);
}

typedef struct {
    char buf[8192];
    size_t n;
} Text;

static void add(Text *t, const char *fmt, ...) MD_PRINTF(2, 3);
static void add(Text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->buf + t->n, sizeof t->buf - t->n, fmt, ap);
    va_end(ap);
    t->n = k < 0 || (size_t)k >= sizeof t->buf - t->n ? sizeof t->buf : t->n + (size_t)k;
}

/* "Key = n1 n2 ..." */
static void add_numbers(Text *t, const char *key, const double *x, int n)
{
    char num[32];
    add(t, "%s =", key);
    for (int i = 0; i < n; i++) {
        fmt_num(num, x[i]);
        add(t, " %s", num);
    }
    add(t, "\n");
}

/* ITK names an axis by the side it comes FROM ("RAI" for the identity in
 * LPS), the opposite of md_geom_orientation's "points towards" letters. */
static void itk_orientation(const MdVolume *v, char code[5])
{
    if (v->ndim == 2) {
        strcpy(code, "??");
        return;
    }
    md_geom_orientation(v, code);
    static const char from[] = "LRPAIS", to[] = "RLAPSI";
    for (int i = 0; i < 3; i++) code[i] = to[strchr(from, code[i]) - from];
    if (v->ndim == 4) strcpy(code + 3, "?");
}

/* Header text for v; n = NDims = v->ndim, the 4th axis (time) gets
 * spacing tstep, origin 0 and an identity row/column in the matrix. */
static MdStatus build_header(const MdVolume *v, size_t csize, const char *dname, Text *t,
                             MdError *err)
{
    int n = v->ndim;
    double tm[16], org[4] = {0, 0, 0, 0}, sp[4], zeros[4] = {0, 0, 0, 0};
    for (int c = 0; c < n; c++) {
        sp[c] = c < 3 ? v->spacing[c] : v->tstep;
        if (c < 3) org[c] = v->origin[c];
        for (int r = 0; r < n; r++)
            tm[c * n + r] = (r < 3 && c < 3) ? v->direction[r * 3 + c] : (r == c);
    }
    const char *ename = NULL;
    for (size_t i = 0; i < sizeof etypes / sizeof etypes[0] && !ename; i++)
        if (etypes[i].dtype == v->dtype && !etypes[i].wide) ename = etypes[i].name;
    if (!ename)
        return md_error(err, MD_EUNSUPPORTED, "dtype %s has no MetaImage ElementType",
                        md_dtype_name(v->dtype));
    char orient[5];
    itk_orientation(v, orient);
    t->n = 0;
    add(t, "ObjectType = Image\nNDims = %d\nBinaryData = True\nBinaryDataByteOrderMSB = False\n",
        n);
    add(t, "CompressedData = %s\n", csize ? "True" : "False");
    if (csize) add(t, "CompressedDataSize = %zu\n", csize);
    add_numbers(t, "TransformMatrix", tm, n * n);
    add_numbers(t, "Offset", org, n);
    add_numbers(t, "CenterOfRotation", zeros, n);
    add(t, "AnatomicalOrientation = %s\n", orient);
    add_numbers(t, "ElementSpacing", sp, n);
    add(t, "DimSize =");
    for (int i = 0; i < n; i++) add(t, " %lld", (long long)v->dim[i]);
    add(t, "\nElementType = %s\nElementDataFile = %s\n", ename, dname);
    if (t->n >= sizeof t->buf)
        return md_error(err, MD_EINVAL, "header too long (data file name of %zu bytes)",
                        strlen(dname));
    return MD_OK;
}

/* The stored bytes: v's voxels little-endian, or their zlib stream. */
static MdStatus write_payload(MdAtomicFile *f, const MdVolume *v, const void *z, size_t zn,
                              MdError *err)
{
    if (z) return md_atomic_write(f, z, zn, err);
    return md_write_le(f, md_volume_data(v), md_volume_count(v), md_dtype_size(v->dtype), err);
}

static MdStatus compress(const MdVolume *v, int level, void **z, size_t *zn, MdError *err)
{
    size_t count = md_volume_count(v), esize = md_dtype_size(v->dtype);
    const void *src = md_volume_data(v);
    void *swapped = NULL;
    if (esize > 1 && md_host_big_endian()) {
        if (!(swapped = malloc(count * esize)))
            return md_error(err, MD_ENOMEM, "out of memory (%zu bytes)", count * esize);
        memcpy(swapped, src, count * esize);
        md_swap_bytes(swapped, count, esize);
        src = swapped;
    }
    MdStatus st = md_zlib_deflate(src, count * esize, level > 9 ? 9 : level, z, zn, err);
    free(swapped);
    return st;
}

/* .mha: one temporary holding header and data. .mhd: the data file's and
 * the header's temporaries are both written before either is renamed, the
 * data file first; if the header cannot be renamed the data file goes. */
static MdStatus write_impl(const char *path, const MdVolume *v, const MdWriteOpts *opts,
                           MdError *err)
{
    if (!v->buf) return md_error(err, MD_EINVAL, "volume has no voxel data");
    if (v->ndim < 2 || v->ndim > 4)
        return md_error(err, MD_EINVAL, "volume has %d dimensions (expected 2 to 4)", v->ndim);
    size_t plen = strlen(path);
    int mha = plen >= 4 && strcasecmp(path + plen - 4, ".mha") == 0;
    if (!mha && !(plen >= 4 && strcasecmp(path + plen - 4, ".mhd") == 0))
        return md_error(err, MD_EINVAL, "a MetaImage name ends in .mhd or .mha");
    void *z = NULL;
    size_t zn = 0;
    char *dpath = NULL;
    const char *dname = "LOCAL";
    MdAtomicFile df, hf;
    memset(&df, 0, sizeof df);
    memset(&hf, 0, sizeof hf);
    Text *t = malloc(sizeof *t);
    MdStatus st = MD_OK;
    if (!t) return md_error(err, MD_ENOMEM, "out of memory");
    if (opts->compress && (st = compress(v, opts->level, &z, &zn, err))) goto out;
    if (!mha) {
        size_t n = strlen(path);
        if (!(dpath = malloc(n + 2))) {
            st = md_error(err, MD_ENOMEM, "out of memory");
            goto out;
        }
        memcpy(dpath, path, n - 4);
        strcpy(dpath + n - 4, z ? ".zraw" : ".raw");
        const char *slash = strrchr(dpath, '/');
        dname = slash ? slash + 1 : dpath;
    }
    if ((st = build_header(v, zn, dname, t, err))) goto out;
    if (!mha && ((st = md_atomic_open(&df, dpath, err)) || (st = write_payload(&df, v, z, zn, err))))
        goto out;
    if ((st = md_atomic_open(&hf, path, err)) || (st = md_atomic_write(&hf, t->buf, t->n, err)) ||
        (mha && (st = write_payload(&hf, v, z, zn, err))))
        goto out;
    if (!mha && (st = md_atomic_commit(&df, err))) goto out;
    if ((st = md_atomic_commit(&hf, err)) && !mha) unlink(dpath);
out:
    md_atomic_abort(&df);
    md_atomic_abort(&hf);
    free(dpath);
    free(z);
    free(t);
    return st;
}

MdStatus md_metaimage_write(const char *path, const MdVolume *v, const MdWriteOpts *opts,
                            MdError *err)
{
    static const MdWriteOpts defaults = {-1, 0, 0};
    MdStatus st = write_impl(path, v, opts ? opts : &defaults, err);
    if (st != MD_OK) md_error_prefix(err, path);
    return st;
}
