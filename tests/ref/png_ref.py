#!/usr/bin/python3
"""Reference for tests/png_spec.lua: Pillow's view of PNG files.

  png_ref.py read FILE    mode, size and every sample as Pillow decodes it
                          (palette images expanded to RGB), C order
                          (row, col[, channel]), plus the file's IHDR fields
  png_ref.py readall DIR FILE...
                          the same for several files at once (one numpy and
                          Pillow start-up), samples written to DIR/<i>.npy
                          (i = 1, 2, ...) shaped as medula reads them: (h, w)
                          for one channel, (C, 1, h, w) for more; a palette of
                          greys is kept as one channel (medula's rule,
                          docs/formats/png.md); prints the IHDR fields
  png_ref.py make DIR     writes small PNGs of each kind (16-bit grey, grey +
                          alpha, RGB, RGBA, a colour palette, 1-bit, an
                          interlaced 8-bit grey) with known samples and lists
                          them with their samples

Output is one JSON object on stdout. Run with Debian's /usr/bin/python3
(python3-pil and python3-numpy).
"""
import json
import struct
import sys
import zlib

import numpy as np
from PIL import Image


def ihdr(path):
    with open(path, "rb") as f:
        b = f.read(33)
    w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", b[16:29])
    return {"width": w, "height": h, "bit_depth": depth, "color_type": ctype,
            "interlace": interlace}


def samples(img):
    if img.mode == "P":
        img = img.convert("RGB")
    a = np.asarray(img)
    if a.dtype == bool:
        a = a.astype(np.uint8)
    return a


def read(path, out=None):
    img = Image.open(path)
    a = samples(img)
    r = {"mode": img.mode, "shape": list(a.shape), "ihdr": ihdr(path)}
    if out is None:
        r["values"] = a.astype(np.int64).ravel().tolist()
        return r
    if a.ndim == 3 and img.mode == "P" and (a == a[:, :, :1]).all():
        a = a[:, :, 0]
    if a.ndim == 3:
        a = np.ascontiguousarray(a.transpose(2, 0, 1)[:, None, :, :])
    dtype = np.uint16 if r["ihdr"]["bit_depth"] == 16 else np.uint8
    np.save(out, a.astype(dtype))
    return r


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xffffffff)


def interlaced_grey(path, a):
    """Adam7-interlaced 8-bit grey, written by hand (Pillow cannot)."""
    h, w = a.shape
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
              (0, 1, 1, 2)]
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = a[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        for row in sub:
            raw += b"\x00" + row.astype(np.uint8).tobytes()
    head = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 1)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", zlib.compress(raw))
                + chunk(b"IEND", b""))


def make(d):
    rng = np.random.default_rng(7)
    out = {}
    grey16 = rng.integers(0, 65536, (5, 7)).astype(np.uint16)
    Image.fromarray(grey16.astype(np.int32), "I").save(d + "/grey16.png")  # I -> 16-bit grey
    la = rng.integers(0, 256, (4, 6, 2)).astype(np.uint8)
    Image.fromarray(la, "LA").save(d + "/grey_alpha.png")
    rgb = rng.integers(0, 256, (3, 5, 3)).astype(np.uint8)
    Image.fromarray(rgb, "RGB").save(d + "/rgb.png")
    rgba = rng.integers(0, 256, (6, 4, 4)).astype(np.uint8)
    Image.fromarray(rgba, "RGBA").save(d + "/rgba.png")
    idx = rng.integers(0, 4, (5, 5)).astype(np.uint8)
    pal = Image.fromarray(idx, "P")
    pal.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
    pal.save(d + "/palette.png")
    bits = rng.integers(0, 2, (9, 11)).astype(bool)
    Image.fromarray(bits).save(d + "/bit1.png")
    inter = rng.integers(0, 256, (11, 13)).astype(np.uint8)
    interlaced_grey(d + "/interlaced.png", inter)
    for name in ["grey16", "grey_alpha", "rgb", "rgba", "palette", "bit1", "interlaced"]:
        out[name] = read(d + "/" + name + ".png")
    return out


def main(argv):
    if argv[1] == "read":
        r = read(argv[2])
    elif argv[1] == "readall":
        r = {"files": [read(f, "%s/%d.npy" % (argv[2], i + 1)) for i, f in enumerate(argv[3:])]}
    elif argv[1] == "make":
        r = make(argv[2])
    else:
        raise SystemExit("unknown command " + argv[1])
    print(json.dumps(r))


if __name__ == "__main__":
    main(sys.argv)
