# bench/rows/metrics.sh: segmentation-metric rows for bench/run.sh (sourced;
# uses measure, warm, note, $BIN, $PY, $D, RUNS). Inputs, made once:
#   lung_truth/lung_pred.npy  512x512x300 lung masks of the chest phantom
#     (0.7x0.7x1 mm): the lung parenchyma, and the same closed with a ball of
#     radius 2 then eroded by a ball of radius 1 (a plausible prediction);
#   rand_a/rand_b.npy  two random 250^3 masks, half the voxels set (every
#     corner a surface element: the hardest case).
# Each row computes every metric of one definition in a whole process with
# 2 threads, against tests/ref/metrics_ref.py (numpy + scipy, the same
# definition, cropped to the union's box as the libraries do).

make_metrics_inputs() {
  [ -e "$D/lung_truth.npy" ] && [ -e "$D/lung_pred.npy" ] && [ -e "$D/rand_a.npy" ] && [ -e "$D/rand_b.npy" ] && return 0
  echo "bench: making the metrics inputs in $D (once)" >&2
  "$BIN" -e "
local ct = vol.phantom.chest{shape={512, 512, 300}, spacing={0.7, 0.7, 1.0}}
local truth = ct:between(-900, -800)
truth:write('$D/lung_truth.npy')
truth:close(vol.strel.ball(2)):erode(vol.strel.ball(1)):write('$D/lung_pred.npy')"
  "$PY" -c "
import numpy as np
rng = np.random.default_rng(250)
for n in 'ab':
    np.save('$D/rand_%s.npy' % n, (rng.random((250, 250, 250)) < 0.5).astype(np.uint8))"
}

# metrics_row TASK TARGET RUNS A B SPACING(x,y,z) DEFINITION
metrics_row() {
  make_metrics_inputs
  task=$1 target=$2 runs=$3 a=$4 b=$5 sp=$6 def=$7
  m() { OMP_NUM_THREADS=2 "$BIN" -e "local m = vol.metrics(vol.read('$D/$a'), vol.read('$D/$b'),
    {spacing={$sp}, definition='$def'})"; }
  p() { OMP_NUM_THREADS=2 "$PY" -c "
import sys, numpy as np
sys.path.insert(0, '$HERE/../tests/ref')
import metrics_ref
sp = tuple(reversed(($sp)))
metrics_ref.metrics(np.load('$D/$a'), np.load('$D/$b'), sp, '$def', 1.0, 95.0)"; }
  warm "$D/$a" "$D/$b"
  # medula: best of RUNS; the peer (tens of seconds): best of runs
  tm=$(best_ns m)
  saved=$RUNS
  RUNS=$runs
  tp=$(best_ns p)
  RUNS=$saved
  RATIO=$(awk -v a="$tp" -v b="$tm" 'BEGIN { printf "%.2f", a / b }')
  met=$(awk -v r="$RATIO" -v t="$target" 'BEGIN { print (r >= t) ? "yes" : "no" }')
  [ "${EXTRA_OK:-yes}" = yes ] || met=no
  printf '%-34s %9.3f %9.3f %7s %7s %5s %10s %8s\n' "$task" \
    "$(awk -v t="$tm" 'BEGIN { print t / 1e9 }')" "$(awk -v t="$tp" 'BEGIN { print t / 1e9 }')" \
    "$RATIO" ">=$target" "$met" "-" "-"
  EXTRA_OK=yes
}

row_metrics_lung() {
  metrics_row "metrics lungs 512x512x300 deepmind" 10 1 lung_pred.npy lung_truth.npy "0.7, 0.7, 1.0" deepmind
}
row_metrics_lung_monai() {
  metrics_row "metrics lungs 512x512x300 monai" 10 1 lung_pred.npy lung_truth.npy "0.7, 0.7, 1.0" monai
}
row_metrics_random() {
  make_metrics_inputs
  rm_() { OMP_NUM_THREADS=2 "$BIN" -e "local m = vol.metrics(vol.read('$D/rand_a.npy'), vol.read('$D/rand_b.npy'))"; }
  t0=$(best_ns rm_)
  [ "$t0" -le 1500000000 ] || EXTRA_OK=no
  metrics_row "metrics random 250^3 deepmind" 1 1 rand_a.npy rand_b.npy "1, 1, 1" deepmind
  note "metrics random 250^3 deepmind: medula $(awk -v t="$t0" 'BEGIN { printf "%.3f", t / 1e9 }') s, whole process (target <= 1.5 s)"
}

ROWS="${ROWS:-} row_metrics_lung row_metrics_lung_monai row_metrics_random"
