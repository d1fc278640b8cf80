/* DICOM element walker (see dicom_parse.h). The file is walked once into a
 * flat element list; sequences recurse with a depth limit. Values are not
 * copied: elements point into the buffer. Pixel data is located, not decoded. */
#include "dicom_parse.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "rawio.h"

#define MAX_DEPTH 32
#define MAX_INFLATED ((size_t)1 << 32) /* a deflated dataset may grow to 4 GiB */

typedef struct P {
    MdDcm *d;
    int big, explicit_vr;
    int prefix; /* the buffer is a prefix of the file */
    int stop;   /* set when the walk must end (pixel data reached, prefix exhausted) */
    MdError *err;
} P;

static uint16_t rd16(const uint8_t *p, int big)
{
    return big ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static uint32_t rd32(const uint8_t *p, int big)
{
    return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
               : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint32_t rdtag(const uint8_t *p, int big)
{
    return (uint32_t)rd16(p, big) << 16 | rd16(p + 2, big);
}

/* VRs whose explicit encoding has a 2-byte reserved field and a 4-byte length. */
static int long_vr(const char *vr)
{
    static const char *const v[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ",
                                    "SV", "UC", "UN", "UR", "UT", "UV"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (vr[0] == v[i][0] && vr[1] == v[i][1]) return 1;
    return 0;
}

static int valid_vr(const uint8_t *p)
{
    return isupper(p[0]) && isupper(p[1]);
}

/* Out of bytes: in a prefix that only means "read more"; otherwise the file
 * is damaged. */
static MdStatus past_end(P *p, uint32_t tag, size_t need, size_t left)
{
    if (p->prefix) {
        p->d->complete = 0;
        p->stop = 1;
        return MD_OK;
    }
    return md_error(p->err, MD_EFORMAT,
                    "element (%04X,%04X) needs %zu bytes but only %zu remain in the file",
                    tag >> 16, tag & 0xFFFF, need, left);
}

static MdStatus push(P *p, uint32_t tag, const char *vr, uint32_t len, size_t off, int32_t parent,
                     int32_t *idx)
{
    MdDcm *d = p->d;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 128;
        MdDcmElem *el = realloc(d->el, cap * sizeof *el);
        if (!el) return md_error(p->err, MD_ENOMEM, "out of memory for DICOM elements");
        d->el = el;
        d->cap = cap;
    }
    MdDcmElem *e = &d->el[d->n];
    e->tag = tag;
    e->vr[0] = vr[0];
    e->vr[1] = vr[1];
    e->vr[2] = 0;
    e->big = (uint8_t)p->big;
    e->len = len;
    e->off = off;
    e->parent = parent;
    e->end = (int32_t)d->n + 1;
    *idx = (int32_t)d->n++;
    return MD_OK;
}

static MdStatus parse_dataset(P *p, size_t *pos, size_t end, int undefined, int32_t parent,
                              int depth);

/* Items of a sequence starting at *pos; len may be undefined. */
static MdStatus parse_items(P *p, size_t *pos, uint32_t len, int32_t seq, int depth)
{
    const MdDcm *d = p->d;
    size_t end = len == MD_DCM_UNDEF ? d->size : *pos + len;
    while (*pos < end && !p->stop) {
        if (end - *pos < 8) return past_end(p, d->el[seq].tag, 8, end - *pos);
        uint32_t tag = rdtag(d->data + *pos, p->big);
        uint32_t ilen = rd32(d->data + *pos + 4, p->big);
        *pos += 8;
        if (tag == MD_DCM_TAG(0xFFFE, 0xE0DD)) return MD_OK; /* sequence delimiter */
        if (tag != MD_DCM_ITEM)
            return md_error(p->err, MD_EFORMAT,
                            "sequence (%04X,%04X) holds (%04X,%04X) where an item was expected",
                            d->el[seq].tag >> 16, d->el[seq].tag & 0xFFFF, tag >> 16, tag & 0xFFFF);
        int32_t item;
        MdStatus st = push(p, tag, "  ", ilen, *pos, seq, &item);
        if (st != MD_OK) return st;
        size_t iend = ilen == MD_DCM_UNDEF ? end : *pos + ilen;
        if (iend > end || iend > d->size) return past_end(p, tag, ilen, end - *pos);
        st = parse_dataset(p, pos, iend, ilen == MD_DCM_UNDEF, item, depth + 1);
        if (st != MD_OK) return st;
        p->d->el[item].end = (int32_t)p->d->n;
    }
    if (len != MD_DCM_UNDEF && *pos != end && !p->stop)
        return md_error(p->err, MD_EFORMAT, "sequence (%04X,%04X) items overrun its length",
                        d->el[seq].tag >> 16, d->el[seq].tag & 0xFFFF);
    if (len == MD_DCM_UNDEF && !p->stop) return past_end(p, d->el[seq].tag, 8, 0);
    return MD_OK;
}

/* A sequence: UN of undefined length holds implicit VR little endian
 * (PS3.5 6.2.2); a defined-length value of an implicit element that starts
 * with an item tag is tried as a sequence and kept as bytes if it is not one
 * (private attributes are skipped this way, never misread). */
static MdStatus parse_sequence(P *p, size_t *pos, int32_t idx, int guessed, int as_implicit,
                               int depth)
{
    MdDcm *d = p->d;
    if (depth >= MAX_DEPTH)
        return md_error(p->err, MD_EFORMAT, "sequences nested deeper than %d levels", MAX_DEPTH);
    int big = p->big, ex = p->explicit_vr;
    if (as_implicit) p->big = 0, p->explicit_vr = 0;
    size_t start = *pos, n0 = d->n;
    MdError scratch;
    MdError *keep = p->err;
    if (guessed) p->err = &scratch;
    MdStatus st = parse_items(p, pos, d->el[idx].len, idx, depth);
    p->err = keep;
    p->big = big;
    p->explicit_vr = ex;
    if (st != MD_OK && guessed) { /* not a sequence after all: opaque bytes */
        d->n = n0;
        memcpy(d->el[idx].vr, "UN", 2);
        *pos = start + d->el[idx].len;
        return MD_OK;
    }
    d->el[idx].end = (int32_t)d->n;
    return st;
}

/* Reads tag, VR and length at *pos. Returns 0 when bytes ran out. */
static int read_header(P *p, size_t pos, size_t end, uint32_t *tag, char vr[3], uint32_t *len,
                       size_t *hlen)
{
    const uint8_t *b = p->d->data + pos;
    if (end - pos < 8) return 0;
    *tag = rdtag(b, p->big);
    int item_tag = (*tag >> 16) == 0xFFFE;
    if (p->explicit_vr && !item_tag && valid_vr(b + 4)) {
        vr[0] = (char)b[4], vr[1] = (char)b[5], vr[2] = 0;
        if (long_vr(vr)) {
            if (end - pos < 12) return 0;
            *len = rd32(b + 8, p->big);
            *hlen = 12;
        } else {
            *len = rd16(b + 6, p->big);
            *hlen = 8;
        }
        return 1;
    }
    const char *dvr = NULL;
    md_dcm_keyword(*tag, &dvr);
    if ((*tag & 0xFFFF) == 0) dvr = "UL"; /* group lengths */
    memcpy(vr, dvr ? dvr : "UN", 3);
    *len = rd32(b + 4, p->big);
    *hlen = 8;
    return 1;
}

/* Encapsulated pixel data nested in an item: its fragments are stepped over. */
static MdStatus skip_fragments(P *p, size_t *pos, size_t end, int32_t idx)
{
    const MdDcm *d = p->d;
    while (end - *pos >= 8) {
        uint32_t tag = rdtag(d->data + *pos, p->big), len = rd32(d->data + *pos + 4, p->big);
        *pos += 8;
        if (tag == MD_DCM_TAG(0xFFFE, 0xE0DD)) return MD_OK;
        if (tag != MD_DCM_ITEM)
            return md_error(p->err, MD_EFORMAT, "nested Pixel Data holds a non-item");
        if (len > end - *pos) return past_end(p, tag, len, end - *pos);
        *pos += len;
    }
    return past_end(p, d->el[idx].tag, 8, end - *pos);
}

static MdStatus parse_element(P *p, size_t *pos, size_t end, int32_t parent, int depth)
{
    MdDcm *d = p->d;
    uint32_t tag, len;
    char vr[3];
    size_t hlen;
    if (!read_header(p, *pos, end, &tag, vr, &len, &hlen)) return past_end(p, 0, 12, end - *pos);
    size_t voff = *pos + hlen;
    int32_t idx;
    MdStatus st = push(p, tag, vr, len, voff, parent, &idx);
    if (st != MD_OK) return st;
    *pos = voff;
    if (tag == MD_DCM_PIXEL_DATA && parent < 0) { /* located; decoded later */
        d->pixel = idx;
        p->stop = 1;
        return MD_OK;
    }
    if (tag == MD_DCM_PIXEL_DATA && len == MD_DCM_UNDEF) /* icon images inside sequences */
        return skip_fragments(p, pos, end, idx);
    int is_sq = vr[0] == 'S' && vr[1] == 'Q';
    int un_undef = len == MD_DCM_UNDEF && vr[0] == 'U' && vr[1] == 'N';
    int guessed = 0;
    if (!is_sq && !un_undef && len == MD_DCM_UNDEF && !p->explicit_vr) is_sq = 1;
    if (!is_sq && !un_undef && len != MD_DCM_UNDEF && len >= 8 && voff + 8 <= end &&
        (!p->explicit_vr || (vr[0] == 'U' && vr[1] == 'N')) &&
        rdtag(d->data + voff, p->big) == MD_DCM_ITEM)
        is_sq = guessed = 1;
    if (is_sq || un_undef) {
        if (len != MD_DCM_UNDEF && len > end - voff) return past_end(p, tag, len, end - voff);
        if (un_undef) memcpy(d->el[idx].vr, "SQ", 2);
        return parse_sequence(p, pos, idx, guessed, un_undef, depth);
    }
    if (len == MD_DCM_UNDEF)
        return md_error(p->err, MD_EFORMAT, "element (%04X,%04X) has an undefined length",
                        tag >> 16, tag & 0xFFFF);
    if (len > end - voff) return past_end(p, tag, len, end - voff);
    *pos = voff + len;
    return MD_OK;
}

/* Elements from *pos up to end, or up to an item delimiter when undefined. */
static MdStatus parse_dataset(P *p, size_t *pos, size_t end, int undefined, int32_t parent,
                              int depth)
{
    while (*pos < end && !p->stop) {
        if (end - *pos >= 4 && rdtag(p->d->data + *pos, p->big) == MD_DCM_TAG(0xFFFE, 0xE00D)) {
            if (!undefined)
                return md_error(p->err, MD_EFORMAT, "item delimiter inside a defined-length item");
            *pos += 8;
            return MD_OK;
        }
        MdStatus st = parse_element(p, pos, end, parent, depth);
        if (st != MD_OK) return st;
    }
    if (undefined && !p->stop) return past_end(p, MD_DCM_TAG(0xFFFE, 0xE00D), 8, 0);
    return MD_OK;
}

int md_dcm_sniff(const uint8_t *b, size_t n)
{
    if (n >= 132 && memcmp(b + 128, "DICM", 4) == 0) return 1;
    if (n < 8) return 0;
    uint16_t g = rd16(b, 0), gb = rd16(b, 1);
    if ((g == 0x0002 || g == 0x0008) && (valid_vr(b + 4) || rd32(b + 4, 0) < 0x10000)) return 1;
    if (gb == 0x0008 && valid_vr(b + 4)) return 1; /* explicit big endian, no meta */
    return 0;
}

/* Transfer syntax flags from the UID; unknown (compressed) ones are explicit LE. */
static void set_syntax(MdDcm *d)
{
    d->big = strcmp(d->ts, "1.2.840.10008.1.2.2") == 0;
    d->explicit_vr = strcmp(d->ts, "1.2.840.10008.1.2") != 0;
    d->deflated =
        strcmp(d->ts, "1.2.840.10008.1.2.1.99") == 0 || strcmp(d->ts, "1.2.840.10008.1.2.8.1") == 0;
}

/* Inflates the raw-deflate dataset after the meta group into d->owned. */
static MdStatus inflate_dataset(MdDcm *d, size_t pos, MdError *err)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, -15) != Z_OK) return md_error(err, MD_ENOMEM, "cannot start inflate");
    size_t cap = (d->size - pos) * 4 + 4096, got = 0;
    uint8_t *out = malloc(pos + cap);
    MdStatus st = MD_OK;
    if (!out) st = md_error(err, MD_ENOMEM, "out of memory inflating the dataset");
    if (out) memcpy(out, d->data, pos);
    s.next_in = (uint8_t *)d->data + pos;
    s.avail_in = (uInt)(d->size - pos);
    while (st == MD_OK) {
        s.next_out = out + pos + got;
        s.avail_out = (uInt)(cap - got);
        int rc = inflate(&s, Z_NO_FLUSH);
        got = cap - s.avail_out;
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            st = md_error(err, MD_EFORMAT, "deflated dataset is corrupt (%s)",
                          s.msg ? s.msg : "zlib error");
        } else if (s.avail_out == 0) {
            if (cap * 2 > MAX_INFLATED) {
                st = md_error(err, MD_ETOOBIG, "deflated dataset inflates past 4 GiB");
                break;
            }
            uint8_t *bigger = realloc(out, pos + cap * 2);
            if (!bigger)
                st = md_error(err, MD_ENOMEM, "out of memory inflating the dataset");
            else
                out = bigger, cap *= 2;
        } else if (s.avail_in == 0) {
            st = md_error(err, MD_EFORMAT, "deflated dataset is truncated");
        }
    }
    inflateEnd(&s);
    if (st != MD_OK) {
        free(out);
        return st;
    }
    d->owned = out;
    d->data = out;
    d->size = pos + got;
    return MD_OK;
}

