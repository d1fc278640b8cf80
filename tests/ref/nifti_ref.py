"""nibabel reference for tests/nifti_spec.lua; prints one JSON object.

  nifti_ref.py read PATH [INDICES_JSON]
      shape, img.affine, on-disk dtype, header codes, stats of get_fdata()
      and the values at the given 0-based indices (a JSON list of lists).
  nifti_ref.py make PATH DTYPE SHAPE_JSON AFFINE_JSON [SLOPE INTER]
      writes a ramp volume with nibabel (x fastest), then prints what
      `read` prints for it.

Needs /usr/bin/python3 with numpy and nibabel (Debian python3-nibabel).
"""
import json
import sys

import nibabel as nib
import numpy as np


def stats(a):
    f = a[np.isfinite(a)].ravel()
    return {
        "count": int(f.size),
        "min": float(f.min()),
        "max": float(f.max()),
        "sum": float(np.sum(f, dtype=np.float64)),
        "mean": float(f.mean()),
        "std": float(f.std()),
    }


def describe(path, indices):
    img = nib.load(path)
    hdr = img.header
    data = img.get_fdata()
    slope, inter = img.dataobj.slope, img.dataobj.inter
    return {
        "shape": list(img.shape),
        "affine": img.affine.tolist(),
        "dtype": str(img.get_data_dtype().newbyteorder("=").name),
        "format": "NIfTI-2" if isinstance(img, nib.Nifti2Image) else "NIfTI-1",
        "qform_code": int(hdr["qform_code"]),
        "sform_code": int(hdr["sform_code"]),
        "slope": float(slope),
        "inter": float(inter),
        "stats": stats(data),
        "values": [float(data[tuple(ix)]) for ix in indices],
    }


def make(path, dtype, shape, affine, slope=None, inter=None):
    n = int(np.prod(shape))
    dt = np.dtype(dtype)
    ramp = np.arange(n, dtype=np.float64)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        span = float(info.max) - float(info.min) + 1
        # 64-bit types: stay near zero, where float64 statistics are exact enough
        vals = np.fmod(ramp * 7919, min(span, 2.0**31)) + max(float(info.min), -2.0**40)
        vals = np.clip(vals, info.min, info.max)
    else:
        vals = (ramp - n / 2) * 0.37
    arr = vals.astype(dt).reshape(shape, order="F")
    img = nib.Nifti1Image(arr, np.array(affine, dtype=np.float64), dtype=dt)
    if slope is None:
        nib.save(img, path)
        return
    # nib.save would choose its own scaling; write header and bytes directly.
    hdr = img.header
    hdr.set_data_dtype(dt)
    hdr.set_slope_inter(slope, inter)
    hdr["vox_offset"] = 352
    with nib.openers.ImageOpener(path, "wb") as f:
        hdr.write_to(f)
        f.write(arr.tobytes(order="F"))


def main(argv):
    if argv[1] == "read":
        indices = json.loads(argv[3]) if len(argv) > 3 else []
        out = describe(argv[2], indices)
    elif argv[1] == "make":
        slope = float(argv[6]) if len(argv) > 6 else None
        inter = float(argv[7]) if len(argv) > 7 else None
        make(argv[2], argv[3], json.loads(argv[4]), json.loads(argv[5]), slope, inter)
        out = describe(argv[2], [])
    else:
        raise SystemExit("usage: nifti_ref.py read|make ...")
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
