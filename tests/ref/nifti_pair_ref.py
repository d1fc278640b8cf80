"""NIfTI-1 .hdr/.img pairs through nibabel.
  nifti_pair_ref.py write STEM   writes STEM.hdr/.img (int16, 4x3x2, oblique
                                 affine, scl_slope 2, scl_inter -5) and prints it
  nifti_pair_ref.py read PATH    loads a pair and prints what nibabel reads
Output: JSON {shape, values (get_fdata, x fastest), affine (RAS), magic}."""
import json
import sys

import nibabel as nib
import numpy as np


def describe(img):
    a = img.get_fdata()
    return {"shape": list(a.shape), "values": [float(x) for x in a.ravel(order="F")],
            "affine": img.affine.tolist(), "magic": img.header["magic"].item().decode(),
            "dtype": str(img.get_data_dtype())}


if sys.argv[1] == "write":
    data = (np.arange(24, dtype=np.int16) - 7).reshape((4, 3, 2), order="F")
    aff = np.array([[0.9, 0.1, 0, -20], [-0.1, 0.9, 0, 15], [0, 0, 2.5, 7], [0, 0, 0, 1]])
    img = nib.Nifti1Pair(data, aff)
    img.header.set_slope_inter(2, -5)
    img.header.set_qform(aff, 1)
    img.header.set_sform(aff, 1)
    nib.save(img, sys.argv[2] + ".img")
    print(json.dumps(describe(nib.load(sys.argv[2] + ".hdr"))))
else:
    print(json.dumps(describe(nib.load(sys.argv[2]))))
