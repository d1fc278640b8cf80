/* The memcpy baseline of the patch rows (bench/rows/patch.sh): reads the
 * same .npy as medula, then for every patch of the same grid copies the
 * patch's rows out into a patch buffer and back into an output volume with
 * memcpy: the bytes a crop and a merge move, and nothing else (no
 * conversion, no weights, no averaging). Single-threaded, like memcpy.
 * Usage: patch_memcpy FILE.npy PATCH OVERLAP MODE(drop|cover) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Starts along one axis as medula's 'drop' and 'cover' modes place them. */
static size_t starts(size_t size, size_t patch, size_t stride, int cover, size_t *out)
{
    size_t n = 0;
    for (size_t s = 0; s + patch <= size; s += stride) out[n++] = s;
    if (cover && out[n - 1] + patch < size) out[n++] = size - patch;
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 5) return 2;
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 1;
    unsigned char pre[10];
    if (fread(pre, 1, 10, f) != 10) return 1;
    size_t hlen = pre[8] | (size_t)pre[9] << 8;
    char *h = calloc(1, hlen + 1);
    if (!h || fread(h, 1, hlen, f) != hlen) return 1;
    size_t d[3], es = strstr(h, "<f4") ? 4 : strstr(h, "<i2") ? 2 : 0;
    char *sh = strstr(h, "'shape': (");
    if (!es || !sh || sscanf(sh, "'shape': (%zu, %zu, %zu)", &d[2], &d[1], &d[0]) != 3) return 1;
    size_t n = d[0] * d[1] * d[2], p = (size_t)atoi(argv[2]), o = (size_t)atoi(argv[3]);
    int cover = strcmp(argv[4], "cover") == 0;
    unsigned char *v = malloc(n * es), *out = calloc(n, es), *patch = malloc(p * p * p * es);
    if (!v || !out || !patch || fread(v, es, n, f) != n) return 1;
    fclose(f);
    size_t sx[1024], sy[1024], sz[1024];
    size_t nx = starts(d[0], p, p - o, cover, sx), ny = starts(d[1], p, p - o, cover, sy),
           nz = starts(d[2], p, p - o, cover, sz);
    size_t row = p * es;
    for (size_t iz = 0; iz < nz; iz++)
        for (size_t iy = 0; iy < ny; iy++)
            for (size_t ix = 0; ix < nx; ix++) {
                for (size_t k = 0; k < p; k++)
                    for (size_t j = 0; j < p; j++)
                        memcpy(patch + (k * p + j) * row,
                               v + (((sz[iz] + k) * d[1] + sy[iy] + j) * d[0] + sx[ix]) * es, row);
                for (size_t k = 0; k < p; k++)
                    for (size_t j = 0; j < p; j++)
                        memcpy(out + (((sz[iz] + k) * d[1] + sy[iy] + j) * d[0] + sx[ix]) * es,
                               patch + (k * p + j) * row, row);
            }
    printf("%zu patches\n", nx * ny * nz);
    return out[n / 2] == 255 && out[0] == 1; /* keep the copies observable */
}