/* The meta group (always explicit VR little endian). Returns the offset of
 * the dataset after it. */
static MdStatus parse_meta(P *p, size_t *pos)
{
    MdDcm *d = p->d;
    p->big = 0;
    p->explicit_vr = 1;
    while (*pos + 8 <= d->size && !p->stop && rd16(d->data + *pos, 0) == 0x0002) {
        MdStatus st = parse_element(p, pos, d->size, -1, 0);
        if (st != MD_OK) return st;
    }
    md_dcm_str(d, -1, MD_DCM_TAG(0x0002, 0x0010), d->ts, sizeof d->ts);
    return MD_OK;
}

/* No meta group: guess the syntax from the first element. */
static void guess_syntax(MdDcm *d, size_t pos)
{
    const uint8_t *b = d->data + pos;
    if (d->size - pos < 8) return;
    if (rd16(b, 0) == 0x0800) {
        strcpy(d->ts, "1.2.840.10008.1.2.2");
    } else {
        strcpy(d->ts, valid_vr(b + 4) ? "1.2.840.10008.1.2.1" : "1.2.840.10008.1.2");
    }
}

/* Implicit VR: the dictionary's "xs" attributes (PixelPaddingValue,
 * Smallest/LargestImagePixelValue, ...) have the signedness of the pixels,
 * SS when PixelRepresentation is 1, else US (PS3.5 A.1). */
