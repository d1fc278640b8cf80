# bench/rows/runner.sh: rows for the case runner (medula -s run), sourced by
# bench/run.sh (it uses measure, note, $BIN, $D, RUNS). Inputs, made once:
# 1,000 scans of 64^3 (int16 spheres) in $D/runner64 and 50 links to one
# 256^3 chest phantom in $D/runner256.
#   overhead: 1,000 cases through the trivial recipe (read, write) with the
#     runner (--jobs 1: a worker process, a fresh one every 100 cases, each
#     case isolated; ledger, SHA-256 of each output)
#     against the same recipe in a loop in one process; the difference per
#     case is the runner's overhead (target: at most 15 ms).
#   scaling: 50 cases of 256^3 through a real recipe (threshold, opening,
#     two largest components, holes filled), --jobs 2 against --jobs 1, one
#     thread per worker (target: at least 1.9 times faster).

make_runner_inputs() {
  [ -e "$D/runner64/.complete" ] && [ -e "$D/runner256/.complete" ] && return 0
  echo "bench: making the runner inputs in $D/runner64 and $D/runner256 (once)" >&2
  rm -rf "$D/runner64" "$D/runner256"
  mkdir -p "$D/runner64" "$D/runner256"
  "$BIN" -e "for i = 1, 1000 do
    vol.phantom.sphere{shape={64, 64, 64}, radius_mm=8 + i % 20, dtype='int16', value=i}:write(('$D/runner64/s%04d.nii.gz'):format(i))
  end"
  "$BIN" -e "vol.phantom.chest{shape={256, 256, 256}}:write('$D/runner256/ct.nii.gz')"
  for i in $(seq -w 1 50); do ln -s ct.nii.gz "$D/runner256/case$i.nii.gz"; done
  touch "$D/runner64/.complete" "$D/runner256/.complete"
}

# CPU seconds (user + system, children included) of the shell function $1.
cpu_s() {
  ( "$1" >/dev/null 2>&1; times ) | awk 'NR == 2 {
    split($1, u, "m"); split($2, s, "m"); sub("s", "", u[2]); sub("s", "", s[2])
    printf "%.2f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }'
}

row_runner_overhead() {
  make_runner_inputs
  recipe=$HERE/runner_recipe.lua
  m() { rm -rf "$D/run_out"; "$BIN" -s run "$recipe" "$D/runner64" "$D/run_out" --pattern 's*.nii.gz' --jobs 1 --threads 1; }
  p() { rm -rf "$D/loop_out"; OMP_NUM_THREADS=1 "$BIN" -e "
    local recipe = dofile('$recipe')
    for _, path in ipairs(vol.fs.glob('$D/runner64/s*.nii.gz')) do
      local dir = '$D/loop_out/' .. vol.fs.stem(path)
      vol.fs.mkdir(dir)
      recipe({id = vol.fs.stem(path), path = path}, {path = function(_, name) return dir .. '/' .. name end}, {})
    end"; }
  warm "$D"/runner64/s*.nii.gz
  saved=$RUNS
  RUNS=1
  tm=$(best_ns m) tp=$(best_ns p)
  RUNS=$saved
  per=$(awk -v a="$tm" -v b="$tp" 'BEGIN { printf "%.1f", (a - b) / 1000 / 1e6 }')
  ok=$(awk -v x="$per" 'BEGIN { print (x <= 15) ? "yes" : "no" }')
  printf '%-34s %9.3f %9.3f %7s %7s %5s %10s %8s\n' "runner overhead/case, 1000 x 64^3" \
    "$(awk -v t="$tm" 'BEGIN { print t / 1e9 }')" "$(awk -v t="$tp" 'BEGIN { print t / 1e9 }')" \
    "${per}ms" "<=15ms" "$ok" "-" "-"
  note "runner overhead: 1000 cases in $(awk -v t="$tm" 'BEGIN { printf "%.1f", t / 1e9 }') s with --jobs 1 against $(awk -v t="$tp" 'BEGIN { printf "%.1f", t / 1e9 }') s in one process: ${per} ms per case (handing the case to a worker, staging folder, SHA-256 of the output, renames, ledger row)"
  # CPU seconds too (user + system of the processes): on a loaded machine
  # the wall time stretches with the queue for the cores, CPU time much less
  cm=$(cpu_s m) cp=$(cpu_s p)
  note "runner overhead in CPU time: $cm s against $cp s, $(awk -v a="$cm" -v b="$cp" 'BEGIN { printf "%.1f", (a - b) }') ms per case"
}

row_runner_scaling() {
  make_runner_inputs
  recipe=$HERE/runner_recipe.lua
  m() { rm -rf "$D/run256_2"; "$BIN" -s run "$recipe" "$D/runner256" "$D/run256_2" --pattern 'case*.nii.gz' --param kind=lungs --jobs 2 --threads 1; }
  p() { rm -rf "$D/run256_1"; "$BIN" -s run "$recipe" "$D/runner256" "$D/run256_1" --pattern 'case*.nii.gz' --param kind=lungs --jobs 1 --threads 1; }
  warm "$D/runner256/ct.nii.gz"
  measure "runner 50 x 256^3, 2 jobs vs 1" 1.9 # best of RUNS: one run of each is too noisy
  cmp -s "$D/run256_1/case01/lungs.nii.gz" "$D/run256_2/case50/lungs.nii.gz" || note "runner scaling: outputs of the two runs differ"
  # CPU seconds of both runs: close to each other when two workers add no
  # work (no lock, no spinning); on a loaded machine the wall ratio drops
  # with the share of the cores the other processes take, this much less
  cm=$(cpu_s m) cp=$(cpu_s p)
  note "runner scaling in CPU time: $cm s with 2 jobs against $cp s with 1 ($(awk -v a="$cm" -v b="$cp" 'BEGIN { printf "%.2f", a / b }') times)"
  # The machine's own ceiling: two independent one-thread medula processes
  # doing the same work side by side against one after the other. No runner
  # can scale better than this.
  printf '%s\n' "vol.set_threads(1)" "local v = vol.phantom.chest{shape={256, 256, 120}}" \
    "for _ = 1, 12 do v:gaussian{sigma_mm=1.5}:release() end" >"$D/ceiling.lua"
  two_seq() { "$BIN" "$D/ceiling.lua" && "$BIN" "$D/ceiling.lua"; }
  two_par() { "$BIN" "$D/ceiling.lua" & "$BIN" "$D/ceiling.lua" && wait $!; } # wait $!: the background one's status too
  ts=$(best_ns two_seq) tpar=$(best_ns two_par)
  note "runner scaling ceiling of this machine: two independent 1-thread processes side by side are $(awk -v a="$ts" -v b="$tpar" 'BEGIN { printf "%.2f", a / b }') times faster than one after the other"
}

ROWS="$ROWS row_runner_overhead row_runner_scaling"
