"""dicom_numpy.py DIR: the pydicom + numpy recipe, done right (sort by the
position along the slice normal, per-slice rescale): the peer of medula's
vol.read(DIR)."""
import os
import sys

import numpy as np
import pydicom

d = sys.argv[1]
slices = [pydicom.dcmread(os.path.join(d, f)) for f in os.listdir(d) if not f.startswith(".")]
iop = np.array(slices[0].ImageOrientationPatient, dtype=float)
normal = np.cross(iop[:3], iop[3:])
slices.sort(key=lambda s: float(np.dot(normal, np.array(s.ImagePositionPatient, dtype=float))))
image = np.stack([s.pixel_array for s in slices]).astype(np.int16)
for k, s in enumerate(slices):
    slope, inter = float(s.RescaleSlope), float(s.RescaleIntercept)
    if slope != 1:
        image[k] = (slope * image[k].astype(np.float64)).astype(np.int16)
    image[k] += np.int16(inter)
