"""Reference for the mask specs (morph, label, edt): scipy.ndimage and
scikit-image on the same .npy files medula reads and writes.

  morph_ref.py gen DIR           writes random masks and elements, prints their list
  morph_ref.py check DIR JOBS    runs every job of the JSON file JOBS (written by a
                                 spec), compares with medula's output, prints results

Arrays are (z, y, x) in C order, so arr[k-1, j-1, i-1] == v:get(i, j, k). A job's
per_slice is medula's axis (1 = x, 2 = y, 3 = z) or 0 for the whole volume.
"""
import json
import sys

import numpy as np
from scipy import ndimage as ndi

# scikit-image modules take from a third of a second to a second to import:
# the jobs that need them import them.

# medula shapes are x-first; numpy shapes are the reverse.
SHAPES_3D = [(23, 31, 17), (13, 11, 9), (67, 5, 4), (130, 3, 6), (1, 9, 5), (8, 1, 1)]
SHAPES_2D = [(37, 29), (65, 3), (1, 13), (128, 7)]


def smooth_blobs(rng, shape):
    a = ndi.gaussian_filter(rng.standard_normal(shape), 1.5)
    return a > 0


def gen(d):
    rng = np.random.default_rng(20240611)
    cases = []
    for shape in SHAPES_3D + SHAPES_2D:
        np_shape = tuple(reversed(shape))
        for kind in ("p10", "p50", "p90", "blobs"):
            if kind == "blobs":
                m = smooth_blobs(rng, np_shape)
            else:
                m = rng.random(np_shape) < int(kind[1:]) / 100
            name = "mask_%d.npy" % len(cases)
            np.save("%s/%s" % (d, name), m.astype(np.uint8))
            cases.append({"file": name, "shape": list(shape), "kind": kind})
    elements = []
    for shape in [(3, 2, 4), (2, 3, 1), (4, 3)]:  # odd, even, non-symmetric
        se = rng.random(tuple(reversed(shape))) < 0.6
        se.flat[0] = True
        name = "se_%d.npy" % len(elements)
        np.save("%s/%s" % (d, name), se.astype(np.uint8))
        elements.append({"file": name, "shape": list(shape)})
    print(json.dumps({"masks": cases, "elements": elements}))


def element(d, spec, ndim):
    from skimage import morphology
    if "file" in spec:
        return np.load("%s/%s" % (d, spec["file"])).astype(bool)
    r = spec["r"]
    return (morphology.ball(r) if spec["kind"] == "ball" else morphology.disk(r)).astype(bool)


def per_slice(fn, m, axis):
    """Applies the 2-D fn to each slice across medula axis (1 = x)."""
    if axis == 0 or m.ndim == 2:
        return fn(m)
    np_axis = 3 - axis
    moved = np.moveaxis(m, np_axis, 0)
    out = np.stack([fn(s) for s in moved])
    return np.moveaxis(out, 0, np_axis)


def morph(job, m, se):
    from skimage import morphology
    it, sk = job.get("iterations", 1), job.get("border", "scipy") == "skimage"
    op = job["op"]

    def erode(a):
        return ndi.binary_erosion(a, se, iterations=it, border_value=1 if sk else 0)

    def dilate(a):
        return ndi.binary_dilation(a, se, iterations=it)

    def fn(a):
        if op == "erode":
            return morphology.binary_erosion(a, se) if sk and it == 1 else erode(a)
        if op == "dilate":
            return dilate(a)
        if op == "open":
            if sk:
                return morphology.binary_opening(a, se) if it == 1 else dilate(erode(a))
            return ndi.binary_opening(a, se, iterations=it)
        if sk:
            return morphology.binary_closing(a, se) if it == 1 else erode(dilate(a))
        return ndi.binary_closing(a, se, iterations=it)

    return per_slice(fn, m, job.get("per_slice", 0))


def skimage_conn(conn):
    return {4: 1, 6: 1, 8: 2, 18: 2, 26: 3}[conn]


def raster_order(lab):
    """Renumbers labels by the raster position of their first voxel."""
    flat = lab.ravel()
    ids, first = np.unique(flat, return_index=True)
    keep = ids > 0
    order = ids[keep][np.argsort(first[keep])]
    mapping = np.zeros(int(lab.max()) + 1, dtype=np.int32)
    mapping[order] = np.arange(1, len(order) + 1)
    return mapping[lab]


def sk_label(a, **kw):
    """skimage.measure.label; where its cython path swaps axes (x or y of
    length 1 before a longer axis) its ids follow the swapped layout, so they
    are put back in raster order (the partition is skimage's)."""
    from skimage import measure
    from skimage.measure._ccomp import _get_swaps
    lab = measure.label(a, **kw)
    return raster_order(lab) if a.dtype != bool and _get_swaps(a.shape) else lab


def label(job, a):
    conn, bg, axis = skimage_conn(job["conn"]), job.get("background", 0), job.get("per_slice", 0)
    if axis == 0 or a.ndim == 2:
        return sk_label(a, background=bg, connectivity=conn)
    np_axis = 3 - axis
    moved = np.moveaxis(a, np_axis, 0)
    out, base = [], 0
    for s in moved:
        lab = sk_label(s, background=bg, connectivity=conn)
        out.append(np.where(lab > 0, lab + base, 0))
        base += lab.max()
    return np.moveaxis(np.stack(out), 0, np_axis).astype(np.int32)


