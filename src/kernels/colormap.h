/* Colour maps as tables of 256 RGB entries, and the colours of labels.
 * gray, bone, hot, jet and cool follow the usual piecewise-linear
 * definitions (those of MATLAB and matplotlib); viridis is our own
 * polynomial fit of the published map (within 3 levels of matplotlib's). */
#ifndef MD_COLORMAP_H
#define MD_COLORMAP_H

/* The 256 x 3 table of the named map, or NULL for an unknown name. */
const unsigned char *md_colormap(const char *name);

/* The names, NULL-terminated, for messages and docs. */
extern const char *const md_colormap_names[];

/* The colour of label value `label` (non-zero): 1 red, 2 green, 3 blue,
 * 4 yellow, 5 cyan, 6 magenta, then hues a golden angle apart. */
void md_label_color(long long label, unsigned char rgb[3]);

#endif
