/* Pixel data to stored values (see dicom_pixels.h): native data is copied
 * (byte-swapped, unpacked, de-interleaved), encapsulated data is split into
 * frames and handed to RLE here or to the JPEG-family codecs. Every length
 * comes from the file, so every one is checked before use. */
#include "dicom_pixels.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/volume.h"
#include "dicom_codecs.h"
#include "rawio.h"

#define TAG MD_DCM_TAG
/* Compressed frames may not claim to inflate by more than this ratio (plus
 * slack): a 1 kB file cannot announce a gigabyte image. */
#define MAX_RATIO 4096
#define RATIO_SLACK ((size_t)64 << 20)

static const struct {
    const char *uid, *name;
} syntaxes[] = {
    {"1.2.840.10008.1.2", "Implicit VR Little Endian"},
    {"1.2.840.10008.1.2.1", "Explicit VR Little Endian"},
    {"1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian"},
    {"1.2.840.10008.1.2.2", "Explicit VR Big Endian"},
    {"1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)"},
    {"1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)"},
    {"1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)"},
    {"1.2.840.10008.1.2.4.70", "JPEG Lossless, Non-Hierarchical, First-Order Prediction (SV1)"},
    {"1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"},
    {"1.2.840.10008.1.2.4.81", "JPEG-LS Near-Lossless"},
    {"1.2.840.10008.1.2.4.90", "JPEG 2000 (Lossless Only)"},
    {"1.2.840.10008.1.2.4.91", "JPEG 2000"},
    {"1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 (Lossless Only)"},
    {"1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options (Lossless Only)"},
    {"1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000"},
    {"1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level"},
    {"1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile"},
    {"1.2.840.10008.1.2.5", "RLE Lossless"},
};

const char *md_dcm_ts_name(const char *uid)
{
    for (size_t i = 0; i < sizeof syntaxes / sizeof syntaxes[0]; i++)
        if (!strcmp(uid, syntaxes[i].uid)) return syntaxes[i].name;
    return uid;
}

static int native_ts(const char *ts)
{
    return !strcmp(ts, "1.2.840.10008.1.2") || !strcmp(ts, "1.2.840.10008.1.2.1") ||
           !strcmp(ts, "1.2.840.10008.1.2.2") || !strcmp(ts, "1.2.840.10008.1.2.1.99") ||
           !strcmp(ts, "1.2.840.10008.1.2.8.1") || ts[0] == 0;
}

/* NumberOfFrames (an IS string): absent or empty is 1; anything but an
 * integer is an error, never the number its first digits spell ("1A"). */
static MdStatus number_of_frames(const MdDcm *d, double *frames, MdError *err)
{
    int32_t e = md_dcm_find(d, -1, TAG(0x0028, 0x0008));
    char t[80];
    md_dcm_text(d, e, t, sizeof t);
    *frames = 1;
    if (!t[0]) return MD_OK;
    char *end;
    errno = 0;
    long long n = strtoll(t, &end, 10);
    while (*end == ' ') end++;
    if (*end || errno || end == t || !(t[0] == '+' || t[0] == '-' || (t[0] >= '0' && t[0] <= '9')))
        return md_error(err, MD_EFORMAT,
                        "NumberOfFrames (0028,0008) is not an integer (\"%s\"): the number of "
                        "frames cannot be trusted",
                        t);
    *frames = (double)n;
    return MD_OK;
}

