/* Status codes and error messages shared by every C layer.
 * The function that detects a problem writes the message; callers that only
 * propagate a status leave the message alone. No Lua here. */
#ifndef MD_ERR_H
#define MD_ERR_H

#include <stddef.h>

typedef enum {
    MD_OK = 0,
    MD_EINVAL,       /* bad argument value */
    MD_ENOMEM,       /* allocation failed or memory budget exceeded */
    MD_ETOOBIG,      /* a size overflowed (dimension product, offset) */
    MD_EIO,          /* open/read/write/rename failed */
    MD_EFORMAT,      /* the file is not what it claims, or is corrupt/truncated */
    MD_EUNSUPPORTED, /* valid input that this build cannot handle */
    MD_ECANCELLED    /* interrupted by the user */
} MdStatus;

#define MD_ERRMSG_MAX 512

/* Error slot: the detecting function fills msg. */
typedef struct MdError {
    char msg[MD_ERRMSG_MAX];
} MdError;

#if defined(__GNUC__)
#define MD_MUST_CHECK __attribute__((warn_unused_result))
#define MD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MD_MUST_CHECK
#define MD_PRINTF(a, b)
#endif

/* Writes the formatted message into err (may be NULL) and returns status. */
MdStatus md_error(MdError *err, MdStatus status, const char *fmt, ...) MD_PRINTF(3, 4);

/* Prefixes the message already in err with "prefix: " (used once, by readers, for the path). */
void md_error_prefix(MdError *err, const char *prefix);

#endif
