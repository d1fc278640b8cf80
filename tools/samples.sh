#!/bin/sh
# tools/samples.sh [DEST]  (make samples): rebuilds the real sample files of
# ../shared/data from the Debian packages they come from, in the same layout,
# under DEST (default build/samples). Packages are fetched with `apt-get
# download` (no root needed) into DEST/.debs and unpacked there with
# `dpkg -x` while needed; nothing is installed. Files already in DEST are
# kept, so a second run only checks. The origin of every file is in
# docs/choices.md, section "samples".
set -eu

DEST=${1:-build/samples}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
DEBS=$DEST/.debs

die() { echo "samples: $*" >&2; exit 1; }

# pkg | path inside the package | path under DEST. A trailing / copies a folder.
ITK=usr/share/doc/insighttoolkit5-examples/examples/Data
NIB=usr/lib/python3/dist-packages/nibabel
DIPY=usr/lib/python3/dist-packages/dipy/data/files
PYD=usr/lib/python3/dist-packages/pydicom/data/test_files
HEU=usr/lib/python3/dist-packages/heudiconv/tests/data
OCT=usr/share/octave/packages/dicom-0.5.1/imdata
MRI=usr/share/mricron/templates
table() {
  for f in ch2 ch2bet ch2better; do echo "mricron-data $MRI/$f.nii.gz nifti/$f.nii.gz"; done
  echo "mricron-data $MRI/aal.nii.gz labels/aal.nii.gz"
  echo "mricron-data $MRI/aal.nii.txt labels/aal.nii.txt"
  for f in KmeansTest_T1UCharRaw KmeansTest_T1RawSkullStrip; do
    echo "insighttoolkit5-examples $ITK/$f.nii.gz nifti/$f.nii.gz"
  done
  for f in BrainProtonDensity3Slices.mha BrainProtonDensity3Slices.raw \
    BrainProtonDensitySliceBorder20.mhd BrainProtonDensitySliceBorder20.raw \
    BrainProtonDensitySliceBorder20.zraw BrainProtonDensitySliceBorder20DirectionPlus30.mhd \
    BrainProtonDensitySliceBorder20DirectionMinus30.mhd BrainT1SliceBorder20DirectionPlus30.mhd \
    BrainT1SliceBorder20DirectionPlus30.zraw BrainProtonDensitySliceShifted13x17y.mhd \
    BrainProtonDensitySliceShifted13x17y.raw RatLungSlice1.mha RatLungSlice1.raw \
    RatLungSlice2.mha RatLungSlice2.raw ResampleImageFilterInput2x3.mha \
    ResampleImageFilterInput2x3.raw ResampleImageFilterInput2x3b.mha \
    ResampleImageFilterInput2x3b.raw CorpusCallosumMeanShape.mha itkBrainSliceComplex.mha \
    itkBrainSliceComplexMagnitude.mha BayesianClassifierInitializerMemberships.mhd \
    BayesianClassifierInitializerMemberships.raw; do
    echo "insighttoolkit5-examples $ITK/$f metaimage/$f"
  done
  for f in BrainProtonDensitySlice BrainT1Slice BrainMidSagittalSlice FatMRISlice \
    VisibleWomanHeadSlice BrainProtonDensitySliceBorder20Mask; do
    echo "insighttoolkit5-examples $ITK/$f.png png/$f.png"
  done
  for f in anatomical.nii functional.nii example4d.nii.gz example_nifti2.nii.gz \
    reoriented_anat_moved.nii standard.nii.gz; do
    echo "python3-nibabel $NIB/tests/data/$f nifti/$f"
  done
  for f in slicethickness_empty_string.dcm decimal_rescale.dcm; do
    echo "python3-nibabel $NIB/nicom/tests/data/$f dicom/siemens/$f"
  done
  for f in aniso_vox.nii.gz S0_10slices.nii.gz small_64D.nii; do
    echo "python3-dipy $DIPY/$f nifti/$f"
  done
  echo "python3-dipy $DIPY/t1_coronal_slice.npy npy/t1_coronal_slice.npy"
  for f in CT_small.dcm MR_small.dcm MR_small_implicit.dcm MR_small_bigendian.dcm \
    MR_small_expb.dcm MR_small_RLE.dcm MR_small_jp2klossless.dcm MR_small_jpeg_ls_lossless.dcm \
    MR_small_padded.dcm MR_truncated.dcm zipMR.gz J2K_pixelrep_mismatch.dcm 693_J2KI.dcm \
    JPEG-lossy.dcm JPGExtended.dcm JPEG2000.dcm ExplVR_BigEnd.dcm rtdose.dcm rtdose_expb.dcm \
    rtdose_rle.dcm liver_1frame.dcm; do
    echo "python3-pydicom $PYD/$f dicom/single/$f"
  done
  echo "python3-pydicom $PYD/dicomdirtests/ dicom/series/dicomdirtests/"
  for f in CT-MONO2-16-ankle.dcm US-PAL-8-10x-echo.dcm; do
    echo "octave-dicom $OCT/$f dicom/single/$f"
  done
  echo "heudiconv $HEU/axasc35.dcm dicom/siemens/mosaic_epi/axasc35.dcm"
  echo "heudiconv $HEU/01-fmap_acq-3mm/1.3.12.2.1107.5.2.43.66112.2016101409263663466202201.dcm dicom/siemens/fieldmap_phase_3mm.dcm"
}

# Files made from a package file rather than copied (see docs/choices.md).
CRANIUM="ct/cranium_ct.nii.gz ct/cranium_ct.mha ct/cranium_ct_slice054_u16.png
  npy/cranium_ct_crop_int16.npy npy/cranium_ct_crop_int16_F_be.npy"
