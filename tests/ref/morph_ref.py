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


# Masks for large elements (balls up to radius 15, disks up to 20), big
# enough that scipy's answers are neither empty nor full: smooth blobs (half
# object), fat blobs (three quarters), sparse dots and their complement.
# name: kind, then 3 (3-D, radii up to 10), big3 (3-D, larger radii), 2 (2-D)
# or the axis across which lie 8 slices for per-slice morphology.
LARGE = [("3", (50, 55, 40), 4, 2.3e-4), ("big3", (72, 64, 60), 8, 5.4e-5), ("2", (100, 90), 4, 8e-4),
         ("x", (8, 100, 90), 4, 8e-4), ("y", (100, 8, 90), 4, 8e-4), ("z", (100, 90, 8), 4, 8e-4)]


def large_masks(rng, d):
    out = []
    for suffix, shape, sigma, dots in LARGE:
        np_shape = tuple(reversed(shape))
        # per-slice masks are smoothed within their slices only
        thin = [0 if n == 8 else 1 for n in np_shape]
        kinds = {}
        for kind, scale, ones in (("blobs", 1, 0.5), ("fat", 1.5, 0.75)):
            a = ndi.gaussian_filter(rng.standard_normal(np_shape), [sigma * scale * t for t in thin])
            kinds[kind] = a > np.quantile(a, 1 - ones)
        kinds["dots"] = rng.random(np_shape) < dots
        kinds["holes"] = ~kinds["dots"]
        for kind, m in kinds.items():
            name = "large_%s%s.npy" % (kind, suffix)
            np.save("%s/%s" % (d, name), m.astype(np.uint8))
            out.append({"file": name, "name": kind + suffix, "shape": list(shape)})
    return out


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
    large = large_masks(np.random.default_rng(20240612), d)
    print(json.dumps({"masks": cases, "elements": elements, "large": large}))


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


