-- The Lua half of the cropad area: recipes composed of the C methods
-- (src/bind/lcropad.c). v:crop_to_nonzero (nnU-Net's first step). Nothing
-- here loops over voxels.
local core = require "vol.core"
local doc = require("vol.help").doc

local Volume = core.Volume

local check = require "vol.check"
local is_volume, check_opts, per_axis = check.is_volume, check.opts, check.per_axis

Volume.crop_to_nonzero = doc(function(v, opts)
  if not is_volume(v) then
    error("bad argument #1 to 'crop_to_nonzero' (Volume expected, got " .. type(v) .. ")", 2)
  end
  opts = check_opts("crop_to_nonzero", 2, opts, { mask = true, margin = true })
  local mask = opts.mask or v
  if not is_volume(mask) then
    error("bad argument #2 to 'crop_to_nonzero' (mask must be a Volume)", 2)
  end
  local shape, mshape = v.shape, mask.shape
  local n = v.ndim == 2 and 2 or 3
  for a = 1, n do
    if shape[a] ~= mshape[a] then
      error(("bad argument #2 to 'crop_to_nonzero' (mask shape differs on axis %d: %d vs %d)")
        :format(a, mshape[a], shape[a]), 2)
    end
  end
  local margin = per_axis("crop_to_nonzero", 2, opts.margin or 0, n, "margin")
  for a = 1, n do
    local m = margin[a]
    if not (m >= 0) or m ~= math.floor(m) then
      error(("bad argument #2 to 'crop_to_nonzero' (margin must be a whole number >= 0, got %s on axis %d)")
        :format(tostring(m), a), 2)
    end
  end
  local lo, hi = mask:nonzero_box()
  if not lo then -- nothing non-zero: keep everything, as nnU-Net does
    lo, hi = {}, {}
    for a = 1, n do lo[a], hi[a] = 1, shape[a] end
  else
    for a = 1, n do
      lo[a] = math.max(1, lo[a] - margin[a])
      hi[a] = math.min(shape[a], hi[a] + margin[a])
    end
  end
  return v:crop { lo = lo, hi = hi }, { lo = lo, hi = hi }
end, [[
v:crop_to_nonzero{mask=m, margin=0} -> Volume, box
nnU-Net's first step: crops v to the smallest box holding the non-zero voxels
of mask (default v itself), grown by margin voxels per side (a whole number
>= 0, or one per axis) and clipped to the volume. Returns the crop and the box
{lo={i, j, k}, hi={i, j, k}} (1-based, inclusive: v:crop's arguments, so the
same box crops the label map). When nothing is non-zero the box is the whole
volume. World positions stay put.
  local img, box = t1:crop_to_nonzero{margin=2}
  local seg = labels:crop(box)]])

-- The methods above live on the Volume type; init.lua calls this with the
-- module table, as it does for the other Lua halves.
return function(vol)
  return vol
end
