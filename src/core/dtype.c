/* Generated tables for the voxel types. */
#include "dtype.h"

#include <float.h>
#include <math.h>
#include <string.h>

size_t md_dtype_size(MdDtype t)
{
    switch (t) {
#define MD_X(tag, name, ctype, isf) \
    case MD_##tag: return sizeof(ctype);
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: return 0;
    }
}

const char *md_dtype_name(MdDtype t)
{
    switch (t) {
#define MD_X(tag, name, ctype, isf) \
    case MD_##tag: return name;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: return "?";
    }
}

int md_dtype_is_float(MdDtype t)
{
    return t == MD_FLOAT32 || t == MD_FLOAT64;
}

int md_dtype_from_name(const char *s)
{
#define MD_X(tag, name, ctype, isf) \
    if (strcmp(s, name) == 0) return MD_##tag;
    MD_DTYPE_LIST(MD_X)
#undef MD_X
    return -1;
}

double md_dtype_min(MdDtype t)
{
    switch (t) {
    case MD_UINT8: case MD_UINT16: case MD_UINT32: return 0;
    case MD_INT8: return INT8_MIN;
    case MD_INT16: return INT16_MIN;
    case MD_INT32: return INT32_MIN;
    case MD_FLOAT32: return -FLT_MAX;
    default: return -DBL_MAX;
    }
}

double md_dtype_max(MdDtype t)
{
    switch (t) {
    case MD_UINT8: return UINT8_MAX;
    case MD_INT8: return INT8_MAX;
    case MD_UINT16: return UINT16_MAX;
    case MD_INT16: return INT16_MAX;
    case MD_UINT32: return UINT32_MAX;
    case MD_INT32: return INT32_MAX;
    case MD_FLOAT32: return FLT_MAX;
    default: return DBL_MAX;
    }
}

double md_saturate(double x, MdDtype t)
{
    if (md_dtype_is_float(t)) {
        if (t == MD_FLOAT32 && isfinite(x)) {
            if (x > (double)FLT_MAX) return HUGE_VAL;
            if (x < -(double)FLT_MAX) return -HUGE_VAL;
        }
        return x;
    }
    if (isnan(x)) return 0.0;
    double lo = md_dtype_min(t), hi = md_dtype_max(t);
    x = round(x);
    return x < lo ? lo : x > hi ? hi : x;
}
