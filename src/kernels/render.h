/* Pictures of volumes: slices with a colour map, label overlays and
 * contours, laid out as panels on a grid (one slice, montages, the
 * orthogonal three-view, image/prediction/truth side by side), rendered
 * into a uint8 RGB volume of shape (w, h, 1, 3) that io/png writes. Also
 * intensity projections and the terminal rendering of a picture. Plots
 * live in plot.h, text in font.h, meshes in meshrender.h. */
#ifndef MD_RENDER_H
#define MD_RENDER_H

#include <stdint.h>

#include "../core/ctx.h"
#include "../core/volume.h"

/* How slice axes map onto the picture. RADIOLOGICAL: axial and coronal
 * slices show the patient's right on the picture's left (columns run
 * toward L), axial rows run anterior to posterior, coronal and sagittal
 * rows superior to inferior, sagittal columns anterior to posterior.
 * NEUROLOGICAL mirrors axial and coronal left-right. VOXEL: columns follow
 * the lower in-plane voxel axis, rows the higher, both increasing. The
 * anatomical directions come from the volume's direction matrix (the
 * nearest LPS axis of each voxel axis). */
typedef enum { MD_CONV_RADIOLOGICAL, MD_CONV_NEUROLOGICAL, MD_CONV_VOXEL } MdConvention;

typedef struct MdSliceStyle {
    double lo, hi;              /* value lo -> colour 0, hi -> colour 255 */
    const unsigned char *cmap;  /* 256 x 3 (colormap.h) */
    const MdVolume *overlay;    /* labels or mask on the image's grid, or NULL */
    const MdVolume *truth;      /* with overlay as prediction: agreement colours */
    int agree_show;             /* agreement classes drawn: 1 prediction only (red),
                                   2 truth only (green), 4 both (yellow) */
    double alpha;               /* fill opacity of the overlay, 0..1 */
    int contour;                /* draw 1-pixel outlines of the overlay's regions */
    double scale;               /* picture pixels per finest in-plane mm step (> 0) */
    MdConvention conv;
    int flip_h, flip_v;         /* further mirroring of the picture */
} MdSliceStyle;

typedef struct MdPanel {
    const MdVolume *v;
    int axis;                   /* 0, 1, 2: the voxel axis the slice is across */
    int64_t index;              /* 0-based slice */
    MdSliceStyle style;
    const int64_t *cross;       /* 0-based voxel (i, j, k) for a cross-hair, or NULL */
    unsigned char cross_rgb[3];
    const char *title;          /* drawn at the top left, or NULL */
} MdPanel;

/* The picture size of one panel (checks the panel: axis, index, overlay
 * grid, scale). */
MdStatus md_render_panel_size(const MdPanel *p, int64_t *w, int64_t *h, MdError *err) MD_MUST_CHECK;

/* Size of n panels on a grid of cols columns: every cell as large as the
 * largest panel. */
MdStatus md_render_grid_size(const MdPanel *p, int n, int cols, int64_t *w, int64_t *h,
                             MdError *err) MD_MUST_CHECK;

/* Renders n panels into out (uint8, (w, h, 1, 3) from md_render_grid_size,
 * allocated by the caller), each at the top left of its cell, black
 * elsewhere. Panels are drawn in parallel; the bytes never depend on it. */
MdStatus md_render_grid(const MdPanel *p, int n, int cols, MdVolume *out, MdCtx *ctx) MD_MUST_CHECK;

/* The picture axis (0 columns, 1 rows) and direction a voxel axis takes in
 * a panel, for callers placing marks: col_axis/row_axis are voxel axes,
 * flips say the axis runs right-to-left / bottom-to-top. */
typedef struct MdPanelLayout {
    int col_axis, row_axis;
    int col_flip, row_flip;
} MdPanelLayout;
void md_render_layout(const MdVolume *v, int axis, const MdSliceStyle *s, MdPanelLayout *l);

/* 1 when b has a's first three dims, spacing, origin and direction (within
 * rounding): an overlay must. */
int md_render_same_grid(const MdVolume *a, const MdVolume *b);

/* Intensity projection along axis (0..2): mode 0 max, 1 min, 2 mean.
 * out has v's dims with that axis 1; max/min keep the dtype, mean is
 * float32 (summed in double). NaN is skipped by max/min. */
MdStatus md_project(const MdVolume *v, int axis, int mode, MdVolume *out, MdCtx *ctx) MD_MUST_CHECK;

/* The picture as terminal text: each character cell shows two pixels
 * (upper half block with foreground and background colours). mode 0:
 * 24-bit colour, 1: the 256-colour palette, 2: grey shades as characters
 * (no escape codes). *out is new (malloc), NUL-terminated. */
MdStatus md_render_ansi(const MdVolume *pic, int mode, char **out, size_t *len, MdError *err) MD_MUST_CHECK;

/* Resamples a picture to width w (height keeping the aspect, halved for
 * text cells when cells != 0) by nearest pixels; for the terminal. */
MdStatus md_render_fit(const MdVolume *pic, int64_t w, int cells, MdVolume *out, MdError *err) MD_MUST_CHECK;
MdStatus md_render_fit_size(const MdVolume *pic, int64_t w, int cells, int64_t *ow, int64_t *oh);

#endif
