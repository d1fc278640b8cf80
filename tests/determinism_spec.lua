-- Every public function, found by walking vol and the Volume methods (as
-- the docs generator does), runs on 1 and on 2 threads and must give the
-- same result bit for bit: volumes by their bytes and geometry, numbers by
-- their exact bits, tables key by key, files byte by byte. A function the
-- walk finds that is neither called by a recipe below, nor callable with no
-- argument on a standard input, nor listed in NOT_KERNELS fails the spec:
-- a new kernel is covered the day it is registered.
package.path = "tests/?.lua;tools/?.lua;" .. package.path
local data = require "helpers.data"
local gendoc = require "gendoc"

local dir = data.tmpdir()
local counter = 0

local function is_volume(x) return type(x) == "userdata" and tostring(x):match("^Volume") ~= nil end

local function file_bytes(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- A string that is equal for two results exactly when they are the same.
local function fingerprint(x, depth)
  depth = depth or 0
  local t = type(x)
  if t == "number" then return math.type(x) == "integer" and tostring(x) or ("%a"):format(x) end
  if t == "string" or t == "boolean" or t == "nil" then return t .. ":" .. tostring(x) end
  if is_volume(x) then
    if not pcall(function() return x.shape end) then return "released volume" end
    counter = counter + 1
    local p = ("%s/fp%d.npy"):format(dir, counter)
    x:write(p, {fsync = false})
    local bytes = file_bytes(p)
    os.remove(p)
    return "Volume " .. x.dtype .. fingerprint(x.shape, depth + 1) .. fingerprint(x.spacing, depth + 1)
      .. fingerprint(x.origin, depth + 1) .. fingerprint(x.direction, depth + 1) .. bytes
  end
  if t == "table" and depth < 6 then
    local keys = {}
    for k in pairs(x) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local out = {}
    for _, k in ipairs(keys) do out[#out + 1] = tostring(k) .. "=" .. fingerprint(x[k], depth + 1) end
    return "{" .. table.concat(out, ",") .. "}"
  end
  if t == "function" then -- an iterator: its first values
    local out = {}
    for _ = 1, 64 do
      local r = table.pack(x())
      if r[1] == nil then break end
      out[#out + 1] = fingerprint(r, depth + 1)
    end
    return "iter[" .. table.concat(out, ";") .. "]"
  end
  return t .. ":" .. (tostring(x):gsub("0x%x+", "?"))
end

-- Standard inputs, big enough for the parallel paths (> 65536 voxels).
local function inputs()
  local I = {}
  I.ct = vol.phantom.chest{shape = {64, 64, 40}, seed = 3}
  I.f = I.ct:astype("float32")
  I.m = I.ct:gt(-500)
  I.lab = I.m:label()
  I.se = vol.strel.ball(1)
  I.grid = vol.patch_grid{shape = I.ct.shape, patch = {32, 32, 16}, overlap = {8, 8, 4}}
  return I
end

-- Calls that need arguments: name -> function(I) returning the result(s).
local RECIPES = {
  ["Volume:add"] = function(I) return I.f:copy():add(2.5) end,
  ["Volume:sub"] = function(I) return I.f:copy():sub(I.f) end,
  ["Volume:mul"] = function(I) return I.ct:copy():mul(0.37) end,
  ["Volume:div"] = function(I) return I.f:copy():div(3) end,
  ["Volume:fill"] = function(I) return I.f:copy():fill(7) end,
  ["Volume:min"] = function(I) return I.f:min(), I.f:min(10) end,
  ["Volume:max"] = function(I) return I.f:max(), I.f:max(10) end,
  ["Volume:astype"] = function(I) return I.f:mul(0.1):astype("int16"), I.ct:astype("float64") end,
  ["Volume:clamp"] = function(I) return I.ct:clamp(-100, 100) end,
  ["Volume:between"] = function(I) return I.ct:between(-100, 100) end,
  ["Volume:gt"] = function(I) return I.f:gt(0) end,
  ["Volume:lt"] = function(I) return I.f:lt(0) end,
  ["Volume:ge"] = function(I) return I.f:ge(0) end,
  ["Volume:le"] = function(I) return I.f:le(0) end,
  ["Volume:eq"] = function(I) return I.ct:eq(-1000) end,
  ["Volume:ne"] = function(I) return I.ct:ne(-1000) end,
  ["Volume:band"] = function(I) return I.m:band(I.ct:gt(0)) end,
  ["Volume:bor"] = function(I) return I.m:bor(I.ct:gt(0)) end,
  ["Volume:bxor"] = function(I) return I.m:bxor(I.ct:gt(0)) end,
  ["Volume:where"] = function(I) return I.f:where(I.m, 1, 0) end,
  ["vol.where"] = function(I) return vol.where(I.f, I.m, 1, 0) end,
  ["Volume:stats"] = function(I) return I.f:stats(), I.f:stats(I.m) end,
  ["Volume:crop"] = function(I) return I.ct:crop{lo = {3, 4, 5}, hi = {60, 50, 30}} end,
  ["Volume:crop_to_nonzero"] = function(I) return I.ct:crop_to_nonzero{mask = I.m, margin = 2} end,
  ["Volume:pad"] = function(I) return I.ct:pad{width = 3, mode = "reflect"} end,
  ["Volume:center_crop_or_pad"] = function(I) return I.ct:center_crop_or_pad({50, 70, 33}) end,
  ["Volume:flip"] = function(I) return I.ct:flip({1, 3}) end,
  ["Volume:permute"] = function(I) return I.ct:permute({3, 1, 2}) end,
  ["Volume:reorient"] = function(I) return I.ct:reorient("RAS") end,
  ["Volume:slice"] = function(I) return I.ct:slice(3, 20) end,
  ["Volume:erode"] = function(I) return I.m:erode(I.se) end,
  ["Volume:dilate"] = function(I) return I.m:dilate(I.se) end,
  ["Volume:open"] = function(I) return I.m:open(I.se) end,
  ["Volume:close"] = function(I) return I.m:close(I.se) end,
  ["Volume:remove_small_objects"] = function(I) return I.m:remove_small_objects(50) end,
  ["Volume:keep_largest"] = function(I) return I.m:keep_largest(2) end,
  ["Volume:edt"] = function(I) return I.m:edt{spacing = {1, 1, 2.5}, signed = true}, I.m:edt{spacing = {1, 1, 2.5}, indices = true} end,
  ["Volume:resample"] = function(I) return I.f:resample{spacing = {2.1, 1.7, 3.3}} end,
  ["Volume:resample_dsb"] = function(I) return I.f:resample_dsb({1.7, 1.7, 2.9}) end,
  ["Volume:resample_img"] = function(I)
    local A = I.f:affine{ras = true}
    A[1][1] = A[1][1] * 1.3
    return I.f:resample_img{target_affine = A, target_shape = {40, 50, 30}}
  end,
  ["Volume:zoom"] = function(I) return I.f:zoom({0.7, 1.3, 0.9}) end,
  ["Volume:transform"] = function(I)
    return I.f:transform{matrix = {{0.98, -0.17, 0}, {0.17, 0.98, 0}, {0, 0, 1}}, translation = {1.5, -2, 0.5}}
  end,
  ["Volume:write"] = function(I)
    local p = dir .. "/w.nii.gz"
    I.f:write(p, {fsync = false})
    return file_bytes(p)
  end,
  ["Volume:write_png"] = function(I)
    local p = dir .. "/w.png"
    I.ct:slice(3, 20):write_png(p, {window = {-1000, 400}})
    return file_bytes(p)
  end,
  ["Volume:set"] = function(I) return I.f:copy():set(1, 2, 3, 9.5) end,
  ["Volume:get"] = function(I) return I.f:get(10, 20, 30) end,
  ["Volume:index_to_world"] = function(I) return I.f:index_to_world(3, 4, 5) end,
  ["Volume:world_to_index"] = function(I) return I.f:world_to_index(3, 4, 5) end,
  ["vol.stack"] = function(I) return vol.stack{I.ct, I.ct:clamp(0, 10)} end,
  ["vol.regionprops"] = function(I) return vol.regionprops(I.lab, I.ct) end,
  ["vol.new"] = function() return vol.new{shape = {70, 60, 40}, dtype = "int16", fill = 3} end,
  ["vol.phantom.chest"] = function() return vol.phantom.chest{shape = {64, 64, 40}, seed = 9} end,
  ["vol.phantom.sphere"] = function() return vol.phantom.sphere{shape = {64, 64, 40}, radius_mm = 17.5, center = {30.5, 31, 20}} end,
  ["vol.phantom.box"] = function() return vol.phantom.box{shape = {64, 64, 40}, lo = {3, 4, 5}, hi = {40, 50, 30}} end,
  ["vol.strel.ball"] = function() return vol.strel.ball(3) end,
  ["vol.strel.ball_mm"] = function() return vol.strel.ball_mm(4, {0.7, 0.7, 2}) end,
  ["vol.strel.box"] = function() return vol.strel.box({3, 5, 1}) end,
  ["vol.strel.cross"] = function() return vol.strel.cross(6) end,
  ["vol.strel.disk"] = function() return vol.strel.disk(4) end,
  ["vol.strel.from_mask"] = function(I) return vol.strel.from_mask(vol.strel.ball(2)) end,
  ["vol.read"] = function() return vol.read(data.path("nifti/KmeansTest_T1RawSkullStrip.nii.gz")) end,
  ["vol.read_dicom"] = function() return vol.read_dicom(data.path("dicom/series/dicomdirtests/98892001/CT5N")) end,
  ["vol.dicom_series"] = function() return vol.dicom_series(data.path("dicom/series/dicomdirtests/98892001"), {recursive = true}) end,
  ["vol.dicom_header"] = function() return vol.dicom_header(data.path("dicom/single/CT_small.dcm")) end,
  ["vol.dicom_info"] = function() return vol.dicom_info(data.path("dicom/series/dicomdirtests/98892001/CT5N")) end,
  ["vol.describe"] = function(I) return vol.describe(I.ct) end,
  ["vol.patch_grid"] = function(I) return I.grid:count(), I.grid:box(3) end,
  ["vol.PatchGrid.box"] = function(I) return I.grid:box(5) end,
  ["vol.PatchGrid.boxes"] = function(I) return I.grid:boxes() end,
  ["vol.PatchGrid.count"] = function(I) return I.grid:count() end,
  ["vol.PatchGrid.coverage"] = function(I) return I.grid:coverage() end,
  ["vol.PatchGrid.uncovered"] = function(I) return I.grid:uncovered() end,
  ["vol.PatchGrid.extract"] = function(I) return I.grid:extract(I.f) end,
  ["vol.PatchGrid.patches"] = function(I) return I.grid:patches(I.f) end,
  ["vol.PatchGrid.weights"] = function(I) return I.grid:weights{weight = "gaussian"} end,
  ["vol.PatchGrid.merge"] = function(I) return I.grid:merge(I.grid:extract(I.f), {weight = "gaussian"}) end,
  ["vol.PatchGrid.merge_memory"] = function(I) return I.grid:merge_memory{} end,
  ["vol.PatchGrid.map"] = function(I)
    return I.grid:map(I.f, function(p) return p:mul(2) end, {weight = "gaussian"})
  end,
  ["vol.PatchGrid.merger"] = function(I)
    local mg = I.grid:merger{weight = "gaussian"}
    for n, p in I.grid:patches(I.f) do mg:add(n, p) end
    return mg:result()
  end,
  ["vol.PatchGrid.save_patches"] = function(I)
    local p = dir .. "/patches.npy"
    I.grid:save_patches(I.f, p)
    return file_bytes(p)
  end,
  ["vol.save_npy_stack"] = function(I)
    local p = dir .. "/stack.npy"
    vol.save_npy_stack(p, {I.ct, I.ct})
    return file_bytes(p)
  end,
  ["vol.sample_patches"] = function(I)
    return vol.sample_patches{image = I.f, label = I.m, patch = {16, 16, 8}, n = 6, seed = 4}
  end,
}

-- Functions that compute nothing a thread count could change (settings,
-- metadata, help, in-place setters of the header, object lifetimes), with
-- the reason.
local NOT_KERNELS = {
  ["Volume:copy"] = "a byte copy",
  ["Volume:release"] = "frees a buffer",
  ["Volume:set_affine"] = "header only", ["Volume:set_direction"] = "header only",
  ["Volume:set_meta"] = "header only", ["Volume:set_origin"] = "header only",
  ["Volume:set_spacing"] = "header only", ["Volume:affine"] = "header only",
  ["Volume:orientation"] = "header only",
  ["vol.set_threads"] = "the setting under test", ["vol.threads"] = "a setting",
  ["vol.set_memory_budget"] = "a setting", ["vol.live_bytes"] = "a counter", ["vol.set_fsync"] = "a setting",
  ["vol.doc"] = "docstrings", ["vol.docs"] = "docstrings", ["vol.help"] = "docstrings",
  ["vol.progress"] = "a terminal bar", ["vol.format_of"] = "a suffix lookup",
  ["vol.dicom_keyword"] = "a dictionary lookup", ["vol.dicom_table"] = "formats a list",
  ["vol.dicom_tags"] = "formats a list",
  ["vol.dicom_convert"] = "writes files with read_dicom and write, both walked here",
  ["vol.read_dicom_seg"] = "single-threaded (dicom_seg.c has no parallel loop)",
  ["vol.crop_merge_compare"] = "a report over patch_grid extract/merge, walked here",
}

local function run(name, f, I)
  local recipe = RECIPES[name]
  if recipe then return table.pack(recipe(I)) end
  for _, key in ipairs{"f", "ct", "m"} do
    local r = table.pack(pcall(f, I[key]))
    if r[1] then return table.pack(table.unpack(r, 2, r.n)) end
  end
  return nil
end

describe("every public function on 1 and 2 threads", function()
  local fns = gendoc.public_functions()
  local names = {}
  for name in pairs(fns) do names[#names + 1] = name end
  table.sort(names)
  local saved = vol.threads()
  after_each(function() vol.set_threads(saved) end)

  for _, name in ipairs(names) do
    if not name:match("^Volume:__") and not NOT_KERNELS[name] then
      it(name, function()
        local results = {}
        for _, n in ipairs{1, 2} do
          vol.set_threads(n)
          local I = inputs()
          local r = run(name, fns[name], I)
          assert(r, name .. ": no recipe and it cannot be called on a standard input; add one to "
            .. "RECIPES in tests/determinism_spec.lua (or a reason to NOT_KERNELS)")
          results[n] = fingerprint(r)
        end
        assert(results[1] == results[2], name .. ": results differ between 1 and 2 threads")
      end)
    end
  end

  it("lists no function that does not exist", function()
    for name in pairs(RECIPES) do assert(fns[name], "RECIPES names " .. name .. ", which is not registered") end
    for name in pairs(NOT_KERNELS) do assert(fns[name], "NOT_KERNELS names " .. name .. ", which is not registered") end
  end)
end)