MdStatus md_dcm_image(const MdDcm *d, MdDcmImage *im, MdError *err)
{
    memset(im, 0, sizeof *im);
    if (d->pixel < 0) return md_error(err, MD_EFORMAT, "no Pixel Data (7FE0,0010) element");
    im->rows = (int)md_dcm_num(d, -1, TAG(0x0028, 0x0010), 0);
    im->cols = (int)md_dcm_num(d, -1, TAG(0x0028, 0x0011), 0);
    double frames;
    MdStatus fst = number_of_frames(d, &frames, err);
    if (fst != MD_OK) return fst;
    im->samples = (int)md_dcm_num(d, -1, TAG(0x0028, 0x0002), 1);
    im->planar = (int)md_dcm_num(d, -1, TAG(0x0028, 0x0006), 0);
    im->bits_alloc = (int)md_dcm_num(d, -1, TAG(0x0028, 0x0100), 0);
    im->bits_stored = (int)md_dcm_num(d, -1, TAG(0x0028, 0x0101), im->bits_alloc);
    im->high_bit = (int)md_dcm_num(d, -1, TAG(0x0028, 0x0102), im->bits_stored - 1);
    im->is_signed = md_dcm_num(d, -1, TAG(0x0028, 0x0103), 0) == 1;
    md_dcm_str(d, -1, TAG(0x0028, 0x0004), im->photometric, sizeof im->photometric);
    if (im->rows < 1 || im->cols < 1 || im->rows > 65535 || im->cols > 65535)
        return md_error(err, MD_EFORMAT, "Rows x Columns must be 1..65535 (got %d x %d)", im->rows,
                        im->cols);
    if (!(frames >= 1 && frames <= 1e7))
        return md_error(err, MD_EFORMAT, "NumberOfFrames must be 1..10000000 (got %g)", frames);
    im->frames = (int)frames;
    if (im->bits_alloc != 1 && im->bits_alloc != 8 && im->bits_alloc != 16 && im->bits_alloc != 32)
        return md_error(err, MD_EUNSUPPORTED, "BitsAllocated must be 1, 8, 16 or 32 (got %d)",
                        im->bits_alloc);
    if (im->bits_stored < 1 || im->bits_stored > im->bits_alloc ||
        im->high_bit < im->bits_stored - 1 || im->high_bit >= im->bits_alloc)
        return md_error(err, MD_EFORMAT, "BitsStored %d / HighBit %d do not fit BitsAllocated %d",
                        im->bits_stored, im->high_bit, im->bits_alloc);
    if (im->samples != 1 && im->samples != 3)
        return md_error(err, MD_EUNSUPPORTED, "SamplesPerPixel must be 1 or 3 (got %d)",
                        im->samples);
    if (im->samples == 3 && im->bits_alloc == 1)
        return md_error(err, MD_EFORMAT, "1-bit pixels cannot have 3 samples");
    /* Uncompressed YBR_FULL_422 stores two pixels as Y1 Y2 Cb Cr (PS3.3
     * C.7.6.3.1.2); compressed data is subsampled inside the codestream. */
    if (im->samples == 3 && !strcmp(im->photometric, "YBR_FULL_422") &&
        d->el[d->pixel].len != MD_DCM_UNDEF) {
        if (im->bits_alloc < 8 || ((size_t)im->rows * (size_t)im->cols) % 2)
            return md_error(err, MD_EFORMAT,
                            "YBR_FULL_422 needs an even number of pixels per frame and 8 or more "
                            "bits (got %d x %d, %d bits)",
                            im->cols, im->rows, im->bits_alloc);
        im->sub422 = 1;
    }
    return MD_OK;
}

MdDtype md_dcm_stored_dtype(const MdDcmImage *im)
{
    switch (im->bits_alloc) {
    case 1: return MD_UINT8;
    case 8: return im->is_signed ? MD_INT8 : MD_UINT8;
    case 16: return im->is_signed ? MD_INT16 : MD_UINT16;
    default: return im->is_signed ? MD_INT32 : MD_UINT32;
    }
}

MdStatus md_dcm_frame_size(const MdDcmImage *im, size_t *values, size_t *bytes_all, MdError *err)
{
    size_t esize = md_dtype_size(md_dcm_stored_dtype(im));
    MdStatus st = md_checked_mul(values, (size_t)im->rows, (size_t)im->cols, err);
    if (st == MD_OK) st = md_checked_mul(values, *values, (size_t)im->samples, err);
    if (st == MD_OK) st = md_checked_mul(bytes_all, *values, (size_t)im->frames, err);
    if (st == MD_OK) st = md_checked_mul(bytes_all, *bytes_all, esize, err);
    return st;
}

/* Encapsulated pixel data: the offsets and lengths of its fragments (the
 * basic offset table excluded). *frag is new. */
