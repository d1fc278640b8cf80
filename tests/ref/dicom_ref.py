"""Independent references for the DICOM specs; prints one JSON object.

  dicom_ref.py stack DIR
      pydicom reads every file of DIR, groups by SeriesInstanceUID, sorts
      each group by ImagePositionPatient along the slice normal and stacks
      stored*slope+intercept (the careful version of the classic recipe).
      Per series: uid, files (sorted), shape (slices, rows, cols), sum, min,
      max, values (flattened, x fastest, only when small) and the LPS affine.
  dicom_ref.py jpeg OUT L|RGB
      writes an 8-bit JPEG with Pillow and prints the pixels Pillow decodes.
  dicom_ref.py dcm2niix DIR NIFTI
      runs dcm2niix on DIR, loads its output and NIFTI (written by medula)
      with nibabel, reorients both to the closest canonical (RAS) array and
      compares: affines (max abs difference) and values.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def stack(folder):
    import pydicom

    groups = {}
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            continue
        try:
            ds = pydicom.dcmread(path)
            _ = ds.pixel_array
        except Exception:
            continue
        groups.setdefault(str(ds.SeriesInstanceUID), []).append((path, ds))
    out = []
    for uid, items in groups.items():
        iop = np.array([float(x) for x in items[0][1].ImageOrientationPatient])
        normal = np.cross(iop[:3], iop[3:])
        items.sort(key=lambda it: float(np.dot(normal, [float(x) for x in it[1].ImagePositionPatient])))
        slices = []
        for _, ds in items:
            a = ds.pixel_array.astype(np.float64)
            a = a * float(getattr(ds, "RescaleSlope", 1)) + float(getattr(ds, "RescaleIntercept", 0))
            slices.append(a)
        vol = np.stack(slices)
        ps = [float(x) for x in items[0][1].PixelSpacing]
        p0 = np.array([float(x) for x in items[0][1].ImagePositionPatient])
        p1 = np.array([float(x) for x in items[-1][1].ImagePositionPatient])
        dz = float(np.dot(p1 - p0, normal) / (len(items) - 1)) if len(items) > 1 else 1.0
        aff = np.eye(4)
        aff[:3, 0] = iop[:3] * ps[1]
        aff[:3, 1] = iop[3:] * ps[0]
        aff[:3, 2] = normal * dz
        aff[:3, 3] = p0
        entry = {
            "uid": uid,
            "files": [p for p, _ in items],
            "shape": list(vol.shape),
            "sum": float(vol.sum()),
            "min": float(vol.min()),
            "max": float(vol.max()),
            "affine_lps": aff.tolist(),
        }
        if vol.size <= 4096:
            entry["values"] = vol.ravel().tolist()  # (slice, row, col) C order = x fastest
        out.append(entry)
    return {"series": out}


def canonical(img):
    import nibabel

    c = nibabel.as_closest_canonical(img)
    return c.affine, np.asanyarray(c.get_fdata())


def dcm2niix(folder, ours):
    import nibabel

    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(["dcm2niix", "-z", "n", "-b", "n", "-f", "%s_%p", "-o", tmp, folder],
                           capture_output=True, text=True)
        outs = [p for p in sorted(glob.glob(os.path.join(tmp, "*.nii"))) if "_Eq_" not in p]
        if not outs:
            return {"error": "dcm2niix wrote nothing", "log": r.stdout + r.stderr}
        mine = nibabel.load(ours)
        a_aff, a = canonical(mine)
        best = None
        for p in outs:
            b_aff, b = canonical(nibabel.load(p))
            if b.shape[:3] != a.shape[:3]:
                continue
            res = {
                "output": os.path.basename(p),
                "shape": list(b.shape),
                "affine_max_diff": float(np.abs(a_aff - b_aff).max()),
                "value_max_diff": float(np.abs(a - b).max()),
                "dcm2niix_affine": b_aff.tolist(),
                "medula_affine": a_aff.tolist(),
                "axcodes_medula": "".join(nibabel.aff2axcodes(mine.affine)),
                "axcodes_dcm2niix": "".join(nibabel.aff2axcodes(nibabel.load(p).affine)),
            }
            if best is None or res["affine_max_diff"] < best["affine_max_diff"]:
                best = res
        if best is None:
            return {"error": "no dcm2niix output has shape %s" % (list(a.shape),), "outputs": outs,
                    "log": r.stdout}
        return best


def jpeg(out, mode):
    """An 8-bit JPEG of a smooth pattern, and its pixels as Pillow decodes them."""
    from PIL import Image

    h, w = 12, 16
    y, x = np.mgrid[0:h, 0:w]
    grey = (x * 13 + y * 7) % 256
    if mode == "L":
        a = grey.astype(np.uint8)
    else:
        a = np.stack([grey, (x * 9) % 256, (y * 20) % 256], axis=-1).astype(np.uint8)
    Image.fromarray(a, mode).save(out, quality=90, subsampling=0)
    dec = np.asarray(Image.open(out).convert(mode))
    if mode == "RGB":
        dec = dec.transpose(2, 0, 1)  # planes, as medula's channel axis
    return {"values": dec.ravel().tolist(), "rows": h, "cols": w}


def main():
    mode = sys.argv[1]
    if mode == "stack":
        res = stack(sys.argv[2])
    elif mode == "jpeg":
        res = jpeg(sys.argv[2], sys.argv[3])
    elif mode == "dcm2niix":
        res = dcm2niix(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit("unknown mode " + mode)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
