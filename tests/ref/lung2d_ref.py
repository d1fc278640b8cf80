#!/usr/bin/python3
"""Reference for recipes.lung.mask_2d: the LUNA16 tutorial's per-slice lung
recipe (get_segmented_lungs) written from its published steps with
skimage/scipy, applied to every axial slice.

  lung2d_ref.py IN.npy OUT.npy [THRESHOLD]

IN is medula's .npy of a CT (array [z, y, x], HU); OUT the uint8 mask.
Prints {"voxels": n}.
"""
import json
import sys

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import roberts
from skimage.measure import label, regionprops
from skimage.morphology import binary_closing, binary_erosion, disk
from skimage.segmentation import clear_border


def segment_slice(im, threshold):
    binary = im < threshold
    cleared = clear_border(binary)
    labels = label(cleared)
    areas = sorted(r.area for r in regionprops(labels))
    if len(areas) > 2:
        for r in regionprops(labels):
            if r.area < areas[-2]:
                for c in r.coords:
                    labels[c[0], c[1]] = 0
    binary = labels > 0
    binary = binary_erosion(binary, disk(2))
    binary = binary_closing(binary, disk(10))
    edges = roberts(binary)
    return ndi.binary_fill_holes(edges)


def main():
    ct = np.load(sys.argv[1])
    threshold = float(sys.argv[3]) if len(sys.argv) > 3 else -400
    out = np.stack([segment_slice(s, threshold) for s in ct]).astype(np.uint8)
    np.save(sys.argv[2], out)
    print(json.dumps({"voxels": int(out.sum())}))


if __name__ == "__main__":
    main()
