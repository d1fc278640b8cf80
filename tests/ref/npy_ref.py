#!/usr/bin/python3
"""Reference for tests/npy_spec.lua: numpy's own view of .npy files.

  npy_ref.py stats FILE '[[i,j,k], ...]'  shape, dtype, statistics and the
                                          values at the given numpy indices
  npy_ref.py dump FILE                    shape, dtype and every value, C order;
                                          same_as_np_save: the file's bytes equal
                                          what np.save writes for that array
  npy_ref.py make DIR                     writes files numpy's way (C order,
                                          Fortran order, big-endian, versions
                                          2.0/3.0, bool, int64) and lists them

Output is one JSON object on stdout. Run with Debian's /usr/bin/python3.
"""
import io
import json
import os
import sys

import numpy as np


def describe(a):
    return {"shape": list(a.shape), "dtype": str(a.dtype),
            "fortran": bool(a.flags.f_contiguous and not a.flags.c_contiguous)}


def stats(path, idx):
    a = np.load(path)
    out = describe(a)
    f = a.astype(np.float64)
    out.update(count=int(f.size), min=float(f.min()), max=float(f.max()),
               sum=float(np.sum(f, dtype=np.float64)), mean=float(f.mean()), std=float(f.std()),
               values=[float(f[tuple(i)]) for i in idx])
    return out


def dump(path):
    a = np.load(path)
    out = describe(a)
    buf = io.BytesIO()
    np.save(buf, a)
    with open(path, "rb") as f:
        out["same_as_np_save"] = f.read() == buf.getvalue()
    out["values"] = [float(x) for x in np.ascontiguousarray(a).astype(np.float64).ravel()]
    return out


def make(folder):
    rng = np.random.default_rng(5)
    files = []

    def add(name, arr, version=None, order="C"):
        path = os.path.join(folder, name)
        a = np.asfortranarray(arr) if order == "F" else np.ascontiguousarray(arr)
        with open(path, "wb") as f:
            np.lib.format.write_array(f, a, version=version)
        files.append({"name": name, "shape": list(arr.shape), "descr": arr.dtype.str,
                      "fortran": order == "F",
                      "values": [float(x) for x in arr.astype(np.float64).ravel()]})

    ramp = np.arange(4 * 3 * 5).reshape(4, 3, 5)
    add("c_i2.npy", (ramp * 37 - 900).astype("<i2"))
    add("f_i2.npy", (ramp * 37 - 900).astype("<i2"), order="F")
    add("c_be_i2.npy", (ramp * 37 - 900).astype(">i2"))
    add("f_be_f4.npy", (ramp * 0.25 - 3).astype(">f4"), order="F")
    add("c_u2.npy", (ramp * 1000).astype("<u2"))
    add("c_be_u4.npy", (ramp * 100000).astype(">u4"))
    add("c_be_i4.npy", (ramp * -100000).astype(">i4"))
    add("c_be_f8.npy", (ramp / 7.0).astype(">f8"))
    add("c_u1.npy", (ramp * 4).astype("u1"))
    add("c_i1.npy", (ramp * 2 - 60).astype("i1"))
    add("c_bool.npy", (ramp % 3 == 0))
    add("c_i8.npy", (ramp * -123456789).astype("<i8"))
    add("c_u8.npy", (ramp * 123456789).astype("<u8"))
    add("c_2d_f4.npy", rng.standard_normal((6, 7)).astype("<f4"))
    add("f_2d_u1.npy", rng.integers(0, 255, (6, 7)).astype("u1"), order="F")
    add("c_4d_i2.npy", rng.integers(-500, 500, (2, 3, 4, 5)).astype("<i2"))
    add("f_4d_be_i2.npy", rng.integers(-500, 500, (2, 3, 4, 5)).astype(">i2"), order="F")
    add("c_1d_f8.npy", rng.standard_normal(9))
    add("v2_i2.npy", (ramp * 3).astype("<i2"), version=(2, 0))
    add("v3_f4.npy", (ramp * 0.5).astype("<f4"), version=(3, 0))
    return {"files": files}


def main():
    cmd = sys.argv[1]
    if cmd == "stats":
        out = stats(sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else [])
    elif cmd == "dump":
        out = dump(sys.argv[2])
    elif cmd == "make":
        out = make(sys.argv[2])
    else:
        raise SystemExit("unknown command " + cmd)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