def structure(ndim, conn):
    return ndi.generate_binary_structure(ndim, skimage_conn(conn))


def keep_largest(m, n, conn):
    from skimage import measure
    lab = measure.label(m, connectivity=skimage_conn(conn))
    sizes = np.bincount(lab.ravel())
    order = sorted(range(1, len(sizes)), key=lambda k: (-sizes[k], k))[:n]
    return np.isin(lab, order)


def cleanup(job, a):
    op, axis, conn = job["op"], job.get("per_slice", 0), job.get("conn")
    flat = axis != 0 or a.ndim == 2
    if op == "fill_holes":
        c = conn or (4 if flat else 6)
        return per_slice(lambda s: ndi.binary_fill_holes(s, structure(s.ndim, c)), a != 0, axis)
    if op == "clear_border":
        c = conn or (8 if flat else 26)

        def clear(s):
            from skimage import measure, segmentation
            lab = measure.label(s, background=0, connectivity=skimage_conn(c))
            out = segmentation.clear_border(lab, buffer_size=job.get("buffer", 0))
            return np.where(out > 0, s, 0)

        return per_slice(clear, a, axis)
    if op == "remove_small":
        from skimage import morphology
        c = conn or (4 if flat else 6)
        return per_slice(lambda s: morphology.remove_small_objects(s, job["min_size"],
                                                                  connectivity=skimage_conn(c)), a != 0, axis)
    c = conn or (8 if flat else 26)
    return per_slice(lambda s: keep_largest(s, job["n"], c), a != 0, axis)


def edt(job, d, m, out):
    sampling = job["sampling"][: m.ndim][::-1]  # medula x-first -> numpy order
    res = {}
    if job.get("signed"):
        ref = ndi.distance_transform_edt(~m, sampling=sampling) - ndi.distance_transform_edt(m, sampling=sampling)
    else:
        ref, ft = ndi.distance_transform_edt(m, sampling=sampling, return_indices=True)
    if job.get("squared"):
        ref = np.sign(ref) * ref * ref
    diff = np.abs(out.astype(np.float64) - ref)
    res["max_abs"] = float(diff.max()) if diff.size else 0.0
    res["max_rel"] = float((diff / np.maximum(np.abs(ref), 1)).max()) if diff.size else 0.0
    if job.get("indices"):
        # medula index volumes hold 1-based x, y, z: check the distance they imply
        idx = [np.load("%s/%s" % (d, f)).astype(np.int64) - 1 for f in job["indices"]]
        grid = np.indices(m.shape)
        feat = idx[::-1]  # numpy order
        implied = np.sqrt(sum(((f - g) * s) ** 2 for f, g, s in zip(feat, grid, sampling)))
        dist = np.sqrt(ref) if job.get("squared") else ref
        res["indices_max_abs"] = float(np.abs(implied - dist).max())
        res["indices_on_zero"] = bool(np.all(m[tuple(feat)] == 0))
    return res


def regionprops(job, d, lab):
    """Counts the regions whose medula measurements differ from skimage's."""
    from skimage import measure
    inten = np.load("%s/%s" % (d, job["intensity"]))
    ref, got = measure.regionprops(lab, intensity_image=inten), job["props"]
    bad = abs(len(ref) - len(got))
    for r, g in zip(ref, got):
        nd = lab.ndim
        lo = [x - 1 for x in g["bbox"][:nd]][::-1]
        hi = g["bbox"][nd:][::-1]
        cen = [c - 1 for c in g["centroid"]][::-1]
        same = (r.label == g["label"] and r.area == g["count"] and list(r.bbox) == lo + hi
                and np.allclose(r.centroid, cen, rtol=0, atol=1e-9)
                and abs(r.mean_intensity - g["mean"]) <= 1e-9 * max(1, abs(g["mean"]))
                and r.min_intensity == g["min"] and r.max_intensity == g["max"])
        bad += not same
    return {"mismatch": int(bad), "size": len(ref)}


def check(d, jobs_file):
    with open(jobs_file) as f:
        jobs = json.load(f)
    results = []
    for job in jobs:
        out = np.load("%s/%s" % (d, job["out"]))
        if job["op"] == "strel":  # medula's element itself against skimage's
            ref = element(d, job["se"], out.ndim)
            same = ref.shape == out.shape and np.array_equal(ref, out != 0)
            results.append({"out": job["out"], "mismatch": 0 if same else 1, "size": int(ref.size)})
            continue
        a = np.load("%s/%s" % (d, job["in"]))
        m = a != 0
        op = job["op"]
        res = {"out": job["out"]}
        if op == "edt":
            res.update(edt(job, d, m, out))
        elif op == "regionprops":
            res.update(regionprops(job, d, out))
        else:
            if op in ("erode", "dilate", "open", "close"):
                ref = morph(job, m, element(d, job["se"], m.ndim))
            elif op == "label":
                ref = label(job, a)
                res["count"] = int(ref.max())
            else:
                ref = cleanup(job, a)
            res["mismatch"] = int(np.count_nonzero(ref.astype(np.int64) != out.astype(np.int64)))
            res["size"] = int(ref.size)
        results.append(res)
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
