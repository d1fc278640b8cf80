#!/usr/bin/python3
"""Writes the benchmark inputs from a .npy volume (C order (z, y, x), as
medula writes it): ct.nii.gz and ct.nii with nibabel (its defaults: gzip
level 1), ct.mhd + ct.raw with a plain MetaImage header. Spacing 0.7x0.7x1 mm.

Usage: make_inputs.py VOLUME.npy OUTDIR
"""
import os
import sys

import nibabel
import numpy as np

SPACING = (0.7, 0.7, 1.0)

src, out = sys.argv[1], sys.argv[2]
vol = np.load(src)                      # (z, y, x)
xyz = vol.T                             # x fastest, as NIfTI stores it
img = nibabel.Nifti1Image(xyz, np.diag(SPACING + (1.0,)))
img.set_data_dtype(np.int16)
nibabel.save(img, os.path.join(out, "ct.nii"))
nibabel.save(img, os.path.join(out, "ct.nii.gz"))
nz, ny, nx = vol.shape
with open(os.path.join(out, "ct.mhd"), "w") as f:
    f.write("ObjectType = Image\nNDims = 3\nBinaryData = True\n"
            "BinaryDataByteOrderMSB = False\nCompressedData = False\n"
            "TransformMatrix = 1 0 0 0 1 0 0 0 1\nOffset = 0 0 0\n"
            "ElementSpacing = %g %g %g\nDimSize = %d %d %d\n"
            "ElementType = MET_SHORT\nElementDataFile = ct.raw\n" % (SPACING + (nx, ny, nz)))
vol.astype("<i2").tofile(os.path.join(out, "ct.raw"))
