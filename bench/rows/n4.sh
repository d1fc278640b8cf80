# bench/rows/n4.sh: N4 bias-field correction rows for bench/run.sh, which
# sources it after setting ROWS (it uses run.sh's measure, warm, note, $BIN,
# $D, RUNS). Peer: ITK's N4BiasFieldCorrectionImageFilter through the small
# C++ program tests/ref/n4_itk.cxx (built on demand into build/; needs
# libinsighttoolkit5-dev). Both sides read the same .nii.gz, take the Otsu
# mask (200 bins), shrink by 3, run {20,10,10,5} iterations, and evaluate
# the field and the corrected image at full resolution; neither writes them.
# Inputs: the real T1 ch2 (181x217x181 uint8) from the sample data, and the
# same brain resampled to 256x256x192 (cubic, stored as int16 as scanners store T1s), made once in $D.

n4_find_ch2() {
  for d in "$HERE/../../shared/data" "${MEDULA_SAMPLES:-}" "$HERE/../build/samples"; do
    [ -n "$d" ] && [ -e "$d/nifti/ch2.nii.gz" ] && { echo "$d/nifti/ch2.nii.gz"; return 0; }
  done
  die "n4 rows need nifti/ch2.nii.gz from the sample data (make samples)"
}

n4_prepare() {
  [ -n "${N4_ITK:-}" ] && return 0
  N4_ITK=$(sh "$HERE/../tests/ref/build_n4_itk.sh" "$(dirname "$BIN")") || die "cannot build the ITK N4 reference"
  N4_CH2=$(n4_find_ch2)
  if [ ! -e "$D/t1_256.nii.gz" ]; then
    echo "bench: making $D/t1_256.nii.gz (once)" >&2
    "$BIN" -e "vol.read('$N4_CH2'):astype('float32'):resample{shape={256, 256, 192}, interpolation='cubic'}:clamp(0, 1e9):astype('int16'):write('$D/t1_256.nii.gz')"
  fi
}

# n4_row LABEL FILE THREADS TARGET
n4_row() {
  n4_prepare
  label=$1 file=$2 threads=$3 target=$4
  mcode="local c, b = vol.read('$file'):n4{mask='otsu', shrink=3, iterations={20, 10, 10, 5}}"
  m() { OMP_NUM_THREADS=$threads "$BIN" -e "$mcode"; }
  p() { "$N4_ITK" "$file" otsu 3 20,10,10,5 "$threads" -; }
  warm "$file"
  saved=$RUNS
  RUNS=1 # ITK takes seconds per run
  measure "n4 $label ${threads}T (ITK N4)" "$target" "$file"
  RUNS=$saved
}

n4_peak() {
  file=$1 what=$2
  mb=$(/usr/bin/time -f %M env OMP_NUM_THREADS=2 "$BIN" -e \
    "local c, b = vol.read('$file'):n4{mask='otsu', shrink=3, iterations={20, 10, 10, 5}}" 2>&1 >/dev/null |
    tail -n 1 | awk '{ printf "%.0f", $1 / 1024 }')
  vox=$("$BIN" -e "local v = vol.read('$file'); print(#v)")
  lim=$(awk -v n="$vox" 'BEGIN { printf "%.0f", 3 * 4 * n / 1048576 }')
  note "n4 $what peak RSS: medula $mb MB (target: <= 3 x float32 input = $lim MB)"
}

row_n4_ch2_1() { n4_row "ch2 181x217x181" "$(n4_find_ch2)" 1 5; }
row_n4_ch2_2() { n4_row "ch2 181x217x181" "$(n4_find_ch2)" 2 8; n4_peak "$(n4_find_ch2)" ch2; }
row_n4_256_1() { n4_prepare; n4_row "T1 256x256x192" "$D/t1_256.nii.gz" 1 5; }
row_n4_256_2() { n4_prepare; n4_row "T1 256x256x192" "$D/t1_256.nii.gz" 2 8; n4_peak "$D/t1_256.nii.gz" 256x256x192; }

ROWS="${ROWS:-} row_n4_ch2_1 row_n4_ch2_2 row_n4_256_1 row_n4_256_2"
