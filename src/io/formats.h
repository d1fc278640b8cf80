/* The file formats: which reader or writer a path goes to (by suffix, and
 * by sniffing the first bytes when reading). The options they share are in
 * ioopts.h. */
#ifndef MD_FORMATS_H
#define MD_FORMATS_H

#include "../core/meta.h"
#include "../core/volume.h"
#include "ioopts.h"

typedef enum {
    MD_FMT_UNKNOWN = 0,
    MD_FMT_NIFTI,     /* .nii */
    MD_FMT_NIFTI_GZ,  /* .nii.gz */
    MD_FMT_MHD,       /* .mhd header + data file */
    MD_FMT_MHA,       /* .mha single file (or header naming a data file) */
    MD_FMT_NPY,       /* .npy */
    MD_FMT_PNG,       /* .png */
    MD_FMT_NIFTI_PAIR /* .hdr + .img (NIfTI-1 pair, magic "ni1") */
} MdFormat;

MdFormat md_format_from_path(const char *path);
const char *md_format_name(MdFormat f);

/* Reads path into out (zeroed by the caller; on failure out may hold a
 * buffer the caller releases) and meta. The message names the file. */
MdStatus md_read(const char *path, const MdReadOpts *opts, MdVolume *out, MdMeta *meta,
                 MdError *err) MD_MUST_CHECK;
/* Writes v to path through a temporary file. */
MdStatus md_write(const char *path, const MdVolume *v, const MdWriteOpts *opts,
                  MdError *err) MD_MUST_CHECK;

#endif
