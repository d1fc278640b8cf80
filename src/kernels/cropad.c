/* Crop, pad, flip, permute, slice and stack: index tables or strides
 * computed once, then rows copied element by element (or with memcpy when
 * a row is contiguous), OpenMP over rows. Geometry follows the voxels. */
#include "cropad.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../core/ctx.h"
#include "../core/par.h"
#include "../core/geom.h"

static const char *const pad_names[MD_PAD_COUNT] = {"constant", "edge", "reflect", "symmetric", "wrap"};

int md_pad_mode_from_name(const char *s)
{
    for (int i = 0; i < MD_PAD_COUNT; i++)
        if (strcmp(s, pad_names[i]) == 0) return i;
    return -1;
}

static int64_t pos_mod(int64_t i, int64_t p)
{
    int64_t r = i % p;
    return r < 0 ? r + p : r;
}

/* Input index read for index i of an axis of n samples, or -1 (the value). */
static int64_t pad_index(int64_t i, int64_t n, MdPadMode m)
{
    if (i >= 0 && i < n) return i;
    switch (m) {
    case MD_PAD_EDGE: return i < 0 ? 0 : n - 1;
    case MD_PAD_REFLECT: {
        if (n == 1) return 0;
        int64_t r = pos_mod(i, 2 * n - 2);
        return r < n ? r : 2 * n - 2 - r;
    }
    case MD_PAD_SYMMETRIC: {
        int64_t r = pos_mod(i, 2 * n);
        return r < n ? r : 2 * n - 1 - r;
    }
    case MD_PAD_WRAP: return pos_mod(i, n);
    default: return -1;
    }
}

/* dst[x] = src[tab[x]] element-wise (fill where tab[x] < 0 or src is NULL). */
#define GATHER(ctype)                                                                  \
    do {                                                                               \
        const ctype *sp = (const ctype *)src;                                          \
        ctype *dp = (ctype *)dst, fv;                                                  \
        memcpy(&fv, fill, sizeof fv);                                                  \
        for (int64_t x = 0; x < n; x++) dp[x] = (!sp || tab[x] < 0) ? fv : sp[tab[x]]; \
    } while (0)

static void gather(const void *src, void *dst, const int64_t *tab, int64_t n, size_t es,
                   const unsigned char *fill)
{
    switch (es) {
    case 1: GATHER(uint8_t); break;
    case 2: GATHER(uint16_t); break;
    case 4: GATHER(uint32_t); break;
    default: GATHER(uint64_t); break;
    }
}
#undef GATHER

/* dst[x] = src[x * stride] element-wise. */
#define STRIDED(ctype)                                                        \
    do {                                                                      \
        const ctype *sp = (const ctype *)src;                                 \
        ctype *dp = (ctype *)dst;                                             \
        for (int64_t x = 0; x < n; x++) dp[x] = sp[x * stride];               \
    } while (0)

static void strided(const void *src, void *dst, int64_t stride, int64_t n, size_t es)
{
    if (stride == 1) {
        memcpy(dst, src, (size_t)n * es);
        return;
    }
    switch (es) {
    case 1: STRIDED(uint8_t); break;
    case 2: STRIDED(uint16_t); break;
    case 4: STRIDED(uint32_t); break;
    default: STRIDED(uint64_t); break;
    }
}
#undef STRIDED

/* ---- boxes ------------------------------------------------------------- */

void md_cropad_box_header(const MdVolume *in, const int64_t lo[3], const int64_t size[3],
                          MdVolume *out)
{
    int64_t dim[4] = {size[0], size[1], in->ndim >= 3 ? size[2] : 1, in->dim[3]};
    double ijk[3] = {(double)lo[0], (double)lo[1], in->ndim >= 3 ? (double)lo[2] : 0};
    md_volume_init(out, in->dtype, in->ndim, dim);
    md_volume_copy_geometry(out, in);
    md_geom_index_to_world(in, ijk, out->origin);
}

