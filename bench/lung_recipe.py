"""lung_recipe.py SERIES_DIR OUT_DIR: the Kaggle DSB2017 lung preprocessing
recipe in Python, as its tutorial describes it, for bench/rows/workflows.sh.

Steps (the peer of `medula -s lung_segment --resample dsb --background corner
--keep largest --airways`):
  1. read every file of the folder with pydicom, sort by ImagePositionPatient z;
  2. HU: stored -2000 (outside the scanner circle) set to 0 before the
     rescale, so padding becomes the intercept; slope and intercept per slice;
  3. resample to 1 mm: shape round(n * s), scipy.ndimage.zoom by
     new_shape / n (cubic spline, mode "nearest");
  4. the 3-D lung mask: threshold -320, label (full connectivity), the
     component holding voxel [0, 0, 0] is the background, per axial slice
     every solid island but the largest becomes lung, the largest air
     component is the mask;
  5. dilation by a 5 mm ball, normalise [-1000, 400] to [0, 1] clipped,
     minus 0.25, crop both to the dilated mask's box plus 5 voxels;
  6. np.save image (float32) and mask (uint8), (z, y, x).
"""
import os
import sys

import numpy as np
import pydicom
import scipy.ndimage as ndi
from skimage import measure, morphology

MIN_HU, MAX_HU, PIXEL_MEAN, MARGIN, DILATE_MM = -1000.0, 400.0, 0.25, 5, 5


def load_scan(folder):
    slices = [pydicom.dcmread(os.path.join(folder, name)) for name in os.listdir(folder)
              if not name.startswith(".")]
    slices.sort(key=lambda s: float(s.ImagePositionPatient[2]))
    return slices


def pixels_hu(slices):
    image = np.stack([s.pixel_array for s in slices]).astype(np.int16)
    image[image == -2000] = 0  # padding becomes the intercept after the rescale
    for k, s in enumerate(slices):
        slope, intercept = float(s.RescaleSlope), float(s.RescaleIntercept)
        if slope != 1:
            image[k] = (slope * image[k].astype(np.float64)).astype(np.int16)
        image[k] += np.int16(intercept)
    return image


def resample(image, slices, new_spacing=(1.0, 1.0, 1.0)):
    gap = abs(float(slices[1].ImagePositionPatient[2]) - float(slices[0].ImagePositionPatient[2]))
    spacing = np.array([gap] + [float(x) for x in slices[0].PixelSpacing], dtype=np.float32)
    factor = spacing / np.array(new_spacing)
    new_shape = np.round(np.array(image.shape) * factor)
    real_factor = new_shape / np.array(image.shape)
    return ndi.zoom(image, real_factor, mode="nearest"), spacing / real_factor


def largest_label(labels, background):
    vals, counts = np.unique(labels, return_counts=True)
    keep = vals != background
    if not keep.any():
        return None
    return vals[keep][np.argmax(counts[keep])]


def lung_mask(image):
    binary = np.array(image > -320, dtype=np.int8) + 1  # 1 air, 2 solid
    labels = measure.label(binary)
    binary[labels == labels[0, 0, 0]] = 2  # the air around the patient is solid
    del labels
    for k in range(binary.shape[0]):  # fill vessels and nodules slice by slice
        islands = measure.label(binary[k] - 1)
        body = largest_label(islands, 0)
        if body is not None:
            binary[k][islands != body] = 1
    binary = 1 - (binary - 1)  # 1 inside air, 0 the rest
    labels = measure.label(binary, background=0)
    lungs = largest_label(labels, 0)
    if lungs is not None:
        binary[labels != lungs] = 0
    return binary.astype(np.uint8)


def main():
    folder, out = sys.argv[1], sys.argv[2]
    slices = load_scan(folder)
    image = pixels_hu(slices)
    image, _ = resample(image, slices)
    mask = lung_mask(image)
    dilated = ndi.binary_dilation(mask, structure=morphology.ball(DILATE_MM)).astype(np.uint8)
    image = (image - MIN_HU) / (MAX_HU - MIN_HU)
    image[image > 1] = 1
    image[image < 0] = 0
    image -= PIXEL_MEAN
    zs, ys, xs = np.nonzero(dilated)
    box = tuple(slice(max(0, a.min() - MARGIN), min(n, a.max() + MARGIN + 1))
                for a, n in zip((zs, ys, xs), dilated.shape))
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "image.npy"), image[box].astype(np.float32))
    np.save(os.path.join(out, "mask.npy"), dilated[box])
    np.save(os.path.join(out, "lungs.npy"), mask)


if __name__ == "__main__":
    main()
