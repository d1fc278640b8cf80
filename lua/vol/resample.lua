-- The Lua half of the resample area: recipes composed of the C methods
-- (src/bind/lresample.c). v:resample_dsb (the DSB2017 lung tutorial's
-- resample) and v:resample_img (nilearn's resample_img). Nothing here loops
-- over voxels.
local core = require "vol.core"
local doc = require("vol.help").doc

local Volume = core.Volume

local is_volume = require("vol.check").is_volume

local check_opts = require("vol.check").opts
local per_axis = require("vol.check").per_axis

-- numpy's round (and Python 3's): halves go to the even neighbour.
local function round_half_even(x)
  local f = math.floor(x)
  local d = x - f
  if d > 0.5 or (d == 0.5 and f % 2 == 1) then return f + 1 end
  return f
end

-- scipy.ndimage's boundary modes, as v:zoom accepts them.
local ZOOM_MODES = { constant = true, ["grid-constant"] = true, nearest = true, mirror = true,
  reflect = true, ["grid-mirror"] = true, ["grid-wrap"] = true, wrap = true }

Volume.resample_dsb = doc(function(v, new_spacing, opts)
  if not is_volume(v) then
    error("bad argument #1 to 'resample_dsb' (Volume expected, got " .. type(v) .. ")", 2)
  end
  opts = check_opts("resample_dsb", 3, opts, { order = true, mode = true })
  -- checked here so that errors name resample_dsb, not the zoom it calls
  local order, mode = opts.order or 3, opts.mode or "nearest"
  if order ~= 0 and order ~= 1 and order ~= 3 then
    error(("bad argument #3 to 'resample_dsb' (order must be 0, 1 or 3, got %s)"):format(tostring(order)), 2)
  end
  if not ZOOM_MODES[mode] then
    error(("bad argument #3 to 'resample_dsb' (mode must be constant, grid-constant, nearest, mirror, "
      .. "reflect, grid-mirror, grid-wrap or wrap, got %s)"):format(tostring(mode)), 2)
  end
  local n = v.ndim == 2 and 2 or 3
  new_spacing = per_axis("resample_dsb", 2, new_spacing or 1, n, "new_spacing")
  local spacing, shape = v.spacing, v.shape
  local factor, tutorial = {}, {}
  for a = 1, n do
    if not (new_spacing[a] > 0) then
      error(("bad argument #2 to 'resample_dsb' (spacing must be > 0, got %s on axis %d)")
        :format(tostring(new_spacing[a]), a), 2)
    end
    -- the tutorial's arithmetic, operation by operation, in float64
    local new_real = shape[a] * (spacing[a] / new_spacing[a])
    local new_shape = math.max(1, round_half_even(new_real))
    factor[a] = new_shape / shape[a]
    tutorial[a] = spacing[a] / factor[a]
  end
  local out = v:zoom(factor, { order = order, mode = mode })
  return out, out.spacing, tutorial
end, [[
v:resample_dsb(new_spacing [, {order=3, mode="nearest"}]) -> Volume, spacing, tutorial_spacing
The DSB2017 lung tutorial's resample(image, spacing, new_spacing): shape
round(n * s / new_spacing) with numpy's rounding (halves to even: 130.5 ->
130), then scipy.ndimage.zoom by new_shape / n (cubic, mode "nearest").
Returns the volume, the spacing of the grid zoom really makes,
s * (n - 1) / (n' - 1), which is also the volume's spacing, and the
spacing the tutorial returns, s * n / n'. The two differ: with the
tutorial's value, index i maps to a world position off by
i * (s*n/n' - s*(n-1)/(n'-1)), which reaches s - s*n/n' (up to 1.5 voxels for
2.5 mm slices made 1 mm) at the far end. new_spacing: a number or one per axis.
  local iso, sp = ct:resample_dsb{1, 1, 1}]])

-- 4x4 helpers for resample_img (row-major tables of rows).
local function matmul4(A, B)
  local C = {}
  for r = 1, 4 do
    C[r] = {}
    for c = 1, 4 do
      local s = 0
      for k = 1, 4 do s = s + A[r][k] * B[k][c] end
      C[r][c] = s
    end
  end
  return C
end

