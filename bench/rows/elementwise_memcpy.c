/* The memcpy yardstick of the element-wise rows (bench/rows/elementwise.sh):
 * for each byte count given, the best of RUNS memcpy calls of that many
 * bytes between two buffers touched beforehand (no page faults), on one
 * thread. Prints one line per count: bytes and seconds.
 * Usage: elementwise_memcpy RUNS BYTES... */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    int runs = atoi(argv[1]);
    size_t most = 0;
    for (int i = 2; i < argc; i++) {
        size_t b = strtoull(argv[i], NULL, 10);
        if (b > most) most = b;
    }
    char *src = malloc(most), *dst = malloc(most);
    if (!src || !dst) return 1;
    memset(src, 1, most);
    memset(dst, 2, most);
    for (int i = 2; i < argc; i++) {
        size_t b = strtoull(argv[i], NULL, 10);
        double best = 1e30;
        for (int r = 0; r < runs; r++) {
            double t = now();
            memcpy(dst, src, b);
            t = now() - t;
            if (t < best) best = t;
        }
        printf("%zu %.6f\n", b, best);
    }
    return dst[most / 2] == 3; /* keep the copies observable */
}
