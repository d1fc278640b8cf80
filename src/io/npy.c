/* Placeholder until the npy reader lands. */
#include "npy.h"

MdStatus md_npy_read(const char *path, const MdReadOpts *opts, MdVolume *out, MdMeta *meta,
                       MdError *err)
{
    (void)opts; (void)out; (void)meta;
    md_error(err, MD_EUNSUPPORTED, "reader not built yet");
    md_error_prefix(err, path);
    return MD_EUNSUPPORTED;
}

MdStatus md_npy_write(const char *path, const MdVolume *v, const MdWriteOpts *opts, MdError *err)
{
    (void)v; (void)opts;
    md_error(err, MD_EUNSUPPORTED, "writer not built yet");
    md_error_prefix(err, path);
    return MD_EUNSUPPORTED;
}

MdStatus md_npy_write_stack(const char *path, const MdVolume *const *vols, size_t n, MdError *err)
{
    (void)vols; (void)n;
    md_error(err, MD_EUNSUPPORTED, "writer not built yet");
    md_error_prefix(err, path);
    return MD_EUNSUPPORTED;
}
