#!/usr/bin/python3
"""Reference for tests/resample_spec.lua and tests/geom_spec.lua: scipy,
skimage, numpy and nibabel doing what medula does, one batch per call.

  resample_ref.py JOBS.json

JOBS.json is a list of jobs, run in order; each reads and writes .npy files
in medula's layout (array [z, y, x]; parameters in medula's x, y, z order,
reversed here). Prints {"results": [...]}, one entry per job.

  random    out, shape, seed, kind (uniform | labels | smooth | uint8 | int16), nlabels
  zoom      in, out, factors, order, mode, cval       scipy.ndimage.zoom
            (halves=true: also counts the voxels whose float64 zoom lies
            exactly on a half, where integer rounding is decided)
  affine    in, out, matrix (3x3), offset, shape, order, mode, cval
                                                      scipy.ndimage.affine_transform
  grid      in, out, in_affine, target_affine (4x4, 0-based index -> LPS mm),
            shape, order, mode, cval                  the same, with the index map
            worked out here from the two affines: inv(in_affine) @ target_affine
  resize    in, out, shape, order, mode, antialias    skimage.transform.resize
  nilearn   in (NIfTI), out, target_affine, target_shape, interpolation
            nilearn.image.resample_img, re-done from its documented rule
            (nilearn is not installed): output affine and shape, and the data
  dsb       in, out, spacing, new_spacing             the DSB2017 tutorial's
                                                      resample() (zoom, mode nearest)
  pad       in, out, before, after, mode, value       numpy.pad
  canonical in (NIfTI), out                           nibabel.as_closest_canonical
Run with Debian's /usr/bin/python3.
"""
import json
import sys
import warnings

import nibabel as nib
import numpy as np
import scipy.ndimage as ndi
from skimage.transform import resize


def rev(x):
    return list(x)[::-1]


def job_random(j):
    rng = np.random.default_rng(j["seed"])
    shape = rev(j["shape"])
    kind = j.get("kind", "uniform")
    if kind == "labels":
        a = rng.integers(0, j.get("nlabels", 4), size=shape).astype(np.int16)
        a = ndi.median_filter(a, size=3, mode="nearest")  # blobs, not noise
    elif kind == "uint8":
        a = rng.integers(0, 256, size=shape).astype(np.uint8)
    elif kind == "int16":
        a = rng.integers(-3000, 3000, size=shape).astype(np.int16)
    elif kind == "smooth":
        a = ndi.gaussian_filter(rng.standard_normal(shape), 2.0) * 100.0
    else:
        a = rng.uniform(-1000.0, 1000.0, size=shape)
    np.save(j["out"], a)
    return {"shape": list(a.shape)}


def job_zoom(j):
    a = np.load(j["in"])
    r = ndi.zoom(a, rev(j["factors"]), order=j["order"], mode=j["mode"], cval=j.get("cval", 0.0))
    np.save(j["out"], r)
    res = {"shape": rev(r.shape)}
    if j.get("halves"):
        f = ndi.zoom(a.astype(np.float64), rev(j["factors"]), order=j["order"], mode=j["mode"],
                     cval=j.get("cval", 0.0))
        res["halves"] = int(np.count_nonzero(f - np.floor(f) == 0.5))
    return res


def job_affine(j):
    a = np.load(j["in"])
    m = np.array(j["matrix"], dtype=float)[::-1, ::-1]
    off = np.array(rev(j["offset"]), dtype=float)
    r = ndi.affine_transform(a, m, offset=off, output_shape=tuple(rev(j["shape"])),
                             order=j["order"], mode=j["mode"], cval=j.get("cval", 0.0))
    np.save(j["out"], r)
    return {"shape": rev(r.shape)}


def job_grid(j):
    """Resampling onto a target grid given by its affine, as
    scipy.ndimage.affine_transform: output index o reads input index
    inv(A_in) @ A_target @ o. Affines act on (x, y, z) = (i, j, k); numpy's
    axes are (z, y, x), hence the reversals."""
    a = np.load(j["in"])
    T = np.linalg.inv(np.array(j["in_affine"], dtype=float)) @ np.array(j["target_affine"], dtype=float)
    m = T[:3, :3][::-1, ::-1]
    off = T[:3, 3][::-1]
    r = ndi.affine_transform(a, m, offset=off, output_shape=tuple(rev(j["shape"])),
                             order=j["order"], mode=j["mode"], cval=j.get("cval", 0.0))
    np.save(j["out"], r)
    return {"shape": rev(r.shape)}


