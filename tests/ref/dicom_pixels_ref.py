"""pydicom's pixel_array of one DICOM file, as JSON: shape, dtype and every
value in C order (the array's own axes, [frame,]row,col[,sample]).
Usage: dicom_pixels_ref.py FILE"""
import json
import sys

import pydicom

ds = pydicom.dcmread(sys.argv[1])
a = ds.pixel_array
print(json.dumps({"shape": list(a.shape), "dtype": str(a.dtype),
                  "values": [int(x) for x in a.ravel(order="C")],
                  "photometric": str(ds.PhotometricInterpretation)}))
