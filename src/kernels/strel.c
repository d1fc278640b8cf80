/* Structuring elements: construction, decomposition into x-runs, and
 * recognition of digital balls. Elements are tiny, so everything here is
 * serial and favours clarity. */
#include "strel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Sides of se as three numbers (a 2-D element is one slice thick). */
static void sides(const MdVolume *se, int64_t n[3])
{
    n[0] = se->dim[0];
    n[1] = se->ndim > 1 ? se->dim[1] : 1;
    n[2] = se->ndim > 2 ? se->dim[2] : 1;
}

static MdStatus check_u8(const MdVolume *out, const char *what, MdError *err)
{
    if (out->dtype != MD_UINT8 || (out->ndim != 2 && out->ndim != 3))
        return md_error(err, MD_EINVAL, "%s: expected a 2-D or 3-D uint8 volume", what);
    return MD_OK;
}

MdStatus md_strel_ball(MdVolume *out, int radius, MdError *err)
{
    MdStatus st = check_u8(out, "ball", err);
    if (st != MD_OK) return st;
    int64_t n[3];
    sides(out, n);
    int64_t side = 2 * (int64_t)radius + 1;
    if (radius < 0 || n[0] != side || n[1] != side || (out->ndim == 3 && n[2] != side))
        return md_error(err, MD_EINVAL, "ball: sides must be 2r+1 = %lld", (long long)side);
    uint8_t *d = md_volume_data(out);
    int64_t r2 = (int64_t)radius * radius, cz = out->ndim == 3 ? radius : 0;
    for (int64_t z = 0; z < n[2]; z++)
        for (int64_t y = 0; y < n[1]; y++)
            for (int64_t x = 0; x < n[0]; x++) {
                int64_t dx = x - radius, dy = y - radius, dz = z - cz;
                d[(z * n[1] + y) * n[0] + x] = dx * dx + dy * dy + dz * dz <= r2;
            }
    return MD_OK;
}

void md_strel_ball_mm_extent(double r_mm, const double *sp, int ndim, int64_t half[3])
{
    for (int a = 0; a < 3; a++)
        half[a] = a < ndim ? (int64_t)floor(r_mm / sp[a] * (1 + 1e-9)) : 0;
}

MdStatus md_strel_ball_mm(MdVolume *out, double r_mm, const double *sp, MdError *err)
{
    MdStatus st = check_u8(out, "ball_mm", err);
    if (st != MD_OK) return st;
    int64_t n[3], h[3];
    sides(out, n);
    md_strel_ball_mm_extent(r_mm, sp, out->ndim, h);
    for (int a = 0; a < out->ndim; a++)
        if (n[a] != 2 * h[a] + 1) return md_error(err, MD_EINVAL, "ball_mm: wrong side on axis %d", a + 1);
    double lim = r_mm * r_mm * (1 + 1e-9);
    double s2 = out->ndim == 3 ? sp[2] : 0;
    uint8_t *d = md_volume_data(out);
    for (int64_t z = 0; z < n[2]; z++)
        for (int64_t y = 0; y < n[1]; y++)
            for (int64_t x = 0; x < n[0]; x++) {
                double px = (double)(x - h[0]) * sp[0], py = (double)(y - h[1]) * sp[1];
                double pz = (double)(z - h[2]) * s2;
                d[(z * n[1] + y) * n[0] + x] = px * px + py * py + pz * pz <= lim;
            }
    return MD_OK;
}

MdStatus md_strel_cross(MdVolume *out, MdError *err)
{
    MdStatus st = check_u8(out, "cross", err);
    if (st != MD_OK) return st;
    int64_t n[3];
    sides(out, n);
    if (n[0] != 3 || n[1] != 3 || (out->ndim == 3 && n[2] != 3))
        return md_error(err, MD_EINVAL, "cross: sides must be 3");
    uint8_t *d = md_volume_data(out);
    int64_t cz = out->ndim == 3 ? 1 : 0;
    for (int64_t z = 0; z < n[2]; z++)
        for (int64_t y = 0; y < 3; y++)
            for (int64_t x = 0; x < 3; x++) {
                int64_t m = llabs(x - 1) + llabs(y - 1) + llabs(z - cz);
                d[(z * 3 + y) * 3 + x] = m <= 1;
            }
    return MD_OK;
}

