# bench/rows/patch.sh: patch crop + merge rows for bench/run.sh, which
# sources it after setting ROWS (it uses run.sh's measure, warm, $BIN, $PY,
# $D and $HERE). Input: the 512x512x300 chest phantom as float32 .npy
# (315 MB), made once into $D/patch_ct.npy. Grid: 96^3 patches overlapping
# by 32, 'drop' placement on both sides (the patches the numpy recipe cuts:
# 7x7x4 = 196), merged with equal weights.
#
# Peers:
# - the classic numpy loop (tests/ref/patch_ref.py bench: a list of patch
#   copies, then sum/count in float64), whole process as medula;
# - a memcpy baseline (bench/rows/patch_memcpy.c, compiled here with cc -O2):
#   reads the same .npy, then copies every patch out and back with memcpy,
#   the bytes a crop and a merge move and nothing more. "Within 2x of
#   memcpy" is a ratio >= 0.5.

PATCH_GRID="patch=96, overlap=32, mode='drop'"

make_patch_inputs() {
  [ -e "$D/patch_ct.npy" ] || {
    echo "bench: making $D/patch_ct.npy (once)" >&2
    "$BIN" -e "vol.phantom.chest{shape={512, 512, 300}, spacing={0.7, 0.7, 1.0}}:astype('float32'):write('$D/patch_ct.npy')"
  }
  if [ ! -x "$D/patch_memcpy" ] || [ "$HERE/rows/patch_memcpy.c" -nt "$D/patch_memcpy" ]; then
    ${CC:-cc} -std=c11 -O2 -o "$D/patch_memcpy" "$HERE/rows/patch_memcpy.c" || die "cannot compile the memcpy baseline"
  fi
}

# every patch cropped into one stack, then merged: numpy's own shape of work
row_patch_stack() {
  make_patch_inputs
  m() { "$BIN" -e "local v = vol.read('$D/patch_ct.npy')
    local g = vol.patch_grid{shape=v.shape, $PATCH_GRID}
    g:merge(g:extract(v))"; }
  p() { "$PY" "$HERE/../tests/ref/patch_ref.py" bench "$D/patch_ct.npy" 96,96,96 32,32,32 1; }
  warm "$D/patch_ct.npy"
  measure "crop+merge, stack (numpy loop)" 10
}

# one patch at a time through grid:map, as a model would see them
row_patch_map() {
  make_patch_inputs
  m() { "$BIN" -e "local v = vol.read('$D/patch_ct.npy')
    local g = vol.patch_grid{shape=v.shape, $PATCH_GRID}
    g:map(v, function(p) return p end)"; }
  p() { "$PY" "$HERE/../tests/ref/patch_ref.py" bench "$D/patch_ct.npy" 96,96,96 32,32,32 1; }
  warm "$D/patch_ct.npy"
  measure "crop+merge, map (numpy loop)" 10
}

row_patch_memcpy() {
  make_patch_inputs
  m() { "$BIN" -e "local v = vol.read('$D/patch_ct.npy')
    local g = vol.patch_grid{shape=v.shape, $PATCH_GRID}
    g:map(v, function(p) return p end)"; }
  p() { "$D/patch_memcpy" "$D/patch_ct.npy" 96 32 drop; }
  warm "$D/patch_ct.npy"
  measure "crop+merge, map (memcpy same bytes)" 0.5
}

ROWS="${ROWS:-} row_patch_stack row_patch_map row_patch_memcpy"
