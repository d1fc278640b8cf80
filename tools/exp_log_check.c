/* make check-exp-log: the float32 exp and log fast paths (src/kernels/
 * arith_math.c, from double and from float32 inputs) against the scalar
 * libm call rounded to float32, on every
 * float32 input and, for log, every int32 above 2^24 (the integers a float
 * cannot hold). Prints the inputs compared, the mismatches (must be 0), the
 * inputs the short evaluation takes, how many of those it sends to the
 * scalar call, and its largest difference from libm in ulp of double. Built
 * once per instruction set (MD_NO_CLONES and -march), since contracting
 * into FMA changes the evaluation's last bits. Usage: exp_log_check
 * [STRIDE]: every STRIDE-th input only (a spec runs a sample). Exits 1 on a
 * mismatch. */
#include "../src/kernels/arith_math.c"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define CHUNK 65536

typedef struct {
    uint64_t compared, mismatched, evaluated, fallback;
    int64_t worst_ulp;
} Tally;

static int64_t ulp_diff(double a, double b)
{
    int64_t ia, ib;
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    return ia > ib ? ia - ib : ib - ia;
}

/* One chunk of inputs x[0..n): the kernel's stored float against libm's,
 * through the double entry and, when xf holds the same inputs as float32,
 * the float32 one; r and e are scratch of n doubles, rf of n floats. */
static void check(const double *x, const float *xf, size_t n, int is_log, Tally *t, double *r, double *e, float *rf)
{
    md_arith_exp_log_f32(x, r, n, is_log);
    if (xf) md_arith_exp_log_f32f(xf, rf, n, is_log);
    for (size_t i = 0; i < n; i++) {
        const double ref = is_log ? log(x[i]) : exp(x[i]);
        const float a = (float)r[i], b = (float)ref;
        t->compared++;
        t->mismatched += memcmp(&a, &b, sizeof a) != 0 || (xf && memcmp(&rf[i], &b, sizeof b) != 0);
        const int64_t in = evaluated(x[i], is_log);
        if (!in) continue;
        e[i] = is_log ? short_log(x[i]) : short_exp(x[i]);
        t->evaluated++;
        t->fallback += unsafe(in, e[i]) != 0;
        const int64_t d = ulp_diff(e[i], ref);
        if (d > t->worst_ulp) t->worst_ulp = d;
    }
}

static void merge(Tally *into, const Tally *t)
{
    into->compared += t->compared;
    into->mismatched += t->mismatched;
    into->evaluated += t->evaluated;
    into->fallback += t->fallback;
    if (t->worst_ulp > into->worst_ulp) into->worst_ulp = t->worst_ulp;
}

/* Every float32 bit pattern (stride 1), or every stride-th one. */
static Tally all_floats(int is_log, uint64_t stride)
{
    Tally total = {0};
#pragma omp parallel
    {
        Tally t = {0};
        double *x = malloc(4 * CHUNK * sizeof *x);
        if (!x) abort();
        float *xf = (float *)(x + 3 * CHUNK), *rf = xf + CHUNK;
#pragma omp for schedule(dynamic, 16)
        for (uint64_t c = 0; c < ((uint64_t)1 << 32) / CHUNK; c++) {
            size_t n = 0;
            for (uint64_t j = 0; j < CHUNK; j += stride) {
                const uint32_t bits = (uint32_t)(c * CHUNK + j);
                memcpy(&xf[n], &bits, sizeof xf[n]);
                x[n] = xf[n];
                n++;
            }
            check(x, xf, n, is_log, &t, x + CHUNK, x + 2 * CHUNK, rf);
        }
        free(x);
#pragma omp critical
        merge(&total, &t);
    }
    return total;
}

static Tally big_ints(uint64_t stride)
{
    Tally total = {0};
    const int64_t lo = (int64_t)1 << 24, hi = INT32_MAX;
#pragma omp parallel
    {
        Tally t = {0};
        double *x = malloc(4 * CHUNK * sizeof *x);
        if (!x) abort();
#pragma omp for schedule(dynamic, 16)
        for (int64_t c = lo; c <= hi; c += CHUNK) {
            size_t n = 0;
            for (int64_t v = c; v < c + CHUNK && v <= hi; v += (int64_t)stride) x[n++] = (double)v;
            check(x, NULL, n, 1, &t, x + CHUNK, x + 2 * CHUNK, NULL);
        }
        free(x);
#pragma omp critical
        merge(&total, &t);
    }
    return total;
}

static void report(const char *what, Tally t)
{
    printf("%-22s %10" PRIu64 " compared, %" PRIu64 " mismatched; of the %" PRIu64 " evaluated, %" PRIu64
           " sent to the scalar call, worst %" PRId64 " ulp\n",
           what, t.compared, t.mismatched, t.evaluated, t.fallback, t.worst_ulp);
}

int main(int argc, char **argv)
{
    const uint64_t stride = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
    if (stride < 1 || stride > CHUNK) return 2;
    const Tally l = all_floats(1, stride), e = all_floats(0, stride), i = big_ints(stride);
    report("log, float32 inputs", l);
    report("exp, float32 inputs", e);
    report("log, int32 above 2^24", i);
    return l.mismatched || e.mismatched || i.mismatched;
}
