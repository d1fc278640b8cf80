/* Mesh pictures: vertices projected once, one shade per face, then bands
 * of rows rasterised in parallel with edge functions at pixel centres and a
 * z-buffer (a nearer or equally near earlier face wins). */
#include "meshrender.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/par.h"

#define BAND 16

MdStatus md_mesh_render(const MdMesh *m, const MdMeshView *view, MdVolume *pic, MdCtx *ctx)
{
    MdError *err = ctx->err;
    int64_t w = pic->dim[0], h = pic->dim[1];
    if (pic->dtype != MD_UINT8 || pic->dim[3] != 3) return md_error(err, MD_EINVAL, "expected an RGB picture");
    double az = view->azimuth * M_PI / 180, el = view->elevation * M_PI / 180;
    double d[3] = {-cos(el) * sin(az), cos(el) * cos(az), -sin(el)}; /* view direction */
    double r[3] = {cos(az), sin(az), 0};
    double u[3] = {r[1] * d[2] - r[2] * d[1], r[2] * d[0] - r[0] * d[2], r[0] * d[1] - r[1] * d[0]};
    size_t plane = (size_t)(w * h);
    unsigned char *px = md_volume_data(pic);
    for (int c = 0; c < 3; c++) memset(px + c * plane, view->background[c], plane);
    if (m->nfaces == 0) return MD_OK;
    int64_t nv = m->nverts, nf = m->nfaces;
    const float *v = md_mesh_verts(m);
    const int32_t *f = md_mesh_faces(m);
    double *sx = malloc((size_t)nv * 3 * sizeof(double));
    unsigned char *shade = malloc((size_t)nf);
    float *zbuf = malloc(plane * sizeof(float));
    if (!sx || !shade || !zbuf) {
        free(sx);
        free(shade);
        free(zbuf);
        return md_error(err, MD_ENOMEM, "mesh picture: out of memory");
    }
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (int64_t i = 0; i < nv; i++) {
        double p[3] = {v[3 * i], v[3 * i + 1], v[3 * i + 2]};
        double s = p[0] * r[0] + p[1] * r[1] + p[2] * r[2], t = p[0] * u[0] + p[1] * u[1] + p[2] * u[2];
        sx[3 * i] = s, sx[3 * i + 1] = t, sx[3 * i + 2] = p[0] * d[0] + p[1] * d[1] + p[2] * d[2];
        lo[0] = fmin(lo[0], s), hi[0] = fmax(hi[0], s), lo[1] = fmin(lo[1], t), hi[1] = fmax(hi[1], t);
    }
    double span = fmax(fmax(hi[0] - lo[0], hi[1] - lo[1]) * 1e-9, 1e-12);
    double k = fmin((double)w * (1 - 2 * view->margin) / fmax(hi[0] - lo[0], span),
                    (double)h * (1 - 2 * view->margin) / fmax(hi[1] - lo[1], span));
    double cs = (lo[0] + hi[0]) / 2, ct = (lo[1] + hi[1]) / 2;
    for (int64_t i = 0; i < nv; i++) {
        sx[3 * i] = (double)w / 2 + (sx[3 * i] - cs) * k;
        sx[3 * i + 1] = (double)h / 2 - (sx[3 * i + 1] - ct) * k;
    }
    for (int64_t t = 0; t < nf; t++) {
        const float *a = v + 3 * (size_t)f[3 * t], *b = v + 3 * (size_t)f[3 * t + 1], *c = v + 3 * (size_t)f[3 * t + 2];
        double e1[3], e2[3];
        for (int q = 0; q < 3; q++) e1[q] = (double)b[q] - (double)a[q], e2[q] = (double)c[q] - (double)a[q];
        double n[3] = {e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]};
        double len = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        double lam = len > 0 ? fabs(n[0] * d[0] + n[1] * d[1] + n[2] * d[2]) / len : 0;
        shade[t] = (unsigned char)floor((0.2 + 0.8 * lam) * 255 + 0.5);
    }
    for (size_t i = 0; i < plane; i++) zbuf[i] = INFINITY;
    int64_t nbands = (h + BAND - 1) / BAND;
    int fail = MD_OK;
#pragma omp parallel for schedule(dynamic, 1) if (md_par_worth((double)nf * 4)) num_threads(ctx->threads)
    for (int64_t band = 0; band < nbands; band++) {
        if (md_par_stopped(&fail) || md_par_poll_cancel(&fail)) continue;
        int64_t y0 = band * BAND, y1 = y0 + BAND < h ? y0 + BAND : h;
        for (int64_t t = 0; t < nf; t++) {
            const double *A = sx + 3 * (size_t)f[3 * t], *B = sx + 3 * (size_t)f[3 * t + 1], *C = sx + 3 * (size_t)f[3 * t + 2];
            double area = (B[0] - A[0]) * (C[1] - A[1]) - (B[1] - A[1]) * (C[0] - A[0]);
            if (area == 0) continue;
            double ymin = fmin(A[1], fmin(B[1], C[1])), ymax = fmax(A[1], fmax(B[1], C[1]));
            int64_t ya = (int64_t)fmax(ceil(ymin - 0.5), (double)y0), yb = (int64_t)fmin(floor(ymax - 0.5), (double)(y1 - 1));
            if (ya > yb) continue;
            double xmin = fmin(A[0], fmin(B[0], C[0])), xmax = fmax(A[0], fmax(B[0], C[0]));
            int64_t xa = (int64_t)fmax(ceil(xmin - 0.5), 0), xb = (int64_t)fmin(floor(xmax - 0.5), (double)(w - 1));
            for (int64_t y = ya; y <= yb; y++)
                for (int64_t x = xa; x <= xb; x++) {
                    double X = (double)x + 0.5, Y = (double)y + 0.5;
                    double wa = ((B[0] - X) * (C[1] - Y) - (B[1] - Y) * (C[0] - X)) / area;
                    double wb = ((C[0] - X) * (A[1] - Y) - (C[1] - Y) * (A[0] - X)) / area;
                    double wc = 1 - wa - wb;
                    if (wa < 0 || wb < 0 || wc < 0) continue;
                    float z = (float)(wa * A[2] + wb * B[2] + wc * C[2]);
                    size_t i = (size_t)(y * w + x);
                    if (!(z < zbuf[i])) continue;
                    zbuf[i] = z;
                    for (int q = 0; q < 3; q++) px[q * plane + i] = (unsigned char)((view->rgb[q] * shade[t] + 127) / 255);
                }
        }
    }
    free(sx);
    free(shade);
    free(zbuf);
    return md_par_status(fail, "mesh picture", err);
}
