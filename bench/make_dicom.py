"""make_dicom.py CT.npy OUTDIR: writes the (nz, ny, nx) int16 HU volume as a
CT series of nz DICOM files (explicit VR little endian, stored = HU + 1024,
intercept -1024, 0.7 mm pixels, 1 mm slices), files named in shuffled
order with InstanceNumber counting down, as exported series often are."""
import os
import sys

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid


def main():
    vol = np.load(sys.argv[1])
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    nz, ny, nx = vol.shape
    series, study = generate_uid(), generate_uid()
    order = np.random.default_rng(7).permutation(nz)
    for k in range(nz):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.Modality = "CT"
        ds.PatientID = "BENCH"
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.InstanceNumber = nz - k
        ds.ImagePositionPatient = [-179.2, -179.2, float(k)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.7, 0.7]
        ds.SliceThickness = 1
        ds.Rows, ds.Columns = ny, nx
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
        ds.PixelRepresentation = 1
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        ds.PixelData = (vol[k].astype(np.int32) + 1024).clip(-32768, 32767).astype("<i2").tobytes()
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.save_as(os.path.join(out, "IM%05d" % order[k]), write_like_original=False)


if __name__ == "__main__":
    main()
