/* The four mesh formats. Bytes are put in a fixed order whatever the
 * host's: STL and PLY are little-endian, legacy VTK big-endian. Text
 * numbers use %.9g, which round-trips a float32. */
#include "mesh_write.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "atomicfile.h"

/* Output through a buffer flushed to the atomic file. */
typedef struct Out {
    MdAtomicFile f;
    unsigned char *buf;
    size_t n, cap;
    MdStatus st;
    MdError *err;
} Out;

static void flush(Out *o)
{
    if (o->st == MD_OK && o->n) o->st = md_atomic_write(&o->f, o->buf, o->n, o->err);
    o->n = 0;
}

static void put(Out *o, const void *p, size_t n)
{
    if (o->n + n > o->cap) flush(o);
    memcpy(o->buf + o->n, p, n);
    o->n += n;
}

static void putf(Out *o, const char *fmt, ...) MD_PRINTF(2, 3);
static void putf(Out *o, const char *fmt, ...)
{
    char s[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(s, sizeof s, fmt, ap);
    va_end(ap);
    put(o, s, (size_t)(k < (int)sizeof s ? k : (int)sizeof s - 1));
}

static void put_u32(Out *o, uint32_t x, int big)
{
    unsigned char b[4];
    for (int i = 0; i < 4; i++) b[big ? 3 - i : i] = (unsigned char)(x >> (8 * i));
    put(o, b, 4);
}

static void put_f32(Out *o, float f, int big)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    put_u32(o, x, big);
}

static void write_stl(Out *o, const MdMesh *m)
{
    char head[80];
    memset(head, ' ', sizeof head);
    memcpy(head, "binary STL by medula, LPS millimetres", 37); /* never starts with "solid" */
    put(o, head, 80);
    put_u32(o, (uint32_t)m->nfaces, 0);
    const float *v = md_mesh_verts(m);
    const int32_t *t = md_mesh_faces(m);
    for (int64_t f = 0; f < m->nfaces; f++) {
        const float *p[3] = {v + 3 * (size_t)t[3 * f], v + 3 * (size_t)t[3 * f + 1], v + 3 * (size_t)t[3 * f + 2]};
        double a[3], b[3], n[3];
        for (int r = 0; r < 3; r++) {
            a[r] = (double)p[1][r] - (double)p[0][r];
            b[r] = (double)p[2][r] - (double)p[0][r];
        }
        n[0] = a[1] * b[2] - a[2] * b[1];
        n[1] = a[2] * b[0] - a[0] * b[2];
        n[2] = a[0] * b[1] - a[1] * b[0];
        double len = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        for (int r = 0; r < 3; r++) put_f32(o, len > 0 ? (float)(n[r] / len) : 0.0f, 0);
        for (int c = 0; c < 3; c++)
            for (int r = 0; r < 3; r++) put_f32(o, p[c][r], 0);
        put(o, "\0\0", 2);
    }
}

static void write_ply(Out *o, const MdMesh *m)
{
    putf(o, "ply\nformat binary_little_endian 1.0\ncomment medula mesh\ncomment SPACE=LPS\n"
            "element vertex %lld\nproperty float x\nproperty float y\nproperty float z\n",
         (long long)m->nverts);
    putf(o, "element face %lld\nproperty list uchar int vertex_indices\nend_header\n", (long long)m->nfaces);
    const float *v = md_mesh_verts(m);
    const int32_t *t = md_mesh_faces(m);
    for (int64_t i = 0; i < 3 * m->nverts; i++) put_f32(o, v[i], 0);
    for (int64_t f = 0; f < m->nfaces; f++) {
        put(o, "\3", 1);
        for (int c = 0; c < 3; c++) put_u32(o, (uint32_t)t[3 * f + c], 0);
    }
}

static void write_obj(Out *o, const MdMesh *m)
{
    putf(o, "# medula mesh, LPS millimetres: %lld vertices, %lld faces\n", (long long)m->nverts,
         (long long)m->nfaces);
    const float *v = md_mesh_verts(m);
    const int32_t *t = md_mesh_faces(m);
    for (int64_t i = 0; i < m->nverts; i++)
        putf(o, "v %.9g %.9g %.9g\n", (double)v[3 * i], (double)v[3 * i + 1], (double)v[3 * i + 2]);
    for (int64_t f = 0; f < m->nfaces; f++)
        putf(o, "f %ld %ld %ld\n", (long)t[3 * f] + 1, (long)t[3 * f + 1] + 1, (long)t[3 * f + 2] + 1);
}

static void write_vtk(Out *o, const MdMesh *m)
{
    putf(o, "# vtk DataFile Version 3.0\nmedula mesh, LPS millimetres\nBINARY\nDATASET POLYDATA\n"
            "POINTS %lld float\n", (long long)m->nverts);
    const float *v = md_mesh_verts(m);
    const int32_t *t = md_mesh_faces(m);
    for (int64_t i = 0; i < 3 * m->nverts; i++) put_f32(o, v[i], 1);
    putf(o, "\nPOLYGONS %lld %lld\n", (long long)m->nfaces, (long long)(4 * m->nfaces));
    for (int64_t f = 0; f < m->nfaces; f++) {
        put_u32(o, 3, 1);
        for (int c = 0; c < 3; c++) put_u32(o, (uint32_t)t[3 * f + c], 1);
    }
    put(o, "\n", 1);
}

typedef struct Format {
    const char *suffix;
    void (*write)(Out *, const MdMesh *);
} Format;

static const Format formats[] = {
    {".stl", write_stl}, {".ply", write_ply}, {".obj", write_obj}, {".vtk", write_vtk}};

const char *md_mesh_suffixes(void) { return ".stl, .ply, .obj, .vtk"; }

MdStatus md_mesh_write(const char *path, const MdMesh *m, MdError *err)
{
    size_t len = strlen(path);
    const Format *fmt = NULL;
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
        size_t k = strlen(formats[i].suffix);
        if (len > k && strcasecmp(path + len - k, formats[i].suffix) == 0) fmt = &formats[i];
    }
    if (!fmt)
        return md_error(err, MD_EINVAL, "%s: unknown mesh format (the suffix must be one of %s)", path,
                        md_mesh_suffixes());
    if (m->nfaces > UINT32_MAX)
        return md_error(err, MD_ETOOBIG, "%s: %lld faces are too many for the format", path, (long long)m->nfaces);
    Out o = {.cap = 1 << 20, .st = MD_OK, .err = err};
    memset(&o.f, 0, sizeof o.f);
    o.buf = malloc(o.cap);
    if (!o.buf) return md_error(err, MD_ENOMEM, "%s: out of memory for the write buffer", path);
    MdStatus st = md_atomic_open(&o.f, path, err);
    if (st == MD_OK) {
        fmt->write(&o, m);
        flush(&o);
        st = o.st;
        if (st == MD_OK) st = md_atomic_commit(&o.f, err);
    }
    if (st != MD_OK) {
        md_atomic_abort(&o.f);
        if (st == MD_EIO || st == MD_ENOMEM) md_error_prefix(err, path);
    }
    free(o.buf);
    return st;
}