MdStatus md_cropad_box(const MdVolume *in, const int64_t lo[3], MdPadMode mode, double value,
                       MdVolume *out, MdError *err)
{
    const int64_t onx = out->dim[0], ony = out->dim[1], onz = out->dim[2];
    const int64_t nx = in->dim[0], ny = in->dim[1], nz = in->dim[2];
    const size_t es = md_dtype_size(in->dtype);
    int64_t *tab = malloc((size_t)(onx + ony + onz) * sizeof *tab);
    if (!tab) return md_error(err, MD_ENOMEM, "out of memory for a crop/pad table");
    int64_t *tx = tab, *ty = tab + onx, *tz = tab + onx + ony;
    for (int64_t i = 0; i < onx; i++) tx[i] = pad_index(lo[0] + i, nx, mode);
    for (int64_t i = 0; i < ony; i++) ty[i] = pad_index(lo[1] + i, ny, mode);
    for (int64_t i = 0; i < onz; i++) tz[i] = pad_index((in->ndim >= 3 ? lo[2] : 0) + i, nz, mode);
    _Alignas(double) unsigned char fill[8] = {0};
    md_store(fill, in->dtype, 0, md_saturate(value, in->dtype));
    /* the part of each row inside the input is one memcpy */
    int64_t xa = lo[0] < 0 ? -lo[0] : 0, xb = nx - lo[0] < onx ? nx - lo[0] : onx;
    if (xb < xa) xb = xa;
    const int64_t rows = onz * ony * in->dim[3];
    const char *src = md_volume_data(in);
    char *dst = md_volume_data(out);
#pragma omp parallel for schedule(static) if (md_par_worth((double)rows * (double)onx / MD_PAR_CHEAP))
    for (int64_t r = 0; r < rows; r++) {
        int64_t y = r % ony, z = (r / ony) % onz, f = r / (ony * onz);
        char *d = dst + (size_t)r * (size_t)onx * es;
        const char *s = ty[y] < 0 || tz[z] < 0 ? NULL
                                                : src + (size_t)(((f * nz + tz[z]) * ny + ty[y]) * nx) * es;
        gather(s, d, tx, xa, es, fill);
        if (s && xb > xa) memcpy(d + (size_t)xa * es, s + (size_t)(xa + lo[0]) * es, (size_t)(xb - xa) * es);
        else gather(s, d + (size_t)xa * es, tx + xa, xb - xa, es, fill);
        gather(s, d + (size_t)xb * es, tx + xb, onx - xb, es, fill);
    }
    free(tab);
    return MD_OK;
}

/* ---- flips and permutations -------------------------------------------- */

static int spatial_axes(const MdVolume *v)
{
    return v->ndim == 2 ? 2 : 3;
}

MdStatus md_cropad_reorder_header(const MdVolume *in, const int order[3], const int flip[3],
                                  MdVolume *out, MdError *err)
{
    int ns = spatial_axes(in), seen[3] = {0, 0, 0};
    for (int k = 0; k < ns; k++) {
        if (order[k] < 0 || order[k] >= ns || seen[order[k]])
            return md_error(err, MD_EINVAL, "axis order must be a permutation of 1..%d", ns);
        seen[order[k]] = 1;
    }
    if (ns == 2 && flip[2]) return md_error(err, MD_EINVAL, "a 2-D volume has no third axis to flip");
    int64_t dim[4] = {in->dim[order[0]], in->dim[order[1]], ns == 3 ? in->dim[order[2]] : 1, in->dim[3]};
    double first[3] = {0, 0, 0};
    md_volume_init(out, in->dtype, in->ndim, dim);
    out->tstep = in->tstep;
    for (int k = 0; k < 3; k++) {
        int a = k < ns ? order[k] : 2;
        double sgn = flip[k] ? -1.0 : 1.0;
        out->spacing[k] = in->spacing[a];
        for (int r = 0; r < 3; r++) out->direction[r * 3 + k] = sgn * in->direction[r * 3 + a];
        if (flip[k]) first[a] = (double)(in->dim[a] - 1);
    }
    md_geom_index_to_world(in, first, out->origin);
    return MD_OK;
}

void md_cropad_reorder(const MdVolume *in, const int order[3], const int flip[3], MdVolume *out)
{
    const int64_t s[3] = {1, in->dim[0], in->dim[0] * in->dim[1]};
    const int64_t fstride = s[2] * in->dim[2];
    const size_t es = md_dtype_size(in->dtype);
    int64_t st[3], base = 0;
    for (int k = 0; k < 3; k++) {
        int a = k < spatial_axes(in) ? order[k] : 2;
        st[k] = flip[k] ? -s[a] : s[a];
        if (flip[k]) base += (in->dim[a] - 1) * s[a];
    }
    const int64_t onx = out->dim[0], ony = out->dim[1], onz = out->dim[2];
    const int64_t rows = onz * ony * out->dim[3];
    const char *src = md_volume_data(in);
    char *dst = md_volume_data(out);
#pragma omp parallel for schedule(static) if (md_par_worth((double)rows * (double)onx / MD_PAR_CHEAP))
    for (int64_t r = 0; r < rows; r++) {
        int64_t y = r % ony, z = (r / ony) % onz, f = r / (ony * onz);
        int64_t e = f * fstride + base + z * st[2] + y * st[1];
        strided(src + e * (int64_t)es, dst + (size_t)r * (size_t)onx * es, st[0], onx, es);
    }
}

