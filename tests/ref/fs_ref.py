#!/usr/bin/python3
"""Reference for tests/fs_spec.lua and tests/csv_spec.lua: Python's own view.

  fs_ref.py tree DIR PATTERN...   os.listdir (sorted), a recursive walk (sorted
                                  relative paths), glob.glob(recursive=True) of
                                  each pattern (sorted), hashlib.sha256 and the
                                  size of every file
  fs_ref.py csv FILE              the records as Python's csv module reads them

Output is one JSON object on stdout.
"""
import csv
import glob
import hashlib
import json
import os
import sys


def tree(root, patterns):
    walk = []
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            walk.append(os.path.relpath(os.path.join(d, name), root))
    sums = {}
    for rel in walk:
        p = os.path.join(root, rel)
        if os.path.isfile(p) and not os.path.islink(p):
            with open(p, "rb") as f:
                data = f.read()
            sums[rel] = [hashlib.sha256(data).hexdigest(), len(data)]
    enc = lambda s: sorted(s, key=lambda x: x.encode())
    return {"list": enc(os.listdir(root)), "walk": enc(walk), "sha256": sums,
            "glob": {p: enc(glob.glob(os.path.join(root, p), recursive=True)) for p in patterns}}


def records(path):
    with open(path, newline="", encoding="utf-8") as f:
        return {"records": [r for r in csv.reader(f) if r]}


if __name__ == "__main__":
    if sys.argv[1] == "tree":
        print(json.dumps(tree(sys.argv[2], sys.argv[3:])))
    elif sys.argv[1] == "csv":
        print(json.dumps(records(sys.argv[2])))
    else:
        sys.exit("usage: fs_ref.py tree DIR PATTERN... | csv FILE")
