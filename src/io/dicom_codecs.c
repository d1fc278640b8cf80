/* Compressed DICOM frames (see dicom_codecs.h). Lossless JPEG (ITU T.81
 * process 14, the most common CT compression) is decoded here: Huffman
 * coded differences from one of seven predictors. 8-bit lossy JPEG goes to
 * libjpeg-turbo, JPEG-LS to CharLS and JPEG 2000 to OpenJPEG (Debian libraries). */
#include "dicom_codecs.h"

#include <charls/charls.h>
#include <openjpeg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h> /* after stdio.h, which it needs */

/* Stores value v (raw bits) as element i of out. */
static void put(void *out, int bytes, size_t i, int32_t v)
{
    if (bytes == 1)
        ((uint8_t *)out)[i] = (uint8_t)v;
    else if (bytes == 2)
        ((uint16_t *)out)[i] = (uint16_t)v;
    else
        ((uint32_t *)out)[i] = (uint32_t)v;
}

/* ---- lossless JPEG ---------------------------------------------------- */

typedef struct Huff {
    int32_t maxcode[18], valptr[17], mincode[17];
    uint8_t val[256];
    int defined;
} Huff;

typedef struct Bits {
    const uint8_t *p;
    size_t n, pos;
    uint32_t acc;
    int cnt, marker, over;
} Bits;

static void fill(Bits *b)
{
    while (b->cnt <= 24) {
        uint32_t c = 0;
        if (!b->marker && b->pos < b->n) {
            c = b->p[b->pos];
            if (c == 0xFF) {
                uint8_t next = b->pos + 1 < b->n ? b->p[b->pos + 1] : 0;
                if (next == 0x00)
                    b->pos += 2; /* stuffed byte */
                else
                    b->marker = 1, c = 0;
            } else {
                b->pos++;
            }
        } else {
            b->over++;
        }
        b->acc |= c << (24 - b->cnt);
        b->cnt += 8;
    }
}

static uint32_t getbits(Bits *b, int n)
{
    if (n == 0) return 0;
    fill(b);
    uint32_t v = b->acc >> (32 - n);
    b->acc <<= n;
    b->cnt -= n;
    return v;
}

static int decode_huff(Bits *b, const Huff *h)
{
    fill(b);
    int32_t code = 0;
    for (int l = 1; l <= 16; l++) {
        code = (code << 1) | (int32_t)(b->acc >> 31);
        b->acc <<= 1;
        b->cnt--;
        if (code <= h->maxcode[l]) return h->val[(h->valptr[l] + code - h->mincode[l]) & 255];
    }
    return -1;
}

/* A DHT segment: one or more tables. */
static int read_dht(const uint8_t *p, size_t len, Huff tabs[4])
{
    size_t i = 0;
    while (i + 17 <= len) {
        int id = p[i] & 15;
        if (id > 3) return 0;
        Huff *h = &tabs[id];
        const uint8_t *counts = p + i + 1;
        size_t total = 0;
        for (int l = 0; l < 16; l++) total += counts[l];
        if (total > 256 || i + 17 + total > len) return 0;
        memcpy(h->val, p + i + 17, total);
        int32_t code = 0, k = 0;
        for (int l = 1; l <= 16; l++) {
            h->valptr[l] = k;
            h->mincode[l] = code;
            code += counts[l - 1];
            k += counts[l - 1];
            h->maxcode[l] = counts[l - 1] ? code - 1 : -1;
            code <<= 1;
        }
        h->maxcode[17] = 0x7FFFFFFF;
        h->defined = 1;
        i += 17 + total;
    }
    return i == len;
}

typedef struct Frame {
    int prec, width, height, ncomp, ids[4];
    int psv, pt, restart;
    const Huff *tab[4];
} Frame;

static int32_t predict(int psv, int32_t ra, int32_t rb, int32_t rc)
{
    switch (psv) {
    case 1: return ra;
    case 2: return rb;
    case 3: return rc;
    case 4: return ra + rb - rc;
    case 5: return ra + ((rb - rc) >> 1);
    case 6: return rb + ((ra - rc) >> 1);
    default: return (ra + rb) >> 1;
    }
}

