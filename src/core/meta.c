/* Key/value metadata list. */
#include "meta.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void md_meta_init(MdMeta *m) { memset(m, 0, sizeof *m); }

void md_meta_free(MdMeta *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->keys[i]);
        free(m->vals[i]);
    }
    free(m->keys);
    free(m->vals);
    md_meta_init(m);
}

MdStatus md_meta_set(MdMeta *m, const char *key, const char *val)
{
    char *v = strdup(val ? val : "");
    if (!v) return MD_ENOMEM;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->keys[i], key) == 0) {
            free(m->vals[i]);
            m->vals[i] = v;
            return MD_OK;
        }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        char **k = realloc(m->keys, cap * sizeof *k);
        if (!k) goto fail;
        m->keys = k;
        char **vv = realloc(m->vals, cap * sizeof *vv);
        if (!vv) goto fail;
        m->vals = vv;
        m->cap = cap;
    }
    m->keys[m->n] = strdup(key);
    if (!m->keys[m->n]) goto fail;
    m->vals[m->n++] = v;
    return MD_OK;
fail:
    free(v);
    return MD_ENOMEM;
}

MdStatus md_meta_setf(MdMeta *m, const char *key, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return md_meta_set(m, key, buf);
}

const char *md_meta_get(const MdMeta *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->keys[i], key) == 0) return m->vals[i];
    return NULL;
}
