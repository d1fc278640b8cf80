"""numpy's in-process times for the element-wise rows of bench/run.sh.

Usage: elementwise_numpy.py CT.npy RUNS
Prints one line per operation: name and the best of RUNS perf_counter
times around the numpy expression alone (the array is loaded first). The
operations are those medula times in bench/rows/elementwise.sh, written as
a numpy user writes them.
"""
import sys
import time

import numpy as np


def best(f, runs):
    b = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        r = f()
        b = min(b, time.perf_counter() - t)
        del r
    return b


def stats(a):
    return a.min(), a.max(), a.sum(dtype=np.int64), a.mean(), a.std()


def main():
    a = np.load(sys.argv[1])
    runs = int(sys.argv[2])
    b = a // 2
    m = a < -320
    m2 = a > -1000
    af = a.astype(np.float32)
    fa, g = np.abs(af) + 1, af * np.float32(0.001)
    c = a.copy()
    ops = [
        ("lt", lambda: a < -320),
        ("add_number", lambda: a + 1),
        ("mul_volumes", lambda: a * b),
        ("where", lambda: np.where(m, 0, a)),
        ("band", lambda: m & m2),
        ("clamp", lambda: np.clip(a, -1000, 400)),
        ("stats", lambda: stats(a)),
        ("stats_mask", lambda: stats(a[m])),
        ("sub_number", lambda: a - 1),
        ("div_number", lambda: af / 3),
        ("add_inplace", lambda: np.add(c, 1, out=c)),
        ("min_number", lambda: np.minimum(a, 0)),
        ("max_number", lambda: np.maximum(a, 0)),
        ("abs", lambda: np.abs(a)),
        ("between", lambda: (a >= -1000) & (a <= -400)),
        ("bor", lambda: m | m2),
        ("bxor", lambda: m ^ m2),
        ("bnot", lambda: ~m),
        ("astype_f32", lambda: a.astype(np.float32)),
        ("fill", lambda: c.fill(0)),
        ("log", lambda: np.log(fa)),
        ("exp", lambda: np.exp(g)),
        ("sqrt", lambda: np.sqrt(fa)),
        ("stats_f32", lambda: stats(af)),
    ]
    for name, f in ops:
        print(name, "%.6f" % best(f, runs))


main()
