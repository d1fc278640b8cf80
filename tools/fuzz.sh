#!/bin/sh
# make fuzz: builds the fuzz targets (tools/fuzz.mk), gives each a seed
# corpus made from the real sample files and small files medula writes,
# runs each for FUZZ_SECONDS (or FUZZ_RUNS executions) and prints one line
# per target with the executions done (with both, whichever ends first). Crashes are saved as
# build/fuzz/crash-<target>-*; the run fails when there is one.
#   sh tools/fuzz.sh BUILD_DIR DATA_DIR SECONDS [RUNS] [TARGET...]
# FUZZ_MAX_LEN (default 16384) bounds the size of generated inputs.
# FUZZ_JOBS=N (default 1) runs N processes of each target on its corpus,
# each with RUNS/N executions; the line printed sums their executions.
set -eu
build=$1 data=$2 seconds=$3 runs=${4:-0}
shift 4 2>/dev/null || shift $#
fz=$build/fuzz
make --no-print-directory -f tools/fuzz.mk FZ="$fz" -j2 >/dev/null
fz=$(cd "$fz" && pwd)
targets=${*:-$(ls tests/fuzz/fuzz_*.c | sed 's|tests/fuzz/fuzz_||; s|\.c$||')}
seeds=$fz/seeds.$$
rm -rf "$seeds"
mkdir -p "$seeds"
trap 'rm -rf "$seeds"' EXIT

# Small files of every dtype written by medula itself.
"$build/medula" - "$seeds" <<'LUA'
local dir = arg[1]
for _, t in ipairs{"uint8", "int16", "uint16", "int32", "float32", "float64"} do
  local v = vol.new{shape = {5, 4, 3}, dtype = t, spacing = {0.5, 1, 2}, origin = {1, 2, 3}}
  for i = 1, 5 do v:set(i, 2, 2, i * 3) end
  for _, s in ipairs{".nii", ".nii.gz", ".hdr", ".mha", ".npy"} do v:write(dir .. "/medula_" .. t .. s) end
  if t == "uint8" or t == "uint16" then
    vol.new{shape = {6, 5}, dtype = t}:write(dir .. "/medula_" .. t .. ".png")
  end
end
LUA

corpus() { # target name, then the seed files
  c=$fz/corpus/$1
  shift
  mkdir -p "$c"
  for f in "$@"; do
    [ -f "$f" ] || continue
    head -c 65536 "$f" > "$c/$(echo "$f" | tr '/ ' '__')"
  done
}
small() { find "$@" -type f -size -65k 2>/dev/null | sort; }

for t in $targets; do
  case $t in
  nifti) corpus nifti $(small "$data/nifti" "$data/labels" -name '*.nii*') "$seeds"/*.nii "$seeds"/*.nii.gz "$seeds"/*.hdr
         for f in "$seeds"/*.hdr; do cat "$f" "${f%.hdr}.img" > "$fz/corpus/nifti/pair_$(basename "$f")"; done
         for f in "$data"/nifti/*.nii; do head -c 4096 "$f" > "$fz/corpus/nifti/head_$(basename "$f")"; done ;;
  metaimage) corpus metaimage $(small "$data/metaimage" -name '*.mha') "$seeds"/*.mha
         for h in "$data"/metaimage/*.mhd; do
           d=$(sed -n 's/^ElementDataFile *= *//p' "$h" | tr -d '\r')
           [ -f "$data/metaimage/$d" ] || continue
           { sed "s/^ElementDataFile *=.*/ElementDataFile = d.${d##*.}/" "$h"; printf -- '\n--DATA--\n'; head -c 32768 "$data/metaimage/$d"; } \
             > "$fz/corpus/metaimage/$(basename "$h")"
         done ;;
  dicom) corpus dicom $(small "$data/dicom") ;;
  npy) corpus npy "$seeds"/*.npy
       for f in "$data"/npy/*.npy; do head -c 2048 "$f" > "$fz/corpus/npy/head_$(basename "$f")"; done ;;
  png) corpus png $(small "$data/png") "$seeds"/*.png ;;
  gz|deflate_walk) corpus "$t" $(small "$data" -name '*.gz') $(small "$data" -name '*.zraw') "$seeds"/*.nii.gz ;;
  csv) corpus csv $(small "$data" -name '*.csv') # the first byte picks the separator (',' is ',')
       printf ',seriesuid,coordX,coordY,coordZ,diameter_mm\n1.3.6.1.4,-128.69,-175.31,-298.38,5.65\n' > "$fz/corpus/csv/annotations"
       printf ',a,"b,c","d""e"\r\n"two\nlines",,x\n\n""\n' > "$fz/corpus/csv/quoted"
       printf ';\357\273\277id;x\r\n1;2\r\n' > "$fz/corpus/csv/bom" ;;
  read) corpus read "$seeds"/*.nii "$seeds"/*.npy "$seeds"/*.png $(small "$data/dicom/single") $(small "$data" -name '*.gz') ;;
  *) mkdir -p "$fz/corpus/$t" ;;
  esac
done

# Inputs that once failed (tests/data/fuzz/<target>-*) stay in the corpora.
for f in tests/data/fuzz/*; do
  [ -f "$f" ] || continue
  t=${f##*/}
  t=${t%%-*}
  [ -d "$fz/corpus/$t" ] && cp "$f" "$fz/corpus/$t/"
done

status=0
jobs=${FUZZ_JOBS:-1}
for t in $targets; do
  log=$fz/fuzz_$t.log
  limit=""
  [ "$seconds" -gt 0 ] && limit="-max_total_time=$seconds"
  [ "$runs" -gt 0 ] && limit="$limit -runs=$(( (runs + jobs - 1) / jobs ))"
  set -- "$fz/fuzz_$t" $limit -max_len="${FUZZ_MAX_LEN:-16384}" -timeout=60 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$fz/crash-$t-"
  # -rss_limit_mb: one input must not make a reader take more than this
  if [ "$jobs" -gt 1 ]; then
    # libFuzzer's jobs share the corpus folder and write fuzz-<job>.log
    rm -f "$fz"/fuzz-[0-9]*.log
    if (cd "$fz" && nice -n 19 "$@" -jobs="$jobs" -workers="$jobs" "corpus/$t") >"$log" 2>&1 &&
       ! grep -qE '^==[0-9]+== ?ERROR|SUMMARY: (Address|Leak|Undefined)' "$fz"/fuzz-[0-9]*.log; then
      result=ok
    else
      result="FAILED (see $fz/fuzz-*.log)"
      status=1
    fi
    cat "$fz"/fuzz-[0-9]*.log >> "$log"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$fz"/fuzz-[0-9]*.log | awk '{s += $1} END {print s}')
    secs=$(grep -ho 'Done [0-9]* runs in [0-9]* second' "$fz"/fuzz-[0-9]*.log | awk '$5 > m {m = $5} END {print m}')
  else
    if nice -n 19 "$@" "$fz/corpus/$t" >"$log" 2>&1; then
      result=ok
    else
      result="FAILED (see $log)"
      status=1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1 | awk '{print $5}')
  fi
  printf '%-14s %12s executions %6s s  %s\n' "$t" "${execs:-?}" "${secs:-?}" "$result"
done
exit $status
