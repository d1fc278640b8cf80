/* DICOM files and folders to volumes: scanning a folder into series,
 * ordering slices along the slice normal, geometry in LPS as ITK gives it,
 * stored values to Hounsfield units, and DICOM SEG objects to label
 * volumes. The element walker is dicom_parse.h, pixel decoding
 * dicom_pixels.h; this is what formats.c and the binding call. */
#ifndef MD_DICOM_H
#define MD_DICOM_H

#include "../core/meta.h"
#include "../core/volume.h"
#include "dicom_pixels.h"
#include "ioopts.h"

/* Called from the calling thread between batches of files (headers read,
 * or slices decoded) with the number done so far and the total; nonzero
 * cancels. */
typedef int (*MdDicomProgress)(void *ud, size_t done, size_t total);

/* What CT padding (PixelPaddingValue, stored -2000) becomes. */
enum { MD_PAD_AIR = 0, MD_PAD_KEEP = 1, MD_PAD_INTERCEPT = 2 };

typedef struct MdDicomOpts {
    int recursive;        /* scan sub-folders too */
    const char *series;   /* borrowed: id of the series to read; NULL: the folder must hold one */
    int dtype;            /* -1: int16 when exact, else float32; or MD_INT16 / MD_FLOAT32 */
    int raw;              /* stored values, no rescale, no padding replacement */
    int keep_padding;     /* MD_PAD_AIR, MD_PAD_KEEP or MD_PAD_INTERCEPT (what padding becomes) */
    int allow_nonuniform; /* stack a series with uneven gaps (spacing = first gap, as ITK) */
    int skip_damaged;     /* read a folder without its damaged DICOM files (else an error) */
    MdDicomProgress progress; /* NULL, or called as the slices of a stack are decoded */
    void *progress_ud;        /* borrowed: progress's first argument */
} MdDicomOpts;

/* Rescale parameters of one slice (see dicom_image.h). */
typedef struct MdRescale {
    double slope, inter;
    double pad_lo, pad_hi; /* PixelPaddingValue (and RangeLimit), stored units */
    int has_pad, is_ct;
} MdRescale;

/* What a folder scan keeps of one file. */
typedef struct MdDicomFile {
    char *path; /* new */
    char series_uid[68], sop_uid[68], study_uid[68], description[68], modality[20];
    double ipp[3], iop[6], pixel_spacing[2]; /* pixel_spacing = (row spacing, column spacing) */
    int has_ipp, has_iop, has_spacing;
    int rows, cols, frames, instance;
    int mosaic; /* Siemens mosaic: number of tiles (0 when not a mosaic) */
    double pos; /* ImagePositionPatient along the slice normal */
    MdDcmImage im;        /* image pixel module */
    MdRescale rescale;    /* of its first frame */
    int direct;           /* uncompressed: pixels read straight from pixel_off */
    size_t pixel_off, pixel_len;
} MdDicomFile;

/* One stackable group: files of one SeriesInstanceUID with one orientation
 * and one size. A series that mixes orientations or sizes is split into
 * groups whose ids are the UID, then UID#2, UID#3, ... */
typedef struct MdDicomSeries {
    char id[80], uid[68];
    int nfiles;
    int *files;     /* new: indices into MdDicomScan.files, ascending along the normal */
    int64_t dim[3]; /* columns, rows, slices (frames for one multi-frame file) */
    double iop[6];
    char orientation[4];
    char problem[400];    /* why it cannot be stacked ("" when it can) */
    char nonuniform[400]; /* uneven gaps or missing slices ("" when regular) */
    double tilt_deg;      /* angle between the slice normal and the stacking direction */
    int nsplit;           /* number of groups the UID was split into */
} MdDicomSeries;

/* A file that starts like DICOM but cannot be read as an image. */
typedef struct MdDicomDamaged {
    char *path; /* new */
    char *why;  /* new: what is wrong, without the path */
} MdDicomDamaged;

typedef struct MdDicomScan {
    MdDicomFile *files;
    size_t nfiles;
    MdDicomSeries *series;
    size_t nseries;
    size_t skipped; /* files that are not DICOM images (DICOMDIR, reports, other files) */
    char **skipped_paths;    /* new: their paths (skipped of them), sorted */
    MdDicomDamaged *damaged; /* new: files that look like DICOM but are damaged, sorted */
    size_t ndamaged;
} MdDicomScan;