# name | DCMTK command turning CT_small.dcm into it
dcmtk_table() {
  echo "CT_small_jpeg_lossless_sv1.dcm dcmcjpeg +e1"
  echo "CT_small_jpegls_lossless.dcm dcmcjpls +el"
  echo "CT_small_rle.dcm dcmcrle"
  echo "CT_small_deflated.dcm dcmconv +td"
  echo "CT_small_implicit.dcm dcmconv +ti"
  echo "CT_small_bigendian.dcm dcmconv +tb"
}

# Unpacks package $1 under $DEBS/root/$1 (downloading it once). Prints the root.
fetch() {
  root=$DEBS/root/$1
  if [ ! -e "$root/.done" ]; then
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: cannot fetch package $1 (a Debian/Ubuntu system is needed)"
    mkdir -p "$DEBS" "$root"
    if ! ls "$DEBS"/"$1"_*.deb >/dev/null 2>&1; then
      echo "samples: downloading $1" >&2
      (cd "$DEBS" && apt-get download "$1" >"$DEBS/apt.log" 2>&1) || {
        cat "$DEBS/apt.log" >&2
        die "apt-get download $1 failed (is 'apt-get update' needed, or is the package unknown to your sources?)"
      }
    fi
    dpkg -x "$DEBS"/"$1"_*.deb "$root" || die "dpkg -x failed for package $1"
    touch "$root/.done"
  fi
  echo "$root"
}

copy_files() {
  table | while read -r pkg src dst; do
    case $dst in */) [ -d "$DEST/$dst" ] && continue ;; *) [ -e "$DEST/$dst" ] && continue ;; esac
    root=$(fetch "$pkg")
    [ -e "$root/$src" ] || die "package $pkg has no $src"
    mkdir -p "$(dirname "$DEST/${dst%/}")"
    case $dst in
      */) cp -R "$root/$src" "$DEST/${dst%/}.tmp"
          rm -rf "$DEST/${dst%/}.tmp/TINY_ALPHA"   # not part of the shared layout
          mv "$DEST/${dst%/}.tmp" "$DEST/${dst%/}" ;;
      *) cp "$root/$src" "$DEST/$dst.tmp" && mv "$DEST/$dst.tmp" "$DEST/$dst" ;;
    esac
  done
}

make_cranium() {
  missing=0
  for f in $CRANIUM; do [ -e "$DEST/$f" ] || missing=1; done
  [ $missing = 1 ] || return 0
  "$PY" -c 'import numpy' 2>/dev/null || die "$PY with numpy is needed for the ct/ files (package python3-numpy)"
  root=$(fetch invesalius-examples)
  tmp=$DEST/.cranium.tmp
  rm -rf "$tmp" && mkdir -p "$tmp/ct" "$tmp/npy" "$DEST/ct" "$DEST/npy"
  echo "samples: converting Cranium.inv3 (invesalius-examples)" >&2
  "$PY" "$HERE/inv3_convert.py" "$root/usr/share/doc/invesalius-examples/examples/Cranium.inv3" \
    "$tmp/ct" "$tmp/npy" || die "converting Cranium.inv3 failed"
  for f in $CRANIUM; do mv "$tmp/$f" "$DEST/$f"; done
  rm -rf "$tmp"
}

# Sets up DCMTK: the installed one, or the Debian packages unpacked here.
dcmtk_env() {
  if command -v dcmcjpeg >/dev/null && command -v dcmcjpls >/dev/null &&
     command -v dcmcrle >/dev/null && command -v dcmconv >/dev/null; then
    DCMBIN=$(dirname "$(command -v dcmconv)")
    return 0
  fi
  for p in dcmtk libdcmtk17 libwrap0; do r=$(fetch $p); done
  DCMBIN=$DEBS/root/dcmtk/usr/bin
  libs=$(ls -d "$DEBS"/root/libdcmtk17/usr/lib/*/ "$DEBS"/root/libwrap0/lib/*/ \
         "$DEBS"/root/libwrap0/usr/lib/*/ 2>/dev/null | tr '\n' ':')
  LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:-}
  DCMDICTPATH=$DEBS/root/libdcmtk17/usr/share/libdcmtk17/dicom.dic
  export LD_LIBRARY_PATH DCMDICTPATH
}

make_dicom_derived() {
  missing=0
  for f in $(dcmtk_table | cut -d' ' -f1); do [ -e "$DEST/dicom/derived/$f" ] || missing=1; done
  [ $missing = 1 ] || return 0
  dcmtk_env
  mkdir -p "$DEST/dicom/derived"
  src=$DEST/dicom/single/CT_small.dcm
  dcmtk_table | while read -r name tool opt; do
    out=$DEST/dicom/derived/$name
    [ -e "$out" ] && continue
    # shellcheck disable=SC2086  # opt is one optional word
    "$DCMBIN/$tool" $opt "$src" "$out.tmp" ||
      die "DCMTK $tool failed making dicom/derived/$name (install package dcmtk, or see docs/choices.md)"
    mv "$out.tmp" "$out"
  done
}

command -v dpkg >/dev/null 2>&1 || die "dpkg not found: the samples come from Debian packages"
copy_files
make_cranium
make_dicom_derived
rm -rf "$DEBS/root"   # the .deb files stay, so a missing file is restored without downloading
n=$(cd "$DEST" && find . -path ./.debs -prune -o -type f -print | wc -l)
echo "samples: $n files in $DEST"
