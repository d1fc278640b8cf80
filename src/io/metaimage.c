/* Placeholder until the metaimage reader lands. */
#include "metaimage.h"

MdStatus md_metaimage_read(const char *path, const MdReadOpts *opts, MdVolume *out, MdMeta *meta,
                       MdError *err)
{
    (void)opts; (void)out; (void)meta;
    md_error(err, MD_EUNSUPPORTED, "reader not built yet");
    md_error_prefix(err, path);
    return MD_EUNSUPPORTED;
}

MdStatus md_metaimage_write(const char *path, const MdVolume *v, const MdWriteOpts *opts, MdError *err)
{
    (void)v; (void)opts;
    md_error(err, MD_EUNSUPPORTED, "writer not built yet");
    md_error_prefix(err, path);
    return MD_EUNSUPPORTED;
}
