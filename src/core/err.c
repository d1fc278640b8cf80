/* Error message helpers. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

MdStatus md_error(MdError *err, MdStatus status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

void md_error_prefix(MdError *err, const char *prefix)
{
    if (!err || !prefix) return;
    char tmp[MD_ERRMSG_MAX];
    size_t n = strlen(prefix);
    if (n > MD_ERRMSG_MAX / 2) n = MD_ERRMSG_MAX / 2;
    memcpy(tmp, prefix, n);
    memcpy(tmp + n, ": ", 2);
    size_t rest = MD_ERRMSG_MAX - n - 3;
    size_t m = strnlen(err->msg, rest);
    memcpy(tmp + n + 2, err->msg, m);
    tmp[n + 2 + m] = 0;
    memcpy(err->msg, tmp, sizeof tmp);
}
