"""gzip and nibabel reference for tests/gz_spec.lua; prints one JSON object.

  gz_ref.py inputs DIR
      writes the .npy inputs: random.npy (uint8 noise, incompressible),
      constant.npy (int16, one value), exact.npy (uint8, sized so that a
      .nii of it is exactly 2 MB).
  gz_ref.py check PAIRS_JSON
      for each [gz, nii] pair: how Python's zlib and gzip see the .nii.gz
      (one member? trailer ISIZE, gzip header flags and extra subfields) and
      whether its contents and nibabel's array equal those of the plain .nii.
  gz_ref.py members OUT IN CHUNK
      rewrites IN (a gzip file) as one gzip member per CHUNK bytes of its
      contents, each with the 12-byte "Md" extra field earlier medula
      versions wrote (member size, uncompressed size).

Needs /usr/bin/python3 with numpy and nibabel (Debian python3-nibabel).
"""
import gzip
import json
import struct
import sys
import zlib

import nibabel as nib
import numpy as np


def inputs(d):
    rng = np.random.default_rng(7)
    np.save(d + "/random.npy", rng.integers(0, 256, size=(90, 160, 160), dtype=np.uint8))
    np.save(d + "/constant.npy", np.full((96, 128, 128), 1234, dtype=np.int16))
    # 352-byte header + voxels = 2 * 2^20 bytes: the last 1 MB block is full.
    a = (rng.integers(0, 16, size=(400, 5242), dtype=np.uint8) * 3).astype(np.uint8)
    np.save(d + "/exact.npy", a)
    return {}


def extra_ids(d):
    """Subfield ids of the FEXTRA field, or [] without one."""
    if not d[3] & 4:
        return []
    xlen = struct.unpack("<H", d[10:12])[0]
    ids, at = [], 12
    while at + 4 <= 12 + xlen:
        ids.append(d[at:at + 2].decode("latin-1"))
        at += 4 + struct.unpack("<H", d[at + 2:at + 4])[0]
    return ids


def check(pairs):
    out = []
    for gz, nii in pairs:
        d = open(gz, "rb").read()
        plain = open(nii, "rb").read()
        o = zlib.decompressobj(31)
        x = o.decompress(d)
        a = np.asanyarray(nib.load(gz).dataobj)
        b = np.asanyarray(nib.load(nii).dataobj)
        out.append({
            "path": gz,
            "one_member": bool(o.eof and o.unused_data == b"" and not o.unconsumed_tail),
            "isize": struct.unpack("<I", d[-4:])[0],
            "length": len(x),
            "flags": d[3],
            "extra": extra_ids(d),
            "zlib_same": x == plain,
            "gzip_same": gzip.decompress(d) == plain,
            "nibabel_same": bool(a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)),
        })
    return {"files": out}


def members(out, src, chunk):
    data = gzip.decompress(open(src, "rb").read())
    parts = []
    for at in range(0, len(data), chunk):
        block = data[at:at + chunk]
        c = zlib.compressobj(1, zlib.DEFLATED, -15)
        body = c.compress(block) + c.flush()
        total = 24 + len(body) + 8
        head = bytes([0x1F, 0x8B, 8, 4, 0, 0, 0, 0, 0, 3, 12, 0]) + b"Md" + struct.pack("<HII", 8, total, len(block))
        parts.append(head + body + struct.pack("<II", zlib.crc32(block), len(block)))
    open(out, "wb").write(b"".join(parts))
    return {"members": len(parts)}


def main(argv):
    if argv[1] == "inputs":
        res = inputs(argv[2])
    elif argv[1] == "check":
        res = check(json.loads(argv[2]))
    elif argv[1] == "members":
        res = members(argv[2], argv[3], int(argv[4]))
    else:
        raise SystemExit("usage: gz_ref.py inputs|check|members ...")
    json.dump(res, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
