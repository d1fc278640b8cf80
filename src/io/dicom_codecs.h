/* Decoders of one compressed DICOM frame into raw sample values: JPEG
 * lossless (processes 14 and SV1, written here: Debian's libjpeg-turbo 2.1
 * does not decode lossless JPEG), JPEG-LS (CharLS) and JPEG 2000 (OpenJPEG).
 * Each writes rows*cols*samples values, [sample][row][col], into out as
 * uint8 (bits <= 8) or uint16/int32 containers chosen by the caller. */
#ifndef MD_DICOM_CODECS_H
#define MD_DICOM_CODECS_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

/* What the caller expects the frame to be; the decoders check it. */
typedef struct MdFrameSpec {
    int rows, cols, samples;
    int bytes; /* bytes per value in out: 1, 2 or 4 */
} MdFrameSpec;

MdStatus md_jpeg_lossless_decode(const uint8_t *p, size_t n, const MdFrameSpec *f, void *out,
                                 MdError *err) MD_MUST_CHECK;
/* JPEG baseline and extended with 8-bit samples (libjpeg-turbo); 12-bit
 * data fails with MD_EUNSUPPORTED. Colour comes out as RGB. */
MdStatus md_jpeg_decode(const uint8_t *p, size_t n, const MdFrameSpec *f, void *out,
                        MdError *err) MD_MUST_CHECK;
MdStatus md_jpegls_decode(const uint8_t *p, size_t n, const MdFrameSpec *f, void *out,
                          MdError *err) MD_MUST_CHECK;
/* J2K values may be signed in the codestream; they are written as the
 * low bits of out (two's complement), which the caller masks/sign-extends
 * from BitsStored. */
MdStatus md_j2k_decode(const uint8_t *p, size_t n, const MdFrameSpec *f, void *out,
                       MdError *err) MD_MUST_CHECK;

#endif