typedef struct Frag {
    size_t off, len;
} Frag;

static MdStatus fragments(const MdDcm *d, Frag **frag, size_t *nfrag, uint32_t *bot_len,
                          size_t *bot_off, MdError *err)
{
    size_t pos = d->el[d->pixel].off, cap = 0;
    *frag = NULL;
    *nfrag = 0;
    int first = 1;
    for (;;) {
        if (d->size - pos < 8) {
            free(*frag);
            *frag = NULL;
            return md_error(err, MD_EFORMAT,
                            "encapsulated Pixel Data is truncated "
                            "(no sequence delimiter before the end of file)");
        }
        const uint8_t *b = d->data + pos;
        uint32_t tag = (uint32_t)(b[1] << 8 | b[0]) << 16 | (uint32_t)(b[3] << 8 | b[2]);
        uint32_t len = (uint32_t)b[7] << 24 | (uint32_t)b[6] << 16 | (uint32_t)b[5] << 8 | b[4];
        pos += 8;
        if (tag == TAG(0xFFFE, 0xE0DD)) return MD_OK;
        if (tag != MD_DCM_ITEM || len > d->size - pos) {
            free(*frag);
            *frag = NULL;
            return md_error(err, MD_EFORMAT, "encapsulated Pixel Data fragment %zu is %s",
                            *nfrag + 1, tag != MD_DCM_ITEM ? "not an item" : "truncated");
        }
        if (first) {
            *bot_off = pos;
            *bot_len = len;
            first = 0;
        } else {
            if (*nfrag == cap) {
                cap = cap ? cap * 2 : 16;
                Frag *f = realloc(*frag, cap * sizeof *f);
                if (!f) {
                    free(*frag);
                    *frag = NULL;
                    return md_error(err, MD_ENOMEM, "out of memory for fragments");
                }
                *frag = f;
            }
            (*frag)[(*nfrag)++] = (Frag){pos, len};
        }
        pos += len;
    }
}

MdStatus md_dcm_check_native_length(const MdDcmImage *im, size_t len, size_t avail, MdError *err)
{
    size_t values, bytes;
    MdStatus st = md_dcm_frame_size(im, &values, &bytes, err);
    if (st != MD_OK) return st;
    size_t need = im->bits_alloc == 1 ? (values * (size_t)im->frames + 7) / 8
                                      : bytes / md_dtype_size(md_dcm_stored_dtype(im)) *
                                            (size_t)(im->bits_alloc / 8);
    if (im->sub422) need = need / 3 * 2; /* two samples per pixel on average */
    if (len > avail)
        return md_error(err, MD_EFORMAT,
                        "Pixel Data is truncated: the element announces %zu "
                        "bytes, the file holds %zu",
                        len, avail);
    if (len < need)
        return md_error(err, MD_EFORMAT,
                        "Pixel Data has %zu bytes, Rows x Columns x Frames x "
                        "Samples x BitsAllocated needs %zu (%d x %d x %d x %d x %d bits%s)",
                        len, need, im->rows, im->cols, im->frames, im->samples, im->bits_alloc,
                        im->sub422 ? ", YBR_FULL_422: 2 samples per pixel" : "");
    return MD_OK;
}

MdStatus md_dcm_check_pixels(const MdDcm *d, const MdDcmImage *im, MdError *err)
{
    size_t values, bytes;
    MdStatus st = md_dcm_frame_size(im, &values, &bytes, err);
    if (st != MD_OK) return st;
    const MdDcmElem *e = &d->el[d->pixel];
    if (e->len != MD_DCM_UNDEF) {
        st = md_dcm_check_native_length(im, e->len, d->size - e->off, err);
        if (st != MD_OK) return st;
        if (!native_ts(d->ts))
            return md_error(err, MD_EFORMAT, "transfer syntax %s needs encapsulated Pixel Data",
                            md_dcm_ts_name(d->ts));
        return MD_OK;
    }
    Frag *frag;
    size_t nfrag, boff = 0, compressed = 0;
    uint32_t blen = 0;
    st = fragments(d, &frag, &nfrag, &blen, &boff, err);
    if (st != MD_OK) return st;
    for (size_t i = 0; i < nfrag; i++) compressed += frag[i].len;
    free(frag);
    if (nfrag < (size_t)im->frames && blen / 4 < (uint32_t)im->frames)
        return md_error(err, MD_EFORMAT, "encapsulated Pixel Data has %zu fragments for %d frames",
                        nfrag, im->frames);
    if (bytes / MAX_RATIO > compressed + RATIO_SLACK / MAX_RATIO)
        return md_error(err, MD_EFORMAT,
                        "%zu bytes of compressed data cannot hold a %d x %d x %d "
                        "image",
                        compressed, im->cols, im->rows, im->frames);
    return MD_OK;
}