/* Decodes the scan in [p, p+n) into out ([comp][row][col]). */
static MdStatus lossless_scan(Bits *b, const Frame *fr, const MdFrameSpec *f, void *out,
                              MdError *err)
{
    size_t npix = (size_t)fr->width * (size_t)fr->height;
    int32_t mask = (int32_t)((1u << fr->prec) - 1), start = 1 << (fr->prec - fr->pt - 1);
    int32_t *prev = calloc((size_t)fr->width * (size_t)fr->ncomp * 2, sizeof *prev);
    if (!prev) return md_error(err, MD_ENOMEM, "out of memory");
    int32_t *base = prev, *cur = prev + (size_t)fr->width * (size_t)fr->ncomp;
    int left = fr->restart ? fr->restart : -1, first_line = 1;
    for (int y = 0; y < fr->height; y++) {
        for (int x = 0; x < fr->width; x++) {
            if (left == 0) { /* restart marker: re-align, predictor starts over */
                b->acc = 0, b->cnt = 0, b->marker = 0;
                if (b->pos + 1 < b->n && b->p[b->pos] == 0xFF && (b->p[b->pos + 1] & 0xF8) == 0xD0)
                    b->pos += 2;
                left = fr->restart;
                first_line = 1; /* as at the start of the image (T.81 H.1.1.2) */
            }
            for (int c = 0; c < fr->ncomp; c++) {
                int ssss = decode_huff(b, fr->tab[c]);
                if (ssss < 0 || ssss > 16) {
                    free(base);
                    return md_error(err, MD_EFORMAT, "lossless JPEG: bad Huffman code at row %d",
                                    y);
                }
                int32_t diff;
                if (ssss == 16) {
                    diff = 32768;
                } else {
                    diff = (int32_t)getbits(b, ssss);
                    if (ssss && diff < (1 << (ssss - 1))) diff -= (1 << ssss) - 1;
                }
                size_t k = (size_t)x * (size_t)fr->ncomp + (size_t)c;
                int32_t pred;
                if (first_line)
                    pred = x == 0 ? start : cur[k - (size_t)fr->ncomp];
                else if (x == 0)
                    pred = prev[k];
                else
                    pred = predict(fr->psv, cur[k - (size_t)fr->ncomp], prev[k],
                                   prev[k - (size_t)fr->ncomp]);
                int32_t v = (pred + diff) & 0xFFFF;
                cur[k] = v;
                put(out, f->bytes, (size_t)c * npix + (size_t)y * (size_t)fr->width + (size_t)x,
                    (v << fr->pt) & mask);
            }
            if (left > 0) left--;
        }
        first_line = 0;
        int32_t *t = prev;
        prev = cur;
        cur = t;
    }
    free(base);
    if (b->over > 4) return md_error(err, MD_EFORMAT, "lossless JPEG data ends early");
    return MD_OK;
}

static MdStatus read_sof3(const uint8_t *s, size_t len, Frame *fr, const MdFrameSpec *f,
                          MdError *err)
{
    if (len < 6) return md_error(err, MD_EFORMAT, "lossless JPEG: short SOF");
    fr->prec = s[0];
    fr->height = s[1] << 8 | s[2];
    fr->width = s[3] << 8 | s[4];
    fr->ncomp = s[5];
    if (fr->ncomp < 1 || fr->ncomp > 4 || len < 6 + 3u * (size_t)fr->ncomp)
        return md_error(err, MD_EFORMAT, "lossless JPEG: bad component count %d", fr->ncomp);
    for (int c = 0; c < fr->ncomp; c++) {
        fr->ids[c] = s[6 + 3 * c];
        if (s[7 + 3 * c] != 0x11)
            return md_error(err, MD_EUNSUPPORTED, "lossless JPEG with subsampled components");
    }
    if (fr->prec < 2 || fr->prec > 16 || fr->width != f->cols || fr->height != f->rows ||
        fr->ncomp != f->samples)
        return md_error(err, MD_EFORMAT,
                        "lossless JPEG frame is %dx%d, %d components, %d bits; "
                        "the DICOM header says %dx%d, %d samples",
                        fr->width, fr->height, fr->ncomp, fr->prec, f->cols, f->rows, f->samples);
    return MD_OK;
}

