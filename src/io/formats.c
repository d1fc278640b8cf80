/* The format table and dispatch to the readers and writers: each format is
 * one row {name, suffix, sniffer, reader, writer}. Sniffing the magic bytes
 * finds a file whose suffix says nothing. */
#include "formats.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "dicom.h"
#include "metaimage.h"
#include "nifti.h"
#include "npy.h"
#include "png.h"

/* First bytes of a file, enough for every sniffer. */
enum { SNIFF_BYTES = 548 };

static int sniff_nifti(const unsigned char *b, size_t n)
{
    return (n >= 348 && (memcmp(b + 344, "n+1", 4) == 0 || memcmp(b + 344, "ni1", 4) == 0)) ||
           (n >= 8 && (memcmp(b + 4, "n+2", 4) == 0 || memcmp(b + 4, "ni2", 4) == 0));
}
static int sniff_gzip(const unsigned char *b, size_t n) { return n >= 2 && b[0] == 0x1f && b[1] == 0x8b; }
static int sniff_npy(const unsigned char *b, size_t n) { return n >= 6 && memcmp(b, "\x93NUMPY", 6) == 0; }
static int sniff_png(const unsigned char *b, size_t n) { return md_png_sniff(b, n); }

typedef MdStatus (*ReadFn)(const char *, const MdReadOpts *, MdVolume *, MdMeta *, MdError *);
typedef MdStatus (*WriteFn)(const char *, const MdVolume *, const MdWriteOpts *, MdError *);

/* One row per format: a new format is one more row. Suffixes are tried in
 * table order (.nii.gz before .nii); sniffers in table order too. */
static const struct {
    MdFormat format;
    const char *name;
    const char *suffix;
    int (*sniff)(const unsigned char *b, size_t n); /* NULL: found by suffix only */
    ReadFn read;
    WriteFn write;
} formats[] = {
    {MD_FMT_NIFTI_GZ, "NIfTI (gzip)", ".nii.gz", sniff_gzip, md_nifti_read, md_nifti_write},
    {MD_FMT_NIFTI, "NIfTI", ".nii", sniff_nifti, md_nifti_read, md_nifti_write},
    {MD_FMT_MHD, "MetaImage (.mhd)", ".mhd", NULL, md_metaimage_read, md_metaimage_write},
    {MD_FMT_MHA, "MetaImage (.mha)", ".mha", NULL, md_metaimage_read, md_metaimage_write},
    {MD_FMT_NPY, "NumPy (.npy)", ".npy", sniff_npy, md_npy_read, md_npy_write},
    {MD_FMT_PNG, "PNG", ".png", sniff_png, md_png_read, md_png_write},
    {MD_FMT_NIFTI_PAIR, "NIfTI pair (.hdr/.img)", ".hdr", NULL, md_nifti_read, md_nifti_write},
    {MD_FMT_NIFTI_PAIR, "NIfTI pair (.hdr/.img)", ".img", NULL, md_nifti_read, md_nifti_write},
};
enum { NFORMATS = sizeof formats / sizeof formats[0] };

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* The row of format f, or -1. */
static int row_of(MdFormat f)
{
    for (int i = 0; i < NFORMATS; i++)
        if (formats[i].format == f) return i;
    return -1;
}

MdFormat md_format_from_path(const char *path)
{
    for (int i = 0; i < NFORMATS; i++)
        if (ends_with(path, formats[i].suffix)) return formats[i].format;
    return MD_FMT_UNKNOWN;
}

const char *md_format_name(MdFormat f)
{
    int i = row_of(f);
    return i < 0 ? "unknown" : formats[i].name;
}

/* Looks at the first bytes (a file whose suffix says nothing). */
static MdFormat sniff(const char *path)
{
    unsigned char b[SNIFF_BYTES] = {0};
    FILE *fp = fopen(path, "rb");
    if (!fp) return MD_FMT_UNKNOWN;
    size_t n = fread(b, 1, sizeof b, fp);
    fclose(fp);
    /* gzip: NIfTI unless the content is DICOM (a .dcm.gz), which md_read
     * then hands to the DICOM reader */
    if (sniff_gzip(b, n)) return md_dicom_is_candidate(path) ? MD_FMT_UNKNOWN : MD_FMT_NIFTI_GZ;
    for (int i = 0; i < NFORMATS; i++)
        if (formats[i].sniff && formats[i].sniff(b, n)) return formats[i].format;
    return MD_FMT_UNKNOWN;
}

MdStatus md_read(const char *path, const MdReadOpts *opts, MdVolume *out, MdMeta *meta,
                 MdError *err)
{
    static const MdReadOpts defaults = {0};
    if (!opts) opts = &defaults;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return md_dicom_read(path, opts, out, meta, err);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        md_error(err, MD_EIO, "cannot open (%s)", strerror(errno));
        md_error_prefix(err, path);
        return MD_EIO;
    }
    fclose(fp);
    MdFormat f = md_format_from_path(path);
    if (f == MD_FMT_UNKNOWN) f = sniff(path);
    if (f == MD_FMT_UNKNOWN && md_dicom_is_candidate(path)) return md_dicom_read(path, opts, out, meta, err);
    int i = row_of(f);
    if (i >= 0) return formats[i].read(path, opts, out, meta, err);
    md_error(err, MD_EUNSUPPORTED,
             "unknown file format (expected .nii, .nii.gz, .hdr/.img, .mhd, .mha, .npy, .png, DICOM or a DICOM folder)");
    md_error_prefix(err, path);
    return MD_EUNSUPPORTED;
}

MdStatus md_write(const char *path, const MdVolume *v, const MdWriteOpts *opts, MdError *err)
{
    static const MdWriteOpts defaults = {-1, 0, 0};
    if (!opts) opts = &defaults;
    int i = row_of(md_format_from_path(path));
    if (i >= 0 && formats[i].write) return formats[i].write(path, v, opts, err);
    md_error(err, MD_EUNSUPPORTED,
             "cannot tell the format from the name (use .nii, .nii.gz, .hdr/.img, .mhd, .mha, .npy or .png)");
    md_error_prefix(err, path);
    return MD_EUNSUPPORTED;
}