/* Masks BitsStored and sign-extends (stored values may sit above HighBit
 * garbage, or be signed in fewer bits than allocated: a CT stored in 12 of
 * 16 bits has to become -1024, not 64512). */
static void fix_bits(void *dst, size_t n, const MdDcmImage *im)
{
    int bs = im->bits_stored, shift = im->high_bit + 1 - bs;
    if (im->bits_alloc == 1 || (bs == im->bits_alloc && shift == 0)) return;
    uint32_t mask = bs == 32 ? 0xFFFFFFFFu : (1u << bs) - 1, sign = 1u << (bs - 1);
#define FIX(T, UT)                                                                                 \
    do {                                                                                           \
        T *p = dst;                                                                                \
        for (size_t i = 0; i < n; i++) {                                                           \
            uint32_t u = ((uint32_t)(UT)p[i] >> shift) & mask;                                     \
            p[i] =                                                                                 \
                (T)(im->is_signed && (u & sign) ? (int64_t)u - ((int64_t)mask + 1) : (int64_t)u);  \
        }                                                                                          \
    } while (0)
    switch (im->bits_alloc) {
    case 8: FIX(uint8_t, uint8_t); break;
    case 16: FIX(uint16_t, uint16_t); break;
    default: FIX(uint32_t, uint32_t); break;
    }
#undef FIX
}

/* [row][col][sample] -> [sample][row][col] for one frame, in place via tmp. */
static MdStatus deinterleave(void *frame, size_t npix, size_t esize, MdError *err)
{
    uint8_t *tmp = malloc(npix * 3 * esize), *f = frame;
    if (!tmp) return md_error(err, MD_ENOMEM, "out of memory");
    memcpy(tmp, f, npix * 3 * esize);
    for (size_t i = 0; i < npix; i++)
        for (size_t s = 0; s < 3; s++)
            memcpy(f + (s * npix + i) * esize, tmp + (i * 3 + s) * esize, esize);
    free(tmp);
    return MD_OK;
}

/* YBR_FULL_422 (Y1 Y2 Cb Cr per pixel pair) to full planes [sample][pixel]
 * per frame, chroma repeated for both pixels of a pair, as pydicom does;
 * the colour space stays YBR (stored values, no conversion to RGB). */
static void expand_422(const uint8_t *src, void *dst, size_t npix, size_t frames, size_t esize)
{
    uint8_t *o = dst;
    for (size_t f = 0; f < frames; f++) {
        uint8_t *y = o + f * 3 * npix * esize, *cb = y + npix * esize, *cr = cb + npix * esize;
        const uint8_t *s = src + f * 2 * npix * esize;
        for (size_t p = 0; p < npix; p += 2, s += 4 * esize) {
            memcpy(y + p * esize, s, 2 * esize);
            memcpy(cb + p * esize, s + 2 * esize, esize);
            memcpy(cb + (p + 1) * esize, s + 2 * esize, esize);
            memcpy(cr + p * esize, s + 3 * esize, esize);
            memcpy(cr + (p + 1) * esize, s + 3 * esize, esize);
        }
    }
}