MdStatus md_jpeg_lossless_decode(const uint8_t *p, size_t n, const MdFrameSpec *f, void *out,
                                 MdError *err)
{
    Huff tabs[4];
    Frame fr;
    memset(tabs, 0, sizeof tabs);
    memset(&fr, 0, sizeof fr);
    if (n < 4 || p[0] != 0xFF || p[1] != 0xD8)
        return md_error(err, MD_EFORMAT, "lossless JPEG: no SOI marker");
    size_t i = 2;
    int have_sof = 0;
    while (i + 4 <= n) {
        if (p[i] != 0xFF)
            return md_error(err, MD_EFORMAT, "lossless JPEG: marker expected at byte %zu", i);
        int m = p[i + 1];
        if (m == 0xFF) {
            i++;
            continue;
        } /* fill byte */
        size_t len = (size_t)(p[i + 2] << 8 | p[i + 3]);
        if (len < 2 || i + 2 + len > n)
            return md_error(err, MD_EFORMAT, "lossless JPEG: segment past the end");
        const uint8_t *s = p + i + 4;
        if (m == 0xC3) {
            MdStatus st = read_sof3(s, len - 2, &fr, f, err);
            if (st != MD_OK) return st;
            have_sof = 1;
        } else if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            return md_error(err, MD_EUNSUPPORTED, "JPEG process SOF%d is not lossless (process 14)",
                            m - 0xC0);
        } else if (m == 0xC4) {
            if (!read_dht(s, len - 2, tabs))
                return md_error(err, MD_EFORMAT, "lossless JPEG: bad Huffman table");
        } else if (m == 0xDD && len >= 4) {
            fr.restart = s[0] << 8 | s[1];
        } else if (m == 0xDA) {
            if (!have_sof || len - 2 < 1 || s[0] != fr.ncomp ||
                len - 2 < 1 + 2u * (size_t)fr.ncomp + 3)
                return md_error(err, MD_EFORMAT,
                                "lossless JPEG: bad or non-interleaved scan header");
            for (int c = 0; c < fr.ncomp; c++) {
                int t = s[2 + 2 * c] >> 4;
                if (t > 3 || !tabs[t].defined)
                    return md_error(err, MD_EFORMAT, "lossless JPEG: undefined Huffman table");
                fr.tab[c] = &tabs[t];
            }
            fr.psv = s[1 + 2 * fr.ncomp];
            fr.pt = s[3 + 2 * fr.ncomp] & 15;
            if (fr.psv < 1 || fr.psv > 7 || fr.pt >= fr.prec)
                return md_error(err, MD_EFORMAT, "lossless JPEG: predictor %d, point transform %d",
                                fr.psv, fr.pt);
            Bits b = {p + i + 2 + len, n - (i + 2 + len), 0, 0, 0, 0, 0};
            return lossless_scan(&b, &fr, f, out, err);
        }
        i += 2 + len;
    }
    return md_error(err, MD_EFORMAT, "lossless JPEG: no scan found");
}

/* ---- JPEG baseline / extended, 8-bit (libjpeg-turbo) ----------------- */

typedef struct JErr {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} JErr;

static void jerr_exit(j_common_ptr c)
{
    JErr *e = (JErr *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jump, 1);
}

static void jerr_quiet(j_common_ptr c)
{
    (void)c;
}

/* Decoding happens in its own function so that longjmp skips no cleanup. */
static MdStatus jpeg_run(struct jpeg_decompress_struct *c, JErr *je, const uint8_t *p, size_t n,
                         const MdFrameSpec *f, void *out, JSAMPLE **row, MdError *err)
{
    if (setjmp(je->jump)) {
        if (strstr(je->msg, "precision")) /* libjpeg-turbo 2.1 is built for 8-bit samples */
            return md_error(err, MD_EUNSUPPORTED,
                            "%s: only 8-bit lossy JPEG is decoded (Debian's "
                            "libjpeg-turbo 2.1 has no 12-bit decoder)",
                            je->msg);
        return md_error(err, MD_EFORMAT, "JPEG: %s", je->msg);
    }
    jpeg_mem_src(c, p, (unsigned long)n);
    jpeg_read_header(c, TRUE);
    if (c->data_precision != 8)
        return md_error(err, MD_EUNSUPPORTED,
                        "%d-bit lossy JPEG is not decoded (Debian's "
                        "libjpeg-turbo 2.1 decodes 8-bit JPEG only)",
                        c->data_precision);
    if (c->num_components == 3) c->out_color_space = JCS_RGB; /* YBR_FULL_422 -> RGB, as GDCM */
    jpeg_start_decompress(c);
    if ((int)c->output_width != f->cols || (int)c->output_height != f->rows ||
        c->output_components != f->samples)
        return md_error(err, MD_EFORMAT,
                        "JPEG frame is %ux%u with %d components; the DICOM "
                        "header says %dx%d with %d",
                        c->output_width, c->output_height, c->output_components, f->cols, f->rows,
                        f->samples);
    *row = malloc((size_t)f->cols * (size_t)f->samples);
    if (!*row) return md_error(err, MD_ENOMEM, "out of memory");
    size_t npix = (size_t)f->rows * (size_t)f->cols;
    while (c->output_scanline < c->output_height) {
        size_t y = c->output_scanline;
        jpeg_read_scanlines(c, row, 1);
        for (int x = 0; x < f->cols; x++)
            for (int s = 0; s < f->samples; s++)
                put(out, f->bytes, (size_t)s * npix + y * (size_t)f->cols + (size_t)x,
                    (*row)[(size_t)x * (size_t)f->samples + (size_t)s]);
    }
    jpeg_finish_decompress(c);
    return MD_OK;
}

