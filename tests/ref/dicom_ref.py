"""Independent references for the DICOM specs; prints one JSON object.

  dicom_ref.py file PATH [SAME_PIXELS_AS]
      pydicom reads one file and gives the block ../shared/data/expected.json
      has for it (same keys, same definitions: see its "schema"):
      transfer_syntax, tags, stored_stats, rescaled_stats (one sample per
      pixel only) and dose_gy_stats (RTDOSE: stored x DoseGridScaling).
      Statistics: count, min, max, sum (math.fsum), mean, std, nonzero,
      sha256 of the float64 little-endian values in C order of array_axes
      [frame,]row,col[,sample], and samples (first, last, centre, first max,
      first min). A gzip-wrapped file is read gunzipped ("gzip_wrapped").
      Truncated pixel data gives "expect_error" (and "error": pydicom's
      text); a transfer syntax no installed pydicom handler decodes gives
      "undecodable" (pydicom's text) and no statistics, unless
      SAME_PIXELS_AS names a file known to hold the same pixels (the
      uncompressed original): its statistics are given then, with
      "stats_from".
  dicom_ref.py mosaic PATH
      a Siemens mosaic: the tiles unpacked with numpy into a (slice, row,
      col) stack of rescaled values ("stack_stats", as above) and nibabel's
      affine for it (nibabel.nicom.dicomwrappers; "nibabel": {"affine_lps",
      "array_shape"}), as expected.json's series[...].siemens_mosaic.
  dicom_ref.py stack DIR
      pydicom reads every file of DIR, groups them by SeriesInstanceUID,
      ImageOrientationPatient (rounded to 4 decimals), Rows and Columns,
      sorts each group by ImagePositionPatient along the slice normal and
      stacks stored*slope+intercept (the careful version of the classic
      recipe). Per group: uid, iop, files (sorted), n_slices, shape (slices,
      rows, cols), uniform_spacing (gaps equal within 1e-3 mm), sum, min,
      max, values (flattened, x fastest, only when small) and the LPS
      affine (a lone slice takes SliceThickness, else 1, as its spacing).
      A group without ImagePositionPatient/ImageOrientationPatient has
      "stackable": false and no values.
  dicom_ref.py jpeg OUT L|RGB
      writes an 8-bit JPEG with Pillow and prints the pixels Pillow decodes.
  dicom_ref.py dcm2niix DIR NIFTI...
      runs dcm2niix on DIR, pairs each NIFTI (written by medula) with the
      output of the same shape it matches best, and compares the raw arrays
      and affines as stored (no reorientation): max abs differences.
"""
import glob
import gzip
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np

warnings.simplefilter("ignore")  # pydicom and nibabel.nicom warn on stderr


