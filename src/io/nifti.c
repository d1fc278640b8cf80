/* Placeholder until the nifti reader lands. */
#include "nifti.h"

MdStatus md_nifti_read(const char *path, const MdReadOpts *opts, MdVolume *out, MdMeta *meta,
                       MdError *err)
{
    (void)opts; (void)out; (void)meta;
    md_error(err, MD_EUNSUPPORTED, "reader not built yet");
    md_error_prefix(err, path);
    return MD_EUNSUPPORTED;
}

MdStatus md_nifti_write(const char *path, const MdVolume *v, const MdWriteOpts *opts, MdError *err)
{
    (void)v; (void)opts;
    md_error(err, MD_EUNSUPPORTED, "writer not built yet");
    md_error_prefix(err, path);
    return MD_EUNSUPPORTED;
}
