#!/usr/bin/python3
"""Writes src/io/dicom_dict.tsv, the DICOM PS3.6 data dictionary medula's
table is generated from (tools/gen_dicom_dict.lua), from the copy of the
standard's data that Debian's python3-pydicom ships. Run again when the
standard (that package) moves on; the private entries at the end are ours.

Columns: tag (GGGGEEEE, x for the digits a repeating group varies), VR as
the standard gives it ("US or SS" ...), VM, keyword, "retired" or "".
"""
import sys

from pydicom._dicom_dict import DicomDictionary, RepeatersDictionary

# Vendor attributes the reader interprets (not in PS3.6).
PRIVATE = [("0019100A", "US", "1", "NumberOfImagesInMosaic", "private")]


def rows():
    for tag, (vr, vm, _name, retired, keyword) in sorted(DicomDictionary.items()):
        if vr == "NONE" or not keyword:  # item delimiters: the parser's own
            continue
        yield "%08X" % tag, vr, vm, keyword, "retired" if retired else ""
    for mask, (vr, vm, _name, retired, keyword) in sorted(RepeatersDictionary.items()):
        if keyword:
            yield mask.upper().replace("X", "x"), vr, vm, keyword, "retired" if retired else ""
    yield from PRIVATE


def main(path):
    with open(path, "w") as f:
        f.write("# DICOM PS3.6 data dictionary: tag\tVR\tVM\tkeyword\tstatus\n")
        for r in rows():
            f.write("\t".join(r) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "src/io/dicom_dict.tsv")
