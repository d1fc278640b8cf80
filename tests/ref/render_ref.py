#!/usr/bin/python3
"""Reference for tests/render_spec.lua and tests/plot_spec.lua.

  render_ref.py decode FILE...     each PNG decoded here with zlib and struct
                                   (all five row filters, 8-bit grey/RGB/RGBA):
                                   width, height, colour type and the samples
                                   in row-major order (RGB per pixel)
  render_ref.py cmaps              matplotlib's gray, bone, hot, jet, cool and
                                   viridis at 256 entries, rounded to 0..255
  render_ref.py project NPY DIR    numpy max, min, mean along each axis of a
                                   medula .npy, written to DIR/<mode><axis>.npy
                                   with medula's shape (the axis kept as 1)
  render_ref.py histogram NPY BINS [LO HI]   numpy.histogram counts and edges

Output is one JSON object. Run with Debian's /usr/bin/python3.
"""
import json
import struct
import sys
import zlib

import numpy as np


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, ihdr, chunks = 8, b"", None, []
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        crc = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]
        assert zlib.crc32(kind + body) & 0xffffffff == crc, "bad CRC"
        chunks.append(kind.decode())
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    assert depth == 8 and interlace == 0
    ch = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * ch
    out = bytearray()
    prev = bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - ch] if i >= ch else 0
            b = prev[i]
            c = prev[i - ch] if i >= ch else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                line[i] = (line[i] + paeth(a, b, c)) & 255
        out += line
        prev = line
    return {"width": w, "height": h, "color_type": ctype, "channels": ch, "chunks": chunks,
            "pixels": list(out)}


def cmaps():
    import matplotlib
    x = np.linspace(0, 1, 256)
    r = {}
    for name in ("gray", "bone", "hot", "jet", "cool", "viridis"):
        lut = matplotlib.colormaps[name](x)[:, :3]
        r[name] = np.floor(lut * 255 + 0.5).astype(int).ravel().tolist()
    return r


def project(path, out):
    a = np.load(path)  # (z, y, x)
    for axis in (1, 2, 3):
        ax = 3 - axis
        for mode, f in (("max", np.max), ("min", np.min), ("mean", np.mean)):
            r = f(a, axis=ax, keepdims=True)
            if mode == "mean":
                r = r.astype(np.float32)
            np.save("%s/%s%d.npy" % (out, mode, axis), r)
    return {"ok": True}


def histogram(path, bins, lo=None, hi=None):
    a = np.load(path)
    rng = None if lo is None else (float(lo), float(hi))
    counts, edges = np.histogram(a, bins=int(bins), range=rng)
    return {"counts": counts.tolist(), "edges": edges.tolist()}


def main():
    cmd = sys.argv[1]
    if cmd == "decode":
        r = {"files": [decode(p) for p in sys.argv[2:]]}
    elif cmd == "cmaps":
        r = cmaps()
    elif cmd == "project":
        r = project(sys.argv[2], sys.argv[3])
    elif cmd == "histogram":
        r = histogram(*sys.argv[2:])
    else:
        raise SystemExit("unknown command " + cmd)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
