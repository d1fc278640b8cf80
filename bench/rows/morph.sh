# bench/rows/morph.sh: mask rows for bench/run.sh, which sources it after
# setting ROWS (it uses run.sh's measure, warm, note, $BIN, $PY, $D, RUNS).
# Input: a 512x512x300 uint8 mask of random smooth blobs (about half object,
# a few dozen 26-connected components with many enclosed holes), made once
# into $D/mask.npy by numpy and scipy; its spacing is set to 0.7x0.7x2.5 mm. Each row loads it and runs one operation in a whole process with 2
# threads: medula against scipy.ndimage / scikit-image doing the same with
# the same input. Neither side writes the result.

make_mask_input() {
  [ -e "$D/mask.npy" ] && return 0
  echo "bench: making $D/mask.npy (once)" >&2
  "$PY" -c "
import numpy as np, scipy.ndimage as ndi
rng = np.random.default_rng(1)
a = ndi.gaussian_filter(rng.standard_normal((75, 128, 128)).astype(np.float32), 2)
np.save('$D/mask.npy', (ndi.zoom(a, 4, order=1) > 0).astype(np.uint8))"
}

# mask_row TASK TARGET RUNS MEDULA_EXPR PYTHON_CODE: the expression and code
# receive the loaded mask as m (medula Volume / numpy uint8 array).
mask_row() {
  make_mask_input
  task=$1 target=$2 runs=$3 mexpr=$4 pcode=$5
  m() { OMP_NUM_THREADS=2 "$BIN" -e "local m = vol.read('$D/mask.npy'):set_spacing{0.7, 0.7, 2.5}; local r = $mexpr"; }
  p() { OMP_NUM_THREADS=2 "$PY" -c "import numpy as np, scipy.ndimage as ndi
from skimage import measure, morphology
m = np.load('$D/mask.npy')
$pcode"; }
  warm "$D/mask.npy"
  saved=$RUNS
  RUNS=$runs # the slowest peers take tens of seconds
  measure "$task" "$target" "$D/mask.npy"
  RUNS=$saved
}

row_label() {
  mask_row "label 26-conn (skimage label)" 5 3 "m:label{connectivity=26}" \
    "measure.label(m, connectivity=3)"
}
row_erode_ball2() {
  mask_row "erode ball(2) (scipy)" 5 3 "m:erode(vol.strel.ball(2))" \
    "ndi.binary_erosion(m, morphology.ball(2))"
}
row_dilate_ball2() {
  mask_row "dilate ball(2) (scipy)" 5 3 "m:dilate(vol.strel.ball(2))" \
    "ndi.binary_dilation(m, morphology.ball(2))"
}
row_close_disk10() {
  mask_row "close disk(10)/slice (scipy)" 20 1 "m:close(vol.strel.disk(10), {per_slice=true})" \
    "d = morphology.disk(10)
np.stack([ndi.binary_closing(s, d) for s in m])"
}
row_fill_holes() {
  mask_row "fill holes 3-D (scipy)" 5 3 "m:fill_holes()" \
    "ndi.binary_fill_holes(m)"
}
row_edt() {
  mask_row "EDT 0.7x0.7x2.5 mm (scipy)" 10 1 "m:edt()" \
    "ndi.distance_transform_edt(m, sampling=(2.5, 0.7, 0.7))"
}

ROWS="${ROWS:-} row_label row_erode_ball2 row_dilate_ball2 row_close_disk10 row_fill_holes row_edt"
