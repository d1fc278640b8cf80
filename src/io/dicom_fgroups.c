/* Functional-group lookups of enhanced multi-frame DICOM (see
 * dicom_fgroups.h). Pixel decoding and stacking are elsewhere. */
#include "dicom_fgroups.h"

#include <math.h>
#include <stdio.h>

#define TAG MD_DCM_TAG
#define PLANE_TOL 1e-4 /* cosines and relative spacings closer than this agree */

int32_t md_dcm_fg_find(const MdDcm *d, int frame, uint32_t seq, uint32_t attr)
{
    int32_t pf = md_dcm_item(d, md_dcm_find(d, -1, TAG(0x5200, 0x9230)), frame);
    int32_t e = pf >= 0 ? md_dcm_find_in_first_item(d, pf, seq, attr) : -1;
    if (e >= 0) return e;
    int32_t sh = md_dcm_item(d, md_dcm_find(d, -1, TAG(0x5200, 0x9229)), 0);
    return sh >= 0 ? md_dcm_find_in_first_item(d, sh, seq, attr) : -1;
}

/* Checks that every frame's value of (seq, attr) equals ref[0..n) (a frame
 * without the attribute is taken to have frame 1's). */
static MdStatus frames_agree(const MdDcm *d, int frames, uint32_t seq, uint32_t attr,
                             const double *ref, int n, const char *name, MdError *err)
{
    int32_t pfs = md_dcm_find(d, -1, TAG(0x5200, 0x9230));
    int f = 0;
    for (int32_t it = pfs >= 0 ? pfs + 1 : 0; pfs >= 0 && it < d->el[pfs].end && f < frames;
         it = d->el[it].end, f++) {
        double v[6];
        if (md_dcm_numbers(d, md_dcm_find_in_first_item(d, it, seq, attr), v, n) != n) continue;
        for (int i = 0; i < n; i++) {
            double scale = n == 2 ? fmax(fabs(ref[i]), 1e-9) : 1; /* spacings: relative */
            if (!(fabs(v[i] - ref[i]) <= PLANE_TOL * scale))
                return md_error(err, MD_EFORMAT,
                                "frames disagree on %s (frame 1: %g, frame %d: %g in value %d): "
                                "the frames do not form one volume",
                                name, ref[i], f + 1, v[i], i + 1);
        }
    }
    return MD_OK;
}

MdStatus md_dcm_fg_plane(const MdDcm *d, int frames, double iop[6], int *has_iop, double ps[2],
                         int *has_ps, MdError *err)
{
    double v[6];
    *has_iop = md_dcm_numbers(d, md_dcm_find(d, -1, TAG(0x0020, 0x0037)), v, 6) == 6;
    if (*has_iop) {
        for (int i = 0; i < 6; i++) iop[i] = v[i];
    } else if (md_dcm_numbers(d, md_dcm_fg_find(d, 0, TAG(0x0020, 0x9116), TAG(0x0020, 0x0037)),
                              v, 6) == 6) {
        for (int i = 0; i < 6; i++) iop[i] = v[i];
        *has_iop = 1;
        MdStatus st = frames_agree(d, frames, TAG(0x0020, 0x9116), TAG(0x0020, 0x0037), iop, 6,
                                   "ImageOrientationPatient", err);
        if (st != MD_OK) return st;
    }
    *has_ps = md_dcm_numbers(d, md_dcm_find(d, -1, TAG(0x0028, 0x0030)), v, 2) == 2;
    if (*has_ps) {
        ps[0] = v[0], ps[1] = v[1];
    } else if (md_dcm_numbers(d, md_dcm_fg_find(d, 0, TAG(0x0028, 0x9110), TAG(0x0028, 0x0030)),
                              v, 2) == 2) {
        ps[0] = v[0], ps[1] = v[1];
        *has_ps = 1;
        MdStatus st = frames_agree(d, frames, TAG(0x0028, 0x9110), TAG(0x0028, 0x0030), ps, 2,
                                   "PixelSpacing", err);
        if (st != MD_OK) return st;
    }
    return MD_OK;
}

int md_dcm_fg_first_position(const MdDcm *d, double ipp[3])
{
    if (md_dcm_numbers(d, md_dcm_find(d, -1, TAG(0x0020, 0x0032)), ipp, 3) == 3) return 1;
    return md_dcm_numbers(d, md_dcm_fg_find(d, 0, TAG(0x0020, 0x9113), TAG(0x0020, 0x0032)), ipp,
                          3) == 3;
}