/* World axis (0 = L/R, 1 = P/A, 2 = S/I) of an orientation letter, and
 * whether it is the positive LPS direction; -1 for other letters. */
static int letter_axis(char c, int *positive)
{
    static const char pos[] = "LPS", neg[] = "RAI";
    c = (char)toupper((unsigned char)c);
    for (int i = 0; i < 3; i++) {
        if (c == pos[i]) return *positive = 1, i;
        if (c == neg[i]) return *positive = 0, i;
    }
    return -1;
}

MdStatus md_cropad_reorient_plan(const MdVolume *in, const char *code, int order[3], int flip[3],
                                 MdError *err)
{
    char cur[4];
    int want[3], wpos[3], have[3], hpos[3], used[3] = {0, 0, 0};
    md_geom_orientation(in, cur);
    for (int k = 0; k < 3; k++) {
        want[k] = strlen(code) == 3 ? letter_axis(code[k], &wpos[k]) : -1;
        if (want[k] < 0 || used[want[k]]++)
            return md_error(err, MD_EINVAL, "orientation code must be 3 letters, one of L/R, P/A "
                                            "and S/I each (got '%s')", code);
        have[k] = letter_axis(cur[k], &hpos[k]);
    }
    for (int k = 0; k < 3; k++)
        for (int a = 0; a < 3; a++)
            if (have[a] == want[k]) {
                order[k] = a;
                flip[k] = hpos[a] != wpos[k];
            }
    if (in->ndim == 2 && (order[2] != 2 || flip[2]))
        return md_error(err, MD_EINVAL, "a 2-D volume in orientation %s cannot become %s (that would "
                                        "move its third axis)", cur, code);
    return MD_OK;
}

/* ---- slices and stacks ------------------------------------------------- */

MdStatus md_cropad_slice_header(const MdVolume *in, int axis, int64_t index, MdVolume *out,
                                MdError *err)
{
    int last = in->ndim - 1;
    if (in->ndim == 2) return md_error(err, MD_EINVAL, "cannot slice a 2-D volume");
    if (axis < 0 || axis > last) return md_error(err, MD_EINVAL, "axis must be 1..%d (got %d)", in->ndim, axis + 1);
    if (in->ndim == 4 && axis != 3)
        return md_error(err, MD_EINVAL, "slice a 4-D volume along axis 4 (a frame) first");
    if (index < 0 || index >= in->dim[axis])
        return md_error(err, MD_EINVAL, "index %lld out of range 1..%lld on axis %d", (long long)index + 1,
                        (long long)in->dim[axis], axis + 1);
    if (in->ndim == 4) {
        md_volume_init(out, in->dtype, 3, in->dim);
        md_volume_copy_geometry(out, in);
        return MD_OK;
    }
    int r0 = axis == 0 ? 1 : 0, r1 = axis == 2 ? 1 : 2, cols[3] = {r0, r1, axis};
    int64_t dim[2] = {in->dim[r0], in->dim[r1]};
    double ijk[3] = {0, 0, 0};
    ijk[axis] = (double)index;
    md_volume_init(out, in->dtype, 2, dim);
    for (int k = 0; k < 3; k++) {
        out->spacing[k] = in->spacing[cols[k]];
        for (int r = 0; r < 3; r++) out->direction[r * 3 + k] = in->direction[r * 3 + cols[k]];
    }
    md_geom_index_to_world(in, ijk, out->origin);
    out->tstep = in->tstep;
    return MD_OK;
}

void md_cropad_slice(const MdVolume *in, int axis, int64_t index, MdVolume *out)
{
    const size_t es = md_dtype_size(in->dtype);
    const char *src = md_volume_data(in);
    if (axis == 3 || axis == 2) { /* a contiguous block */
        size_t n = md_volume_nbytes(out);
        memcpy(md_volume_data(out), src + (size_t)index * n, n);
        return;
    }
    const int64_t s[3] = {1, in->dim[0], in->dim[0] * in->dim[1]};
    int r0 = axis == 0 ? 1 : 0;
    const int64_t onx = out->dim[0], ony = out->dim[1];
    char *dst = md_volume_data(out);
#pragma omp parallel for schedule(static) if (md_par_worth((double)onx * (double)ony / MD_PAR_CHEAP))
    for (int64_t y = 0; y < ony; y++)
        strided(src + (index * s[axis] + y * s[2]) * (int64_t)es, dst + (size_t)(y * onx) * es, s[r0], onx, es);
}

