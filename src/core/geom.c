/* Affines and orientation codes. */
#include "geom.h"

#include <math.h>
#include <string.h>

void md_geom_affine(const MdVolume *v, double A[16])
{
    memset(A, 0, 16 * sizeof *A);
    for (int r = 0; r < 3; r++) {
        for (int c = 0; c < 3; c++) A[r * 4 + c] = v->direction[r * 3 + c] * v->spacing[c];
        A[r * 4 + 3] = v->origin[r];
    }
    A[15] = 1.0;
}

void md_geom_affine_ras(const MdVolume *v, double A[16])
{
    md_geom_affine(v, A);
    for (int c = 0; c < 4; c++) {
        A[c] = A[c] == 0 ? 0 : -A[c];
        A[4 + c] = A[4 + c] == 0 ? 0 : -A[4 + c];
    }
}

MdStatus md_geom_from_affine(MdVolume *v, const double A[16], MdError *err)
{
    for (int c = 0; c < 3; c++) {
        double n = sqrt(A[c] * A[c] + A[4 + c] * A[4 + c] + A[8 + c] * A[8 + c]);
        if (!(n > 0) || !isfinite(n))
            return md_error(err, MD_EINVAL, "affine column %d has zero or non-finite length", c + 1);
        v->spacing[c] = n;
        for (int r = 0; r < 3; r++) v->direction[r * 3 + c] = A[r * 4 + c] / n;
    }
    for (int r = 0; r < 3; r++) v->origin[r] = A[r * 4 + 3];
    return MD_OK;
}

void md_geom_index_to_world(const MdVolume *v, const double ijk[3], double xyz[3])
{
    for (int r = 0; r < 3; r++) {
        double s = v->origin[r];
        for (int c = 0; c < 3; c++) s += v->direction[r * 3 + c] * v->spacing[c] * ijk[c];
        xyz[r] = s;
    }
}

int md_geom_inv3(const double m[9], double inv[9])
{
    double det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
                 m[2] * (m[3] * m[7] - m[4] * m[6]);
    if (det == 0 || !isfinite(det)) return 0;
    inv[0] = (m[4] * m[8] - m[5] * m[7]) / det;
    inv[1] = (m[2] * m[7] - m[1] * m[8]) / det;
    inv[2] = (m[1] * m[5] - m[2] * m[4]) / det;
    inv[3] = (m[5] * m[6] - m[3] * m[8]) / det;
    inv[4] = (m[0] * m[8] - m[2] * m[6]) / det;
    inv[5] = (m[2] * m[3] - m[0] * m[5]) / det;
    inv[6] = (m[3] * m[7] - m[4] * m[6]) / det;
    inv[7] = (m[1] * m[6] - m[0] * m[7]) / det;
    inv[8] = (m[0] * m[4] - m[1] * m[3]) / det;
    return 1;
}

MdStatus md_geom_world_to_index(const MdVolume *v, const double xyz[3], double ijk[3],
                                MdError *err)
{
    double m[9], inv[9];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) m[r * 3 + c] = v->direction[r * 3 + c] * v->spacing[c];
    if (!md_geom_inv3(m, inv))
        return md_error(err, MD_EINVAL, "direction x spacing matrix is singular");
    double d[3] = {xyz[0] - v->origin[0], xyz[1] - v->origin[1], xyz[2] - v->origin[2]};
    for (int r = 0; r < 3; r++) ijk[r] = inv[r * 3] * d[0] + inv[r * 3 + 1] * d[1] + inv[r * 3 + 2] * d[2];
    return MD_OK;
}

MdStatus md_geom_world_to_index_2d(const MdVolume *v, const double xy[2], double ij[2],
                                   MdError *err)
{
    double a = v->direction[0] * v->spacing[0], b = v->direction[1] * v->spacing[1];
    double c = v->direction[3] * v->spacing[0], d = v->direction[4] * v->spacing[1];
    double det = a * d - b * c;
    if (det == 0 || !isfinite(det))
        return md_error(err, MD_EINVAL, "the in-plane direction x spacing matrix is singular");
    double dx = xy[0] - v->origin[0], dy = xy[1] - v->origin[1];
    ij[0] = (d * dx - b * dy) / det;
    ij[1] = (a * dy - c * dx) / det;
    return MD_OK;
}

void md_geom_orientation(const MdVolume *v, char code[4])
{
    /* LPS world: +x = Left, +y = Posterior, +z = Superior. Each axis takes
     * the world axis it is most aligned with, never one taken before. */
    static const char pos[3] = {'L', 'P', 'S'}, neg[3] = {'R', 'A', 'I'};
    int used[3] = {0, 0, 0};
    for (int c = 0; c < 3; c++) {
        int best = -1;
        double bestv = -1;
        for (int r = 0; r < 3; r++) {
            double a = fabs(v->direction[r * 3 + c]);
            if (!used[r] && a > bestv) {
                bestv = a;
                best = r;
            }
        }
        used[best] = 1;
        code[c] = v->direction[best * 3 + c] >= 0 ? pos[best] : neg[best];
    }
    code[3] = '\0';
}