static void resolve_xs(MdDcm *d)
{
    double pr = 0;
    int32_t i = md_dcm_find(d, -1, MD_DCM_TAG(0x0028, 0x0103));
    if (i >= 0 && d->el[i].vr[0] != 'x' && md_dcm_numbers(d, i, &pr, 1) != 1) pr = 0;
    for (size_t k = 0; k < d->n; k++)
        if (d->el[k].vr[0] == 'x' && d->el[k].vr[1] == 's')
            memcpy(d->el[k].vr, pr == 1 ? "SS" : "US", 3);
}

MdStatus md_dcm_parse(MdDcm *d, const uint8_t *data, size_t size, int prefix, MdError *err)
{
    memset(d, 0, sizeof *d);
    d->data = data;
    d->size = size;
    d->pixel = -1;
    d->complete = 1;
    P p = {d, 0, 1, prefix, 0, err};
    size_t pos = 0;
    if (size >= 132 && memcmp(data + 128, "DICM", 4) == 0) {
        d->has_preamble = 1;
        pos = 132;
    } else if (!md_dcm_sniff(data, size)) {
        return md_error(err, MD_EFORMAT,
                        "not a DICOM file (no DICM marker at byte 128 and no "
                        "recognisable first element)");
    }
    MdStatus st = parse_meta(&p, &pos);
    if (st == MD_OK && !p.stop) {
        if (!d->ts[0]) guess_syntax(d, pos);
        set_syntax(d);
        if (d->deflated && prefix) {
            d->complete = 0;
            p.stop = 1;
        } else if (d->deflated) {
            st = inflate_dataset(d, pos, err);
        }
        p.big = d->big;
        p.explicit_vr = d->explicit_vr;
        if (st == MD_OK && !p.stop) st = parse_dataset(&p, &pos, d->size, 0, -1, 0);
    }
    if (st == MD_OK) resolve_xs(d);
    if (st != MD_OK) md_dcm_free(d);
    return st;
}

