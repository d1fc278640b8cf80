/* Suffix table and dispatch to the readers and writers. Sniffing the magic
 * bytes catches a file whose suffix lies. */
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

static const struct {
    const char *suffix;
    MdFormat format;
} suffixes[] = {
    {".nii.gz", MD_FMT_NIFTI_GZ}, {".nii", MD_FMT_NIFTI}, {".mhd", MD_FMT_MHD},
    {".mha", MD_FMT_MHA},         {".npy", MD_FMT_NPY},   {".png", MD_FMT_PNG},
    {".hdr", MD_FMT_NIFTI_PAIR},  {".img", MD_FMT_NIFTI_PAIR},
};

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

MdFormat md_format_from_path(const char *path)
{
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
        if (ends_with(path, suffixes[i].suffix)) return suffixes[i].format;
    return MD_FMT_UNKNOWN;
}

const char *md_format_name(MdFormat f)
{
    switch (f) {
    case MD_FMT_NIFTI: return "NIfTI";
    case MD_FMT_NIFTI_GZ: return "NIfTI (gzip)";
    case MD_FMT_NIFTI_PAIR: return "NIfTI pair (.hdr/.img)";
    case MD_FMT_MHD: return "MetaImage (.mhd)";
    case MD_FMT_MHA: return "MetaImage (.mha)";
    case MD_FMT_NPY: return "NumPy (.npy)";
    case MD_FMT_PNG: return "PNG";
    default: return "unknown";
    }
}

/* Looks at the first bytes: gzip, NIfTI-1/2 magic, NumPy magic. */
static MdFormat sniff(const char *path)
{
    unsigned char b[548] = {0};
    FILE *fp = fopen(path, "rb");
    if (!fp) return MD_FMT_UNKNOWN;
    size_t n = fread(b, 1, sizeof b, fp);
    fclose(fp);
    /* gzip: NIfTI unless the content is DICOM (a .dcm.gz), which md_read
     * then hands to the DICOM reader */
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
        return md_dicom_is_candidate(path) ? MD_FMT_UNKNOWN : MD_FMT_NIFTI_GZ;
    if (n >= 6 && memcmp(b, "\x93NUMPY", 6) == 0) return MD_FMT_NPY;
    if (md_png_sniff(b, n)) return MD_FMT_PNG;
    if (n >= 348 && (memcmp(b + 344, "n+1", 4) == 0 || memcmp(b + 344, "ni1", 4) == 0))
        return MD_FMT_NIFTI;
    if (n >= 8 && (memcmp(b + 4, "n+2", 4) == 0 || memcmp(b + 4, "ni2", 4) == 0))
        return MD_FMT_NIFTI;
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
    MdStatus st;
    switch (f) {
    case MD_FMT_NIFTI:
    case MD_FMT_NIFTI_PAIR:
    case MD_FMT_NIFTI_GZ: st = md_nifti_read(path, opts, out, meta, err); break;
    case MD_FMT_MHD:
    case MD_FMT_MHA: st = md_metaimage_read(path, opts, out, meta, err); break;
    case MD_FMT_NPY: st = md_npy_read(path, opts, out, meta, err); break;
    case MD_FMT_PNG: st = md_png_read(path, opts, out, meta, err); break;
    default:
        md_error(err, MD_EUNSUPPORTED,
                 "unknown file format (expected .nii, .nii.gz, .hdr/.img, .mhd, .mha, .npy, .png, DICOM or a DICOM folder)");
        md_error_prefix(err, path);
        return MD_EUNSUPPORTED;
    }
    return st;
}

MdStatus md_write(const char *path, const MdVolume *v, const MdWriteOpts *opts, MdError *err)
{
    static const MdWriteOpts defaults = {-1, 0, 0};
    if (!opts) opts = &defaults;
    switch (md_format_from_path(path)) {
    case MD_FMT_NIFTI:
    case MD_FMT_NIFTI_PAIR:
    case MD_FMT_NIFTI_GZ: return md_nifti_write(path, v, opts, err);
    case MD_FMT_MHD:
    case MD_FMT_MHA: return md_metaimage_write(path, v, opts, err);
    case MD_FMT_NPY: return md_npy_write(path, v, opts, err);
    case MD_FMT_PNG: return md_png_write(path, v, opts, err);
    default:
        md_error(err, MD_EUNSUPPORTED,
                 "cannot tell the format from the name (use .nii, .nii.gz, .hdr/.img, .mhd, .mha, .npy or .png)");
        md_error_prefix(err, path);
        return MD_EUNSUPPORTED;
    }
}
