/* Label surfaces' helpers: the labels of a label volume and their boxes,
 * found in one pass (v:meshes). The surfaces themselves: mcubes.c. */
#include "mcubes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/rows.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

MdStatus md_mcubes_label_boxes(const MdVolume *v, double **labels, int64_t **boxes, int64_t *n, MdCtx *ctx)
{
    MdError *err = ctx->err;
    *labels = NULL;
    *boxes = NULL;
    *n = 0;
    size_t nx = (size_t)v->dim[0], ny = (size_t)v->dim[1], nz = (size_t)v->dim[2];
    double *row = malloc(nx * sizeof(double));
    size_t cap = 16, cnt = 0;
    double *lab = malloc(cap * sizeof(double));
    int64_t *box = malloc(cap * 6 * sizeof(int64_t));
    MdStatus st = MD_OK;
    if (!row || !lab || !box) {
        st = md_error(err, MD_ENOMEM, "label surfaces: out of memory");
        goto done;
    }
    double last = 0;
    size_t at = 0; /* index of the last label seen: runs of one label are common */
    for (size_t z = 0; z < nz && st == MD_OK; z++) {
        if (md_ctx_cancelled(ctx)) {
            st = md_error(err, MD_ECANCELLED, "label surfaces cancelled");
            break;
        }
        for (size_t y = 0; y < ny && st == MD_OK; y++) {
            md_rows_to_f64(md_volume_data(v), v->dtype, (z * ny + y) * nx, nx, row);
            for (size_t x = 0; x < nx; x++) {
                double l = row[x];
                if (l == 0) continue;
                if (l != floor(l) || !isfinite(l)) {
                    st = md_error(err, MD_EINVAL, "label volumes hold integers (found %g at voxel %zu, %zu, %zu)",
                                  l, x + 1, y + 1, z + 1);
                    break;
                }
                if (!(cnt && l == last)) {
                    at = cnt;
                    for (size_t i = 0; i < cnt; i++)
                        if (lab[i] == l) at = i;
                    if (at == cnt) {
                        if (cnt == cap) {
                            cap *= 2;
                            double *nl = realloc(lab, cap * sizeof(double));
                            if (nl) lab = nl;
                            int64_t *nb = realloc(box, cap * 6 * sizeof(int64_t));
                            if (nb) box = nb;
                            if (!nl || !nb || cap > 1000000) {
                                st = md_error(err, MD_ENOMEM, "label surfaces: too many labels (over %zu)", cnt);
                                break;
                            }
                        }
                        lab[cnt] = l;
                        int64_t *b = box + 6 * cnt++;
                        b[0] = b[3] = (int64_t)x, b[1] = b[4] = (int64_t)y, b[2] = b[5] = (int64_t)z;
                    }
                    last = l;
                }
                int64_t *b = box + 6 * at, p[3] = {(int64_t)x, (int64_t)y, (int64_t)z};
                for (int a = 0; a < 3; a++) {
                    if (p[a] < b[a]) b[a] = p[a];
                    if (p[a] > b[3 + a]) b[3 + a] = p[a];
                }
            }
        }
    }
    if (st != MD_OK) goto done;
    /* increasing label order, boxes widened by one voxel */
    double *sorted = malloc((cnt + 1) * sizeof(double));
    int64_t *sb = malloc((cnt + 1) * 6 * sizeof(int64_t));
    if (!sorted || !sb) {
        free(sorted);
        free(sb);
        st = md_error(err, MD_ENOMEM, "label surfaces: out of memory");
        goto done;
    }
    memcpy(sorted, lab, cnt * sizeof(double));
    qsort(sorted, cnt, sizeof(double), cmp_double);
    for (size_t i = 0; i < cnt; i++) {
        size_t j = 0;
        while (lab[j] != sorted[i]) j++;
        for (int a = 0; a < 3; a++) {
            sb[6 * i + a] = box[6 * j + a] > 0 ? box[6 * j + a] - 1 : 0;
            sb[6 * i + 3 + a] = box[6 * j + 3 + a] + 1 < v->dim[a] ? box[6 * j + 3 + a] + 1 : v->dim[a] - 1;
        }
    }
    *labels = sorted;
    *boxes = sb;
    *n = (int64_t)cnt;
done:
    free(row);
    free(lab);
    free(box);
    return st;
}
