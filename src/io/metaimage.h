/* MetaImage: .mhd (header + .raw/.zraw data file) and .mha (single file or
 * header naming a data file). Geometry is LPS as ITK reads it. */
#ifndef MD_METAIMAGE_H
#define MD_METAIMAGE_H

#include "ioopts.h"

MdStatus md_metaimage_read(const char *path, const MdReadOpts *opts, MdVolume *out, MdMeta *meta,
                           MdError *err) MD_MUST_CHECK;
MdStatus md_metaimage_write(const char *path, const MdVolume *v, const MdWriteOpts *opts,
                            MdError *err) MD_MUST_CHECK;

#endif
