/* The voxel types: one X-macro list from which the enum, sizes, names and
 * "is float" flags are generated. Conversions between types live in
 * kernels/arith (astype), not here. */
#ifndef MD_DTYPE_H
#define MD_DTYPE_H

#include <stddef.h>
#include <stdint.h>

/* X(TAG, name, C type, is_float) */
#define MD_DTYPE_LIST(X)                 \
    X(UINT8, "uint8", uint8_t, 0)        \
    X(INT8, "int8", int8_t, 0)           \
    X(UINT16, "uint16", uint16_t, 0)     \
    X(INT16, "int16", int16_t, 0)        \
    X(UINT32, "uint32", uint32_t, 0)     \
    X(INT32, "int32", int32_t, 0)        \
    X(FLOAT32, "float32", float, 1)      \
    X(FLOAT64, "float64", double, 1)

typedef enum {
#define MD_X(tag, name, ctype, isf) MD_##tag,
    MD_DTYPE_LIST(MD_X)
#undef MD_X
    MD_NDTYPES
} MdDtype;

size_t md_dtype_size(MdDtype t);
const char *md_dtype_name(MdDtype t);
int md_dtype_is_float(MdDtype t);
/* Returns the dtype named by s, or -1. */
int md_dtype_from_name(const char *s);
/* Smallest and largest representable value (as double). */
double md_dtype_min(MdDtype t);
double md_dtype_max(MdDtype t);

/* Reads element i of a buffer of type t as double. */
static inline double md_load(const void *p, MdDtype t, size_t i)
{
    switch (t) {
#define MD_X(tag, name, ctype, isf) \
    case MD_##tag: return (double)((const ctype *)p)[i];
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: return 0.0;
    }
}

/* Converts a double to type t: round half away from zero for integer
 * types, saturate at the type's range, NaN -> 0. */
double md_saturate(double x, MdDtype t);

/* Stores x (already converted by md_saturate when t is integer) at element i. */
static inline void md_store(void *p, MdDtype t, size_t i, double x)
{
    switch (t) {
#define MD_X(tag, name, ctype, isf) \
    case MD_##tag: ((ctype *)p)[i] = (ctype)x; break;
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: break;
    }
}

#endif