def job_resize(j):
    a = np.load(j["in"])
    r = resize(a, tuple(rev(j["shape"])), order=j["order"], mode=j["mode"],
               anti_aliasing=j["antialias"], preserve_range=True, clip=False)
    np.save(j["out"], r)
    return {"shape": rev(r.shape)}


def nilearn_resample_img(img, target_affine, target_shape, interpolation):
    """nilearn.image.resample_img with a 4x4 target affine and a target shape
    (clip=True, fill_value=0), following nilearn's source step by step."""
    order = {"continuous": 3, "linear": 1, "nearest": 0}[interpolation]
    data = np.asanyarray(img.dataobj)
    affine = img.affine
    target_affine = np.asarray(target_affine, dtype=float)
    transform = np.dot(np.linalg.inv(affine), target_affine)
    A, b = transform[:3, :3], transform[:3, 3]
    dtype = data.dtype
    if interpolation == "continuous" and data.dtype.kind == "i":
        aux = data.dtype.name.replace("int", "float")
        dtype = np.dtype("float32" if aux in ("float8", "float16") else aux)
    out = np.zeros(tuple(target_shape), order="F", dtype=dtype)
    if np.all(np.diag(np.diag(A)) == A):
        A = np.diag(A)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ndi.affine_transform(data, A, offset=b, output_shape=tuple(target_shape), output=out,
                             cval=0, order=order)
    vmin, vmax = min(np.nanmin(data), 0), max(np.nanmax(data), 0)
    out.clip(vmin, vmax, out=out)
    return out, target_affine


def job_nilearn(j):
    img = nib.load(j["in"])
    out, aff = nilearn_resample_img(img, j["target_affine"], j["target_shape"], j["interpolation"])
    np.save(j["out"], np.ascontiguousarray(out.T))
    return {"shape": list(out.shape), "affine": aff.tolist(), "dtype": str(out.dtype)}


def dsb_resample(image, spacing, new_spacing):
    """The DSB2017 preprocessing tutorial's resample(), verbatim in effect."""
    resize_factor = spacing / new_spacing
    new_real_shape = image.shape * resize_factor
    new_shape = np.round(new_real_shape)
    real_resize_factor = new_shape / image.shape
    new_spacing = spacing / real_resize_factor
    image = ndi.zoom(image, real_resize_factor, mode="nearest")
    return image, new_spacing


def job_dsb(j):
    a = np.load(j["in"])
    r, sp = dsb_resample(a, np.array(rev(j["spacing"]), dtype=float),
                         np.array(rev(j["new_spacing"]), dtype=float))
    np.save(j["out"], r)
    return {"shape": rev(r.shape), "spacing": rev(sp.tolist())}


def job_pad(j):
    a = np.load(j["in"])
    width = list(zip(rev(j["before"]), rev(j["after"])))
    kw = {"constant_values": j.get("value", 0)} if j["mode"] == "constant" else {}
    r = np.pad(a, width, mode=j["mode"], **kw)
    np.save(j["out"], r)
    return {"shape": rev(r.shape)}


def job_canonical(j):
    img = nib.as_closest_canonical(nib.load(j["in"]))
    np.save(j["out"], np.ascontiguousarray(np.asanyarray(img.dataobj).T))
    return {"shape": list(img.shape), "affine": img.affine.tolist(),
            "axcodes": "".join(nib.aff2axcodes(img.affine))}


JOBS = {"random": job_random, "zoom": job_zoom, "affine": job_affine, "grid": job_grid,
        "resize": job_resize,
        "nilearn": job_nilearn, "dsb": job_dsb, "pad": job_pad, "canonical": job_canonical}


def main():
    with open(sys.argv[1]) as f:
        jobs = json.load(f)
    print(json.dumps({"results": [JOBS[j["op"]](j) for j in jobs]}))


if __name__ == "__main__":
    main()