static int row_cmp(const void *pa, const void *pb)
{
    const MdStrelRow *a = pa, *b = pb;
    if (a->dz != b->dz) return a->dz < b->dz ? -1 : 1;
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    if (a->dy != b->dy) return a->dy < b->dy ? -1 : 1;
    return (a->a > b->a) - (a->a < b->a);
}

static int member(const MdVolume *se, size_t i)
{
    return md_load(md_volume_data(se), se->dtype, i) != 0;
}

MdStatus md_strel_from_mask(const MdVolume *m, MdVolume *out, MdError *err)
{
    MdStatus st = check_u8(out, "from_mask", err);
    if (st != MD_OK) return st;
    size_t count = md_volume_count(m);
    if (m->ndim != out->ndim || md_volume_count(out) != count)
        return md_error(err, MD_EINVAL, "from_mask: the output must be shaped like the mask");
    uint8_t *d = md_volume_data(out);
    for (size_t i = 0; i < count; i++) d[i] = (uint8_t)member(m, i);
    return MD_OK;
}

MdStatus md_strel_rows(const MdVolume *se, int reflect, MdStrelRows *out, MdError *err)
{
    out->n = 0;
    out->rows = NULL;
    int64_t n[3];
    sides(se, n);
    /* at most one run per two columns, plus one, per row */
    size_t cap = (size_t)(n[1] * n[2]) * (size_t)((n[0] + 2) / 2);
    MdStrelRow *rows = malloc(cap * sizeof *rows);
    if (!rows) return md_error(err, MD_ENOMEM, "out of memory decomposing a structuring element");
    int64_t c[3] = {n[0] / 2, n[1] / 2, n[2] / 2};
    int k = 0;
    for (int64_t z = 0; z < n[2]; z++)
        for (int64_t y = 0; y < n[1]; y++)
            for (int64_t x = 0; x < n[0];) {
                size_t base = (size_t)((z * n[1] + y) * n[0]);
                if (!member(se, base + (size_t)x)) {
                    x++;
                    continue;
                }
                int64_t x1 = x;
                while (x1 + 1 < n[0] && member(se, base + (size_t)x1 + 1)) x1++;
                MdStrelRow r = {(int)(y - c[1]), (int)(z - c[2]), (int)(x - c[0]), (int)(x1 - x + 1)};
                if (reflect) r = (MdStrelRow){-r.dy, -r.dz, -(r.a + r.len - 1), r.len};
                rows[k++] = r;
                x = x1 + 1;
            }
    if (k == 0) {
        free(rows);
        return md_error(err, MD_EINVAL, "the structuring element is empty (no non-zero voxel)");
    }
    qsort(rows, (size_t)k, sizeof *rows, row_cmp);
    out->n = k;
    out->rows = rows;
    return MD_OK;
}

void md_strel_rows_free(MdStrelRows *r)
{
    free(r->rows);
    r->rows = NULL;
    r->n = 0;
}

int md_strel_ball_radius(const MdVolume *se, int *flat)
{
    int64_t n[3];
    sides(se, n);
    *flat = n[2] == 1;
    if (n[0] % 2 == 0 || n[1] != n[0] || (!*flat && n[2] != n[0])) return -1;
    int64_t r = n[0] / 2, cz = *flat ? 0 : r;
    for (int64_t z = 0; z < n[2]; z++)
        for (int64_t y = 0; y < n[1]; y++)
            for (int64_t x = 0; x < n[0]; x++) {
                int64_t dx = x - r, dy = y - r, dz = z - cz;
                int want = dx * dx + dy * dy + dz * dz <= r * r;
                if (member(se, (size_t)((z * n[1] + y) * n[0] + x)) != want) return -1;
            }
    return (int)r;
}
