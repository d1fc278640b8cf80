-- Errors raised inside the loops that call user code, run under valgrind
-- by tests/leak_spec.lua: grid:map with a failing function (in memory and
-- streaming to a file), a merger abandoned half-way, a failing progress
-- function in a DICOM read, a kernel refused by the memory budget and a
-- write interrupted by an error. Every error must be caught here; at the
-- end nothing may be left allocated (valgrind's definite leaks) and the
-- live voxel bytes must be back to where they started.
local out = assert(arg[1], "usage: callbacks.lua SCRATCH_DIR")
collectgarbage()
local base = vol.live_bytes()
local function fails(f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error")
  return err
end
do
  local v = vol.phantom.chest{shape = {48, 48, 24}}
  local g = vol.patch_grid{shape = v.shape, patch = {24, 24, 12}, overlap = {8, 8, 4}}
  for _, opts in ipairs{{}, {weight = "gaussian"}, {out = out .. "/map.npy"}} do
    local err = fails(g.map, g, v, function(p, n)
      if n == 3 then error("model failed on patch 3") end
      return p
    end, opts)
    assert(err:find("model failed on patch 3", 1, true), err)
  end
  fails(g.map, g, v, function() return "not a volume" end)
  local m = g:merger{weight = "gaussian"}
  local n = 0
  fails(function()
    for k, p in g:patches(v) do
      n = n + 1
      if n == 4 then error("stopped half-way") end
      m:add(k, p)
    end
  end)
  m = nil
  fails(vol.read_dicom, os.getenv("MEDULA_DICOM_SERIES"), {progress = function() error("no progress") end})
  local big = vol.phantom.sphere{shape = {128, 128, 128}, radius_mm = 40}
  vol.set_memory_budget(vol.live_bytes() / 1048576 + 3)
  fails(big.fill_holes, big, {per_slice = true, axis = 1})
  vol.set_memory_budget(0)
  fails(v.write, v, out .. "/no/such/folder/x.nii")
end
collectgarbage()
collectgarbage()
assert(vol.live_bytes() == base, ("live bytes %d, started with %d"):format(vol.live_bytes(), base))
print("callbacks: ok")
