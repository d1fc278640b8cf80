#!/usr/bin/python3
"""Reference reader for specs: shape, dtype, spacing, LPS origin and value
statistics of a volume file, computed without medula.

NIfTI (.nii, .nii.gz) through nibabel, stored values (np.asanyarray(dataobj),
no slope/intercept); MetaImage (.mhd/.mha, raw or zlib data) parsed here with
numpy; NumPy .npy through numpy.load. Shapes and indices are in medula's
order: first axis fastest (x, y, z), so for a C-order .npy the numpy shape is
reversed. Optional arguments "i,j,k" (1-based) add the values there to "at".

Usage: volume_ref.py PATH [i,j,k ...]   ->  one JSON object on stdout
"""
import json
import os
import sys
import zlib

import numpy as np

MET_TYPES = {
    "MET_UCHAR": "u1", "MET_CHAR": "i1", "MET_USHORT": "u2", "MET_SHORT": "i2",
    "MET_UINT": "u4", "MET_INT": "i4", "MET_FLOAT": "f4", "MET_DOUBLE": "f8",
}


def read_nifti(path):
    import nibabel
    img = nibabel.load(path)
    arr = np.asanyarray(img.dataobj)          # x, y, z: first axis fastest on disk
    aff = img.affine
    spacing = [float(z) for z in img.header.get_zooms()[:3]]
    origin = [float(-aff[0, 3]) + 0.0, float(-aff[1, 3]) + 0.0, float(aff[2, 3])]  # RAS -> LPS
    return arr, spacing, origin


def read_metaimage(path):
    with open(path, "rb") as f:
        blob = f.read()
    hdr, pos = {}, 0
    while True:
        end = blob.index(b"\n", pos)
        key, _, val = blob[pos:end].decode("ascii").partition("=")
        hdr[key.strip()] = val.strip()
        pos = end + 1
        if key.strip() == "ElementDataFile":
            break
    dims = [int(x) for x in hdr["DimSize"].split()]
    spacing = [float(x) for x in hdr.get("ElementSpacing", "1 1 1").split()]
    origin = hdr.get("Offset") or hdr.get("Position") or hdr.get("Origin") or "0 0 0"
    msb = hdr.get("BinaryDataByteOrderMSB", hdr.get("ElementByteOrderMSB", "False")) == "True"
    dt = np.dtype(MET_TYPES[hdr["ElementType"]]).newbyteorder(">" if msb else "<")
    if hdr["ElementDataFile"] == "LOCAL":
        raw = blob[pos:]
    else:
        with open(os.path.join(os.path.dirname(path), hdr["ElementDataFile"]), "rb") as f:
            raw = f.read()
    if hdr.get("CompressedData") == "True":
        raw = zlib.decompress(raw)
    count = int(np.prod(dims))
    arr = np.frombuffer(raw, dtype=dt, count=count).reshape(dims[::-1]).T
    return arr, spacing, [float(x) for x in origin.split()]


def read_npy(path):
    arr = np.load(path)
    return arr.T, [1.0] * 3, [0.0] * 3


def main():
    path = sys.argv[1]
    if path.endswith((".nii", ".nii.gz")):
        arr, spacing, origin = read_nifti(path)
    elif path.endswith((".mhd", ".mha")):
        arr, spacing, origin = read_metaimage(path)
    elif path.endswith(".npy"):
        arr, spacing, origin = read_npy(path)
    else:
        sys.exit("volume_ref.py: unknown suffix: " + path)
    vals = arr.astype(np.float64)
    exact_sum = int(arr.sum(dtype=np.int64)) if arr.dtype.kind in "iu" else float(vals.sum())
    out = {
        "shape": list(arr.shape),
        "dtype": arr.dtype.newbyteorder("=").name,
        "spacing": spacing,
        "origin_lps": origin,
        "stats": {
            "min": float(vals.min()), "max": float(vals.max()), "sum": exact_sum,
            "mean": float(vals.mean()), "std": float(vals.std()), "count": int(vals.size),
        },
        "at": [float(arr[tuple(int(c) - 1 for c in a.split(","))]) for a in sys.argv[2:]],
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