void md_dcm_free(MdDcm *d)
{
    free(d->el);
    free(d->owned);
    d->el = NULL;
    d->owned = NULL;
    d->n = d->cap = 0;
}

int32_t md_dcm_find(const MdDcm *d, int32_t parent, uint32_t tag)
{
    int32_t i = parent < 0 ? 0 : parent + 1;
    int32_t stop = parent < 0 ? (int32_t)d->n : d->el[parent].end;
    while (i < stop) {
        if (d->el[i].tag == tag) return i;
        i = d->el[i].end;
    }
    return -1;
}

int32_t md_dcm_item(const MdDcm *d, int32_t seq, int n)
{
    if (seq < 0) return -1;
    int32_t i = seq + 1;
    while (i < d->el[seq].end) {
        if (n-- == 0) return i;
        i = d->el[i].end;
    }
    return -1;
}

int md_dcm_nitems(const MdDcm *d, int32_t seq)
{
    int n = 0;
    if (seq < 0) return 0;
    for (int32_t i = seq + 1; i < d->el[seq].end; i = d->el[i].end) n++;
    return n;
}

int32_t md_dcm_find_in_first_item(const MdDcm *d, int32_t parent, uint32_t seq, uint32_t tag)
{
    int32_t item = md_dcm_item(d, md_dcm_find(d, parent, seq), 0);
    return item < 0 ? -1 : md_dcm_find(d, item, tag);
}

