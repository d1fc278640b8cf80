#!/usr/bin/python3
"""Reference for tests/metaimage_spec.lua: an independent MetaImage reading
with numpy (numpy.fromfile for raw data, zlib for compressed data).

  metaimage_ref.py FILE '[[i,j,...], ...]'

prints one JSON object: the header keys, shape in array axes [c,]x,y[,z]
(first axis fastest on disk), spacing, origin, direction (direction[r][c],
column c = the c-th group of NDims numbers in TransformMatrix), statistics of
the stored values and the values at the given indices (array axes order).
Run with Debian's /usr/bin/python3.
"""
import json
import os
import sys
import zlib

import numpy as np

TYPES = {"MET_UCHAR": "u1", "MET_CHAR": "i1", "MET_USHORT": "u2", "MET_SHORT": "i2",
         "MET_UINT": "u4", "MET_INT": "i4", "MET_ULONG": "u4", "MET_LONG": "i4",
         "MET_ULONG_LONG": "u8", "MET_LONG_LONG": "i8", "MET_FLOAT": "f4", "MET_DOUBLE": "f8"}


def header(path):
    keys = {}
    with open(path, "rb") as f:
        while True:
            line = f.readline()
            if not line:
                raise SystemExit("no ElementDataFile")
            key, _, val = line.decode("latin-1").partition("=")
            keys[key.strip()] = val.strip()
            if key.strip() == "ElementDataFile":
                return keys, f.tell()


def first(keys, names, default=None):
    for n in names:
        if n in keys:
            return keys[n]
    return default


def main():
    path = sys.argv[1]
    idx = json.loads(sys.argv[2]) if len(sys.argv) > 2 else []
    keys, end = header(path)
    n = int(keys["NDims"])
    dims = [int(x) for x in keys["DimSize"].split()]
    ch = int(keys.get("ElementNumberOfChannels", "1"))
    msb = first(keys, ["BinaryDataByteOrderMSB", "ElementByteOrderMSB"], "False") == "True"
    dt = np.dtype((">" if msb else "<") + TYPES[keys["ElementType"]])
    count = ch * int(np.prod(dims))
    name = keys["ElementDataFile"]
    data_path = path if name == "LOCAL" else os.path.join(os.path.dirname(path), name)
    blob = open(data_path, "rb").read()
    hsize = int(keys.get("HeaderSize", "0"))
    compressed = keys.get("CompressedData", "False") == "True"
    start = end if name == "LOCAL" else 0
    if compressed:
        csize = int(keys.get("CompressedDataSize", len(blob) - start))
        if hsize > 0:
            start = hsize
        elif hsize == -1:
            start = len(blob) - csize
        raw = zlib.decompress(blob[start:start + csize])
        a = np.frombuffer(raw, dtype=dt, count=count)
    else:
        if hsize > 0:
            start = hsize
        elif hsize == -1:
            start = len(blob) - count * dt.itemsize
        a = np.fromfile(data_path, dtype=dt, count=count, offset=start)
    shape = ([ch] if ch > 1 else []) + dims
    a = a.reshape(shape, order="F").astype(np.float64)
    tm = [float(x) for x in first(keys, ["TransformMatrix", "Rotation", "Orientation"],
                                  " ".join("1" if r == c else "0" for c in range(n)
                                           for r in range(n))).split()]
    out = {"header": keys, "shape": shape, "dtype": str(dt.newbyteorder("=")),
           "spacing": [float(x) for x in first(keys, ["ElementSpacing", "ElementSize"],
                                               " ".join(["1"] * n)).split()],
           "origin": [float(x) for x in first(keys, ["Offset", "Origin", "Position"],
                                              " ".join(["0"] * n)).split()],
           "direction": [[tm[c * n + r] for c in range(n)] for r in range(n)],
           "count": int(a.size), "min": float(a.min()), "max": float(a.max()),
           "sum": float(np.sum(a)), "mean": float(a.mean()), "std": float(a.std()),
           "values": [float(a[tuple(i)]) for i in idx]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
