/* PNG reader and writer on libpng's classic interface. libpng reports
 * errors by longjmp: every resource a read or write holds lives in one
 * context struct (never in locals changed after setjmp), released at a
 * single exit whichever way it is reached. */
#include "png.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomicfile.h"

typedef struct PngCtx {
    png_structp png;
    png_infop info;
    FILE *fp;            /* reading */
    MdAtomicFile out;    /* writing */
    unsigned char *rows; /* interleaved image or one row */
    png_bytep *rowp;
    int channels;        /* writing: samples per pixel */
    char msg[200];
} PngCtx;

static void on_error(png_structp png, png_const_charp msg)
{
    PngCtx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* benign problems (an invalid sCAL, a bad CRC in an ancillary chunk) */
}

int md_png_sniff(const unsigned char *b, size_t n)
{
    return n >= 8 && png_sig_cmp(b, 0, 8) == 0;
}

/* ---- reading ---- */

/* Output layout for the stored colour type: channels, and whether a palette
 * maps to grey. */
static int out_channels(PngCtx *c, int color_type, int *palette_grey)
{
    *palette_grey = 0;
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: break;
    }
    png_colorp pal;
    int npal = 0;
    png_get_PLTE(c->png, c->info, &pal, &npal);
    *palette_grey = 1;
    for (int i = 0; i < npal; i++)
        if (pal[i].red != pal[i].green || pal[i].red != pal[i].blue) *palette_grey = 0;
    return *palette_grey ? 1 : 3;
}

/* Copies the interleaved samples (or palette indices) into the planar
 * volume: channel c of pixel (x, y) goes to ((c * h) + y) * w + x. */
static MdStatus unpack(PngCtx *c, int color_type, int depth, int channels, int palette_grey,
                       MdVolume *out, MdError *err)
{
    size_t w = (size_t)out->dim[0], h = (size_t)out->dim[1];
    int in_ch = png_get_channels(c->png, c->info);
    size_t es = depth == 16 ? 2 : 1;
    png_colorp pal = NULL;
    int npal = 0;
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_get_PLTE(c->png, c->info, &pal, &npal);
    for (size_t y = 0; y < h; y++) {
        const unsigned char *row = c->rowp[y];
        for (size_t x = 0; x < w; x++) {
            if (pal) {
                int k = row[x];
                if (k >= npal)
                    return md_error(err, MD_EFORMAT, "palette index %d at pixel (%zu, %zu) is past "
                                    "the %d palette entries", k, x + 1, y + 1, npal);
                const unsigned char rgb[3] = {pal[k].red, pal[k].green, pal[k].blue};
                for (int ch = 0; ch < (palette_grey ? 1 : 3); ch++)
                    ((uint8_t *)md_volume_data(out))[((size_t)ch * h + y) * w + x] = rgb[ch];
                continue;
            }
            for (int ch = 0; ch < channels && ch < in_ch; ch++)
                memcpy((unsigned char *)md_volume_data(out) + (((size_t)ch * h + y) * w + x) * es,
                       row + ((size_t)x * (size_t)in_ch + (size_t)ch) * es, es);
        }
    }
    return MD_OK;
}

/* Spacing from sCAL (metres -> mm); 1 mm when absent or not in metres. */
static void read_spacing(PngCtx *c, MdVolume *out, MdMeta *meta, MdStatus *st)
{
    int unit = 0;
    double sw = 0, sh = 0;
    if (png_get_sCAL(c->png, c->info, &unit, &sw, &sh) && unit == PNG_SCALE_METER && sw > 0 &&
        sh > 0 && isfinite(sw) && isfinite(sh)) {
        out->spacing[0] = sw * 1000.0;
        out->spacing[1] = sh * 1000.0;
        if (*st == MD_OK) *st = md_meta_setf(meta, "png_scal_m", "%.12g %.12g", sw, sh);
    }
    png_uint_32 rx, ry;
    int ptype;
    if (png_get_pHYs(c->png, c->info, &rx, &ry, &ptype) && *st == MD_OK)
        *st = md_meta_setf(meta, "png_phys", "%u %u %s", (unsigned)rx, (unsigned)ry,
                           ptype == PNG_RESOLUTION_METER ? "per_metre" : "unknown_unit");
}

