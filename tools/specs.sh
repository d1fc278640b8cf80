#!/bin/sh
# make test: runs every spec file once per build given (the release binary
# and the sanitizer one), two spec files at a time, and prints one line per
# file and the totals. Exits 1 when a spec failed.
#   sh tools/specs.sh LOGDIR NAME=BINARY [NAME=BINARY...]
# (SPEC_FILES picks spec files, SPEC_LANES the number run at a time.)
# Each busted run is one spec file under one binary, its output kept in
# LOGDIR/NAME/<spec>.log (printed in full when it fails).
# - The runs of one spec file under two binaries never overlap (a lock per
#   file): some specs write fixed paths in build/.
# - The specs that drive a local SLURM cluster, kill runners or time
#   retries (SERIAL below) run after the others, one at a time.
# - OMP_WAIT_POLICY=passive: with two runs sharing the cores, OpenMP's
#   spinning threads would take turns from the other run (results do not
#   depend on it).
set -u

# One job: NAME=BINARY@SPEC. Prints its line and appends
# "status seconds name spec counts" to LOGDIR/results.
if [ "${1:-}" = --one ]; then
  logdir=$2 job=$3
  name=${job%%=*} rest=${job#*=}
  bin=${rest%@*} spec=${rest##*@}
  base=$(basename "$spec" .lua)
  log=$logdir/$name/$base.log
  start=$(date +%s)
  if flock "$logdir/locks/$base" busted --lua="$bin" "$spec" >"$log" 2>&1; then st=ok; else st=FAILED; fi
  secs=$(($(date +%s) - start))
  counts=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -Eo '[0-9]+ success(es)? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending' | tail -1)
  [ -n "$counts" ] || { st=FAILED; counts="no summary"; }
  printf '%-6s %4ss  %-7s %-34s %s\n' "$st" "$secs" "$name" "$spec" "$counts"
  printf '%s %s %s %s %s\n' "$st" "$secs" "$name" "$spec" "$counts" >>"$logdir/results"
  exit 0
fi

logdir=$1
shift
SERIAL="tests/runner_engines_spec.lua tests/runner_kill_spec.lua tests/runner_spec.lua"
LANES=${SPEC_LANES:-2}
export OMP_WAIT_POLICY=passive
mkdir -p "$logdir/locks"
rm -f "$logdir"/results

# Spec files, largest first: the long ones start early and the lanes end
# together. SPEC_FILES="tests/a_spec.lua ..." runs those only.
specs=${SPEC_FILES:-$(ls -S tests/*_spec.lua)}
parallel_jobs= serial_jobs=
for b in "$@"; do
  name=${b%%=*}
  mkdir -p "$logdir/$name"
  for s in $specs; do
    case " $SERIAL " in
    *" $s "*) serial_jobs="$serial_jobs $name=${b#*=}@$s" ;;
    *) parallel_jobs="$parallel_jobs $name=${b#*=}@$s" ;;
    esac
  done
done

printf '%s\n' $parallel_jobs | xargs -P "$LANES" -I{} sh "$0" --one "$logdir" {}
for j in $serial_jobs; do sh "$0" --one "$logdir" "$j"; done

awk '{ s += $5; f += $8; e += $11; p += $14; if ($1 != "ok") bad++ }
     END { printf "\n%d successes / %d failures / %d errors / %d pending in %d spec runs (%d failed)\n", s, f, e, p, NR, bad }' \
  "$logdir/results"
status=0
while read -r st secs name spec rest; do
  [ "$st" = ok ] && continue
  status=1
  echo
  echo "=== $name $spec ($rest): $logdir/$name/$(basename "$spec" .lua).log"
  tail -n 60 "$logdir/$name/$(basename "$spec" .lua).log"
done <"$logdir/results"
exit $status
