#!/usr/bin/python3
"""Reference for tests/dicom_rescale_spec.lua: a copy of a DICOM file with
another RescaleSlope / RescaleIntercept, written by pydicom, and pydicom's
own stored * slope + intercept of it.

  dicom_rescale_ref.py SRC OUT SLOPE INTERCEPT EVEN
      EVEN = 1 makes every stored value even first (so that slope 0.5 gives
      whole numbers). Prints {min, max, sum, whole} of the rescaled values.
"""
import json
import sys

import numpy as np
import pydicom


def main(src, out, slope, inter, even):
    ds = pydicom.dcmread(src)
    a = ds.pixel_array
    if even == "1":
        a = (a // 2) * 2
        ds.PixelData = a.astype(a.dtype).tobytes()
    ds.RescaleSlope = slope
    ds.RescaleIntercept = inter
    ds.save_as(out)
    r = pydicom.dcmread(out).pixel_array.astype(np.float64) * float(slope) + float(inter)
    print(json.dumps({"min": float(r.min()), "max": float(r.max()), "sum": float(r.sum()),
                      "whole": bool(np.all(r == np.round(r)))}))


if __name__ == "__main__":
    main(*sys.argv[1:6])
