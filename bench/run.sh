#!/bin/sh
# bench/run.sh BIN (make bench): speed of medula against its Python peers on
# the same input, as ratios measured in this one run. Every time is the best
# of 3 whole-process wall times (start-up included) after warming the page
# cache. Each table row is one row_* function below; docs/bench.md explains
# the method. Inputs are made once into build/bench/ and reused.
set -eu

BIN=${1:-build/medula}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
D=${BENCH_DIR:-build/bench}
mkdir -p "$D"
D=$(cd "$D" && pwd)
RUNS=3

die() { echo "bench: $*" >&2; exit 1; }
[ -x "$BIN" ] || die "no executable $BIN (run make first)"
"$PY" -c 'import numpy, nibabel' 2>/dev/null || die "$PY needs numpy and nibabel (python3-numpy python3-nibabel)"

now_ns() { date +%s%N; }

# Best wall time in ns of RUNS runs of the command "$@" (output discarded).
best_ns() {
  best=""
  for _ in $(seq "$RUNS"); do
    t0=$(now_ns)
    "$@" >/dev/null 2>"$D/last.err" || { cat "$D/last.err" >&2; die "command failed: $*"; }
    t1=$(now_ns)
    t=$((t1 - t0))
    if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
  done
  echo "$best"
}

size_of() { wc -c <"$1" | tr -d ' '; }
warm() { for f in "$@"; do cat "$f" >/dev/null; done; }
cat_file() { cat "$1" >/dev/null; }

NOTES=""
note() { NOTES="$NOTES$*
"; }

# measure TASK TARGET [FILE]: times the functions m (medula) and p (peer)
# defined by the row, prints one table line; with FILE, also medula's and
# cat's throughput on it. Sets RATIO for the row's own checks.
measure() {
  task=$1 target=$2 file=${3:-}
  tm=$(best_ns m) tp=$(best_ns p)
  mbs="-" cbs="-"
  if [ -n "$file" ]; then
    bytes=$(size_of "$file") tc=$(best_ns cat_file "$file")
    mbs=$(awk -v b="$bytes" -v t="$tm" 'BEGIN { printf "%.0f", b / 1048576 / (t / 1e9) }')
    cbs=$(awk -v b="$bytes" -v t="$tc" 'BEGIN { printf "%.0f", b / 1048576 / (t / 1e9) }')
  fi
  RATIO=$(awk -v a="$tp" -v b="$tm" 'BEGIN { printf "%.2f", a / b }')
  met=$(awk -v r="$RATIO" -v t="$target" 'BEGIN { print (r >= t) ? "yes" : "no" }')
  [ "${EXTRA_OK:-yes}" = yes ] || met=no
  printf '%-34s %9.3f %9.3f %7s %7s %5s %10s %8s\n' "$task" \
    "$(awk -v t="$tm" 'BEGIN { print t / 1e9 }')" "$(awk -v t="$tp" 'BEGIN { print t / 1e9 }')" \
    "$RATIO" ">=$target" "$met" "$mbs" "$cbs"
  EXTRA_OK=yes
}

# --- inputs: the chest phantom at 512x512x300, written by the peers' tools
make_inputs() {
  [ -e "$D/ct.nii.gz" ] && [ -e "$D/ct.nii" ] && [ -e "$D/ct.mhd" ] && [ -e "$D/ct.raw" ] && return 0
  echo "bench: making inputs in $D (once)" >&2
  "$BIN" -e "vol.phantom.chest{shape={512, 512, 300}, spacing={0.7, 0.7, 1.0}}:write('$D/ct.npy')"
  "$PY" "$HERE/make_inputs.py" "$D/ct.npy" "$D"
  rm -f "$D/ct.npy"
}

# --- rows: each defines m and p, then calls measure
row_read_niigz() {
  m() { "$BIN" -e "vol.read('$D/ct.nii.gz')"; }
  p() { "$PY" -c "import sys, nibabel, numpy as np; np.asanyarray(nibabel.load(sys.argv[1]).dataobj)" "$D/ct.nii.gz"; }
  warm "$D/ct.nii.gz"
  measure "read .nii.gz  (nibabel)" 1.6 "$D/ct.nii.gz"
}

row_write_niigz() {
  m() { "$BIN" -e "vol.read('$D/ct.nii'):write('$D/out_medula.nii.gz')"; }
  p() { "$PY" -c "
import sys, nibabel, numpy as np
img = nibabel.load(sys.argv[1], mmap=False)
a = np.asanyarray(img.dataobj)
nibabel.save(nibabel.Nifti1Image(a, img.affine, img.header), sys.argv[2])" "$D/ct.nii" "$D/out_nibabel.nii.gz"; }
  warm "$D/ct.nii"
  m && p   # make both outputs before comparing sizes
  sm=$(size_of "$D/out_medula.nii.gz") sp=$(size_of "$D/out_nibabel.nii.gz")
  [ "$sm" -le "$sp" ] || EXTRA_OK=no
  measure "write .nii.gz (nibabel, level 1)" 2.5
  note "write .nii.gz sizes: medula $sm bytes, nibabel $sp bytes (target: medula's no larger)"
}

row_read_nii() {
  m() { "$BIN" -e "vol.read('$D/ct.nii')"; }
  p() { "$PY" -c "import sys, nibabel, numpy as np; np.asanyarray(nibabel.load(sys.argv[1], mmap=False).dataobj)" "$D/ct.nii"; }
  warm "$D/ct.nii"
  measure "read .nii     (nibabel, no mmap)" 3 "$D/ct.nii"
}

row_read_mhd() {
  m() { "$BIN" -e "vol.read('$D/ct.mhd')"; }
  p() { "$PY" "$HERE/mhd_numpy.py" "$D/ct.mhd"; }
  warm "$D/ct.mhd" "$D/ct.raw"
  measure "read .mhd/.raw (numpy.fromfile)" 3 "$D/ct.raw"
}

ROWS="row_read_niigz row_write_niigz row_read_nii row_read_mhd"

# Each area adds its rows from bench/rows/<area>.sh (functions + ROWS="$ROWS ...").
for f in "$HERE"/rows/*.sh; do
  [ -e "$f" ] && . "$f"
done

make_inputs
echo "medula bench: 512x512x300 int16 chest phantom ($(size_of "$D/ct.nii") bytes as .nii), $(nproc) cores"
echo "times: best of $RUNS whole-process wall times in seconds; ratio = peer / medula; load average at start: $(cut -d" " -f1-3 /proc/loadavg)"
printf '%-34s %9s %9s %7s %7s %5s %10s %8s\n' task "medula s" "peer s" ratio target "met?" "medula MB/s" "cat MB/s"
for r in ${BENCH_ROWS:-$ROWS}; do "$r"; done
printf "%s" "$NOTES"
rm -f "$D/last.err"
