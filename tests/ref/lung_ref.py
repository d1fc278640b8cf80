"""The classic per-slice lung recipe with scikit-image, step by step, compared
with medula's step outputs.

  lung_ref.py CT.nii.gz DIR NAME:K0:K1 ...

Slices K0..K1 (1-based) of the CT (read with nibabel) go through: threshold
at -320 HU, clear_border, label, keep the 2 largest regions, binary_erosion
with disk(2), binary_closing with disk(10), binary_fill_holes. DIR holds
medula's outputs of each step for those slices as NAME_<step>.npy, (z, y, x).
Prints, per NAME and step, the number of voxels that differ.
"""
import json
import sys

import nibabel
import numpy as np
from scipy import ndimage as ndi
from skimage import measure, morphology, segmentation


def keep_two_largest(labels):
    """The two largest regions; equal areas rank by label (raster order)."""
    props = sorted(measure.regionprops(labels), key=lambda r: (-r.area, r.label))
    return np.isin(labels, [r.label for r in props[:2]])


def steps(hu):
    out = {}
    out["threshold"] = hu < -320
    out["cleared"] = segmentation.clear_border(out["threshold"])
    out["labels"] = measure.label(out["cleared"])
    out["largest"] = keep_two_largest(out["labels"])
    out["eroded"] = morphology.binary_erosion(out["largest"], morphology.disk(2))
    out["closed"] = morphology.binary_closing(out["eroded"], morphology.disk(10))
    out["filled"] = ndi.binary_fill_holes(out["closed"])
    return out


def compare(ct, k0, k1, prefix):
    per = [steps(ct[:, :, k].T) for k in range(k0 - 1, k1)]  # (y, x) like medula's .npy
    result = {}
    base = 0
    for p in per:  # medula numbers per-slice labels slice by slice
        p["labels"] = np.where(p["labels"] > 0, p["labels"] + base, 0)
        base = int(p["labels"].max(initial=base))
    for name in per[0]:
        ref = np.stack([p[name] for p in per]).astype(np.int64)
        got = np.load("%s_%s.npy" % (prefix, name)).astype(np.int64).reshape(ref.shape)
        result[name] = {"mismatch": int(np.count_nonzero(ref != got)), "ones": int(np.count_nonzero(ref))}
    return result


if __name__ == "__main__":
    ct = np.asanyarray(nibabel.load(sys.argv[1]).dataobj)
    out = {}
    for arg in sys.argv[3:]:
        name, k0, k1 = arg.split(":")
        out[name] = compare(ct, int(k0), int(k1), "%s/%s" % (sys.argv[2], name))
    print(json.dumps(out))
