"""Writes a T1 multiplied by a known smooth bias field, for the N4 specs.

usage: n4_field.py INPUT OUT_BIASED OUT_LOGFIELD
The log field is a smooth function of the voxel position (a tilt plus a broad
bump, spread about 0.25 in log units, so about +-30 %), written as float32
with INPUT's affine; OUT_BIASED = INPUT * exp(field), float32.
"""
import sys

import nibabel as nib
import numpy as np


def main():
    img = nib.load(sys.argv[1])
    a = np.asarray(img.dataobj, dtype=np.float64)
    shape = a.shape
    x, y, z = np.meshgrid(*[np.linspace(-1.0, 1.0, n) for n in shape], indexing="ij")
    field = 0.25 * x - 0.15 * y + 0.1 * z + 0.3 * np.exp(-((x - 0.3) ** 2 + (y + 0.2) ** 2 + z ** 2) / 0.5) - 0.15
    biased = (a * np.exp(field)).astype(np.float32)
    for out, data in ((sys.argv[2], biased), (sys.argv[3], field.astype(np.float32))):
        o = nib.Nifti1Image(data, img.affine)
        o.set_sform(img.affine, int(img.header["sform_code"]) or 1)
        o.set_qform(img.affine, 1)
        nib.save(o, out)
    print('{"ok": true}')


if __name__ == "__main__":
    main()
