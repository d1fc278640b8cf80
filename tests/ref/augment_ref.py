#!/usr/bin/python3
"""Reference for tests/augment_spec.lua: scipy.ndimage.map_coordinates on the
same single mapping v:warp applies, written from its definition.

  augment_ref.py JOBS.json

Each job: in, out (.npy, medula's layout: array [z, y, x]), matrix (9
numbers, row a = input axis a, column c = output axis c, x first), offset
(3), shape (x, y, z), order (0, 1, 3), mode, cval, and optionally lattice
(Kx, Ky, Kz) with displacement (3 x Kx*Ky*Kz, x fastest, x components
first, input voxels): output voxel o reads the input at
M o + b + sum_ijk c_ijk Bx_i(ox) By_j(oy) Bz_k(oz), the cubic B-spline
lattice with control point i at output index (i - 1)(n - 1)/(K - 3).
Also: "gaussian" jobs (in, out, sigma (x, y, z)) run
scipy.ndimage.gaussian_filter(mode='nearest', truncate=4); "normality" jobs
(in, sd) test in / sd against N(0, 1) with scipy.stats (Kolmogorov-Smirnov,
chi-square on 200 equiprobable bins, moments, tail counts); "gamma" jobs (in,
out, gamma, invert) apply nnU-Net's gamma formula in float64.
Prints {"results": [...]}.
"""
import json
import sys

import numpy as np
from scipy import ndimage, stats


def bspline_weights(o, n, K):
    """First lattice index and the 4 cubic B-spline weights at output index o."""
    if n > 1:
        u = o * (K - 3) / (n - 1)
        j = min(max(int(np.floor(u)), 0), K - 4)
        t = u - j
    else:
        j, t = 0, 0.0
    s = 1.0 - t
    return j, np.array([s ** 3 / 6, (3 * t ** 3 - 6 * t ** 2 + 4) / 6,
                        (-3 * t ** 3 + 3 * t ** 2 + 3 * t + 1) / 6, t ** 3 / 6])


def basis_matrix(n, K):
    """n x K matrix B with B[o, i] the weight of control point i at output o."""
    B = np.zeros((n, K))
    for o in range(n):
        j, w = bspline_weights(o, n, K)
        B[o, j:j + 4] = w
    return B


def coordinates(job):
    nx, ny, nz = job["shape"]
    M = np.array(job["matrix"], dtype=np.float64).reshape(3, 3)
    b = np.array(job["offset"], dtype=np.float64)
    oz, oy, ox = np.meshgrid(np.arange(nz), np.arange(ny), np.arange(nx), indexing="ij")
    coords = []
    for a in range(3):
        coords.append(oz * M[a, 2] + oy * M[a, 1] + ox * M[a, 0] + b[a])
    if "lattice" in job:
        K = job["lattice"]
        d = np.array(job["displacement"], dtype=np.float64).reshape(3, K[2], K[1], K[0])
        Bx, By, Bz = basis_matrix(nx, K[0]), basis_matrix(ny, K[1]), basis_matrix(nz, K[2])
        for a in range(3):
            field = np.einsum("zk,yj,xi,kji->zyx", Bz, By, Bx, d[a])
            coords[a] = coords[a] + field
    # map_coordinates takes numpy's axis order: z, y, x
    return np.array([coords[2], coords[1], coords[0]])


def warp(job):
    data = np.load(job["in"]).astype(np.float64)
    c = coordinates(job)
    if data.ndim == 2:
        c = c[1:, 0]
    out = ndimage.map_coordinates(data, c, order=job["order"], mode=job["mode"],
                                  cval=job.get("cval", 0.0), prefilter=True)
    np.save(job["out"], out)
    return {"shape": list(out.shape)}


def gaussian(job):
    data = np.load(job["in"]).astype(np.float64)
    sigma = list(reversed(job["sigma"]))[-data.ndim:]
    out = ndimage.gaussian_filter(data, sigma, mode="nearest", truncate=4.0)
    np.save(job["out"], out)
    return {}


def normality(job):
    z = np.load(job["in"]).astype(np.float64).ravel() / job["sd"]
    n = z.size
    ks = stats.kstest(z, "norm")
    edges = stats.norm.ppf(np.linspace(0, 1, 201))
    counts = np.histogram(z, bins=edges)[0]
    chi2 = stats.chisquare(counts)
    r = 3.442619855896652  # the ziggurat's base: its tail and wedges are the rare paths
    return {"n": n, "mean": float(z.mean()), "std": float(z.std()),
            "skew": float(stats.skew(z)), "excess_kurtosis": float(stats.kurtosis(z)),
            "ks_stat": float(ks.statistic), "ks_p": float(ks.pvalue), "chi2_p": float(chi2.pvalue),
            "tail_r": int(np.sum(np.abs(z) > r)), "tail_r_expected": float(2 * n * stats.norm.sf(r)),
            "tail_4": int(np.sum(np.abs(z) > 4)), "tail_4_expected": float(2 * n * stats.norm.sf(4)),
            "max_abs": float(np.abs(z).max())}


def gamma(job):
    """nnU-Net's augment_gamma on one volume, in float64."""
    x = np.load(job["in"]).astype(np.float64)
    if job.get("invert"):
        x = -x
    lo, rng = x.min(), x.max() - x.min()
    out = np.power((x - lo) / (rng + 1e-7), job["gamma"]) * rng + lo
    if job.get("invert"):
        out = -out
    np.save(job["out"], out)
    return {}


def main():
    jobs = json.load(open(sys.argv[1]))
    results = []
    for job in jobs:
        kinds = {"warp": warp, "gaussian": gaussian, "normality": normality, "gamma": gamma}
        results.append(kinds[job["kind"]](job))
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
