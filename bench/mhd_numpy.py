#!/usr/bin/python3
"""The Python peer for reading a MetaImage .mhd with detached raw data: parse
the header lines, then numpy.fromfile. Usage: mhd_numpy.py FILE.mhd"""
import os
import sys

import numpy as np

TYPES = {"MET_UCHAR": "u1", "MET_CHAR": "i1", "MET_USHORT": "u2", "MET_SHORT": "i2",
         "MET_UINT": "u4", "MET_INT": "i4", "MET_FLOAT": "f4", "MET_DOUBLE": "f8"}

path = sys.argv[1]
hdr = {}
with open(path) as f:
    for line in f:
        key, _, val = line.partition("=")
        hdr[key.strip()] = val.strip()
dims = [int(x) for x in hdr["DimSize"].split()]
order = ">" if hdr.get("BinaryDataByteOrderMSB", "False") == "True" else "<"
raw = os.path.join(os.path.dirname(path), hdr["ElementDataFile"])
arr = np.fromfile(raw, dtype=order + TYPES[hdr["ElementType"]], count=int(np.prod(dims)))
arr = arr.reshape(dims[::-1])
