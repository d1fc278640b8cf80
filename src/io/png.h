/* PNG through libpng. Reading keeps stored sample values: 8- and 16-bit
 * grey stay uint8/uint16 2-D images (x = column, y = row, row 0 at the
 * top); 1-, 2- and 4-bit grey keep their values (0/1, 0..3, 0..15); a
 * palette whose entries are all grey gives the grey levels, any other
 * palette gives RGB; grey+alpha, RGB and RGBA give (x, y, 1, C) with the
 * channels on axis 4. tRNS transparency and gamma are not applied.
 * Spacing comes from an sCAL chunk in metres (pHYs is print density and
 * is ignored). Writing takes uint8/uint16 images with 1 to 4 channels, or
 * any dtype through a window mapped onto 0..255 (0..65535). */
#ifndef MD_PNG_H
#define MD_PNG_H

#include "ioopts.h"

MdStatus md_png_read(const char *path, const MdReadOpts *opts, MdVolume *out, MdMeta *meta,
                     MdError *err) MD_MUST_CHECK;

/* Writes a uint8 or uint16 image as stored. */
MdStatus md_png_write(const char *path, const MdVolume *v, const MdWriteOpts *opts,
                      MdError *err) MD_MUST_CHECK;

/* Writes any dtype with `bits` (8 or 16) per sample: value lo maps to 0, hi
 * to the largest sample, linearly, rounded, clamped; NaN becomes 0. */
MdStatus md_png_write_window(const char *path, const MdVolume *v, int bits, double lo, double hi,
                             MdError *err) MD_MUST_CHECK;

/* 1 when the n bytes at b start with the PNG signature. */
int md_png_sniff(const unsigned char *b, size_t n);

#endif
