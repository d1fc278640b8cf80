/* The DICOM data dictionary: the VR and keyword of every PS3.6 attribute
 * (so implicit VR files decode the same as explicit ones, and v.meta and
 * dicom_info name each attribute), plus the vendor attributes the reader
 * interprets. The table is generated (dicom_dict_table.h) from one data
 * file, dicom_dict.tsv; "xs" is US or SS as PixelRepresentation says,
 * resolved by the parser. */
#include <stddef.h>
#include <string.h>

#include "dicom_parse.h"

typedef struct {
    uint32_t tag;
    const char *vr;
    const char *keyword;
} Entry;

typedef struct {
    uint32_t value, mask; /* a repeating group or element: tag & mask == value */
    const char *vr;
    const char *keyword;
} Repeater;

#include "dicom_dict_table.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *lookup(uint32_t tag, const char **vr)
{
    size_t lo = 0, hi = COUNT(dict);
    while (lo < hi) { /* dict is sorted by tag */
        size_t mid = (lo + hi) / 2;
        if (dict[mid].tag == tag) {
            *vr = dict[mid].vr;
            return dict[mid].keyword;
        }
        if (dict[mid].tag < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    if ((tag >> 16) & 1) return NULL; /* odd groups are private: no repeater matches */
    for (size_t i = 0; i < COUNT(repeaters); i++)
        if ((tag & repeaters[i].mask) == repeaters[i].value) {
            *vr = repeaters[i].vr;
            return repeaters[i].keyword;
        }
    return NULL;
}

const char *md_dcm_keyword(uint32_t tag, const char **vr)
{
    const char *v = NULL, *kw = lookup(tag, &v);
    if (vr) *vr = v;
    return kw;
}

uint32_t md_dcm_tag_of(const char *keyword)
{
    for (size_t i = 0; i < COUNT(dict); i++)
        if (strcmp(dict[i].keyword, keyword) == 0) return dict[i].tag;
    for (size_t i = 0; i < COUNT(repeaters); i++)
        if (strcmp(repeaters[i].keyword, keyword) == 0) return repeaters[i].value;
    return 0;
}

uint32_t md_dcm_dict_tag(size_t i)
{
    return i < COUNT(dict) ? dict[i].tag : 0;
}
