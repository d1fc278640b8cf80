#!/usr/bin/python3
"""Reference for tests/dicom_dict_spec.lua: the keywords pydicom gives the
top-level attributes of a DICOM file (group 2 included), with their tags.

  dicom_keywords_ref.py FILE   -> {"KEYWORD": "GGGG,EEEE", ...}
"""
import json
import sys

import pydicom


def main(path):
    ds = pydicom.dcmread(path)
    out = {}
    for elem in list(ds.file_meta) + list(ds):
        if elem.keyword and elem.tag.element != 0:
            out[elem.keyword] = "%04X,%04X" % (elem.tag.group, elem.tag.element)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
