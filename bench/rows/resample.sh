# bench/rows/resample.sh: resampling rows for bench/run.sh, which sources it
# after setting ROWS (it uses run.sh's measure, warm, note, $BIN, $PY, $D).
# Input: the 512x512x300 chest phantom as int16 .npy with CT spacing
# 0.7x0.7x1.25 mm, made once into $D/ct_resample.npy. Each row resamples it
# to 1 mm isotropic (358x358x375) in a whole process with 2 threads:
# medula's v:resample{spacing={1, 1, 1}} against scipy.ndimage.zoom of the
# same order and the same output shape. Neither side writes the result, so
# the rows time loading and resampling, not the page cache.

make_resample_input() {
  [ -e "$D/ct_resample.npy" ] && return 0
  echo "bench: making $D/ct_resample.npy (once)" >&2
  "$BIN" -e "vol.phantom.chest{shape={512, 512, 300}, spacing={0.7, 0.7, 1.25}}:write('$D/ct_resample.npy')"
}

# Peak resident memory (MB) of the program run as "$@", from /usr/bin/time.
peak_mb() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1 | awk '{ printf "%.0f", $1 / 1024 }'
  else
    echo "?"
  fi
}

# resample_row INTERP ORDER TARGET
resample_row() {
  make_resample_input
  interp=$1 order=$2 target=$3
  mcode="vol.read('$D/ct_resample.npy'):set_spacing{0.7, 0.7, 1.25}:resample{spacing={1, 1, 1}, interpolation='$interp'}"
  pcode="import numpy as np, scipy.ndimage as ndi
a = np.load('$D/ct_resample.npy')
ndi.zoom(a, (1.25, 0.7, 0.7), order=$order)"
  m() { OMP_NUM_THREADS=2 "$BIN" -e "$mcode"; }
  p() { OMP_NUM_THREADS=2 "$PY" -c "$pcode"; }
  warm "$D/ct_resample.npy"
  saved=$RUNS
  [ "$order" -lt 3 ] || RUNS=1 # scipy's cubic zoom takes tens of seconds
  measure "resample 1 mm $interp (scipy zoom $order)" "$target" "$D/ct_resample.npy"
  RUNS=$saved
  note "resample $interp peak RSS: medula $(peak_mb env OMP_NUM_THREADS=2 "$BIN" -e "$mcode") MB, scipy $(peak_mb env OMP_NUM_THREADS=2 "$PY" -c "$pcode") MB (input 150 MB, output 92 MB int16)"
}

# Nearest against memory speed, in one process and one thread (CPU time
# is wall time then): bytes written per second by v:copy() (a memcpy of
# the input) and by the nearest resampling (a gather into the output).
nearest_vs_memcpy() {
  OMP_NUM_THREADS=1 "$BIN" -e "
local v = vol.read('$D/ct_resample.npy'):set_spacing{0.7, 0.7, 1.25}
local function best(f) local b = math.huge
  for _ = 1, 3 do local t = os.clock(); local r = f(); b = math.min(b, os.clock() - t); r:release() end
  return b end
local tc = best(function() return v:copy() end)
local tn = best(function() return v:resample{spacing={1, 1, 1}, interpolation='nearest'} end)
local out = 358 * 358 * 375 * 2
io.write(('memcpy %.0f MB/s, nearest %.0f MB/s of output (one thread, buffers fresh from the OS)'):format(
  #v * 2 / tc / 1048576, out / tn / 1048576))"
}

row_resample_nearest() {
  resample_row nearest 0 3
  note "resample nearest kernel: $(nearest_vs_memcpy)"
}
row_resample_linear() { resample_row linear 1 5; }
row_resample_cubic() { resample_row cubic 3 8; }

ROWS="${ROWS:-} row_resample_nearest row_resample_linear row_resample_cubic"