static MdStatus read_png(PngCtx *c, MdVolume *out, MdMeta *meta, MdError *err)
{
    png_uint_32 w, h;
    int depth, color_type, interlace;
    png_read_info(c->png, c->info);
    png_get_IHDR(c->png, c->info, &w, &h, &depth, &color_type, &interlace, NULL, NULL);
    if (depth < 8) png_set_packing(c->png); /* one byte per sample, values unscaled */
    if (depth == 16) {
        const uint16_t probe = 1;
        if (*(const unsigned char *)&probe == 1) png_set_swap(c->png); /* PNG is big-endian */
    }
    png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);
    int palette_grey;
    int channels = out_channels(c, color_type, &palette_grey);
    int64_t dim[4] = {(int64_t)w, (int64_t)h, 1, channels};
    MdStatus st = md_volume_check_dims(4, dim, err);
    if (st != MD_OK) return st;
    md_volume_init(out, depth == 16 ? MD_UINT16 : MD_UINT8, channels > 1 ? 4 : 2, dim);
    size_t rowbytes = png_get_rowbytes(c->png, c->info);
    /* deflate inflates at most 1032:1: a small file cannot hold a huge image */
    struct stat sb;
    if (fstat(fileno(c->fp), &sb) == 0 && rowbytes && (size_t)h > ((size_t)sb.st_size + 4096) * 1032 / rowbytes)
        return md_error(err, MD_EFORMAT, "a %lld-byte PNG cannot hold a %u x %u image", (long long)sb.st_size,
                        (unsigned)w, (unsigned)h);
    c->rows = malloc((size_t)h * rowbytes);
    c->rowp = malloc((size_t)h * sizeof *c->rowp);
    if (!c->rows || !c->rowp) return md_error(err, MD_ENOMEM, "out of memory for %ux%u pixels", w, h);
    for (size_t y = 0; y < h; y++) c->rowp[y] = c->rows + y * rowbytes;
    png_read_image(c->png, c->rowp);
    png_read_end(c->png, NULL);
    if ((st = md_volume_alloc(out, 0, 0, err)) != MD_OK) return st;
    if ((st = unpack(c, color_type, depth, channels, palette_grey, out, err)) != MD_OK) return st;
    static const char *const names[] = {"grey", "?", "rgb", "palette", "grey_alpha", "?", "rgba"};
    st = md_meta_set(meta, "format", "PNG");
    if (st == MD_OK) st = md_meta_setf(meta, "png_color_type", "%s", names[color_type & 7]);
    if (st == MD_OK) st = md_meta_setf(meta, "png_bit_depth", "%d", depth);
    if (st == MD_OK && color_type == PNG_COLOR_TYPE_PALETTE)
        st = md_meta_set(meta, "png_palette", palette_grey ? "grey" : "colour");
    read_spacing(c, out, meta, &st);
    if (st != MD_OK) return md_error(err, MD_ENOMEM, "out of memory for metadata");
    return MD_OK;
}

static void close_ctx(PngCtx *c, int writing)
{
    if (c->png) {
        if (writing)
            png_destroy_write_struct(&c->png, &c->info);
        else
            png_destroy_read_struct(&c->png, &c->info, NULL);
    }
    if (c->fp) fclose(c->fp);
    md_atomic_abort(&c->out);
    free(c->rows);
    free(c->rowp);
}

/* Every chunk must fit in the file: libpng allocates and clears what a
 * chunk announces before reading it, so a 100-byte file announcing a
 * 1.6 GB sCAL chunk would cost 1.6 GB and seconds. Leaves fp after the
 * signature. */
