# bench/rows/dicom.sh: DICOM rows for bench/run.sh, which sources it after
# setting ROWS (it uses run.sh's measure, warm, $BIN, $PY, $D and $HERE).
# Input: the 512x512x300 chest phantom as a CT series of 300 files
# (bench/make_dicom.py, pydicom), made once into $D/dicom_ct.

make_dicom_inputs() {
  [ -e "$D/dicom_ct/.complete" ] && return 0
  echo "bench: making the DICOM series in $D/dicom_ct (once)" >&2
  "$PY" -c 'import pydicom' 2>/dev/null || die "$PY needs pydicom (python3-pydicom)"
  rm -rf "$D/dicom_ct"
  "$BIN" -e "vol.phantom.chest{shape={512, 512, 300}, spacing={0.7, 0.7, 1.0}}:write('$D/ct_dicom.npy')"
  "$PY" "$HERE/make_dicom.py" "$D/ct_dicom.npy" "$D/dicom_ct"
  rm -f "$D/ct_dicom.npy"
  touch "$D/dicom_ct/.complete"
}

# medula's vol.read(folder) against the pydicom + numpy stacking recipe
row_dicom_pydicom() {
  make_dicom_inputs
  m() { "$BIN" -e "vol.read('$D/dicom_ct')"; }
  p() { "$PY" "$HERE/dicom_numpy.py" "$D/dicom_ct"; }
  warm "$D"/dicom_ct/IM*
  measure "read DICOM series (pydicom+numpy)" 3
}

# the whole conversion: folder in, uncompressed NIfTI out, against dcm2niix
row_dicom_dcm2niix() {
  make_dicom_inputs
  command -v dcm2niix >/dev/null || die "dcm2niix is missing (Debian package dcm2niix)"
  # both remove their previous output first: deleting a 150 MB file is part of both runs
  # medula's documented DICOM -> NIfTI path: vol.dicom_convert, dcm2niix's array order
  m() { rm -rf "$D/dicom_medula_out" && "$BIN" -e "vol.dicom_convert('$D/dicom_ct', '$D/dicom_medula_out', {format='nii', progress=false})"; }
  p() { rm -rf "$D/dcm2niix_out" && mkdir -p "$D/dcm2niix_out" && dcm2niix -z n -b n -o "$D/dcm2niix_out" "$D/dicom_ct"; }
  warm "$D"/dicom_ct/IM*
  measure "DICOM series -> .nii (dcm2niix)" 1
}

ROWS="${ROWS:-} row_dicom_pydicom row_dicom_dcm2niix"