/* 1 when path is a folder, or a file that starts like DICOM. */
int md_dicom_is_candidate(const char *path);

/* Scans a folder (or one file) into series. A folder's files that are not
 * DICOM images are listed in skipped_paths; files that look like DICOM (DICM
 * at byte 128, or a plausible first element) but cannot be read as an image
 * (truncated, Pixel Data shorter than the image, no Pixel Data after an image
 * module) are listed in damaged, not grouped: the read decides. Sub-folders
 * (recursive) are entered once each: a link back to a folder already visited
 * (same device and inode) is not followed again. Fails when the folder holds
 * no readable DICOM image. scan is filled (free it with md_dicom_scan_free,
 * also after failure). */
MdStatus md_dicom_scan(const char *path, int recursive, MdDicomScan *scan,
                       MdError *err) MD_MUST_CHECK;
void md_dicom_scan_free(MdDicomScan *scan);
/* md_dicom_scan with progress reports (prog may be NULL; ud borrowed). */
MdStatus md_dicom_scan_ex(const char *path, int recursive, MdDicomProgress prog, void *ud,
                          MdDicomScan *scan, MdError *err) MD_MUST_CHECK;
/* The same for a list of files (paths borrowed): every file must be DICOM
 * only when there is one. */
MdStatus md_dicom_scan_files(const char *const *paths, size_t n, MdDicomScan *scan,
                             MdError *err) MD_MUST_CHECK;

/* Reads one series of a scan into out (zeroed by the caller; on failure it
 * may hold a buffer the caller releases) and meta. */
MdStatus md_dicom_read_series(const MdDicomScan *scan, const MdDicomSeries *s,
                              const MdDicomOpts *opts, MdVolume *out, MdMeta *meta,
                              MdError *err) MD_MUST_CHECK;

/* Scans path and reads the series opts->series names, or the only one.
 * A damaged file in the scan fails the read, naming it, unless
 * opts->skip_damaged; meta lists skipped and damaged files
 * (dicom_skipped_files, dicom_damaged_files: one per line). */
MdStatus md_dicom_read_ex(const char *path, const MdDicomOpts *opts, MdVolume *out, MdMeta *meta,
                          MdError *err) MD_MUST_CHECK;
/* The same for an explicit list of files (paths borrowed). */
MdStatus md_dicom_read_files(const char *const *paths, size_t n, const MdDicomOpts *opts,
                             MdVolume *out, MdMeta *meta, MdError *err) MD_MUST_CHECK;

/* The entry point of formats.c: md_dicom_read_ex with default options
 * (raw maps to opts->raw). The message names the path. */
MdStatus md_dicom_read(const char *path, const MdReadOpts *opts, MdVolume *out, MdMeta *meta,
                       MdError *err) MD_MUST_CHECK;

/* Every top-level attribute of one file (not the pixels) into meta, by
 * keyword where known and always by "GGGG,EEEE". */
MdStatus md_dicom_header(const char *path, MdMeta *meta, MdError *err) MD_MUST_CHECK;

/* DICOM SEG to labels on a reference grid (see dicom_seg.c). */
typedef struct MdSegInfo {
    int nsegments;
    int numbers[256];       /* SegmentNumber of each segment */
    char labels[256][68];   /* SegmentLabel */
    int64_t overlap_voxels; /* voxels claimed by more than one segment */
    int fractional;
    int frames, frames_placed;
} MdSegInfo;

/* Reads SEG file path onto the grid of ref (borrowed; NULL: the grid its
 * own frames span). masks == 0: out is one int32 label volume (segment
 * numbers; a voxel in several segments keeps the highest number);
 * masks == 1: out is a 4-D uint8 (binary) or float32 (fractional, 0..1)
 * volume, one mask per segment along axis 4, in segment order. */
MdStatus md_dicom_read_seg(const char *path, const MdVolume *ref, int masks, MdVolume *out,
                           MdSegInfo *info, MdMeta *meta, MdError *err) MD_MUST_CHECK;

/* The SeriesInstanceUID the SEG at path refers to (ReferencedSeriesSequence),
 * or "" when it names none. */
MdStatus md_dicom_seg_referenced_series(const char *path, char *uid, size_t cap,
                                        MdError *err) MD_MUST_CHECK;

#endif