MdStatus md_jpeg_decode(const uint8_t *p, size_t n, const MdFrameSpec *f, void *out, MdError *err)
{
    struct jpeg_decompress_struct c;
    JErr je;
    JSAMPLE *row = NULL;
    c.err = jpeg_std_error(&je.mgr);
    je.mgr.error_exit = jerr_exit;
    je.mgr.output_message = jerr_quiet;
    je.msg[0] = 0;
    jpeg_create_decompress(&c);
    MdStatus st = jpeg_run(&c, &je, p, n, f, out, &row, err);
    jpeg_destroy_decompress(&c);
    free(row);
    return st;
}

/* ---- JPEG-LS (CharLS) -------------------------------------------------- */

MdStatus md_jpegls_decode(const uint8_t *p, size_t n, const MdFrameSpec *f, void *out, MdError *err)
{
    charls_jpegls_decoder *dec = charls_jpegls_decoder_create();
    if (!dec) return md_error(err, MD_ENOMEM, "cannot create a JPEG-LS decoder");
    charls_frame_info fi;
    charls_interleave_mode mode = CHARLS_INTERLEAVE_MODE_NONE;
    size_t size = 0;
    uint8_t *buf = NULL;
    MdStatus st = MD_OK;
    charls_jpegls_errc rc = charls_jpegls_decoder_set_source_buffer(dec, p, n);
    if (!rc) rc = charls_jpegls_decoder_read_header(dec);
    if (!rc) rc = charls_jpegls_decoder_get_frame_info(dec, &fi);
    if (!rc) rc = charls_jpegls_decoder_get_interleave_mode(dec, &mode);
    if (!rc) rc = charls_jpegls_decoder_get_destination_size(dec, 0, &size);
    if (!rc && ((int)fi.width != f->cols || (int)fi.height != f->rows ||
                (int)fi.component_count != f->samples))
        st = md_error(err, MD_EFORMAT,
                      "JPEG-LS frame is %ux%u with %d components; the DICOM header "
                      "says %dx%d with %d",
                      fi.width, fi.height, fi.component_count, f->cols, f->rows, f->samples);
    if (!rc && st == MD_OK && !(buf = malloc(size ? size : 1)))
        st = md_error(err, MD_ENOMEM, "out of memory");
    if (!rc && st == MD_OK) rc = charls_jpegls_decoder_decode_to_buffer(dec, buf, size, 0);
    if (rc) st = md_error(err, MD_EFORMAT, "JPEG-LS: %s", charls_get_error_message(rc));
    if (st == MD_OK) {
        size_t npix = (size_t)f->rows * (size_t)f->cols, ns = (size_t)f->samples;
        int wide = fi.bits_per_sample > 8;
        for (size_t s = 0; s < ns; s++)
            for (size_t i = 0; i < npix; i++) {
                /* interleaved modes keep a pixel's samples together */
                size_t k =
                    mode == CHARLS_INTERLEAVE_MODE_NONE ? s * npix + i
                    : mode == CHARLS_INTERLEAVE_MODE_SAMPLE
                        ? i * ns + s
                        : (i / (size_t)f->cols * ns + s) * (size_t)f->cols + i % (size_t)f->cols;
                int32_t v = wide ? ((uint16_t *)buf)[k] : buf[k];
                put(out, f->bytes, s * npix + i, v);
            }
    }
    free(buf);
    charls_jpegls_decoder_destroy(dec);
    return st;
}

