/* Enhanced multi-frame DICOM keeps orientation, pixel spacing and position
 * in functional groups: the shared group (5200,9229) or one per-frame item
 * (5200,9230) per frame. These helpers look in both and check that frames
 * agree where one volume needs them to. */
#ifndef MD_DICOM_FGROUPS_H
#define MD_DICOM_FGROUPS_H

#include "dicom_parse.h"

/* Element attr of macro sequence seq for frame (0-based): the per-frame
 * item first, then the shared item; -1 when neither holds it. */
int32_t md_dcm_fg_find(const MdDcm *d, int frame, uint32_t seq, uint32_t attr);

/* Orientation (6 cosines) and PixelSpacing (row, column) of an enhanced
 * object: top-level attributes when present, else the functional groups of
 * frame 1, and then every one of frames must give the same values (else
 * MD_EFORMAT saying which frame differs: such a file is not one volume).
 * *has_iop / *has_ps say whether a value was found (iop, ps untouched
 * otherwise). */
MdStatus md_dcm_fg_plane(const MdDcm *d, int frames, double iop[6], int *has_iop, double ps[2],
                         int *has_ps, MdError *err) MD_MUST_CHECK;

/* ImagePositionPatient of frame 1: top level, else PlanePositionSequence
 * in the functional groups. Returns 1 when found. */
int md_dcm_fg_first_position(const MdDcm *d, double ipp[3]);

#endif
