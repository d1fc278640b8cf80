# bench/rows/mesh.sh: marching cubes and picture rows for bench/run.sh, which
# sources it after setting ROWS (it uses run.sh's measure, warm, note, $BIN,
# $PY, $D, RUNS, best_ns).
# Input: the lungs of the 512x512x300 chest phantom (-950 < HU < -400) as a
# uint8 .npy with spacing 0.7x0.7x1.0 mm, made once into $D/lungs.npy. The
# mesh rows load it and extract the level-0.5 surface in a whole process with
# 2 threads: medula's v:mesh against skimage.measure.marching_cubes and
# VTK's vtkFlyingEdges3D on the same array; nobody writes the mesh.

make_lung_mask_input() {
  [ -e "$D/lungs.npy" ] && return 0
  echo "bench: making $D/lungs.npy (once)" >&2
  "$BIN" -e "local ct = vol.phantom.chest{shape={512, 512, 300}, spacing={0.7, 0.7, 1.0}}
ct:gt(-950):band(ct:lt(-400)):write('$D/lungs.npy')"
}

row_mcubes_skimage() {
  make_lung_mask_input
  m() { OMP_NUM_THREADS=2 "$BIN" -e "local m = vol.read('$D/lungs.npy'):set_spacing{0.7, 0.7, 1.0}:mesh{level=0.5}"; }
  p() { OMP_NUM_THREADS=2 "$PY" -c "import numpy as np
from skimage import measure
a = np.load('$D/lungs.npy')
v, f, n, val = measure.marching_cubes(a, 0.5, spacing=(1.0, 0.7, 0.7))"; }
  warm "$D/lungs.npy"
  saved=$RUNS
  RUNS=1 # skimage takes tens of seconds
  measure "mcubes lungs (skimage)" 10 "$D/lungs.npy"
  # the surface alone: each side's time minus its loading (and imports)
  m0() { OMP_NUM_THREADS=2 "$BIN" -e "local m = vol.read('$D/lungs.npy')"; }
  p0() { OMP_NUM_THREADS=2 "$PY" -c "import numpy as np
from skimage import measure
a = np.load('$D/lungs.npy')"; }
  tm=$(best_ns m) tm0=$(best_ns m0) tp=$(best_ns p) tp0=$(best_ns p0)
  note "mcubes lungs, surface only (time minus loading and imports): medula $(awk -v a="$tm" -v b="$tm0" 'BEGIN { printf "%.3f", (a - b) / 1e9 }') s, skimage $(awk -v a="$tp" -v b="$tp0" 'BEGIN { printf "%.3f", (a - b) / 1e9 }') s, ratio $(awk -v a="$tm" -v b="$tm0" -v c="$tp" -v d="$tp0" 'BEGIN { printf "%.1f", (c - d) / (a - b) }')"
  RUNS=$saved
  peak=$(/usr/bin/time -f %M "$BIN" -e "local m = vol.read('$D/lungs.npy'):mesh{level=0.5}; io.write(m.vertex_count * 12 + m.face_count * 12)" 2>"$D/peak.txt")
  rss=$(tail -n 1 "$D/peak.txt")
  base=$(/usr/bin/time -f %M "$BIN" -e "local x = 1" 2>&1 >/dev/null | tail -n 1)
  input=$(wc -c <"$D/lungs.npy")
  note "mcubes lungs: peak RSS $((rss / 1024)) MB (an empty medula process: $((base / 1024)) MB); input $((input / 1048576)) MB + mesh $((peak / 1048576)) MB (target: within 10% of their sum)"
}

row_mcubes_vtk() {
  make_lung_mask_input
  m() { OMP_NUM_THREADS=2 "$BIN" -e "local m = vol.read('$D/lungs.npy'):set_spacing{0.7, 0.7, 1.0}:mesh{level=0.5}"; }
  p() { OMP_NUM_THREADS=2 "$PY" -c "import numpy as np, vtk
from vtk.util import numpy_support as ns
vtk.vtkSMPTools.Initialize(2)
a = np.load('$D/lungs.npy')
img = vtk.vtkImageData()
img.SetDimensions(a.shape[2], a.shape[1], a.shape[0])
img.SetSpacing(0.7, 0.7, 1.0)
img.GetPointData().SetScalars(ns.numpy_to_vtk(a.ravel(), deep=False))
fe = vtk.vtkFlyingEdges3D()
fe.SetInputData(img)
fe.SetValue(0, 0.5)
fe.ComputeNormalsOff()
fe.ComputeGradientsOff()
fe.ComputeScalarsOff()
fe.Update()"; }
  warm "$D/lungs.npy"
  measure "mcubes lungs (VTK flying edges)" 1 "$D/lungs.npy"
}

# The montage's own time: loading with and without drawing it, best of RUNS each.
row_montage() {
  make_lung_mask_input
  [ -e "$D/ct.nii" ] || make_inputs
  load="local ct = vol.read('$D/ct.nii'); local lungs = ct:gt(-950):band(ct:lt(-400))"
  a() { OMP_NUM_THREADS=2 "$BIN" -e "$load"; }
  b() { OMP_NUM_THREADS=2 "$BIN" -e "$load; vol.montage(ct, {count=64, cols=8, window={-600, 1500}, overlay=lungs, contour=true, scale=0.5, path='$D/montage.png'})"; }
  warm "$D/ct.nii" "$D/lungs.npy"
  ta=$(best_ns a) tb=$(best_ns b)
  secs=$(awk -v a="$ta" -v b="$tb" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  met=$(awk -v s="$secs" 'BEGIN { print (s < 0.2) ? "yes" : "no" }')
  note "montage 8x8 of 256-pixel tiles with a lung contour overlay, written as PNG: $secs s (target < 0.2 s: $met)"
}

ROWS="$ROWS row_mcubes_skimage row_mcubes_vtk row_montage"
