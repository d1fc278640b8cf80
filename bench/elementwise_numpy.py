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
    ops = [
        ("lt", lambda: a < -320),
        ("add_number", lambda: a + 1),
        ("mul_volumes", lambda: a * b),
        ("where", lambda: np.where(m, 0, a)),
        ("band", lambda: m & m2),
        ("clamp", lambda: np.clip(a, -1000, 400)),
        ("stats", lambda: stats(a)),
        ("stats_mask", lambda: stats(a[m])),
    ]
    for name, f in ops:
        print(name, "%.6f" % best(f, runs))


main()
