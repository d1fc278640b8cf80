/* The inner loops of CLAHE (clahe.c): the grey bins of a row, and the blend
 * of the tile maps around each voxel into an output row, vectorised where
 * the processor allows with the same bits as the scalar loop. No Lua. */
#ifndef MD_CLAHE_BLEND_H
#define MD_CLAHE_BLEND_H

#include <stddef.h>
#include <stdint.h>

/* Where the grey bins come from: a stored bin per voxel (8 or 16 bits), or
 * the 8- and 16-bit input itself through a table of one bin per value. */
typedef enum {
    MD_CLAHE_Q8,
    MD_CLAHE_Q16,
    MD_CLAHE_U8,
    MD_CLAHE_I8,
    MD_CLAHE_U16,
    MD_CLAHE_I16
} MdClaheBinsKind;

typedef struct MdClaheBins {
    MdClaheBinsKind kind;
    const void *p;       /* first voxel of the image */
    const uint16_t *lut; /* value (minus the type's least) -> bin; one spare entry at the end */
} MdClaheBins;

/* One output row: the maps of the four tile rows around it (tile 0 of each;
 * a voxel picks its tile by offset), its y and z weights (lower, upper),
 * and whether z takes part (3-D). Optionally (AVX-512 only) the row's cells:
 * for each x cell and bin, the 8 maps around it as float32, in skimage's
 * edge order (ez, ey, ex), and the 8 edge weights of each x phase. */
typedef struct MdClaheRow {
    const double *m[2][2]; /* [ez][ey] */
    double wy[2], wz[2];
    int three;
    const float *cells; /* NULL: gather from m */
    const double *w8;   /* [phase][8] */
} MdClaheRow;

/* Per x: offsets of the lower and upper tile into a tile row's maps (tile *
 * nbins; 32-bit, for the vector loops), the tiles themselves (for the
 * scalar loop), weights 1 - c and c; for cells, the offset of x's cell
 * (cell * nbins * 8) and x's weight phase. */
typedef struct MdClaheXTab {
    const int32_t *o0, *o1;
    const int64_t *t0, *t1;
    int nb;
    const double *c1, *c;
    const int64_t *cell;
    const int32_t *phase;
} MdClaheXTab;

/* The bins of len voxels of the row starting at voxel `row`: voxels x0.. of
 * the row, or, when xi is given, voxels xi[x0..] (the mirrored padding). */
void md_clahe_fetch_bins(const MdClaheBins *b, size_t row, const int64_t *xi, int64_t x0, int64_t len,
                         int32_t *out);

/* w8[i * 8 + e]: the 8 edge weights of weight phase i (rep[i]: an x of the
 * phase) for row r, multiplied as the blend does. */
void md_clahe_phase_weights(const MdClaheRow *r, const MdClaheXTab *xt, const int64_t *rep, int64_t nph, double *w8);

/* The widest blend this processor runs: 2 AVX-512, 1 AVX2, 0 scalar. */
int md_clahe_blend_level(void);

/* Blends the n voxels of the row starting at voxel `row` into out (float32,
 * or float64 when dbl; whole numbers, skimage's uint16 result) and widens
 * lohi to their least and largest. level as md_clahe_blend_level() (or
 * lower); vector levels need tile offsets that fit 32 bits. bbuf, rbuf: n
 * scratch values each. */
void md_clahe_blend_row(const MdClaheRow *r, const MdClaheBins *b, size_t row, const MdClaheXTab *xt, int level,
                        int64_t n, void *out, int dbl, int32_t *bbuf, int32_t *rbuf, int32_t lohi[2]);

#endif
