/* The colour map tables, computed once on first use from their
 * definitions: piecewise-linear channels given as (x, y) knots, or a
 * polynomial per channel. Entry i samples x = i / 255; values are rounded
 * to the nearest level. */
#include "colormap.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

typedef struct Knots {
    int n;
    double x[6], y[6];
} Knots;

typedef struct MapDef {
    const char *name;
    Knots ch[3];         /* piecewise-linear channels ... */
    const double *poly;  /* ... or 3 polynomials of degree 7 (highest power first) */
} MapDef;

static const double viridis_poly[3][8] = {
    {66.49956486, -238.1805542, 326.8137835, -217.0800632, 76.31457572, -14.78944141, 1.161779825,
     0.2566234966},
    {6.762903736, -19.02859176, 19.00377161, -8.553654899, 2.470643074, -1.255970022, 1.503667138,
     0.003954482691},
    {36.30688643, -100.8019949, 110.5157968, -65.25035578, 24.88522937, -7.803976503, 1.962263901,
     0.3229281516}};

static const MapDef defs[] = {
    {"gray", {{2, {0, 1}, {0, 1}}, {2, {0, 1}, {0, 1}}, {2, {0, 1}, {0, 1}}}, NULL},
    {"bone",
     {{3, {0, 0.746032, 1}, {0, 0.652778, 1}},
      {4, {0, 0.365079, 0.746032, 1}, {0, 0.319444, 0.777778, 1}},
      {3, {0, 0.365079, 1}, {0, 0.444444, 1}}},
     NULL},
    {"hot",
     {{3, {0, 0.365079, 1}, {0.0416, 1, 1}},
      {4, {0, 0.365079, 0.746032, 1}, {0, 0, 1, 1}},
      {3, {0, 0.746032, 1}, {0, 0, 1}}},
     NULL},
    {"jet",
     {{5, {0, 0.35, 0.66, 0.89, 1}, {0, 0, 1, 1, 0.5}},
      {6, {0, 0.125, 0.375, 0.64, 0.91, 1}, {0, 0, 1, 1, 0, 0}},
      {5, {0, 0.11, 0.34, 0.65, 1}, {0.5, 1, 1, 0, 0}}},
     NULL},
    {"cool", {{2, {0, 1}, {0, 1}}, {2, {0, 1}, {1, 0}}, {2, {0, 1}, {1, 1}}}, NULL},
    {"viridis", {{0}, {0}, {0}}, &viridis_poly[0][0]},
};

#define NMAPS (sizeof defs / sizeof *defs)

const char *const md_colormap_names[] = {"gray", "bone", "hot", "jet", "cool", "viridis", NULL};

static unsigned char tables[NMAPS][256][3];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static double knot_value(const Knots *k, double x)
{
    for (int i = 1; i < k->n; i++)
        if (x <= k->x[i]) return k->y[i - 1] + (k->y[i] - k->y[i - 1]) * (x - k->x[i - 1]) / (k->x[i] - k->x[i - 1]);
    return k->y[k->n - 1];
}

static unsigned char level(double y)
{
    y = y < 0 ? 0 : y > 1 ? 1 : y;
    return (unsigned char)floor(y * 255 + 0.5);
}

static void build(void)
{
    for (size_t m = 0; m < NMAPS; m++)
        for (int i = 0; i < 256; i++) {
            double x = i / 255.0;
            for (int c = 0; c < 3; c++) {
                double y = 0;
                if (defs[m].poly) {
                    for (int p = 0; p < 8; p++) y = y * x + defs[m].poly[8 * c + p];
                } else {
                    y = knot_value(&defs[m].ch[c], x);
                }
                tables[m][i][c] = level(y);
            }
        }
}

const unsigned char *md_colormap(const char *name)
{
    pthread_once(&once, build);
    for (size_t m = 0; m < NMAPS; m++)
        if (strcmp(defs[m].name, name) == 0) return &tables[m][0][0];
    if (strcmp(name, "grey") == 0) return &tables[0][0][0];
    return NULL;
}

void md_label_color(long long label, unsigned char rgb[3])
{
    static const unsigned char first[6][3] = {{255, 0, 0},   {0, 255, 0},   {0, 0, 255},
                                              {255, 255, 0}, {0, 255, 255}, {255, 0, 255}};
    unsigned long long l = label < 0 ? (unsigned long long)(-(label + 1)) + 1 : (unsigned long long)label;
    if (l >= 1 && l <= 6) {
        memcpy(rgb, first[l - 1], 3);
        return;
    }
    /* HSV with hue a golden angle apart per label, alternating value */
    double h = fmod((double)(l % 100003) * 0.6180339887498949, 1.0) * 6;
    double s = 0.75, v = l % 2 ? 1.0 : 0.8;
    int i = (int)h;
    double f = h - i, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    double r, g, b;
    switch (i % 6) {
    case 0: r = v, g = t, b = p; break;
    case 1: r = q, g = v, b = p; break;
    case 2: r = p, g = v, b = t; break;
    case 3: r = p, g = q, b = v; break;
    case 4: r = t, g = p, b = v; break;
    default: r = v, g = p, b = q; break;
    }
    rgb[0] = level(r);
    rgb[1] = level(g);
    rgb[2] = level(b);
}
