#!/usr/bin/python3
"""Turns the CT volume inside an InVesalius project (.inv3) into the sample files
that tools/samples.sh provides under ct/ and npy/.

An .inv3 file is a gzip'd tar; main.plist names the voxel matrix (a raw array
file, C order, shape (slices, rows, columns)), its dtype and the spacing
(x, y, z). Voxel values are copied unchanged; only the containers are ours:
the NIfTI-1 and MetaImage headers, the PNG writer and the gzip framing are
written here with the standard library (numpy only cuts and reorders the crops).

Usage: inv3_convert.py PROJECT.inv3 CT_DIR NPY_DIR
"""
import gzip
import os
import plistlib
import struct
import sys
import tarfile
import zlib

import numpy as np

SLICE = 54                                  # the axial slice saved as PNG (0-based)
CROP = (slice(40, 72), slice(96, 160), slice(96, 160))   # (z, y, x)
DESCRIP = b"InVesalius Cranium.inv3 CT (ProMED 0051)"


def read_project(path):
    """Returns (volume as (z, y, x) int16 array, spacing (x, y, z))."""
    with tarfile.open(path, "r:gz") as tar:
        members = {os.path.basename(m.name): m for m in tar.getmembers()}
        plist = plistlib.loads(tar.extractfile(members["main.plist"]).read())
        matrix = plist["matrix"]
        raw = tar.extractfile(members[matrix["filename"]]).read()
    if matrix["dtype"] != "int16":
        sys.exit("inv3_convert: expected an int16 matrix, found %s" % matrix["dtype"])
    shape = tuple(matrix["shape"])
    vol = np.frombuffer(raw, dtype="<i2").reshape(shape)
    return vol, tuple(float(s) for s in plist["spacing"])


def nifti1_bytes(vol, sp):
    """A single-file NIfTI-1 image: 348-byte header, 4 zero extension bytes,
    then the voxels with x fastest (the same bytes as the C-order (z,y,x) array)."""
    nz, ny, nx = vol.shape
    h = struct.pack("<i10s18sihcB", 348, b"", b"", 0, 0, b"\0", 0)
    h += struct.pack("<8h", 3, nx, ny, nz, 1, 1, 1, 1)
    h += struct.pack("<3fhhhh", 0, 0, 0, 0, 4, 16, 0)          # intent, int16, bitpix
    h += struct.pack("<8f", 1, sp[0], sp[1], sp[2], 1, 1, 1, 1)   # pixdim (qfac 1)
    h += struct.pack("<fffhBB", 352, 1, 0, 0, 0, 2)              # vox_offset, slope, inter, units mm
    h += struct.pack("<ffffii", 0, 0, 0, 0, 0, 0)
    h += struct.pack("<80s24shh", DESCRIP, b"", 1, 1)            # qform_code, sform_code 1
    h += struct.pack("<6f", 0, 0, 0, 0, 0, 0)                    # identity quaternion, offset 0
    h += struct.pack("<12f", sp[0], 0, 0, 0, 0, sp[1], 0, 0, 0, 0, sp[2], 0)
    h += struct.pack("<16s4s", b"", b"n+1\0")
    assert len(h) == 348
    return h + b"\0\0\0\0" + vol.astype("<i2").tobytes()


def write_nifti_gz(path, vol, sp):
    with open(path, "wb") as f:
        with gzip.GzipFile(filename="cranium_ct.nii", mode="wb", fileobj=f, mtime=0) as g:
            g.write(nifti1_bytes(vol, sp))


def write_mha(path, vol, sp):
    """MetaImage with the voxels zlib-compressed after the header (LOCAL)."""
    nz, ny, nx = vol.shape
    comp = zlib.compress(vol.astype("<i2").tobytes(), 9)
    lines = [
        "ObjectType = Image", "NDims = 3", "BinaryData = True",
        "BinaryDataByteOrderMSB = False", "CompressedData = True",
        "CompressedDataSize = %d" % len(comp),
        "TransformMatrix = 1 0 0 0 1 0 0 0 1", "Offset = 0 0 0",
        "CenterOfRotation = 0 0 0", "AnatomicalOrientation = ???",
        "ElementSpacing = %r %r %r" % sp, "DimSize = %d %d %d" % (nx, ny, nz),
        "ElementType = MET_SHORT", "ElementDataFile = LOCAL",
    ]
    with open(path, "wb") as f:
        f.write(("\n".join(lines) + "\n").encode("ascii"))
        f.write(comp)


def png_chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def write_png16(path, img):
    """16-bit greyscale PNG (colour type 0), no filtering."""
    h, w = img.shape
    rows = b"".join(b"\0" + img[r].astype(">u2").tobytes() for r in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 0, 0, 0, 0)))
        f.write(png_chunk(b"IDAT", zlib.compress(rows, 9)))
        f.write(png_chunk(b"IEND", b""))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    src, ctdir, npydir = sys.argv[1:]
    vol, sp = read_project(src)
    write_nifti_gz(os.path.join(ctdir, "cranium_ct.nii.gz"), vol, sp)
    write_mha(os.path.join(ctdir, "cranium_ct.mha"), vol, sp)
    write_png16(os.path.join(ctdir, "cranium_ct_slice054_u16.png"),
                vol[SLICE].astype(np.int32) + 1024)
    crop = np.ascontiguousarray(vol[CROP])
    np.save(os.path.join(npydir, "cranium_ct_crop_int16.npy"), crop)
    np.save(os.path.join(npydir, "cranium_ct_crop_int16_F_be.npy"),
            np.asfortranarray(crop.astype(">i2")))


if __name__ == "__main__":
    main()
