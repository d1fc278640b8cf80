"""Reference for the intensity specs: numpy and scikit-image on the same
.npy files medula reads and writes.

  intensity_ref.py gen DIR           writes random volumes, prints their list
  intensity_ref.py check DIR JOBS    runs each job of the JSON file JOBS (written by
                                     the spec) and prints how medula's answer compares

Arrays are (z, y, x) in C order. A job names its input (and mask) file, the
operation and medula's answer. For numbers (histogram, percentile, unique, median) it prints numpy's
answer (JSON keeps every digit) and the spec compares; for an output file it
prints the largest difference.
"""
import json
import sys

import numpy as np

# medula shapes are x-first
SHAPES = [(23, 17, 9), (16, 12, 6), (31, 8), (5, 5, 5)]


def gen(d):
    rng = np.random.default_rng(20261207)
    out = []
    for n, shape in enumerate(SHAPES):
        s = tuple(reversed(shape))
        arrays = {
            "int16": (rng.normal(-300, 400, s)).round().clip(-1024, 3000).astype(np.int16),
            "uint8": rng.integers(0, 256, s).astype(np.uint8),
            "float32": rng.normal(0, 1, s).astype(np.float32) * np.float32(100),
            "float64": rng.normal(5, 2, s),
            "int32": rng.integers(-100000, 100000, s).astype(np.int32),
            "ties": rng.integers(0, 4, s).astype(np.float32) / np.float32(3),
        }
        mask = (rng.random(s) < 0.4).astype(np.uint8)
        np.save("%s/mask_%d.npy" % (d, n), mask)
        for kind, a in arrays.items():
            name = "in_%d_%s.npy" % (n, kind)
            np.save("%s/%s" % (d, name), a)
            out.append({"file": name, "mask": "mask_%d.npy" % n, "kind": kind, "shape": list(shape)})
    print(json.dumps({"inputs": out}))


def selected(job, d):
    a = np.load("%s/%s" % (d, job["in"]))
    if job.get("mask"):
        a = a[np.load("%s/%s" % (d, job["mask"])) != 0]
    return a.ravel()


def stats(job, d):
    a = selected(job, d)
    a = a[~np.isnan(a)] if a.dtype.kind == "f" else a
    op = job["op"]
    if op == "histogram":
        kw = {"bins": job["bins"]}
        if job.get("range"):
            kw["range"] = tuple(job["range"])
        c, e = np.histogram(a, **kw)
        return {"counts": c.tolist(), "edges": e.tolist()}
    if op == "percentile":
        p = np.percentile(a, job["q"], method=job.get("method", "linear"))
        return {"ref": np.atleast_1d(p).tolist()}
    if op == "median":
        m = np.median(a)
        return {"ref": float(m)}
    if op == "unique":
        u, c = np.unique(a, return_counts=True)
        return {"values": u.tolist(), "counts": c.tolist()}
    raise ValueError(op)


def zscore_ref(a, m, nonzero):
    sel = np.ones(a.shape, bool) if m is None else m != 0
    if nonzero:
        sel &= a != 0
    x = a.astype(np.float64)
    mean, sd = x[sel].mean(), x[sel].std()
    sd = sd if sd > 0 else 1
    return np.where(sel, (x - mean) / sd, 0)


def mapped(job, d):
    a = np.load("%s/%s" % (d, job["in"]))
    m = np.load("%s/%s" % (d, job["mask"])) if job.get("mask") else None
    x = a.astype(np.float64)
    op = job["op"]
    if op == "window":
        lo, hi = job["level"] - job["width"] / 2, job["level"] + job["width"] / 2
        return np.clip((x - lo) / (hi - lo) * (job["max"] - job["min"]) + job["min"], job["min"], job["max"])
    if op == "rescale":
        return (x - x.min()) / (x.max() - x.min()) * (job["max"] - job["min"]) + job["min"]
    if op == "normalize":
        r = (x - job["lo"]) / (job["hi"] - job["lo"])
        return np.clip(r, 0, 1) - job.get("center", 0)
    if op == "zscore":
        return zscore_ref(a, m, job.get("nonzero"))
    if op == "power":
        return zscore_ref(a, m, False) ** job["n"]
    if op == "exp":
        return np.exp(zscore_ref(a, m, False))
    if op == "log":
        return np.log1p(x - x.min())
    if op == "clip_percentile":
        sel = a if m is None else a[m != 0]
        lo, hi = np.percentile(sel, [job["lo"], job["hi"]])
        return np.clip(x, lo, hi)
    if op == "equalize_hist":
        from skimage import exposure
        return exposure.equalize_hist(a, nbins=job.get("nbins", 256), mask=m)
    raise ValueError(op)


def check(d, jobs_file):
    with open(jobs_file) as f:
        jobs = json.load(f)
    results = []
    for job in jobs:
        if "out" in job:
            ref = mapped(job, d)
            got = np.load("%s/%s" % (d, job["out"])).astype(np.float64)
            err = np.abs(got - ref)
            scale = max(1.0, float(np.abs(ref).max()))
            results.append({"ok": got.shape == ref.shape, "max_abs": float(err.max()),
                            "max_rel": float(err.max() / scale)})
        else:
            results.append(stats(job, d))
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
