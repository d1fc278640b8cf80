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
  -- intensity and filters
  ["Volume:convolve"] = function(I) return I.f:convolve(vol.strel.box({3, 3, 3}):astype("float32") * 0.1) end,
  ["Volume:correlate"] = function(I) return I.f:correlate(vol.strel.cross(6):astype("float32") * 0.2) end,
  ["Volume:gaussian"] = function(I) return I.f:gaussian{sigma_vox = 1.5}, I.f:gaussian{sigma_mm = 2, method = "recursive"} end,
  ["Volume:gaussian_laplace"] = function(I) return I.f:gaussian_laplace{sigma_vox = 1.2} end,
  ["Volume:maximum_filter"] = function(I) return I.ct:maximum_filter{radius_vox = 1} end,
  ["Volume:minimum_filter"] = function(I) return I.ct:minimum_filter{radius_vox = 1} end,
  ["Volume:uniform"] = function(I) return I.f:uniform{radius_vox = 1} end,
  ["Volume:normalize"] = function(I) return I.ct:normalize{lo = -1000, hi = 400} end,
  ["Volume:percentile"] = function(I) return I.ct:percentile{q = {5, 50, 95}}, I.f:percentile(30) end,
  ["Volume:power_transform"] = function(I) return I.f:power_transform(2) end,
  ["Volume:replace"] = function(I) return I.ct:replace(-1000, 0) end,
  ["Volume:window"] = function(I) return I.ct:window(40, 400) end,
  ["Volume:reshape"] = function(I) return I.ct:reshape{64, 64 * 40} end,
  -- augmentation
  ["Volume:warp"] = function(I)
    local d = {}
    for i = 1, 3 * 64 do d[i] = (i % 7 - 3) * 0.4 end
    return I.f:warp{matrix = {0.9, 0.1, 0, -0.1, 1, 0, 0, 0, 1}, offset = {2, -1, 0.5}, lattice = {4, 4, 4},
                    displacement = d, interpolation = "cubic", labels = {I.m}, label_interpolation = "label"}
  end,
  ["vol.rng"] = function() local r = vol.rng(3, 4) return r:uniform(), r:normal(), r:integer(1, 9) end,
  ["vol.augment"] = function(I)
    return vol.augment{{"rotate"}, {"elastic"}, {"gamma"}, {"noise"}, {"blur"}, {"bias"}}:apply(I.f, I.m, {seed = 2})
  end,
  ["vol.Augmenter.apply"] = function(I)
    return vol.augment{{"scale"}, {"shear"}, {"lowres"}, {"contrast"}}:apply(I.f, {I.m}, {seed = 5, patch = 24})
  end,
  ["vol.Augmenter.draw"] = function(I) return vol.augment{{"rotate"}, {"elastic"}}:draw(I.f, {seed = 1}) end,
  ["vol.aug.noise"] = function(I) return vol.aug.noise(I.f:copy(), 3, vol.rng(1)) end,
  ["vol.aug.gamma"] = function(I) return vol.aug.gamma(I.f:copy(), 1.3, {retain_stats = true}) end,
  ["vol.aug.contrast"] = function(I) return vol.aug.contrast(I.f:copy(), 0.8) end,
  ["vol.aug.brightness"] = function(I) return vol.aug.brightness(I.f:copy(), 1.1) end,
  ["vol.aug.bias"] = function(I) return vol.aug.bias(I.f:copy(), 1, {0.1, 0.2, -0.1, 0.05}) end,
  ["vol.aug.blur"] = function(I) return vol.aug.blur(I.f:copy(), {1, 1.5, 0.5}) end,
  ["vol.save_batch"] = function(I)
    local a = vol.save_batch(dir .. "/batch", {I.f, I.f}, {I.m, I.m})
    return file_bytes(a)
  end,
  -- metrics
  ["vol.metrics"] = function(I) return vol.metrics(I.m, I.ct:gt(-300)) end,
  ["vol.metrics_per_label"] = function(I) return vol.metrics_per_label(I.lab, I.lab) end,
  -- pictures and meshes
  ["Volume:png"] = function(I)
    local p = dir .. "/s.png"
    I.ct:png(p, {window = {40, 400}, overlay = I.m, contour = true})
    return file_bytes(p)
  end,
  ["Volume:histogram_png"] = function(I)
    local p = dir .. "/h.png"
    local counts = I.ct:histogram_png(p, {bins = 40})
    return file_bytes(p), counts
  end,
  ["vol.compare"] = function(I) return vol.compare(I.ct, I.m, I.ct:gt(-300)) end,
  ["vol.plot"] = function() return vol.plot{series = {{x = {1, 2, 3}, y = {3, 1, 2}, label = "a"}}, title = "t"} end,
  ["vol.mcubes_case_triangles"] = function() return vol.mcubes_case_triangles(7) end,
  ["vol.Mesh.vertices"] = function(I) return I.m:mesh{level = 0.5}:vertices() end,
  ["vol.Mesh.faces"] = function(I) return I.m:mesh{level = 0.5}:faces() end,
  ["vol.Mesh.smooth"] = function(I) return I.m:mesh{level = 0.5}:smooth{iterations = 3}:vertices() end,
  ["vol.Mesh.decimate"] = function(I) return I.m:mesh{level = 0.5}:decimate(3):faces() end,
  ["vol.Mesh.picture"] = function(I) return I.m:mesh{level = 0.5}:picture{size = 64} end,
  ["vol.Mesh.png"] = function(I)
    local p = dir .. "/m.png"
    I.m:mesh{level = 0.5}:png(p, {size = 64})
    return file_bytes(p)
  end,
  ["vol.Mesh.write"] = function(I)
    local p = dir .. "/m.ply"
    I.m:mesh{level = 0.5}:write(p)
    return file_bytes(p)
  end,
  -- writers
  ["Volume:write_dicom"] = function(I)
    local d = dir .. "/dcm" .. counter
    counter = counter + 1
    I.ct:crop{hi = {64, 64, 3}}:write_dicom(d, {seed = 1})
    return file_bytes(d .. "/IM00002.dcm")
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
  ["vol.clock"] = "wall-clock time", ["vol.aug.bias_terms"] = "a count",
  ["vol.Mesh.release"] = "frees a buffer",
  ["vol.PatchMerger.add"] = "walked through vol.PatchGrid.merger", ["vol.PatchMerger.close"] = "frees a buffer",
  ["vol.PatchMerger.coverage"] = "walked through vol.PatchGrid.merger",
  ["vol.PatchMerger.result"] = "walked through vol.PatchGrid.merger",
  ["vol.fs.absolute"] = "a path", ["vol.fs.basename"] = "a path", ["vol.fs.dirname"] = "a path",
  ["vol.fs.exists"] = "a file system query", ["vol.fs.extension"] = "a path", ["vol.fs.glob"] = "a file system query",
  ["vol.fs.join"] = "a path", ["vol.fs.list"] = "a file system query", ["vol.fs.mkdir"] = "a file system change",
  ["vol.fs.remove"] = "a file system change", ["vol.fs.rename"] = "a file system change",
  ["vol.fs.sha256"] = "a single-threaded hash", ["vol.fs.stat"] = "a file system query",
  ["vol.fs.stem"] = "a path",
  ["vol.proc.kill"] = "processes", ["vol.proc.now"] = "wall-clock time", ["vol.proc.spawn"] = "processes",
  ["vol.proc.wait"] = "processes",
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