static MdStatus check_chunks(FILE *fp, MdError *err)
{
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0) return MD_OK;
    uint64_t size = (uint64_t)sb.st_size, pos = 8;
    unsigned char h[8];
    MdStatus st = MD_OK;
    while (st == MD_OK && pos + 8 <= size && fseek(fp, (long)pos, SEEK_SET) == 0 && fread(h, 1, 8, fp) == 8) {
        uint64_t len = (uint64_t)h[0] << 24 | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 8 | h[3];
        char type[5];
        for (int i = 0; i < 4; i++) type[i] = h[4 + i] >= 32 && h[4 + i] < 127 ? (char)h[4 + i] : '?';
        type[4] = 0;
        if (len > size - pos - 8)
            st = md_error(err, MD_EFORMAT,
                          "corrupt PNG: chunk %s at byte %llu announces %llu bytes, the file has "
                          "%llu left",
                          type, (unsigned long long)pos, (unsigned long long)len,
                          (unsigned long long)(size - pos - 8));
        if (!memcmp(h + 4, "IEND", 4)) break;
        pos += 12 + len;
    }
    if (fseek(fp, 8, SEEK_SET) != 0 && st == MD_OK) st = md_error(err, MD_EIO, "cannot seek");
    return st;
}

MdStatus md_png_read(const char *path, const MdReadOpts *opts, MdVolume *out, MdMeta *meta,
                     MdError *err)
{
    (void)opts;
    PngCtx *c = calloc(1, sizeof *c);
    if (!c) return md_error(err, MD_ENOMEM, "out of memory");
    MdStatus st = MD_OK;
    unsigned char sig[8] = {0};
    c->fp = fopen(path, "rb");
    if (!c->fp) {
        st = md_error(err, MD_EIO, "cannot open (%s)", strerror(errno));
    } else if (fread(sig, 1, 8, c->fp) != 8 || !md_png_sniff(sig, 8)) {
        st = md_error(err, MD_EFORMAT, "not a PNG file (no PNG signature)");
    } else if ((st = check_chunks(c->fp, err)) != MD_OK) {
    } else if (!(c->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c, on_error, on_warning)) ||
               !(c->info = png_create_info_struct(c->png))) {
        st = md_error(err, MD_ENOMEM, "out of memory for libpng");
    } else if (setjmp(png_jmpbuf(c->png))) {
        st = md_error(err, MD_EFORMAT, "corrupt PNG: %s", c->msg);
    } else {
        png_set_benign_errors(c->png, 1);
        png_set_chunk_malloc_max(c->png, (png_alloc_size_t)8 << 20);
        png_init_io(c->png, c->fp);
        png_set_sig_bytes(c->png, 8);
        st = read_png(c, out, meta, err);
    }
    close_ctx(c, 0);
    free(c);
    if (st != MD_OK) md_error_prefix(err, path);
    return st;
}

/* ---- writing ---- */

/* Channels of a writable image: (x, y), (x, y, 1) or (x, y, 1, C), C <= 4. */
static MdStatus write_channels(const MdVolume *v, int *channels, MdError *err)
{
    int ok = v->ndim == 2 || (v->ndim >= 3 && v->dim[2] == 1);
    int64_t ch = v->ndim == 4 ? v->dim[3] : 1;
    if (!ok || ch < 1 || ch > 4) {
        char shape[96];
        return md_error(err, MD_EINVAL, "PNG holds 2-D images with 1 to 4 channels (x, y[, 1, C]); got %s",
                        md_volume_shape_text(v, shape, sizeof shape));
    }
    if (v->dim[0] > 0x7fffffff || v->dim[1] > 0x7fffffff)
        return md_error(err, MD_EINVAL, "image too large for PNG");
    *channels = (int)ch;
    return MD_OK;
}

/* One output row: samples of row y interleaved, as stored or windowed. */
static void make_row(const MdVolume *v, size_t y, int channels, int bits, int window, double lo,
                     double hi, unsigned char *row)
{
    size_t w = (size_t)v->dim[0], h = (size_t)v->dim[1];
    double top = bits == 16 ? 65535.0 : 255.0, scale = hi > lo ? top / (hi - lo) : 0;
    for (int ch = 0; ch < channels; ch++)
        for (size_t x = 0; x < w; x++) {
            size_t i = ((size_t)ch * h + y) * w + x, o = x * (size_t)channels + (size_t)ch;
            double s = md_load(md_volume_data(v), v->dtype, i);
            if (window) {
                s = s != s ? 0.0 : hi > lo ? (s - lo) * scale : (s >= hi ? top : 0.0);
                s = s < 0 ? 0 : s > top ? top : round(s);
            }
            if (bits == 16)
                ((uint16_t *)row)[o] = (uint16_t)s;
            else
                row[o] = (unsigned char)s;
        }
}

