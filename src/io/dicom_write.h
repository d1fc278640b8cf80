/* Writing a volume as a DICOM CT series: one Part 10 file per slice,
 * explicit VR little endian, signed 16-bit stored values with a rescale
 * slope and intercept per slice, geometry in LPS (ImagePositionPatient,
 * ImageOrientationPatient, PixelSpacing, SliceThickness). What pydicom and
 * dcm2niix read back as the same voxels and geometry. No Lua here. */
#ifndef MD_DICOM_WRITE_H
#define MD_DICOM_WRITE_H

#include <stdint.h>

#include "../core/volume.h"

typedef struct MdDicomWriteOpts {
    const char *patient_id;   /* default "ANONYMOUS" */
    const char *patient_name; /* default "Anonymous" */
    const char *description;  /* SeriesDescription, default "medula" */
    uint64_t seed;            /* UIDs, random names and shuffles derive from it */
    int series_number;        /* default 1 */
    const double *slope;      /* per slice (nz values), NULL: all 1 */
    const double *intercept;  /* per slice, NULL: all -1024 */
    int random_names;         /* file names: 16 hex digits instead of IM00001.dcm */
    int shuffle_instances;    /* InstanceNumber a random permutation of 1..nz */
} MdDicomWriteOpts;

/* Writes the 3-D (or 2-D: one slice) volume v into folder (created if
 * missing, its parents must exist) as nz files; returns the number written
 * in *count. Stored value = (v - intercept) / slope must be an integer in
 * int16's range for every voxel (float volumes are rounded to nearest);
 * otherwise MD_EINVAL naming the slice and value. Each file is written to a
 * temporary name and renamed. Errors: EINVAL, EIO. */
MdStatus md_dicom_write_series(const MdVolume *v, const char *folder, const MdDicomWriteOpts *o,
                               int *count, MdError *err) MD_MUST_CHECK;

#endif