/* Binary numeric VRs: element size, or 0. */
static int num_size(const char *vr)
{
    if (!strcmp(vr, "US") || !strcmp(vr, "SS")) return 2;
    if (!strcmp(vr, "UL") || !strcmp(vr, "SL") || !strcmp(vr, "FL")) return 4;
    if (!strcmp(vr, "FD")) return 8;
    return 0;
}

static double num_at(const MdDcmElem *e, const uint8_t *b)
{
    switch (e->vr[0] << 8 | e->vr[1]) {
    case 'U' << 8 | 'S': return rd16(b, e->big);
    case 'S' << 8 | 'S': return (int16_t)rd16(b, e->big);
    case 'U' << 8 | 'L': return rd32(b, e->big);
    case 'S' << 8 | 'L': return (int32_t)rd32(b, e->big);
    case 'F' << 8 | 'L': {
        uint32_t u = rd32(b, e->big);
        float f;
        memcpy(&f, &u, 4);
        return (double)f;
    }
    default: { /* FD: the high word comes first in big endian */
        uint64_t u = e->big ? (uint64_t)rd32(b, 1) << 32 | rd32(b + 4, 1)
                            : (uint64_t)rd32(b + 4, 0) << 32 | rd32(b, 0);
        double x;
        memcpy(&x, &u, 8);
        return x;
    }
    }
}