MdStatus md_cropad_stack_header(const MdVolume *const *list, int n, MdVolume *out, MdError *err)
{
    if (n < 1) return md_error(err, MD_EINVAL, "stack needs at least one volume");
    const MdVolume *a = list[0];
    if (a->ndim != 2 && a->ndim != 3)
        return md_error(err, MD_EINVAL, "stack takes 2-D or 3-D volumes (got %dD)", a->ndim);
    for (int i = 1; i < n; i++) {
        const MdVolume *b = list[i];
        if (b->ndim != a->ndim || b->dtype != a->dtype || memcmp(a->dim, b->dim, sizeof a->dim) != 0)
            return md_error(err, MD_EINVAL, "volume %d differs from volume 1 in shape or dtype "
                                            "(stack needs them all alike)", i + 1);
    }
    int64_t dim[4] = {a->dim[0], a->dim[1], a->dim[2], a->dim[3]};
    dim[a->ndim] = n;
    md_volume_init(out, a->dtype, a->ndim + 1, dim);
    md_volume_copy_geometry(out, a);
    return MD_OK;
}

void md_cropad_stack(const MdVolume *const *list, int n, MdVolume *out)
{
    size_t each = md_volume_nbytes(list[0]);
    char *dst = md_volume_data(out);
    for (int i = 0; i < n; i++) memcpy(dst + (size_t)i * each, md_volume_data(list[i]), each);
}

/* ---- non-zero bounding box --------------------------------------------- */

/* First and last non-zero element of a row of n, or 0 when none. */
static int row_extent(const void *p, MdDtype t, int64_t n, int64_t *a, int64_t *b)
{
    switch (t) {
#define MD_X(tag, name, ctype, isf)                                          \
    case MD_##tag: {                                                         \
        const ctype *v = p;                                                  \
        int64_t i = 0, j = n - 1;                                            \
        while (i < n && v[i] == 0) i++;                                      \
        if (i == n) return 0;                                                \
        while (v[j] == 0) j--;                                               \
        *a = i, *b = j;                                                      \
        return 1;                                                            \
    }
        MD_DTYPE_LIST(MD_X)
#undef MD_X
    default: return 0;
    }
}

int md_cropad_nonzero_box(const MdVolume *v, int64_t lo[3], int64_t hi[3])
{
    const int64_t nx = v->dim[0], ny = v->dim[1], nz = v->dim[2], nf = v->dim[3];
    const size_t es = md_dtype_size(v->dtype);
    int64_t box[6] = {nx, ny, nz, -1, -1, -1};
    /* per z slice, combined serially: the same box whatever the thread count */
    int64_t *part = malloc((size_t)nz * 4 * sizeof *part);
    if (!part) return -1;
#pragma omp parallel for schedule(static) if (md_par_worth((double)nx * (double)ny * (double)nz / MD_PAR_CHEAP))
    for (int64_t z = 0; z < nz; z++) {
        int64_t xa = nx, xb = -1, ya = ny, yb = -1, a, b;
        for (int64_t f = 0; f < nf; f++)
            for (int64_t y = 0; y < ny; y++) {
                const char *row = (const char *)md_volume_data(v) + (size_t)(((f * nz + z) * ny + y) * nx) * es;
                if (!row_extent(row, v->dtype, nx, &a, &b)) continue;
                xa = a < xa ? a : xa, xb = b > xb ? b : xb;
                ya = y < ya ? y : ya, yb = y > yb ? y : yb;
            }
        part[z * 4] = xa, part[z * 4 + 1] = xb, part[z * 4 + 2] = ya, part[z * 4 + 3] = yb;
    }
    for (int64_t z = 0; z < nz; z++) {
        if (part[z * 4 + 1] < 0) continue;
        if (part[z * 4] < box[0]) box[0] = part[z * 4];
        if (part[z * 4 + 1] > box[3]) box[3] = part[z * 4 + 1];
        if (part[z * 4 + 2] < box[1]) box[1] = part[z * 4 + 2];
        if (part[z * 4 + 3] > box[4]) box[4] = part[z * 4 + 3];
        if (z < box[2]) box[2] = z;
        box[5] = z;
    }
    free(part);
    for (int a = 0; a < 3; a++) lo[a] = box[a], hi[a] = box[3 + a];
    return box[3] >= 0;
}
