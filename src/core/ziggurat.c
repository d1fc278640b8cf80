/* The ziggurat's rare path (see ziggurat.h for the definition). */
#include "ziggurat.h"

#include "rng.h"

uint64_t md_zig_slow_key(uint64_t key) { return md_rng_derive(key, MD_ZIG_TAG); }

double md_zig_slow(uint64_t slow_key, uint64_t v, int i, double u)
{
    MdRng c = {md_rng_derive(slow_key, v), 0};
    for (;;) {
        if (fabs(u) < md_zig_ratio[i]) return u * md_zig_x[i];
        if (i == 0) { /* beyond r: the tail */
            double a, b;
            do {
                a = -log(1.0 - md_rng_next_uniform(&c)) / MD_ZIG_R;
                b = -log(1.0 - md_rng_next_uniform(&c));
            } while (b + b < a * a);
            return u < 0 ? -(MD_ZIG_R + a) : MD_ZIG_R + a;
        }
        const double x = u * md_zig_x[i];
        const double y = md_zig_f[i] + md_rng_next_uniform(&c) * (md_zig_f[i + 1] - md_zig_f[i]);
        if (y < exp(-0.5 * x * x)) return x;
        const uint64_t w = md_rng_next_u64(&c);
        i = (int)(w & 127);
        u = ((double)((int64_t)w >> 12) + 0.5) * 0x1.0p-51;
    }
}
