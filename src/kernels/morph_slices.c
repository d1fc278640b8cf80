/* Transposition between a volume and its slices across an axis. Both
 * directions walk the transposed layout in order and compute the volume
 * offset, so each output slice is written by one thread. */
#include "morph_slices.h"

#include "../core/par.h"

#include <string.h>

void md_slices_dims(const int64_t n[3], int axis, int64_t m[3])
{
    if (axis == 1) {
        m[0] = n[1], m[1] = n[2], m[2] = n[0];
    } else if (axis == 2) {
        m[0] = n[0], m[1] = n[2], m[2] = n[1];
    } else {
        m[0] = n[0], m[1] = n[1], m[2] = n[2];
    }
}

/* Volume strides of the transposed axes (u fastest, v, slice w). */
static void strides(const int64_t n[3], int axis, int64_t s[3])
{
    int64_t sx = 1, sy = n[0], sz = n[0] * n[1];
    if (axis == 1) {
        s[0] = sy, s[1] = sz, s[2] = sx;
    } else if (axis == 2) {
        s[0] = sx, s[1] = sz, s[2] = sy;
    } else {
        s[0] = sx, s[1] = sy, s[2] = sz;
    }
}

/* Moves one element; to_slices chooses the direction. */
static void move(const char *src, char *dst, size_t esize, const int64_t n[3], int axis, int to_slices)
{
    int64_t m[3], s[3];
    md_slices_dims(n, axis, m);
    strides(n, axis, s);
#pragma omp parallel for schedule(static) if (md_par_worth((double)(m[0] * m[1] * m[2])))
    for (int64_t w = 0; w < m[2]; w++) {
        size_t t = (size_t)(w * m[0] * m[1]);
        for (int64_t v = 0; v < m[1]; v++) {
            size_t o = (size_t)(w * s[2] + v * s[1]);
            for (int64_t u = 0; u < m[0]; u++, t++, o += (size_t)s[0]) {
                if (to_slices)
                    memcpy(dst + t * esize, src + o * esize, esize);
                else
                    memcpy(dst + o * esize, src + t * esize, esize);
            }
        }
    }
}

void md_slices_gather(const void *src, size_t esize, const int64_t n[3], int axis, void *dst)
{
    move(src, dst, esize, n, axis, 1);
}

void md_slices_scatter(const void *src, size_t esize, const int64_t n[3], int axis, void *dst)
{
    move(src, dst, esize, n, axis, 0);
}
