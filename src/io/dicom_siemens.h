/* Siemens specifics: mosaic images (many slices tiled in one image) and the
 * CSA header that tells which way their slices run. */
#ifndef MD_DICOM_SIEMENS_H
#define MD_DICOM_SIEMENS_H

#include "dicom_image.h"
#include "dicom_parse.h"

/* Up to n numbers of the CSA image header entry name (e.g.
 * "SliceNormalVector"); returns how many were found (0 without a CSA
 * header). Every length in the header is checked against the element. */
int md_dcm_csa_numbers(const MdDcm *d, const char *name, double *out, int n);

/* Unpacks the mosaic in v (one frame, stored dtype) into its
 * NumberOfImagesInMosaic tiles, ascending along the normal of g->iop (tiles
 * are reversed when the CSA SliceNormalVector points the other way), and
 * moves pos0 from the mosaic's corner to the first slice's origin (half the
 * unused width and height, as dcm2niix and nibabel). Replaces v's buffer. */
MdStatus md_dcm_unmosaic(const MdDcm *d, MdVolume *v, MdGeom *g, double pos0[3],
                         MdError *err) MD_MUST_CHECK;

#endif
