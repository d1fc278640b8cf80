/* DICOM pixel data to arrays of stored values: the image pixel module
 * (Rows, Columns, BitsAllocated/Stored, PixelRepresentation, ...), native
 * pixel data in either byte order, 1-bit packed frames, encapsulated
 * fragments split into frames, RLE Lossless, and the JPEG family through
 * dicom_codecs.c. Rescaling to Hounsfield units is not done here. */
#ifndef MD_DICOM_PIXELS_H
#define MD_DICOM_PIXELS_H

#include "../core/dtype.h"
#include "dicom_parse.h"

typedef struct MdDcmImage {
    int rows, cols, frames, samples, planar;
    int bits_alloc, bits_stored, high_bit, is_signed;
    int sub422; /* native YBR_FULL_422: Y Y Cb Cr per two pixels, expanded on decode */
    char photometric[20];
} MdDcmImage;

/* Reads and checks the image pixel module of d (top level). Fails when
 * there is no pixel data, or a size is absent, zero or absurd. */
MdStatus md_dcm_image(const MdDcm *d, MdDcmImage *im, MdError *err) MD_MUST_CHECK;

/* The dtype holding one stored value: uint8 (1 and 8 bits, unsigned),
 * int8, uint16, int16, uint32, int32. */
MdDtype md_dcm_stored_dtype(const MdDcmImage *im);

/* Values per frame (rows x cols x samples) and bytes of the stored dtype
 * for all frames (checked product). */
MdStatus md_dcm_frame_size(const MdDcmImage *im, size_t *values, size_t *bytes_all,
                           MdError *err) MD_MUST_CHECK;

/* Checks, before anything is allocated, that the pixel data can hold the
 * image: native data must have every byte, encapsulated data at least one
 * fragment per frame and a plausible size. */
MdStatus md_dcm_check_pixels(const MdDcm *d, const MdDcmImage *im, MdError *err) MD_MUST_CHECK;
/* The native (uncompressed) part of that check: a Pixel Data element of len
 * bytes, avail bytes of file after its start, must hold every frame. */
MdStatus md_dcm_check_native_length(const MdDcmImage *im, size_t len, size_t avail,
                                    MdError *err) MD_MUST_CHECK;

/* Decodes every frame into dst (borrowed, bytes_all bytes): frame after
 * frame, each [sample][row][col] (colour-by-plane), in the stored dtype,
 * with BitsStored masking and sign extension applied. */
MdStatus md_dcm_decode(const MdDcm *d, const MdDcmImage *im, void *dst, MdError *err) MD_MUST_CHECK;

/* 1 when the pixel data of the header-only parse d can be read straight
 * from the file into a slice (uncompressed, not swapped, not packed, one
 * sample, header complete); sets *off and *len of the Pixel Data value. */
int md_dcm_direct(const MdDcm *d, const MdDcmImage *im, size_t *off, size_t *len);
/* Reads that value of the file at path into dst (one copy, no file buffer),
 * with BitsStored masking and sign extension. */
MdStatus md_dcm_read_direct(const char *path, size_t off, size_t len, const MdDcmImage *im,
                            void *dst, MdError *err) MD_MUST_CHECK;

/* Name of a transfer syntax UID ("JPEG Lossless, SV1", ...), or the UID itself. */
const char *md_dcm_ts_name(const char *uid);

#endif
