/* NIfTI-1 / NIfTI-2 header fields: decoding the 348- and 540-byte headers
 * (either byte order), encoding them for the writer, the datatype table and
 * the choice of affine (as nibabel's img.affine). No file access here; the
 * reader and writer in nifti.c do the I/O. */
#ifndef MD_NIFTI_HEADER_H
#define MD_NIFTI_HEADER_H

#include <stdint.h>

#include "../core/volume.h"

#define MD_NIFTI1_SIZE 348
#define MD_NIFTI2_SIZE 540
/* Bytes to read to be sure to hold either header plus the 4-byte extension flag. */
#define MD_NIFTI_PEEK 544

/* The header fields medula uses, widened to one layout for both versions. */
typedef struct MdNiftiHeader {
    int version;  /* 1 or 2 */
    int swapped;  /* stored in the other byte order than this machine's */
    int hdr_size; /* 348 or 540 */
    int datatype; /* NIfTI code (2 = uint8, 4 = int16, ...) */
    int64_t dim[8];
    double pixdim[8];
    int64_t vox_offset;
    double scl_slope, scl_inter;
    int qform_code, sform_code;
    double quatern[3]; /* b, c, d */
    double qoffset[3];
    double srow[12]; /* srow_x, srow_y, srow_z */
    int xyzt_units;
    int intent_code;
    char descrip[81];
    char intent_name[17];
} MdNiftiHeader;

/* Decodes b[0..n). Checks size field, magic and dims (dim[0] 1..7, every used
 * dim >= 1, dims 5..7 equal to 1). Fails with MD_EFORMAT (message without the
 * path) on a truncated, non-NIfTI or absurd header. */
MdStatus md_nifti_header_decode(const unsigned char *b, size_t n, MdNiftiHeader *h,
                                MdError *err) MD_MUST_CHECK;
/* The same for the header of a .hdr/.img pair: the magic must be "ni1"
 * ("ni2") and vox_offset is an offset into the .img file (0 allowed). */
MdStatus md_nifti_header_decode_pair(const unsigned char *b, size_t n, MdNiftiHeader *h,
                                     MdError *err) MD_MUST_CHECK;

/* Encodes h (version 1 or 2, host byte order) into b, which must hold
 * h->hdr_size + 4 bytes; the 4 bytes after the header say "no extensions". */
void md_nifti_header_encode(const MdNiftiHeader *h, unsigned char *b);
/* Rewrites the magic of an encoded header to the pair form ("ni1"/"ni2"). */
void md_nifti_header_set_pair_magic(const MdNiftiHeader *h, unsigned char *b);

/* On-disk element size and name of a NIfTI datatype code; size 0 when the
 * code is unknown. */
size_t md_nifti_type_size(int datatype);
const char *md_nifti_type_name(int datatype);
/* The medula dtype a NIfTI datatype is read into (int64/uint64 -> float64);
 * fails with MD_EUNSUPPORTED naming the type (RGB, complex, ...). */
MdStatus md_nifti_type_to_dtype(int datatype, MdDtype *out, MdError *err) MD_MUST_CHECK;
/* The NIfTI code for a medula dtype. */
int md_nifti_type_from_dtype(MdDtype t);

/* The voxel -> RAS affine nibabel's img.affine gives for this header:
 * sform when sform_code > 0, else qform when qform_code > 0, else the
 * pixdim fallback (x flipped, centred on the volume). *source names the
 * one used ("sform", "qform", "pixdim"). */
void md_nifti_header_affine(const MdNiftiHeader *h, double A[16], const char **source);
/* The same for one method only (used when the preferred one is degenerate). */
void md_nifti_qform_affine(const MdNiftiHeader *h, double A[16]);
void md_nifti_base_affine(const MdNiftiHeader *h, double A[16]);

/* Fills the geometry fields (pixdim[0..3], quatern, qoffset, srow, codes)
 * from v's LPS geometry: sform always (code 1), qform (code 1) too when the
 * direction is orthogonal, with qfac -1 for an improper rotation. */
void md_nifti_header_set_geometry(MdNiftiHeader *h, const MdVolume *v);

#endif
