"""Reference for the metrics specs, written from the published definitions
with numpy and scipy only (no code of the libraries themselves):

  deepmind  Nikolov et al. 2018 and the surface-distance README: the mask is
            cropped to the union's bounding box, the 2x2x2 neighbour code of
            every corner (half-voxel shifted grid) is taken with the weights
            [[[128, 64], [32, 16]], [[8, 4], [2, 1]]], codes other than 0 and
            255 are surface elements whose area is the sum of the areas of
            their marching-cubes triangles scaled by the spacing (in 2-D:
            contour lengths, weights [[8, 4], [2, 1]]), distances come from
            scipy's exact EDT of the other surface, directed percentiles are
            taken on the distances sorted with their areas (cumulative area
            fraction, searchsorted);
  monai     boundary = mask ^ binary_erosion(mask) (cross element), distances
            from the EDT of the other boundary, hd95 = max of the two
            directed np.percentile, assd = mean of both directions pooled,
            surface Dice = share of boundary voxels within the tolerance;
  medpy     the same boundaries, hd95 = np.percentile of both directions
            pooled, assd = mean of the two directed means.

The marching-cubes triangles of each code come from scikit-image's classic
(Lorensen) marching cubes, run on the smaller side of the code (at most four
corners inside), which is how the library's table treats a code and its
complement alike.

  metrics_ref.py gen DIR        writes random smooth mask pairs and label maps
                                (.npy, (z, y, x) C order), prints the case list
  metrics_ref.py check JOBS     JOBS: JSON list of {pred, truth, spacing (x, y[, z]),
                                definition, tolerance, percent[, labels]}; prints
                                the results ({"results": [...]})
"""
import json
import math
import os
import sys

import numpy as np
from scipy import ndimage as ndi

FIELDS = ["dice", "jaccard", "precision", "recall", "specificity", "volume_pred", "volume_truth", "ravd",
          "hausdorff", "hd95", "assd", "asd_pred_to_truth", "asd_truth_to_pred", "surface_overlap_pred",
          "surface_overlap_truth", "surface_dice", "surface_pred", "surface_truth"]

# ---- surface-element areas ------------------------------------------------

_VECTORS = None


def _code_vectors():
    """Area vectors (along numpy axes 0, 1, 2) of the triangles of each 3-D code."""
    global _VECTORS
    if _VECTORS is not None:
        return _VECTORS
    from skimage import measure
    out = []
    for code in range(256):
        n = bin(code).count("1")
        side = code if n < 4 or (n == 4 and code < 128) else 255 - code
        if side == 0:
            out.append(np.zeros((0, 3)))
            continue
        cube = np.zeros((2, 2, 2))
        for o0 in (0, 1):
            for o1 in (0, 1):
                for o2 in (0, 1):
                    if side & (128 >> (4 * o0 + 2 * o1 + o2)):
                        cube[o0, o1, o2] = 1
        verts, faces, _, _ = measure.marching_cubes(cube, 0.5, method="lorensen", allow_degenerate=False)
        tri = verts[faces]
        out.append(0.5 * np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]))
    _VECTORS = out
    return out


def area_table_3d(sp):
    table = np.zeros(256)
    scale = np.array([sp[1] * sp[2], sp[0] * sp[2], sp[0] * sp[1]])
    for code, vecs in enumerate(_code_vectors()):
        table[code] = np.linalg.norm(vecs * scale, axis=1).sum() if len(vecs) else 0.0
    return table


def length_table_2d(sp):
    """Contour length of each 2x2 code; axis 0 rows, axis 1 columns; bits
    8 4 / 2 1 (top left, top right, bottom left, bottom right)."""
    diag = 0.5 * math.hypot(sp[0], sp[1])
    table = np.zeros(16)
    for code in range(16):
        tl, tr, bl, br = (code >> 3) & 1, (code >> 2) & 1, (code >> 1) & 1, code & 1
        n = tl + tr + bl + br
        if n in (1, 3):
            table[code] = diag
        elif n == 2:
            if tl == tr:          # a whole row inside: the contour runs along axis 1
                table[code] = sp[1]
            elif tl == bl:        # a whole column: along axis 0
                table[code] = sp[0]
            else:                 # diagonal pair: two corners cut
                table[code] = 2 * diag
    return table


def neighbour_codes(mask):
    """Codes on the corner grid of the mask padded with one zero layer."""
    p = np.pad(mask.astype(np.int32), 1)
    nd = p.ndim
    shape = tuple(s - 1 for s in p.shape)
    code = np.zeros(shape, np.int32)
    for offs in np.ndindex(*(2,) * nd):
        bit = (1 << (2 ** nd - 1)) >> sum(o << (nd - 1 - a) for a, o in enumerate(offs))
        sl = tuple(slice(o, o + shape[a]) for a, o in enumerate(offs))
        code += p[sl] * bit
    return code

