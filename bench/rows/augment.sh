# bench/rows/augment.sh: augmentation rows for bench/run.sh (sourced; uses its
# measure, note, $BIN, $PY, $D). Input: a 128^3 float32 image (a smooth
# ball) and its uint8 label, made in each process. medula draws N random
# rotation + scaling + elastic + gamma + noise augmentations (vol.augment,
# one fused warp of image and label each); the peer computes the same kind
# of single mapping with numpy (affine + a cubic B-spline displacement on a
# 7^3 lattice, as tests/ref/augment_ref.py) and resamples image (order 1)
# and label (order 0) with scipy.ndimage.map_coordinates, N times. Both on 2
# threads; patches per second come from the wall time less the time of the
# same process with N = 0.

AUG_N=10

aug_medula_code() {
  cat <<LUA
local n = $1
local lab = vol.phantom.sphere{shape={128, 128, 128}, radius_mm=40}
local img = lab:astype("float32") * 100
local aug = vol.augment{{"rotate", degrees={-15, 15}}, {"scale", range={0.85, 1.25}},
  {"elastic", control_points=7, magnitude_mm=5}, {"gamma", range={0.7, 1.5}}, {"noise", std={0, 5}}}
for case = 1, n do local x, y = aug:apply(img, lab, {seed=1, case=case}); x:release(); y:release() end
LUA
}

aug_python_code() {
  cat <<PY
import numpy as np, scipy.ndimage as ndi
n = $1
z, y, x = np.mgrid[0:128, 0:128, 0:128]
lab = (((x - 63.5) ** 2 + (y - 63.5) ** 2 + (z - 63.5) ** 2) <= 40 ** 2).astype(np.uint8)
img = lab.astype(np.float32) * 100
def basis(nn, K):
    B = np.zeros((nn, K))
    for o in range(nn):
        u = o * (K - 3) / (nn - 1); j = min(max(int(np.floor(u)), 0), K - 4); t = u - j; s = 1 - t
        B[o, j:j + 4] = [s ** 3 / 6, (3 * t ** 3 - 6 * t ** 2 + 4) / 6, (-3 * t ** 3 + 3 * t ** 2 + 3 * t + 1) / 6, t ** 3 / 6]
    return B
B = basis(128, 7)
rng = np.random.default_rng(1)
for case in range(n):
    a = np.deg2rad(rng.uniform(-15, 15, 3)); f = rng.uniform(0.85, 1.25)
    R = np.eye(3)
    for i, ang in enumerate(a):
        c, s = np.cos(ang), np.sin(ang); r = np.eye(3); j, k = [(1, 2), (0, 2), (0, 1)][i]
        r[j, j], r[j, k], r[k, j], r[k, k] = c, -s, s, c; R = R @ r
    M = R / f
    d = rng.uniform(-5, 5, (3, 7, 7, 7))
    coords = np.einsum("ab,bzyx->azyx", M, np.array([z, y, x], dtype=np.float64) - 63.5) + 63.5
    for c in range(3):
        coords[c] += np.einsum("zk,yj,xi,kji->zyx", B, B, B, d[c])
    out = ndi.map_coordinates(img, coords, order=1)
    out_lab = ndi.map_coordinates(lab, coords, order=0)
PY
}

row_augment() {
  mc=$(aug_medula_code $AUG_N) m0c=$(aug_medula_code 0) pc=$(aug_python_code $AUG_N)
  m() { OMP_NUM_THREADS=2 "$BIN" -e "$mc"; }
  p() { OMP_NUM_THREADS=2 "$PY" -c "$pc"; }
  m0() { OMP_NUM_THREADS=2 "$BIN" -e "$m0c"; }
  measure "augment 128^3 x$AUG_N (map_coordinates)" 5
  t0=$(best_ns m0) t1=$(best_ns m)
  note "augment: $(awk -v a="$t1" -v b="$t0" -v n="$AUG_N" 'BEGIN { printf "%.1f", n / ((a - b) / 1e9) }') patches/s of 128^3 image + label (rotation, scaling, elastic, gamma, noise; target >= 30)"
}

ROWS="$ROWS row_augment"