-- Inverse of an affine (last row 0 0 0 1) by its 3x3 part.
local function inv_affine(A)
  local a, b, c = A[1][1], A[1][2], A[1][3]
  local d, e, f = A[2][1], A[2][2], A[2][3]
  local g, h, i = A[3][1], A[3][2], A[3][3]
  local det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
  if det == 0 then error("resample_img: the image affine is singular", 3) end
  local m = {
    { (e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det },
    { (f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det },
    { (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det },
  }
  local R = {}
  for r = 1, 3 do
    R[r] = { m[r][1], m[r][2], m[r][3],
      -(m[r][1] * A[1][4] + m[r][2] * A[2][4] + m[r][3] * A[3][4]) }
  end
  R[4] = { 0, 0, 0, 1 }
  return R
end

-- nilearn's target grid for a 3x3 target affine: the bounding box of the
-- input's voxel centres, with its corner at index 0 (nilearn's get_bounds).
local function bounding_grid(v, T3)
  local T = { { T3[1][1], T3[1][2], T3[1][3], 0 }, { T3[2][1], T3[2][2], T3[2][3], 0 },
    { T3[3][1], T3[3][2], T3[3][3], 0 }, { 0, 0, 0, 1 } }
  local M = matmul4(inv_affine(T), v:affine { ras = true })
  local shape, lo, hi = v.shape, { math.huge, math.huge, math.huge }, { -math.huge, -math.huge, -math.huge }
  for corner = 0, 7 do
    local p = { corner % 2 * (shape[1] - 1), (corner // 2) % 2 * (shape[2] - 1), (corner // 4) * (shape[3] - 1) }
    for r = 1, 3 do
      local x = M[r][1] * p[1] + M[r][2] * p[2] + M[r][3] * p[3] + M[r][4]
      lo[r], hi[r] = math.min(lo[r], x), math.max(hi[r], x)
    end
  end
  for r = 1, 3 do T[r][4] = T3[r][1] * lo[1] + T3[r][2] * lo[2] + T3[r][3] * lo[3] end
  local size = {}
  for r = 1, 3 do size[r] = math.ceil(hi[r] - lo[r]) + 1 end
  return T, size
end

Volume.resample_img = doc(function(v, opts)
  if not is_volume(v) then
    error("bad argument #1 to 'resample_img' (Volume expected, got " .. type(v) .. ")", 2)
  end
  opts = check_opts("resample_img", 2, opts, { target_affine = true, target_shape = true,
    interpolation = true, fill_value = true, clip = true })
  local T, shape = opts.target_affine, opts.target_shape
  if type(T) ~= "table" or (#T ~= 4 and #T ~= 3) then
    error("bad argument #2 to 'resample_img' (target_affine must be 4 rows of 4 numbers or 3 of 3)", 2)
  end
  if #T == 3 then
    if shape then
      error("bad argument #2 to 'resample_img' (a target_shape needs a 4x4 target_affine)", 2)
    end
    T, shape = bounding_grid(v, T)
  elseif not shape then
    error("bad argument #2 to 'resample_img' (target_shape is required with a 4x4 target_affine)", 2)
  end
  local interp = opts.interpolation or "continuous"
  local names = { continuous = "cubic", linear = "linear", nearest = "nearest" }
  if not names[interp] then
    error(("bad argument #2 to 'resample_img' (interpolation must be continuous, linear or nearest, got '%s')")
      :format(tostring(interp)), 2)
  end
  local src = v
  local dt = v.dtype
  if interp == "continuous" and (dt == "int8" or dt == "int16" or dt == "int32") then
    src = v:astype("float32") -- nilearn casts signed integers to float for cubic
  end
  local out = src:resample { affine = T, ras = true, shape = shape, interpolation = names[interp],
    mode = "constant", fill = opts.fill_value or 0 }
  if opts.clip ~= false then
    local lo, hi = math.min(v:min(), 0), math.max(v:max(), 0)
    out = out:clamp(lo, hi)
  end
  return out
end, [[
v:resample_img{target_affine=A, target_shape={..}, interpolation="continuous",
               fill_value=0, clip=true} -> Volume
nilearn.image.resample_img: the output grid is target_affine (4x4, voxel ->
RAS mm, as nibabel's img.affine) with target_shape. A 3x3 target_affine
without a shape gets nilearn's bounding box: the box of the input's voxel
centres in the target axes, index 0 at its lower corner, shape ceil(size)+1.
interpolation: continuous (cubic B-spline), linear, nearest; samples outside
the input are fill_value. As nilearn: signed integer data is made float32 for
continuous interpolation, and clip limits the result to [min(v, 0), max(v, 0)].
  -- the NFBS recipe: a 2 mm grid of 96x128x160 centred on world 0
  local A = {{2,0,0,-96}, {0,2,0,-128}, {0,0,2,-160}, {0,0,0,1}}
  local t1r = t1:resample_img{target_affine=A, target_shape={96, 128, 160}}]])

-- The methods above live on the Volume type; init.lua calls this with the
-- module table, as it does for the other Lua halves.
return function(vol)
  return vol
end
