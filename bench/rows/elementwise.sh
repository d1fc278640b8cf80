# bench/rows/elementwise.sh: the element-wise block of bench/run.sh, which
# sources it after setting ROWS (it uses run.sh's $BIN, $PY, $D, $HERE, note).
# Input: the 512x512x300 int16 chest phantom as .npy, made once into
# $D/ew_ct.npy. Every time is in-process and the best of EW_RUNS calls:
# medula's vol.clock() around one call on 2 threads, numpy's perf_counter
# around the same expression (bench/elementwise_numpy.py), and memcpy of
# the same traffic on one thread into a buffer already touched
# (bench/rows/elementwise_memcpy.c): an operation that reads R bytes and
# writes W is set beside a memcpy of (R + W) / 2 bytes, which moves R + W.
# Targets: faster than numpy (numpy/medula > 1) and within 2x of memcpy
# (medula/memcpy <= 2), on 2 threads. medula on 1 thread is shown too: on a
# machine busy with other work, a 2-thread call waits for the second core
# and the 1-thread time is the steadier figure. Each call's result is
# released, so the next call of a chain-like loop writes into the kept
# buffer (vol.kept_bytes), as the memcpy writes into touched memory; the
# "fresh" column drops kept buffers before each call (vol.drop_kept), so
# its result goes to new pages the kernel zeroes first.

EW_RUNS=${EW_RUNS:-7}

# name: bytes read and written per voxel, and medula's Lua expression
# (ct: the CT, half: ct // 2 as int16, m, m2: uint8 masks).
EW_OPS="lt:3:ct:lt(-320)
add_number:4:ct + 1
mul_volumes:6:ct * half
where:5:ct:where(m, 0, ct)
band:3:m:band(m2)
clamp:4:ct:clamp(-1000, 400)
stats:2:ct:stats()
stats_mask:3:ct:stats(m)
sub_number:4:ct - 1
div_number:8:f / 3
add_inplace:4:ct:add(1)
min_number:4:ct:min(0)
max_number:4:ct:max(0)
abs:4:ct:abs()
between:3:ct:between(-1000, -400)
bor:3:m:bor(m2)
bxor:3:m:bxor(m2)
bnot:2:m:bnot()
astype_f32:6:ct:astype('float32')
fill:2:ct:fill(0)
log:8:fa:log()
exp:8:g:exp()
sqrt:8:fa:sqrt()
stats_f32:4:f:stats()"

make_elementwise_inputs() {
  [ -e "$D/ew_ct.npy" ] || {
    echo "bench: making $D/ew_ct.npy (once)" >&2
    "$BIN" -e "vol.phantom.chest{shape={512, 512, 300}, spacing={0.7, 0.7, 1.0}}:write('$D/ew_ct.npy')"
  }
  if [ ! -x "$D/elementwise_memcpy" ] || [ "$HERE/rows/elementwise_memcpy.c" -nt "$D/elementwise_memcpy" ]; then
    ${CC:-cc} -std=c11 -O2 -o "$D/elementwise_memcpy" "$HERE/rows/elementwise_memcpy.c" || die "cannot compile the memcpy baseline"
  fi
}

# Lua printing "name seconds" per operation, on THREADS threads ($1); with
# $2 = fresh, every call gets new pages.
elementwise_lua() {
  printf '%s\n' "vol.set_threads($1)
local FRESH = '${2:-}' == 'fresh'
local ct = vol.read('$D/ew_ct.npy')
local half = (ct / 2):astype('int16', {rounding='floor'})
local m, m2 = ct:lt(-320), ct:gt(-1000)
local f = ct:astype('float32')
local fa, g = f:abs():add(1), f * 0.001
local inputs = {[ct] = true, [m] = true, [m2] = true, [f] = true, [fa] = true, [g] = true}
local function best(f)
  local b = math.huge
  for _ = 1, $EW_RUNS do
    collectgarbage()
    if FRESH then vol.drop_kept() end
    local t = vol.clock(); local r = f(); b = math.min(b, vol.clock() - t)
    if type(r) == 'userdata' and not inputs[r] then r:release() end
  end
  return b
end"
  echo "$EW_OPS" | while IFS=: read -r name bytes expr; do
    printf 'print(("%s %%.6f"):format(best(function() return %s end)))\n' "$name" "$expr"
  done
}

row_elementwise() {
  make_elementwise_inputs
  n=$((512 * 512 * 300))
  elementwise_lua 2 >"$D/ew.lua"
  "$BIN" "$D/ew.lua" >"$D/ew_medula.txt" || die "medula element-wise script failed"
  elementwise_lua 1 >"$D/ew1.lua"
  "$BIN" "$D/ew1.lua" >"$D/ew_medula1.txt" || die "medula element-wise script failed"
  elementwise_lua 2 fresh >"$D/ewf.lua"
  "$BIN" "$D/ewf.lua" >"$D/ew_medulaf.txt" || die "medula element-wise script failed"
  "$PY" "$HERE/elementwise_numpy.py" "$D/ew_ct.npy" "$EW_RUNS" >"$D/ew_numpy.txt" || die "numpy element-wise script failed"
  counts=$(echo "$EW_OPS" | while IFS=: read -r name bytes expr; do printf '%s ' $((n * bytes / 2)); done)
  # shellcheck disable=SC2086
  "$D/elementwise_memcpy" "$EW_RUNS" $counts >"$D/ew_memcpy.txt" || true
  echo
  echo "element-wise, in-process (best of $EW_RUNS calls; load average $(cut -d" " -f1-3 /proc/loadavg); ratios for medula on 2 threads: numpy/medula >= 1 and medula/memcpy <= 2)"
  printf '%-12s %-22s %9s %9s %9s %9s %9s %7s %7s %5s\n' op "medula" "2 thr s" "1 thr s" "fresh s" "numpy s" "memcpy s" "np/med" "med/cpy" "met?"
  i=0
  echo "$EW_OPS" | while IFS=: read -r name bytes expr; do
    i=$((i + 1))
    tm=$(awk -v k="$name" '$1 == k { print $2 }' "$D/ew_medula.txt")
    t1=$(awk -v k="$name" '$1 == k { print $2 }' "$D/ew_medula1.txt")
    tf=$(awk -v k="$name" '$1 == k { print $2 }' "$D/ew_medulaf.txt")
    tp=$(awk -v k="$name" '$1 == k { print $2 }' "$D/ew_numpy.txt")
    tc=$(sed -n "${i}p" "$D/ew_memcpy.txt" | awk '{ print $2 }')
    awk -v name="$name" -v e="$expr" -v tm="$tm" -v t1="$t1" -v tf="$tf" -v tp="$tp" -v tc="$tc" 'BEGIN {
      rp = tp / tm; rc = tm / tc
      printf "%-12s %-22s %9.4f %9.4f %9.4f %9.4f %9.4f %7.2f %7.2f %5s\n", name, e, tm, t1, tf, tp, tc, rp, rc,
        (rp >= 1 && rc <= 2) ? "yes" : "no" }'
  done
}

ROWS="${ROWS:-} row_elementwise"