# ---- the three definitions -------------------------------------------------


def crop_union(pred, truth):
    idx = np.nonzero(pred | truth)
    sl = tuple(slice(i.min(), i.max() + 1) for i in idx)
    return pred[sl], truth[sl]


def deepmind_sides(pred, truth, sp):
    pred, truth = crop_union(pred, truth)
    cp, ct = neighbour_codes(pred), neighbour_codes(truth)
    full = 2 ** (2 ** pred.ndim) - 1
    table = area_table_3d(sp) if pred.ndim == 3 else length_table_2d(sp)
    bp, bt = (cp != 0) & (cp != full), (ct != 0) & (ct != full)
    dist_t = ndi.distance_transform_edt(~bt, sampling=sp) if bt.any() else np.full(bt.shape, np.inf)
    dist_p = ndi.distance_transform_edt(~bp, sampling=sp) if bp.any() else np.full(bp.shape, np.inf)
    return (dist_t[bp], table[cp[bp]]), (dist_p[bt], table[ct[bt]])


def boundary_sides(pred, truth, sp):
    pred, truth = crop_union(pred, truth)
    pred, truth = np.pad(pred, 1), np.pad(truth, 1)
    cross = ndi.generate_binary_structure(pred.ndim, 1)
    bp = pred ^ ndi.binary_erosion(pred, cross)
    bt = truth ^ ndi.binary_erosion(truth, cross)
    dist_t = ndi.distance_transform_edt(~bt, sampling=sp) if bt.any() else np.full(bt.shape, np.inf)
    dist_p = ndi.distance_transform_edt(~bp, sampling=sp) if bp.any() else np.full(bp.shape, np.inf)
    dp, dt = dist_t[bp], dist_p[bt]
    return (dp, np.ones(dp.shape)), (dt, np.ones(dt.shape))


def weighted_percentile(d, a, percent):
    """The library's robust Hausdorff for one direction."""
    if len(d) == 0:
        return math.nan
    order = np.lexsort((a, d))
    d, a = d[order], a[order]
    cum = np.cumsum(a) / np.sum(a)
    i = np.searchsorted(cum, percent / 100.0)
    return float(d[min(i, len(d) - 1)])


def pct(d, percent):
    return float(np.percentile(d, percent)) if len(d) else math.nan


def nanmax(a, b):
    return b if math.isnan(a) else a if math.isnan(b) else max(a, b)


def surface_values(pred, truth, sp, definition, tol, percent):
    (dp, ap), (dt, at) = (deepmind_sides if definition == "deepmind" else boundary_sides)(pred, truth, sp)
    r = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        Wp, Wt = float(ap.sum()), float(at.sum())
        WDp, WDt = float((dp * ap).sum()), float((dt * at).sum())
        Op, Ot = float(ap[dp <= tol].sum()), float(at[dt <= tol].sum())
        r["surface_pred"], r["surface_truth"] = Wp, Wt
        r["asd_pred_to_truth"] = WDp / Wp if Wp else math.nan
        r["asd_truth_to_pred"] = WDt / Wt if Wt else math.nan
        r["surface_overlap_pred"] = Op / Wp if Wp else math.nan
        r["surface_overlap_truth"] = Ot / Wt if Wt else math.nan
        r["surface_dice"] = (Op + Ot) / (Wp + Wt)
        r["hausdorff"] = nanmax(float(dp.max()) if len(dp) else math.nan, float(dt.max()) if len(dt) else math.nan)
        if definition == "medpy":
            r["assd"] = (r["asd_pred_to_truth"] + r["asd_truth_to_pred"]) / 2
            r["hd95"] = pct(np.concatenate([dp, dt]), percent)
        else:
            r["assd"] = (WDp + WDt) / (Wp + Wt)
            if definition == "deepmind":
                r["hd95"] = nanmax(weighted_percentile(dp, ap, percent), weighted_percentile(dt, at, percent))
            else:
                r["hd95"] = nanmax(pct(dp, percent), pct(dt, percent))
    return r


