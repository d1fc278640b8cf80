# bench/rows/workflows.sh: whole-workflow rows for bench/run.sh, which
# sources it after setting ROWS (it uses run.sh's measure, warm, note,
# $BIN, $PY, $D and $HERE; peak_mb comes from rows/resample.sh).
# Input: the 512x512x300 chest phantom (0.7 x 0.7 x 1 mm, the table inside
# the image so the tutorial's corner rule finds the lungs) written once by
# v:write_dicom as a CT series of 300 files into $D/lung_ct.

make_lung_input() {
  [ -e "$D/lung_ct/.complete" ] && return 0
  echo "bench: making the lung DICOM series in $D/lung_ct (once)" >&2
  rm -rf "$D/lung_ct"
  "$BIN" -e "vol.phantom.chest{shape={512, 512, 300}, spacing={0.7, 0.7, 1.0}, table='narrow',
    open_dome=true}:write_dicom('$D/lung_ct', {random_names=true, shuffle_instances=true})"
  touch "$D/lung_ct/.complete"
}

# Workflow 1, one scan, DICOM series to .npy: medula's lung_segment with the
# tutorial's choices against bench/lung_recipe.py (pydicom, scipy, skimage).
row_lung_segment() {
  make_lung_input
  "$PY" -c 'import pydicom, skimage' 2>/dev/null || die "$PY needs pydicom and skimage (python3-pydicom python3-skimage)"
  # the tutorial's choices; both sides write image.npy, mask.npy and lungs.npy
  classic="--resample dsb --background corner --keep largest --airways --padding intercept --npy-only"
  # both sides remove their previous output first (the ledger would skip the scan)
  m() { rm -rf "$D/lung_medula" && OMP_NUM_THREADS=2 "$BIN" -s lung_segment "$D/lung_ct" --out "$D/lung_medula" $classic; }
  p() { rm -rf "$D/lung_python" && OMP_NUM_THREADS=2 "$PY" "$HERE/lung_recipe.py" "$D/lung_ct" "$D/lung_python"; }
  warm "$D"/lung_ct/*
  saved=$RUNS
  RUNS=1 # the Python recipe takes tens of seconds
  m >/dev/null 2>&1 && p >/dev/null 2>&1 || die "the lung_segment row failed"
  same=$("$BIN" -e "
local a = vol.read('$D/lung_medula/lung_ct/mask.npy')
local b = vol.read('$D/lung_python/mask.npy')
local ok = table.concat(a.shape, 'x') == table.concat(b.shape, 'x') and a:ne(b):stats().sum == 0
local ia, ib = vol.read('$D/lung_medula/lung_ct/image.npy'), vol.read('$D/lung_python/image.npy')
local d = ok and (ia - ib):abs():stats().max or -1
io.write(ok and ('mask identical, image max |diff| ' .. d) or 'MASKS DIFFER')")
  rm -rf "$D/lung_medula" "$D/lung_python"
  # shellcheck disable=SC2086
  pm=$(peak_mb env OMP_NUM_THREADS=2 "$BIN" -s lung_segment "$D/lung_ct" --out "$D/lung_medula" $classic)
  pp=$(peak_mb env OMP_NUM_THREADS=2 "$PY" "$HERE/lung_recipe.py" "$D/lung_ct" "$D/lung_python")
  [ "$pm" -le 450 ] || EXTRA_OK=no # 3x the 150 MB int16 input
  measure "lung_segment, 1 scan (DSB2017 py)" 15
  RUNS=$saved
  # medula's own defaults (linear 1 mm, the side rule, both lungs, airways out): one run
  rm -rf "$D/lung_defaults"
  t0=$(now_ns)
  OMP_NUM_THREADS=2 "$BIN" -s lung_segment "$D/lung_ct" --out "$D/lung_defaults" --npy-only >/dev/null
  td=$(awk -v a="$(now_ns)" -v b="$t0" 'BEGIN { printf "%.2f", (a - b) / 1e9 }')
  rm -rf "$D/lung_defaults"
  pd=$(peak_mb env OMP_NUM_THREADS=2 "$BIN" -s lung_segment "$D/lung_ct" --out "$D/lung_defaults" --npy-only)
  note "lung_segment with medula's defaults (linear resampling, sides, both lungs, no airways): $td s, peak $pd MB"
  note "lung_segment peak RSS: medula $pm MB, Python $pp MB (input 150 MB int16; target: medula <= 450 MB); $same"
}

ROWS="${ROWS:-} row_lung_segment"
