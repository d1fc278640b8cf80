-- The Lua half of the patch area: grid:map (a sliding window that calls a
-- Lua function on every patch and merges what it returns),
-- grid:save_patches, and vol.crop_merge_compare (the classic recipe beside
-- full coverage, for the crop_merge scripts and the demo). Grids, crops and
-- mergers themselves are C (src/bind/lpatch*.c); nothing here loops over
-- voxels. require("vol.patch")(vol) installs it.
local core = require "vol.core"
local doc = require("vol.help").doc
local vol = core -- the whole vol module once installed (see the end)
local progress = require "vol.progress"

local Grid = core.PatchGrid

local is_volume = require("vol.check").is_volume

-- grid:map's options: grid:merger's, plus progress (handled here).
local map_keys = { dtype = true, weight = true, sigma_scale = true, fill = true, out = true,
  like = true, progress = true }
local map_keys_text = "dtype, weight, sigma_scale, fill, out, like, progress"

Grid.map = doc(function(grid, v, fn, opts)
  if not is_volume(v) then
    error("bad argument #1 to 'map' (Volume expected, got " .. type(v) .. ")", 2)
  end
  if type(fn) ~= "function" then
    error("bad argument #2 to 'map' (function expected, got " .. type(fn) .. ")", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #3 to 'map' (table expected, got " .. type(opts) .. ")", 2)
  end
  local merger_opts, label = { like = v }, nil
  for k, x in pairs(opts or {}) do
    if k == "progress" then
      label = x == true and "patches" or x
    elseif map_keys[k] then
      merger_opts[k] = x
    else
      error(("bad argument #3 to 'map' (unknown option '%s' (valid: %s))")
        :format(tostring(k), map_keys_text), 2)
    end
  end
  -- the merger holds the accumulators (and an unfinished out file): closing
  -- it on the way out, error or not, leaves nothing behind. Its option
  -- errors are the caller's: report them against map's argument 3.
  local ok, m = pcall(function()
    local merger = grid:merger(merger_opts)
    return merger
  end)
  if not ok then
    local msg = tostring(m):gsub("^[^\n]-:%d+: (bad argument)", "%1")
    error((msg:gsub("^bad argument #%d+ to '[^']*' %(", "bad argument #3 to 'map' (")), 2)
  end
  local _ <close> = m
  local bar = label and progress(grid:count(), tostring(label))
  for n, patch, box in grid:patches(v) do
    local out = fn(patch, n, box)
    if not is_volume(out) then
      error(("map: the function returned %s for patch %d (a Volume of the patch's shape expected)")
        :format(type(out), n), 2)
    end
    m:add(n, out)
    if bar then bar:step() end
  end
  if bar then bar:done() end
  return m:result()
end, [[
grid:map(v, fn [, opts]) -> Volume | path | nil
Sliding window: calls fn(patch, n, box) on every patch of v, in patch order,
and merges the Volumes it returns (any dtype and channel count, the patch's
spatial shape) into one volume with v's geometry. This is where a model or a
filter plugs in. opts: the options of grid:merger (weight, sigma_scale,
dtype, fill, out, like), plus progress=true or a label for a progress bar.
The result is float32 unless dtype= says otherwise (give dtype="float64",
"int32"... for outputs float32 cannot hold).
fn is called from a plain Lua loop, never from inside a kernel; an error in
fn propagates after the merger (and an unfinished out file) is released.
Errors: fn returning something that is not a Volume, a patch of the wrong
shape, an unknown option, the errors of grid:merger (reported against
argument #3 of 'map').
  local probs = grid:map(ct, function(p) return model(p) end, {weight="gaussian"})
  local same = grid:map(ct, function(p) return p end)   -- == ct]])

local function ends_with(s, suffix)
  return s:sub(-#suffix):lower() == suffix
end

Grid.save_patches = doc(function(grid, v, path)
  if type(path) ~= "string" then
    error("bad argument #2 to 'save_patches' (string expected, got " .. type(path) .. ")", 2)
  end
  if ends_with(path, ".npy") then
    grid:extract(v):write(path)
    return grid:count()
  end
  if not pcall(string.format, path, 1) or path:format(1) == path:format(2) then
    error("save_patches: the path must end in .npy or hold a number format such as %04d (got '"
      .. path .. "')", 2)
  end
  for n, patch in grid:patches(v) do
    patch:write(path:format(n))
  end
  return grid:count()
end, [[
grid:save_patches(v, path) -> count
Writes every patch of v. A path ending in .npy gets all of them as one
array of shape (N, pz, py, px) (or (N, py, px) in 2-D), as np.stack would
build it; any other path is a pattern with a number format, one file per
patch, e.g. "out/patch_%04d.nii.gz": each file's origin is the world
position of the patch's first voxel, so viewers overlay it on v.
  grid:save_patches(ct, "patches/p%03d.nii.gz")]])

-- The spatial shape of an image for a grid: {x, y} for (x, y), (x, y, 1)
-- and (x, y, 1, C) images, {x, y, z} otherwise.
local function spatial_shape(v)
  local s = v.shape
  if #s == 2 or s[3] == 1 then return { s[1], s[2] } end
  return { s[1], s[2], s[3] }
end

-- Three panels side by side with a gap, through a 'drop' grid whose stride
-- is longer than its patch: the merger tiles them (gaps get fill).
local function side_by_side(panels, gap, fill)
  local w, h = panels[1].shape[1], panels[1].shape[2]
  local canvas = vol.patch_grid{ shape = { #panels * w + (#panels - 1) * gap, h },
    patch = { w, h }, stride = { w + gap, h }, mode = "drop" }
  local m <close> = canvas:merger{ fill = fill }
  for n, p in ipairs(panels) do m:add(n, p) end
  return m:result()
end

local function compare(v, opts)
  opts = opts or {}
  local shape = spatial_shape(v)
  local two_d = #shape == 2
  local patch, overlap = opts.patch or 96, opts.overlap or 32
  local name = opts.name or (two_d and "crop_merge_2d" or "crop_merge_3d")
  local fn = opts.fn or function(p) return p end
  if type(fn) ~= "function" then
    error("bad argument #2 to 'crop_merge_compare' (fn must be a function, got " .. type(fn) .. ")", 2)
  end
  local grids = {}
  for _, mode in ipairs{ "drop", "cover", "pad" } do
    grids[mode] = vol.patch_grid{ shape = shape, patch = patch, overlap = overlap, mode = mode }
  end
  local lo, hi = v:min(), v:max()
  -- grid:map keeps v's layout and channels (an RGB picture works too); the
  -- running mean of identical copies is exact, so v's own dtype loses nothing
  local classic = grids.drop:map(v, fn, { fill = hi, dtype = v.dtype })
  local full = grids.cover:map(v, fn, { dtype = v.dtype })
  local padded = grids.pad:map(v, fn, { dtype = v.dtype })
  local covered = grids.drop:map(v, function(p)
    return vol.new{ shape = p.shape, dtype = "uint8", fill = 1 }
  end, { dtype = "uint8" })
  local r = {
    shape = v.shape, patch = grids.cover.patch, overlap = grids.cover.overlap,
    voxels = shape[1] * shape[2] * (shape[3] or 1),
    -- exact comparisons (a difference would saturate in unsigned dtypes)
    classic = { patches = grids.drop:count(), lost = grids.drop:uncovered(),
      -- on the voxels it keeps, the classic recipe is exact too
      wrong = classic:ne(v):band(covered):stats().sum },
    cover = { patches = grids.cover:count(), lost = grids.cover:uncovered(),
      wrong = full:ne(v):stats().sum },
    pad = { patches = grids.pad:count(), lost = grids.pad:uncovered(),
      wrong = padded:ne(v):stats().sum },
    files = {},
  }
  r.classic.lost_fraction = r.classic.lost / r.voxels
  local unit = two_d and "pixels" or "voxels"
  local x = function(t) return table.concat(t, "x") end
  r.summary = {
    ("%d-D %s, patch %s, overlap %s"):format(#shape, x(shape), x(r.patch), x(r.overlap)),
    ("classic recipe ('drop'): %d patches, %d of %d %s lost (%.1f%%)"):format(r.classic.patches,
      r.classic.lost, r.voxels, unit, 100 * r.classic.lost_fraction),
  }
  for _, m in ipairs{ { "full coverage ('cover')", r.cover }, { "padded ('pad')", r.pad } } do
    r.summary[#r.summary + 1] = ("%s: %d patches, %d %s lost, merged == input: %s"):format(m[1],
      m[2].patches, m[2].lost, unit, m[2].wrong == 0 and "yes" or ("NO, " .. m[2].wrong .. " differ"))
  end
  if opts.outdir then
    local base = opts.outdir .. "/" .. name
    if two_d then
      local path = base .. "_original_classic_full.png"
      side_by_side({ v, classic, full }, 8, lo):write_png(path, { window = { lo, hi } })
      r.files[#r.files + 1] = path
    else
      for _, f in ipairs{ { "_classic.nii.gz", classic * covered }, { "_full.nii.gz", full },
                          { "_lost.nii.gz", covered:eq(0) } } do
        f[2]:write(base .. f[1])
        r.files[#r.files + 1] = base .. f[1]
      end
    end
  end
  for _, f in ipairs(r.files) do r.summary[#r.summary + 1] = "wrote " .. f end
  return r
end

local compare_doc = [[
vol.crop_merge_compare(v [, {patch=, overlap=, outdir=, name=, fn=}]) -> report
Crops v into overlapping patches and merges them back three ways: the
classic numpy recipe ('drop' mode, far remainders lost), 'cover' and 'pad'
(every voxel kept). v: a 2-D image ((x, y) or (x, y, 1)) or a 3-D volume.
patch and overlap default to 96 and 32 (one number or one per axis).
fn(patch, n, box), default the identity, is applied to every patch before
merging (as in grid:map); the merges keep v's dtype.
With outdir, writes the results: in 2-D one PNG with the original, the
classic result (lost pixels white) and the full merge side by side; in 3-D
<name>_classic.nii.gz (lost voxels 0), <name>_full.nii.gz and
<name>_lost.nii.gz (mask of the lost voxels).
report: {shape, patch, overlap, voxels, files, summary, classic={patches,
lost, lost_fraction, wrong}, cover={...}, pad={...}}; wrong counts merged
voxels that differ from v (exact comparison) where the recipe covers them
(0 for all three with the identity); summary is a list of printable lines.
  local r = vol.crop_merge_compare(ct, {outdir="out"})
  print(r.classic.lost, r.cover.lost)]]

return function(v)
  vol = v
  v.crop_merge_compare = doc(compare, compare_doc)
  return v
end