def member_counts(a, se, outside):
    """How many members of se, centred on each voxel of a, lie on the object
    (voxels outside a count as outside): for each run of members along the
    last numpy axis (x), a difference of running sums along x of the padded
    mask, in exact integers."""
    pads = [(n // 2, n - 1 - n // 2) for n in se.shape]  # the centre is at index n // 2
    padded = np.pad(a.astype(np.int32), pads, constant_values=int(outside))
    sums = np.zeros(padded.shape[:-1] + (padded.shape[-1] + 1,), dtype=np.int32)
    np.cumsum(padded, axis=-1, out=sums[..., 1:])
    out = np.zeros(a.shape, dtype=np.int32)
    nx = a.shape[-1]
    for idx in np.ndindex(*se.shape[:-1]):
        lead = tuple(slice(k, k + n) for k, n in zip(idx, a.shape[:-1]))
        edges = np.flatnonzero(np.diff(np.concatenate([[0], se[idx].astype(np.int8), [0]])))
        for k0, k1 in zip(edges[::2], edges[1::2]):  # members k0 .. k1-1 of this row
            out += sums[lead + (slice(k1, k1 + nx),)]
            out -= sums[lead + (slice(k0, k0 + nx),)]
    return out


def counted_morph(op, sk, se):
    """The binary operation from member counts: erosion where every member
    lies on the object (outside = object for skimage's border), dilation
    where any does (se is symmetric, so its reflection is itself)."""
    total = int(se.sum())

    def erode(a):
        return member_counts(a, se, 1 if sk else 0) == total

    def dilate(a):
        return member_counts(a, se, 0) > 0

    return {"erode": erode, "dilate": dilate, "open": lambda a: dilate(erode(a)),
            "close": lambda a: erode(dilate(a))}[op]


def ndi_cost(se, shape):
    """scipy's binary_* precompute member offsets for every border position:
    about members x prod(min(side, element side)) steps before any voxel."""
    return int(se.sum()) * int(np.prod([min(n, k) for n, k in zip(shape, se.shape)]))


def morph(job, m, se):
    """The reference for a morphology job: scipy.ndimage / skimage, or the
    member counts of counted_morph where their set-up would take long (balls
    of radius 6 and more, disks of 20; job ref "auto") or when the job asks
    (ref "count"). Jobs with ref "ndi" always take scipy/skimage; the specs
    run some jobs both ways so the two references check each other."""
    it, sk = job.get("iterations", 1), job.get("border", "scipy") == "skimage"
    op = job["op"]
    axis = job.get("per_slice", 0)
    plane = m.shape if axis == 0 or m.ndim == 2 else tuple(n for k, n in enumerate(m.shape) if k != 3 - axis)
    symmetric = all(n % 2 == 1 for n in se.shape) and np.array_equal(se, se[(slice(None, None, -1),) * se.ndim])
    how = job.get("ref", "auto")
    if how == "count" or (how == "auto" and it == 1 and symmetric and ndi_cost(se, plane) > 1e6):
        if it != 1 or not symmetric:
            raise ValueError("the count reference needs one iteration and a symmetric element")
        return per_slice(counted_morph(op, sk, se), m, axis)
    from skimage import morphology

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

    return per_slice(fn, m, axis)


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


def edt_map(m, sampling, signed):
    """scipy's distance map of m, or medula's where scipy's is undefined:
    +inf without any site (no zero voxel; signed: no object voxel), and a
    signed map of a mask without zero voxels is -inf."""
    if signed:
        if not m.any():
            return np.full(m.shape, np.inf)
        if m.all():
            return np.full(m.shape, -np.inf)
        return ndi.distance_transform_edt(~m, sampling=sampling) - ndi.distance_transform_edt(m, sampling=sampling)
    if m.all():
        return np.full(m.shape, np.inf)
    return ndi.distance_transform_edt(m, sampling=sampling)


def edt(job, d, m, out):
    full = job["sampling"][: m.ndim][::-1]  # medula x-first -> numpy order
    axis = job.get("per_slice", 0)
    # a slice across medula axis a drops numpy axis 3 - a; the others keep their order
    plane = full if axis == 0 or m.ndim == 2 else [s for k, s in enumerate(full) if k != 3 - axis]
    ref = per_slice(lambda s: edt_map(s, plane, job.get("signed")), m, axis)
    if job.get("squared"):
        ref = np.sign(ref) * ref * ref
    got = out.astype(np.float64)
    fin = np.isfinite(ref)
    diff = np.abs(got[fin] - ref[fin])
    inf_wrong = int(np.count_nonzero(got[~fin] != ref[~fin]))
    res = {"inf_mismatch": inf_wrong}
    res["max_abs"] = float(diff.max()) if diff.size else 0.0
    res["max_rel"] = float((diff / np.maximum(np.abs(ref[fin]), 1)).max()) if diff.size else 0.0
    if inf_wrong:
        res["max_abs"] = res["max_rel"] = 1e300
    if job.get("indices"):
        # medula index volumes hold 1-based x, y, z: check the distance they
        # imply where there is a nearest zero voxel, and 0 where there is none
        idx = [np.load("%s/%s" % (d, f)).astype(np.int64) - 1 for f in job["indices"]]
        grid = np.indices(m.shape)
        feat = [np.where(fin, f, 0) for f in idx[::-1]]  # numpy order
        implied = np.sqrt(sum(((f - g) * s) ** 2 for f, g, s in zip(feat, grid, full)))
        dist = np.sqrt(np.abs(ref)) if job.get("squared") else ref
        res["indices_max_abs"] = float(np.abs(implied - dist)[fin].max()) if fin.any() else 0.0
        res["indices_on_zero"] = bool(np.all(m[tuple(feat)][fin] == 0)
                                      and all(np.all(f[~fin] == -1) for f in idx))
    return res


def regionprops(job, d, lab):
    """Counts the regions whose medula measurements differ from skimage's;
    labels <= 0 are background. With the job's geom (medula's spacing,
    origin and direction rows), volume_mm3 and centroid_world are checked
    against origin + D . (spacing * 0-based centroid)."""
    from skimage import measure
    inten = np.load("%s/%s" % (d, job["intensity"]))
    lab = np.where(lab > 0, lab, 0)
    ref, got = measure.regionprops(lab, intensity_image=inten), job["props"]
    bad = abs(len(ref) - len(got))
    geom = job.get("geom")
    for r, g in zip(ref, got):
        nd = lab.ndim
        lo = [x - 1 for x in g["bbox"][:nd]][::-1]
        hi = g["bbox"][nd:][::-1]
        cen = [c - 1 for c in g["centroid"]][::-1]
        same = (r.label == g["label"] and r.area == g["count"] and list(r.bbox) == lo + hi
                and np.allclose(r.centroid, cen, rtol=0, atol=1e-9)
                and abs(r.mean_intensity - g["mean"]) <= 1e-9 * max(1, abs(g["mean"]))
                and r.min_intensity == g["min"] and r.max_intensity == g["max"])
        if geom:
            sp, origin, direction = (np.array(geom[k], dtype=np.float64) for k in ("spacing", "origin", "direction"))
            c0 = np.zeros(3)
            c0[:nd] = np.array(r.centroid)[::-1]  # x first
            world = origin + direction.reshape(3, 3) @ (sp * c0)
            same = (same and np.allclose(world, g["centroid_world"], rtol=0, atol=1e-9)
                    and abs(r.area * np.prod(sp) - g["volume_mm3"]) <= 1e-9 * g["volume_mm3"])
        bad += not same
    return {"mismatch": int(bad), "size": len(ref)}


def check(d, jobs_file):
    with open(jobs_file) as f:
        jobs = json.load(f)
    results = []
    # jobs differing only in medula's method share one reference
    morph_refs = {}
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
                key = json.dumps({k: v for k, v in job.items() if k not in ("out", "method", "nontrivial")},
                                 sort_keys=True)
                if key not in morph_refs:
                    morph_refs[key] = morph(job, m, element(d, job["se"], m.ndim))
                ref = morph_refs[key]
                res["ones"] = int(np.count_nonzero(ref))
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