static MdStatus decode_native(const MdDcm *d, const MdDcmImage *im, void *dst, size_t values,
                              MdError *err)
{
    const MdDcmElem *e = &d->el[d->pixel];
    const uint8_t *src = d->data + e->off;
    size_t total = values * (size_t)im->frames;
    if (im->bits_alloc == 1) { /* bits run on across frame boundaries, LSB first */
        uint8_t *o = dst;
        for (size_t i = 0; i < total; i++) o[i] = (uint8_t)((src[i >> 3] >> (i & 7)) & 1);
        return MD_OK;
    }
    size_t esize = (size_t)im->bits_alloc / 8;
    if (im->sub422) {
        expand_422(src, dst, values / 3, (size_t)im->frames, esize);
        if (e->big && esize > 1) md_swap_bytes(dst, total, esize);
        return MD_OK;
    }
    memcpy(dst, src, total * esize);
    if (e->big && esize > 1) md_swap_bytes(dst, total, esize);
    if (im->samples == 3 && im->planar == 0)
        for (int f = 0; f < im->frames; f++) {
            MdStatus st =
                deinterleave((uint8_t *)dst + (size_t)f * values * esize, values / 3, esize, err);
            if (st != MD_OK) return st;
        }
    return MD_OK;
}

/* One PackBits segment into out[0..n). */
static MdStatus unpackbits(const uint8_t *p, size_t len, uint8_t *out, size_t n, MdError *err)
{
    size_t i = 0, o = 0;
    while (o < n && i < len) {
        int c = (int8_t)p[i++];
        if (c >= 0) {
            size_t k = (size_t)c + 1;
            if (k > len - i || k > n - o) break;
            memcpy(out + o, p + i, k);
            i += k, o += k;
        } else if (c != -128) {
            size_t k = (size_t)(1 - c);
            if (i >= len || k > n - o) break;
            memset(out + o, p[i++], k);
            o += k;
        }
    }
    if (o != n)
        return md_error(err, MD_EFORMAT, "RLE segment decodes to %zu bytes, expected %zu", o, n);
    return MD_OK;
}

