# bench/rows/filter.sh: filter rows for bench/run.sh, which sources it after
# setting ROWS (it uses run.sh's measure, warm, note, $BIN, $PY, $D, RUNS).
# Inputs: the 512x512x300 chest phantom (0.7x0.7x1.0 mm) as int16 and as
# float32 .npy, made once into $D. Each row loads the input and filters it in
# a whole process with 2 threads, medula against scipy.ndimage doing the same
# on the same array. Neither side writes the result.

make_filter_inputs() {
  [ -e "$D/ct16.npy" ] || {
    echo "bench: making $D/ct16.npy and $D/ctf.npy (once)" >&2
    "$BIN" -e "vol.phantom.chest{shape={512, 512, 300}, spacing={0.7, 0.7, 1.0}}:write('$D/ct16.npy')"
  }
  [ -e "$D/ctf.npy" ] || "$BIN" -e "vol.read('$D/ct16.npy'):astype('float32'):write('$D/ctf.npy')"
}

row_gaussian() {
  make_filter_inputs
  m() { OMP_NUM_THREADS=2 "$BIN" -e "local v = vol.read('$D/ctf.npy'):set_spacing{0.7, 0.7, 1.0}
    local g = v:gaussian{sigma_mm=2}"; }
  p() { OMP_NUM_THREADS=2 "$PY" -c "import numpy as np, scipy.ndimage as ndi
a = np.load('$D/ctf.npy')
ndi.gaussian_filter(a, (2 / 1.0, 2 / 0.7, 2 / 0.7))"; }
  warm "$D/ctf.npy"
  measure "gaussian 2 mm float32 (scipy)" 8 "$D/ctf.npy"
}

row_median_r1() {
  make_filter_inputs
  m() { OMP_NUM_THREADS=2 "$BIN" -e "local v = vol.read('$D/ct16.npy'); local r = v:median{radius_vox=1}"; }
  p() { OMP_NUM_THREADS=2 "$PY" -c "import numpy as np, scipy.ndimage as ndi
a = np.load('$D/ct16.npy')
ndi.median_filter(a, size=3)"; }
  warm "$D/ct16.npy"
  saved=$RUNS
  RUNS=1 # scipy's median takes tens of seconds
  measure "median r1 3x3x3 int16 (scipy)" 10 "$D/ct16.npy"
  RUNS=$saved
}

ROWS="${ROWS:-} row_gaussian row_median_r1"
