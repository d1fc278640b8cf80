# bench/rows/intensity.sh: value statistics and CLAHE rows for bench/run.sh,
# which sources it after setting ROWS (it uses run.sh's measure, warm, note,
# $BIN, $PY, $D, RUNS, and make_filter_inputs from rows/filter.sh).
# Input: the 512x512x300 int16 chest phantom ($D/ct16.npy).
#
# Statistics against memcpy: one process reads the volume and runs the
# statistic 5 times; the baseline process reads it and copies it 5 times
# (v:copy(), a memcpy into a fresh buffer). "Within 2x of memcpy" is a ratio
# >= 0.5. A note gives numpy's in-process time for the same statistic.
# CLAHE: the whole 3-D volume, medula against skimage's equalize_adapthist
# with its defaults (kernel 1/8 of each side, clip 0.01, 256 bins).

stat_row() {
  make_filter_inputs
  task=$1 expr=$2 npexpr=$3
  m() { OMP_NUM_THREADS=2 "$BIN" -e "local v = vol.read('$D/ct16.npy'); for _ = 1, 5 do local r = $expr end"; }
  p() { OMP_NUM_THREADS=2 "$BIN" -e "local v = vol.read('$D/ct16.npy'); for _ = 1, 5 do local r = v:copy() end"; }
  warm "$D/ct16.npy"
  measure "$task x5 (memcpy x5)" 0.5 "$D/ct16.npy"
  npt=$("$PY" -c "import numpy as np, time
a = np.load('$D/ct16.npy')
t = time.perf_counter()
for _ in range(5): $npexpr
print('%.3f' % (time.perf_counter() - t))")
  note "$task: numpy in-process x5 $npt s (whole medula process above, read included)"
}

row_histogram() {
  stat_row "histogram 80 bins" "v:histogram{bins=80, range={-1000, 600}}" "np.histogram(a, 80, range=(-1000, 600))"
}
row_percentile() {
  stat_row "percentile 0.5/50/99.5" "v:percentile{q={0.5, 50, 99.5}}" "np.percentile(a, [0.5, 50, 99.5])"
}
row_unique() {
  stat_row "unique with counts" "v:unique{counts=true}" "np.unique(a, return_counts=True)"
}

row_clahe3d() {
  make_filter_inputs
  m() { OMP_NUM_THREADS=2 "$BIN" -e "local v = vol.read('$D/ct16.npy'); local r = v:clahe()"; }
  p() { OMP_NUM_THREADS=2 "$PY" -c "import numpy as np
from skimage import exposure
a = np.load('$D/ct16.npy')
exposure.equalize_adapthist(a)"; }
  warm "$D/ct16.npy"
  saved=$RUNS
  RUNS=1 # skimage takes minutes on the whole volume
  measure "CLAHE 3-D (skimage)" 30 "$D/ct16.npy"
  RUNS=$saved
}

ROWS="${ROWS:-} row_histogram row_percentile row_unique row_clahe3d"