def stats(a, axes):
    """Statistics of array a (axes named by axes, last one fastest on disk),
    defined as in expected.json's schema."""
    a = np.asarray(a, dtype=np.float64)
    flat = a.ravel(order="C")
    out = {
        "array_axes": axes,
        "shape": list(a.shape),
        "count": int(a.size),
        "min": float(flat.min()),
        "max": float(flat.max()),
        "sum": math.fsum(flat.tolist()),
        "nonzero": int(np.count_nonzero(flat)),
        "std": float(np.std(flat)),
        "sha256_f64le_C": hashlib.sha256(np.ascontiguousarray(a, dtype="<f8").tobytes()).hexdigest(),
    }
    out["mean"] = out["sum"] / flat.size
    idx = [tuple(0 for _ in a.shape), tuple(s - 1 for s in a.shape), tuple(s // 2 for s in a.shape),
           np.unravel_index(int(np.argmax(flat)), a.shape), np.unravel_index(int(np.argmin(flat)), a.shape)]
    out["samples"] = [{"index": [int(i) for i in ix], "value": float(a[tuple(ix)])} for ix in idx]
    return out


TAGS = ("Modality", "SOPClassUID", "Manufacturer", "Rows", "Columns", "NumberOfFrames", "SamplesPerPixel",
        "PhotometricInterpretation", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation",
        "PlanarConfiguration", "PixelSpacing", "SliceThickness", "SpacingBetweenSlices", "ImagePositionPatient",
        "ImageOrientationPatient", "RescaleSlope", "RescaleIntercept", "RescaleType", "WindowCenter", "WindowWidth",
        "SeriesInstanceUID", "StudyInstanceUID", "InstanceNumber", "SliceLocation", "SeriesNumber",
        "SeriesDescription", "ImageType", "DoseGridScaling", "GridFrameOffsetVector", "BodyPartExamined")


def tag_values(ds):
    """The attributes of TAGS present in ds: numbers as float/int, the rest as
    strings, lists for multiple values, None when empty."""
    def one(x):
        if type(x).__name__ in ("DSfloat", "DSdecimal", "float"):
            return float(x)
        if type(x).__name__ == "IS" or isinstance(x, int):
            return int(x)
        return str(x)

    g = {}
    for k in TAGS:
        if k not in ds:
            continue
        v = ds.data_element(k).value
        if v is None or v == "":
            g[k] = None
        elif isinstance(v, (list, tuple)) or type(v).__name__ == "MultiValue":
            g[k] = [float(x) if type(x).__name__ in ("DSfloat", "DSdecimal", "float", "IS") else str(x) for x in v]
        else:
            g[k] = one(v)
    return g


def pixels(ds):
    """pydicom's stored values, or (None, "expect_error" | "undecodable", text)."""
    try:
        return ds.pixel_array, None, None
    except ValueError as ex:  # the numpy handler's check of the Pixel Data length
        if "doesn't match the expected length" in str(ex):
            return None, "expect_error", str(ex)
        raise
    except (NotImplementedError, RuntimeError) as ex:  # no (working) handler for the syntax
        return None, "undecodable", str(ex)


def value_blocks(ds, a, e):
    nfr = int(ds.get("NumberOfFrames", 1) or 1)
    spp = int(ds.get("SamplesPerPixel", 1))
    axes = (["frame"] if nfr > 1 else []) + ["row", "col"] + (["sample"] if spp > 1 else [])
    stored = a.astype(np.float64)
    e["stored_stats"] = stats(stored, axes)
    if spp == 1:
        slope = float(ds.get("RescaleSlope", 1) or 1)
        inter = float(ds.get("RescaleIntercept", 0) or 0)
        e["rescaled_stats"] = stats(stored * slope + inter, axes)
        if "DoseGridScaling" in ds:
            e["dose_gy_stats"] = stats(stored * float(ds.DoseGridScaling), axes)


def dicom_file(path, same_pixels_as=None):
    import pydicom

    e = {}
    with open(path, "rb") as f:
        head = f.read(2)
    if head == b"\x1f\x8b":
        with tempfile.NamedTemporaryFile(suffix=".dcm") as tmp:
            tmp.write(gzip.open(path).read())
            tmp.flush()
            e = dicom_file(tmp.name, same_pixels_as)
        e["gzip_wrapped"] = True
        return e
    ds = pydicom.dcmread(path)
    e["transfer_syntax"] = str(ds.file_meta.TransferSyntaxUID)
    e["tags"] = tag_values(ds)
    a, problem, text = pixels(ds)
    if problem == "expect_error":
        e["expect_error"] = True
        e["error"] = text
    elif problem == "undecodable":
        e["undecodable"] = text
        if same_pixels_as:
            b, problem, text = pixels(pydicom.dcmread(same_pixels_as))
            if problem:
                raise SystemExit("%s: %s" % (same_pixels_as, text))
            e["stats_from"] = same_pixels_as
            value_blocks(ds, b, e)
    else:
        value_blocks(ds, a, e)
    return e


def mosaic(path):
    """Tiles of a Siemens mosaic as a (slice, row, col) stack, and nibabel's affine."""
    import pydicom
    import nibabel.nicom.dicomwrappers as dw

    ds = pydicom.dcmread(path)
    n = int(ds[0x0019, 0x100A].value)  # NumberOfImagesInMosaic
    grid = int(math.ceil(math.sqrt(n)))
    tr, tc = ds.Rows // grid, ds.Columns // grid
    p = ds.pixel_array.astype(np.float64) * float(ds.get("RescaleSlope", 1) or 1) \
        + float(ds.get("RescaleIntercept", 0) or 0)
    tiles = np.stack([p[(k // grid) * tr:(k // grid + 1) * tr, (k % grid) * tc:(k % grid + 1) * tc]
                      for k in range(n)])
    w = dw.wrapper_from_file(path)
    return {"stack_stats": stats(tiles, ["slice", "row", "col"]),
            "nibabel": {"array_shape": list(w.get_data().shape), "affine_lps": w.affine.tolist()}}


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
        iop = tuple(round(float(x), 4) for x in ds.get("ImageOrientationPatient", []))
        groups.setdefault((str(ds.SeriesInstanceUID), iop, int(ds.Rows), int(ds.Columns)), []).append((path, ds))
    out = []
    for (uid, iop_key, _, _), items in groups.items():
        first = items[0][1]
        if not iop_key or "ImagePositionPatient" not in first:
            out.append({"uid": uid, "files": [p for p, _ in items], "stackable": False})
            continue
        iop = np.array([float(x) for x in first.ImageOrientationPatient])
        normal = np.cross(iop[:3], iop[3:])
        items.sort(key=lambda it: float(np.dot(normal, [float(x) for x in it[1].ImagePositionPatient])))
        pos = [float(np.dot(normal, [float(x) for x in ds.ImagePositionPatient])) for _, ds in items]
        gaps = np.diff(pos)
        slices = []
        for _, ds in items:
            a = ds.pixel_array.astype(np.float64)
            a = a * float(ds.get("RescaleSlope", 1) or 1) + float(ds.get("RescaleIntercept", 0) or 0)
            slices.append(a)
        vol = np.stack(slices)
        ps = [float(x) for x in items[0][1].PixelSpacing]
        p0 = np.array([float(x) for x in items[0][1].ImagePositionPatient])
        dz = (pos[-1] - pos[0]) / (len(items) - 1) if len(items) > 1 else float(first.get("SliceThickness", 1) or 1)
        aff = np.eye(4)
        aff[:3, 0] = iop[:3] * ps[1]
        aff[:3, 1] = iop[3:] * ps[0]
        aff[:3, 2] = normal * dz
        aff[:3, 3] = p0
        entry = {
            "uid": uid,
            "iop": iop.tolist(),
            "files": [p for p, _ in items],
            "n_slices": len(items),
            "shape": list(vol.shape),
            "uniform_spacing": bool(len(gaps) == 0 or np.allclose(gaps, gaps[0], rtol=0, atol=1e-3)),
            "sum": math.fsum(vol.ravel().tolist()),
            "min": float(vol.min()),
            "max": float(vol.max()),
            "affine_lps": aff.tolist(),
        }
        if vol.size <= 4096:
            entry["values"] = vol.ravel().tolist()  # (slice, row, col) C order = x fastest
        out.append(entry)
    return {"series": out}


def dcm2niix(folder, ours):
    """Runs dcm2niix on folder and pairs each of medula's NIfTI files (ours,
    a list) with the dcm2niix output of the same shape it matches best,
    comparing the RAW arrays and affines as stored (no reorientation): the
    files must be the same voxel for voxel."""
    import nibabel

    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(["dcm2niix", "-z", "n", "-b", "n", "-f", "%s_%p", "-o", tmp, folder],
                           capture_output=True, text=True)
        outs = [p for p in sorted(glob.glob(os.path.join(tmp, "*.nii"))) if "_Eq_" not in p]
        if not outs:
            return {"error": "dcm2niix wrote nothing", "log": r.stdout + r.stderr}
        theirs = []
        for p in outs:
            img = nibabel.load(p)
            b = np.asanyarray(img.dataobj).astype(np.float64)
            if b.ndim == 4 and b.shape[3] == 1:
                b = b[..., 0]
            theirs.append((os.path.basename(p), b, img.affine))
        used, matches = set(), []
        for path in ours:
            img = nibabel.load(path)
            a = np.asanyarray(img.dataobj).astype(np.float64)
            best = None
            for i, (name, b, aff) in enumerate(theirs):
                if i in used or b.shape != a.shape:
                    continue
                res = {
                    "medula": os.path.basename(path),
                    "output": name,
                    "shape": list(b.shape),
                    "value_max_diff": float(np.abs(a - b).max()),
                    "affine_max_diff": float(np.abs(img.affine - aff).max()),
                    "rotation_max_diff": float(np.abs(img.affine[:3, :3] - aff[:3, :3]).max()),
                    "axcodes_medula": "".join(nibabel.aff2axcodes(img.affine)),
                    "axcodes_dcm2niix": "".join(nibabel.aff2axcodes(aff)),
                    "index": i,
                }
                key = (res["value_max_diff"], res["affine_max_diff"])
                if best is None or key < (best["value_max_diff"], best["affine_max_diff"]):
                    best = res
            if best is None:
                matches.append({"medula": os.path.basename(path), "error": "no dcm2niix output has shape %s" % (list(a.shape),)})
            else:
                used.add(best.pop("index"))
                matches.append(best)
        return {"matches": matches, "outputs": [[t[0], list(t[1].shape)] for t in theirs]}


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
    if mode == "file":
        res = dicom_file(*sys.argv[2:4])
    elif mode == "mosaic":
        res = mosaic(sys.argv[2])
    elif mode == "stack":
        res = stack(sys.argv[2])
    elif mode == "jpeg":
        res = jpeg(sys.argv[2], sys.argv[3])
    elif mode == "dcm2niix":
        res = dcm2niix(sys.argv[2], sys.argv[3:])
    else:
        raise SystemExit("unknown mode " + mode)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