/* ---- JPEG 2000 (OpenJPEG) ---------------------------------------------- */

typedef struct Mem {
    const uint8_t *p;
    size_t n, pos;
} Mem;

static OPJ_SIZE_T mem_read(void *dst, OPJ_SIZE_T k, void *u)
{
    Mem *m = u;
    if (m->pos >= m->n) return (OPJ_SIZE_T)-1;
    if (k > m->n - m->pos) k = m->n - m->pos;
    memcpy(dst, m->p + m->pos, k);
    m->pos += k;
    return k;
}

static OPJ_OFF_T mem_skip(OPJ_OFF_T k, void *u)
{
    Mem *m = u;
    if (k < 0 && (size_t)-k > m->pos) k = -(OPJ_OFF_T)m->pos;
    if (k > 0 && (size_t)k > m->n - m->pos) k = (OPJ_OFF_T)(m->n - m->pos);
    m->pos += (size_t)k;
    return k;
}

static OPJ_BOOL mem_seek(OPJ_OFF_T k, void *u)
{
    Mem *m = u;
    if (k < 0 || (size_t)k > m->n) return OPJ_FALSE;
    m->pos = (size_t)k;
    return OPJ_TRUE;
}

static void opj_msg(const char *msg, void *u)
{
    char *dst = u;
    if (!dst[0]) snprintf(dst, 200, "%s", msg);
    size_t l = strlen(dst);
    if (l && dst[l - 1] == '\n') dst[l - 1] = 0;
}

static void opj_quiet(const char *msg, void *u)
{
    (void)msg;
    (void)u;
}

static uint32_t be(const uint8_t *p, int bytes)
{
    uint32_t v = 0;
    for (int i = 0; i < bytes; i++) v = v << 8 | p[i];
    return v;
}

/* The codestream's SIZ marker (right after SOC, which starts a bare
 * codestream or the contents of a JP2 file's jp2c box) checked against the
 * frame before OpenJPEG sees it: OpenJPEG's header reading already
 * allocates and clears a record per tile, so a 3.5 kB frame announcing
 * 512 x 16 million voxels in small tiles took seconds (found by fuzzing).
 * Where SOC and SIZ are not found there, OpenJPEG gives its own error. */
static MdStatus j2k_siz_check(const uint8_t *p, size_t n, const MdFrameSpec *f, MdError *err)
{
    static const uint8_t soc_siz[] = {0xFF, 0x4F, 0xFF, 0x51};
    const uint8_t *q = p;
    if (n < 4 || memcmp(p, soc_siz, 4) != 0) {
        const uint8_t *box = n >= 8 ? memmem(p + 4, n - 4, "jp2c", 4) : NULL; /* type after a 4-byte length */
        if (!box) return MD_OK;
        q = box + 4 + (be(box - 4, 4) == 1 ? 8 : 0); /* length 1: an 8-byte length follows */
        if ((size_t)(p + n - q) < 4 || memcmp(q, soc_siz, 4) != 0) return MD_OK;
    }
    if ((size_t)(p + n - q) < 4 + 38) return MD_OK;
    q += 4;
    const uint32_t xs = be(q + 4, 4), ys = be(q + 8, 4), xo = be(q + 12, 4), yo = be(q + 16, 4);
    const uint32_t xt = be(q + 20, 4), yt = be(q + 24, 4), xto = be(q + 28, 4), yto = be(q + 32, 4);
    const uint32_t comps = be(q + 36, 2);
    if (xs <= xo || ys <= yo || xs - xo != (uint32_t)f->cols || ys - yo != (uint32_t)f->rows ||
        comps != (uint32_t)f->samples)
        return md_error(err, MD_EFORMAT,
                        "JPEG 2000 codestream is %ux%u with %u components, the DICOM header says %dx%d with %d",
                        xs > xo ? xs - xo : 0, ys > yo ? ys - yo : 0, comps, f->cols, f->rows, f->samples);
    if (xt == 0 || yt == 0 || xto > xo || yto > yo)
        return md_error(err, MD_EFORMAT, "JPEG 2000 codestream has an invalid tile grid (%ux%u at %u,%u)", xt, yt,
                        xto, yto);
    const uint64_t tiles = (uint64_t)((xs - xto + (uint64_t)xt - 1) / xt) * ((ys - yto + (uint64_t)yt - 1) / yt);
    if (tiles > 65535) /* a codestream numbers its tiles in 16 bits */
        return md_error(err, MD_EFORMAT, "JPEG 2000 codestream has %llu tiles (at most 65535)",
                        (unsigned long long)tiles);
    return MD_OK;
}

