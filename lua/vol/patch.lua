-- The Lua half of the patch area: grid:map (a sliding window that calls a
-- Lua function on every patch and merges what it returns) and
-- grid:save_patches. Grids, crops and mergers themselves are C
-- (src/bind/lpatch*.c); nothing here loops over voxels.
local core = require "vol.core"
local doc = require("vol.help").doc
local progress = require "vol.progress"

local Grid = core.PatchGrid

local function is_volume(x)
  local mt = type(x) == "userdata" and getmetatable(x)
  return type(mt) == "table" and mt.__name == "Volume"
end

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
    else
      merger_opts[k] = x
    end
  end
  -- the merger holds the accumulators (and an unfinished out file): closing
  -- it on the way out, error or not, leaves nothing behind
  local m <close> = grid:merger(merger_opts)
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
dtype, fill, out), plus progress=true or a label for a progress bar.
fn is called from a plain Lua loop, never from inside a kernel; an error in
fn propagates after the merger (and an unfinished out file) is released.
Errors: fn returning something that is not a Volume, a patch of the wrong
shape, the errors of grid:merger.
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

return Grid