int md_dcm_numbers(const MdDcm *d, int32_t i, double *out, int max)
{
    if (i < 0 || d->el[i].len == MD_DCM_UNDEF) return 0;
    const MdDcmElem *e = &d->el[i];
    const uint8_t *b = d->data + e->off;
    int sz = num_size(e->vr), n = 0;
    if (sz) {
        for (; n < max && (size_t)(n + 1) * (size_t)sz <= e->len; n++)
            out[n] = num_at(e, b + n * sz);
        return n;
    }
    if (e->vr[0] == 'U' && e->vr[1] == 'N' && (e->len == 2 || e->len == 4) && max > 0 &&
        (b[e->len - 1] < '0' || b[e->len - 1] > '9') && b[e->len - 1] != ' ') {
        /* a private binary number written as UN (e.g. Siemens (0019,100A)) */
        out[0] = e->len == 2 ? rd16(b, e->big) : rd32(b, e->big);
        return 1;
    }
    char tmp[64];
    size_t k = 0;
    for (size_t j = 0; j <= e->len && n < max; j++) {
        char c = j < e->len ? (char)b[j] : '\\';
        if (c == '\\') {
            tmp[k] = 0;
            char *endp;
            double x = strtod(tmp, &endp);
            if (endp == tmp) return n; /* empty or not a number */
            out[n++] = x;
            k = 0;
        } else if (k + 1 < sizeof tmp && c != ' ' && c != 0) {
            tmp[k++] = c;
        }
    }
    return n;
}

double md_dcm_num(const MdDcm *d, int32_t parent, uint32_t tag, double def)
{
    double x;
    return md_dcm_numbers(d, md_dcm_find(d, parent, tag), &x, 1) == 1 ? x : def;
}

static int texty(const char *vr)
{
    static const char *const v[] = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT",
                                    "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!strcmp(vr, v[i])) return 1;
    return 0;
}

const char *md_dcm_text(const MdDcm *d, int32_t i, char *buf, size_t cap)
{
    buf[0] = 0;
    if (i < 0 || cap == 0 || d->el[i].len == MD_DCM_UNDEF) return buf;
    const MdDcmElem *e = &d->el[i];
    const uint8_t *b = d->data + e->off;
    if (num_size(e->vr)) {
        double x[16];
        int n = md_dcm_numbers(d, i, x, 16);
        size_t k = 0;
        for (int j = 0; j < n && k < cap; j++)
            k += (size_t)snprintf(buf + k, cap - k, j ? "\\%.17g" : "%.17g", x[j]);
        return buf;
    }
    int printable = 1;
    for (size_t j = 0; j < e->len && printable; j++)
        printable = b[j] >= 32 || b[j] == 0 || b[j] == '\n' || b[j] == '\r' || b[j] == '\t';
    if (!texty(e->vr) && !(printable && e->vr[0] == 'U' && e->vr[1] == 'N' && e->len < 256)) {
        snprintf(buf, cap, "<%s, %u bytes>", e->vr, e->len);
        return buf;
    }
    size_t n = e->len < cap - 1 ? e->len : cap - 1;
    memcpy(buf, b, n);
    buf[n] = 0;
    while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == 0)) buf[--n] = 0;
    size_t s = 0;
    while (buf[s] == ' ') s++;
    if (s) memmove(buf, buf + s, n - s + 1);
    return buf;
}

const char *md_dcm_str(const MdDcm *d, int32_t parent, uint32_t tag, char *buf, size_t cap)
{
    return md_dcm_text(d, md_dcm_find(d, parent, tag), buf, cap);
}

#define HEADER_BYTES                                                                               \
    ((size_t)16 << 10) /* most headers are a few kB; longer ones are read again whole */

/* A gzip-wrapped file (one or more members) inflated whole into *buf (*cap
 * bytes, grown); *n = bytes. fd is at offset 0, size its length. */