MdStatus md_j2k_decode(const uint8_t *p, size_t n, const MdFrameSpec *f, void *out, MdError *err)
{
    const MdStatus siz = j2k_siz_check(p, n, f, err);
    if (siz != MD_OK) return siz;
    static const uint8_t jp2_sig[] = {0, 0, 0, 0x0C, 'j', 'P', ' ', ' '};
    int jp2 = n >= 8 && memcmp(p, jp2_sig, 8) == 0;
    opj_codec_t *codec = opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
    opj_stream_t *stream = opj_stream_create(1 << 16, OPJ_TRUE);
    opj_image_t *img = NULL;
    char msg[200] = "";
    MdStatus st = MD_OK;
    Mem m = {p, n, 0};
    opj_dparameters_t par;
    opj_set_default_decoder_parameters(&par);
    if (!codec || !stream) {
        st = md_error(err, MD_ENOMEM, "cannot create a JPEG 2000 decoder");
        goto out;
    }
    opj_set_error_handler(codec, opj_msg, msg);
    opj_set_warning_handler(codec, opj_quiet, NULL);
    opj_set_info_handler(codec, opj_quiet, NULL);
    opj_stream_set_user_data(stream, &m, NULL);
    opj_stream_set_user_data_length(stream, n);
    opj_stream_set_read_function(stream, mem_read);
    opj_stream_set_skip_function(stream, mem_skip);
    opj_stream_set_seek_function(stream, mem_seek);
    if (!opj_setup_decoder(codec, &par) || !opj_read_header(stream, codec, &img)) {
        st = md_error(err, MD_EFORMAT, "JPEG 2000: %s",
                      msg[0] ? msg : "cannot read the codestream header");
        goto out;
    }
    /* The codestream's own size must be the frame's before anything is
     * decoded: OpenJPEG allocates what its header announces (a 4 kB frame
     * announcing a 4.7 GB image was found by fuzzing). */
    if ((int)img->numcomps != f->samples || img->x1 <= img->x0 || img->y1 <= img->y0 ||
        img->x1 - img->x0 != (OPJ_UINT32)f->cols || img->y1 - img->y0 != (OPJ_UINT32)f->rows) {
        st = md_error(err, MD_EFORMAT,
                      "JPEG 2000 codestream is %ux%u with %u components, the DICOM header says "
                      "%dx%d with %d",
                      img->x1 - img->x0, img->y1 - img->y0, img->numcomps, f->cols, f->rows,
                      f->samples);
        goto out;
    }
    for (OPJ_UINT32 c = 0; c < img->numcomps; c++)
        if (img->comps[c].dx != 1 || img->comps[c].dy != 1 || img->comps[c].prec > 32) {
            st = md_error(err, MD_EUNSUPPORTED,
                          "JPEG 2000 component %u is subsampled or has %u-bit samples", c + 1,
                          img->comps[c].prec);
            goto out;
        }
    if (!opj_decode(codec, stream, img) || !opj_end_decompress(codec, stream)) {
        st = md_error(err, MD_EFORMAT, "JPEG 2000: %s",
                      msg[0] ? msg : "cannot decode the codestream");
        goto out;
    }
    if ((int)img->numcomps != f->samples) {
        st =
            md_error(err, MD_EFORMAT, "JPEG 2000 frame has %u components, the DICOM header says %d",
                     img->numcomps, f->samples);
        goto out;
    }
    size_t npix = (size_t)f->rows * (size_t)f->cols;
    for (int c = 0; c < f->samples; c++) {
        const opj_image_comp_t *cp = &img->comps[c];
        if ((int)cp->w != f->cols || (int)cp->h != f->rows || !cp->data) {
            st = md_error(err, MD_EFORMAT,
                          "JPEG 2000 component is %ux%u, the DICOM header says %dx%d", cp->w, cp->h,
                          f->cols, f->rows);
            goto out;
        }
        for (size_t i = 0; i < npix; i++) put(out, f->bytes, (size_t)c * npix + i, cp->data[i]);
    }
out:
    if (img) opj_image_destroy(img);
    if (stream) opj_stream_destroy(stream);
    if (codec) opj_destroy_codec(codec);
    return st;
}