static MdStatus write_png(PngCtx *c, const MdVolume *v, int channels, int bits, int window,
                          double lo, double hi, int level, MdError *err)
{
    static const int types[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                PNG_COLOR_TYPE_RGB_ALPHA};
    png_init_io(c->png, c->out.fp);
    if (level >= 0 && level <= 9) png_set_compression_level(c->png, level);
    if (level == 1) /* speed first: one cheap row filter instead of trying all five */
        png_set_filter(c->png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
    png_set_IHDR(c->png, c->info, (png_uint_32)v->dim[0], (png_uint_32)v->dim[1], bits,
                 types[channels - 1], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (v->spacing[0] != 1 || v->spacing[1] != 1) /* sCAL is in metres */
        png_set_sCAL(c->png, c->info, PNG_SCALE_METER, v->spacing[0] / 1000.0, v->spacing[1] / 1000.0);
    png_write_info(c->png, c->info);
    const uint16_t probe = 1;
    if (bits == 16 && *(const unsigned char *)&probe == 1) png_set_swap(c->png);
    c->rows = malloc((size_t)v->dim[0] * (size_t)channels * (size_t)(bits / 8));
    if (!c->rows) return md_error(err, MD_ENOMEM, "out of memory for a row");
    for (size_t y = 0; y < (size_t)v->dim[1]; y++) {
        make_row(v, y, channels, bits, window, lo, hi, c->rows);
        png_write_row(c->png, c->rows);
    }
    png_write_end(c->png, NULL);
    return MD_OK;
}

static MdStatus write_any(const char *path, const MdVolume *v, int bits, int window, double lo,
                          double hi, int level, MdError *err)
{
    PngCtx *c = calloc(1, sizeof *c);
    if (!c) return md_error(err, MD_ENOMEM, "out of memory");
    MdStatus st = write_channels(v, &c->channels, err);
    if (st != MD_OK) {
        /* the message is set */
    } else if ((st = md_atomic_open(&c->out, path, err)) != MD_OK) {
        /* the message is set */
    } else if (!(c->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, c, on_error, on_warning)) ||
               !(c->info = png_create_info_struct(c->png))) {
        st = md_error(err, MD_ENOMEM, "out of memory for libpng");
    } else if (setjmp(png_jmpbuf(c->png))) {
        st = md_error(err, MD_EIO, "PNG write failed: %s", c->msg);
    } else {
        st = write_png(c, v, c->channels, bits, window, lo, hi, level, err);
        if (st == MD_OK) st = md_atomic_commit(&c->out, err);
    }
    close_ctx(c, 1);
    free(c);
    return st;
}

MdStatus md_png_write(const char *path, const MdVolume *v, const MdWriteOpts *opts, MdError *err)
{
    MdStatus st;
    if (v->dtype != MD_UINT8 && v->dtype != MD_UINT16)
        st = md_error(err, MD_EINVAL, "PNG stores uint8 or uint16 samples (got %s): use "
                      "v:write_png(path, {window={lo, hi}}) or v:astype", md_dtype_name(v->dtype));
    else
        st = write_any(path, v, v->dtype == MD_UINT16 ? 16 : 8, 0, 0, 0, opts ? opts->level : -1, err);
    if (st != MD_OK) md_error_prefix(err, path);
    return st;
}

MdStatus md_png_write_window(const char *path, const MdVolume *v, int bits, double lo, double hi,
                             MdError *err)
{
    MdStatus st;
    if (bits != 8 && bits != 16)
        st = md_error(err, MD_EINVAL, "bits must be 8 or 16 (got %d)", bits);
    else if (!isfinite(lo) || !isfinite(hi) || !(hi >= lo))
        st = md_error(err, MD_EINVAL, "the window must be finite with lo <= hi (got %g, %g)", lo, hi);
    else
        st = write_any(path, v, bits, 1, lo, hi, -1, err);
    if (st != MD_OK) md_error_prefix(err, path);
    return st;
}