static MdStatus gunzip_file(int fd, size_t size, uint8_t **buf, size_t *cap, size_t *n,
                            MdError *err)
{
    uint8_t *in = malloc(size ? size : 1);
    if (!in) return md_error(err, MD_ENOMEM, "out of memory reading %zu bytes", size);
    if (md_pread_full(fd, in, size, 0) != size) {
        free(in);
        return md_error(err, MD_EIO, "read failed (%s)", errno ? strerror(errno) : "short read");
    }
    z_stream s;
    memset(&s, 0, sizeof s);
    MdStatus st = MD_OK;
    if (inflateInit2(&s, 15 + 16) != Z_OK) st = md_error(err, MD_ENOMEM, "cannot start inflate");
    s.next_in = in;
    s.avail_in = (uInt)size;
    *n = 0;
    while (st == MD_OK) {
        if (*cap < *n + 65536 + 1) {
            size_t want = *cap * 2 > *n + 65537 ? *cap * 2 : *n + 65537;
            uint8_t *p = want > MAX_INFLATED ? NULL : realloc(*buf, want);
            if (!p) {
                st = want > MAX_INFLATED
                         ? md_error(err, MD_ETOOBIG, "gzip-wrapped file inflates past 4 GiB")
                         : md_error(err, MD_ENOMEM, "out of memory inflating the file");
                break;
            }
            *buf = p, *cap = want;
        }
        s.next_out = *buf + *n;
        s.avail_out = (uInt)(*cap - 1 - *n);
        size_t before = s.avail_out;
        int rc = inflate(&s, Z_NO_FLUSH);
        *n += before - s.avail_out;
        if (rc == Z_STREAM_END) { /* another member may follow, as gzip(1) reads it */
            if (s.avail_in < 2 || s.next_in[0] != 0x1f || s.next_in[1] != 0x8b) break;
            inflateReset(&s);
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            st = md_error(err, MD_EFORMAT, "gzip data is corrupt after %zu bytes (%s)", *n,
                          s.msg ? s.msg : "zlib error");
        } else if (s.avail_in == 0 && s.avail_out > 0) {
            st = md_error(err, MD_EFORMAT, "gzip data is truncated after %zu bytes", *n);
        }
    }
    inflateEnd(&s);
    free(in);
    return st;
}

MdStatus md_dcm_load_into(const char *path, int header_only, MdDcm *d, uint8_t **buf, size_t *cap,
                          MdError *err)
{
    memset(d, 0, sizeof *d);
    int fd = open(path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        MdStatus st = md_error(err, MD_EIO, "cannot open (%s)", strerror(errno));
        if (fd >= 0) close(fd);
        return st;
    }
    size_t size = (size_t)sb.st_size;
    MdStatus st = MD_OK;
    uint8_t magic[2] = {0, 0};
    if (size >= 18 && md_pread_full(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        size_t n = 0;
        st = gunzip_file(fd, size, buf, cap, &n, err);
        close(fd);
        if (st != MD_OK) return st;
        st = md_dcm_parse(d, *buf, n, 0, err);
        if (st == MD_OK) d->file_size = n, d->gzipped = 1;
        return st;
    }
    for (int pass = header_only ? 0 : 1; pass < 2; pass++) {
        size_t want = pass == 0 && size > HEADER_BYTES ? HEADER_BYTES : size;
        if (want + 1 > *cap) { /* reused across files: no fresh pages per file */
            uint8_t *p = realloc(*buf, want + 1);
            if (!p) {
                st = md_error(err, MD_ENOMEM, "out of memory reading %zu bytes", want);
                break;
            }
            *buf = p, *cap = want + 1;
        }
        if (md_pread_full(fd, *buf, want, 0) != want) {
            st = md_error(err, MD_EIO, "read failed (%s)", errno ? strerror(errno) : "short read");
            break;
        }
        st = md_dcm_parse(d, *buf, want, want < size, err);
        if (st == MD_OK) d->file_size = size;
        if (st != MD_OK || d->complete) break;
        md_dcm_free(d);
    }
    close(fd);
    return st;
}

MdStatus md_dcm_load(const char *path, int header_only, MdDcm *d, uint8_t **buf, MdError *err)
{
    size_t cap = 0;
    *buf = NULL;
    MdStatus st = md_dcm_load_into(path, header_only, d, buf, &cap, err);
    if (st != MD_OK) {
        free(*buf);
        *buf = NULL;
    }
    return st;
}
