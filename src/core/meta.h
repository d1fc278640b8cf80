/* Metadata a reader found beside the voxels: an ordered list of key/value
 * strings (file format, header fields, DICOM tags by keyword). The binding
 * turns it into the Lua table v.meta. */
#ifndef MD_META_H
#define MD_META_H

#include <stddef.h>

#include "err.h"

typedef struct MdMeta {
    size_t n, cap;
    char **keys;
    char **vals;
} MdMeta;

void md_meta_init(MdMeta *m);
void md_meta_free(MdMeta *m);
/* Sets key to a copy of val (replacing an earlier value). Fails only on ENOMEM. */
MdStatus md_meta_set(MdMeta *m, const char *key, const char *val) MD_MUST_CHECK;
MdStatus md_meta_setf(MdMeta *m, const char *key, const char *fmt, ...) MD_PRINTF(3, 4) MD_MUST_CHECK;
/* Borrowed value of key, or NULL. */
const char *md_meta_get(const MdMeta *m, const char *key);

#endif
