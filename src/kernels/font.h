/* A tiny bitmap font of our own: printable ASCII in 5x7 cells (6x8 with
 * spacing), drawn into planar RGB pictures with clipping. */
#ifndef MD_FONT_H_
#define MD_FONT_H_

#include <stdint.h>

/* A picture (planar RGB: channel c of pixel (x, y) at c*w*h + y*w + x) and
 * the region drawing is clipped to, whose top left is the origin. */
typedef struct MdCanvas {
    unsigned char *px;
    int64_t w, h;
    int64_t x0, y0, cw, ch;
} MdCanvas;

#define MD_FONT_ADVANCE 6 /* advance per character at scale 1 */
#define MD_FONT_LINE 8 /* line height at scale 1 */

/* Draws text with its top left at (x, y) of the region, each font pixel a
 * scale x scale square; characters outside ' '..'~' draw as '?'. */
void md_font_draw(const MdCanvas *c, int64_t x, int64_t y, const char *text, const unsigned char rgb[3],
                  int scale);
/* Width in pixels of text at scale (no trailing space). */
int64_t md_font_width(const char *text, int scale);
/* Draws text rotated a quarter turn counter-clockwise (reading upward), its
 * bottom left at (x, y); for vertical axis labels. */
void md_font_draw_up(const MdCanvas *c, int64_t x, int64_t y, const char *text, const unsigned char rgb[3],
                     int scale);

#endif