/* An RLE frame: one segment per byte of each sample, most significant first. */
static MdStatus decode_rle(const uint8_t *p, size_t n, const MdDcmImage *im, void *out,
                           uint8_t *plane, MdError *err)
{
    size_t npix = (size_t)im->rows * (size_t)im->cols;
    int bps = im->bits_alloc / 8, nseg = bps * im->samples;
    if (im->bits_alloc == 1) return md_error(err, MD_EUNSUPPORTED, "RLE with 1-bit pixels");
    if (n < 64) return md_error(err, MD_EFORMAT, "RLE frame shorter than its 64-byte header");
    uint32_t hdr[16];
    for (int i = 0; i < 16; i++)
        hdr[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
                 (uint32_t)p[4 * i + 3] << 24;
    if ((int)hdr[0] != nseg)
        return md_error(err, MD_EFORMAT, "RLE frame has %u segments, expected %d", hdr[0], nseg);
    for (int s = 0; s < nseg; s++) {
        size_t a = hdr[1 + s], b = s + 1 < nseg ? hdr[2 + s] : n;
        if (a < 64 || b > n || a > b)
            return md_error(err, MD_EFORMAT, "RLE segment %d out of bounds", s + 1);
        MdStatus st = unpackbits(p + a, b - a, plane, npix, err);
        if (st != MD_OK) return st;
        int sample = s / bps, shift = 8 * (bps - 1 - s % bps), low = s % bps != 0;
        size_t base = (size_t)sample * npix;
        for (size_t i = 0; i < npix; i++) {
            uint32_t v = (uint32_t)plane[i] << shift;
            if (bps == 1) {
                ((uint8_t *)out)[base + i] = plane[i];
            } else if (bps == 2) {
                uint16_t *o = (uint16_t *)out + base + i;
                *o = (uint16_t)(low ? *o | v : v);
            } else {
                uint32_t *o = (uint32_t *)out + base + i;
                *o = low ? *o | v : v;
            }
        }
    }
    return MD_OK;
}

/* Which fragments make each frame: start[f] is the first fragment of frame
 * f, start[frames] = nfrag. A single frame takes every fragment. Otherwise
 * the Basic Offset Table is used when it is valid (first entry 0, entries
 * increasing, each on the start of a fragment item); else, when there are
 * as many fragments as frames, one fragment per frame (PS3.5 A.4). */
static MdStatus frame_map(const MdDcm *d, const Frag *fr, size_t nfrag, uint32_t blen, size_t boff,
                          int frames, size_t *start, MdError *err)
{
    start[frames] = nfrag;
    if (frames == 1) {
        start[0] = 0;
        return MD_OK;
    }
    char why[160] = "no Basic Offset Table";
    if (blen > 0 && blen < 4u * (uint32_t)frames)
        snprintf(why, sizeof why, "the Basic Offset Table has %u entries for %d frames", blen / 4,
                 frames);
    if (blen >= 4u * (uint32_t)frames && nfrag > 0) {
        const uint8_t *b = d->data + boff;
        size_t base = fr[0].off - 8, idx = 0;
        int f = 0;
        for (; f < frames; f++) {
            size_t rel = (size_t)b[4 * f] | (size_t)b[4 * f + 1] << 8 |
                         (size_t)b[4 * f + 2] << 16 | (size_t)b[4 * f + 3] << 24;
            while (idx < nfrag && fr[idx].off - 8 - base < rel) idx++;
            if (idx == nfrag || fr[idx].off - 8 - base != rel || (f > 0 && idx <= start[f - 1])) {
                snprintf(why, sizeof why,
                         "Basic Offset Table entry %d (%zu) is not the start of a fragment after "
                         "the previous frame's",
                         f + 1, rel);
                break;
            }
            start[f] = idx;
        }
        if (f == frames) return MD_OK;
    }
    if (nfrag == (size_t)frames) {
        for (int f = 0; f < frames; f++) start[f] = (size_t)f;
        return MD_OK;
    }
    return md_error(err, MD_EFORMAT,
                    "cannot tell which fragments hold which frame: %zu fragments for %d frames "
                    "and %s",
                    nfrag, frames, why);
}

static MdStatus decode_frame(const char *ts, const uint8_t *p, size_t n, const MdDcmImage *im,
                             void *out, uint8_t *plane, MdError *err)
{
    MdFrameSpec fs = {im->rows, im->cols, im->samples,
                      im->bits_alloc == 32 ? 4 : im->bits_alloc / 8};
    if (!strcmp(ts, "1.2.840.10008.1.2.5")) return decode_rle(p, n, im, out, plane, err);
    if (im->bits_alloc == 1 || im->bits_alloc == 32)
        return md_error(err, MD_EUNSUPPORTED, "%d-bit pixels in %s", im->bits_alloc,
                        md_dcm_ts_name(ts));
    if (!strcmp(ts, "1.2.840.10008.1.2.4.57") || !strcmp(ts, "1.2.840.10008.1.2.4.70"))
        return md_jpeg_lossless_decode(p, n, &fs, out, err);
    if (!strcmp(ts, "1.2.840.10008.1.2.4.50") || !strcmp(ts, "1.2.840.10008.1.2.4.51")) {
        MdStatus st = md_jpeg_decode(p, n, &fs, out, err);
        if (st == MD_EUNSUPPORTED) md_error_prefix(err, md_dcm_ts_name(ts));
        return st;
    }
    if (!strcmp(ts, "1.2.840.10008.1.2.4.80") || !strcmp(ts, "1.2.840.10008.1.2.4.81"))
        return md_jpegls_decode(p, n, &fs, out, err);
    if (!strncmp(ts, "1.2.840.10008.1.2.4.9", 21) || !strncmp(ts, "1.2.840.10008.1.2.4.20", 22))
        return md_j2k_decode(p, n, &fs, out, err);
    return md_error(err, MD_EUNSUPPORTED,
                    "transfer syntax %s (%s) is not decoded by medula (decoded: uncompressed, "
                    "deflated, RLE, JPEG Lossless, 8-bit JPEG, JPEG-LS, JPEG 2000)",
                    md_dcm_ts_name(ts), ts);
}

static MdStatus decode_encapsulated(const MdDcm *d, const MdDcmImage *im, void *dst, size_t values,
                                    MdError *err)
{
    Frag *fr;
    size_t nfrag, boff = 0;
    uint32_t blen = 0;
    MdStatus st = fragments(d, &fr, &nfrag, &blen, &boff, err);
    if (st != MD_OK) return st;
    size_t esize = md_dtype_size(md_dcm_stored_dtype(im)), total = 0;
    for (size_t i = 0; i < nfrag; i++) total += fr[i].len;
    uint8_t *plane = malloc(values + 1), *joined = nfrag > 1 ? malloc(total + 1) : NULL;
    size_t *start = malloc(((size_t)im->frames + 1) * sizeof *start);
    if (!plane || !start || (nfrag > 1 && !joined)) st = md_error(err, MD_ENOMEM, "out of memory");
    if (st == MD_OK) st = frame_map(d, fr, nfrag, blen, boff, im->frames, start, err);
    for (int f = 0; f < im->frames && st == MD_OK; f++) {
        size_t first = start[f], count = start[f + 1] - start[f];
        if (count == 0) {
            st = md_error(err, MD_EFORMAT, "frame %d has no fragment", f + 1);
            break;
        }
        const uint8_t *p = d->data + fr[first].off;
        size_t n = fr[first].len;
        if (count > 1) { /* a frame split over fragments is decoded from one copy */
            n = 0;
            for (size_t k = first; k < first + count; k++) {
                memcpy(joined + n, d->data + fr[k].off, fr[k].len);
                n += fr[k].len;
            }
            p = joined;
        }
        st = decode_frame(d->ts, p, n, im, (uint8_t *)dst + (size_t)f * values * esize, plane, err);
        if (st != MD_OK && im->frames > 1) {
            char where[32];
            snprintf(where, sizeof where, "frame %d", f + 1);
            md_error_prefix(err, where);
        }
    }
    free(plane);
    free(joined);
    free(start);
    free(fr);
    return st;
}

MdStatus md_dcm_decode(const MdDcm *d, const MdDcmImage *im, void *dst, MdError *err)
{
    size_t values, bytes;
    MdStatus st = md_dcm_check_pixels(d, im, err);
    if (st == MD_OK) st = md_dcm_frame_size(im, &values, &bytes, err);
    if (st != MD_OK) return st;
    if (d->el[d->pixel].len != MD_DCM_UNDEF)
        st = decode_native(d, im, dst, values, err);
    else
        st = decode_encapsulated(d, im, dst, values, err);
    if (st == MD_OK) fix_bits(dst, values * (size_t)im->frames, im);
    return st;
}

int md_dcm_direct(const MdDcm *d, const MdDcmImage *im, size_t *off, size_t *len)
{
    const MdDcmElem *e = &d->el[d->pixel];
    if (!d->complete || d->deflated || d->gzipped || e->len == MD_DCM_UNDEF || im->samples != 1 ||
        im->bits_alloc == 1 || (e->big && im->bits_alloc > 8))
        return 0;
    *off = e->off;
    *len = e->len;
    return 1;
}

MdStatus md_dcm_read_direct(const char *path, size_t off, size_t len, const MdDcmImage *im,
                            void *dst, MdError *err)
{
    size_t values, bytes;
    MdStatus st = md_dcm_frame_size(im, &values, &bytes, err);
    if (st != MD_OK) return st;
    if (len < bytes)
        return md_error(err, MD_EFORMAT,
                        "Pixel Data has %zu bytes, Rows x Columns x Frames x "
                        "Samples x BitsAllocated needs %zu (%d x %d x %d x %d x %d bits)",
                        len, bytes, im->rows, im->cols, im->frames, im->samples, im->bits_alloc);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return md_error(err, MD_EIO, "cannot open");
    size_t got = md_pread_full(fd, dst, bytes, (off_t)off);
    close(fd);
    if (got != bytes)
        return md_error(err, MD_EFORMAT,
                        "Pixel Data is truncated: the element announces %zu bytes, the file "
                        "holds %zu",
                        len, got);
    fix_bits(dst, values * (size_t)im->frames, im);
    return MD_OK;
}
