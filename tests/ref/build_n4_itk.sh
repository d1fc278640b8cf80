#!/bin/sh
# Builds the ITK N4 reference (tests/ref/n4_itk.cxx) into BUILD/n4_itk when it
# is missing or older than its source, and prints its path. Needs g++ and
# Debian's libinsighttoolkit5-dev (headers under /usr/include/ITK-5.2).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-build}/n4_itk
INC=/usr/include/ITK-5.2
if [ ! -e "$INC/itkN4BiasFieldCorrectionImageFilter.h" ]; then
  echo "n4 reference: ITK headers not found in $INC; install the Debian package libinsighttoolkit5-dev (make deps does)" >&2
  exit 1
fi
command -v g++ >/dev/null || { echo "n4 reference: g++ not found (Debian package g++)" >&2; exit 1; }
if [ ! -x "$OUT" ] || [ "$HERE/n4_itk.cxx" -nt "$OUT" ]; then
  mkdir -p "$(dirname "$OUT")"
  LIBS=""
  for l in ITKCommon ITKIOImageBase ITKIONIFTI ITKniftiio ITKznz itkvnl itkvnl_algo itkv3p_netlib itksys \
           ITKStatistics ITKTransform itkdouble-conversion ITKVNLInstantiation; do
    LIBS="$LIBS -l$l-5.2"
  done
  # shellcheck disable=SC2086
  g++ -O2 -std=c++17 -I"$INC" "$HERE/n4_itk.cxx" -o "$OUT.tmp" -L/usr/lib $LIBS >&2
  mv "$OUT.tmp" "$OUT"
fi
echo "$OUT"
