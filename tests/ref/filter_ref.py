"""Reference for the filter specs: scipy.ndimage and scikit-image on the
same .npy files medula reads and writes.

  filter_ref.py gen DIR           writes random volumes, prints their list
  filter_ref.py check DIR JOBS    computes each job's reference, compares it with
                                  medula's output file, prints the differences

Arrays are (z, y, x) in C order; a job gives medula's per-axis parameters
x first (they are reversed here). per_slice jobs filter each z slice.
"""
import json
import sys

import numpy as np
from scipy import ndimage as ndi

SHAPES = [(23, 17, 9), (16, 12, 6), (31, 20), (7, 8, 5)]


def gen(d):
    rng = np.random.default_rng(20261208)
    out = []
    for n, shape in enumerate(SHAPES):
        s = tuple(reversed(shape))
        arrays = {
            "float32": (ndi.gaussian_filter(rng.normal(0, 100, s), 1) + rng.normal(0, 30, s)).astype(np.float32),
            "int16": rng.integers(-1000, 1500, s).astype(np.int16),
            "uint8": rng.integers(0, 6, s).astype(np.uint8),  # many ties for the rank filters
            "unit": rng.random(s),  # float64 in [0, 1], as skimage wants floats
        }
        for kind, a in arrays.items():
            name = "in_%d_%s.npy" % (n, kind)
            np.save("%s/%s" % (d, name), a)
            out.append({"file": name, "kind": kind, "shape": list(shape)})
    for n, shape in enumerate([(3, 3, 3), (2, 4, 3), (3, 2), (4, 4)]):
        name = "k_%d.npy" % n
        np.save("%s/%s" % (d, name), rng.normal(0, 1, tuple(reversed(shape))))
        out.append({"file": name, "kind": "kernel", "shape": list(shape)})
    print(json.dumps({"inputs": out}))


def np_axes(v, ndim):
    """A medula per-axis list (x first) or number in numpy order."""
    if isinstance(v, list):
        return list(reversed(v[:ndim]))
    return [v] * ndim


def per_slice(fn, a, on):
    if not on or a.ndim == 2:
        return fn(a)
    return np.stack([fn(s) for s in a])


def reference(job, d):
    a = np.load("%s/%s" % (d, job["in"]))
    dt = np.float64 if job.get("dtype") == "float64" else np.float32
    op = job["op"]
    mode, cval = job.get("mode", "reflect"), job.get("cval", 0.0)
    ps = job.get("per_slice", False)
    kw = {"mode": mode, "cval": cval}
    if op == "gaussian":
        return per_slice(lambda s: ndi.gaussian_filter(s.astype(dt), np_axes(job["sigma"], s.ndim),
                                                       truncate=job.get("truncate", 4.0), **kw), a, ps)
    if op == "gaussian_laplace":
        return per_slice(lambda s: ndi.gaussian_laplace(s.astype(dt), np_axes(job["sigma"], s.ndim), **kw), a, ps)
    if op in ("median", "minimum", "maximum"):
        fn = {"median": ndi.median_filter, "minimum": ndi.minimum_filter, "maximum": ndi.maximum_filter}[op]
        size = [2 * r + 1 for r in np_axes(job["radius"], a.ndim)]
        if ps and a.ndim == 3:
            size[0] = 1
        return fn(a, size=size, **kw)
    if op == "uniform":
        return per_slice(lambda s: ndi.uniform_filter(s.astype(dt), np_axes(job["size"], s.ndim), **kw), a, ps)
    if op in ("correlate", "convolve"):
        k = np.load("%s/%s" % (d, job["kernel"]))
        fn = ndi.correlate if op == "correlate" else ndi.convolve
        if k.ndim == 2 and a.ndim == 3:
            return np.stack([fn(s.astype(np.float64), k, **kw) for s in a])
        return fn(a.astype(np.float64), k, **kw)
    if op in ("sobel_axis", "prewitt_axis"):
        fn = ndi.sobel if op == "sobel_axis" else ndi.prewitt
        return fn(a.astype(dt), axis=a.ndim - job["axis"], **kw)
    if op in ("sobel", "prewitt", "scharr", "roberts"):
        from skimage import filters
        fn = getattr(filters, op)
        f = a.astype(dt)
        if op == "roberts":
            return per_slice(fn, f, True)
        if job.get("volume"):
            return fn(f, mode=mode, cval=cval)
        return per_slice(lambda s: fn(s, mode=mode, cval=cval), f, True)
    if op == "laplace":
        return per_slice(lambda s: ndi.laplace(s.astype(dt), **kw), a, ps)
    if op == "gradient_magnitude":
        sp = list(reversed(job["spacing"][: a.ndim]))
        f = a.astype(np.float64)
        if "sigma" in job:  # medula's spacing=false
            return ndi.gaussian_gradient_magnitude(f, np_axes(job["sigma"], a.ndim), **kw)
        terms = [ndi.correlate1d(f, [-0.5, 0, 0.5], axis=k, **kw) / sp[k] for k in range(a.ndim)]
        return np.sqrt(sum(t * t for t in terms))
    if op == "clahe":
        from skimage import exposure
        kw = {"clip_limit": job.get("clip_limit", 0.01), "nbins": job.get("nbins", 256)}
        if "kernel" in job:
            kw["kernel_size"] = np_axes(job["kernel"], 2 if ps else a.ndim)
        return per_slice(lambda s: exposure.equalize_adapthist(s, **kw), a, ps)
    raise ValueError(op)


def check(d, jobs_file):
    with open(jobs_file) as f:
        jobs = json.load(f)
    results = []
    for job in jobs:
        ref = np.asarray(reference(job, d), dtype=np.float64)
        got = np.load("%s/%s" % (d, job["out"])).astype(np.float64)
        if got.shape != ref.shape:
            results.append({"ok": False, "max_abs": 1e300, "max_rel": 1e300, "shape": list(got.shape)})
            continue
        err = np.abs(got - ref)
        scale = max(1e-30, float(np.abs(ref).max()))
        results.append({"ok": True, "max_abs": float(err.max()), "max_rel": float(err.max() / scale),
                        "mismatch": int(np.count_nonzero(err))})
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
