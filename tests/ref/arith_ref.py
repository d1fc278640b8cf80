"""Reference for arith_spec: statistics and element-wise results computed by
numpy on .npy files medula wrote. Prints JSON."""
import json
import sys

import numpy as np

a = np.load(sys.argv[1]).astype(np.float64)
out = {}
fin = a[np.isfinite(a)]
out["stats"] = {"min": float(fin.min()), "max": float(fin.max()), "mean": float(fin.mean()),
                "std": float(fin.std()), "sum": float(np.sum(fin)), "count": int(fin.size)}
if len(sys.argv) > 2:
    b = np.load(sys.argv[2]).astype(np.float64)
    out["sum_ab"] = float(np.sum(a + b))
    out["gt_count"] = int(np.count_nonzero(a > b))
    out["max_abs_div"] = float(np.max(np.abs(a / np.where(b == 0, 1, b))))
print(json.dumps(out))
