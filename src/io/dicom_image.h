/* Shared steps of the DICOM readers (dicom_read.c, dicom_seg.c): header to
 * metadata, per-frame rescale parameters and the conversion to HU, and the
 * volume geometry from orientation, pixel spacing and slice positions. */
#ifndef MD_DICOM_IMAGE_H
#define MD_DICOM_IMAGE_H

#include "../core/meta.h"
#include "../core/volume.h"
#include "dicom.h"
#include "dicom_pixels.h"

typedef struct MdGeom {
    double iop[6];
    double ps[2];           /* PixelSpacing: row spacing, column spacing */
    double dz;              /* slice spacing when there are fewer than 2 positions */
    const double (*pos)[3]; /* borrowed: slice origins ascending along the normal */
    int npos;
    int nonuniform; /* uneven gaps accepted: spacing = first gap (as ITK) */
} MdGeom;

/* Every top-level attribute of d into meta (keyword and "GGGG,EEEE"). */
MdStatus md_dcm_fill_meta(const MdDcm *d, MdMeta *meta, MdError *err) MD_MUST_CHECK;
/* Rescale parameters of frame (0-based) of d. */
void md_dcm_rescale(const MdDcm *d, const MdDcmImage *im, int frame, MdRescale *r);
/* Converts v (stored dtype, dims x,y,z) in place to HU: rs[k] for slice k;
 * replaces v's buffer when the element size changes. done (may be NULL)
 * marks slices md_dcm_convert_early already turned into int16 HU. */
MdStatus md_dcm_convert(MdVolume *v, const MdRescale *rs, const uint8_t *done,
                        const MdDicomOpts *opts, MdMeta *meta, MdError *err) MD_MUST_CHECK;
/* Converts slice k of v (16-bit stored values) to int16 HU in place when
 * that is exact, right after decoding while the slice is in cache; returns
 * 1 when it did (v keeps its stored dtype until md_dcm_convert). */
int md_dcm_convert_early(MdVolume *v, size_t k, const MdRescale *r, const MdDicomOpts *opts);
/* Sets v's spacing, origin and direction; a tilted stack keeps its shear
 * (axis 2 follows the slice origins) and is reported in meta. */
MdStatus md_dcm_geometry(MdVolume *v, const MdGeom *g, MdMeta *meta, MdError *err) MD_MUST_CHECK;

#endif
