/* NIfTI-1 and NIfTI-2, .nii and .nii.gz. On read the RAS affine becomes LPS
 * geometry (qform/sform chosen as nibabel chooses), scl_slope/scl_inter are
 * applied as nibabel's get_fdata does unless opts->raw. */
#ifndef MD_NIFTI_H
#define MD_NIFTI_H

#include "ioopts.h"

MdStatus md_nifti_read(const char *path, const MdReadOpts *opts, MdVolume *out, MdMeta *meta,
                       MdError *err) MD_MUST_CHECK;
MdStatus md_nifti_write(const char *path, const MdVolume *v, const MdWriteOpts *opts,
                        MdError *err) MD_MUST_CHECK;

#endif