def metrics(pred, truth, sp, definition, tol, percent):
    pred, truth = pred.astype(bool), truth.astype(bool)
    tp = int((pred & truth).sum())
    fp = int((pred & ~truth).sum())
    fn = int((~pred & truth).sum())
    tn = pred.size - tp - fp - fn
    voxel = float(np.prod(sp))
    r = {"tp": tp, "fp": fp, "fn": fn, "tn": tn}
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.float64
        r["dice"] = float(f(2 * tp) / f(2 * tp + fp + fn))
        r["jaccard"] = float(f(tp) / f(tp + fp + fn))
        r["precision"] = float(f(tp) / f(tp + fp))
        r["recall"] = float(f(tp) / f(tp + fn))
        r["specificity"] = float(f(tn) / f(tn + fp))
        r["volume_pred"] = (tp + fp) * voxel
        r["volume_truth"] = (tp + fn) * voxel
        r["ravd"] = float(f(r["volume_pred"] - r["volume_truth"]) / f(r["volume_truth"]))
    ep, et = tp + fp == 0, tp + fn == 0
    if ep and et:
        for k in FIELDS[8:16]:
            r[k] = math.nan
        r["surface_pred"] = r["surface_truth"] = 0.0
        return r
    r.update(surface_values(pred, truth, sp, definition, tol, percent))
    if ep or et:  # the documented convention for one empty mask
        r["hausdorff"] = r["hd95"] = r["assd"] = math.inf
        r["asd_pred_to_truth"] = math.nan if ep else math.inf
        r["asd_truth_to_pred"] = math.nan if et else math.inf
        r["surface_overlap_pred"] = math.nan if ep else 0.0
        r["surface_overlap_truth"] = math.nan if et else 0.0
        r["surface_dice"] = 0.0
    return r

# ---- driver ------------------------------------------------------------------


def encode(x):
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


def smooth(rng, shape, sigma, level=0.0):
    return ndi.gaussian_filter(rng.standard_normal(shape), sigma) > level


def gen(out):
    rng = np.random.default_rng(13)
    cases = []

    def save(name, a):
        np.save(os.path.join(out, name + ".npy"), np.ascontiguousarray(a))
        return name + ".npy"

    # smooth blobs against a perturbed copy: (z, y, x) shapes, x-first spacing
    for i, (shape, sp) in enumerate([((24, 30, 36), (1, 1, 1)), ((17, 40, 33), (0.7, 0.9, 2.5)),
                                     ((31, 22, 27), (1.3, 0.6, 1.1)), ((9, 50, 41), (0.8, 0.8, 3.0))]):
        t = smooth(rng, shape, 2.5)
        noise = ndi.gaussian_filter(rng.standard_normal(shape), 2.0)
        p = (ndi.gaussian_filter(t.astype(float), 1.0) + 0.4 * noise) > 0.5
        cases.append({"pred": save("p3_%d" % i, p.astype(np.uint8)), "truth": save("t3_%d" % i, t.astype(np.uint8)),
                      "spacing": list(sp)})
    for i, (shape, sp) in enumerate([((60, 50), (1, 1)), ((45, 70), (0.6, 1.7))]):
        t = smooth(rng, shape, 3.0)
        p = (ndi.gaussian_filter(t.astype(float), 1.5) + 0.3 * ndi.gaussian_filter(rng.standard_normal(shape), 2)) > 0.5
        cases.append({"pred": save("p2_%d" % i, p.astype(np.uint8)), "truth": save("t2_%d" % i, t.astype(np.uint8)),
                      "spacing": list(sp)})
    # random noise masks (every corner a surface element), small
    t = rng.random((14, 15, 16)) < 0.5
    p = rng.random((14, 15, 16)) < 0.5
    cases.append({"pred": save("pn", p.astype(np.uint8)), "truth": save("tn", t.astype(np.uint8)),
                  "spacing": [0.9, 1.1, 1.7]})
    # label maps: 5 labels from smooth fields, the prediction shifted in places
    f = ndi.gaussian_filter(rng.standard_normal((20, 26, 30)), 3)
    lab = np.digitize(f, np.quantile(f, [0.3, 0.45, 0.6, 0.75, 0.9])).astype(np.int32)
    lab[lab == 3] = 0
    sh = np.roll(lab, 2, axis=2)
    lp = np.where(smooth(rng, lab.shape, 3.0), sh, lab).astype(np.int32)
    cases.append({"pred": save("pl", lp), "truth": save("tl", lab), "spacing": [1.0, 1.2, 2.0], "labels": True})
    print(json.dumps({"cases": cases}))


def check(jobs_path):
    jobs = json.load(open(jobs_path))
    results = []
    for job in jobs:
        pred, truth = np.load(job["pred"]), np.load(job["truth"])
        sp = tuple(float(s) for s in reversed(job["spacing"]))  # numpy axes are (z, y, x)
        args = (sp, job["definition"], float(job["tolerance"]), float(job["percent"]))
        if "labels" in job:
            per = {}
            for lab in job["labels"]:
                per[str(lab)] = {k: encode(v) for k, v in metrics(pred == lab, truth == lab, *args).items()}
            results.append(per)
        else:
            results.append({k: encode(v) for k, v in metrics(pred != 0, truth != 0, *args).items()})
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    elif sys.argv[1] == "check":
        check(sys.argv[2])
    else:
        sys.exit(__doc__)
