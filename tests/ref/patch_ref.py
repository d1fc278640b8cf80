#!/usr/bin/python3
"""Reference for tests/patch_spec.lua and bench/rows/patch.sh: the classic
numpy crop-and-merge recipe, and MONAI's Gaussian importance map.

  patch_ref.py classic IN.npy OUTDIR PATCH OVERLAP
      The recipe most pipelines copy: per axis starts = range(0, size - patch
      + 1, stride), stride = patch - overlap; patches = [a[z:z+pz, y:y+py,
      x:x+px] for every start combination] (z slowest); merge = sum / count
      where count > 0, 0 elsewhere. Writes OUTDIR/patches.npy (np.stack of
      the patches), OUTDIR/merged.npy (float32) and OUTDIR/covered.npy
      (uint8, count > 0); prints the patch count, the lost voxels and the
      starts. PATCH and OVERLAP are comma-separated, numpy axis order
      ("pz,py,px" or "py,px").
  patch_ref.py scaled IN.npy OUTDIR PATCH OVERLAP
      The classic recipe on patches a network changed: patch k (1-based, the
      order above) multiplied by k in float64, then merged by the float64
      sum / count. Writes OUTDIR/merged.npy (float64) and OUTDIR/covered.npy.
  patch_ref.py oversample N FRACTION
      nnU-Net's get_do_oversample (nnunetv2's data loader,
      _oversample_last_XX_percent; v1 DataLoader3D): sample i (0-based) of a
      batch of N is forced to
      foreground unless i < round(N * (1 - FRACTION)), with Python's round
      (halves to even). Prints the list of flags.
  patch_ref.py gaussian OUT.npy PATCH SIGMA_SCALE
      MONAI's compute_importance_map(patch, mode="gaussian", sigma_scale)
      (monai.data.utils, MONAI >= 0.9): per axis exp(x^2 / (-2 sigma^2)) with
      x = arange(-(p-1)/2, (p-1)/2 + 1) and sigma = sigma_scale * p, in
      float32, the product over axes, clamped below at max(min, 1e-3).
      PATCH in MONAI's spatial order for volumes loaded from NIfTI: x,y[,z]
      (the products are rounded in that order); the map is written
      transposed, as a volume is: numpy shape (pz, py, px).
  patch_ref.py bench IN.npy PATCH OVERLAP REPEATS
      Times the classic recipe (crop every patch into a list, merge them
      back) on IN.npy and prints the best time in seconds.

Output is one JSON object on stdout. Run with Debian's /usr/bin/python3.
"""
import itertools
import json
import sys
import time

import numpy as np


def ints(text):
    return [int(t) for t in text.split(",")]


def starts(size, patch, stride):
    return list(range(0, size - patch + 1, stride))


def classic_crop(a, patch, overlap):
    stride = [p - o for p, o in zip(patch, overlap)]
    per_axis = [starts(s, p, st) for s, p, st in zip(a.shape, patch, stride)]
    boxes = list(itertools.product(*per_axis))  # first (slowest) axis outermost
    patches = [a[tuple(slice(b, b + p) for b, p in zip(box, patch))] for box in boxes]
    return patches, boxes, per_axis


def classic_merge(shape, patches, boxes, patch):
    out = np.zeros(shape, dtype=np.float64)
    count = np.zeros(shape, dtype=np.float64)
    for p, box in zip(patches, boxes):
        sl = tuple(slice(b, b + q) for b, q in zip(box, patch))
        out[sl] += p
        count[sl] += 1
    covered = count > 0
    out[covered] /= count[covered]
    return out, covered


def classic(path, outdir, patch, overlap):
    a = np.load(path)
    patches, boxes, per_axis = classic_crop(a, patch, overlap)
    merged, covered = classic_merge(a.shape, patches, boxes, patch)
    np.save(outdir + "/patches.npy", np.stack(patches))
    np.save(outdir + "/merged.npy", merged.astype(np.float32))
    np.save(outdir + "/covered.npy", covered.astype(np.uint8))
    return {"count": len(patches), "lost": int(covered.size - covered.sum()),
            "starts": per_axis}


def scaled(path, outdir, patch, overlap):
    a = np.load(path)
    patches, boxes, _ = classic_crop(a, patch, overlap)
    patches = [p.astype(np.float64) * (k + 1) for k, p in enumerate(patches)]
    merged, covered = classic_merge(a.shape, patches, boxes, patch)
    np.save(outdir + "/merged.npy", merged)
    np.save(outdir + "/covered.npy", covered.astype(np.uint8))
    return {"count": len(patches), "lost": int(covered.size - covered.sum())}


def oversample(n, fraction):
    return {"forced": [not i < round(n * (1 - fraction)) for i in range(n)]}


def gaussian(out, patch, sigma_scale):
    sigmas = [p * sigma_scale for p in patch]
    m = None
    for p, s in zip(patch, sigmas):
        x = np.arange(-(p - 1) / 2.0, (p - 1) / 2.0 + 1, dtype=np.float32)
        g = np.exp(x ** 2 / np.float32(-2 * s ** 2)).astype(np.float32)
        m = g if m is None else (m[..., None] * g).astype(np.float32)
    floor = max(float(m.min()), 1e-3)
    m = np.maximum(m, np.float32(floor)).astype(np.float32)
    np.save(out, np.ascontiguousarray(m.T))
    return {"shape": list(m.shape), "min": float(m.min()), "max": float(m.max())}


def bench(path, patch, overlap, repeats):
    a = np.load(path)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        patches, boxes, _ = classic_crop(a, patch, overlap)
        patches = [p.copy() for p in patches]  # a crop hands the network its own array
        classic_merge(a.shape, patches, boxes, patch)
        best = min(best, time.perf_counter() - t0)
    return {"seconds": best}


def main(argv):
    cmd = argv[1]
    if cmd == "classic":
        r = classic(argv[2], argv[3], ints(argv[4]), ints(argv[5]))
    elif cmd == "scaled":
        r = scaled(argv[2], argv[3], ints(argv[4]), ints(argv[5]))
    elif cmd == "oversample":
        r = oversample(int(argv[2]), float(argv[3]))
    elif cmd == "gaussian":
        r = gaussian(argv[2], ints(argv[3]), float(argv[4]))
    elif cmd == "bench":
        r = bench(argv[2], ints(argv[3]), ints(argv[4]), int(argv[5]))
    else:
        raise SystemExit("unknown command " + cmd)
    print(json.dumps(r))


if __name__ == "__main__":
    main(sys.argv)
